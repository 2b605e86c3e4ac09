package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/verify"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// writeGz writes lines gzipped at dir/rel.
func writeGz(t *testing.T, dir, rel string, lines ...[]byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, l := range lines {
		_, _ = zw.Write(l)
	}
	_ = zw.Close()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(ds []verifytest.Deletion) [][]byte {
	var out [][]byte
	for _, d := range ds {
		out = append(out, verifytest.Line(d))
	}
	return out
}

func count(t *testing.T, dir string, q verify.Query) (verify.Counts, []verify.Problem) {
	t.Helper()
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, probs, err := (&verify.ArchiveCounter{Sources: []*archivefs.Source{src}, Workers: 3}).Count(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return c, probs
}

// A duplicate delivery (the same event_id twice, in two objects or one)
// is counted once.
func TestCountDuplicates(t *testing.T) {
	dir := t.TempDir()
	ds := dels("a", at(0, 5, 0, 0), 10)
	writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/one.gz", lines(ds)...)
	writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/two.gz", lines(ds[3:])...)
	writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/three.gz", verifytest.Line(ds[0]), verifytest.Line(ds[0]))
	c, probs := count(t, dir, verify.Query{Since: day0, Until: day0})
	got := c[verify.Key{Table: "Orders", Region: "us-east-1", Day: "2025-11-20"}]
	if got == nil || got.Total != 10 || got.Hours[5] != 10 || len(probs) != 0 {
		t.Errorf("Count with duplicate deliveries: %+v, problems %v; want 10 in hour 5, none", got, probs)
	}
}

// Partition folders of other tables and days are not read; lines are
// still filtered by their own table and deleted_at.
func TestCountSelects(t *testing.T) {
	dir := t.TempDir()
	writeGz(t, dir, "a/table=Orders/dt=2025-11-20/x.gz", lines(dels("a", at(0, 1, 0, 0), 3))...)
	writeGz(t, dir, "a/table=Orders/dt=2025-11-25/x.gz", []byte("not read: outside the days\n"))
	writeGz(t, dir, "a/table=Other/dt=2025-11-20/x.gz", []byte("not read: another table\n"))
	other := dels("b", at(0, 2, 0, 0), 2)
	for i := range other {
		other[i].Table = "Other"
	}
	writeGz(t, dir, "loose/x.gz", lines(slices2(other, dels("c", at(9, 2, 0, 0), 4)))...)
	c, probs := count(t, dir, verify.Query{Tables: []string{"Orders"}, Since: day0, Until: day0.AddDate(0, 0, 1)})
	if len(c) != 1 || c[verify.Key{Table: "Orders", Region: "us-east-1", Day: "2025-11-20"}].Total != 3 || len(probs) != 0 {
		t.Errorf("Count: %v, problems %v; want only Orders 2025-11-20: 3", c, probs)
	}
}

func slices2(a, b []verifytest.Deletion) []verifytest.Deletion {
	return append(append([]verifytest.Deletion{}, a...), b...)
}

// Lines that can't be read are problems, named, never left out in
// silence: a truncated gzip object, a line that is not JSON, lines without
// event_id or deleted_at.
func TestCountProblems(t *testing.T) {
	dir := t.TempDir()
	good := dels("a", at(0, 1, 0, 0), 200)
	p := writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/cut.gz", lines(good)...)
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/bad.gz",
		verifytest.Line(dels("b", at(0, 2, 0, 0), 1)[0]),
		[]byte(`{"table":"Orders","region":"us-east-1","event_id":"x","deleted_at":"2025-11-20T01:00:00Z","item":{`+"\n"),
		[]byte(`{"table":"Orders","region":"us-east-1","event_id":null,"deleted_at":"2025-11-20T01:00:00Z"}`+"\n"),
		[]byte(`{"table":"Orders","region":"us-east-1","event_id":"y","deleted_at":null,"error":"malformed"}`+"\n"),
		[]byte(`{"table":"Orders","region":"us-east-1","event_id":"z","deleted_at":"yesterday"}`+"\n"))
	_, probs := count(t, dir, verify.Query{Since: day0, Until: day0})
	var got []string
	for _, p := range probs {
		got = append(got, filepath.Base(p.Object)+":"+itoa(p.Line))
	}
	want := []string{"bad.gz:2", "bad.gz:3", "bad.gz:4", "bad.gz:5", "cut.gz:0"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Count: problems %v, want %v\n%+v", got, want, probs)
	}
}

// Mutation: one line dropped from the archive is noticed.
func TestRunNoticesOneLineDropped(t *testing.T) {
	ds := verifytest.Deletions(7, "Orders", []string{"us-east-1"}, day0, 3, 3000)
	rep := check(t, ds, ds, at(10, 0, 0, 0))
	if !rep.Complete {
		t.Fatalf("Run on the whole archive: not complete: %+v", rep.Rows)
	}
	i := len(ds) / 2
	dropped := append(append([]verifytest.Deletion{}, ds[:i]...), ds[i+1:]...)
	rep = check(t, ds, dropped, at(10, 0, 0, 0))
	if rep.Complete || rep.Totals.Missing != 1 {
		t.Errorf("Run with line %d dropped: complete %v, missing %d; want false, 1", i, rep.Complete, rep.Totals.Missing)
	}
}
