package archive_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// sameHeader reports whether the header holds what ParseLine read.
func sameHeader(h archive.LineHeader, l archive.Line) bool {
	t := time.Time{}
	if l.DeletedAt != nil {
		t = *l.DeletedAt
	}
	return string(h.Table) == l.Table && string(h.Region) == l.Region && string(h.EventID) == l.EventID && h.DeletedAt.Equal(t)
}

// Every golden line's header is what ParseLine reads of it.
func TestParseLineHeaderGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.jsonl")
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			l, err := archive.ParseLine(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: ParseLine: %v", f, err)
			}
			h, err := archive.ParseLineHeader(sc.Bytes())
			if err != nil || !sameHeader(h, l) {
				t.Errorf("%s: ParseLineHeader(%.80s...) = %+v, %v; want %+v", f, sc.Bytes(), h, err, l)
			}
			n++
		}
	}
	if n < 20 {
		t.Fatalf("read %d golden lines, want 20 or more", n)
	}
}

func TestParseLineHeader(t *testing.T) {
	tests := []struct {
		name, line string
		ok         bool
		table, id  string
		at         string
	}{
		{"reordered, spaced", ` { "event_id" : "e1", "deleted_at":"2025-11-23T00:00:01.5+01:00", "table":"T" } `, true, "T", "e1", "2025-11-22T23:00:01.5Z"},
		{"escaped", `{"table":"O\u0072ders\"","event_id":"e","deleted_at":"2025-11-23T00:00:01Z"}`, true, `Orders"`, "e", "2025-11-23T00:00:01Z"},
		{"last key wins", `{"table":"A","table":"B","event_id":"e","deleted_at":null}`, true, "B", "e", ""},
		{"null fields", `{"table":null,"event_id":null,"deleted_at":null}`, true, "", "", ""},
		{"truncated", `{"table":"T","event_id":"e","deleted_at":"2025-11-23T00:00:01Z","item":{"a":`, false, "", "", ""},
		{"trailing data", `{"table":"T"} {}`, false, "", "", ""},
		{"not a time", `{"table":"T","deleted_at":"2025-02-30T00:00:00Z"}`, false, "", "", ""},
		{"table a number", `{"table":1}`, false, "", "", ""},
		{"array", `[]`, false, "", "", ""},
		{"format version 1", `{"v":1,"table":"T","event_id":"e","deleted_at":null}`, true, "T", "e", ""},
		{"format version null", `{"v":null,"table":"T","event_id":"e","deleted_at":null}`, true, "T", "e", ""},
		{"newer format version", `{"v":2,"table":"T","event_id":"e","deleted_at":null}`, false, "", "", ""},
		{"format version not whole", `{"v":1.5,"table":"T"}`, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := archive.ParseLineHeader([]byte(tt.line))
			if (err == nil) != tt.ok {
				t.Fatalf("ParseLineHeader(%s): error %v, want ok %v", tt.line, err, tt.ok)
			}
			if !tt.ok {
				return
			}
			var want time.Time
			if tt.at != "" {
				want, _ = time.Parse(time.RFC3339Nano, tt.at)
			}
			if string(h.Table) != tt.table || string(h.EventID) != tt.id || !h.DeletedAt.Equal(want) {
				t.Errorf("ParseLineHeader(%s) = %q %q %v, want %q %q %v", tt.line, h.Table, h.EventID, h.DeletedAt, tt.table, tt.id, want)
			}
		})
	}
}

// FuzzParseLineHeader: ParseLineHeader accepts exactly the JSON objects
// that ParseLine accepts, and reads the same header from them.
func FuzzParseLineHeader(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.jsonl")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		for _, l := range bytes.Split(data, []byte("\n")) {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"table":"T","Table":"U","event_id":"e","deleted_at":"2025-11-23T00:00:01Z"}`))
	f.Add([]byte(`{"v":2,"table":"T","event_id":"e","deleted_at":"2025-11-23T00:00:01Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, herr := archive.ParseLineHeader(data)
		l, lerr := archive.ParseLine(data)
		// encoding/json matches member names without regard to case, and
		// replaces invalid UTF-8: compare values only where neither applies.
		if herr == nil && !json.Valid(data) {
			t.Fatalf("ParseLineHeader(%q) accepted invalid JSON", data)
		}
		if lerr != nil || !utf8.Valid(data) || caseVariant(data) {
			return
		}
		if herr != nil {
			t.Fatalf("ParseLineHeader(%q): %v; ParseLine accepts it", data, herr)
		}
		if !sameHeader(h, l) {
			t.Fatalf("ParseLineHeader(%q) = %+v, ParseLine read %+v", data, h, l)
		}
	})
}

// caseVariant reports whether data has a member name that equals one of
// the header's names without regard to case but not exactly.
func caseVariant(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return true
	}
	for k := range m {
		for _, n := range []string{"table", "region", "event_id", "deleted_at"} {
			if k != n && bytes.EqualFold([]byte(k), []byte(n)) {
				return true
			}
		}
	}
	return false
}
