package restore

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// readImportFile returns the items of an import file, checking its shape:
// gzip, one {"Item":{...}} object per line and nothing else.
func readImportFile(t *testing.T, r io.Reader) []string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("import file is not gzip: %v", err)
	}
	var items []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil || len(obj) != 1 || obj["Item"] == nil {
			t.Fatalf("import line %q: want {\"Item\":{...}}", sc.Text())
		}
		it, err := DecodeTypedItem(obj["Item"])
		if err != nil {
			t.Fatalf("import line item: %v", err)
		}
		items = append(items, string(AppendTypedJSON(nil, it)))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

func TestExport(t *testing.T) {
	items := genItems(40)
	var dj, pj []byte
	for i, it := range items {
		dj = append(dj, line(t, it, "dynamodb-json", i)...)
		pj = append(pj, line(t, it, "json", i)...)
	}
	want := make([]string, len(items))
	for i, it := range items {
		want[i] = string(AppendTypedJSON(nil, it))
	}
	tests := []struct {
		name      string
		data      []byte
		hints     TypeHints
		to        string
		partBytes int64
		wantParts int
	}{
		{"dynamodb-json to dir", dj, nil, "dir", 0, 1},
		{"json with hints to S3, several parts", pj, jsonHints, "s3", 10000, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ExportOptions{Source: source(t, tt.data, "dir", true, 15), Hints: tt.hints, NewTable: "Orders-restored", Region: "eu-west-1", PartBytes: tt.partBytes}
			c := s3client(t)
			if tt.to == "s3" {
				o.To, o.S3 = archivefs.Location{Bucket: "import", Prefix: "exports/" + uniqueName("export")}, c
			} else {
				o.To = archivefs.Location{Path: filepath.Join(t.TempDir(), "out")}
			}
			rep, err := Export(context.Background(), o)
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			if len(rep.Parts) < tt.wantParts || (tt.wantParts == 1 && len(rep.Parts) != 1) {
				t.Errorf("Export wrote %d parts, want %d", len(rep.Parts), tt.wantParts)
			}
			var got []string
			for _, p := range rep.Parts {
				var r io.ReadCloser
				if key, ok := strings.CutPrefix(p, "s3://import/"); ok {
					out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("import"), Key: aws.String(key)})
					if err != nil {
						t.Fatalf("GetObject %s: %v", p, err)
					}
					r = out.Body
				} else {
					f, err := os.Open(p)
					if err != nil {
						t.Fatal(err)
					}
					r = f
				}
				got = append(got, readImportFile(t, r)...)
				_ = r.Close()
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("exported items differ: got %d items, want %d; first got %.200s\nfirst want %.200s", len(got), len(want), first(got), first(want))
			}
			for _, w := range []string{
				"aws dynamodb import-table --region eu-west-1",
				"--input-format DYNAMODB_JSON",
				"--input-compression-type GZIP",
				`'{"TableName":"Orders-restored","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}'`,
			} {
				if !strings.Contains(rep.Command, w) {
					t.Errorf("command lacks %s:\n%s", w, rep.Command)
				}
			}
			wantSrc := "S3Bucket=<bucket>,S3KeyPrefix=<prefix>/"
			if tt.to == "s3" {
				wantSrc = "--s3-bucket-source S3Bucket=import,S3KeyPrefix=" + o.To.Prefix + "/ "
			}
			if !strings.Contains(rep.Command, wantSrc) {
				t.Errorf("command lacks %s:\n%s", wantSrc, rep.Command)
			}
			// The destination is no longer empty: a second export refuses.
			if _, err := Export(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Errorf("second Export to the same place: got %v, want a not-empty error", err)
			}
		})
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestExportNothing(t *testing.T) {
	o := ExportOptions{Source: source(t, line(t, genItems(1)[0], "json", 0), "dir", false, 10),
		Filter: archivefs.Filter{Table: "Nope"}, To: archivefs.Location{Path: t.TempDir()}}
	if _, err := Export(context.Background(), o); !errors.Is(err, ErrNothingSelected) {
		t.Errorf("Export of nothing: got %v, want ErrNothingSelected", err)
	}
}

