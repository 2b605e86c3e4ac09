package esm_test

import (
	"errors"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
)

// The TTL pattern from AWS-FACTS.md.
const ttlPattern = `{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`

func TestFilterPatternMatch(t *testing.T) {
	cases := []struct {
		name, pattern, record string
		want                  bool
	}{
		{"exact string", `{"a":["x"]}`, `{"a":"x"}`, true},
		{"case-sensitive", `{"a":["x"]}`, `{"a":"X"}`, false},
		{"any of the list", `{"a":["x","y"]}`, `{"a":"y"}`, true},
		{"absent field", `{"a":["x"]}`, `{"b":"x"}`, false},
		{"all fields (AND)", `{"a":["x"],"b":["y"]}`, `{"a":"x","b":"z"}`, false},
		{"extra record fields", `{"a":["x"]}`, `{"a":"x","b":"y"}`, true},
		{"nested object", `{"o":{"t":["S"],"p":["d"]}}`, `{"o":{"t":"S","p":"d","q":1}}`, true},
		{"nested mismatch", `{"o":{"t":["S"],"p":["d"]}}`, `{"o":{"t":"S","p":"e"}}`, false},
		{"nested, record not an object", `{"o":{"t":["S"]}}`, `{"o":"S"}`, false},
		{"nested, absent", `{"o":{"t":["S"]}}`, `{}`, false},
		{"string vs number", `{"a":["1"]}`, `{"a":1}`, false},
		{"number", `{"a":[1.0]}`, `{"a":1}`, true},
		{"big number exact", `{"a":[12345678901234567890]}`, `{"a":12345678901234567891}`, false},
		{"null", `{"a":[null]}`, `{"a":null}`, true},
		{"null vs absent", `{"a":[null]}`, `{}`, false},
		{"boolean", `{"a":[true]}`, `{"a":true}`, true},
		{"record list, element matches", `{"a":["x"]}`, `{"a":["w","x"]}`, true},
		{"record list, none matches", `{"a":["x"]}`, `{"a":["w"]}`, false},
		{"TTL delete", ttlPattern, `{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`, true},
		{"user delete", ttlPattern, `{"eventName":"REMOVE"}`, false},
		{"lower-case service", ttlPattern, `{"eventName":"REMOVE","userIdentity":{"type":"service","principalId":"dynamodb.amazonaws.com"}}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := esm.ParseFilterPattern(c.pattern)
			if err != nil {
				t.Fatalf("ParseFilterPattern(%s): %v", c.pattern, err)
			}
			got, err := p.MatchJSON([]byte(c.record))
			if err != nil {
				t.Fatalf("MatchJSON(%s): %v", c.record, err)
			}
			if got != c.want {
				t.Errorf("pattern %s on %s = %v, want %v", c.pattern, c.record, got, c.want)
			}
		})
	}
}

func TestParseFilterPatternRejects(t *testing.T) {
	for _, p := range []string{
		``,
		`[]`,
		`{}`,
		`{"a":"x"}`,                         // leaf values must be lists
		`{"a":[]}`,                          // matches nothing
		`{"a":{}}`,                          // empty object
		`{"a":[{"wild":1}]}`,                // content filters are not supported
		`{"a":[{"prefix":"arn"}]}`,          // (the TTL pattern needs none)
		`{"a":[{"anything-but":"REMOVE"}]}`, //
		`{"a":[{"exists":false}]}`,          //
		`{"a":[["x"]]}`,
		`{"a":["x"]} {"b":["y"]}`,
	} {
		if _, err := esm.ParseFilterPattern(p); !errors.Is(err, esm.ErrFilterPattern) {
			t.Errorf("ParseFilterPattern(%q) = %v, want ErrFilterPattern", p, err)
		}
	}
}

func FuzzFilterPattern(f *testing.F) {
	f.Add(ttlPattern, `{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`)
	f.Add(`{"a":[{"numeric":[">",0]}],"b":{"c":[null,1,"x"]}}`, `{"a":[1,2],"b":{"c":null}}`)
	f.Add(`{"a":[{"anything-but":["x"]}]}`, `{"a":"y"}`)
	f.Fuzz(func(t *testing.T, pattern, record string) {
		p, err := esm.ParseFilterPattern(pattern)
		if err != nil {
			return
		}
		first, err := p.MatchJSON([]byte(record))
		if err != nil {
			return
		}
		if again, _ := p.MatchJSON([]byte(record)); again != first {
			t.Fatalf("match is not deterministic for %s on %s", pattern, record)
		}
	})
}
