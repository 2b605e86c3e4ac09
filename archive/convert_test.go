package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive/reference"
)

// convertCase is one image and what both converters must make of it: the
// line in each format, or an error in both.
type convertCase struct {
	name  string
	image string
	json  string // FormatJSON output
	ddb   string // FormatDynamoDBJSON output
	err   bool   // both formats fail
}

// nestM wraps leaf (a typed value) in n levels of {"M":{"a":...}}.
func nestM(n int, leaf string) string {
	return strings.Repeat(`{"M":{"a":`, n) + leaf + strings.Repeat(`}}`, n)
}

// nestL wraps leaf (a typed value) in n levels of {"L":[...]}.
func nestL(n int, leaf string) string {
	return strings.Repeat(`{"L":[`, n) + leaf + strings.Repeat(`]}`, n)
}

// plainM and plainL are nestM and nestL as FormatJSON writes them.
func plainM(n int, leaf string) string {
	return strings.Repeat(`{"a":`, n) + leaf + strings.Repeat(`}`, n)
}

func plainL(n int, leaf string) string {
	return strings.Repeat(`[`, n) + leaf + strings.Repeat(`]`, n)
}

// maxConvertible is the deepest chain of typed values an image may hold:
// value depths 0 to maxTypedDepth-1.
var maxConvertible = maxTypedDepth - 1

