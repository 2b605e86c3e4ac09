package backfill_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/backfill"
	bt "github.com/ttl-archiver/ttl-archiver/backfill/backfilltest"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

var (
	day1 = time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC)
	// The gap: no stream line of these six hours was archived.
	gapFrom, gapTo = day1.Add(6 * time.Hour), day1.Add(12 * time.Hour)
)

func order(pk string, sk int64, expires time.Time, status string) bt.Item {
	return bt.Item{"pk": bt.S(pk), "sk": bt.NInt(sk), "expires_at": bt.NInt(expires.Unix()), "status": bt.S(status), "tags": bt.SS("a", "b")}
}

func keysOf(pk string, sk int64) bt.Item { return bt.Item{"pk": bt.S(pk), "sk": bt.NInt(sk)} }

// scenario is the table's history around the gap, with what backfill
// must recover. Times are offsets from gapFrom.
type scenario struct {
	h bt.History
	// want: pk of each item to recover, with the image it must have.
	want map[string]bt.Item
	// archived are the TTL deletions the stream archived (their lines are
	// in the archive already).
	archived []bt.Write
}

func newScenario() *scenario {
	s := &scenario{h: bt.History{KeyNames: []string{"pk", "sk"}}, want: map[string]bt.Item{}}
	at := func(d time.Duration) time.Time { return gapFrom.Add(d) }
	before := day1.Add(-48 * time.Hour)
	// ttl: expired at 07:00, deleted by TTL at 07:20:00.250.
	ttl := order("ttl", 1, at(time.Hour), "shipped")
	s.h.Put(before, ttl)
	s.h.Delete(at(80*time.Minute+250*time.Millisecond), keysOf("ttl", 1), true)
	s.want["ttl"] = ttl
	// updated: updated inside the window, then TTL deleted: the export
	// has its image from before the window (compaction).
	old := order("updated", 2, at(2*time.Hour), "pending")
	s.h.Put(before, old)
	s.h.Put(at(30*time.Minute), order("updated", 2, at(2*time.Hour), "paid"))
	s.h.Delete(at(2*time.Hour+5*time.Minute), keysOf("updated", 2), true)
	s.want["updated"] = old
	// expired before the window began, deleted by TTL inside it.
	stale := order("stale", 3, day1.Add(-time.Hour), "shipped")
	s.h.Put(before, stale)
	s.h.Delete(at(10*time.Minute), keysOf("stale", 3), true)
	s.want["stale"] = stale
	// a user deletes a live item: not TTL.
	s.h.Put(before, order("user", 4, day1.Add(30*24*time.Hour), "open"))
	s.h.Delete(at(3*time.Hour), keysOf("user", 4), false)
	// a user deletes an item already expired: indistinguishable from TTL.
	userExpired := order("user-expired", 5, day1, "open")
	s.h.Put(before, userExpired)
	s.h.Delete(at(4*time.Hour), keysOf("user-expired", 5), false)
	s.want["user-expired"] = userExpired
	// an insert and an update inside the window: not deletions.
	s.h.Put(at(time.Hour), order("insert", 6, day1.Add(30*24*time.Hour), "new"))
	s.h.Put(before, order("update", 7, day1.Add(30*24*time.Hour), "old"))
	s.h.Put(at(time.Hour), order("update", 7, day1.Add(30*24*time.Hour), "new"))
	// created and TTL deleted inside the window: in no export.
	s.h.Put(at(time.Hour), order("brief", 8, at(90*time.Minute), "x"))
	s.h.Delete(at(100*time.Minute), keysOf("brief", 8), true)
	// TTL deleted in the window, but its line reached the archive.
	s.h.Put(before, order("archived", 9, at(time.Hour), "x"))
	s.h.Delete(at(5*time.Hour+500*time.Millisecond), keysOf("archived", 9), true)
	s.archived = append(s.archived, bt.Write{At: at(5*time.Hour + 500*time.Millisecond).Truncate(time.Second), Keys: keysOf("archived", 9)})
	// TTL deleted in the window; the same key deleted once before, two
	// hours earlier (written again since), is archived: another deletion.
	again := order("again", 10, at(time.Hour), "second life")
	s.h.Put(before, order("again", 10, day1, "first life"))
	s.h.Delete(at(-2*time.Hour), keysOf("again", 10), true)
	s.archived = append(s.archived, bt.Write{At: at(-2 * time.Hour), Keys: keysOf("again", 10)})
	s.h.Put(at(-time.Hour), again)
	s.h.Delete(at(time.Hour+time.Minute), keysOf("again", 10), true)
	s.want["again"] = again
	return s
}

