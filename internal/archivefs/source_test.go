package archivefs

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ttl-archiver/ttl-archiver/internal/s3local"
)

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

// collect returns "object:line:data" for every line, and the errors.
func collect(t *testing.T, src *Source) (lines []string, errs []error) {
	t.Helper()
	for l, err := range src.Lines(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s:%d:%s", filepath.Base(l.Object), l.Number, l.Data))
	}
	return lines, errs
}

func TestLocalSource(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"dt=2025-11-23/b.gz":      gz("b1\nb2\n"),
		"dt=2025-11-23/a.gz":      gz("a1\n\na3\r\n"),
		"dt=2025-11-22/z":         []byte("z1\nz2"), // not gzipped, no final newline
		"dt=2025-11-22/.hidden":   []byte("h1\n"),   // dot-named: read, never passed over
		".dotted/x":               []byte("x1\n"),
		"dt=2025-11-24/multi.gz":  append(gz("m1\n"), gz("m2\n")...), // two gzip members
		"dt=2025-11-24/long":      []byte("s1\n" + strings.Repeat("x", MaxLineBytes+10) + "\ns3\n"),
		"dt=2025-11-25/broken.gz": gz("c1\n")[:12],
		"dt=2025-11-26/last":      []byte("l1\n"),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := NewSource(Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines, errs := collect(t, src)
	want := "x:1:x1 .hidden:1:h1 z:1:z1 z:2:z2 a.gz:1:a1 a.gz:3:a3 b.gz:1:b1 b.gz:2:b2 long:1:s1 long:3:s3 multi.gz:1:m1 multi.gz:2:m2 l1"
	want = strings.Replace(want, " l1", " last:1:l1", 1)
	if got := strings.Join(lines, " "); got != want {
		t.Errorf("lines:\ngot  %s\nwant %s", got, want)
	}
	if len(errs) != 2 || !errors.Is(errs[0], ErrLineTooLong) || !strings.Contains(errs[0].Error(), "long line 2") || !strings.Contains(errs[1].Error(), "broken.gz") {
		t.Errorf("errors: got %v, want the long line (long line 2) and the broken gzip", errs)
	}

	// ObjectLines after a line number skips the lines before.
	var got []string
	for l, err := range src.ObjectLines(context.Background(), Object{Key: filepath.Join(dir, "dt=2025-11-23/b.gz")}, 1) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", l.Number, l.Data))
	}
	if strings.Join(got, " ") != "2:b2" {
		t.Errorf("ObjectLines after 1: got %v, want [2:b2]", got)
	}

	single, _ := NewSource(Location{Path: filepath.Join(dir, "dt=2025-11-22/z")}, nil)
	if lines, _ := collect(t, single); strings.Join(lines, " ") != "z:1:z1 z:2:z2" {
		t.Errorf("a single file: got %v", lines)
	}
}

// Symbolic links are read or named, never passed over in silence: a link
// to a file is read, a link to a folder is an unreadable object, and a
// location that is a link to a folder is read as the folder.
func TestLocalSourceSymlinks(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "target"), []byte("t1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{filepath.Join(other, "target"), "file-link"}, {other, "folder-link"}, {filepath.Join(other, "gone"), "dangling"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := NewSource(Location{Path: dir}, nil)
	lines, errs := collect(t, src)
	if strings.Join(lines, " ") != "file-link:1:t1" {
		t.Errorf("lines: got %v, want the linked file's", lines)
	}
	if len(errs) != 2 || !errors.Is(errs[0], ErrNotReadable) || !strings.Contains(errs[0].Error(), "dangling") ||
		!errors.Is(errs[1], ErrNotReadable) || !strings.Contains(errs[1].Error(), "folder-link: not read: a symbolic link to a folder") {
		t.Errorf("errors: got %v, want the dangling link and the folder link named", errs)
	}
	link := filepath.Join(t.TempDir(), "archive")
	if err := os.Symlink(other, link); err != nil {
		t.Fatal(err)
	}
	src, _ = NewSource(Location{Path: link}, nil)
	if lines, errs := collect(t, src); strings.Join(lines, " ") != "target:1:t1" || len(errs) != 0 {
		t.Errorf("a location that is a link to a folder: lines %v, errors %v; want its file read", lines, errs)
	}
}

// pagedS3 serves objects two keys per ListObjectsV2 page.
type pagedS3 struct {
	objects map[string]string
	keys    []string
	calls   int
	denyGet bool
}

func (p *pagedS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	p.calls++
	start := 0
	if in.ContinuationToken != nil {
		_, _ = fmt.Sscan(*in.ContinuationToken, &start)
	}
	out := &s3.ListObjectsV2Output{}
	for i := start; i < len(p.keys) && i < start+2; i++ {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(p.keys[i]), Size: aws.Int64(int64(len(p.objects[p.keys[i]])))})
	}
	if start+2 < len(p.keys) {
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(fmt.Sprint(start + 2))
	}
	return out, nil
}

func (p *pagedS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if p.denyGet {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(p.objects[*in.Key]))}, nil
}

