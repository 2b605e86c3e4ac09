package archivefs_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// Reading the archive lines of one table and key prefix from a local copy
// of the archive (aws s3 sync s3://bucket/archive/ ./archive/).
func Example() {
	dir, _ := os.MkdirTemp("", "archive")
	defer func() { _ = os.RemoveAll(dir) }()
	p := filepath.Join(dir, "table=Orders", "dt=2025-11-23", "part-1.gz")
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	f, _ := os.Create(p)
	zw := gzip.NewWriter(f)
	fmt.Fprintln(zw, `{"table":"Orders","event_id":"e1","deleted_at":"2025-11-23T10:00:00Z","keys":{"pk":"user#1"},"item":{"pk":"user#1","n":1}}`)
	fmt.Fprintln(zw, `{"table":"Orders","event_id":"e2","deleted_at":"2025-11-23T11:00:00Z","keys":{"pk":"admin#2"},"item":{"pk":"admin#2","n":2}}`)
	_ = zw.Close()
	_ = f.Close()

	loc, _ := archivefs.ParseLocation(dir)
	src, _ := archivefs.NewSource(loc, nil) // an S3 location needs an S3 client
	filter := archivefs.Filter{Table: "Orders", Keys: []archivefs.KeyCondition{{Name: "pk", Value: "user#", Prefix: true}}}
	for l, err := range src.Lines(context.Background()) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		al, err := archive.ParseLine(l.Data)
		if err != nil || !filter.Match(al) {
			continue
		}
		item, _ := al.ItemJSON()
		fmt.Printf("%s line %d: %s\n", filepath.Base(l.Object), l.Number, item)
	}
	// Output:
	// part-1.gz line 1: {"pk":"user#1","n":1}
}