func TestDeriveKeys(t *testing.T) {
	kv := func(pairs ...string) map[string]archivefs.KeyValue {
		m := map[string]archivefs.KeyValue{}
		for i := 0; i < len(pairs); i += 2 {
			m[pairs[i]] = archivefs.KeyValue{Type: pairs[i+1]}
		}
		return m
	}
	tests := []struct {
		name        string
		keys        map[string]archivefs.KeyValue
		hints       TypeHints
		hash, rng   string
		want        string
		wantGuessed bool
		wantErr     bool
	}{
		{"one key", kv("id", "S"), nil, "", "", "id:S:HASH", false, false},
		{"pk and sk by name", kv("sk", "N", "pk", "S"), nil, "", "", "pk:S:HASH sk:N:RANGE", false, false},
		{"unknown names guessed", kv("b", "N", "a", "S"), nil, "", "", "a:S:HASH b:N:RANGE", true, false},
		{"hash flag", kv("b", "N", "a", "S"), nil, "b", "", "b:N:HASH a:S:RANGE", false, false},
		{"range flag", kv("b", "N", "a", "S"), nil, "", "a", "b:N:HASH a:S:RANGE", false, false},
		{"binary hint", kv("id", "S"), TypeHints{"id": "B"}, "", "", "id:B:HASH", false, false},
		{"flag not a key", kv("id", "S"), nil, "nope", "", "", false, true},
		{"three keys", kv("a", "S", "b", "S", "c", "S"), nil, "", "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, guessed, err := deriveKeys(tt.keys, tt.hints, tt.hash, tt.rng)
			if (err != nil) != tt.wantErr {
				t.Fatalf("deriveKeys: got error %v, want error %v", err, tt.wantErr)
			}
			var parts []string
			for _, k := range keys {
				parts = append(parts, k.Name+":"+k.Type+":"+k.KeyType)
			}
			if got := strings.Join(parts, " "); got != tt.want || guessed != tt.wantGuessed {
				t.Errorf("deriveKeys: got %q guessed %v, want %q guessed %v", got, guessed, tt.want, tt.wantGuessed)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"S3Bucket=b,S3KeyPrefix=p/", "S3Bucket=b,S3KeyPrefix=p/"},
		{`{"a":"it's"}`, `'{"a":"it'\''s"}'`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

// export-import never writes an N value that DynamoDB would refuse (issue
// 23, finding 8): such items go to the rejects file with the reason.
func TestExportRefusesBadNumbers(t *testing.T) {
	mk := func(i int, format, item string) string {
		f := ""
		keys := fmt.Sprintf(`{"pk":"k%d"}`, i)
		if format != "" {
			f, keys = `"format":"dynamodb-json",`, fmt.Sprintf(`{"pk":{"S":"k%d"}}`, i)
		}
		return fmt.Sprintf(`{"table":"Orders","region":"us-east-1","event_id":"e%d","sequence_number":"%d","deleted_at":"2025-11-23T10:00:00Z",%s"keys":%s,"item":%s}`+"\n", i, i, f, keys, item)
	}
	data := mk(1, "", `{"pk":"k1","n":1.5}`) +
		mk(2, "", `{"pk":"k2","n":1E+126}`) +
		mk(3, "", `{"pk":"k3","n":123456789012345678901234567890123456789}`) +
		mk(4, "d", `{"pk":{"S":"k4"},"n":{"N":"abc"}}`) +
		mk(5, "d", `{"pk":{"S":"k5"},"n":{"N":"7"}}`) +
		mk(6, "", `{"pk":"k6","n":1e999999}`)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	o := ExportOptions{Source: source(t, []byte(data), "dir", true, 10), NewTable: "T", Region: "us-east-1",
		To: archivefs.Location{Path: filepath.Join(t.TempDir(), "out")}, Rejects: rejects}
	rep, err := Export(context.Background(), o)
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Export with bad numbers: %v, want ErrIncomplete", err)
	}
	var got []string
	for _, p := range rep.Parts {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, readImportFile(t, f)...)
		_ = f.Close()
	}
	if want := `{"n":{"N":"1.5"},"pk":{"S":"k1"}} {"n":{"N":"7"},"pk":{"S":"k5"}}`; strings.Join(got, " ") != want {
		t.Errorf("exported items: %v, want only %s", got, want)
	}
	b, _ := os.ReadFile(rejects)
	if n := strings.Count(string(b), "not a DynamoDB number"); n != 4 {
		t.Errorf("rejects file has %d lines saying not a DynamoDB number, want 4:\n%s", n, b)
	}
}

// A failed export leaves nothing in --to and says what it had read
// (issue 23, finding 11); --to inside --from is refused up front
// (finding 12).
func TestExportFailureLeavesNothing(t *testing.T) {
	items := genItems(5000)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "dynamodb-json", i)...)
	}
	to := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := ExportOptions{Source: source(t, data, "dir", true, 1000), NewTable: "T", Region: "us-east-1", To: archivefs.Location{Path: to}, PartBytes: 2000,
		Progress: func(p Progress) {
			if p.Pass == "write" && p.Lines >= 4096 {
				cancel()
			}
		}}
	rep, err := Export(ctx, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Export cancelled half-way: %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(to); len(entries) != 0 || len(rep.Parts) != 0 {
		t.Errorf("Export cancelled half-way left %d entries in --to (parts %v), want none", len(entries), rep.Parts)
	}
	if rep.Lines < 4096 {
		t.Errorf("Export cancelled half-way reports %d lines read, want at least 4096", rep.Lines)
	}

	src := source(t, data[:500], "dir", true, 10)
	from := src.Locations()[0]
	o = ExportOptions{Source: src, NewTable: "T", To: archivefs.Location{Path: filepath.Join(from.Path, "sub", "out")}}
	if _, err := Export(context.Background(), o); !errors.Is(err, ErrOverlap) {
		t.Errorf("Export with --to inside --from: %v, want ErrOverlap", err)
	}
	o.To = archivefs.Location{Path: from.Path + "-sibling"}
	if _, err := Export(context.Background(), o); errors.Is(err, ErrOverlap) {
		t.Errorf("Export with --to beside --from (a name that starts the same): %v, want no ErrOverlap", err)
	}
}