// exports returns the incremental exports of the gap, three hours each.
func (s *scenario) exports(region string) []bt.Export {
	var out []bt.Export
	for from := gapFrom; from.Before(gapTo); from = from.Add(3 * time.Hour) {
		to := from.Add(3 * time.Hour)
		out = append(out, bt.Export{Table: "Orders", Region: region, From: from, To: to, Bucket: "exports", Prefix: "ddb/", Changes: s.h.Changes(from, to), PerFile: 2})
	}
	return out
}

// plainValue turns a typed value into the json format's value.
func plainValue(v any) any {
	m := v.(map[string]any)
	for t, x := range m {
		switch t {
		case "S":
			return x
		case "N":
			return json.Number(x.(string))
		case "SS":
			return x
		}
	}
	panic(fmt.Sprint(v))
}

func plain(it bt.Item) map[string]any {
	out := map[string]any{}
	for k, v := range it {
		out[k] = plainValue(v)
	}
	return out
}

// streamLine is an archive line as the function writes it for a stream
// record, in json or dynamodb-json format.
func streamLine(region string, w bt.Write, typed bool) []byte {
	l := map[string]any{"table": "Orders", "region": region, "event_id": fmt.Sprintf("%032x", w.At.UnixNano()),
		"sequence_number": "4421584500000000017450439092", "deleted_at": w.At.UTC().Format(time.RFC3339Nano)}
	if typed {
		l["format"] = "dynamodb-json"
		l["keys"], l["item"] = w.Keys, w.Keys
	} else {
		l["keys"], l["item"] = plain(w.Keys), plain(w.Keys)
	}
	b, _ := json.Marshal(l)
	return append(b, '\n')
}

