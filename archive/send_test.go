package archive_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// inFlightFirehose takes every record after a delay and tracks the calls
// and record bytes in flight at once.
type inFlightFirehose struct {
	delay time.Duration

	mu                  sync.Mutex
	calls, bytes        int
	maxCalls, maxBytes  int
	totalCalls, records int
}

func (f *inFlightFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	n := 0
	for _, r := range in.Records {
		n += len(r.Data)
	}
	f.mu.Lock()
	f.calls++
	f.bytes += n
	f.totalCalls++
	f.records += len(in.Records)
	f.maxCalls = max(f.maxCalls, f.calls)
	f.maxBytes = max(f.maxBytes, f.bytes)
	f.mu.Unlock()
	time.Sleep(f.delay)
	f.mu.Lock()
	f.calls--
	f.bytes -= n
	f.mu.Unlock()
	return accepted(len(in.Records)), nil
}

// TestDeliverBoundsBytesInFlight: calls of large records go out one at a
// time (at most MaxBytesInFlight of records in flight), while calls of
// small records still go out MAX_CONCURRENCY at a time.
func TestDeliverBoundsBytesInFlight(t *testing.T) {
	tests := []struct {
		name         string
		gen          streamgen.Options
		records      int
		concurrency  int
		wantMaxCalls int // exactly: the bound must not hold back small calls
		wantAtLeast  int // calls the batch needs
		wantMaxBytes int
	}{
		{"items of 300-390 KB", streamgen.Options{Seed: 3, ItemBytes: 300_000, MaxItemBytes: 390_000}, 40, 8, 1, 3, archive.MaxBytesInFlight},
		{"items of 600 B", streamgen.Options{Seed: 4}, 4000, 4, 4, 10, archive.MaxBytesInFlight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &inFlightFirehose{delay: 20 * time.Millisecond}
			a := newArchiver(t, f, func(c *archive.Config) { c.Concurrency = tt.concurrency })
			recs := streamgen.New(tt.gen).Batch(tt.records)
			res, err := a.Archive(context.Background(), streamgen.Event(recs))
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if res.Counts.Archived != tt.records || f.records != tt.records {
				t.Fatalf("Archive archived %d, Firehose took %d records, want %d", res.Counts.Archived, f.records, tt.records)
			}
			if f.totalCalls < tt.wantAtLeast {
				t.Fatalf("Archive made %d calls, want at least %d (the test needs them)", f.totalCalls, tt.wantAtLeast)
			}
			if f.maxBytes > tt.wantMaxBytes {
				t.Errorf("record bytes in flight at most %d, want at most %d", f.maxBytes, tt.wantMaxBytes)
			}
			if f.maxCalls != tt.wantMaxCalls {
				t.Errorf("calls in flight at most %d, want %d", f.maxCalls, tt.wantMaxCalls)
			}
		})
	}
}
