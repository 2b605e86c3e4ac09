package firehoselocal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

const stream = "archive-stream"

// start starts a server with one stream backed by a MemorySink and closes
// it when the test ends.
func start(t testing.TB, opts ...firehoselocal.Option) (*firehoselocal.Server, *firehoselocal.MemorySink) {
	t.Helper()
	sink := &firehoselocal.MemorySink{}
	srv := firehoselocal.New(append([]firehoselocal.Option{firehoselocal.WithStream(stream, sink)}, opts...)...)
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, sink
}

// client returns the real SDK client pointed at url, with static
// credentials and no shared configuration files. maxAttempts 1 turns
// retries off, so a test sees the raw error of one call.
func client(t testing.TB, url string, maxAttempts int) *firehose.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		}),
	)
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	return firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(url) })
}

func records(data ...[]byte) []types.Record {
	out := make([]types.Record, len(data))
	for i, d := range data {
		out[i] = types.Record{Data: d}
	}
	return out
}

// sized returns n records of size bytes each, each starting with its index.
func sized(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		b := bytes.Repeat([]byte{'x'}, size)
		copy(b, fmt.Sprintf("%d:", i))
		out[i] = b[:size]
	}
	return out
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestPutRecordBatchRoundTrip(t *testing.T) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	tests := []struct {
		name string
		data [][]byte
	}{
		{"one line", [][]byte{[]byte(`{"pk":"a"}` + "\n")}},
		{"empty record", [][]byte{{}}},
		{"every byte value", [][]byte{allBytes}},
		{"500 records", sized(firehoselocal.MaxRecordsPerCall, 100)},
		{"one record at 1,000 KiB", sized(1, firehoselocal.MaxRecordBytes)},
		{"exactly 4 MiB", append(sized(4, firehoselocal.MaxRecordBytes), sized(1, firehoselocal.MaxBytesPerCall-4*firehoselocal.MaxRecordBytes)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sink := start(t)
			c := client(t, srv.URL(), 1)
			out, err := c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
				DeliveryStreamName: aws.String(stream),
				Records:            records(tt.data...),
			})
			if err != nil {
				t.Fatalf("PutRecordBatch: got error %v, want none", err)
			}
			if got := aws.ToInt32(out.FailedPutCount); got != 0 {
				t.Errorf("PutRecordBatch FailedPutCount: got %d, want 0", got)
			}
			if got, want := len(out.RequestResponses), len(tt.data); got != want {
				t.Fatalf("PutRecordBatch RequestResponses: got %d entries, want %d", got, want)
			}
			ids := make(map[string]bool)
			for i, rr := range out.RequestResponses {
				id := aws.ToString(rr.RecordId)
				if id == "" || ids[id] || rr.ErrorCode != nil {
					t.Errorf("RequestResponses[%d]: got RecordId %q, ErrorCode %v, want a new id and no error", i, id, aws.ToString(rr.ErrorCode))
				}
				ids[id] = true
			}
			got := sink.Records()
			if len(got) != len(tt.data) {
				t.Fatalf("sink.Records: got %d records, want %d", len(got), len(tt.data))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.data[i]) {
					t.Errorf("sink.Records()[%d]: got %d bytes %.20q, want %d bytes %.20q", i, len(got[i]), got[i], len(tt.data[i]), tt.data[i])
				}
			}
			total := 0
			for _, d := range tt.data {
				total += len(d)
			}
			want := firehoselocal.Stats{Calls: 1, RecordsAccepted: int64(len(tt.data)), BytesAccepted: int64(total)}
			if got := srv.Stats(); got != want {
				t.Errorf("Stats: got %+v, want %+v", got, want)
			}
		})
	}
}

// isType returns a check that err is (wraps) a *T.
func isType[T error]() func(error) bool {
	return func(err error) bool {
		var target T
		return errors.As(err, &target)
	}
}

