package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// archiverLines runs the archiver on payload and returns its lines.
func archiverLines(t *testing.T, payload []byte) []string {
	t.Helper()
	fh := &Firehose{Keep: true}
	a, err := archive.New(fh, archive.Config{StreamName: "s", BatchSize: 400, Concurrency: 4, Format: archive.FormatJSON})
	if err != nil {
		t.Fatalf("archive.New: %v", err)
	}
	if _, err := a.Invoke(context.Background(), payload); err != nil {
		t.Fatalf("Archiver.Invoke: %v", err)
	}
	return sortedLines(fh.Data())
}

func referenceLines(t *testing.T, payload []byte) []string {
	t.Helper()
	fh := &Firehose{Keep: true}
	h := &ReferenceHandler{Client: fh, Stream: "s"}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("ReferenceHandler.Invoke: %v", err)
	}
	var resp archive.BatchResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("ReferenceHandler.Invoke answered %s (%v), want no failures", out, err)
	}
	return sortedLines(fh.Data())
}

func sortedLines(data [][]byte) []string {
	var lines []string
	for _, d := range data {
		for _, l := range bytes.SplitAfter(d, []byte("\n")) {
			if len(l) > 0 {
				lines = append(lines, string(l))
			}
		}
	}
	sort.Strings(lines)
	return lines
}

// TestReferenceHandlerWritesTheArchiversLines holds the comparison fair:
// on the benchmark's batches and on the sample events that hold only
// convertible records, the reference handler writes byte for byte the
// lines the archiver writes.
func TestReferenceHandlerWritesTheArchiversLines(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{"bench batch", streamgen.Event(streamgen.New(streamgen.Options{Seed: 42, ItemBytes: BenchItemBytes}).Batch(300))},
		{"mixed kinds", streamgen.Event(streamgen.New(streamgen.Options{Seed: 7, TTLShare: 0.5, ItemBytes: 900, MaxItemBytes: 4000}).Batch(200))},
	}
	for _, f := range []string{"ttl-batch.json", "mixed-batch.json", "all-types.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", f))
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name    string
			payload []byte
		}{f, b})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := referenceLines(t, tt.payload), archiverLines(t, tt.payload)
			if len(want) == 0 {
				t.Fatal("the archiver wrote no lines: nothing compared")
			}
			if len(got) != len(want) {
				t.Fatalf("reference handler wrote %d lines, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("line %d:\ngot  %s\nwant %s", i, got[i], want[i])
				}
			}
		})
	}
}

func TestBilled(t *testing.T) {
	tests := []struct {
		n    int
		want int64
	}{
		{0, 0}, {1, 5120}, {1024, 5120}, {5120, 5120}, {5121, 10240}, {3 * 1024, 5120}, {12 * 1024, 15360}, {42 * 1024, 45 * 1024},
	}
	for _, tt := range tests {
		if got := Billed(tt.n); got != tt.want {
			t.Errorf("Billed(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
