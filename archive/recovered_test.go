package archive_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

var recoveredAt = time.Date(2025, 11, 21, 6, 30, 0, 123456000, time.UTC)

func recovered(anyDelete bool) archive.Recovered {
	return archive.Recovered{Table: "Orders", Region: "eu-west-1", EventID: "0123456789abcdef0123456789abcdef",
		DeletedAt: recoveredAt, From: "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/export/01700000000000-abcd", AnyDelete: anyDelete}
}

func TestLineWriter(t *testing.T) {
	keys := []byte(`{"sk":{"N":"1E+2"},"pk":{"S":"a\"b"}}`)
	item := []byte(`{"pk":{"S":"a\"b"},"sk":{"N":"1E+2"},"tags":{"SS":["x","y"]},"blob":{"B":"AAEC"},"n":{"NULL":true}}`)
	big := []byte(`{"pk":{"S":"a\"b"},"sk":{"N":"1E+2"},"pad":{"S":"` + strings.Repeat("x", archive.MaxRecordBytes) + `"}}`)
	tests := []struct {
		name      string
		format    archive.Format
		item      []byte
		anyDelete bool
		gzipped   bool
	}{
		{"json", archive.FormatJSON, item, false, false},
		{"dynamodb-json", archive.FormatDynamoDBJSON, item, false, false},
		{"any delete", archive.FormatJSON, item, true, false},
		{"oversize item gzipped", archive.FormatDynamoDBJSON, big, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := archive.NewLineWriter(tt.format)
			rec := recovered(tt.anyDelete)
			out, err := w.Append([]byte("prefix"), rec, keys, tt.item)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			line, ok := bytes.CutPrefix(out, []byte("prefix"))
			if !ok || !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
				t.Fatalf("Append: %q, want prefix then one line", out[:min(len(out), 300)])
			}
			if len(line) > archive.MaxRecordBytes {
				t.Errorf("Append: line of %d bytes, over %d", len(line), archive.MaxRecordBytes)
			}
			l, err := archive.ParseLine(line)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if l.Table != "Orders" || l.Region != "eu-west-1" || l.EventID != rec.EventID || l.SequenceNumber != archive.RecoveredSequenceNumber ||
				l.DeletedAt == nil || !l.DeletedAt.Equal(recoveredAt) || l.RecoveredFrom != rec.From {
				t.Errorf("ParseLine: %+v, want the recovered fields of %+v", l, rec)
			}
			if !strings.Contains(string(line), `"deleted_at":"2025-11-21T06:30:00.123456Z"`) {
				t.Errorf("line %.200s: want deleted_at with its microseconds", line)
			}
			wantTTL, wantDelete := "inferred", ""
			if tt.anyDelete {
				wantTTL, wantDelete = "", "any"
			}
			if l.TTL != wantTTL || l.Delete != wantDelete {
				t.Errorf("ParseLine: ttl %q, delete %q, want %q and %q", l.TTL, l.Delete, wantTTL, wantDelete)
			}
			wantKeys, _ := archive.ConvertImage(nil, keys, tt.format)
			wantItem, _ := archive.ConvertImage(nil, tt.item, tt.format)
			gotItem, err := l.ItemJSON()
			if err != nil || string(l.Keys) != string(wantKeys) || !bytes.Equal(gotItem, wantItem) {
				t.Errorf("keys %s, item %.100s (%v); want %s, %.100s", l.Keys, gotItem, err, wantKeys, wantItem)
			}
			if (len(l.ItemGzip) > 0) != tt.gzipped {
				t.Errorf("item_gzip set %v, want %v", len(l.ItemGzip) > 0, tt.gzipped)
			}
			// The provenance members come after every other.
			if i, j := strings.Index(string(line), `"recovered_from"`), strings.Index(string(line), `"item"`); i < j {
				t.Errorf("recovered_from at %d before item at %d", i, j)
			}
		})
	}
}

