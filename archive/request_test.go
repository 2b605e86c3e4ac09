package archive

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// sentRequest is what the Firehose endpoint received.
type sentRequest struct {
	target, contentType, contentLength string
	body                               []byte
}

// TestStreamedBodyMatchesSDK sends the same inputs through the real client
// with and without a streamedBody, to a loopback server, and compares the
// requests: the body must be the SDK's, byte for byte.
func TestStreamedBodyMatchesSDK(t *testing.T) {
	var got []sentRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, sentRequest{r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), r.Header.Get("Content-Length"), b})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"FailedPutCount":0,"RequestResponses":[]}`)
	}))
	defer srv.Close()
	client := firehose.New(firehose.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
	binary := make([]byte, 3000)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	tests := []struct {
		name   string
		stream *string
		data   [][]byte
	}{
		{"one line", aws.String("ttl-archive"), [][]byte{[]byte("{\"a\":1}\n")}},
		{"lengths around base64 padding", aws.String("s"), [][]byte{[]byte("a"), []byte("ab"), []byte("abc"), []byte("abcd"), {}}},
		{"binary and a record of 1,000 KiB", aws.String("ttl.archive_2-x"), [][]byte{binary, bytes.Repeat([]byte("x"), MaxRecordBytes)}},
		{"stream name to escape", aws.String("a\"b\\c<d>\u00e9"), [][]byte{[]byte("x")}},
		{"no stream name", nil, [][]byte{[]byte("x")}},
		{"a nil record (the SDK's own body)", aws.String("s"), [][]byte{[]byte("x"), nil}},
		{"no records (the SDK's own body)", aws.String("s"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &firehose.PutRecordBatchInput{DeliveryStreamName: tt.stream}
			if tt.data != nil {
				in.Records = []types.Record{}
			}
			for _, d := range tt.data {
				in.Records = append(in.Records, types.Record{Data: d})
			}
			got = nil
			// Validation rejects some of these inputs before anything is
			// sent; both ways must then fail alike.
			_, errSDK := client.PutRecordBatch(context.Background(), in)
			_, errExact := client.PutRecordBatch(context.Background(), in, new(streamedBody).apply)
			if (errSDK == nil) != (errExact == nil) {
				t.Fatalf("PutRecordBatch errors: SDK %v, streamed %v", errSDK, errExact)
			}
			if errSDK != nil {
				if len(got) != 0 {
					t.Fatalf("requests sent = %d, want none after %v", len(got), errSDK)
				}
				return
			}
			if len(got) != 2 {
				t.Fatalf("requests sent = %d, want 2", len(got))
			}
			sdk, exact := got[0], got[1]
			if !bytes.Equal(exact.body, sdk.body) {
				t.Errorf("streamed body = %.200q (%d bytes), want the SDK's %.200q (%d bytes)", exact.body, len(exact.body), sdk.body, len(sdk.body))
			}
			if exact.target != sdk.target || exact.contentType != sdk.contentType || exact.contentLength != sdk.contentLength {
				t.Errorf("headers with a streamed body = %+v, want the SDK's %+v", exact, sdk)
			}
		})
	}
}

// TestStreamedBodyAllocatesLittle: a call allocates a small fraction of
// its body, where the SDK alone grows a buffer up to the body step by step
// and then copies it.
func TestStreamedBodyAllocatesLittle(t *testing.T) {
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s")}
	for range 8 {
		in.Records = append(in.Records, types.Record{Data: bytes.Repeat([]byte("0123456789"), 50_000)})
	}
	var bodyLen int64
	client := firehose.New(firehose.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://127.0.0.1:1"),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		HTTPClient: httpDoer(func(r *http.Request) (*http.Response, error) {
			bodyLen, _ = io.Copy(io.Discard, r.Body)
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
				Body: io.NopCloser(strings.NewReader(`{"FailedPutCount":0,"RequestResponses":[]}`))}, nil
		}),
	})
	allocated := func(opts ...func(*firehose.Options)) float64 {
		return bytesAllocated(func() {
			if _, err := client.PutRecordBatch(context.Background(), in, opts...); err != nil {
				t.Fatalf("PutRecordBatch: %v", err)
			}
		})
	}
	sdk := allocated()
	streamed := allocated(new(streamedBody).apply)
	if bodyLen < 5_000_000 {
		t.Fatalf("body sent = %d bytes, want the whole 4/3 × 4 MB", bodyLen)
	}
	if limit := 0.05 * float64(bodyLen); streamed > limit {
		t.Errorf("bytes allocated by a call with a streamed body = %.0f, want at most %.0f (5%% of the %d-byte body); the SDK alone: %.0f", streamed, limit, bodyLen, sdk)
	}
}

// TestStreamedBodyReadsAndSeeks reads bodies in pieces of every size and
// from every offset, and compares them with the body written whole.
func TestStreamedBodyReadsAndSeeks(t *testing.T) {
	prefix := []byte(`{"DeliveryStreamName":"s","Records":[`)
	var data [][]byte
	for n := range 12 {
		d := make([]byte, n)
		for i := range d {
			d[i] = byte(n*31 + i*7)
		}
		data = append(data, d)
	}
	var records []types.Record
	want := slices.Clone(prefix)
	for i, d := range data {
		records = append(records, types.Record{Data: d})
		if i > 0 {
			want = append(want, ',')
		}
		want = append(want, `{"Data":"`...)
		want = base64.StdEncoding.AppendEncode(want, d)
		want = append(want, `"}`...)
	}
	want = append(want, "]}"...)

	b := new(streamedBody)
	b.set(prefix, records)
	if n, err := b.Seek(0, io.SeekEnd); err != nil || n != int64(len(want)) {
		t.Fatalf("Seek(0, SeekEnd) = %d, %v; want %d", n, err, len(want))
	}
	for size := 1; size <= 9; size++ {
		for off := range len(want) + 1 {
			if _, err := b.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(readerOf(b, size))
			if err != nil {
				t.Fatalf("read from %d in pieces of %d: %v", off, size, err)
			}
			if !bytes.Equal(got, want[off:]) {
				t.Fatalf("read from %d in pieces of %d = %q, want %q", off, size, got, want[off:])
			}
		}
	}
	if n, err := b.Seek(-3, io.SeekCurrent); err != nil || n != int64(len(want)-3) {
		t.Errorf("Seek(-3, SeekCurrent) at the end = %d, %v; want %d", n, err, len(want)-3)
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek(-1, SeekStart): no error")
	}
	b.end()
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Read(make([]byte, 10)); n != 0 || !errors.Is(err, errBodyEnded) {
		t.Errorf("Read after end = %d, %v; want 0, errBodyEnded", n, err)
	}
}

// readerOf reads r at most size bytes at a time.
func readerOf(r io.Reader, size int) io.Reader {
	return readerFunc(func(p []byte) (int, error) { return r.Read(p[:min(len(p), size)]) })
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

type httpDoer func(*http.Request) (*http.Response, error)

func (f httpDoer) Do(r *http.Request) (*http.Response, error) { return f(r) }

// bytesAllocated returns the bytes fn allocates (it runs fn once).
func bytesAllocated(fn func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc - before.TotalAlloc)
}
