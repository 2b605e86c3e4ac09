package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// fakeFirehose records what it is sent. fail, when set, decides per call
// (numbered from 1) which records fail, or fails the whole call.
type fakeFirehose struct {
	mu        sync.Mutex
	calls     int
	delivered [][]byte // in the order taken
	sizes     []int    // records per call
	fail      func(call int, recs []types.Record) (failed []bool, err error)
}

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.sizes = append(f.sizes, len(in.Records))
	f.mu.Unlock()
	if len(in.Records) > archive.MaxRecordsPerCall {
		return nil, errors.New("fake: more than 500 records")
	}
	size := 0
	for _, r := range in.Records {
		if len(r.Data) > archive.MaxRecordBytes {
			return nil, errors.New("fake: record over 1,000 KiB")
		}
		size += len(r.Data)
	}
	if size > archive.MaxBytesPerCall {
		return nil, errors.New("fake: call over 4 MiB")
	}
	var failed []bool
	if f.fail != nil {
		var err error
		if failed, err = f.fail(n, in.Records); err != nil {
			return nil, err
		}
	}
	out := &firehose.PutRecordBatchOutput{RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
	nFailed := int32(0)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range in.Records {
		if failed != nil && failed[i] {
			nFailed++
			out.RequestResponses[i] = types.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException"), ErrorMessage: aws.String("Slow down.")}
			continue
		}
		f.delivered = append(f.delivered, bytes.Clone(r.Data))
		out.RequestResponses[i] = types.PutRecordBatchResponseEntry{RecordId: aws.String("id")}
	}
	out.FailedPutCount = aws.Int32(nFailed)
	return out, nil
}

// accepted is Firehose's answer when it takes all n records of a call: an
// entry with a RecordId for each.
func accepted(n int) *firehose.PutRecordBatchOutput {
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, n)}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = aws.String("id")
	}
	return out
}

// lines returns the delivered archive lines, split out of packed records.
func (f *fakeFirehose) lines(t *testing.T) []archive.Line {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	return parseRecords(t, f.delivered)
}

// parseRecords splits Firehose records into archive lines and parses them.
func parseRecords(t *testing.T, records [][]byte) []archive.Line {
	t.Helper()
	var out []archive.Line
	for _, rec := range records {
		if len(rec) == 0 || rec[len(rec)-1] != '\n' {
			t.Fatalf("record does not end in a newline: %.80q", rec)
		}
		for _, l := range bytes.SplitAfter(rec, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			parsed, err := archive.ParseLine(l)
			if err != nil {
				t.Fatalf("ParseLine(%.200q): %v", l, err)
			}
			out = append(out, parsed)
		}
	}
	return out
}

var fastBackoff = archive.WithBackoff(archive.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, AttemptsWithoutDeadline: 50})

func newArchiver(t *testing.T, f archive.FirehoseAPI, mod func(*archive.Config), opts ...archive.Option) *archive.Archiver {
	t.Helper()
	cfg := archive.Config{StreamName: "ttl-archive", BatchSize: 400, Format: archive.FormatJSON, Concurrency: 4}
	if mod != nil {
		mod(&cfg)
	}
	a, err := archive.New(f, cfg, append([]archive.Option{fastBackoff}, opts...)...)
	if err != nil {
		t.Fatalf("archive.New: %v", err)
	}
	return a
}

func seqsOf(lines []archive.Line) map[string]int {
	m := map[string]int{}
	for _, l := range lines {
		m[l.SequenceNumber]++
	}
	return m
}

func ttlSeqs(recs []streamgen.Record) []string {
	var s []string
	for _, r := range recs {
		if r.Kind == streamgen.TTLRemove {
			s = append(s, r.Seq)
		}
	}
	return s
}