func TestLineWriterErrors(t *testing.T) {
	keys := []byte(`{"pk":{"S":"a"}}`)
	huge := []byte(`{"pk":{"S":"a"},"b":{"B":"` + strings.Repeat("QUJD", 3*archive.MaxRecordBytes/4) + `"}}`)
	bad := recovered(false)
	bad.EventID = `x"y`
	tests := []struct {
		name  string
		rec   archive.Recovered
		keys  []byte
		item  []byte
		isErr error
	}{
		{"unconvertible item", recovered(false), keys, []byte(`{"pk":{"Q":"a"}}`), nil},
		{"not JSON", recovered(false), keys, []byte(`{"pk":`), nil},
		{"data after the keys", recovered(false), []byte(`{"pk":{"S":"a"}} x`), keys, nil},
		{"event id JSON would escape", bad, keys, keys, nil},
		{"too large even gzipped", recovered(false), keys, randomish(huge), archive.ErrLineTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := archive.NewLineWriter(archive.FormatJSON)
			out, err := w.Append([]byte("x"), tt.rec, tt.keys, tt.item)
			if err == nil || string(out) != "x" || tt.isErr != nil && !errors.Is(err, tt.isErr) {
				t.Errorf("Append: %q, %v; want dst unchanged and an error (%v)", out[:min(len(out), 50)], err, tt.isErr)
			}
		})
	}
}

// randomish makes the base64 of a B value incompressible.
func randomish(item []byte) []byte {
	out := bytes.Clone(item)
	x := uint32(1)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	start := bytes.Index(out, []byte(`"B":"`)) + 5
	end := bytes.LastIndex(out, []byte(`"}}`))
	for i := start; i < end; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = alphabet[x%64]
	}
	return out
}

func TestRecoveredEventID(t *testing.T) {
	var k archive.KeyCanonicalizer
	ck, _ := k.Append(nil, []byte(`{"pk":{"S":"a"}}`), true)
	ck2, _ := k.Append(nil, []byte(`{"pk":{"S":"b"}}`), true)
	id := archive.RecoveredEventID("Orders", ck, recoveredAt)
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		t.Errorf("RecoveredEventID = %q, want 32 hex digits", id)
	}
	if again := archive.RecoveredEventID("Orders", ck, recoveredAt); again != id {
		t.Errorf("RecoveredEventID twice: %q and %q, want the same", id, again)
	}
	for name, other := range map[string]string{
		"table": archive.RecoveredEventID("Orders2", ck, recoveredAt),
		"keys":  archive.RecoveredEventID("Orders", ck2, recoveredAt),
		"time":  archive.RecoveredEventID("Orders", ck, recoveredAt.Add(time.Microsecond)),
	} {
		if other == id {
			t.Errorf("RecoveredEventID with another %s = %q, want a different id", name, other)
		}
	}
}

func TestCanonicalKeys(t *testing.T) {
	type keys struct {
		json  string
		typed bool
	}
	same := [][2]keys{
		{{`{"pk":{"S":"a"},"sk":{"N":"100"}}`, true}, {`{"pk":"a","sk":100}`, false}},
		{{`{"sk":{"N":"1E+2"},"pk":{"S":"a"}}`, true}, {`{"pk":"a","sk":100.0}`, false}},
		{{`{"n":{"N":"-0.50"}}`, true}, {`{"n":-5e-1}`, false}},
		{{`{"n":{"N":"0"}}`, true}, {`{"n":-0.000}`, false}},
		{{`{"b":{"B":"AAEC"}}`, true}, {`{"b":"AAEC"}`, false}},
		{{`{"s":{"S":"\u00e9\"x"}}`, true}, {`{"s":"é\"x"}`, false}},
	}
	var k archive.KeyCanonicalizer
	canon := func(x keys) string {
		t.Helper()
		out, err := k.Append(nil, []byte(x.json), x.typed)
		if err != nil {
			t.Fatalf("Append(%s): %v", x.json, err)
		}
		return string(out)
	}
	for _, p := range same {
		if a, b := canon(p[0]), canon(p[1]); a != b {
			t.Errorf("canonical keys of %s and %s: %q and %q, want the same", p[0].json, p[1].json, a, b)
		}
	}
	different := [][2]keys{
		{{`{"pk":"a"}`, false}, {`{"pk":"b"}`, false}},
		{{`{"pk":"a"}`, false}, {`{"pk2":"a"}`, false}},
		{{`{"n":1}`, false}, {`{"n":10}`, false}},
		{{`{"n":1}`, false}, {`{"n":"1"}`, false}},
		{{`{"a":"bc"}`, false}, {`{"ab":"c"}`, false}},
		{{`{"pk":"a","sk":"b"}`, false}, {`{"pk":"a"}`, false}},
	}
	for _, p := range different {
		if a, b := canon(p[0]), canon(p[1]); a == b {
			t.Errorf("canonical keys of %s and %s: both %q, want different", p[0].json, p[1].json, a)
		}
	}
	for _, bad := range []keys{{`[]`, false}, {`{}`, false}, {`{"pk":true}`, false}, {`{"pk":{"BOOL":true}}`, true}, {`{"pk":{"S":"a","N":"1"}}`, true}, {`{"pk":"a"`, false}} {
		if _, err := k.Append(nil, []byte(bad.json), bad.typed); err == nil {
			t.Errorf("Append(%s): no error, want one", bad.json)
		}
	}
}

