package s3delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/s3local"
)

const query = `{table: .table, dt: ((.deleted_at // "unknown")[0:10])}`

func startS3(t *testing.T) *s3local.Server {
	t.Helper()
	srv, err := s3local.Start(t.TempDir(), "archive")
	if err != nil {
		t.Fatalf("s3local.Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// readAll lists the bucket and returns each object's decompressed lines.
func readAll(t *testing.T, client *s3.Client) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	list, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("archive")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	for _, o := range list.Contents {
		obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("archive"), Key: o.Key})
		if err != nil {
			t.Fatalf("GetObject(%s): %v", *o.Key, err)
		}
		var r io.Reader = obj.Body
		if strings.HasSuffix(*o.Key, ".gz") {
			if r, err = gzip.NewReader(obj.Body); err != nil {
				t.Fatalf("gzip.NewReader(%s): %v", *o.Key, err)
			}
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read %s: %v", *o.Key, err)
		}
		_ = obj.Body.Close()
		if len(body) > 0 && body[len(body)-1] != '\n' {
			t.Errorf("object %s does not end in a newline", *o.Key)
		}
		out[*o.Key] = strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	}
	return out
}

func line(table, deletedAt, id string) []byte {
	d := `null`
	if deletedAt != "" {
		d = `"` + deletedAt + `"`
	}
	return []byte(`{"table":"` + table + `","deleted_at":` + d + `,"event_id":"` + id + `"}` + "\n")
}