func isGeneric(err error) bool {
	var target *smithy.GenericAPIError
	return errors.As(err, &target)
}

// TestLimits checks that each fixed limit is enforced with the error the
// service returns, as the SDK decodes it. The evidence for each shape is in
// the comments of server.go and request.go.
func TestLimits(t *testing.T) {
	tests := []struct {
		name        string
		stream      string
		data        [][]byte
		wantCode    string
		wantAs      func(error) bool
		wantMessage string
	}{
		{
			name: "501 records", stream: stream, data: sized(501, 10),
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500",
		},
		{
			name: "no records", stream: stream, data: [][]byte{},
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "Member must have length greater than or equal to 1",
		},
		{
			name: "a record 1 byte over 1,000 KiB", stream: stream, data: append(sized(1, 10), sized(1, firehoselocal.MaxRecordBytes+1)...),
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000",
		},
		{
			name: "two records over 1,000 KiB", stream: stream, data: sized(2, firehoselocal.MaxRecordBytes+1),
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "2 validation errors detected",
		},
		{
			name: "4 MiB plus 1 byte", stream: stream, data: append(sized(4, firehoselocal.MaxRecordBytes), sized(1, firehoselocal.MaxBytesPerCall-4*firehoselocal.MaxRecordBytes+1)...),
			wantCode: "InvalidArgumentException", wantAs: isType[*types.InvalidArgumentException](),
			wantMessage: "Records size exceeds 4 MB limit",
		},
		{
			// 4,208,400 bytes: over 4 MiB, and under the body the stand-in
			// reads (DefaultMaxRequestBytes) once in base64.
			name: "501 records over 4 MiB", stream: stream, data: sized(501, 8400),
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "Member must have length less than or equal to 500",
		},
		{
			name: "unknown stream", stream: "no-such-stream", data: sized(1, 10),
			wantCode: "ResourceNotFoundException", wantAs: isType[*types.ResourceNotFoundException](),
			wantMessage: "Firehose no-such-stream under account 123456789012 not found.",
		},
		{
			name: "stream name out of pattern", stream: "bad name!", data: sized(1, 10),
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		},
		{
			name: "stream name over 64", stream: strings.Repeat("s", 65), data: sized(1, 10),
			wantCode: "ValidationException", wantAs: isGeneric,
			wantMessage: "Member must have length less than or equal to 64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sink := start(t)
			c := client(t, srv.URL(), 1)
			_, err := c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
				DeliveryStreamName: aws.String(tt.stream),
				Records:            records(tt.data...),
			})
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("PutRecordBatch: got error %v, want API error %s", err, tt.wantCode)
			}
			if got := ae.ErrorCode(); got != tt.wantCode {
				t.Errorf("PutRecordBatch error code: got %s, want %s", got, tt.wantCode)
			}
			if !tt.wantAs(err) {
				t.Errorf("PutRecordBatch error: got %T in %v, want the SDK type for %s", ae, err, tt.wantCode)
			}
			if got := ae.ErrorMessage(); !strings.Contains(got, tt.wantMessage) {
				t.Errorf("PutRecordBatch error message: got %.300q, want it to contain %q", got, tt.wantMessage)
			}
			if got := httpStatus(err); got != 400 {
				t.Errorf("PutRecordBatch HTTP status: got %d, want 400", got)
			}
			if got := sink.Len(); got != 0 {
				t.Errorf("sink.Len: got %d, want 0", got)
			}
			if got := srv.Stats(); got.Calls != 1 || got.CallsFailed != 1 || got.RecordsAccepted != 0 {
				t.Errorf("Stats: got %+v, want 1 call, 1 failed, 0 records", got)
			}
		})
	}
}