var convertCases = []convertCase{
	// Numbers: every digit and the exponent kept as written.
	{name: "38 digits", image: `{"n":{"N":"12345678901234567890123456789012345678"}}`,
		json: `{"n":12345678901234567890123456789012345678}`,
		ddb:  `{"n":{"N":"12345678901234567890123456789012345678"}}`},
	{name: "38 nines", image: `{"n":{"N":"99999999999999999999999999999999999999"}}`,
		json: `{"n":99999999999999999999999999999999999999}`,
		ddb:  `{"n":{"N":"99999999999999999999999999999999999999"}}`},
	{name: "largest magnitude", image: `{"n":{"N":"-9.9999999999999999999999999999999999999E+125"}}`,
		json: `{"n":-9.9999999999999999999999999999999999999E+125}`,
		ddb:  `{"n":{"N":"-9.9999999999999999999999999999999999999E+125"}}`},
	{name: "1E-130", image: `{"n":{"N":"1E-130"}}`,
		json: `{"n":1E-130}`, ddb: `{"n":{"N":"1E-130"}}`},
	{name: "small negative fraction", image: `{"n":{"N":"-0.00000000000000000000000000000000000001"}}`,
		json: `{"n":-0.00000000000000000000000000000000000001}`,
		ddb:  `{"n":{"N":"-0.00000000000000000000000000000000000001"}}`},
	{name: "1E+2 kept as written", image: `{"n":{"N":"1E+2"}}`,
		json: `{"n":1E+2}`, ddb: `{"n":{"N":"1E+2"}}`},
	{name: "lower-case exponent", image: `{"n":{"N":"2.5e-3"}}`,
		json: `{"n":2.5e-3}`, ddb: `{"n":{"N":"2.5e-3"}}`},
	{name: "trailing zeros kept", image: `{"n":{"N":"-12.500"}}`,
		json: `{"n":-12.500}`, ddb: `{"n":{"N":"-12.500"}}`},
	{name: "zero and minus zero", image: `{"a":{"N":"0"},"b":{"N":"-0"}}`,
		json: `{"a":0,"b":-0}`, ddb: `{"a":{"N":"0"},"b":{"N":"-0"}}`},
	{name: "number written with escapes", image: `{"n":{"N":"\u0031\u0032.5"}}`,
		json: `{"n":12.5}`, ddb: `{"n":{"N":"12.5"}}`},

	// Every type.
	{name: "string", image: `{"s":{"S":"hello"}}`, json: `{"s":"hello"}`, ddb: `{"s":{"S":"hello"}}`},
	{name: "empty string", image: `{"s":{"S":""}}`, json: `{"s":""}`, ddb: `{"s":{"S":""}}`},
	{name: "binary", image: `{"b":{"B":"AAECAwQF/w=="}}`, json: `{"b":"AAECAwQF/w=="}`, ddb: `{"b":{"B":"AAECAwQF/w=="}}`},
	{name: "empty binary", image: `{"b":{"B":""}}`, json: `{"b":""}`, ddb: `{"b":{"B":""}}`},
	{name: "binary with escaped slash and line break re-encoded", image: `{"b":{"B":"\/w=\r\n="}}`,
		json: `{"b":"/w=="}`, ddb: `{"b":{"B":"/w=="}}`},
	{name: "booleans", image: `{"f":{"BOOL":false},"t":{"BOOL":true}}`,
		json: `{"f":false,"t":true}`, ddb: `{"f":{"BOOL":false},"t":{"BOOL":true}}`},
	{name: "null", image: `{"z":{"NULL":true}}`, json: `{"z":null}`, ddb: `{"z":{"NULL":true}}`},
	{name: "string set", image: `{"ss":{"SS":["c","a","b","a"]}}`,
		json: `{"ss":["c","a","b","a"]}`, ddb: `{"ss":{"SS":["c","a","b","a"]}}`},
	{name: "number set", image: `{"ns":{"NS":["-1","0.5","1E+2","12345678901234567890123456789012345678"]}}`,
		json: `{"ns":[-1,0.5,1E+2,12345678901234567890123456789012345678]}`,
		ddb:  `{"ns":{"NS":["-1","0.5","1E+2","12345678901234567890123456789012345678"]}}`},
	{name: "binary set", image: `{"bs":{"BS":["AQ==","Ag==",""]}}`,
		json: `{"bs":["AQ==","Ag==",""]}`, ddb: `{"bs":{"BS":["AQ==","Ag==",""]}}`},
	{name: "list of every type", image: `{"l":{"L":[{"S":"s"},{"N":"1"},{"B":"AQ=="},{"BOOL":true},{"NULL":true},{"SS":["x"]},{"NS":["2"]},{"BS":["Aw=="]},{"L":[]},{"M":{}}]}}`,
		json: `{"l":["s",1,"AQ==",true,null,["x"],[2],["Aw=="],[],{}]}`,
		ddb:  `{"l":{"L":[{"S":"s"},{"N":"1"},{"B":"AQ=="},{"BOOL":true},{"NULL":true},{"SS":["x"]},{"NS":["2"]},{"BS":["Aw=="]},{"L":[]},{"M":{}}]}}`},
	{name: "empty list and map", image: `{"l":{"L":[]},"m":{"M":{}}}`,
		json: `{"l":[],"m":{}}`, ddb: `{"l":{"L":[]},"m":{"M":{}}}`},
	{name: "empty image", image: `{}`, json: `{}`, ddb: `{}`},
	{name: "map", image: `{"m":{"M":{"y":{"N":"2"},"x":{"S":"1"}}}}`,
		json: `{"m":{"x":"1","y":2}}`, ddb: `{"m":{"M":{"x":{"S":"1"},"y":{"N":"2"}}}}`},

	// Nesting.
	{name: "nested maps and lists", image: `{"m":{"M":{"nested":{"M":{"deeper":{"L":[{"N":"3.14159265358979323846264338327950288"},{"M":{"b":{"BOOL":false},"a":{"L":[{"L":[]}]}}}]}}}}}}`,
		json: `{"m":{"nested":{"deeper":[3.14159265358979323846264338327950288,{"a":[[]],"b":false}]}}}`,
		ddb:  `{"m":{"M":{"nested":{"M":{"deeper":{"L":[{"N":"3.14159265358979323846264338327950288"},{"M":{"a":{"L":[{"L":[]}]},"b":{"BOOL":false}}}]}}}}}}`},
	{name: "deepest maps", image: `{"a":` + nestM(maxConvertible, `{"S":"x"}`) + `}`,
		json: `{"a":` + plainM(maxConvertible, `"x"`) + `}`,
		ddb:  `{"a":` + nestM(maxConvertible, `{"S":"x"}`) + `}`},
	{name: "deepest lists", image: `{"a":` + nestL(maxConvertible, `{"N":"1"}`) + `}`,
		json: `{"a":` + plainL(maxConvertible, `1`) + `}`,
		ddb:  `{"a":` + nestL(maxConvertible, `{"N":"1"}`) + `}`},
	{name: "empty map one level too deep", image: `{"a":` + nestM(maxConvertible, `{"M":{}}`) + `}`,
		json: `{"a":` + plainM(maxConvertible, `{}`) + `}`,
		ddb:  `{"a":` + nestM(maxConvertible, `{"M":{}}`) + `}`},

	// Attribute names.
	{name: "empty name", image: `{"":{"S":"empty attribute name"}}`,
		json: `{"":"empty attribute name"}`, ddb: `{"":{"S":"empty attribute name"}}`},
	{name: "names with spaces, dots and unicode", image: `{"odd name with spaces.and.dots":{"S":"x"},"ключ":{"S":"значение"},"🦫":{"N":"1"}}`,
		json: `{"odd name with spaces.and.dots":"x","ключ":"значение","🦫":1}`,
		ddb:  `{"odd name with spaces.and.dots":{"S":"x"},"ключ":{"S":"значение"},"🦫":{"N":"1"}}`},
	{name: "escaped names sort by their decoded value", image: `{"b":{"S":"1"},"\u0041":{"S":"2"},"a":{"S":"3"},"\u007a":{"S":"4"}}`,
		json: `{"A":"2","a":"3","b":"1","z":"4"}`, ddb: `{"A":{"S":"2"},"a":{"S":"3"},"b":{"S":"1"},"z":{"S":"4"}}`},
	{name: "names that need escaping", image: `{"a\"b":{"S":"q"},"line\nbreak":{"S":"n"},"sep` + "\u2028" + `":{"S":"u"}}`,
		json: `{"a\"b":"q","line\nbreak":"n","sep\u2028":"u"}`,
		ddb:  `{"a\"b":{"S":"q"},"line\nbreak":{"S":"n"},"sep\u2028":{"S":"u"}}`},
	{name: "escaped type tag", image: `{"a":{"\u0053":"x"}}`, json: `{"a":"x"}`, ddb: `{"a":{"S":"x"}}`},

	// Key ordering: byte order of the decoded names, as encoding/json sorts.
	{name: "key ordering", image: `{"é":{"N":"5"},"aa":{"N":"3"},"a":{"N":"2"},"Z":{"N":"1"},"":{"N":"0"},"b":{"N":"4"}}`,
		json: `{"":0,"Z":1,"a":2,"aa":3,"b":4,"é":5}`,
		ddb:  `{"":{"N":"0"},"Z":{"N":"1"},"a":{"N":"2"},"aa":{"N":"3"},"b":{"N":"4"},"é":{"N":"5"}}`},
	{name: "white space anywhere", image: " \t\r\n{ \"b\" : { \"S\" : \"x\" } ,\n\"a\":{\"L\":[ {\"N\":\"1\"} , {\"NULL\" : true} ]} } \n",
		json: `{"a":[1,null],"b":"x"}`, ddb: `{"a":{"L":[{"N":"1"},{"NULL":true}]},"b":{"S":"x"}}`},

	// Unicode and escapes: decoded, then written as encoding/json writes
	// them with HTML escaping off.
	{name: "unicode escape decoded", image: `{"s":{"S":"caf\u00e9 \u4e2d"}}`, json: `{"s":"café 中"}`, ddb: `{"s":{"S":"café 中"}}`},
	{name: "escaped slash", image: `{"s":{"S":"a\/b"}}`, json: `{"s":"a/b"}`, ddb: `{"s":{"S":"a/b"}}`},
	{name: "short escapes kept", image: `{"s":{"S":"\"q\" \\ \b\f\n\r\t"}}`,
		json: `{"s":"\"q\" \\ \b\f\n\r\t"}`, ddb: `{"s":{"S":"\"q\" \\ \b\f\n\r\t"}}`},
	{name: "control characters", image: `{"s":{"S":"\u0000\u0001\u001f\u0008\u000A"}}`,
		json: `{"s":"\u0000\u0001\u001f\b\n"}`, ddb: `{"s":{"S":"\u0000\u0001\u001f\b\n"}}`},
	{name: "line separators escaped", image: `{"s":{"S":"a` + "\u2028" + `b\u2029c"}}`,
		json: `{"s":"a\u2028b\u2029c"}`, ddb: `{"s":{"S":"a\u2028b\u2029c"}}`},
	{name: "html characters not escaped", image: `{"s":{"S":"<tag>&amp; \u003c\u003e\u0026"}}`,
		json: `{"s":"<tag>&amp; <>&"}`, ddb: `{"s":{"S":"<tag>&amp; <>&"}}`},
	{name: "delete character kept", image: "{\"s\":{\"S\":\"\x7f\\u007f\"}}",
		json: "{\"s\":\"\x7f\x7f\"}", ddb: "{\"s\":{\"S\":\"\x7f\x7f\"}}"},
	{name: "surrogate pair", image: `{"s":{"S":"\ud83e\uddab \uD83E\uDDAB"}}`, json: `{"s":"🦫 🦫"}`, ddb: `{"s":{"S":"🦫 🦫"}}`},
	{name: "lone surrogates become U+FFFD", image: `{"s":{"S":"\ud800|\udc00|\ud800\u0041|\ud800\ud800\udc00|\udbff"}}`,
		json: `{"s":"` + "\uFFFD|\uFFFD|\uFFFDA|\uFFFD\U00010000|\uFFFD" + `"}`,
		ddb:  `{"s":{"S":"` + "\uFFFD|\uFFFD|\uFFFDA|\uFFFD\U00010000|\uFFFD" + `"}}`},
	{name: "replacement character kept", image: `{"s":{"S":"` + "\uFFFD" + `\ufffd"}}`,
		json: `{"s":"` + "\uFFFD\uFFFD" + `"}`, ddb: `{"s":{"S":"` + "\uFFFD\uFFFD" + `"}}`},
	{name: "strings in sets decoded", image: `{"ss":{"SS":["\u00e9","a\/b","` + "\u2029" + `"]}}`,
		json: `{"ss":["é","a/b","\u2029"]}`, ddb: `{"ss":{"SS":["é","a/b","\u2029"]}}`},

	// Errors: the record is then archived raw.
	{name: "unknown type", image: `{"v":{"DECIMAL128":"1"}}`, err: true},
	{name: "type is case-sensitive", image: `{"v":{"s":"x"}}`, err: true},
	{name: "two types", image: `{"v":{"S":"x","N":"1"}}`, err: true},
	{name: "same type twice", image: `{"v":{"S":"x","S":"y"}}`, err: true},
	{name: "no type", image: `{"v":{}}`, err: true},
	{name: "value is a string", image: `{"v":"x"}`, err: true},
	{name: "value is null", image: `{"v":null}`, err: true},
	{name: "value is an array", image: `{"v":[{"S":"x"}]}`, err: true},
	{name: "image is an array", image: `[{"v":{"S":"x"}}]`, err: true},
	{name: "image is a string", image: `"this image is not an object"`, err: true},
	{name: "image is null", image: `null`, err: true},
	{name: "image is empty", image: ``, err: true},
	{name: "image is white space", image: " \n", err: true},
	{name: "data after the image", image: `{"v":{"S":"x"}} {}`, err: true},
	{name: "invalid JSON", image: `{"v":{"S":"x"}`, err: true},
	{name: "unquoted name", image: `{v:{"S":"x"}}`, err: true},
	{name: "trailing comma", image: `{"v":{"S":"x"},}`, err: true},
	{name: "S not a string", image: `{"v":{"S":1}}`, err: true},
	{name: "N not a string", image: `{"v":{"N":1}}`, err: true},
	{name: "bad number", image: `{"v":{"N":"twelve"}}`, err: true},
	{name: "empty number", image: `{"v":{"N":""}}`, err: true},
	{name: "number with plus sign", image: `{"v":{"N":"+1"}}`, err: true},
	{name: "number with leading zero", image: `{"v":{"N":"01"}}`, err: true},
	{name: "number with white space", image: `{"v":{"N":" 1"}}`, err: true},
	{name: "number without digits after the point", image: `{"v":{"N":"1."}}`, err: true},
	{name: "number without exponent digits", image: `{"v":{"N":"1E+"}}`, err: true},
	{name: "number NaN", image: `{"v":{"N":"NaN"}}`, err: true},
	{name: "bad number in set", image: `{"v":{"NS":["1","x"]}}`, err: true},
	{name: "bad base64", image: `{"v":{"B":"!!!"}}`, err: true},
	{name: "base64 without padding", image: `{"v":{"B":"AQ"}}`, err: true},
	{name: "url-safe base64", image: `{"v":{"B":"-_8="}}`, err: true},
	{name: "bad base64 in set", image: `{"v":{"BS":["AQ==","A"]}}`, err: true},
	{name: "B not a string", image: `{"v":{"B":null}}`, err: true},
	{name: "empty string set", image: `{"v":{"SS":[]}}`, err: true},
	{name: "empty number set", image: `{"v":{"NS":[]}}`, err: true},
	{name: "empty binary set", image: `{"v":{"BS":[]}}`, err: true},
	{name: "set not an array", image: `{"v":{"SS":"x"}}`, err: true},
	{name: "set of numbers as JSON numbers", image: `{"v":{"NS":[1]}}`, err: true},
	{name: "set with null", image: `{"v":{"SS":["a",null]}}`, err: true},
	{name: "NULL false", image: `{"v":{"NULL":false}}`, err: true},
	{name: "NULL null", image: `{"v":{"NULL":null}}`, err: true},
	{name: "BOOL as a string", image: `{"v":{"BOOL":"true"}}`, err: true},
	{name: "BOOL null", image: `{"v":{"BOOL":null}}`, err: true},
	{name: "L not an array", image: `{"v":{"L":{}}}`, err: true},
	{name: "L of untyped values", image: `{"v":{"L":["x"]}}`, err: true},
	{name: "M not an object", image: `{"v":{"M":[]}}`, err: true},
	{name: "M of untyped values", image: `{"v":{"M":{"a":1}}}`, err: true},
	{name: "duplicate name", image: `{"a":{"S":"1"},"b":{"S":"2"},"a":{"S":"3"}}`, err: true},
	{name: "duplicate name once decoded", image: `{"a":{"S":"1"},"\u0061":{"S":"2"}}`, err: true},
	{name: "duplicate name inside a map", image: `{"m":{"M":{"x":{"N":"1"},"x":{"N":"1"}}}}`, err: true},
	{name: "duplicate name through lone surrogates", image: `{"\ud800":{"S":"1"},"\udc00":{"S":"2"}}`, err: true},
	{name: "invalid UTF-8 in a string", image: "{\"s\":{\"S\":\"a\xffb\"}}", err: true},
	{name: "invalid UTF-8 in a name", image: "{\"a\xc3\":{\"S\":\"x\"}}", err: true},
	{name: "invalid UTF-8 in a set", image: "{\"s\":{\"SS\":[\"ok\",\"\xed\xa0\x80\"]}}", err: true},
	{name: "invalid UTF-8 in a type", image: "{\"s\":{\"S\xff\":\"x\"}}", err: true},
	{name: "control character in a string", image: "{\"s\":{\"S\":\"a\nb\"}}", err: true},
	{name: "bad escape", image: `{"s":{"S":"\x41"}}`, err: true},
	{name: "short unicode escape", image: `{"s":{"S":"\u41"}}`, err: true},
	{name: "maps too deep", image: `{"a":` + nestM(maxConvertible+1, `{"S":"x"}`) + `}`, err: true},
	{name: "lists too deep", image: `{"a":` + nestL(maxConvertible+1, `{"N":"1"}`) + `}`, err: true},
	{name: "far too deep", image: `{"a":` + nestM(1000, `{"S":"x"}`) + `}`, err: true},
	{name: "bad value after a good one", image: `{"a":{"S":"x"},"b":{"X":"y"}}`, err: true},
}