// FuzzCanonicalNumber checks the canonical form of numbers against
// math/big: two numbers have one form exactly when they are equal.
func FuzzCanonicalNumber(f *testing.F) {
	for _, s := range [][2]string{{"100", "1E+2"}, {"0.5", "5e-1"}, {"-0", "0"}, {"12.340", "1234e-2"}, {"1", "10"}, {"99999999999999999999999999999999999999", "1E38"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ra, oka := new(big.Rat).SetString(a)
		rb, okb := new(big.Rat).SetString(b)
		if !oka || !okb || !isNumber(a) || !isNumber(b) || len(a) > 60 || len(b) > 60 {
			return
		}
		var k archive.KeyCanonicalizer
		ca, erra := k.Append(nil, []byte(`{"n":`+a+`}`), false)
		cb, errb := k.Append(nil, []byte(`{"n":`+b+`}`), false)
		if erra != nil || errb != nil {
			t.Fatalf("Append: %v, %v", erra, errb)
		}
		if (string(ca) == string(cb)) != (ra.Cmp(rb) == 0) {
			t.Errorf("canonical %q for %s and %q for %s; big.Rat says equal %v", ca, a, cb, b, ra.Cmp(rb) == 0)
		}
	})
}

// isNumber reports whether s is a JSON number with a small exponent.
func isNumber(s string) bool {
	var v any
	if err := jsonUnmarshal(s, &v); err != nil {
		return false
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 && len(s)-i > 4 {
		return false
	}
	return true
}

func TestParseLineKeys(t *testing.T) {
	tests := []struct {
		name, line string
		keys       string
		typed      bool
		format     archive.Format
	}{
		{"json", `{"table":"Orders","region":"us-east-1","event_id":"e","sequence_number":"1","deleted_at":"2025-11-21T00:00:01Z","keys":{"pk":"a"},"item":{"pk":"a"}}`, `{"pk":"a"}`, false, archive.FormatJSON},
		{"dynamodb-json", `{"table":"Orders","region":"us-east-1","event_id":"e","sequence_number":"1","deleted_at":"2025-11-21T00:00:01Z","format":"dynamodb-json","keys":{"pk":{"S":"a"}},"item":null}`, `{"pk":{"S":"a"}}`, true, archive.FormatDynamoDBJSON},
		{"raw", `{"table":"Orders","region":"us-east-1","event_id":"e","sequence_number":"1","deleted_at":"2025-11-21T00:00:01Z","keys":null,"item":null,"error":"x","raw":{"eventID":"e","dynamodb":{"Keys":{"pk":{"S":"a"}},"OldImage":{"Q":1}}}}`, `{"pk":{"S":"a"}}`, true, archive.FormatJSON},
		{"recovered", `{"table":"Orders","region":"us-east-1","event_id":"e","sequence_number":"0","deleted_at":"2025-11-21T00:00:01.5Z","keys":{"pk":"a"},"item":{"pk":"a"},"recovered_from":"arn","ttl":"inferred"}`, `{"pk":"a"}`, false, archive.FormatJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := archive.ParseLineKeys([]byte(tt.line))
			if err != nil {
				t.Fatalf("ParseLineKeys: %v", err)
			}
			if string(l.Table) != "Orders" || string(l.Region) != "us-east-1" || l.DeletedAt.IsZero() || string(l.Keys) != tt.keys || l.Typed != tt.typed || l.Format != tt.format {
				t.Errorf("ParseLineKeys = %+v (keys %s), want keys %s typed %v format %v", l, l.Keys, tt.keys, tt.typed, tt.format)
			}
		})
	}
	if _, err := archive.ParseLineKeys([]byte(`{"table":"Orders","v":2,"keys":{"pk":"a"}}`)); !errors.Is(err, archive.ErrNewerFormat) {
		t.Errorf("ParseLineKeys of a version 2 line: %v, want ErrNewerFormat", err)
	}
	for _, bad := range []string{`{"table":"Orders"`, `{"table":"Orders"} x`, `{"deleted_at":"yesterday"}`, `[]`} {
		if _, err := archive.ParseLineKeys([]byte(bad)); err == nil {
			t.Errorf("ParseLineKeys(%s): no error, want one", bad)
		}
	}
}