func TestArchiveDelivers(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		ttlShare   float64
		batchSize  int
		pack       bool
		itemBytes  int
		wantCalls  int // 0: do not check
		maxRecords int // most Firehose records expected; 0: do not check
	}{
		{"one less than batch size", 399, 1, 400, false, 300, 1, 399},
		{"exactly batch size", 400, 1, 400, false, 300, 1, 400},
		{"one more than batch size", 401, 1, 400, false, 300, 2, 401},
		{"full stream batch of 10,000", 10000, 1, 400, false, 300, 25, 10000},
		{"mixed kinds", 1000, 0.3, 400, false, 300, 0, 0},
		{"items near 400 KB", 12, 1, 400, false, 390 * 1024, 2, 12},
		{"packed small items", 3000, 1, 500, true, 900, 1, 6},
		{"packed items near 400 KB", 12, 1, 500, true, 390 * 1024, 2, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := streamgen.New(streamgen.Options{Seed: 7, TTLShare: tt.ttlShare, ItemBytes: tt.itemBytes}).Batch(tt.n)
			f := &fakeFirehose{}
			a := newArchiver(t, f, func(c *archive.Config) { c.BatchSize = tt.batchSize; c.Pack = tt.pack })
			res, err := a.Archive(context.Background(), streamgen.Event(recs))
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if len(res.Response.BatchItemFailures) != 0 {
				t.Errorf("BatchItemFailures = %v, want none", res.Response.BatchItemFailures)
			}
			want := ttlSeqs(recs)
			got := seqsOf(f.lines(t))
			if len(got) != len(want) {
				t.Errorf("archived %d distinct records, want %d", len(got), len(want))
			}
			for _, s := range want {
				if got[s] != 1 {
					t.Errorf("record %s archived %d times, want 1", s, got[s])
				}
			}
			if res.Counts.Received != tt.n || res.Counts.Archived != len(want) || res.Counts.SkippedTotal() != tt.n-len(want) {
				t.Errorf("counts = %+v, want received %d, archived %d", res.Counts, tt.n, len(want))
			}
			if tt.wantCalls != 0 && f.calls != tt.wantCalls {
				t.Errorf("PutRecordBatch calls = %d (sizes %v), want %d", f.calls, f.sizes, tt.wantCalls)
			}
			if tt.maxRecords != 0 && len(f.delivered) > tt.maxRecords {
				t.Errorf("Firehose records = %d, want at most %d", len(f.delivered), tt.maxRecords)
			}
		})
	}
}

func TestArchiveRetriesOnlyFailedRecords(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 3}).Batch(1000)
	var resent int
	seen := map[string]bool{}
	f := &fakeFirehose{}
	f.fail = func(call int, rs []types.Record) ([]bool, error) {
		// Every third record of a call fails the first time it is sent.
		failed := make([]bool, len(rs))
		for i, r := range rs {
			if seen[string(r.Data)] {
				resent++
				continue
			}
			seen[string(r.Data)] = true
			failed[i] = i%3 == 0
		}
		return failed, nil
	}
	a := newArchiver(t, f, func(c *archive.Config) { c.Concurrency = 1 })
	res, err := a.Archive(context.Background(), streamgen.Event(recs))
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	got := seqsOf(f.lines(t))
	for _, s := range ttlSeqs(recs) {
		if got[s] != 1 {
			t.Errorf("record %s delivered %d times, want 1", s, got[s])
		}
	}
	if want := 134 + 134 + 67; resent != want || res.Counts.Retried != want {
		t.Errorf("resent %d records (Counts.Retried %d), want %d: only the failed ones", resent, res.Counts.Retried, want)
	}
	if len(res.Response.BatchItemFailures) != 0 {
		t.Errorf("BatchItemFailures = %v, want none", res.Response.BatchItemFailures)
	}
}

func TestArchiveRetriesFailedCalls(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 4}).Batch(50)
	f := &fakeFirehose{}
	f.fail = func(call int, _ []types.Record) ([]bool, error) {
		if call <= 3 {
			return nil, errors.New("connection reset by peer")
		}
		return nil, nil
	}
	a := newArchiver(t, f, nil)
	res, err := a.Archive(context.Background(), streamgen.Event(recs))
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	if len(res.Response.BatchItemFailures) != 0 || res.Counts.Archived != 50 || f.calls != 4 {
		t.Errorf("after 3 failed calls: failures %v, archived %d, calls %d; want none, 50, 4", res.Response.BatchItemFailures, res.Counts.Archived, f.calls)
	}
}

// apiError is a service error as the SDK returns it.
type apiError struct{ code string }