func TestPutRecordLimits(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		wantCode string
	}{
		{"at 1,000 KiB", sized(1, firehoselocal.MaxRecordBytes)[0], ""},
		{"1 byte over 1,000 KiB", sized(1, firehoselocal.MaxRecordBytes+1)[0], "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sink := start(t)
			c := client(t, srv.URL(), 1)
			out, err := c.PutRecord(context.Background(), &firehose.PutRecordInput{
				DeliveryStreamName: aws.String(stream),
				Record:             &types.Record{Data: tt.data},
			})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("PutRecord: got error %v, want none", err)
				}
				if aws.ToString(out.RecordId) == "" {
					t.Errorf("PutRecord RecordId: got empty, want an id")
				}
				if got := sink.Records(); len(got) != 1 || !bytes.Equal(got[0], tt.data) {
					t.Errorf("sink.Records: got %d records, want the one record sent", len(got))
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("PutRecord: got error %v, want %s", err, tt.wantCode)
			}
			if got, want := ae.ErrorMessage(), "at 'record.data'"; !strings.Contains(got, want) {
				t.Errorf("PutRecord error message: got %q, want it to contain %q", got, want)
			}
			if got := sink.Len(); got != 0 {
				t.Errorf("sink.Len: got %d, want 0", got)
			}
		})
	}
}

func TestPartialFailures(t *testing.T) {
	fault := func(c firehoselocal.Call) firehoselocal.Fault {
		return firehoselocal.Fault{FailRecords: []firehoselocal.RecordFailure{
			{Index: 1},
			{Index: 3, Code: firehoselocal.CodeServiceUnavailable},
			{Index: 4, Code: firehoselocal.CodeInternalFailure},
			{Index: 99}, // out of range: ignored
		}}
	}
	srv, sink := start(t, firehoselocal.WithFaults(fault))
	c := client(t, srv.URL(), 1)
	data := sized(6, 20)
	out, err := c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String(stream),
		Records:            records(data...),
	})
	if err != nil {
		t.Fatalf("PutRecordBatch: got error %v, want none", err)
	}
	if got := aws.ToInt32(out.FailedPutCount); got != 3 {
		t.Errorf("FailedPutCount: got %d, want 3", got)
	}
	wantCodes := []string{"", "ServiceUnavailableException", "", "ServiceUnavailableException", "InternalFailure", ""}
	wantMessages := []string{"", "Slow down.", "", "Slow down.", "Internal service failure.", ""}
	if len(out.RequestResponses) != len(wantCodes) {
		t.Fatalf("RequestResponses: got %d entries, want %d", len(out.RequestResponses), len(wantCodes))
	}
	for i, rr := range out.RequestResponses {
		if got := aws.ToString(rr.ErrorCode); got != wantCodes[i] {
			t.Errorf("RequestResponses[%d].ErrorCode: got %q, want %q", i, got, wantCodes[i])
		}
		if got := aws.ToString(rr.ErrorMessage); got != wantMessages[i] {
			t.Errorf("RequestResponses[%d].ErrorMessage: got %q, want %q", i, got, wantMessages[i])
		}
		if gotID := aws.ToString(rr.RecordId) != ""; gotID != (wantCodes[i] == "") {
			t.Errorf("RequestResponses[%d].RecordId: got %q, want an id only for accepted records", i, aws.ToString(rr.RecordId))
		}
	}
	got := sink.Records()
	want := [][]byte{data[0], data[2], data[5]}
	if len(got) != len(want) {
		t.Fatalf("sink.Records: got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("sink.Records()[%d]: got %q, want %q", i, got[i], want[i])
		}
	}
	wantStats := firehoselocal.Stats{Calls: 1, RecordsAccepted: 3, RecordsFailed: 3, BytesAccepted: 60}
	if got := srv.Stats(); got != wantStats {
		t.Errorf("Stats: got %+v, want %+v", got, wantStats)
	}
}

func TestWholeCallFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       firehoselocal.FaultFunc
		put         bool // PutRecord instead of PutRecordBatch
		wantStatus  int
		wantCode    string
		wantAs      func(error) bool
		wantMessage string
	}{
		{"internal failure", firehoselocal.FailCalls(1), false, 500, "InternalFailure", isGeneric, "Internal service failure."},
		{"throttled", firehoselocal.ThrottleCalls(1), false, 503, "ServiceUnavailableException", isType[*types.ServiceUnavailableException](), "Slow down."},
		{"down", firehoselocal.Down(time.Now().Add(time.Hour)), false, 503, "ServiceUnavailableException", isType[*types.ServiceUnavailableException](), "The service is unavailable."},
		{"any code", func(firehoselocal.Call) firehoselocal.Fault {
			return firehoselocal.Fault{Fail: &firehoselocal.CallError{Status: 400, Code: "InvalidKMSResourceException", Message: "KMS said no"}}
		}, false, 400, "InvalidKMSResourceException", isType[*types.InvalidKMSResourceException](), "KMS said no"},
		{"PutRecord throttled record", func(firehoselocal.Call) firehoselocal.Fault {
			return firehoselocal.Fault{FailRecords: []firehoselocal.RecordFailure{{Index: 0}}}
		}, true, 503, "ServiceUnavailableException", isType[*types.ServiceUnavailableException](), "Slow down."},
		{"PutRecord internal failure of the record", func(firehoselocal.Call) firehoselocal.Fault {
			return firehoselocal.Fault{FailRecords: []firehoselocal.RecordFailure{{Index: 0, Code: firehoselocal.CodeInternalFailure}}}
		}, true, 500, "InternalFailure", isGeneric, "Internal service failure."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sink := start(t, firehoselocal.WithFaults(tt.fault))
			c := client(t, srv.URL(), 1)
			var err error
			if tt.put {
				_, err = c.PutRecord(context.Background(), &firehose.PutRecordInput{DeliveryStreamName: aws.String(stream), Record: &types.Record{Data: []byte("x")}})
			} else {
				_, err = c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(sized(3, 10)...)})
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("call: got error %v, want API error %s", err, tt.wantCode)
			}
			if got := ae.ErrorCode(); got != tt.wantCode {
				t.Errorf("error code: got %s, want %s", got, tt.wantCode)
			}
			if !tt.wantAs(err) {
				t.Errorf("error: got %T, want the SDK type for %s", ae, tt.wantCode)
			}
			if got := ae.ErrorMessage(); !strings.HasPrefix(got, tt.wantMessage) {
				t.Errorf("error message: got %q, want prefix %q", got, tt.wantMessage)
			}
			if got := httpStatus(err); got != tt.wantStatus {
				t.Errorf("HTTP status: got %d, want %d", got, tt.wantStatus)
			}
			if got := sink.Len(); got != 0 {
				t.Errorf("sink.Len: got %d, want 0", got)
			}
			if got := srv.Stats(); got.CallsFailed != 1 {
				t.Errorf("Stats.CallsFailed: got %d, want 1", got.CallsFailed)
			}
		})
	}
}

// TestRetriedThrottling checks that the SDK's own retries get through
// whole-call throttling: the third attempt succeeds.
func TestRetriedThrottling(t *testing.T) {
	srv, sink := start(t, firehoselocal.WithFaults(firehoselocal.ThrottleCalls(2)))
	c := client(t, srv.URL(), 3)
	_, err := c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(sized(2, 10)...)})
	if err != nil {
		t.Fatalf("PutRecordBatch: got error %v, want success on the third attempt", err)
	}
	if got := srv.Stats(); got.Calls != 3 || got.CallsFailed != 2 {
		t.Errorf("Stats: got %+v, want 3 calls, 2 failed", got)
	}
	if got := sink.Len(); got != 2 {
		t.Errorf("sink.Len: got %d, want 2", got)
	}
}

