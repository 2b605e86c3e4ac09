package archive_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	kgzip "github.com/klauspost/compress/gzip"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
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

func (nopFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return accepted(len(in.Records)), nil
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
	for _, tt := range []struct {
		name string
		f    archive.Format
		pack bool
	}{
		{archive.FormatJSON.String(), archive.FormatJSON, false},
		{archive.FormatDynamoDBJSON.String(), archive.FormatDynamoDBJSON, false},
		{archive.FormatJSON.String() + "-packed", archive.FormatJSON, true},
	} {
		f := tt.f
		b.Run(tt.name, func(b *testing.B) {
			a, err := archive.New(nopFirehose{}, archive.Config{StreamName: "s", BatchSize: 400, Format: f, Concurrency: 4, Pack: tt.pack})
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

// BenchmarkArchiveSDK is the handler's work on the batch through the real
// SDK client (built as function/main.go builds it: SigV4, the JSON
// protocol, HTTP) to the Firehose stand-in on loopback, which discards
// what it takes. The stand-in runs in this process, so a CPU profile
// (-cpuprofile) shows both sides; internal/bench measures the client side
// alone (BENCHMARKS.md, section 2).
func BenchmarkArchiveSDK(b *testing.B) {
	ev := benchEvent(b, BenchRecords)
	stack, err := local.Start(local.Options{Sink: firehoselocal.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stack.Close() }()
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(local.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		b.Fatal(err)
	}
	client := firehose.NewFromConfig(awsCfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(stack.Firehose.URL()) })
	a, err := archive.New(client, archive.Config{StreamName: local.Stream, BatchSize: 400, Format: archive.FormatJSON, Concurrency: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	for b.Loop() {
		ictx, cancel := context.WithTimeout(ctx, time.Minute)
		res, err := a.Archive(ictx, ev)
		cancel()
		if err != nil || res.Counts.Archived != BenchRecords {
			b.Fatalf("Archive: %v, archived %d", err, res.Counts.Archived)
		}
	}
	reportPerRecord(b, BenchRecords)
}

// oversizeItems are item JSON of the kind that needs item_gzip (over
// 1,000 KiB): many small attributes, and prose.
func oversizeItems() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over lazy dog order shipped pending customer address street city total price qty sku")
	var js strings.Builder
	js.WriteString("{")
	for i := 0; js.Len() < 2_000_000; i++ {
		fmt.Fprintf(&js, `"attr%d":{"sku":"%s-%d","qty":%d,"price":%d.%02d,"note":"%s %s"},`, i, words[r.IntN(len(words))], r.IntN(1000), r.IntN(9), r.IntN(500), r.IntN(100), words[r.IntN(len(words))], words[r.IntN(len(words))])
	}
	js.WriteString(`"z":0}`)
	var text strings.Builder
	text.WriteString(`{"s":"`)
	for text.Len() < 2_400_000 {
		text.WriteString(words[r.IntN(len(words))])
		text.WriteByte(' ')
	}
	text.WriteString(`"}`)
	return map[string][]byte{"attributes": []byte(js.String()), "prose": []byte(text.String())}
}

// BenchmarkGzipItem compares item_gzip's compression (klauspost/compress
// at itemGzipLevel) with the standard library at BestCompression, which
// it replaced (issue 23, finding 13): time per item, and the gzipped size
// as the metric gz-bytes.
func BenchmarkGzipItem(b *testing.B) {
	items := oversizeItems()
	for _, name := range []string{"attributes", "prose"} {
		item := items[name]
		for _, c := range []struct {
			name string
			new  func(io.Writer) io.WriteCloser
		}{
			{"stdlib-best", func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, gzip.BestCompression); return z }},
			{"klauspost-8", func(w io.Writer) io.WriteCloser { z, _ := kgzip.NewWriterLevel(w, 8); return z }},
		} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(item)))
				var size int
				for b.Loop() {
					var buf bytes.Buffer
					z := c.new(&buf)
					_, _ = z.Write(item)
					_ = z.Close()
					size = buf.Len()
				}
				b.ReportMetric(float64(size), "gz-bytes")
			})
		}
	}
}
