package esm

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// discard is the expected part of a destination record.
type discard struct {
	condition string
	start     string
	end       string
	size      int
	invokes   int
	fnErr     string // "" for null; "-" for no responseContext
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		mapping func(*Mapping)
		records int // numbered from 101, all created at t0
		respond func(int, []string) (Outcome, error)

		wantCalls  [][]string
		wantOnFail []discard
		check      func(t *testing.T, r Report)
	}{
		{
			name:      "all succeed",
			mapping:   func(m *Mapping) { m.BatchSize = 2 },
			records:   5,
			wantCalls: calls("101-102", "103-104", "105"),
			check: func(t *testing.T, r Report) {
				want := ShardReport{ID: "s", Records: 5, Invocations: 3, Checkpointed: 5, Succeeded: 5, Checkpoint: "105"}
				if r.Shards[0] != want {
					t.Errorf("shard report: got %+v, want %+v", r.Shards[0], want)
				}
				if r.Retries != 0 || r.FunctionErrors != 0 {
					t.Errorf("Retries, FunctionErrors: got %d, %d, want 0, 0", r.Retries, r.FunctionErrors)
				}
			},
		},
		{
			name: "partial failure resumes from the lowest reported sequence number",
			mapping: func(m *Mapping) {
				m.BatchSize = 4
				m.ReportBatchItemFailures = true
				m.MaximumRetryAttempts = 2
			},
			records: 6,
			// 103 and 102 reported, in that order: the retry starts at 102.
			respond:   script(failures("103", "102")),
			wantCalls: calls("101-104", "102-104", "105-106"),
			check: func(t *testing.T, r Report) {
				if r.PartialResponses != 1 || r.Retries != 1 {
					t.Errorf("PartialResponses, Retries: got %d, %d, want 1, 1", r.PartialResponses, r.Retries)
				}
				if r.Shards[0].Succeeded != 6 {
					t.Errorf("Succeeded: got %d, want 6", r.Shards[0].Succeeded)
				}
			},
		},
		{
			name: "partial failures until the retries run out discard the failing suffix only",
			mapping: func(m *Mapping) {
				m.BatchSize = 3
				m.ReportBatchItemFailures = true
				m.MaximumRetryAttempts = 3
			},
			records: 6,
			respond: func(_ int, s []string) (Outcome, error) {
				for _, seq := range s {
					if seq == "106" {
						return failures("106"), nil
					}
				}
				return ok()
			},
			// As recorded against AWS with these settings: four
			// invocations, then only record 106 is discarded.
			wantCalls:  calls("101-103", "104-106", "106", "106", "106"),
			wantOnFail: []discard{{ConditionRetryAttemptsExhausted, "106", "106", 1, 4, ""}},
		},
		{
			name:      "partial response ignored without ReportBatchItemFailures",
			mapping:   func(m *Mapping) { m.BatchSize = 4; m.MaximumRetryAttempts = 2 },
			records:   6,
			respond:   script(failures("102")),
			wantCalls: calls("101-104", "105-106"),
			check: func(t *testing.T, r Report) {
				if r.PartialResponses != 0 || r.Shards[0].Succeeded != 6 {
					t.Errorf("PartialResponses, Succeeded: got %d, %d, want 0, 6", r.PartialResponses, r.Shards[0].Succeeded)
				}
			},
		},
		{
			name:      "function error retried then success",
			mapping:   func(m *Mapping) { m.BatchSize = 2; m.MaximumRetryAttempts = 5 },
			records:   3,
			respond:   script(crash()),
			wantCalls: calls("101-102", "101-102", "103"),
			check: func(t *testing.T, r Report) {
				if r.FunctionErrors != 1 || r.Retries != 1 || len(r.OnFailure) != 0 {
					t.Errorf("FunctionErrors, Retries, OnFailure: got %d, %d, %v, want 1, 1, none", r.FunctionErrors, r.Retries, r.OnFailure)
				}
			},
		},
		{
			name: "bisect down to the poison record, which goes to on-failure after its retries",
			mapping: func(m *Mapping) {
				m.BatchSize = 8
				m.BisectBatchOnFunctionError = true
				m.MaximumRetryAttempts = 2
			},
			records: 8,
			respond: poison("106"),
			wantCalls: calls(
				"101-108",           // fails: split
				"101-104",           // ok
				"105-108",           // fails: split
				"105-106",           // fails: split
				"105",               // ok
				"106", "106", "106", // first try and two retries
				"107-108", // ok
			),
			wantOnFail: []discard{{ConditionRetryAttemptsExhausted, "106", "106", 1, 6, "Unhandled"}},
			check: func(t *testing.T, r Report) {
				if r.Bisections != 3 || r.Retries != 2 || r.FunctionErrors != 6 {
					t.Errorf("Bisections, Retries, FunctionErrors: got %d, %d, %d, want 3, 2, 6", r.Bisections, r.Retries, r.FunctionErrors)
				}
				want := ShardReport{ID: "s", Records: 8, Invocations: 9, Checkpointed: 8, Succeeded: 7, Discarded: 1, Checkpoint: "108"}
				if r.Shards[0] != want {
					t.Errorf("shard report: got %+v, want %+v", r.Shards[0], want)
				}
			},
		},
		{
			name: "bisect even with no retries",
			mapping: func(m *Mapping) {
				m.BatchSize = 4
				m.BisectBatchOnFunctionError = true
				m.MaximumRetryAttempts = 0
			},
			records:    4,
			respond:    poison("103"),
			wantCalls:  calls("101-104", "101-102", "103-104", "103", "104"),
			wantOnFail: []discard{{ConditionRetryAttemptsExhausted, "103", "103", 1, 3, "Unhandled"}},
		},
		{
			name: "an odd batch splits with the extra record in the first half",
			mapping: func(m *Mapping) {
				m.BatchSize = 3
				m.BisectBatchOnFunctionError = true
				m.MaximumRetryAttempts = 0
			},
			records:    3,
			respond:    poison("103"),
			wantCalls:  calls("101-103", "101-102", "103"),
			wantOnFail: []discard{{ConditionRetryAttemptsExhausted, "103", "103", 1, 2, "Unhandled"}},
		},
		{
			name:      "retries exhausted without bisect send the whole batch",
			mapping:   func(m *Mapping) { m.BatchSize = 3; m.MaximumRetryAttempts = 1 },
			records:   5,
			respond:   poison("102"),
			wantCalls: calls("101-103", "101-103", "104-105"),
			// MaximumRetryAttempts 1: approximateInvokeCount 2, as AWS
			// records it.
			wantOnFail: []discard{{ConditionRetryAttemptsExhausted, "101", "103", 3, 2, "Unhandled"}},
			check: func(t *testing.T, r Report) {
				if r.OnFailureRecords != 3 || r.Shards[0].Succeeded != 2 || r.Shards[0].Checkpoint != "105" {
					t.Errorf("OnFailureRecords, Succeeded, Checkpoint: got %d, %d, %s, want 3, 2, 105",
						r.OnFailureRecords, r.Shards[0].Succeeded, r.Shards[0].Checkpoint)
				}
			},
		},
		{
			name: "invalid itemIdentifier fails the whole batch",
			mapping: func(m *Mapping) {
				m.BatchSize = 3
				m.ReportBatchItemFailures = true
				m.BisectBatchOnFunctionError = true // not a function error: no bisection
				m.MaximumRetryAttempts = 1
			},
			records:    4,
			respond:    script(failures("999"), failures("")),
			wantCalls:  calls("101-103", "101-103", "104"),
			wantOnFail: []discard{{ConditionRetryAttemptsExhausted, "101", "103", 3, 2, ""}},
			check: func(t *testing.T, r Report) {
				if r.InvalidResponses != 2 || r.Bisections != 0 || r.PartialResponses != 0 {
					t.Errorf("InvalidResponses, Bisections, PartialResponses: got %d, %d, %d, want 2, 0, 0",
						r.InvalidResponses, r.Bisections, r.PartialResponses)
				}
			},
		},
		{
			name:    "invoke error counts apart and is retried like a function error",
			mapping: func(m *Mapping) { m.BatchSize = 2; m.MaximumRetryAttempts = 1 },
			records: 2,
			respond: func(n int, _ []string) (Outcome, error) {
				if n == 0 {
					return Outcome{}, errors.New("runtime API: connection refused")
				}
				return ok()
			},
			wantCalls: calls("101-102", "101-102"),
			check: func(t *testing.T, r Report) {
				if r.InvokeErrors != 1 || r.FunctionErrors != 0 || r.Retries != 1 || len(r.Durations) != 1 {
					t.Errorf("InvokeErrors, FunctionErrors, Retries, durations: got %d, %d, %d, %d, want 1, 0, 1, 1",
						r.InvokeErrors, r.FunctionErrors, r.Retries, len(r.Durations))
				}
			},
		},
		{
			name:      "timeout is a function error and is reported",
			mapping:   func(m *Mapping) { m.BatchSize = 2; m.FunctionTimeout = time.Second },
			records:   2,
			respond:   script(Outcome{FunctionError: &FunctionError{Type: "Sandbox.Timedout", TimedOut: true}, Duration: time.Second}),
			wantCalls: calls("101-102", "101-102"),
			check: func(t *testing.T, r Report) {
				if !r.TimeoutExceeded || r.Timeouts != 1 || r.FunctionErrors != 1 {
					t.Errorf("TimeoutExceeded, Timeouts, FunctionErrors: got %v, %d, %d, want true, 1, 1", r.TimeoutExceeded, r.Timeouts, r.FunctionErrors)
				}
			},
		},
		{
			name: "records past MaximumRecordAgeInSeconds are discarded without an invocation",
			mapping: func(m *Mapping) {
				m.BatchSize = 3
				m.MaximumRecordAgeInSeconds = 60
				m.Start = t0
			},
			records: 3,
			// Always fails, 25 s a call: invoked at ages 0, 25, 50 s; at
			// 75 s the records are too old.
			respond: func(int, []string) (Outcome, error) {
				o := crash()
				o.Duration = 25 * time.Second
				return o, nil
			},
			wantCalls:  calls("101-103", "101-103", "101-103"),
			wantOnFail: []discard{{ConditionRecordAgeExceeded, "101", "103", 3, 3, "-"}},
			check: func(t *testing.T, r Report) {
				if r.Retries != 2 {
					t.Errorf("Retries: got %d, want 2", r.Retries)
				}
			},
		},
		{
			name: "RetryDelay advances the virtual clock before each retry",
			mapping: func(m *Mapping) {
				m.BatchSize = 1
				m.MaximumRecordAgeInSeconds = 60
				m.RetryDelay = 30 * time.Second
				m.Start = t0
			},
			records: 1,
			respond: poison("101"),
			// Invoked at 0 s and 30 s; at 60.002 s the record is too old.
			wantCalls:  calls("101", "101"),
			wantOnFail: []discard{{ConditionRecordAgeExceeded, "101", "101", 1, 2, "-"}},
		},
		{
			name: "-1 retries until the stream trims the record",
			mapping: func(m *Mapping) {
				m.BatchSize = 1
				m.Start = t0
			},
			records: 2,
			respond: func(_ int, s []string) (Outcome, error) {
				if s[0] == "101" {
					o := crash()
					o.Duration = time.Hour
					return o, nil
				}
				return ok()
			},
			// Invoked at ages 0 h to 24 h; at 25 h it is past retention.
			// Record 102, created with it, is trimmed too.
			wantCalls: func() [][]string {
				c := make([][]string, 25)
				for i := range c {
					c[i] = []string{"101"}
				}
				return c
			}(),
			check: func(t *testing.T, r Report) {
				if r.Trimmed != 2 || len(r.OnFailure) != 0 || r.Shards[0].Checkpointed != 2 {
					t.Errorf("Trimmed, OnFailure, Checkpointed: got %d, %v, %d, want 2, none, 2", r.Trimmed, r.OnFailure, r.Shards[0].Checkpointed)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mapping()
			dest := &recorder{}
			m.Destination = dest
			if tt.mapping != nil {
				tt.mapping(&m)
			}
			f := &fake{t: t, respond: tt.respond}
			rep, err := f.run(m, shard(t, "s", 101, tt.records, t0))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := f.got(); !reflect.DeepEqual(got, tt.wantCalls) {
				t.Errorf("batches invoked:\n got %v\nwant %v", got, tt.wantCalls)
			}
			if rep.Invocations != len(tt.wantCalls) {
				t.Errorf("Invocations: got %d, want %d", rep.Invocations, len(tt.wantCalls))
			}
			checkOnFailure(t, dest.records(), tt.wantOnFail)
			if len(rep.OnFailure) != len(tt.wantOnFail) {
				t.Errorf("report OnFailure: got %v, want %d batches", rep.OnFailure, len(tt.wantOnFail))
			}
			if tt.check != nil {
				tt.check(t, rep)
			}
		})
	}
}

