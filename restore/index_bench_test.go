package restore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// BenchmarkIndexBytesPerKey measures what restore's first pass keeps per
// selected key (docs/restore.md): the heap in use after a collection,
// with the index and the event ids seen alive, over the keys, for 200,000
// lines of distinct keys with stream-sized sequence numbers and event ids.
func BenchmarkIndexBytesPerKey(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	var data []byte
	at := time.Date(2025, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := range n {
		data = fmt.Appendf(data, `{"table":"Orders","region":"us-east-1","event_id":"%032x","sequence_number":"44215845%020d","deleted_at":%q,"keys":{"pk":"customer#%d","sk":"order#%d"},"item":{"pk":"customer#%d","sk":"order#%d","v":1}}`+"\n",
			i*7919, i, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "lines"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		sel := newSelector(archivefs.Filter{}, newItemDecoder(nil, nil), nil)
		idx, err := buildIndex(context.Background(), src, archivefs.Filter{}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		// The second pass keeps every event id too, for duplicates.
		sel.newest = idx
		for l, err := range src.Lines(context.Background()) {
			if err != nil {
				b.Fatal(err)
			}
			if it, _ := sel.lineItem(l); it == nil {
				b.Fatalf("line %d not selected", l.Number)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(idx.keys) != n {
			b.Fatalf("index has %d keys, want %d", len(idx.keys), n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/key")
		runtime.KeepAlive(idx)
		runtime.KeepAlive(sel)
	}
}

// benchArchive writes n archive lines of distinct keys (items of a few
// attributes, about 300 bytes a line) under a temporary folder.
func benchArchive(b *testing.B, n int) *archivefs.Source {
	b.Helper()
	dir := b.TempDir()
	var data []byte
	at := time.Date(2025, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := range n {
		data = fmt.Appendf(data, `{"table":"Orders","region":"us-east-1","event_id":"%032x","sequence_number":"44215845%020d","deleted_at":%q,"keys":{"pk":"customer#%d","sk":"order#%d"},"item":{"pk":"customer#%d","sk":"order#%d","status":"shipped","total":123.45,"lines":[{"sku":"A-1","qty":2}],"note":"signed by the recipient"}}`+"\n",
			i*7919, i, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "lines"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	return src
}

// BenchmarkRestoreDryRun is restore --dry-run over 100,000 lines: both
// passes (the index, then converting every item), printing to nowhere;
// the metric lines/s is the throughput issue 23's finding 16 asks for.
func BenchmarkRestoreDryRun(b *testing.B) {
	const n = 100_000
	src := benchArchive(b, n)
	for b.Loop() {
		rep, err := Run(context.Background(), Options{Source: src, Table: "T", DryRun: true})
		if err != nil || rep.Items != n {
			b.Fatalf("Run: %v, %d items; want %d", err, rep.Items, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkExportImport is export-import over the same 100,000 lines into
// a local folder of gzipped import files.
func BenchmarkExportImport(b *testing.B) {
	const n = 100_000
	src := benchArchive(b, n)
	for b.Loop() {
		rep, err := Export(context.Background(), ExportOptions{Source: src, NewTable: "T", To: archivefs.Location{Path: filepath.Join(b.TempDir(), "out")}})
		if err != nil || rep.Items != n {
			b.Fatalf("Export: %v, %d items; want %d", err, rep.Items, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}
