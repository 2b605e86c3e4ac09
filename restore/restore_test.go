package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// source writes the lines as archive objects (gzipped or not, in S3 or in
// a directory), split into objects of per lines.
func source(t *testing.T, data []byte, where string, gzipped bool, per int) *archivefs.Source {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	var objs [][]byte
	for i := 0; i < len(lines); i += per {
		obj := bytes.Join(lines[i:min(i+per, len(lines))], nil)
		if gzipped {
			obj = gz(obj)
		}
		objs = append(objs, obj)
	}
	name := func(i int) string {
		return "archive/table=Orders/dt=2025-11-23/ttl-archive-" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ".gz"
	}
	if where == "s3" {
		c := s3client(t)
		prefix := uniqueName("src") + "/"
		for i, o := range objs {
			putObject(t, c, "archive", prefix+name(i), o)
		}
		src, err := archivefs.NewSource(archivefs.Location{Bucket: "archive", Prefix: prefix}, c)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	dir := t.TempDir()
	for i, o := range objs {
		writeFile(t, filepath.Join(dir, name(i)), o)
	}
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestRoundTrip(t *testing.T) {
	db := dynamo(t)
	items := genItems(60)
	ref := newTable(t, db)
	putItems(t, db, ref, items)
	want := scan(t, db, ref)

	// What items archived as json come back as without hints.
	jsonItems := make([]Item, len(items))
	for i, it := range items {
		jsonItems[i] = asJSONArchived(&types.AttributeValueMemberM{Value: it}).(*types.AttributeValueMemberM).Value
	}
	refJSON := newTable(t, db)
	putItems(t, db, refJSON, jsonItems)
	wantJSON := scan(t, db, refJSON)

	byHand := func(format string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			var b []byte
			for i, it := range items {
				b = append(b, line(t, it, format, i)...)
			}
			return b
		}
	}
	byArchiver := func(format string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return archiveLines(t, items, format) }
	}
	tests := []struct {
		name    string
		lines   func(t *testing.T) []byte
		where   string
		gzipped bool
		hints   TypeHints
		want    map[string]string
	}{
		{"dynamodb-json by hand, S3 gzip", byHand("dynamodb-json"), "s3", true, nil, want},
		{"dynamodb-json by archiver, dir plain", byArchiver("dynamodb-json"), "dir", false, nil, want},
		{"json by hand without hints", byHand("json"), "dir", true, nil, wantJSON},
		{"json by hand with hints", byHand("json"), "s3", false, jsonHints, want},
		{"json by archiver with hints", byArchiver("json"), "s3", true, jsonHints, want},
		{"json by archiver without hints", byArchiver("json"), "dir", true, nil, wantJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := newTable(t, db)
			var warn bytes.Buffer
			rep, err := Run(context.Background(), Options{
				Source: source(t, tt.lines(t), tt.where, tt.gzipped, 25), Table: table, Region: "us-east-1",
				Client: db, Hints: tt.hints, Warn: &warn,
			})
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, warn.String())
			}
			if rep.Written != len(items) || rep.Items != len(items) || rep.Objects != 3 {
				t.Errorf("Run report: written %d, items %d, objects %d; want %d, %d, 3", rep.Written, rep.Items, rep.Objects, len(items), len(items))
			}
			diffTables(t, scan(t, db, table), tt.want)
		})
	}
}

