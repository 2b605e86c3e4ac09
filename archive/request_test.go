package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// sentRequest is what the Firehose endpoint received.
type sentRequest struct {
	target, contentType, contentLength string
	body                               []byte
}

// loopbackClient is the real Firehose client sending to url, with test
// credentials and no retries.
func loopbackClient(url string) *firehose.Client {
	return firehose.New(firehose.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
}

// TestRequestBodyMatchesSDK sends the same inputs through the real client
// with and without a requestBody, to a loopback server, and compares the
// requests: the body must be the SDK's, byte for byte.
func TestRequestBodyMatchesSDK(t *testing.T) {
	var got []sentRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, sentRequest{r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), r.Header.Get("Content-Length"), b})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"FailedPutCount":0,"RequestResponses":[]}`)
	}))
	defer srv.Close()
	client := loopbackClient(srv.URL)
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
			_, errExact := client.PutRecordBatch(context.Background(), in, newRequestBody(nil).apply)
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

// TestRequestBodyAllocatesLittle: once its buffer is kept, a call
// allocates a small fraction of its body, where the SDK alone grows a
// buffer up to the body step by step and then copies it.
func TestRequestBodyAllocatesLittle(t *testing.T) {
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
	bufs := &bodyBuffers{max: 1}
	first := newRequestBody(bufs)
	allocated(first.apply) // grows the buffer kept
	first.end()
	body := newRequestBody(bufs)
	streamed := allocated(body.apply)
	body.end()
	if bodyLen < 5_000_000 {
		t.Fatalf("body sent = %d bytes, want the whole 4/3 × 4 MB", bodyLen)
	}
	if limit := 0.05 * float64(bodyLen); streamed > limit {
		t.Errorf("bytes allocated by a call with a kept body buffer = %.0f, want at most %.0f (5%% of the %d-byte body); the SDK alone: %.0f", streamed, limit, bodyLen, sdk)
	}
}

// TestRequestBodyReadsAndSeeks reads bodies in pieces of every size and
// from every offset, and compares them with the body written whole, and
// checks the hash given to the signer.
func TestRequestBodyReadsAndSeeks(t *testing.T) {
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

	b := newRequestBody(nil)
	b.set(prefix, records)
	if sum := sha256.Sum256(want); b.hash != hex.EncodeToString(sum[:]) {
		t.Errorf("hash = %s, want the SHA-256 of the body %x", b.hash, sum)
	}
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

// TestRequestBodySignature: the request is signed over the body it
// carries. A loopback server signs what it received again with the SDK's
// own signer, hashing the body itself, and compares the signatures.
func TestRequestBodySignature(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET", SessionToken: "TOKEN"}
	var checked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		_, signed, _ := strings.Cut(auth, "SignedHeaders=")
		signed, _, _ = strings.Cut(signed, ",")
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		for _, h := range strings.Split(signed, ";") {
			switch h {
			case "host":
			case "content-length":
				again.ContentLength = int64(len(body))
			default:
				again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
			}
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "firehose", "us-east-1", when); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		checked.Add(1)
		if again.Header.Get("Authorization") != auth {
			t.Errorf("Authorization = %s, want %s (signed again over the %d bytes received)", auth, again.Header.Get("Authorization"), len(body))
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"FailedPutCount":0,"RequestResponses":[{"RecordId":"1"},{"RecordId":"2"}]}`)
	}))
	defer srv.Close()
	client := firehose.New(firehose.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		RetryMaxAttempts: 1,
	})
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"),
		Records: []types.Record{{Data: []byte("{\"a\":1}\n")}, {Data: bytes.Repeat([]byte("xyz"), 70_000)}}}
	body := newRequestBody(&bodyBuffers{max: 1})
	_, err := client.PutRecordBatch(context.Background(), in, body.apply)
	body.end()
	if err != nil {
		t.Fatalf("PutRecordBatch: %v", err)
	}
	if checked.Load() != 1 {
		t.Fatalf("server checked %d requests, want 1", checked.Load())
	}
	if body.hash == "" {
		t.Error("the body gave the signer no hash: the SDK hashed it again")
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