func TestS3Source(t *testing.T) {
	fake := &pagedS3{objects: map[string]string{"p/a": string(gz("1\n2\n")), "p/b": "3\n", "p/c/": "", "p/d": "4\n", "p/e": string(gz("5\n"))}, keys: []string{"p/a", "p/b", "p/c/", "p/d", "p/e"}}
	src, err := NewSource(Location{Bucket: "bk", Prefix: "p/"}, fake)
	if err != nil {
		t.Fatal(err)
	}
	lines, errs := collect(t, src)
	if got, want := strings.Join(lines, " "), "a:1:1 a:2:2 b:1:3 d:1:4 e:1:5"; got != want || len(errs) > 0 {
		t.Errorf("lines: got %s (errors %v), want %s", got, errs, want)
	}
	if fake.calls != 3 {
		t.Errorf("ListObjectsV2 calls: got %d, want 3 (pages of 2)", fake.calls)
	}
	fake.denyGet = true
	_, errs = collect(t, src)
	if len(errs) == 0 || !errors.Is(errs[0], ErrAccessDenied) || !strings.Contains(errs[0].Error(), "s3:GetObject on s3://bk/p/a") {
		t.Errorf("denied GetObject: got %v, want ErrAccessDenied naming s3:GetObject and the object", errs)
	}
	if _, err := NewSource(Location{Bucket: "bk"}, nil); err == nil {
		t.Errorf("NewSource of S3 without a client: got nil, want an error")
	}
}

func FuzzObjectLines(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nc"))
	f.Add(gz("x\ny\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "obj")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		src, _ := NewSource(Location{Path: p}, nil)
		prev := 0
		for l, err := range src.ObjectLines(context.Background(), Object{Key: p}, 0) {
			if err != nil {
				continue
			}
			if l.Number <= prev || len(l.Data) == 0 || bytes.ContainsAny(l.Data, "\n") {
				t.Fatalf("line %d after %d: %q", l.Number, prev, l.Data)
			}
			prev = l.Number
		}
	})
}

// TestLocalS3Metadata reads the folder of a local S3 (gofakes3, as
// "ttl-archiver invoke" runs it): only the objects' files are archive
// objects, not the metadata kept beside them.
func TestLocalS3Metadata(t *testing.T) {
	dir := t.TempDir()
	srv, err := s3local.Start(dir, "bucket")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	c := srv.Client()
	for key, body := range map[string]string{"archive/a.json": "a1\na2\n", "archive/b.json": "b1\n"} {
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	src, err := NewSource(Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines, errs := collect(t, src)
	if got, want := strings.Join(lines, " "), "a.json:1:a1 a.json:2:a2 b.json:1:b1"; got != want || len(errs) != 0 {
		t.Errorf("lines of %s: got %s (errors %v), want %s", dir, got, errs, want)
	}
}

// bucketsS3 serves several buckets, by name.
type bucketsS3 map[string]*pagedS3

func (b bucketsS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return b[*in.Bucket].ListObjectsV2(ctx, in, o...)
}

func (b bucketsS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return b[*in.Bucket].GetObject(ctx, in, o...)
}

// A Source of several locations reads each in turn as one archive: two
// buckets with the same keys (two regions' archives) and a local folder.
func TestSources(t *testing.T) {
	fake := bucketsS3{
		"east": {objects: map[string]string{"p/a": "e1\n"}, keys: []string{"p/a"}},
		"west": {objects: map[string]string{"p/a": string(gz("w1\nw2\n"))}, keys: []string{"p/a"}},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("l1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := NewSources([]Location{{Bucket: "east", Prefix: "p/"}, {Bucket: "west", Prefix: "p/"}, {Path: dir}}, fake)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for l, err := range src.Lines(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimPrefix(l.Object, dir)+":"+string(l.Data))
	}
	want := "s3://east/p/a:e1 s3://west/p/a:w1 s3://west/p/a:w2 /x:l1"
	if strings.Join(got, " ") != want {
		t.Errorf("NewSources(east, west, dir) lines: got %s, want %s", strings.Join(got, " "), want)
	}
	if got, want := src.String(), "s3://east/p/,s3://west/p/,"+dir; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if _, err := NewSources(nil, fake); err == nil {
		t.Errorf("NewSources(nil): got nil, want an error")
	}
}

// Firehose's error-prefix objects are read as the archive lines their
// records carry (one, or several packed into one record), each with the
// error code; other lines that mention rawData are left as they are.
func TestFirehoseErrorRecords(t *testing.T) {
	dir := t.TempDir()
	rec := func(code, data string) string {
		return fmt.Sprintf(`{"attemptsMade":1,"arrivalTimestamp":1,%q:%q,"errorMessage":"x","rawData":%q}`+"\n", code, "DynamicPartitioning.MetadataExtractionFailed", base64.StdEncoding.EncodeToString([]byte(data)))
	}
	content := rec("errorCode", `{"table":"T","n":1}`+"\n") +
		rec("ErrorCode", `{"table":"T","n":2}`+"\n"+`{"table":"T","n":3}`+"\n") +
		`{"table":"T","note":"a line that says rawData","rawData":"eA=="}` + "\n" +
		`{"rawData":"not base64!","errorCode":"E"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "errors.gz"), gz(content), 0o644); err != nil {
		t.Fatal(err)
	}
	src, _ := NewSource(Location{Path: dir}, nil)
	var got []string
	for l, err := range src.Lines(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s:%s", l.Number, l.FirehoseError, l.Data))
	}
	want := []string{
		`1:DynamicPartitioning.MetadataExtractionFailed:{"table":"T","n":1}`,
		`2:DynamicPartitioning.MetadataExtractionFailed:{"table":"T","n":2}`,
		`2:DynamicPartitioning.MetadataExtractionFailed:{"table":"T","n":3}`,
		`3::{"table":"T","note":"a line that says rawData","rawData":"eA=="}`,
		`4::{"rawData":"not base64!","errorCode":"E"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