func TestFilterDedupAndRaw(t *testing.T) {
	db := dynamo(t)
	items := genItems(10)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "dynamodb-json", i)...)
	}
	// A duplicate delivery, a line of another table, a line that is not
	// JSON, a raw line with an OldImage, a raw line without one, and a
	// line of a KEYS_ONLY stream.
	data = append(data, line(t, items[3], "dynamodb-json", 3)...)
	other := line(t, items[4], "json", 500)
	data = append(data, bytes.Replace(other, []byte(`"table":"Orders"`), []byte(`"table":"Other"`), 1)...)
	data = append(data, "not json\n"...)
	rawItem := genItems(11)[10]
	rec := streamEvent([]Item{rawItem}, 900)
	rec = rec[len(`{"Records":[`) : len(rec)-2]
	data = append(data, `{"table":"Orders","region":"us-east-1","event_id":"raw1","sequence_number":"1","deleted_at":"2025-11-23T10:00:00Z","keys":null,"item":null,"error":"image too deep","raw":`+string(rec)+"}\n"...)
	data = append(data, `{"table":"Orders","region":"us-east-1","event_id":"raw2","sequence_number":"2","deleted_at":"2025-11-23T10:00:00Z","keys":null,"item":null,"error":"eventSourceARN is missing","raw":{"eventID":"raw2","dynamodb":{"Keys":{"pk":{"S":"x"},"sk":{"N":"1"}}}}}`+"\n"...)
	data = append(data, `{"table":"Orders","region":"us-east-1","event_id":"ko","sequence_number":"3","deleted_at":"2025-11-23T10:00:00Z","keys":{"pk":"k","sk":1},"item":null}`+"\n"...)

	tests := []struct {
		name   string
		filter archivefs.Filter
		want   Counts
	}{
		{"table only", archivefs.Filter{Table: "Orders"},
			Counts{Objects: 1, Lines: 16, Invalid: 1, Filtered: 1, Duplicates: 1, NoItem: 2, Items: 11, FromRaw: 1}},
		{"key prefix", archivefs.Filter{Table: "Orders", Keys: []archivefs.KeyCondition{{Name: "pk", Value: "user#003", Prefix: true}}},
			// items[3], its duplicate, and the raw item (pk user#003)
			Counts{Objects: 1, Lines: 16, Invalid: 1, Filtered: 12, Duplicates: 1, Items: 2, FromRaw: 1}},
		{"number key equal", archivefs.Filter{Keys: []archivefs.KeyCondition{{Name: "sk", Value: "1.005E+3"}}},
			Counts{Objects: 1, Lines: 16, Invalid: 1, Filtered: 14, Items: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := newTable(t, db)
			var warn bytes.Buffer
			rep, err := Run(context.Background(), Options{Source: source(t, data, "dir", true, 100), Filter: tt.filter, Table: table, Client: db, Warn: &warn})
			// The line that is not JSON makes the run incomplete.
			if !errors.Is(err, ErrIncomplete) {
				t.Fatalf("Run: got error %v, want ErrIncomplete", err)
			}
			if rep.Counts != tt.want {
				t.Errorf("Run counts:\ngot  %+v\nwant %+v\nwarnings:\n%s", rep.Counts, tt.want, warn.String())
			}
			if got := len(scan(t, db, table)); got != tt.want.Items {
				t.Errorf("table has %d items, want %d", got, tt.want.Items)
			}
			if tt.want.NoItem > 0 && !strings.Contains(warn.String(), "no old image") {
				t.Errorf("warnings do not explain the lines without an item:\n%s", warn.String())
			}
		})
	}
}

func TestNoOverwrite(t *testing.T) {
	db := dynamo(t)
	items := genItems(30)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "dynamodb-json", i)...)
	}
	table := newTable(t, db)
	// Two items exist already, changed: they must stay as they are.
	changed := []Item{{"pk": items[2]["pk"], "sk": items[2]["sk"], "v": &types.AttributeValueMemberS{Value: "newer"}},
		{"pk": items[7]["pk"], "sk": items[7]["sk"], "v": &types.AttributeValueMemberS{Value: "newer"}}}
	putItems(t, db, table, changed)
	var last Progress
	rep, err := Run(context.Background(), Options{Source: source(t, data, "dir", true, 100), Table: table, Client: db, NoOverwrite: true,
		Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := (Progress{Pass: "write", Lines: 30, Items: 30, Written: 28, Existing: 2}); last != want {
		t.Errorf("last progress: got %+v, want %+v", last, want)
	}
	if rep.Written != 28 || rep.Existing != 2 {
		t.Errorf("Run: written %d, existing %d; want 28, 2", rep.Written, rep.Existing)
	}
	got := scan(t, db, table)
	for _, c := range changed {
		k := avString(c["pk"]) + "/" + avString(c["sk"])
		if w := string(AppendTypedJSON(nil, c)); got[k] != w {
			t.Errorf("existing item %s: got %s, want %s (unchanged)", k, got[k], w)
		}
	}
	var sum bytes.Buffer
	rep.WriteSummary(&sum, false)
	if !strings.Contains(sum.String(), "2 items already existed") {
		t.Errorf("summary does not report existing items:\n%s", sum.String())
	}
}

// countingDB counts the items each key was written with and cancels the
// run once cancelAfter items are written.
type countingDB struct {
	DynamoDBAPI
	mu          sync.Mutex
	writes      map[string]int
	total       int
	cancelAfter int
	cancel      context.CancelFunc
}

func (c *countingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out, err := c.DynamoDBAPI.BatchWriteItem(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			c.writes[avString(r.PutRequest.Item["pk"])+"/"+avString(r.PutRequest.Item["sk"])]++
			c.total++
		}
	}
	if c.cancel != nil && c.total >= c.cancelAfter {
		c.cancel()
	}
	return out, nil
}

