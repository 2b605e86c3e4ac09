package soak

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/archive/reference"
	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// badRecord builds one stream record of the Ledger table for the bad-input
// cases: a TTL deletion unless told otherwise.
type badRecord struct {
	n int
	// image is the OldImage's JSON; default a small good item.
	image string
	// raw replaces the whole record's JSON.
	raw                              string
	noDynamoDB, noKeys, noSeq, noARN bool
	notTTL                           bool
}

const ledgerARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Ledger/stream/2025-01-01T00:00:00.000"

func (r badRecord) eventID() string { return fmt.Sprintf("b%031d", r.n) }
func (r badRecord) seq() string     { return fmt.Sprintf("7%020d", r.n) }

func (r badRecord) json() string {
	if r.raw != "" {
		return r.raw
	}
	image := r.image
	if image == "" {
		image = fmt.Sprintf(`{"pk":{"S":"k#%d"},"v":{"N":"%d"}}`, r.n, r.n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"eventID":"%s","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1"`, r.eventID())
	if !r.noDynamoDB {
		b.WriteString(`,"dynamodb":{"ApproximateCreationDateTime":1763856000`)
		if !r.noKeys {
			fmt.Fprintf(&b, `,"Keys":{"pk":{"S":"k#%d"}}`, r.n)
		}
		b.WriteString(`,"OldImage":` + image)
		if !r.noSeq {
			fmt.Fprintf(&b, `,"SequenceNumber":"%s"`, r.seq())
		}
		b.WriteString(`,"SizeBytes":20,"StreamViewType":"NEW_AND_OLD_IMAGES"}`)
	}
	if !r.notTTL {
		b.WriteString(`,"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`)
	}
	if !r.noARN {
		b.WriteString(`,"eventSourceARN":"` + ledgerARN + `"`)
	}
	b.WriteString("}")
	return b.String()
}

func (r badRecord) esm() esm.Record {
	// The mapping knows every record's sequence number from the stream,
	// even when the record's JSON lacks it.
	return esm.Record{Data: json.RawMessage(r.json()), SequenceNumber: r.seq(), Created: time.Unix(1763856000, 0).UTC()}
}

// lineWant is what the archive must hold for a record.
type lineWant int

const (
	wantItem      lineWant = iota + 1 // converted, item equal to the reference conversion
	wantItemGzip                      // converted, item stored gzipped in item_gzip
	wantRaw                           // archived raw, with an error and the record
	wantRawBase64                     // archived raw, the record's bytes in raw_base64
)

// badOutcome is what the bad-input cases observe.
type badOutcome struct {
	lines    []archive.Line
	dirs     []string
	failed   map[string]json.RawMessage // on-failure payload records by eventID
	report   esm.Report
	response []byte             // direct invocations
	fnErr    *esm.FunctionError // direct invocations
	// errors are the distinct function errors the mapping's invocations
	// ended with.
	errors []string
}

// TestBadInput sends bad input through the real function, and through the
// event source mapping (with the template's retries, bisection and
// on-failure destination) where the mapping can carry it. Each ends in a
// clear outcome and loses nothing: every TTL deletion is archived (raw when
// it cannot be converted) or in the on-failure destination with its whole
// record. The outcomes are described in docs/reliability.md.
func TestBadInput(t *testing.T) {
	good1, good2 := badRecord{n: 1}, badRecord{n: 3}
	bigBinary := make([]byte, 1200<<10) // incompressible: gzipped it is still over 1,000 KiB
	_, _ = rand.Read(bigBinary)
	tests := []struct {
		name string
		// records go through the mapping; corrupt, when set, changes the
		// payload on its way to the function.
		records []badRecord
		corrupt func([]byte) []byte
		// faults, when set, are Firehose's; params override template
		// parameters; timeout is the function's (default 3 s).
		faults  firehoselocal.FaultFunc
		params  map[string]string
		timeout time.Duration
		// direct is a payload the mapping never sends, invoked directly;
		// records are then only what it holds.
		direct []byte
		// Expectations.
		archived    map[string]lineWant // by eventID: each once unless times says
		times       map[string]int      // by eventID: lines wanted, when not 1
		dirs        map[string]string   // by eventID: the folder its line must be in
		destination []string            // eventIDs in the on-failure destination
		response    string              // direct: the response
		fnErr       string              // direct: the function error's message contains this
	}{
		{
			name:    "truncated event JSON",
			records: []badRecord{good1, {n: 2}, good2},
			corrupt: func(p []byte) []byte { return p[:len(p)/2] },
			// Nothing can be read: every invocation fails whole, the mapping
			// bisects down to single records, retries each 10 times and
			// writes them, payload included, to the destination.
			destination: []string{good1.eventID(), badRecord{n: 2}.eventID(), good2.eventID()},
		},
		{
			name:        "invalid event JSON",
			records:     []badRecord{good1, good2},
			corrupt:     func(p []byte) []byte { return bytes.Replace(p, []byte(`"Records":[`), []byte(`"Records":[,`), 1) },
			destination: []string{good1.eventID(), good2.eventID()},
		},
		{
			name:     "payload that is not a stream event",
			direct:   []byte(`{"hello":"world"}`),
			fnErr:    "not a DynamoDB stream event",
			archived: map[string]lineWant{},
		},
		{
			name:     "unknown attribute type",
			records:  []badRecord{good1, {n: 2, image: `{"pk":{"S":"k#2"},"v":{"DECIMAL128":"1"}}`}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantRaw, good2.eventID(): wantItem},
		},
		{
			name: "400 KB item of control characters",
			// 400,000 bytes of \u0001 are 2.4 MB of JSON text: over
			// Firehose's 1,000 KiB record limit, so the item is gzipped.
			records:  []badRecord{good1, {n: 2, image: `{"pk":{"S":"k#2"},"c":{"S":"` + strings.Repeat(`\u0001`, MaxItemBytes-20) + `"}}`}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantItemGzip, good2.eventID(): wantItem},
		},
		{
			name: "item too large to archive even gzipped",
			// 1.2 MB of random bytes: more than DynamoDB stores (400 KB),
			// so only a forged record can carry it. The function reports it
			// failed every time, and the mapping resumes from it: 1+10
			// invocations, then it writes the rest of the batch, the
			// record and the good one after it, to the destination and goes
			// on. The good record after it was archived by every one of the
			// 11 invocations: duplicates, the price of resuming from the
			// lowest failed record.
			records:     []badRecord{good1, {n: 2, image: `{"pk":{"S":"k#2"},"b":{"B":"` + base64.StdEncoding.EncodeToString(bigBinary) + `"}}`}, good2},
			archived:    map[string]lineWant{good1.eventID(): wantItem, good2.eventID(): wantItem},
			times:       map[string]int{good2.eventID(): 11},
			destination: []string{badRecord{n: 2}.eventID(), good2.eventID()},
		},
		{
			name:     "missing dynamodb",
			records:  []badRecord{good1, {n: 2, noDynamoDB: true}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantRaw, good2.eventID(): wantItem},
		},
		{
			name:     "missing Keys",
			records:  []badRecord{good1, {n: 2, noKeys: true}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantRaw, good2.eventID(): wantItem},
		},
		{
			name:     "missing SequenceNumber",
			records:  []badRecord{good1, {n: 2, noSeq: true}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantItem, good2.eventID(): wantItem},
		},
		{
			// The same record when Firehose refuses its line: a partial
			// batch response cannot name a record without a sequence
			// number, so the function fails the whole batch
			// (ErrUnreportable). The mapping bisects until the record is
			// alone, retries it and writes it to the destination; the
			// others are archived, the first one several times. Each
			// failing invocation retries until its deadline: a 1 s timeout
			// and 2 retries (a value the template accepts) keep it short.
			name:        "missing SequenceNumber and Firehose refuses it",
			records:     []badRecord{good1, {n: 2, noSeq: true}, good2},
			faults:      failLinesOf(badRecord{n: 2}.eventID()),
			params:      map[string]string{"MaxRetryAttempts": "2"},
			timeout:     time.Second,
			archived:    map[string]lineWant{good1.eventID(): wantItem, good2.eventID(): wantItem},
			times:       map[string]int{good1.eventID(): 3, good2.eventID(): 2},
			destination: []string{badRecord{n: 2}.eventID()},
		},
		{
			name:     "missing eventSourceARN",
			records:  []badRecord{good1, {n: 2, noARN: true}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantRaw, good2.eventID(): wantItem},
			dirs:     map[string]string{badRecord{n: 2}.eventID(): "archive/table=unknown/dt=2025-11-23/"},
		},
		{
			name:     "non-UTF-8 bytes in an item",
			records:  []badRecord{good1, {n: 2, image: "{\"pk\":{\"S\":\"k#2\"},\"s\":{\"S\":\"caf\xe9 \xff\"}}"}, good2},
			archived: map[string]lineWant{good1.eventID(): wantItem, badRecord{n: 2}.eventID(): wantRawBase64, good2.eventID(): wantItem},
		},
		{
			name:     "duplicate records in one batch",
			records:  []badRecord{good1, good2},
			direct:   []byte(`{"Records":[` + good1.json() + `,` + good1.json() + `,` + good2.json() + `]}`),
			response: `{"batchItemFailures":[]}`,
			// Both copies are archived: two lines with the same event_id,
			// which downstream de-duplication removes as it removes
			// Firehose's own duplicates.
			archived: map[string]lineWant{good1.eventID(): wantItem, good2.eventID(): wantItem},
			times:    map[string]int{good1.eventID(): 2},
		},
		{
			name:     "empty batch",
			direct:   []byte(`{"Records":[]}`),
			response: `{"batchItemFailures":[]}`,
			archived: map[string]lineWant{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := runBad(t, badRun{records: tt.records, corrupt: tt.corrupt, faults: tt.faults, params: tt.params, timeout: tt.timeout, direct: tt.direct})
			logBad(t, out)
			if tt.direct != nil {
				switch {
				case tt.fnErr != "":
					if out.fnErr == nil || !strings.Contains(out.fnErr.Message, tt.fnErr) || out.fnErr.Type != "BatchError" {
						t.Errorf("invoke: function error %+v, response %s; want a BatchError containing %q", out.fnErr, out.response, tt.fnErr)
					}
				default:
					if out.fnErr != nil || string(out.response) != tt.response {
						t.Errorf("invoke: response %s, function error %+v; want %s", out.response, out.fnErr, tt.response)
					}
				}
			}
			// Every TTL record sent is archived or in the destination.
			sent := map[string][]byte{}
			for _, r := range tt.records {
				sent[r.eventID()] = []byte(r.json())
			}
			count := map[string]int{}
			for i, l := range out.lines {
				count[l.EventID]++
				want, ok := tt.archived[l.EventID]
				if !ok {
					t.Errorf("archived %s, want it not archived", l.EventID)
					continue
				}
				if d, ok := tt.dirs[l.EventID]; ok && out.dirs[i] != d {
					t.Errorf("line %s is under %s, want %s", l.EventID, out.dirs[i], d)
				}
				checkBadLine(t, l, want, sent[l.EventID])
			}
			for id := range tt.archived {
				want := 1
				if n, ok := tt.times[id]; ok {
					want = n
				}
				if count[id] != want {
					t.Errorf("%s archived %d times, want %d", id, count[id], want)
				}
			}
			for _, id := range tt.destination {
				got, ok := out.failed[id]
				if !ok {
					t.Errorf("%s is not in the on-failure destination", id)
					continue
				}
				if !bytes.Equal(got, sent[id]) {
					t.Errorf("on-failure payload record %s = %.200s, want the record as sent %.200s", id, got, sent[id])
				}
			}
			if len(out.failed) != len(tt.destination) {
				t.Errorf("%d records in the on-failure destination, want %d", len(out.failed), len(tt.destination))
			}
			for _, r := range tt.records {
				id := r.eventID()
				if _, a := tt.archived[id]; !a && !contains(tt.destination, id) {
					t.Errorf("test case loses %s: want it archived or in the destination", id)
				}
			}
		})
	}
}

// failLinesOf fails, in every Firehose call, the records that hold the
// line of the event.
func failLinesOf(eventID string) firehoselocal.FaultFunc {
	return func(c firehoselocal.Call) firehoselocal.Fault {
		var f firehoselocal.Fault
		for i, d := range c.Data {
			if bytes.Contains(d, []byte(`"event_id":"`+eventID+`"`)) {
				f.FailRecords = append(f.FailRecords, firehoselocal.RecordFailure{Index: i})
			}
		}
		return f
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkBadLine checks one archive line against what the case wants.
func checkBadLine(t *testing.T, l archive.Line, want lineWant, sent []byte) {
	t.Helper()
	switch want {
	case wantItem, wantItemGzip:
		if l.Error != "" {
			t.Errorf("line %s archived raw (%s), want converted", l.EventID, l.Error)
			return
		}
		if (want == wantItemGzip) != (len(l.ItemGzip) > 0) {
			t.Errorf("line %s: item_gzip %d bytes, want gzipped %v", l.EventID, len(l.ItemGzip), want == wantItemGzip)
		}
		var rec struct {
			DynamoDB struct {
				OldImage json.RawMessage `json:"OldImage"`
			} `json:"dynamodb"`
		}
		if err := json.Unmarshal(sent, &rec); err != nil {
			t.Fatalf("test record: %v", err)
		}
		wantItem, err := reference.PlainJSON(rec.DynamoDB.OldImage)
		if err != nil {
			t.Fatalf("reference.PlainJSON: %v", err)
		}
		item, err := l.ItemJSON()
		if err != nil || !bytes.Equal(item, wantItem) {
			t.Errorf("line %s: item %.200s (%v), want %.200s", l.EventID, item, err, wantItem)
		}
	case wantRaw:
		if l.Error == "" || len(l.Raw) == 0 {
			t.Errorf("line %s: error %q, raw %d bytes; want archived raw with an error", l.EventID, l.Error, len(l.Raw))
			return
		}
		var a, b bytes.Buffer
		if json.Compact(&a, l.Raw) != nil || json.Compact(&b, sent) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("line %s: raw %.200s, want the record as sent %.200s", l.EventID, l.Raw, sent)
		}
	case wantRawBase64:
		if l.Error == "" || !bytes.Equal(l.RawBase64, sent) {
			t.Errorf("line %s: error %q, raw_base64 %.200q; want archived raw with the record's bytes %.200q", l.EventID, l.Error, l.RawBase64, sent)
		}
	}
}

// badRun is how one bad-input case is run.
type badRun struct {
	records []badRecord
	corrupt func([]byte) []byte
	faults  firehoselocal.FaultFunc
	params  map[string]string
	timeout time.Duration
	direct  []byte
}

// runBad runs one bad-input case: records through the template's mapping
// into the real function (payloads changed by corrupt on their way), or
// direct invoked as it is; then reads the archive and the destination.
func runBad(t *testing.T, c badRun) badOutcome {
	t.Helper()
	records, direct := c.records, c.direct // records only go through the mapping
	ctx := context.Background()
	stack, err := startStack(t.TempDir(), nil, c.params)
	if err != nil {
		t.Fatalf("startStack: %v", err)
	}
	defer func() { _ = stack.close() }()
	stack.Firehose.SetFaults(c.faults)
	client := stack.s3.Client()
	dep, err := ReadDeployment(nil, c.params)
	if err != nil {
		t.Fatalf("ReadDeployment: %v", err)
	}
	fns, err := StartFunctions(ctx, stack.Stack, FunctionsOptions{Bootstrap: bootstrap, Env: dep.Env, Processes: 1, Output: io.Discard})
	if err != nil {
		t.Fatalf("StartFunctions: %v", err)
	}
	defer func() { _ = fns.Close() }()
	timeout := c.timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}

	var out badOutcome
	if direct != nil {
		o, err := fns.Invoke(ctx, direct, timeout)
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		out.response, out.fnErr = o.Response, o.FunctionError
	} else {
		m := dep.Mapping
		m.FunctionTimeout = timeout
		m.StreamARN = ledgerARN
		m.Destination = &S3Destination{Client: client, Bucket: FailedBucket, UUID: MappingUUID}
		sh := esm.Shard{ID: shardID(0)}
		for _, r := range records {
			sh.Records = append(sh.Records, r.esm())
		}
		seen := map[string]bool{}
		fn := esm.InvokerFunc(func(ctx context.Context, p []byte, d time.Duration) (esm.Outcome, error) {
			if c.corrupt != nil {
				p = c.corrupt(p)
			}
			o, err := fns.Invoke(ctx, p, d)
			if fe := o.FunctionError; fe != nil && !seen[fe.Type+fe.Message] {
				seen[fe.Type+fe.Message] = true
				out.errors = append(out.errors, fe.Type+": "+fe.Message)
			}
			return o, err
		})
		if out.report, err = m.Run(ctx, []esm.Shard{sh}, fn); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if r := out.report.Shards[0]; r.Checkpointed != r.Records {
			t.Errorf("mapping checkpointed %d of %d records", r.Checkpointed, r.Records)
		}
	}
	if st := fns.Stats(); st.PastDeadline != 0 || st.Crashed != 0 {
		t.Errorf("functions: %d invocations past the deadline, %d crashes (%s); want none", st.PastDeadline, st.Crashed, st.LastCrash)
	}
	if err := stack.flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	keys, err := listKeys(ctx, client, local.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if !strings.HasPrefix(key, "archive/") {
			t.Errorf("object %s outside the archive prefix", key)
			continue
		}
		for _, raw := range readLines(t, ctx, client, local.Bucket, key) {
			l, err := archive.ParseLine(raw)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			out.lines = append(out.lines, l)
			out.dirs = append(out.dirs, key[:strings.LastIndexByte(key, '/')+1])
		}
	}
	out.failed = map[string]json.RawMessage{}
	fkeys, err := listKeys(ctx, client, FailedBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range fkeys {
		body, err := getObject(ctx, client, FailedBucket, key)
		if err != nil {
			t.Fatal(err)
		}
		var rec esm.OnFailureRecord
		err = json.NewDecoder(body).Decode(&rec)
		_ = body.Close()
		if err != nil {
			t.Fatalf("on-failure object %s: %v", key, err)
		}
		var p struct{ Records []json.RawMessage }
		if err := json.Unmarshal(rec.Payload, &p); err != nil {
			t.Fatalf("on-failure object %s payload: %v", key, err)
		}
		for _, r := range p.Records {
			var id struct{ EventID string }
			_ = json.Unmarshal(r, &id)
			out.failed[id.EventID] = r
		}
	}
	return out
}

// readLines returns the lines of a gzipped archive object.
func readLines(t *testing.T, ctx context.Context, client *s3.Client, bucket, key string) [][]byte {
	t.Helper()
	body, err := getObject(ctx, client, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = body.Close() }()
	zr, err := gzip.NewReader(body)
	if err != nil {
		t.Fatalf("object %s is not gzipped: %v", key, err)
	}
	var lines [][]byte
	br := bufio.NewReader(zr)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lines = append(lines, line)
		}
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
	}
}

// logBad logs what happened, for the reliability notes (go test -v).
func logBad(t *testing.T, out badOutcome) {
	t.Helper()
	r := out.report
	if out.response != nil || out.fnErr != nil {
		t.Logf("direct invocation: response %s, function error %+v", out.response, out.fnErr)
	} else {
		t.Logf("mapping: %d invocations, %d function errors, %d partial responses, %d retries, %d bisections, %d batches (%d records) to the destination",
			r.Invocations, r.FunctionErrors, r.PartialResponses, r.Retries, r.Bisections, len(r.OnFailure), r.OnFailureRecords)
	}
	for _, e := range out.errors {
		t.Logf("function error: %q", e)
	}
	for i, l := range out.lines {
		t.Logf("archived %s under %s: error %q, item %d bytes, item_gzip %d bytes, raw %d bytes, raw_base64 %d bytes",
			l.EventID, out.dirs[i], l.Error, len(l.Item), len(l.ItemGzip), len(l.Raw), len(l.RawBase64))
	}
	for id := range out.failed {
		t.Logf("in the on-failure destination: %s", id)
	}
}