func TestDeliverPartitionsAndCompresses(t *testing.T) {
	srv := startS3(t)
	d, err := New(Config{
		StreamName: "ttl-archive", Bucket: "archive",
		Prefix:            "archive/table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/",
		ErrorOutputPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/",
		Compression:       "GZIP", DynamicPartitioning: true, PartitionQuery: query,
	}, srv.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	d.now = func() time.Time { return time.Date(2026, 11, 23, 4, 5, 6, 0, time.UTC) }
	ctx := context.Background()
	recs := [][]byte{
		line("Orders", "2025-11-23T00:00:00Z", "1"),
		line("Orders", "2025-11-24T10:00:00Z", "2"),
		line("Sessions", "2025-11-23T12:00:00Z", "3"),
		line("Orders", "2025-11-23T23:59:59Z", "4"),
		line("Orders", "", "5"),
		[]byte("not json\n"),
	}
	if err := d.Deliver(ctx, "ttl-archive", recs); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got := map[string][]string{}
	for key, lines := range readAll(t, srv.Client()) {
		dir := key[:strings.LastIndexByte(key, '/')+1]
		name := key[len(dir):]
		if !strings.HasPrefix(name, "ttl-archive-1-2026-11-23-04-05-06-") || !strings.HasSuffix(name, ".gz") {
			t.Errorf("object name %q, want ttl-archive-1-2026-11-23-04-05-06-<random>.gz", name)
		}
		got[dir] = append(got[dir], lines...)
	}
	want := map[string][]string{
		"archive/table=Orders/dt=2025-11-23/":   {string(recs[0][:len(recs[0])-1]), string(recs[3][:len(recs[3])-1])},
		"archive/table=Orders/dt=2025-11-24/":   {string(recs[1][:len(recs[1])-1])},
		"archive/table=Sessions/dt=2025-11-23/": {string(recs[2][:len(recs[2])-1])},
		"archive/table=Orders/dt=unknown/":      {string(recs[4][:len(recs[4])-1])},
	}
	for dir, lines := range want {
		if strings.Join(got[dir], "|") != strings.Join(lines, "|") {
			t.Errorf("objects under %s hold %q, want %q", dir, got[dir], lines)
		}
	}
	errLines := got["errors/processing-failed/2026-11-23/"]
	if len(errLines) != 1 {
		t.Fatalf("error output holds %d records, want 1 (got prefixes %v)", len(errLines), keys(got))
	}
	var e struct{ ErrorCode, RawData string }
	if err := json.Unmarshal([]byte(errLines[0]), &e); err != nil {
		t.Fatalf("error record %q: %v", errLines[0], err)
	}
	raw, _ := base64.StdEncoding.DecodeString(e.RawData)
	if e.ErrorCode != "DynamicPartitioning.MetadataExtractionFailed" || string(raw) != "not json\n" {
		t.Errorf("error record = %+v (raw %q), want the metadata extraction failure with the record's data", e, raw)
	}
	// The directory backend keeps objects as files.
	if files, _ := filepath.Glob(filepath.Join(srv.BucketDir("archive"), "archive", "table=Orders", "dt=2025-11-23", "*.gz")); len(files) != 1 {
		t.Errorf("files under the bucket folder: %v, want one object", files)
	}
}

func keys(m map[string][]string) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

func TestDeliverDeaggregatesPackedRecords(t *testing.T) {
	srv := startS3(t)
	d, err := New(Config{
		StreamName: "s", Bucket: "archive", Prefix: "t=!{partitionKeyFromQuery:table}/",
		ErrorOutputPrefix: "errors/", Compression: "UNCOMPRESSED",
		DynamicPartitioning: true, PartitionQuery: query, Deaggregate: true, AppendDelimiter: true,
	}, srv.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	packed := bytes.Join([][]byte{line("A", "2025-01-01T00:00:00Z", "1"), line("B", "2025-01-01T00:00:00Z", "2"), line("A", "2025-01-02T00:00:00Z", "3")}, nil)
	if err := d.Deliver(context.Background(), "s", [][]byte{packed}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	counts := map[string]int{}
	for key, lines := range readAll(t, srv.Client()) {
		counts[key[:strings.IndexByte(key, '/')]] += len(lines)
	}
	if counts["t=A"] != 2 || counts["t=B"] != 1 || len(counts) != 2 {
		t.Errorf("lines per partition = %v, want t=A 2, t=B 1", counts)
	}
}

func TestDeliverFlushesFullBuffers(t *testing.T) {
	srv := startS3(t)
	d, err := New(Config{StreamName: "s", Bucket: "archive", Prefix: "p/", Compression: "GZIP", BufferBytes: 1000}, srv.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := append(bytes.Repeat([]byte("x"), 99), '\n')
	for range 25 {
		if err := d.Deliver(context.Background(), "s", [][]byte{rec}); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
	}
	if n := len(d.Objects()); n != 2 {
		t.Errorf("objects before Flush = %d, want 2 (a buffer of 1,000 bytes takes 10 records)", n)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	total := 0
	for _, o := range d.Objects() {
		total += o.Records
	}
	if len(d.Objects()) != 3 || total != 25 {
		t.Errorf("after Flush: %d objects with %d records, want 3 with 25", len(d.Objects()), total)
	}
}

func TestJavaTime(t *testing.T) {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for pattern, want := range map[string]string{
		"yyyy-MM-dd":     "2026-03-04",
		"yyyy/MM/dd/HH":  "2026/03/04/05",
		"yyyy'-'MM'-'dd": "2026-03-04",
		"HH:mm:ss":       "05:06:07",
		"'year='yyyy":    "year=2026",
	} {
		if got := javaTime(ts, pattern); got != want {
			t.Errorf("javaTime(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no bucket":       {Compression: "GZIP"},
		"bad compression": {Bucket: "b", Compression: "ZSTD"},
		"bad query":       {Bucket: "b", DynamicPartitioning: true, PartitionQuery: "{", ErrorOutputPrefix: "e/"},
		"no error prefix": {Bucket: "b", DynamicPartitioning: true, PartitionQuery: "."},
	} {
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("New(%s) = nil error, want one", name)
		}
	}
}

func TestDeliverRefusesMoreThan500Lines(t *testing.T) {
	srv := startS3(t)
	d, err := New(Config{StreamName: "s", Bucket: "archive", Prefix: "t=!{partitionKeyFromQuery:table}/",
		ErrorOutputPrefix: "errors/", DynamicPartitioning: true, PartitionQuery: query, Deaggregate: true, AppendDelimiter: true}, srv.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	packed := bytes.Repeat(line("A", "2025-01-01T00:00:00Z", "1"), 501)
	if err := d.Deliver(context.Background(), "s", [][]byte{packed}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	objs := d.Objects()
	if len(objs) != 1 || !objs[0].Error || objs[0].Records != 1 {
		t.Errorf("objects = %+v, want the whole record once in the error output", objs)
	}
}

// flakyS3 stores objects in memory; it fails the calls whose number is in
// fail (counting from 1) and every call whose context has ended, as the
// SDK client does.
type flakyS3 struct {
	calls   int
	fail    map[int]bool
	objects map[string][]byte
}

func (f *flakyS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.fail[f.calls] {
		return nil, errors.New("InternalError: we encountered an internal error")
	}
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.objects[*in.Key] = b
	return &s3.PutObjectOutput{}, nil
}

// lines returns every line of every object, sorted.
func (f *flakyS3) lines() []string {
	var out []string
	for _, b := range f.objects {
		out = append(out, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	sort.Strings(out)
	return out
}

// TestDeliverKeepsAcknowledgedRecords: records of calls that were
// acknowledged sit in a buffer that a later call fills; neither that later
// call's cancellation nor a failed write may drop them. Each record is
// written exactly once in the end.
func TestDeliverKeepsAcknowledgedRecords(t *testing.T) {
	tests := []struct {
		name   string
		fail   map[int]bool
		cancel bool
	}{
		{"the filling call is cancelled", nil, true},
		{"the first write fails", map[int]bool{1: true}, false},
		{"two writes fail", map[int]bool{1: true, 2: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &flakyS3{fail: tt.fail, objects: map[string][]byte{}}
			d, err := New(Config{StreamName: "s", Bucket: "archive", Prefix: "p/", AppendDelimiter: false, BufferBytes: 200}, fake)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range 12 {
				rec := line("Orders", "2026-11-23T00:00:00Z", fmt.Sprintf("e%02d", i))
				want = append(want, strings.TrimSuffix(string(rec), "\n"))
				ctx, cancel := context.WithCancel(context.Background())
				if tt.cancel && i%3 == 2 {
					cancel()
				}
				if err := d.Deliver(ctx, "s", [][]byte{rec}); err != nil {
					t.Fatalf("Deliver %d: %v", i, err)
				}
				cancel()
			}
			if err := d.Flush(context.Background()); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			got := fake.lines()
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("objects hold\n%s\nwant each record once:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestFlushKeepsWhatItCannotWrite: a failed Flush says so and keeps the
// buffer; the next Flush writes it.
func TestFlushKeepsWhatItCannotWrite(t *testing.T) {
	fake := &flakyS3{fail: map[int]bool{1: true}, objects: map[string][]byte{}}
	d, err := New(Config{StreamName: "s", Bucket: "archive", Prefix: "p/"}, fake)
	if err != nil {
		t.Fatal(err)
	}
	rec := line("Orders", "2026-11-23T00:00:00Z", "e1")
	if err := d.Deliver(context.Background(), "s", [][]byte{rec}); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "put object s3://archive/p/") {
		t.Fatalf("Flush with S3 failing = %v, want the object it could not write", err)
	}
	if err := d.Flush(context.Background()); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	if got := fake.lines(); len(got) != 1 || got[0]+"\n" != string(rec) {
		t.Errorf("objects hold %q, want the record once", got)
	}
}