func (e apiError) Error() string                 { return e.code }
func (e apiError) ErrorCode() string             { return e.code }
func (e apiError) ErrorMessage() string          { return e.code }
func (e apiError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func TestArchiveReportsUndelivered(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 5, TTLShare: 0.5}).Batch(900)
	want := ttlSeqs(recs)
	tests := []struct {
		name     string
		fail     func(int, []types.Record) ([]bool, error)
		deadline time.Duration // 0: no deadline
		maxCalls int
	}{
		{"stream missing: permanent, no retry", func(int, []types.Record) ([]bool, error) {
			return nil, apiError{"ResourceNotFoundException"}
		}, 0, 2},
		{"down past the deadline", func(int, []types.Record) ([]bool, error) {
			return nil, apiError{"ServiceUnavailableException"}
		}, 1500 * time.Millisecond, 0},
		{"every record throttled past the deadline", func(_ int, rs []types.Record) ([]bool, error) {
			failed := make([]bool, len(rs))
			for i := range failed {
				failed[i] = true
			}
			return failed, nil
		}, 1500 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{fail: tt.fail}
			a := newArchiver(t, f, nil)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			res, err := a.Archive(ctx, streamgen.Event(recs))
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if ctx.Err() != nil {
				t.Errorf("Archive answered after the deadline")
			}
			got := map[string]bool{}
			for _, f := range res.Response.BatchItemFailures {
				got[f.ItemIdentifier] = true
			}
			if len(got) != len(want) {
				t.Errorf("reported %d failures, want %d (every TTL record)", len(got), len(want))
			}
			for _, s := range want {
				if !got[s] {
					t.Errorf("record %s not reported", s)
				}
			}
			if res.Counts.Failed != len(want) || res.Counts.Archived != 0 {
				t.Errorf("counts failed %d archived %d, want %d and 0", res.Counts.Failed, res.Counts.Archived, len(want))
			}
			if tt.maxCalls > 0 && f.calls > tt.maxCalls {
				t.Errorf("made %d calls for a permanent error, want at most %d", f.calls, tt.maxCalls)
			}
			if len(res.Problems) == 0 {
				t.Errorf("Problems is empty, want the Firehose error")
			}
		})
	}
}

func TestArchiveReportsOnlyFailedChunk(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 6}).Batch(1200)
	f := &fakeFirehose{}
	f.fail = func(_ int, rs []types.Record) ([]bool, error) {
		// Fail the chunk that holds the 500th record, every time.
		if bytes.Contains(rs[0].Data, []byte(`"sequence_number":"`+recs[400].Seq+`"`)) {
			return nil, apiError{"AccessDeniedException"}
		}
		return nil, nil
	}
	a := newArchiver(t, f, nil)
	res, err := a.Archive(context.Background(), streamgen.Event(recs))
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	var got []string
	for _, f := range res.Response.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	var want []string
	for _, r := range recs[400:800] {
		want = append(want, r.Seq)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("BatchItemFailures = %d records from %s, want the 400 of the second chunk from %s", len(got), first(got), want[0])
	}
	if res.Counts.Archived != 800 {
		t.Errorf("Archived = %d, want 800", res.Counts.Archived)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return s[0]
}

func TestArchiveBatchErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		wantIs  error
		wantMsg string
	}{
		{"empty payload", ``, archive.ErrNotStreamEvent, "empty"},
		{"not an object", `[1,2]`, archive.ErrNotStreamEvent, "not a JSON object"},
		{"no Records", `{"records":[]}`, archive.ErrNotStreamEvent, "no Records"},
		{"Records not an array", `{"Records":{}}`, archive.ErrNotStreamEvent, "not an array"},
		{"truncated", `{"Records":[{"eventName":"REMOVE"`, nil, "invalid JSON at byte"},
		{"trailing garbage", `{"Records":[]} x`, nil, "data after the event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{}
			a := newArchiver(t, f, nil)
			_, err := a.Archive(context.Background(), []byte(tt.payload))
			if err == nil {
				t.Fatalf("Archive(%q) = nil error, want one", tt.payload)
			}
			if be := (*archive.BatchError)(nil); !errors.As(err, &be) {
				t.Errorf("Archive(%q) error is a %T, want a *BatchError (Lambda's errorType)", tt.payload, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Archive(%q) error = %v, want errors.Is %v", tt.payload, err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Archive(%q) error = %q, want it to say %q", tt.payload, err, tt.wantMsg)
			}
			if f.calls != 0 {
				t.Errorf("made %d Firehose calls for a bad payload, want 0", f.calls)
			}
		})
	}
}

func TestArchiveUnreportableFailure(t *testing.T) {
	payload := `{"Records":[{"eventID":"1","eventSource":"aws:dynamodb","eventName":"REMOVE","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1763856000,"Keys":{"pk":{"S":"a"}}},"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x"}]}`
	f := &fakeFirehose{fail: func(int, []types.Record) ([]bool, error) { return nil, apiError{"AccessDeniedException"} }}
	a := newArchiver(t, f, nil)
	_, err := a.Archive(context.Background(), []byte(payload))
	if !errors.Is(err, archive.ErrUnreportable) {
		t.Errorf("Archive error = %v, want ErrUnreportable (the whole batch must be retried)", err)
	}
	if be := (*archive.BatchError)(nil); !errors.As(err, &be) {
		t.Errorf("Archive error is a %T, want a *BatchError (Lambda's errorType)", err)
	}
}

