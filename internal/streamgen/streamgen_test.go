package streamgen

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestEventIsValidAndSized(t *testing.T) {
	g := New(Options{Seed: 1, TTLShare: 0.5, ItemBytes: 1000})
	recs := g.Batch(200)
	ev := Event(recs)
	var parsed struct {
		Records []struct {
			EventName    string
			UserIdentity *struct{ Type, PrincipalID string } `json:"userIdentity"`
			Dynamodb     struct {
				SequenceNumber string
				OldImage       json.RawMessage
			} `json:"dynamodb"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(ev, &parsed); err != nil {
		t.Fatalf("json.Unmarshal(Event): %v", err)
	}
	if len(parsed.Records) != len(recs) {
		t.Fatalf("got %d records, want %d", len(parsed.Records), len(recs))
	}
	ttl := 0
	for i, p := range parsed.Records {
		r := recs[i]
		if (p.UserIdentity != nil) != (r.Kind == TTLRemove) {
			t.Errorf("record %d: userIdentity present = %v, want %v", i, p.UserIdentity != nil, r.Kind == TTLRemove)
		}
		if p.Dynamodb.SequenceNumber != r.Seq {
			t.Errorf("record %d: SequenceNumber = %s, want %s", i, p.Dynamodb.SequenceNumber, r.Seq)
		}
		if i > 0 && len(r.Seq) == len(recs[i-1].Seq) && r.Seq <= recs[i-1].Seq {
			t.Errorf("record %d: SequenceNumber %s not above %s", i, r.Seq, recs[i-1].Seq)
		}
		if r.Kind == TTLRemove {
			ttl++
			if n := len(r.OldImage); n < 950 || n > 1050 {
				t.Errorf("record %d: image of %d bytes, want about 1000", i, n)
			}
		}
	}
	if ttl < 60 || ttl > 140 {
		t.Errorf("got %d TTL records of 200, want about 100", ttl)
	}
	again := Event(New(Options{Seed: 1, TTLShare: 0.5, ItemBytes: 1000}).Batch(200))
	if string(again) != string(ev) {
		t.Error("same seed gave different records")
	}
}

func TestCompactItems(t *testing.T) {
	recs := New(Options{Seed: 2, ItemBytes: 100}).Batch(100)
	types := map[string]bool{}
	for i, r := range recs {
		var v map[string]map[string]json.RawMessage
		if err := json.Unmarshal(r.OldImage, &v); err != nil {
			t.Fatalf("record %d: image is not DynamoDB JSON: %v", i, err)
		}
		for _, av := range v {
			for typ := range av {
				types[typ] = true
			}
		}
		if n := len(r.OldImage); n < 80 || n > 160 {
			t.Errorf("record %d: image of %d bytes, want about 100", i, n)
		}
	}
	for _, typ := range []string{"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "M", "L"} {
		if !types[typ] {
			t.Errorf("no attribute of type %s in the batch", typ)
		}
	}
}

// TestRecordCarriesKeysAndImage: a record's JSON holds Keys and, for
// deletions, OldImage byte for byte as the Record gives them, so that
// reading them back from the JSON (as the soak's content check does) gives
// what was generated.
func TestRecordCarriesKeysAndImage(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"compact items", Options{Seed: 3, TTLShare: 0.5, ItemBytes: 100, MaxItemBytes: 600}},
		{"full items", Options{Seed: 4, TTLShare: 0.5, ItemBytes: 800, MaxItemBytes: 5000}},
		{"keys only", Options{Seed: 5, TTLShare: 0.5, KeysOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			removes := 0
			for i, r := range New(tt.o).Batch(200) {
				var p struct {
					Dynamodb struct {
						Keys     json.RawMessage
						OldImage json.RawMessage
					} `json:"dynamodb"`
				}
				if err := json.Unmarshal(r.JSON, &p); err != nil {
					t.Fatalf("record %d: json.Unmarshal: %v", i, err)
				}
				if !bytes.Equal(p.Dynamodb.Keys, r.Keys) {
					t.Errorf("record %d: Keys in the JSON %s, want %s", i, p.Dynamodb.Keys, r.Keys)
				}
				if r.Kind != TTLRemove && r.Kind != UserRemove {
					continue
				}
				removes++
				if !bytes.Equal(p.Dynamodb.OldImage, r.OldImage) {
					t.Errorf("record %d: OldImage in the JSON %.100s, want %.100s", i, p.Dynamodb.OldImage, r.OldImage)
				}
				if tt.o.KeysOnly != (r.OldImage == nil) {
					t.Errorf("record %d: OldImage %.100s with KeysOnly %v", i, r.OldImage, tt.o.KeysOnly)
				}
			}
			if removes == 0 {
				t.Error("no deletions generated: the case checks no image")
			}
		})
	}
}