func writeGz(t *testing.T, path string, data []byte) {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(data)
	_ = zw.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeArchive writes the lines as Firehose would, under
// dir/table=Orders/dt=DAY/.
func writeArchive(t *testing.T, dir, region string, ws []bt.Write, typed bool) {
	t.Helper()
	byDay := map[string][]byte{}
	for _, w := range ws {
		d := w.At.UTC().Format(time.DateOnly)
		byDay[d] = append(byDay[d], streamLine(region, w, typed)...)
	}
	for d, data := range byDay {
		writeGz(t, filepath.Join(dir, "table=Orders", "dt="+d, "ttl-archiver-1-2025-11-21-00-00-00-"+region+".gz"), data)
	}
}

// localExports writes the exports under dir (the bucket's root) and
// returns their folders.
func localExports(t *testing.T, dir string, es []bt.Export) []archivefs.Location {
	t.Helper()
	var locs []archivefs.Location
	for _, e := range es {
		if err := bt.WriteDir(dir, e.Objects()); err != nil {
			t.Fatal(err)
		}
		locs = append(locs, archivefs.Location{Path: filepath.Join(dir, filepath.FromSlash(e.Folder()))})
	}
	return locs
}

// readArchive returns every line under dir of the objects backfill wrote.
func readRecovered(t *testing.T, dir string) []archive.Line {
	t.Helper()
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []archive.Line
	for obj, err := range src.Objects(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(filepath.Base(obj.Key), "ttl-archiver-backfill-") {
			continue
		}
		for l, err := range src.ObjectLines(context.Background(), obj, 0) {
			if err != nil {
				t.Fatal(err)
			}
			al, err := archive.ParseLine(l.Data)
			if err != nil {
				t.Fatalf("%s line %d: %v", l.Object, l.Number, err)
			}
			out = append(out, al)
		}
	}
	return out
}

func TestBackfill(t *testing.T) {
	for _, typed := range []bool{false, true} {
		format := map[bool]string{false: "json", true: "dynamodb-json"}[typed]
		t.Run(format, func(t *testing.T) {
			s := newScenario()
			dir := t.TempDir()
			archiveDir := filepath.Join(dir, "archive")
			writeArchive(t, archiveDir, "us-east-1", s.archived, typed)
			es := s.exports("us-east-1")
			opts := backfill.Options{Exports: localExports(t, filepath.Join(dir, "exports"), es), Archive: archivefs.Location{Path: archiveDir},
				Table: "Orders", TTLAttribute: "expires_at", LinesPerObject: 2}
			rep, err := backfill.Run(context.Background(), opts)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var lines int64
			for _, e := range es {
				lines += int64(len(e.Changes))
			}
			// Deletions: ttl, updated, stale, user, user-expired, archived, again.
			want := backfill.Report{ExportLines: lines, Deletions: 7, TTLDeletions: 6, Selected: 6, AlreadyArchived: 1, Recovered: 5, CompactedOldImages: 3}
			if rep.ExportLines != want.ExportLines || rep.Deletions != want.Deletions || rep.TTLDeletions != want.TTLDeletions || rep.Selected != want.Selected ||
				rep.AlreadyArchived != want.AlreadyArchived || rep.Recovered != want.Recovered || rep.CompactedOldImages != want.CompactedOldImages || rep.Format != format {
				t.Errorf("Run: %+v\nwant counts %+v, format %s", rep, want, format)
			}
			got := readRecovered(t, archiveDir)
			if len(got) != len(s.want) {
				t.Fatalf("recovered %d lines, want %d", len(got), len(s.want))
			}
			wantObjects := 0
			for _, o := range rep.Objects {
				wantObjects += o.Lines
				if !strings.Contains(o.Object, filepath.Join("table=Orders", "dt=2025-11-21", "ttl-archiver-backfill-")) {
					t.Errorf("object %s: want it under table=Orders/dt=2025-11-21/", o.Object)
				}
			}
			if wantObjects != len(got) {
				t.Errorf("Report.Objects hold %d lines, %d read", wantObjects, len(got))
			}
			exportOf := map[string]bt.Export{}
			for _, e := range es {
				for _, c := range e.Changes {
					exportOf[c.Keys["pk"].(map[string]any)["S"].(string)] = e
				}
			}
			for _, l := range got {
				var keys map[string]any
				_ = json.Unmarshal(l.Keys, &keys)
				pk, _ := keys["pk"].(string)
				if typed {
					pk = keys["pk"].(map[string]any)["S"].(string)
				}
				img, ok := s.want[pk]
				if !ok {
					t.Errorf("recovered %s, which is not to be", l.Keys)
					continue
				}
				typedImg, _ := json.Marshal(img)
				wantItem, _ := archive.ConvertImage(nil, typedImg, map[bool]archive.Format{false: archive.FormatJSON, true: archive.FormatDynamoDBJSON}[typed])
				if string(l.Item) != string(wantItem) {
					t.Errorf("%s: item %s, want its image from before the window %s", pk, l.Item, wantItem)
				}
				e := exportOf[pk]
				var wantAt time.Time
				for _, c := range e.Changes {
					if c.Keys["pk"].(map[string]any)["S"] == pk {
						wantAt = c.At
					}
				}
				if l.DeletedAt == nil || !l.DeletedAt.Equal(wantAt) || l.Region != "us-east-1" || l.Table != "Orders" || l.SequenceNumber != "0" ||
					l.RecoveredFrom != e.ARN() || l.TTL != "inferred" || l.Delete != "" || len(l.EventID) != 32 {
					t.Errorf("%s: line %+v; want deleted_at %v, region us-east-1, recovered_from %s, ttl inferred", pk, l, wantAt, e.ARN())
				}
			}

			// A second run writes nothing.
			rep2, err := backfill.Run(context.Background(), opts)
			if err != nil || rep2.Recovered != 0 || len(rep2.Objects) != 0 || rep2.AlreadyArchived != want.Selected {
				t.Errorf("second Run: recovered %d, objects %v, already archived %d, %v; want 0, none, %d", rep2.Recovered, rep2.Objects, rep2.AlreadyArchived, err, want.Selected)
			}
			if n := len(readRecovered(t, archiveDir)); n != len(s.want) {
				t.Errorf("after the second run: %d recovered lines, want %d", n, len(s.want))
			}
		})
	}
}

func TestBackfillAllDeletesAndDryRun(t *testing.T) {
	s := newScenario()
	dir := t.TempDir()
	archiveDir := filepath.Join(dir, "archive")
	writeArchive(t, archiveDir, "us-east-1", s.archived, false)
	var out bytes.Buffer
	opts := backfill.Options{Exports: localExports(t, filepath.Join(dir, "exports"), s.exports("us-east-1")), Archive: archivefs.Location{Path: archiveDir},
		Table: "Orders", TTLAttribute: "expires_at", AllDeletes: true, DryRun: true, Out: &out}
	rep, err := backfill.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Selected != 7 || rep.Recovered != 6 || len(rep.Objects) != 0 {
		t.Errorf("Run --all-deletes --dry-run: selected %d, recovered %d, objects %v; want 7, 6, none", rep.Selected, rep.Recovered, rep.Objects)
	}
	if got := readRecovered(t, archiveDir); len(got) != 0 {
		t.Errorf("a dry run wrote %d lines", len(got))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var users int
	for _, l := range lines {
		al, err := archive.ParseLine([]byte(l))
		if err != nil || al.Delete != "any" || al.TTL != "" {
			t.Errorf("dry-run line %s: %v; want an archive line with delete any", l, err)
		}
		if strings.Contains(l, `"pk":"user"`) {
			users++
		}
	}
	if len(lines) != 6 || users != 1 {
		t.Errorf("dry run printed %d lines (%d of the user's delete), want 6 and 1:\n%s", len(lines), users, out.String())
	}
}

func TestBackfillTolerance(t *testing.T) {
	tests := []struct {
		name      string
		offset    time.Duration // archived deleted_at minus the write time
		recovered int64
	}{
		{"same second", 0, 0},
		{"14 minutes before", -14 * time.Minute, 0},
		{"14 minutes after", 14 * time.Minute, 0},
		{"16 minutes before", -16 * time.Minute, 1},
		{"16 minutes after", 16 * time.Minute, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			h := bt.History{KeyNames: []string{"pk", "sk"}}
			at := gapFrom.Add(time.Hour + 300*time.Millisecond)
			h.Put(day1.Add(-time.Hour), order("k", 100, gapFrom, "x"))
			h.Delete(at, keysOf("k", 100), true)
			// The archive writes the number key as 1E+2: the same key.
			w := bt.Write{At: at.Add(tt.offset).Truncate(time.Second), Keys: bt.Item{"pk": bt.S("k"), "sk": bt.N("1E+2")}}
			writeArchive(t, filepath.Join(dir, "archive"), "us-east-1", []bt.Write{w}, false)
			e := bt.Export{Table: "Orders", Region: "us-east-1", From: gapFrom, To: gapTo, Changes: h.Changes(gapFrom, gapTo)}
			rep, err := backfill.Run(context.Background(), backfill.Options{Exports: localExports(t, filepath.Join(dir, "exports"), []bt.Export{e}),
				Archive: archivefs.Location{Path: filepath.Join(dir, "archive")}, Table: "Orders", TTLAttribute: "expires_at"})
			if err != nil || rep.Recovered != tt.recovered || rep.AlreadyArchived != 1-tt.recovered {
				t.Errorf("Run: recovered %d, already archived %d, %v; want %d, %d", rep.Recovered, rep.AlreadyArchived, err, tt.recovered, 1-tt.recovered)
			}
		})
	}
}

// A global table's export in one region holds the deletions every region
// ran; each region's archive has those its stack archived.
func TestBackfillGlobalTable(t *testing.T) {
	dir := t.TempDir()
	h := bt.History{KeyNames: []string{"pk", "sk"}}
	var east, west []bt.Write
	for i := range 30 {
		k := keysOf(fmt.Sprintf("item-%02d", i), int64(i))
		h.Put(day1.Add(-time.Hour), order(fmt.Sprintf("item-%02d", i), int64(i), gapFrom, "x"))
		at := gapFrom.Add(time.Duration(i)*time.Minute + 123*time.Microsecond)
		h.Delete(at, k, true)
		switch i % 3 {
		case 0:
			east = append(east, bt.Write{At: at.Truncate(time.Second), Keys: k})
		case 1:
			west = append(west, bt.Write{At: at.Truncate(time.Second), Keys: k})
		}
	}
	writeArchive(t, filepath.Join(dir, "east"), "us-east-1", east, false)
	writeArchive(t, filepath.Join(dir, "west"), "eu-west-1", west, true)
	e := bt.Export{Table: "Orders", Region: "eu-west-1", From: gapFrom, To: gapTo, Changes: h.Changes(gapFrom, gapTo), PerFile: 7}
	rep, err := backfill.Run(context.Background(), backfill.Options{Exports: localExports(t, filepath.Join(dir, "exports"), []bt.Export{e}),
		Archive: archivefs.Location{Path: filepath.Join(dir, "west")}, OtherArchives: []archivefs.Location{{Path: filepath.Join(dir, "east")}},
		Table: "Orders", TTLAttribute: "expires_at"})
	if err != nil || rep.Recovered != 10 || rep.AlreadyArchived != 20 || rep.ArchiveLines != 20 {
		t.Fatalf("Run: recovered %d, already archived %d of %d archive lines, %v; want 10, 20 of 20", rep.Recovered, rep.AlreadyArchived, rep.ArchiveLines, err)
	}
	got := readRecovered(t, filepath.Join(dir, "west"))
	for _, l := range got {
		if !strings.Contains(string(l.Keys), `"sk":{"N":"`) || l.Region != "eu-west-1" || l.Format != "dynamodb-json" {
			t.Errorf("recovered %+v: want the west archive's format and region", l)
		}
		var k struct{ Sk struct{ N string } }
		_ = json.Unmarshal(l.Keys, &k)
		if n := k.Sk.N; n == "" || (int(n[len(n)-1]-'0')%3 != 2 && len(n) == 1) {
			t.Errorf("recovered %s, archived in one of the regions", l.Keys)
		}
	}
	if len(got) != 10 {
		t.Errorf("%d lines in the west archive's recovered objects, want 10", len(got))
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "east", "*", "*", "ttl-archiver-backfill-*")); len(files) != 0 {
		t.Errorf("backfill wrote into the other archive: %v", files)
	}
}

