package archive_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// BenchRecords and BenchItemBytes make the batch of issue 5's targets:
// 9,000 TTL deletions of mixed attribute types, about 5.6 MB.
const (
	BenchRecords   = 9000
	BenchItemBytes = 90
)

func benchEvent(tb testing.TB, n int) []byte {
	tb.Helper()
	return streamgen.Event(streamgen.New(streamgen.Options{Seed: 42, ItemBytes: BenchItemBytes}).Batch(n))
}

// nopFirehose takes every record and does nothing with it.
type nopFirehose struct{}

func (nopFirehose) PutRecordBatch(context.Context, *firehose.PutRecordBatchInput, ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}, nil
}

func reportPerRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
}

// BenchmarkBaselineUnmarshal is the floor issue 5 measures against:
// reading the batch once with encoding/json, converting nothing.
func BenchmarkBaselineUnmarshal(b *testing.B) {
	ev := benchEvent(b, BenchRecords)
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	for b.Loop() {
		var v struct{ Records []json.RawMessage }
		if err := json.Unmarshal(ev, &v); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecord(b, BenchRecords)
}

// BenchmarkArchive is the handler's work on the batch with a Firehose that
// does nothing.
func BenchmarkArchive(b *testing.B) {
	ev := benchEvent(b, BenchRecords)
	for _, f := range []archive.Format{archive.FormatJSON, archive.FormatDynamoDBJSON} {
		b.Run(f.String(), func(b *testing.B) {
			a, err := archive.New(nopFirehose{}, archive.Config{StreamName: "s", BatchSize: 400, Format: f, Concurrency: 4})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(ev)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := a.Archive(context.Background(), ev)
				if err != nil || res.Counts.Archived != BenchRecords {
					b.Fatalf("Archive: %v, archived %d", err, res.Counts.Archived)
				}
			}
			reportPerRecord(b, BenchRecords)
		})
	}
}