func TestConnectionReset(t *testing.T) {
	srv, sink := start(t, firehoselocal.WithFaults(firehoselocal.ResetCalls(1)))
	c := client(t, srv.URL(), 1)
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(sized(3, 10)...)}
	_, err := c.PutRecordBatch(context.Background(), in)
	var sendErr *smithyhttp.RequestSendError
	if !errors.As(err, &sendErr) {
		t.Fatalf("PutRecordBatch after reset: got error %v (%T), want a *smithyhttp.RequestSendError", err, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Errorf("PutRecordBatch after reset: got API error %v, want a transport error", ae)
	}
	if got := sink.Len(); got != 0 {
		t.Errorf("sink.Len after reset: got %d, want 0", got)
	}
	if got := srv.Stats(); got.Resets != 1 || got.CallsFailed != 1 {
		t.Errorf("Stats after reset: got %+v, want 1 reset, 1 failed call", got)
	}
	// The fault was for one call; the server keeps serving.
	if _, err := c.PutRecordBatch(context.Background(), in); err != nil {
		t.Fatalf("PutRecordBatch after the reset: got error %v, want none", err)
	}
	if got := sink.Len(); got != 3 {
		t.Errorf("sink.Len after a good call: got %d, want 3", got)
	}
}

func TestLatency(t *testing.T) {
	const delay = 150 * time.Millisecond
	srv, sink := start(t, firehoselocal.WithFaults(firehoselocal.Latency(delay)))
	c := client(t, srv.URL(), 1)
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(sized(1, 10)...)}

	t.Run("honoured", func(t *testing.T) {
		began := time.Now()
		if _, err := c.PutRecordBatch(context.Background(), in); err != nil {
			t.Fatalf("PutRecordBatch: got error %v, want none", err)
		}
		if got := time.Since(began); got < delay {
			t.Errorf("PutRecordBatch took %v, want at least %v", got, delay)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		srv.SetFaults(firehoselocal.Latency(time.Minute))
		sink.Reset()
		before := srv.Stats()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		began := time.Now()
		_, err := c.PutRecordBatch(ctx, in)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("PutRecordBatch: got error %v, want context.DeadlineExceeded", err)
		}
		if got := time.Since(began); got > 5*time.Second {
			t.Errorf("PutRecordBatch took %v, want it to end with its context", got)
		}
		// The server sees the cancellation on its own schedule.
		deadline := time.Now().Add(5 * time.Second)
		for srv.Stats().CallsFailed == before.CallsFailed && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := srv.Stats().CallsFailed - before.CallsFailed; got != 1 {
			t.Errorf("Stats.CallsFailed after a cancelled call: got %d more, want 1 more", got)
		}
		if got := sink.Len(); got != 0 {
			t.Errorf("sink.Len after a cancelled call: got %d, want 0", got)
		}
	})
}

func TestSinkError(t *testing.T) {
	srv := firehoselocal.New(firehoselocal.WithStream(stream, firehoselocal.SinkFunc(func(context.Context, string, [][]byte) error {
		return errors.New("bucket gone")
	})))
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c := client(t, srv.URL(), 1)
	_, err := c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(sized(2, 10)...)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" || !strings.Contains(ae.ErrorMessage(), "bucket gone") {
		t.Fatalf("PutRecordBatch with a failing sink: got error %v, want InternalFailure naming the sink's error", err)
	}
	if got := srv.Stats(); got.RecordsAccepted != 0 || got.CallsFailed != 1 {
		t.Errorf("Stats: got %+v, want no records accepted, 1 failed call", got)
	}
}

