package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// toSource writes the records' JSON of shards to one file, each record
// after a separator so that no offset is zero and records are not
// adjacent, and returns the shards reading from that file: the form a long
// soak uses.
func toSource(t *testing.T, shards ...Shard) []Shard {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stream.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	var off int64
	out := make([]Shard, len(shards))
	for i, sh := range shards {
		out[i] = Shard{ID: sh.ID, Source: f}
		for _, r := range sh.Records {
			n, err := f.Write(append([]byte("\n#\n"), r.Data...))
			if err != nil {
				t.Fatal(err)
			}
			out[i].Records = append(out[i].Records, Record{
				Offset: off + 3, Size: len(r.Data), SequenceNumber: r.SequenceNumber, Created: r.Created,
			})
			off += int64(n)
		}
	}
	return out
}

// payloadRecorder is an Invoker that keeps every payload it is given,
// answering by the script.
type payloadRecorder struct {
	t       *testing.T
	respond func(call int, seqs []string) (Outcome, error)

	mu       sync.Mutex
	payloads map[string][][]byte // by the first sequence number's shard prefix
	n        int
}

func (p *payloadRecorder) Invoke(_ context.Context, payload []byte, _ time.Duration) (Outcome, error) {
	s := seqs(p.t, payload)
	p.mu.Lock()
	n := p.n
	p.n++
	if len(s) > 0 {
		shard := s[0][:1] // the shards of these tests number their records 1xx and 2xx
		p.payloads[shard] = append(p.payloads[shard], slices.Clone(payload))
	}
	p.mu.Unlock()
	if n >= maxCalls {
		p.t.Errorf("more than %d invocations: the model does not stop", maxCalls)
		return Outcome{}, errors.New("runaway")
	}
	if p.respond == nil {
		return ok()
	}
	out, err := p.respond(n, s)
	out.RequestID = "req-" + strings.Join(s, ",") // the same in both forms
	return out, err
}

// TestSourceSameAsMemory runs the same shards held in memory and read from
// a file, and requires the same invocations and destination records, byte
// for byte: batching by count and by payload size, bisection, partial
// responses and discarded batches all read records through the source.
func TestSourceSameAsMemory(t *testing.T) {
	big := func(id string, first int) Shard {
		// Records of 1.5 MB: four fit in a payload, so batches are cut by
		// size.
		sh := Shard{ID: id}
		for i := range 7 {
			sh.Records = append(sh.Records, record(t, first+i, t0, 1500*1024))
		}
		return sh
	}
	tests := []struct {
		name    string
		shards  []Shard
		mapping func(*Mapping)
		respond func(call int, seqs []string) (Outcome, error)
	}{
		{
			name:    "batches by count",
			shards:  []Shard{shard(t, "a", 101, 25, t0), shard(t, "b", 201, 13, t0)},
			mapping: func(m *Mapping) { m.BatchSize = 4 },
		},
		{
			name:    "batches by payload size",
			shards:  []Shard{big("a", 101), big("b", 201)},
			mapping: func(m *Mapping) { m.BatchSize = 100 },
		},
		{
			name:   "poison record bisected and discarded",
			shards: []Shard{shard(t, "a", 101, 9, t0), shard(t, "b", 201, 9, t0)},
			mapping: func(m *Mapping) {
				m.BatchSize = 8
				m.BisectBatchOnFunctionError = true
				m.MaximumRetryAttempts = 1
			},
			respond: func(_ int, s []string) (Outcome, error) {
				if slices.Contains(s, "105") || slices.Contains(s, "203") {
					return crash(), nil
				}
				return ok()
			},
		},
		{
			name:   "partial responses until discarded",
			shards: []Shard{shard(t, "a", 101, 12, t0), shard(t, "b", 201, 12, t0)},
			mapping: func(m *Mapping) {
				m.BatchSize = 5
				m.ReportBatchItemFailures = true
				m.MaximumRetryAttempts = 2
			},
			respond: func(_ int, s []string) (Outcome, error) {
				for _, bad := range []string{"103", "209"} {
					if slices.Contains(s, bad) {
						return failures(bad), nil
					}
				}
				return ok()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(shards []Shard) (map[string][][]byte, []OnFailureRecord, Report) {
				m := mapping()
				if tt.mapping != nil {
					tt.mapping(&m)
				}
				dest := &recorder{}
				m.Destination = dest
				p := &payloadRecorder{t: t, respond: tt.respond, payloads: map[string][][]byte{}}
				rep, err := m.Run(context.Background(), shards, p)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				recs := dest.records()
				slices.SortFunc(recs, func(a, b OnFailureRecord) int {
					return CompareSequenceNumbers(a.DDBStreamBatchInfo.StartSequenceNumber, b.DDBStreamBatchInfo.StartSequenceNumber)
				})
				return p.payloads, recs, rep
			}
			memPayloads, memDest, memRep := run(tt.shards)
			srcPayloads, srcDest, srcRep := run(toSource(t, tt.shards...))

			if len(memPayloads) == 0 {
				t.Fatal("no invocations: the case tests nothing")
			}
			for shard, want := range memPayloads {
				got := srcPayloads[shard]
				if len(got) != len(want) {
					t.Errorf("shard %s: got %d invocations from the source, want %d as from memory", shard, len(got), len(want))
					continue
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Errorf("shard %s, invocation %d: payload from the source differs from memory's:\n got %.300s\nwant %.300s", shard, i, got[i], want[i])
					}
				}
			}
			gotDest, _ := json.Marshal(srcDest)
			wantDest, _ := json.Marshal(memDest)
			if !bytes.Equal(gotDest, wantDest) {
				t.Errorf("destination records from the source:\n got %.600s\nwant %.600s", gotDest, wantDest)
			}
			if srcRep.Invocations != memRep.Invocations || srcRep.OnFailureRecords != memRep.OnFailureRecords {
				t.Errorf("report from the source: %d invocations, %d records discarded; want %d, %d as from memory",
					srcRep.Invocations, srcRep.OnFailureRecords, memRep.Invocations, memRep.OnFailureRecords)
			}
		})
	}
}

