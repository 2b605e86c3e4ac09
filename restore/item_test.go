package restore

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func TestItemDecoder(t *testing.T) {
	typed := `{"pk":{"S":"a"},"n":{"N":"12345678901234567890123456789012345678"},"s":{"SS":["x"]}}`
	tests := []struct {
		name    string
		line    archive.Line
		hints   TypeHints
		keys    []KeyAttr
		want    string // the item in DynamoDB JSON
		fromRaw bool
		wantErr error
	}{
		{"dynamodb-json", archive.Line{Format: "dynamodb-json", Item: json.RawMessage(typed)}, nil, nil,
			`{"n":{"N":"12345678901234567890123456789012345678"},"pk":{"S":"a"},"s":{"SS":["x"]}}`, false, nil},
		{"item_gzip", archive.Line{Format: "dynamodb-json", Item: json.RawMessage("null"), ItemGzip: gz([]byte(typed))}, nil, nil,
			`{"n":{"N":"12345678901234567890123456789012345678"},"pk":{"S":"a"},"s":{"SS":["x"]}}`, false, nil},
		{"json numbers exact", archive.Line{Item: json.RawMessage(`{"n":1E+125,"m":0.10000000000000000000000000000000000001}`)}, nil, nil,
			`{"m":{"N":"0.10000000000000000000000000000000000001"},"n":{"N":"1E+125"}}`, false, nil},
		// Numbers DynamoDB would refuse are refused here, with the reason,
		// and without exact arithmetic on them (issue 23, finding 8).
		{"json number out of range", archive.Line{Item: json.RawMessage(`{"n":1e999999}`)}, nil, nil, "", false, archive.ErrNumber},
		{"json number of 39 digits", archive.Line{Item: json.RawMessage(`{"n":123456789012345678901234567890123456789}`)}, nil, nil, "", false, archive.ErrNumber},
		{"typed N not a number", archive.Line{Format: "dynamodb-json", Item: json.RawMessage(`{"n":{"N":"abc"}}`)}, nil, nil, "", false, archive.ErrNumber},
		{"typed NS out of range", archive.Line{Format: "dynamodb-json", Item: json.RawMessage(`{"n":{"NS":["1","1E+126"]}}`)}, nil, nil, "", false, archive.ErrNumber},
		{"hinted N", archive.Line{Item: json.RawMessage(`{"n":"1E-131"}`)}, TypeHints{"n": "N"}, nil, "", false, archive.ErrNumber},
		{"json binary key from the key schema", archive.Line{Item: json.RawMessage(`{"id":"AAE=","b":"AAE="}`)}, nil, []KeyAttr{{Name: "id", Type: "B", KeyType: "HASH"}},
			`{"b":{"S":"AAE="},"id":{"B":"AAE="}}`, false, nil},
		{"json hints in lists", archive.Line{Item: json.RawMessage(`{"l":[{"t":["a"]},{"t":["b","c"]}]}`)}, TypeHints{"l[].t": "SS"}, nil,
			`{"l":{"L":[{"M":{"t":{"SS":["a"]}}},{"M":{"t":{"SS":["b","c"]}}}]}}`, false, nil},
		{"raw with OldImage", archive.Line{Error: "x", Item: json.RawMessage("null"), Raw: json.RawMessage(`{"dynamodb":{"OldImage":` + typed + `}}`)}, nil, nil,
			`{"n":{"N":"12345678901234567890123456789012345678"},"pk":{"S":"a"},"s":{"SS":["x"]}}`, true, nil},
		{"raw_base64 valid JSON", archive.Line{Error: "x", RawBase64: []byte(`{"dynamodb":{"OldImage":{"pk":{"S":"a"}}}}`)}, nil, nil,
			`{"pk":{"S":"a"}}`, true, nil},
		{"raw without OldImage", archive.Line{Error: "x", Raw: json.RawMessage(`{"dynamodb":{"Keys":{"pk":{"S":"a"}}}}`)}, nil, nil, "", true, ErrNoItem},
		{"keys only", archive.Line{Keys: json.RawMessage(`{"pk":"a"}`), Item: json.RawMessage("null")}, nil, nil, "", false, ErrNoItem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, fromRaw, err := newItemDecoder(tt.hints, tt.keys).item(tt.line)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("item: got error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := string(AppendTypedJSON(nil, it)); got != tt.want || fromRaw != tt.fromRaw {
				t.Errorf("item: got %s (from raw %v), want %s (from raw %v)", got, fromRaw, tt.want, tt.fromRaw)
			}
		})
	}
	bad := archive.Line{Error: "x", RawBase64: []byte{0xff, 0xfe}}
	if _, _, err := newItemDecoder(nil, nil).item(bad); err == nil {
		t.Errorf("item of a raw record that is not UTF-8: got nil, want an error")
	}
}

func FuzzDecodeTypedItem(f *testing.F) {
	f.Add([]byte(`{"a":{"L":[{"M":{"b":{"BS":["AAE="]}}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := DecodeTypedItem(data)
		if err != nil {
			return
		}
		// What is written reads back the same.
		b := AppendTypedJSON(nil, it)
		again, err := DecodeTypedItem(b)
		if err != nil {
			t.Fatalf("DecodeTypedItem(AppendTypedJSON(...)) = %v for %s", err, b)
		}
		if b2 := AppendTypedJSON(nil, again); string(b2) != string(b) {
			t.Fatalf("round trip: %s became %s", b, b2)
		}
	})
}