func TestArchiveOversizeItemIsGzipped(t *testing.T) {
	// 200,000 control characters: 200 KB in DynamoDB, 1.2 MB as JSON text
	// (each becomes \u0001), over Firehose's record limit.
	payload := `{"Records":[{"eventID":"1","eventSource":"aws:dynamodb","eventName":"REMOVE","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1763856000,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"v":{"S":"` +
		strings.Repeat(`\u0001`, 200000) + `"}},"SequenceNumber":"9"},"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x"}]}`
	f := &fakeFirehose{}
	a := newArchiver(t, f, nil)
	res, err := a.Archive(context.Background(), []byte(payload))
	if err != nil || res.Counts.Archived != 1 {
		t.Fatalf("Archive: %v, counts %+v; want 1 archived", err, res.Counts)
	}
	lines := f.lines(t)
	item, err := lines[0].ItemJSON()
	if err != nil {
		t.Fatalf("ItemJSON: %v", err)
	}
	var v struct{ Pk, V string }
	if err := json.Unmarshal(item, &v); err != nil || v.Pk != "a" || v.V != strings.Repeat("\x01", 200000) {
		t.Errorf("item from item_gzip: pk %q, %d bytes of v, err %v; want the original item", v.Pk, len(v.V), err)
	}
}

func TestInvokeResponse(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 8}).Batch(3)
	f := &fakeFirehose{fail: func(int, []types.Record) ([]bool, error) { return []bool{false, true, false}, nil }}
	var metrics bytes.Buffer
	a := newArchiver(t, f, nil, archive.WithMetrics(&metrics, "archiver-fn"), archive.WithBackoff(archive.Backoff{AttemptsWithoutDeadline: 1}))
	out, err := a.Invoke(context.Background(), streamgen.Event(recs))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	want := `{"batchItemFailures":[{"itemIdentifier":"` + recs[1].Seq + `"}]}`
	if string(out) != want {
		t.Errorf("Invoke = %s, want %s", out, want)
	}
	lines := strings.Split(strings.TrimSuffix(metrics.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("metrics = %s, want 2 lines: totals and the table's", metrics.Bytes())
	}
	var emf, table map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &emf); err != nil {
		t.Fatalf("metrics line is not JSON: %v: %s", err, lines[0])
	}
	if emf["Archived"] != 2.0 || emf["Failed"] != 1.0 || emf["FunctionName"] != "archiver-fn" || emf["_aws"] == nil {
		t.Errorf("metrics = %s, want Archived 2, Failed 1, FunctionName and _aws", lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &table); err != nil {
		t.Fatalf("table metrics line is not JSON: %v: %s", err, lines[1])
	}
	if table["Archived"] != 2.0 || table["TableName"] != recs[0].Table || table["FunctionName"] != "archiver-fn" {
		t.Errorf("table metrics = %s, want Archived 2, TableName %s, FunctionName archiver-fn", lines[1], recs[0].Table)
	}
	metrics.Reset()
	empty, err := a.Invoke(context.Background(), []byte(`{"Records":[]}`))
	if err != nil || string(empty) != `{"batchItemFailures":[]}` {
		t.Errorf("Invoke(empty batch) = %s, %v; want {\"batchItemFailures\":[]}", empty, err)
	}
	if n := strings.Count(metrics.String(), "\n"); n != 1 {
		t.Errorf("metrics of an empty batch = %s, want the totals line alone", metrics.Bytes())
	}
}