func TestParseExportLine(t *testing.T) {
	tests := []struct {
		name, line               string
		keys, oldImage, newImage string
		err                      bool
	}{
		{"delete", `{"Metadata":{"WriteTimestampMicros":{"N":"1763706600123456"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"exp":{"N":"1"}}}`, `{"pk":{"S":"a"}}`, `{"pk":{"S":"a"},"exp":{"N":"1"}}`, "", false},
		{"update", `{"Metadata":{"WriteTimestampMicros":{"N":"1763706600123456"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"},"x":{"N":"2"}}}`, `{"pk":{"S":"a"}}`, `{"pk":{"S":"a"}}`, `{"pk":{"S":"a"},"x":{"N":"2"}}`, false},
		{"insert, members in another order", `{"NewImage":{"pk":{"S":"a"}},"Keys":{"pk":{"S":"a"}},"Metadata":{"WriteTimestampMicros":{"N":"1763706600123456"}}}`, `{"pk":{"S":"a"}}`, "", `{"pk":{"S":"a"}}`, false},
		{"no keys", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"OldImage":{}}`, "", "", "", true},
		{"no write time", `{"Keys":{"pk":{"S":"a"}}}`, "", "", "", true},
		{"write time not a number", `{"Metadata":{"WriteTimestampMicros":{"N":"soon"}},"Keys":{"pk":{"S":"a"}}}`, "", "", "", true},
		{"truncated", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":`, "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := archive.ParseExportLine([]byte(tt.line))
			if tt.err {
				if err == nil {
					t.Errorf("ParseExportLine: %+v, want an error", l)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExportLine: %v", err)
			}
			want := time.Date(2025, 11, 21, 6, 30, 0, 123456000, time.UTC)
			if !l.WriteTime.Equal(want) || string(l.Keys) != tt.keys || string(l.OldImage) != tt.oldImage || string(l.NewImage) != tt.newImage {
				t.Errorf("ParseExportLine = %v %s %s %s, want %v %s %s %s", l.WriteTime, l.Keys, l.OldImage, l.NewImage, want, tt.keys, tt.oldImage, tt.newImage)
			}
		})
	}
}

func TestImageNumber(t *testing.T) {
	img := []byte(`{"pk":{"S":"a"},"expires_at":{"N":"1763706600"},"s":{"S":"1"}}`)
	tests := []struct {
		name string
		want string
		ok   bool
	}{{"expires_at", "1763706600", true}, {"s", "", false}, {"missing", "", false}}
	for _, tt := range tests {
		n, ok, err := archive.ImageNumber(img, tt.name)
		if err != nil || ok != tt.ok || string(n) != tt.want {
			t.Errorf("ImageNumber(%s) = %q, %v, %v; want %q, %v", tt.name, n, ok, err, tt.want, tt.ok)
		}
	}
	if _, _, err := archive.ImageNumber([]byte(`{"a":`), "a"); err == nil {
		t.Errorf("ImageNumber of invalid JSON: no error")
	}
}

func FuzzParseExportLine(f *testing.F) {
	f.Add([]byte(`{"Metadata":{"WriteTimestampMicros":{"N":"1763706600123456"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := archive.ParseExportLine(data)
		if err != nil {
			return
		}
		var v any
		if jerr := jsonUnmarshal(string(data), &v); jerr != nil {
			t.Errorf("ParseExportLine accepted invalid JSON %q: %v", data, jerr)
		}
		if l.Keys == nil {
			t.Errorf("ParseExportLine without an error but no keys: %q", data)
		}
	})
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