// TestConcurrentCalls sends from many goroutines with per-record failures
// and resends what fails, while another goroutine changes the faults; every
// record must arrive exactly once and the counters must add up.
func TestConcurrentCalls(t *testing.T) {
	srv, sink := start(t, firehoselocal.WithFaults(firehoselocal.FailRecordsRate(0.2, 7)))
	c := client(t, srv.URL(), 1)
	const workers, batches, perBatch = 8, 10, 50

	stop := make(chan struct{})
	var flipper sync.WaitGroup
	flipper.Add(1)
	go func() {
		defer flipper.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if i%2 == 0 {
				srv.SetFaults(firehoselocal.Compose(firehoselocal.FailRecordsRate(0.3, int64(i)), firehoselocal.Latency(time.Microsecond)))
			} else {
				srv.SetFaults(firehoselocal.FailRecordsRate(0.1, int64(i)))
			}
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	failedSeen := 0
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				pending := make([][]byte, perBatch)
				for i := range pending {
					pending[i] = []byte(fmt.Sprintf("w%d-b%d-r%d", w, b, i))
				}
				for attempt := 0; len(pending) > 0; attempt++ {
					if attempt == 100 {
						errs <- fmt.Errorf("worker %d batch %d: %d records still failing after 100 attempts", w, b, len(pending))
						return
					}
					out, err := c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(pending...)})
					if err != nil {
						errs <- fmt.Errorf("worker %d: PutRecordBatch: %w", w, err)
						return
					}
					var again [][]byte
					for i, rr := range out.RequestResponses {
						if rr.ErrorCode != nil {
							again = append(again, pending[i])
						}
					}
					if int(aws.ToInt32(out.FailedPutCount)) != len(again) {
						errs <- fmt.Errorf("worker %d: FailedPutCount %d, but %d entries with ErrorCode", w, aws.ToInt32(out.FailedPutCount), len(again))
						return
					}
					mu.Lock()
					failedSeen += len(again)
					mu.Unlock()
					pending = again
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	flipper.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	const total = workers * batches * perBatch
	seen := make(map[string]int)
	for _, r := range sink.Records() {
		seen[string(r)]++
	}
	if len(seen) != total {
		t.Errorf("sink: got %d distinct records, want %d", len(seen), total)
	}
	for r, n := range seen {
		if n != 1 {
			t.Errorf("sink: got record %q %d times, want once", r, n)
		}
	}
	st := srv.Stats()
	if st.RecordsAccepted != total || st.RecordsFailed != int64(failedSeen) {
		t.Errorf("Stats: got %+v, want %d accepted and %d failed", st, total, failedSeen)
	}
	if failedSeen == 0 {
		t.Errorf("failed records: got 0, want some with rates of 0.1 to 0.3")
	}
}

// TestDescribeDeliveryStream: a client that checks its stream before
// sending (ttl-archiver invoke --stream, redrive) finds a stream the server
// has, ACTIVE, and gets ResourceNotFoundException for any other.
func TestDescribeDeliveryStream(t *testing.T) {
	srv, _ := start(t)
	fh := client(t, srv.URL(), 1)
	out, err := fh.DescribeDeliveryStream(context.Background(), &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("DescribeDeliveryStream(%s): %v", stream, err)
	}
	d := out.DeliveryStreamDescription
	if aws.ToString(d.DeliveryStreamName) != stream || d.DeliveryStreamStatus != types.DeliveryStreamStatusActive ||
		!strings.HasPrefix(aws.ToString(d.DeliveryStreamARN), "arn:aws:firehose:us-east-1:") {
		t.Errorf("DescribeDeliveryStream(%s) = name %q status %q ARN %q, want %s ACTIVE arn:aws:firehose:us-east-1:…",
			stream, aws.ToString(d.DeliveryStreamName), d.DeliveryStreamStatus, aws.ToString(d.DeliveryStreamARN), stream)
	}
	_, err = fh.DescribeDeliveryStream(context.Background(), &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("other")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != firehoselocal.CodeResourceNotFound {
		t.Errorf("DescribeDeliveryStream(other): got %v, want %s", err, firehoselocal.CodeResourceNotFound)
	}
	if n := srv.Stats().Calls; n != 0 {
		t.Errorf("Stats().Calls = %d after two DescribeDeliveryStream, want 0 (only data calls count)", n)
	}
}
