package archive_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden archives every sample event in events/ in both formats and
// compares the lines with testdata/golden/<event>.<format>.jsonl.
func TestGolden(t *testing.T) {
	events, err := filepath.Glob("../events/*.json")
	// env.json is sam local invoke's --env-vars file, not a stream event.
	events = slices.DeleteFunc(events, func(p string) bool { return filepath.Base(p) == "env.json" })
	if err != nil || len(events) == 0 {
		t.Fatalf("no sample events in ../events: %v", err)
	}
	for _, ev := range events {
		for _, format := range []archive.Format{archive.FormatJSON, archive.FormatDynamoDBJSON} {
			name := strings.TrimSuffix(filepath.Base(ev), ".json") + "." + format.String() + ".jsonl"
			t.Run(name, func(t *testing.T) {
				payload, err := os.ReadFile(ev)
				if err != nil {
					t.Fatal(err)
				}
				f := &fakeFirehose{}
				a := newArchiver(t, f, func(c *archive.Config) { c.Format = format; c.Concurrency = 1 })
				if _, err := a.Archive(context.Background(), payload); err != nil {
					t.Fatalf("Archive(%s): %v", ev, err)
				}
				got := bytes.Join(f.delivered, nil)
				path := filepath.Join("testdata", "golden", name)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./archive -run TestGolden -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("lines for %s differ from %s:\ngot:\n%s\nwant:\n%s", ev, path, got, want)
				}
			})
		}
	}
}
