package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the creation time of the test records.
var t0 = time.Date(2025, 11, 23, 0, 0, 0, 0, time.UTC)

// record makes a stream record with sequence number seq, created at
// created, padded to at least size bytes of JSON.
func record(t testing.TB, seq int, created time.Time, size int) Record {
	t.Helper()
	raw := fmt.Sprintf(`{"eventID":"e%d","eventName":"REMOVE","dynamodb":{"SequenceNumber":"%d","ApproximateCreationDateTime":%d,"pad":"`,
		seq, seq, created.Unix())
	pad := max(size-len(raw)-3, 0)
	raw += strings.Repeat("x", pad) + `"}}`
	if size > 1<<20 {
		// Large records skip the JSON decoding, to keep the race detector
		// quick.
		return Record{Data: []byte(raw), SequenceNumber: strconv.Itoa(seq), Created: created}
	}
	r, err := RecordFromJSON([]byte(raw))
	if err != nil {
		t.Fatalf("RecordFromJSON: %v", err)
	}
	return r
}

// shard makes a shard of n records numbered from first, all created at
// created.
func shard(t testing.TB, id string, first, n int, created time.Time) Shard {
	t.Helper()
	sh := Shard{ID: id}
	for i := range n {
		sh.Records = append(sh.Records, record(t, first+i, created, 0))
	}
	return sh
}

var seqPattern = regexp.MustCompile(`"SequenceNumber":"([0-9]+)"`)

// seqs reads the sequence numbers of an invocation payload.
func seqs(t testing.TB, payload []byte) []string {
	t.Helper()
	if len(payload) > 1<<20 {
		// Large payloads are read with a pattern, to keep the race
		// detector quick; their shape is checked on small ones.
		var out []string
		for _, m := range seqPattern.FindAllSubmatch(payload, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	var ev struct {
		Records []struct {
			DynamoDB struct {
				SequenceNumber string `json:"SequenceNumber"`
			} `json:"dynamodb"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Errorf("payload is not an event: %v", err)
		return nil
	}
	out := make([]string, len(ev.Records))
	for i, r := range ev.Records {
		out[i] = r.DynamoDB.SequenceNumber
	}
	return out
}

// fake is an Invoker scripted per call: respond sees the call's number
// (from 0, over all shards) and the sequence numbers it carries.
type fake struct {
	t       testing.TB
	respond func(call int, seqs []string) (Outcome, error)
	stop    context.CancelFunc // set by run: ends a runaway Run

	mu       sync.Mutex
	calls    [][]string
	payloads []int // payload sizes
	timeouts []time.Duration
}

func (f *fake) Invoke(_ context.Context, payload []byte, timeout time.Duration) (Outcome, error) {
	s := seqs(f.t, payload)
	f.mu.Lock()
	n := len(f.calls)
	if n >= maxCalls && f.stop != nil {
		f.mu.Unlock()
		f.t.Errorf("more than %d invocations: the model does not stop", maxCalls)
		f.stop()
		return Outcome{}, context.Canceled
	}
	f.calls = append(f.calls, s)
	f.payloads = append(f.payloads, len(payload))
	f.timeouts = append(f.timeouts, timeout)
	f.mu.Unlock()
	if f.respond == nil {
		return Outcome{Response: []byte(`{"batchItemFailures":[]}`), Duration: time.Millisecond}, nil
	}
	return f.respond(n, s)
}

// maxCalls bounds the invocations of one test Run.
const maxCalls = 500

// run runs m over shards with f, stopping it if it runs away.
func (f *fake) run(m Mapping, shards ...Shard) (Report, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.stop = cancel
	return m.Run(ctx, shards, f)
}

func (f *fake) got() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// calls writes batches of sequence numbers compactly: "101-104" for 101 to
// 104, "106" for one record.
func calls(batches ...string) [][]string {
	out := make([][]string, len(batches))
	for i, b := range batches {
		lo, hi, ok := strings.Cut(b, "-")
		if !ok {
			hi = lo
		}
		a, _ := strconv.Atoi(lo)
		z, _ := strconv.Atoi(hi)
		for s := a; s <= z; s++ {
			out[i] = append(out[i], strconv.Itoa(s))
		}
	}
	return out
}

// Responses and outcomes used by the scripts.
func ok() (Outcome, error) {
	return Outcome{Response: []byte(`{"batchItemFailures":[]}`), Duration: time.Millisecond}, nil
}

func failures(ids ...string) Outcome {
	var b strings.Builder
	b.WriteString(`{"batchItemFailures":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"itemIdentifier":%q}`, id)
	}
	b.WriteString(`]}`)
	return Outcome{Response: []byte(b.String()), Duration: time.Millisecond}
}

func crash() Outcome {
	return Outcome{FunctionError: &FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"}, Duration: time.Millisecond}
}

// poison fails with a function error every call that carries seq.
func poison(seq string) func(int, []string) (Outcome, error) {
	return func(_ int, s []string) (Outcome, error) {
		if slices.Contains(s, seq) {
			return crash(), nil
		}
		return ok()
	}
}

// script answers call n with steps[n], and ok after the last step.
func script(steps ...Outcome) func(int, []string) (Outcome, error) {
	return func(n int, _ []string) (Outcome, error) {
		if n < len(steps) {
			return steps[n], nil
		}
		return ok()
	}
}

// recorder is a Destination that keeps what it receives.
type recorder struct {
	mu  sync.Mutex
	got []OnFailureRecord
}

func (r *recorder) OnFailure(_ context.Context, rec OnFailureRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec)
	return nil
}

func (r *recorder) records() []OnFailureRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// mapping is the default mapping with a test ARN.
func mapping() Mapping {
	m := DefaultMapping()
	m.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:ttl-archiver"
	m.StreamARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-23T00:00:00.000"
	return m
}