// failingReader is a Source whose reads fail from the n-th on (from 1).
type failingReader struct {
	r     io.ReaderAt
	after int64
	n     atomic.Int64
}

var errDisk = errors.New("disk gone")

func (f *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if f.n.Add(1) >= f.after {
		return 0, errDisk
	}
	return f.r.ReadAt(p, off)
}

// TestSourceErrors: a source that does not hold the records stops Run
// before any invocation; one that fails later stops it there, with the
// reader's error.
func TestSourceErrors(t *testing.T) {
	good := toSource(t, shard(t, "s", 101, 6, t0))[0]
	with := func(change func(*Shard)) Shard {
		sh := good
		sh.Records = slices.Clone(good.Records)
		change(&sh)
		return sh
	}
	tests := []struct {
		name        string
		shard       Shard
		is          error
		want        string
		invocations bool // some invocations ran before the error
	}{
		{
			name:  "record past the end of the source",
			shard: with(func(sh *Shard) { sh.Records[5].Size += 10 }),
			is:    io.ErrUnexpectedEOF,
			want:  "read record 106",
		},
		{
			name:  "record without a size",
			shard: with(func(sh *Shard) { sh.Records[2].Size = 0 }),
			want:  "record 103: no data",
		},
		{
			name:  "offset off by one",
			shard: with(func(sh *Shard) { sh.Records[3].Offset-- }),
			want:  "record 104: data is not valid JSON",
		},
		{
			// The check reads the 6 records; the 7th read is the second
			// batch's first record.
			name:        "source fails during the run",
			shard:       with(func(sh *Shard) { sh.Source = &failingReader{r: good.Source, after: 7 + 3} }),
			is:          errDisk,
			want:        "read record 104",
			invocations: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mapping()
			m.BatchSize = 3
			f := &fake{t: t}
			_, err := f.run(m, tt.shard)
			switch {
			case err == nil:
				t.Fatalf("Run: got no error, want one")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("Run: got %v, want %v", err, tt.is)
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("Run: got %q, want it to contain %q", err, tt.want)
			}
			if n := len(f.got()); (n > 0) != tt.invocations {
				t.Errorf("invocations: got %d, want some: %v", n, tt.invocations)
			}
		})
	}
}

// TestRecordData: both forms give the record's JSON; the source's is a
// copy the caller may keep and change.
func TestRecordData(t *testing.T) {
	mem := shard(t, "s", 101, 3, t0)
	src := toSource(t, mem)[0]
	for i := range mem.Records {
		want := mem.Records[i].Data
		for _, sh := range []Shard{mem, src} {
			got, err := sh.RecordData(sh.Records[i])
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("RecordData(record %d, source %v): got %s, %v, want %s", i, sh.Source != nil, got, err, want)
			}
		}
		got, _ := src.RecordData(src.Records[i])
		got[0] = 'X'
		again, _ := src.RecordData(src.Records[i])
		if !bytes.Equal(again, want) {
			t.Errorf("RecordData after changing a result: got %s, want %s", again, want)
		}
	}
}