func TestResume(t *testing.T) {
	db := dynamo(t)
	items := genItems(240)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "json", i)...)
	}
	// Filtered lines between the items, so that positions move without
	// writes too.
	data = bytes.ReplaceAll(data, []byte("\n"), []byte("\n"+`{"table":"Other","event_id":"x"}`+"\n"))
	src := source(t, data, "s3", true, 70)
	table := newTable(t, db)
	cp := filepath.Join(t.TempDir(), "restore.checkpoint")

	var runs []map[string]int // writes of each run, by key
	for _, stopAfter := range []int{50, 130} {
		ctx, cancel := context.WithCancel(context.Background())
		c := &countingDB{DynamoDBAPI: db, writes: map[string]int{}, cancelAfter: stopAfter, cancel: cancel}
		_, err := Run(ctx, Options{Source: src, Filter: archivefs.Filter{Table: "Orders"}, Table: table, Client: c, Hints: jsonHints,
			Concurrency: 1, Checkpoint: cp, CheckpointEvery: 1})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Run: got %v, want context.Canceled", err)
		}
		if _, err := os.Stat(cp); err != nil {
			t.Fatalf("checkpoint after interruption: %v", err)
		}
		runs = append(runs, c.writes)
	}
	c := &countingDB{DynamoDBAPI: db, writes: map[string]int{}}
	rep, err := Run(context.Background(), Options{Source: src, Filter: archivefs.Filter{Table: "Orders"}, Table: table, Client: c, Hints: jsonHints,
		Concurrency: 1, Checkpoint: cp, CheckpointEvery: 1})
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	if !rep.Resumed || !rep.CheckpointRemoved {
		t.Errorf("resumed Run: Resumed %v, CheckpointRemoved %v; want both", rep.Resumed, rep.CheckpointRemoved)
	}
	if _, err := os.Stat(cp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint after completion: got %v, want it removed", err)
	}
	runs = append(runs, c.writes)
	all := map[string]int{}
	for _, w := range runs {
		for k, n := range w {
			all[k] += n
		}
	}
	if len(all) != len(items) {
		t.Errorf("keys written over the three runs: got %d, want %d", len(all), len(items))
	}
	for k, n := range all {
		if n != 1 {
			t.Errorf("item %s written %d times over the three runs, want once", k, n)
		}
	}
	ref := newTable(t, db)
	putItems(t, db, ref, items)
	diffTables(t, scan(t, db, table), scan(t, db, ref))
}

