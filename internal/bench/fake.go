package bench

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// BillingUnit is Firehose's ingestion increment: each record is billed
// rounded up to the next 5 KB, and the pricing page counts 5 KB as 5,120
// bytes.
const BillingUnit = 5120

// Billed returns what Firehose bills for one record of n bytes.
func Billed(n int) int64 {
	return int64((n + BillingUnit - 1) / BillingUnit * BillingUnit)
}

// Firehose is a Firehose fake that takes every record, does nothing with
// it, and counts calls, records, bytes and billed bytes. With Keep set it
// also keeps a copy of every record. It is safe for concurrent use.
type Firehose struct {
	Keep bool

	mu    sync.Mutex
	tally Tally
	data  [][]byte
}

// Tally is what a Firehose fake received.
type Tally struct {
	Calls, Records int
	Bytes, Billed  int64
}

var _ archive.FirehoseAPI = (*Firehose)(nil)

// PutRecordBatch takes the records.
func (f *Firehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	var bytes, billed int64
	for _, r := range in.Records {
		bytes += int64(len(r.Data))
		billed += Billed(len(r.Data))
	}
	f.mu.Lock()
	f.tally.Calls++
	f.tally.Records += len(in.Records)
	f.tally.Bytes += bytes
	f.tally.Billed += billed
	if f.Keep {
		for _, r := range in.Records {
			f.data = append(f.data, append([]byte(nil), r.Data...))
		}
	}
	f.mu.Unlock()
	// An entry with a RecordId for every record: the archiver counts no
	// record delivered without one.
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = &recordID
	}
	return out, nil
}

var recordID = "bench"

// Tally returns the counts so far.
func (f *Firehose) Tally() Tally {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tally
}

// Data returns the records kept so far (Keep).
func (f *Firehose) Data() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data
}

// The batch of issue 5's first target: 9,000 TTL deletions of mixed
// attribute types, about 5.6 MB (archive/bench_test.go uses the same).
const (
	BenchRecords   = 9000
	BenchItemBytes = 90
	BenchSeed      = 42
)