func TestBackfillRefusals(t *testing.T) {
	s := newScenario()
	base := s.exports("us-east-1")[0]
	tests := []struct {
		name   string
		change func(e *bt.Export)
		edit   func(t *testing.T, dir string, e bt.Export)
		is     error
		says   string
	}{
		{name: "full export", change: func(e *bt.Export) { e.Type = bt.Full; e.Items = []bt.Item{order("a", 1, day1, "x")} }, is: backfill.ErrRefused, says: "full export"},
		{name: "NEW_IMAGE", change: func(e *bt.Export) { e.View = bt.NewImageView }, is: backfill.ErrRefused, says: "NEW_IMAGE"},
		{name: "another table", change: func(e *bt.Export) { e.Table = "Customers" }, is: backfill.ErrRefused, says: "table Customers"},
		{name: "missing data file", edit: func(t *testing.T, dir string, e bt.Export) {
			objs := e.Objects()
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(objs[0].Key))); err != nil {
				t.Fatal(err)
			}
		}, is: backfill.ErrIncomplete, says: "missing"},
		{name: "file count disagrees", edit: func(t *testing.T, dir string, e bt.Export) {
			p := filepath.Join(dir, filepath.FromSlash(e.Folder()), "manifest-files.json")
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, bytes.Replace(b, []byte(`"itemCount":2`), []byte(`"itemCount":3`), 1), 0o644)
		}, is: backfill.ErrIncomplete, says: "manifest-files.json says 3 items, but 2 lines were read"},
		{name: "summary count disagrees", edit: func(t *testing.T, dir string, e bt.Export) {
			p := filepath.Join(dir, filepath.FromSlash(e.Folder()), "manifest-summary.json")
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, bytes.Replace(b, []byte(fmt.Sprintf(`"itemCount":%d`, len(e.Changes))), []byte(`"itemCount":1000`), 1), 0o644)
		}, is: backfill.ErrIncomplete, says: "itemCount is 1000"},
		{name: "truncated data file", edit: func(t *testing.T, dir string, e bt.Export) {
			p := filepath.Join(dir, filepath.FromSlash(e.Objects()[1].Key))
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, b[:len(b)-10], 0o644)
		}, is: backfill.ErrIncomplete, says: "could not be read to its end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := base
			if tt.change != nil {
				tt.change(&e)
			}
			locs := localExports(t, filepath.Join(dir, "exports"), []bt.Export{e})
			if tt.edit != nil {
				tt.edit(t, filepath.Join(dir, "exports"), e)
			}
			rep, err := backfill.Run(context.Background(), backfill.Options{Exports: locs, Archive: archivefs.Location{Path: filepath.Join(dir, "archive")}, Table: "Orders", TTLAttribute: "expires_at"})
			msg := fmt.Sprint(err)
			if rep != nil {
				var b bytes.Buffer
				_ = rep.WriteText(&b)
				msg += "\n" + b.String()
			}
			if !errors.Is(err, tt.is) || !strings.Contains(msg, tt.says) {
				t.Errorf("Run: %v; want %v saying %q\n%s", err, tt.is, tt.says, msg)
			}
		})
	}
}

