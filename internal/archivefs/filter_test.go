package archivefs

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestFilterMatch(t *testing.T) {
	plain := archive.Line{Table: "Orders", DeletedAt: ts("2025-11-23T10:00:00Z"), Keys: json.RawMessage(`{"pk":"user#42","sk":1005}`)}
	typed := archive.Line{Table: "Orders", DeletedAt: ts("2025-11-23T10:00:00Z"), Format: "dynamodb-json", Keys: json.RawMessage(`{"pk":{"S":"user#42"},"sk":{"N":"1005"},"b":{"B":"AAE="}}`)}
	raw := archive.Line{Table: "Orders", DeletedAt: ts("2025-11-23T10:00:00Z"), Keys: json.RawMessage(`null`), Error: "x",
		Raw: json.RawMessage(`{"eventID":"e","dynamodb":{"Keys":{"pk":{"S":"user#42"},"sk":{"N":"1005"}}}}`)}
	noTime := archive.Line{Table: "Orders", Keys: json.RawMessage(`{"pk":"a"}`)}
	key := func(name, value string, prefix bool) []KeyCondition {
		return []KeyCondition{{Name: name, Value: value, Prefix: prefix}}
	}
	tests := []struct {
		name   string
		filter Filter
		line   archive.Line
		want   bool
	}{
		{"zero filter", Filter{}, plain, true},
		{"table", Filter{Table: "Orders"}, plain, true},
		{"other table", Filter{Table: "Users"}, plain, false},
		{"since inclusive", Filter{Since: *ts("2025-11-23T10:00:00Z")}, plain, true},
		{"since after", Filter{Since: *ts("2025-11-23T10:00:01Z")}, plain, false},
		{"until exclusive", Filter{Until: *ts("2025-11-23T10:00:00Z")}, plain, false},
		{"until after", Filter{Until: *ts("2025-11-23T10:00:01Z")}, plain, true},
		{"no deleted_at with a time bound", Filter{Since: *ts("2000-01-01T00:00:00Z")}, noTime, false},
		{"plain string key", Filter{Keys: key("pk", "user#42", false)}, plain, true},
		{"plain string key differs", Filter{Keys: key("pk", "user#4", false)}, plain, false},
		{"plain string prefix", Filter{Keys: key("pk", "user#4", true)}, plain, true},
		{"plain number key", Filter{Keys: key("sk", "1005", false)}, plain, true},
		{"plain number written otherwise", Filter{Keys: key("sk", "1.005E+3", false)}, plain, true},
		{"plain number prefix", Filter{Keys: key("sk", "10", true)}, plain, true},
		{"typed string key", Filter{Keys: key("pk", "user#42", false)}, typed, true},
		{"typed number key", Filter{Keys: key("sk", "1005.0", false)}, typed, true},
		{"typed binary key as base64", Filter{Keys: key("b", "AAE=", false)}, typed, true},
		{"typed prefix differs", Filter{Keys: key("pk", "admin", true)}, typed, false},
		{"missing key attribute", Filter{Keys: key("nope", "x", false)}, typed, false},
		{"all conditions hold", Filter{Table: "Orders", Keys: append(key("pk", "user", true), key("sk", "1005", false)...)}, typed, true},
		{"one condition fails", Filter{Keys: append(key("pk", "user", true), key("sk", "1006", false)...)}, typed, false},
		{"raw line keys", Filter{Keys: key("pk", "user#42", false)}, raw, true},
		{"raw line keys differ", Filter{Keys: key("sk", "1", false)}, raw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Match(tt.line); got != tt.want {
				t.Errorf("Filter{%s}.Match: got %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestFilterFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    Filter
		wantErr bool
	}{
		{[]string{"--source-table", "Orders", "--since", "2025-11-01", "--until", "2025-11-30"},
			Filter{Table: "Orders", Since: *ts("2025-11-01T00:00:00Z"), Until: *ts("2025-12-01T00:00:00Z")}, false},
		{[]string{"-s", "Orders", "--since=2025-11-01T10:00:00+02:00", "--until", "2025-11-30T00:00:00Z"},
			Filter{Table: "Orders", Since: *ts("2025-11-01T08:00:00Z"), Until: *ts("2025-11-30T00:00:00Z")}, false},
		{[]string{"--key", "pk=a=b", "--key-prefix", "sk=10"},
			Filter{Keys: []KeyCondition{{Name: "pk", Value: "a=b"}, {Name: "sk", Value: "10", Prefix: true}}}, false},
		{[]string{"--key", "novalue"}, Filter{}, true},
		{[]string{"--key", "=x"}, Filter{}, true},
		{[]string{"--since", "yesterday"}, Filter{}, true},
	}
	for _, tt := range tests {
		var f Filter
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.AddFlags(fs)
		err := fs.Parse(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("parse %q: got error %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err == nil && f.String() != tt.want.String() {
			t.Errorf("parse %q: got %s, want %s", tt.args, f, tt.want)
		}
	}
}

func TestFilterCheck(t *testing.T) {
	f := Filter{Since: *ts("2025-11-02T00:00:00Z"), Until: *ts("2025-11-01T00:00:00Z")}
	if err := f.Check(); err == nil {
		t.Errorf("Check of since after until: got nil, want an error")
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in      string
		want    Location
		wantErr bool
	}{
		{"s3://bucket/archive/table=Orders/", Location{Bucket: "bucket", Prefix: "archive/table=Orders/"}, false},
		{"s3://bucket", Location{Bucket: "bucket"}, false},
		{"./archive", Location{Path: "./archive"}, false},
		{"s3:///x", Location{}, true},
		{"https://example.com/x", Location{}, true},
		{"", Location{}, true},
	}
	for _, tt := range tests {
		got, err := ParseLocation(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLocation(%q): got %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzKeyValues(f *testing.F) {
	f.Add(`{"pk":"a","sk":1}`, "")
	f.Add(`{"pk":{"S":"a"},"b":{"B":"AAE="}}`, "dynamodb-json")
	f.Fuzz(func(t *testing.T, keys, format string) {
		l := archive.Line{Keys: json.RawMessage(keys), Format: format}
		kv, err := KeyValues(l)
		if err != nil {
			return
		}
		for name, v := range kv {
			if v.Type != "S" && v.Type != "N" && v.Type != "B" {
				t.Errorf("KeyValues(%s): %s has type %q", keys, name, v.Type)
			}
			f := Filter{Keys: []KeyCondition{{Name: name, Value: v.Value}}}
			if !f.Match(l) {
				t.Errorf("Filter on %s=%s does not match the line it came from", name, v.Value)
			}
		}
	})
}
