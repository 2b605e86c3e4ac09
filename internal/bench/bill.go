package bench

import (
	"context"
	"fmt"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// PipesChunk is EventBridge Pipes' billing unit: each 64 KB of an event is
// one request.
const PipesChunk = 64 << 10

// BillPoint is what Firehose bills for archiving a run of generated items,
// unpacked and packed, and what an EventBridge Pipes route (stream,
// filter, Firehose target: one Firehose record per stream record) would
// be billed for the same records.
type BillPoint struct {
	ItemBytes   int   // the generator's size of an item's DynamoDB JSON
	Items       int   // TTL deletions archived
	BatchSize   int   // stream records per invocation
	Invocations int   // batches
	LineBytes   int64 // archive lines: what reaches S3 before gzip
	StreamBytes int64 // the stream records as Lambda receives them
	Unpacked    Tally
	Packed      Tally
	PipesEvents int64 // Pipes requests: 64 KB chunks of the stream records
	PipesBilled int64 // Firehose billed bytes of one record per stream record
}

// LinePerItem is the mean archive line in bytes.
func (p BillPoint) LinePerItem() float64 { return float64(p.LineBytes) / float64(p.Items) }

// PerMillion scales bytes for p.Items items to a million items.
func (p BillPoint) PerMillion(b int64) float64 { return float64(b) * 1e6 / float64(p.Items) }

// MeasureBill archives items TTL deletions of about itemBytes (up to
// maxItemBytes when larger) in batches of batch records, through two
// archivers (PACK_RECORDS false and true) sending to counting fakes.
func MeasureBill(itemBytes, maxItemBytes, items, batch int, seed uint64) (BillPoint, error) {
	p := BillPoint{ItemBytes: itemBytes, BatchSize: batch}
	unpacked, packed := &Firehose{}, &Firehose{}
	newArchiver := func(fh *Firehose, pack bool) (*archive.Archiver, error) {
		return archive.New(fh, archive.Config{StreamName: "bench", BatchSize: archive.DefaultBatchSize, Concurrency: archive.DefaultConcurrency, Format: archive.FormatJSON, Pack: pack})
	}
	au, err := newArchiver(unpacked, false)
	if err != nil {
		return p, err
	}
	ap, err := newArchiver(packed, true)
	if err != nil {
		return p, err
	}
	g := streamgen.New(streamgen.Options{Seed: seed, ItemBytes: itemBytes, MaxItemBytes: maxItemBytes})
	ctx := context.Background()
	for p.Items < items {
		recs := g.Batch(min(batch, items-p.Items))
		for _, r := range recs {
			p.StreamBytes += int64(len(r.JSON))
			p.PipesEvents += int64((len(r.JSON) + PipesChunk - 1) / PipesChunk)
			p.PipesBilled += Billed(len(r.JSON))
		}
		payload := streamgen.Event(recs)
		for _, a := range []*archive.Archiver{au, ap} {
			res, err := a.Archive(ctx, payload)
			if err != nil {
				return p, err
			}
			if res.Counts.Archived != len(recs) || res.Counts.RawArchived != 0 {
				return p, fmt.Errorf("archived %d of %d records (%d raw)", res.Counts.Archived, len(recs), res.Counts.RawArchived)
			}
		}
		p.Items += len(recs)
		p.Invocations++
	}
	p.Unpacked, p.Packed = unpacked.Tally(), packed.Tally()
	p.LineBytes = p.Unpacked.Bytes
	if p.Packed.Bytes != p.LineBytes {
		return p, fmt.Errorf("packed records hold %d bytes, unpacked %d: packing must only concatenate lines", p.Packed.Bytes, p.LineBytes)
	}
	return p, nil
}
