package archive

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// TestExactBodyMatchesSDK sends the same inputs through the real client
// with and without withExactBody, to a loopback server, and compares the
// requests: the body must be the SDK's, byte for byte.
func TestExactBodyMatchesSDK(t *testing.T) {
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
			_, errExact := client.PutRecordBatch(context.Background(), in, withExactBody)
			if (errSDK == nil) != (errExact == nil) {
				t.Fatalf("PutRecordBatch errors: SDK %v, with withExactBody %v", errSDK, errExact)
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
				t.Errorf("body with withExactBody = %.200q (%d bytes), want the SDK's %.200q (%d bytes)", exact.body, len(exact.body), sdk.body, len(sdk.body))
			}
			if exact.target != sdk.target || exact.contentType != sdk.contentType || exact.contentLength != sdk.contentLength {
				t.Errorf("headers with withExactBody = %+v, want the SDK's %+v", exact, sdk)
			}
		})
	}
}

// TestExactBodyAllocatesOnce: the body is written in one allocation of
// its final size, not grown.
func TestExactBodyAllocatesOnce(t *testing.T) {
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
	exact := allocated(withExactBody)
	// The body is the only large allocation left; the SDK alone grows a
	// buffer up to it step by step, then copies it.
	if limit := 1.25 * float64(bodyLen); exact > limit {
		t.Errorf("bytes allocated by a call with withExactBody = %.0f, want at most %.0f (1.25 × the %d-byte body); the SDK alone: %.0f", exact, limit, bodyLen, sdk)
	}
	if exact >= sdk {
		t.Errorf("bytes allocated with withExactBody = %.0f, want fewer than the SDK's %.0f", exact, sdk)
	}
}

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