// An archive that cannot be read whole leaves what is archived unknown:
// nothing is written.
func TestBackfillUnreadableArchive(t *testing.T) {
	s := newScenario()
	dir := t.TempDir()
	archiveDir := filepath.Join(dir, "archive")
	writeArchive(t, archiveDir, "us-east-1", s.archived, false)
	p := filepath.Join(archiveDir, "table=Orders", "dt=2025-11-21", "cut.gz")
	writeGz(t, p, bytes.Repeat(streamLine("us-east-1", s.archived[0], false), 100))
	b, _ := os.ReadFile(p)
	_ = os.WriteFile(p, b[:len(b)-8], 0o644)
	rep, err := backfill.Run(context.Background(), backfill.Options{Exports: localExports(t, filepath.Join(dir, "exports"), s.exports("us-east-1")),
		Archive: archivefs.Location{Path: archiveDir}, Table: "Orders", TTLAttribute: "expires_at"})
	if !errors.Is(err, backfill.ErrIncomplete) || !strings.Contains(err.Error(), "cut.gz") || len(readRecovered(t, archiveDir)) != 0 {
		t.Errorf("Run with a truncated archive object: %v, report %+v; want ErrIncomplete naming cut.gz and nothing written", err, rep)
	}
}

// Objects written by an earlier run are never written over: numbering
// goes on after them.
func TestBackfillNumbering(t *testing.T) {
	s := newScenario()
	dir := t.TempDir()
	archiveDir := filepath.Join(dir, "archive")
	es := s.exports("us-east-1")[:1]
	es[0].ID = "01763715600000-76ed558f"
	earlier := filepath.Join(archiveDir, "table=Orders", "dt=2025-11-21", "ttl-archiver-backfill-"+es[0].ID+"-0000.gz")
	writeGz(t, earlier, nil)
	rep, err := backfill.Run(context.Background(), backfill.Options{Exports: localExports(t, filepath.Join(dir, "exports"), es),
		Archive: archivefs.Location{Path: archiveDir}, Table: "Orders", TTLAttribute: "expires_at"})
	if err != nil || len(rep.Objects) == 0 || slices.ContainsFunc(rep.Objects, func(o backfill.WrittenObject) bool { return strings.HasSuffix(o.Object, "-0000.gz") }) {
		t.Errorf("Run: objects %v, %v; want them numbered from 0001", rep.Objects, err)
	}
	if b, _ := os.ReadFile(earlier); len(b) == 0 {
		t.Errorf("the earlier object was written over")
	}
	if !slices.ContainsFunc(rep.Objects, func(o backfill.WrittenObject) bool { return o.Lines > 0 }) {
		t.Errorf("Run: %v, want lines", rep.Objects)
	}
}