func checkOnFailure(t *testing.T, got []OnFailureRecord, want []discard) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("destination records: got %d, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		info := g.DDBStreamBatchInfo
		if g.RequestContext.Condition != w.condition || info.StartSequenceNumber != w.start || info.EndSequenceNumber != w.end ||
			info.BatchSize != w.size || g.RequestContext.ApproximateInvokeCount != w.invokes {
			t.Errorf("destination record %d: got %s %s-%s size %d invokes %d, want %s %s-%s size %d invokes %d", i,
				g.RequestContext.Condition, info.StartSequenceNumber, info.EndSequenceNumber, info.BatchSize, g.RequestContext.ApproximateInvokeCount,
				w.condition, w.start, w.end, w.size, w.invokes)
		}
		switch {
		case w.fnErr == "-":
			if g.ResponseContext != nil {
				t.Errorf("destination record %d: got responseContext %+v, want none", i, *g.ResponseContext)
			}
		case g.ResponseContext == nil:
			t.Errorf("destination record %d: got no responseContext, want one", i)
		case w.fnErr == "" && g.ResponseContext.FunctionError != nil:
			t.Errorf("destination record %d: got functionError %q, want null", i, *g.ResponseContext.FunctionError)
		case w.fnErr != "" && (g.ResponseContext.FunctionError == nil || *g.ResponseContext.FunctionError != w.fnErr):
			t.Errorf("destination record %d: got functionError %v, want %q", i, g.ResponseContext.FunctionError, w.fnErr)
		}
		// The payload holds exactly the discarded records.
		var p struct{ Records []json.RawMessage }
		if err := json.Unmarshal(g.Payload, &p); err != nil || len(p.Records) != w.size {
			t.Errorf("destination record %d: payload holds %d records (%v), want %d", i, len(p.Records), err, w.size)
		}
		if s := seqs(t, g.Payload); len(s) > 0 && (s[0] != w.start || s[len(s)-1] != w.end) {
			t.Errorf("destination record %d: payload records %v, want %s to %s", i, s, w.start, w.end)
		}
	}
}