func TestCheckpointMismatch(t *testing.T) {
	db := dynamo(t)
	table := newTable(t, db)
	src := source(t, line(t, genItems(1)[0], "json", 0), "dir", false, 10)
	tests := []struct {
		name, checkpoint string
		filter           archivefs.Filter
		want             []string
	}{
		{"another source", `{"version":2,"source":"s3://other/x","table":"` + table + `","filter":"all lines","done":[]}`, archivefs.Filter{}, []string{"s3://other/x"}},
		{"version 1", `{"version":1,"source":"` + src.String() + `","table":"` + table + `","done":[]}`, archivefs.Filter{}, []string{"version 1, want 2"}},
		// Issue 23, finding 4: another selection would skip what this one left out.
		{"another source table", `{"version":2,"source":"` + src.String() + `","table":"` + table + `","filter":"table Sessions","done":[]}`,
			archivefs.Filter{Table: "Orders"}, []string{"of table Sessions, not of table Orders"}},
		{"a filter added", `{"version":2,"source":"` + src.String() + `","table":"` + table + `","filter":"all lines","done":[]}`,
			archivefs.Filter{Keys: []archivefs.KeyCondition{{Name: "pk", Value: "a"}}}, []string{`of all lines, not of pk = "a"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "cp")
			if err := os.WriteFile(cp, []byte(tt.checkpoint), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Run(context.Background(), Options{Source: src, Table: table, Client: db, Checkpoint: cp, Filter: tt.filter})
			if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("Run with that checkpoint: %v, want ErrCheckpoint", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run with that checkpoint: %v, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestActionableErrors(t *testing.T) {
	db := dynamo(t)
	data := line(t, genItems(1)[0], "json", 0)
	tests := []struct {
		name  string
		keys  [][2]string
		table string
		want  []string
		is    error
	}{
		{"missing table", nil, "nope", []string{"table nope not found in region us-east-1"}, ErrTableNotFound},
		{"key type", [][2]string{{"pk", "N"}}, "", []string{`attribute "pk" is S in the item but N`, "partition key"}, ErrKeySchema},
		{"key name", [][2]string{{"id", "S"}}, "", []string{`no attribute "id"`, `"pk" (S)`, `"sk" (N)`}, ErrKeySchema},
		{"sort key type", [][2]string{{"pk", "S"}, {"sk", "S"}}, "", []string{`attribute "sk" is N in the item but S`, "sort key"}, ErrKeySchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := tt.table
			if table == "" {
				table = newTable(t, db, tt.keys...)
			}
			_, err := Run(context.Background(), Options{Source: source(t, data, "dir", false, 10), Table: table, Region: "us-east-1", Client: db})
			if !errors.Is(err, tt.is) {
				t.Fatalf("Run: got %v, want %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBinaryKeyFromJSON(t *testing.T) {
	db := dynamo(t)
	table := newTable(t, db, [2]string{"id", "B"})
	l := `{"table":"Bin","region":"us-east-1","event_id":"e1","sequence_number":"1","deleted_at":"2025-11-23T10:00:00Z","keys":{"id":"AAEC"},"item":{"id":"AAEC","v":1}}` + "\n"
	if _, err := Run(context.Background(), Options{Source: source(t, []byte(l), "dir", false, 10), Table: table, Client: db}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: Item{"id": &types.AttributeValueMemberB{Value: []byte{0, 1, 2}}}})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem of the binary key: got %v, %v; want the item", out, err)
	}
}

func TestDryRun(t *testing.T) {
	items := genItems(3)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "dynamodb-json", i)...)
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Source: source(t, data, "dir", true, 10), Table: "T", DryRun: true, Out: &out})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != 3 || rep.Written != 0 || rep.Items != 3 {
		t.Fatalf("dry run printed %d lines, written %d, items %d; want 3, 0, 3", len(got), rep.Written, rep.Items)
	}
	for i, g := range got {
		it, err := DecodeTypedItem([]byte(g))
		if err != nil {
			t.Fatalf("DecodeTypedItem(dry-run line %d): %v", i, err)
		}
		if g2, w := string(AppendTypedJSON(nil, it)), string(AppendTypedJSON(nil, items[i])); g2 != w {
			t.Errorf("dry-run line %d: got %s, want %s", i, g2, w)
		}
	}
}

func TestTypeHintErrors(t *testing.T) {
	tests := []struct {
		hint, item, want string
	}{
		{"a=SS", `{"a":"x"}`, "type hint SS wants an array, the item has a string"},
		{"a=NS", `{"a":["x"]}`, "type hint NS wants an array of numbers"},
		{"a=B", `{"a":"!!"}`, "not base64"},
		{"m.b=BS", `{"m":{"b":[1]}}`, "attribute m.b"},
	}
	for _, tt := range tests {
		t.Run(tt.hint, func(t *testing.T) {
			h := TypeHints{}
			if err := h.Set(tt.hint); err != nil {
				t.Fatalf("Set(%q): %v", tt.hint, err)
			}
			_, err := decodePlainItem([]byte(tt.item), h)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decodePlainItem(%s) with %s: got %v, want an error with %q", tt.item, tt.hint, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"a", "=SS", "a=XX"} {
		if err := (TypeHints{}).Set(bad); err == nil {
			t.Errorf("TypeHints.Set(%q): got nil, want an error", bad)
		}
	}
}

var _ = archive.FormatDynamoDBJSONName

// TestIncompleteStaysIncomplete: a run that left lines out keeps its
// checkpoint, and running it again (which does not read those lines
// again) still ends incomplete instead of removing the checkpoint.
func TestIncompleteStaysIncomplete(t *testing.T) {
	db := dynamo(t)
	items := genItems(20)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "dynamodb-json", i)...)
	}
	data = append(data, "not an archive line\n"...)
	src := source(t, data, "dir", true, 100)
	table := newTable(t, db)
	cp := filepath.Join(t.TempDir(), "restore.checkpoint")
	for run := 1; run <= 2; run++ {
		rep, err := Run(context.Background(), Options{Source: src, Table: table, Client: db, Checkpoint: cp})
		if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "1 lines are not archive lines") {
			t.Errorf("run %d: got error %v, want ErrIncomplete naming the malformed line", run, err)
		}
		if _, serr := os.Stat(cp); serr != nil || rep.CheckpointRemoved {
			t.Errorf("run %d: checkpoint: %v (removed %v), want it kept", run, serr, rep.CheckpointRemoved)
		}
	}
	if got := len(scan(t, db, table)); got != len(items) {
		t.Errorf("items in the table: got %d, want %d", got, len(items))
	}
}

// TestResumeKeepsNewest: the newer versions are in the first object and
// the older ones in the second. A run interrupted after the first
// object, then resumed from its checkpoint, must not write the older
// versions over the newer ones.
func TestResumeKeepsNewest(t *testing.T) {
	db := dynamo(t)
	var data []byte
	for _, v := range []struct{ val, at string }{{"new", "2025-11-24T10:00:00Z"}, {"old", "2025-11-23T10:00:00Z"}} {
		for i := range 25 {
			data = fmt.Appendf(data, `{"table":"Orders","event_id":"%s%d","sequence_number":"%d","deleted_at":%q,"keys":{"pk":"k%02d"},"item":{"pk":"k%02d","v":%q}}`+"\n",
				v.val, i, i+1, v.at, i, i, v.val)
		}
	}
	src := source(t, data, "dir", false, 25)
	table := newTable(t, db, [2]string{"pk", "S"})
	cp := filepath.Join(t.TempDir(), "restore.checkpoint")
	ctx, cancel := context.WithCancel(context.Background())
	c := &countingDB{DynamoDBAPI: db, writes: map[string]int{}, cancelAfter: 25, cancel: cancel}
	_, err := Run(ctx, Options{Source: src, Table: table, Client: c, Concurrency: 1, Checkpoint: cp, CheckpointEvery: 1})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run: got %v, want context.Canceled", err)
	}
	rep, err := Run(context.Background(), Options{Source: src, Table: table, Client: db, Concurrency: 1, Checkpoint: cp})
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	if !rep.Resumed || rep.Written != 0 {
		t.Errorf("resumed Run: Resumed %v, Written %d; want true and 0 (the older versions left out)", rep.Resumed, rep.Written)
	}
	got := scan(t, db, table)
	if len(got) != 25 {
		t.Errorf("items after the resumed restore: got %d, want 25", len(got))
	}
	for k, v := range got {
		if !strings.Contains(v, `"new"`) {
			t.Errorf("item %s after the resumed restore: got %s, want the newer version", k, v)
		}
	}
}