// TestArchiveRefusesOtherEventSources: an event from another source (the
// samples of aws-lambda-go, a peer's idea of each event) fails the whole
// invocation with an error naming the source, and nothing is sent; so does
// a DynamoDB batch with one foreign record in it.
func TestArchiveRefusesOtherEventSources(t *testing.T) {
	ttl := func(seq, source string) string {
		src := ""
		if source != "" {
			src = `"eventSource":"` + source + `",`
		}
		return `{"eventID":"` + seq + `","eventName":"REMOVE",` + src + `"awsRegion":"us-east-1","eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x",` +
			`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},` +
			`"dynamodb":{"ApproximateCreationDateTime":1763856000,"Keys":{"pk":{"S":"` + seq + `"}},"SequenceNumber":"` + seq + `"}}`
	}
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "foreign", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		payload string
		wantMsg string // "" when the event must be accepted
	}{
		{"SQS", file("sqs-event.json"), `eventSource "aws:sqs"`},
		{"Kinesis", file("kinesis-event.json"), `eventSource "aws:kinesis"`},
		{"S3", file("s3-event.json"), `eventSource "aws:s3"`},
		{"SNS", file("sns-event.json"), `EventSource "aws:sns"`},
		{"one SQS record among TTL deletions", `{"Records":[` + ttl("1", "aws:dynamodb") + `,` + ttl("2", "aws:sqs") + `,` + ttl("3", "aws:dynamodb") + `]}`, `record 1 has eventSource "aws:sqs"`},
		{"no eventSource", `{"Records":[` + ttl("1", "aws:dynamodb") + `,` + ttl("2", "") + `]}`, "record 1 has no eventSource"},
		{"eventSource in another case", `{"Records":[` + ttl("1", "AWS:DynamoDB") + `]}`, `eventSource "AWS:DynamoDB"`},
		{"a record that is not an object", `{"Records":[` + ttl("1", "aws:dynamodb") + `,"aws:dynamodb"]}`, "record 1 is not a JSON object"},
		{"aws-lambda-go's DynamoDB sample", file("dynamodb-event.json"), ""},
		{"TTL deletions", `{"Records":[` + ttl("1", "aws:dynamodb") + `]}`, ""},
		{"no records", `{"Records":[]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{}
			a := newArchiver(t, f, nil)
			_, err := a.Archive(context.Background(), []byte(tt.payload))
			if tt.wantMsg == "" {
				if err != nil {
					t.Errorf("Archive = %v, want no error", err)
				}
				return
			}
			if be := (*archive.BatchError)(nil); !errors.As(err, &be) || !errors.Is(err, archive.ErrNotDynamoDBStream) {
				t.Fatalf("Archive error = %v (%T), want a *BatchError wrapping ErrNotDynamoDBStream", err, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Archive error = %q, want it to say %q", err, tt.wantMsg)
			}
			if f.calls != 0 {
				t.Errorf("made %d Firehose calls, want 0: nothing of the batch may be archived", f.calls)
			}
		})
	}
}

// TestTableCounts: each table the batch's records came from gets its own
// Archived count, a table whose records all failed included (with 0), and
// the per-table metrics lines add up to the totals line.
func TestTableCounts(t *testing.T) {
	orders := streamgen.New(streamgen.Options{Seed: 21, Table: "Orders"}).Batch(4)
	carts := streamgen.New(streamgen.Options{Seed: 22, Table: "Carts"}).Batch(3)
	recs := append(append([]streamgen.Record{}, orders...), carts...)
	// The Carts records (the last three) fail on every call.
	f := &fakeFirehose{fail: func(_ int, rs []types.Record) ([]bool, error) {
		failed := make([]bool, len(rs))
		for i, r := range rs {
			failed[i] = strings.Contains(string(r.Data), `"table":"Carts"`)
		}
		return failed, nil
	}}
	a := newArchiver(t, f, nil, archive.WithBackoff(archive.Backoff{AttemptsWithoutDeadline: 1}))
	res, err := a.Archive(context.Background(), streamgen.Event(recs))
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	want := []archive.TableCount{{Table: "Orders", Archived: 4}, {Table: "Carts", Archived: 0}}
	if !slices.Equal(res.Counts.Tables, want) {
		t.Errorf("Archive: Counts.Tables = %v, want %v", res.Counts.Tables, want)
	}
	lines := strings.Split(strings.TrimSuffix(string(res.Counts.EMF(time.Unix(0, 0), "fn")), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("EMF: got %d lines, want 3 (totals, Orders, Carts):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	sum := 0.0
	for i, l := range lines {
		var doc struct {
			Archived  float64
			TableName string
			AWS       struct {
				CloudWatchMetrics []struct{ Dimensions [][]string }
			} `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("EMF line %d: %v: %s", i, err, l)
		}
		dims := doc.AWS.CloudWatchMetrics[0].Dimensions
		if i == 0 {
			if doc.Archived != 4 || !slices.Equal(dims[0], []string{"FunctionName"}) {
				t.Errorf("EMF totals: got Archived %v dimensions %v, want 4 [FunctionName]", doc.Archived, dims)
			}
			continue
		}
		if doc.TableName != want[i-1].Table || !slices.Equal(dims[0], []string{"FunctionName", "TableName"}) {
			t.Errorf("EMF line %d: got table %q dimensions %v, want %q [FunctionName TableName]", i, doc.TableName, dims, want[i-1].Table)
		}
		sum += doc.Archived
	}
	if sum != 4 {
		t.Errorf("EMF: the tables' Archived add up to %v, want the total 4", sum)
	}
}