// TestRunRecordAgeDiscardsOnlyTheExpired mirrors AWS's recorded behaviour:
// an expired record is discarded alone and the rest of its batch is
// invoked.
func TestRunRecordAgeDiscardsOnlyTheExpired(t *testing.T) {
	m := mapping()
	m.MaximumRecordAgeInSeconds = 60
	m.MaximumRetryAttempts = 0
	m.Start = t0
	dest := &recorder{}
	m.Destination = dest
	sh := Shard{ID: "s", Records: []Record{
		record(t, 101, t0.Add(-2*time.Minute), 0),
		record(t, 102, t0, 0),
		record(t, 103, t0, 0),
	}}
	f := &fake{t: t}
	if _, err := f.run(m, sh); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := f.got(), calls("102-103"); !reflect.DeepEqual(got, want) {
		t.Errorf("batches invoked: got %v, want %v", got, want)
	}
	checkOnFailure(t, dest.records(), []discard{{ConditionRecordAgeExceeded, "101", "101", 1, 0, "-"}})
}

func TestRunPayloadLimit(t *testing.T) {
	// Two records of half the limit less the payload's framing fit
	// exactly; one byte more does not.
	half := (MaxPayloadBytes - len(`{"Records":[`) - len(`]}`) - 1) / 2
	rest := MaxPayloadBytes - len(`{"Records":[`) - len(`]}`) - 1 - half
	tests := []struct {
		name       string
		sizes      []int
		wantCalls  [][]string
		wantOnFail []discard
	}{
		{
			name:      "large records cut into batches under 6 MB",
			sizes:     []int{2_500_000, 2_500_000, 2_500_000, 1000},
			wantCalls: calls("101-102", "103-104"),
		},
		{
			name:      "exactly 6 MB fits",
			sizes:     []int{half, rest, 10},
			wantCalls: calls("101-102", "103"),
		},
		{
			name:      "one byte over does not",
			sizes:     []int{half, rest + 1, 10},
			wantCalls: calls("101", "102-103"),
		},
		{
			name:       "a record larger than the limit alone goes to on-failure",
			sizes:      []int{100, MaxPayloadBytes, 100},
			wantCalls:  calls("101", "103"),
			wantOnFail: []discard{{ConditionRecordTooLarge, "102", "102", 1, 0, "-"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mapping()
			m.BatchSize = 10
			dest := &recorder{}
			m.Destination = dest
			sh := Shard{ID: "s"}
			for i, size := range tt.sizes {
				r := record(t, 101+i, t0, size)
				if len(r.Data) != size && size > 200 {
					t.Fatalf("record %d: %d bytes, want %d", i, len(r.Data), size)
				}
				sh.Records = append(sh.Records, r)
			}
			f := &fake{t: t}
			if _, err := f.run(m, sh); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := f.got(); !reflect.DeepEqual(got, tt.wantCalls) {
				t.Errorf("batches invoked: got %v, want %v", got, tt.wantCalls)
			}
			for i, n := range f.payloads {
				if n > MaxPayloadBytes {
					t.Errorf("call %d: payload of %d bytes, want at most %d", i, n, MaxPayloadBytes)
				}
			}
			checkOnFailure(t, dest.records(), tt.wantOnFail)
		})
	}
}

func TestRunShardOrderUnderConcurrency(t *testing.T) {
	const shards, perShard, limit = 6, 20, 3
	var input []Shard
	for i := range shards {
		input = append(input, shard(t, "shard-"+string(rune('a'+i)), 1000*(i+1), perShard, t0))
	}
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	perShardInFlight := map[byte]int{}
	failedOnce := map[string]bool{}
	f := &fake{t: t}
	f.respond = func(_ int, s []string) (Outcome, error) {
		key := s[0][0] // the shard, from the sequence numbers' first digit
		mu.Lock()
		perShardInFlight[key]++
		if perShardInFlight[key] > 1 {
			t.Errorf("two invocations in flight for the shard of %s", s[0])
		}
		mu.Unlock()
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		inFlight.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		perShardInFlight[key]--
		// The batch starting at record 15 of each shard fails once, to
		// mix retries in.
		if strings.HasSuffix(s[0], "15") && !failedOnce[s[0]] {
			failedOnce[s[0]] = true
			return crash(), nil
		}
		return ok()
	}
	m := mapping()
	m.BatchSize = 3
	m.Concurrency = limit
	rep, err := f.run(m, input...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if p := peak.Load(); p < 2 || p > limit {
		t.Errorf("peak concurrent invocations: got %d, want 2 to %d", p, limit)
	}
	// Per shard, the batches are contiguous runs of the shard's records,
	// in order: each batch starts where the last successful one ended, or
	// repeats the failed one.
	byShard := map[byte][][]string{}
	for _, c := range f.got() {
		byShard[c[0][0]] = append(byShard[c[0][0]], c)
	}
	for i, sh := range input {
		got := byShard[sh.Records[0].SequenceNumber[0]]
		next, prev := 0, -1
		for _, c := range got {
			start := indexOf(sh, c[0])
			if start != next && start != prev {
				t.Errorf("shard %s: batch %v starts at record %d, want %d (next) or %d (retry)", sh.ID, c, start, next, prev)
			}
			prev = start
			for j, seq := range c {
				if sh.Records[start+j].SequenceNumber != seq {
					t.Errorf("shard %s: batch %v is not a run of the shard in order", sh.ID, c)
				}
			}
			next = start + len(c)
		}
		if next != perShard {
			t.Errorf("shard %s: batches end at record %d, want %d", sh.ID, next, perShard)
		}
		if rep.Shards[i].ID != sh.ID || rep.Shards[i].Succeeded != perShard || rep.Shards[i].Checkpoint != sh.Records[perShard-1].SequenceNumber {
			t.Errorf("shard report %d: got %+v, want %s with %d succeeded", i, rep.Shards[i], sh.ID, perShard)
		}
	}
	if rep.FunctionErrors != shards || rep.Retries != shards {
		t.Errorf("FunctionErrors, Retries: got %d, %d, want %d, %d", rep.FunctionErrors, rep.Retries, shards, shards)
	}
}

func indexOf(sh Shard, seq string) int {
	for i, r := range sh.Records {
		if r.SequenceNumber == seq {
			return i
		}
	}
	return -1
}

func TestRunStops(t *testing.T) {
	t.Run("destination error", func(t *testing.T) {
		m := mapping()
		m.MaximumRetryAttempts = 0
		broken := errors.New("bucket gone")
		m.Destination = DestinationFunc(func(context.Context, OnFailureRecord) error { return broken })
		f := &fake{t: t, respond: poison("101")}
		_, err := m.Run(context.Background(), []Shard{shard(t, "s", 101, 2, t0)}, f)
		if !errors.Is(err, broken) {
			t.Fatalf("Run: got %v, want %v", err, broken)
		}
		if got := len(f.got()); got != 1 {
			t.Errorf("invocations after the failed destination: got %d, want 1", got)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		m := mapping()
		m.BatchSize = 1
		f := &fake{t: t}
		f.respond = func(n int, _ []string) (Outcome, error) {
			if n == 1 {
				cancel()
				return Outcome{}, ctx.Err()
			}
			return ok()
		}
		rep, err := m.Run(ctx, []Shard{shard(t, "s", 101, 5, t0)}, f)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: got %v, want %v", err, context.Canceled)
		}
		if rep.Shards[0].Checkpoint != "101" {
			t.Errorf("checkpoint: got %q, want 101", rep.Shards[0].Checkpoint)
		}
	})
}

func TestRunRejects(t *testing.T) {
	good := shard(t, "s", 101, 2, t0)
	tests := []struct {
		name    string
		mapping func(*Mapping)
		shards  []Shard
		want    string
		is      error
	}{
		{name: "batch size 0", mapping: func(m *Mapping) { m.BatchSize = 0 }, want: "BatchSize 0: want 1 to 10000"},
		{name: "batch size 10001", mapping: func(m *Mapping) { m.BatchSize = 10001 }, want: "BatchSize 10001"},
		{name: "record age 0", mapping: func(m *Mapping) { m.MaximumRecordAgeInSeconds = 0 }, want: "want -1 or 60 to 604800"},
		{name: "record age 604801", mapping: func(m *Mapping) { m.MaximumRecordAgeInSeconds = 604801 }, want: "MaximumRecordAgeInSeconds 604801"},
		{name: "retries -2", mapping: func(m *Mapping) { m.MaximumRetryAttempts = -2 }, want: "want -1 or 0 to 10000"},
		{name: "batching window", mapping: func(m *Mapping) { m.MaximumBatchingWindow = 301 * time.Second }, want: "want 0 to 300s"},
		{name: "parallelization 2", mapping: func(m *Mapping) { m.ParallelizationFactor = 2 }, is: ErrUnsupported},
		{name: "parallelization 11", mapping: func(m *Mapping) { m.ParallelizationFactor = 11 }, want: "want 1 to 10"},
		{name: "no timeout", mapping: func(m *Mapping) { m.FunctionTimeout = 0 }, want: "FunctionTimeout"},
		{
			name:   "unordered shard",
			shards: []Shard{{ID: "s", Records: []Record{good.Records[1], good.Records[0]}}},
			want:   "sequence number 101 does not follow 102",
		},
		{
			name:   "repeated sequence number",
			shards: []Shard{{ID: "s", Records: []Record{good.Records[0], good.Records[0]}}},
			want:   "sequence number 101 does not follow 101",
		},
		{name: "duplicate shard", shards: []Shard{good, good}, want: "shard s given twice"},
		{name: "no shard ID", shards: []Shard{{Records: good.Records}}, want: "without an ID"},
		{
			name:   "leading zero",
			shards: []Shard{{ID: "s", Records: []Record{{Data: []byte(`{}`), SequenceNumber: "0101"}}}},
			want:   "leading zero",
		},
		{
			name:   "invalid JSON",
			shards: []Shard{{ID: "s", Records: []Record{{Data: []byte(`{`), SequenceNumber: "101"}}}},
			want:   "not valid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mapping()
			if tt.mapping != nil {
				tt.mapping(&m)
			}
			shards := tt.shards
			if shards == nil {
				shards = []Shard{good}
			}
			f := &fake{t: t}
			_, err := m.Run(context.Background(), shards, f)
			switch {
			case err == nil:
				t.Fatalf("Run: got no error, want one")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Run: got %v, want %v", err, tt.is)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Run: got %q, want it to contain %q", err, tt.want)
			}
			if n := len(f.got()); n != 0 {
				t.Errorf("invocations: got %d, want 0", n)
			}
		})
	}
}