// referenceConvert converts an image in format f with package reference,
// the specification of ConvertImage.
func referenceConvert(image []byte, f Format) ([]byte, error) {
	if f == FormatDynamoDBJSON {
		return reference.DynamoDBJSON(image)
	}
	return reference.PlainJSON(image)
}

// TestReferenceDepth holds the two converters to one nesting limit.
func TestReferenceDepth(t *testing.T) {
	if maxTypedDepth != reference.MaxDepth {
		t.Errorf("maxTypedDepth = %d, reference.MaxDepth = %d: the converters must refuse the same images", maxTypedDepth, reference.MaxDepth)
	}
}

// convertBoth runs both converters and checks that they agree; it returns
// the fast path's result.
func convertBoth(t *testing.T, image []byte, f Format) ([]byte, error) {
	t.Helper()
	got, err := ConvertImage(nil, image, f)
	ref, refErr := referenceConvert(image, f)
	if (err == nil) != (refErr == nil) {
		t.Errorf("%v: ConvertImage(%q) error %v, referenceConvert error %v", f, image, err, refErr)
	}
	if err == nil && refErr == nil && !bytes.Equal(got, ref) {
		t.Errorf("%v: ConvertImage(%q) = %s, referenceConvert = %s", f, image, got, ref)
	}
	return got, err
}

func TestConvertImage(t *testing.T) {
	for _, tc := range convertCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []Format{FormatJSON, FormatDynamoDBJSON} {
				want := tc.json
				if f == FormatDynamoDBJSON {
					want = tc.ddb
				}
				got, err := convertBoth(t, []byte(tc.image), f)
				switch {
				case tc.err && err == nil:
					t.Errorf("%v: ConvertImage(%q) = %s, want an error", f, tc.image, got)
				case !tc.err && err != nil:
					t.Errorf("%v: ConvertImage(%q) error %v, want %s", f, tc.image, err, want)
				case !tc.err && string(got) != want:
					t.Errorf("%v: ConvertImage(%q): got %s, want %s", f, tc.image, got, want)
				}
				if err != nil {
					var ce *ConversionError
					var se *syntaxError
					if !errors.As(err, &ce) && !errors.As(err, &se) {
						t.Errorf("%v: ConvertImage(%q) error %T %v, want a *ConversionError or a syntax error", f, tc.image, err, err)
					}
				}
			}
		})
	}
}

// TestConvertImageAppends checks that ConvertImage appends to dst and
// leaves it as it was on error.
func TestConvertImageAppends(t *testing.T) {
	prefix := []byte(`{"keys":`)
	tests := []struct {
		name  string
		image string
		want  string
	}{
		{"converted", `{"b":{"N":"2"},"a":{"S":"x"}}`, `{"keys":{"a":"x","b":2}`},
		{"error", `{"b":{"N":"2"},"a":{"S":"x"},"c":{"X":"1"}}`, `{"keys":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := append(make([]byte, 0, 256), prefix...)
			got, _ := ConvertImage(dst, []byte(tc.image), FormatJSON)
			if string(got) != tc.want {
				t.Errorf("ConvertImage(%q, %q): got %s, want %s", prefix, tc.image, got, tc.want)
			}
		})
	}
}

// TestConvertImageErrorPath checks that conversion errors name the
// attribute they are about.
func TestConvertImageErrorPath(t *testing.T) {
	tests := []struct {
		image string
		path  string
	}{
		{`{"price":{"N":"x"}}`, "price"},
		{`{"lines":{"L":[{"S":"a"},{"M":{"price":{"N":"x"}}}]}}`, "lines[1].price"},
		{`{"tags":{"SS":["a",1]}}`, "tags[1]"},
		{`{"m":{"M":{"l":{"L":[{"L":[{"B":"!"}]}]}}}}`, "m.l[0][0]"},
		{`{"a":{"S":"1"},"a":{"S":"2"}}`, "a"},
		{`{"v":{"S":"x","N":"1"}}`, "v"},
	}
	for _, tc := range tests {
		_, err := ConvertImage(nil, []byte(tc.image), FormatJSON)
		var ce *ConversionError
		if !errors.As(err, &ce) {
			t.Errorf("ConvertImage(%q) error %v, want a *ConversionError", tc.image, err)
			continue
		}
		if ce.Path != tc.path {
			t.Errorf("ConvertImage(%q) error path: got %q, want %q", tc.image, ce.Path, tc.path)
		}
	}
}

// eventImages returns the Keys and OldImage of every record in the events/
// samples.
func eventImages(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "events", pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("glob events/%s: %v (%d files)", pattern, err, len(files))
	}
	var images [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		var ev struct {
			Records []struct {
				Dynamodb struct {
					Keys     json.RawMessage
					OldImage json.RawMessage
					NewImage json.RawMessage
				} `json:"dynamodb"`
			}
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		for _, r := range ev.Records {
			for _, im := range []json.RawMessage{r.Dynamodb.Keys, r.Dynamodb.OldImage, r.Dynamodb.NewImage} {
				if len(im) > 0 && string(im) != "null" {
					images = append(images, im)
				}
			}
		}
	}
	return images
}

// TestConvertEventImages checks both converters agree on every image of
// the sample events.
func TestConvertEventImages(t *testing.T) {
	images := eventImages(t, "*.json")
	for _, im := range images {
		for _, f := range []Format{FormatJSON, FormatDynamoDBJSON} {
			got, err := convertBoth(t, im, f)
			if err == nil && !json.Valid(got) {
				t.Errorf("%v: ConvertImage(%s) = %s, not valid JSON", f, im, got)
			}
		}
	}
}

// TestReferenceDynamoDBJSONIsCanonical checks that converting DynamoDB JSON
// output again changes nothing.
func TestReferenceDynamoDBJSONIsCanonical(t *testing.T) {
	for _, tc := range convertCases {
		if tc.err {
			continue
		}
		got, err := reference.DynamoDBJSON([]byte(tc.ddb))
		if err != nil || string(got) != tc.ddb {
			t.Errorf("%s: reference.DynamoDBJSON(%s): got %s, %v, want it unchanged", tc.name, tc.ddb, got, err)
		}
	}
}

func BenchmarkConvertImage(b *testing.B) {
	images := eventImages(b, "ttl-batch.json")
	var size int64
	for _, im := range images {
		size += int64(len(im))
	}
	for _, f := range []Format{FormatJSON, FormatDynamoDBJSON} {
		b.Run("fast/"+f.String(), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				for _, im := range images {
					var err error
					if dst, err = ConvertImage(dst[:0], im, f); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run("reference/"+f.String(), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, im := range images {
					if _, err := referenceConvert(im, f); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