// TestOnFailureRecordJSON pins the JSON written to the destination.
func TestOnFailureRecordJSON(t *testing.T) {
	m := mapping()
	m.MaximumRetryAttempts = 0
	m.Start = t0.Add(1500 * time.Millisecond)
	dest := &recorder{}
	m.Destination = dest
	sh := Shard{ID: "shardId-00000001763856000000-abcdef01", Records: []Record{
		{Data: []byte(`{"dynamodb":{"SequenceNumber":"100000000000000000001"}}`), SequenceNumber: "100000000000000000001", Created: t0},
	}}
	f := &fake{t: t, respond: func(int, []string) (Outcome, error) {
		o := crash()
		o.RequestID = "c9b8fa9f-5a7f-4b3a-af9c-0c604cde93a5"
		o.Duration = 250 * time.Millisecond
		return o, nil
	}}
	if _, err := m.Run(context.Background(), []Shard{sh}, f); err != nil {
		t.Fatalf("Run: %v", err)
	}
	recs := dest.records()
	if len(recs) != 1 {
		t.Fatalf("destination records: got %d, want 1", len(recs))
	}
	got, err := json.Marshal(recs[0])
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	want := `{"requestContext":{"requestId":"c9b8fa9f-5a7f-4b3a-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:ttl-archiver","condition":"RetryAttemptsExhausted","approximateInvokeCount":1},` +
		`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},` +
		`"version":"1.0","timestamp":"2025-11-23T00:00:01.750Z",` +
		`"DDBStreamBatchInfo":{"shardId":"shardId-00000001763856000000-abcdef01","startSequenceNumber":"100000000000000000001","endSequenceNumber":"100000000000000000001",` +
		`"approximateArrivalOfFirstRecord":"2025-11-23T00:00:00Z","approximateArrivalOfLastRecord":"2025-11-23T00:00:00Z","batchSize":1,` +
		`"streamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-11-23T00:00:00.000"},` +
		`"payload":{"Records":[{"dynamodb":{"SequenceNumber":"100000000000000000001"}}]}}`
	if string(got) != want {
		t.Errorf("destination record JSON:\n got %s\nwant %s", got, want)
	}
	key := recs[0].ObjectKey("14e0db71-5d35-4eb5-b481-8945cf9d10c2", "3f0c1b1e-0000-4000-8000-000000000000")
	wantKey := "aws/lambda/14e0db71-5d35-4eb5-b481-8945cf9d10c2/shardId-00000001763856000000-abcdef01/2025/11/23/2025-11-23T00.00.01-3f0c1b1e-0000-4000-8000-000000000000"
	if key != wantKey {
		t.Errorf("ObjectKey: got %s, want %s", key, wantKey)
	}
}

func TestReportPercentile(t *testing.T) {
	r := Report{}
	for i := 1; i <= 100; i++ {
		r.Durations = append(r.Durations, time.Duration(101-i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.5, time.Millisecond}} {
		if got := r.Percentile(tt.p); got != tt.want {
			t.Errorf("Percentile(%v): got %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := (Report{}).Percentile(50); got != 0 {
		t.Errorf("Percentile of no durations: got %v, want 0", got)
	}
}
