package esm

import (
	"testing"
	"time"
)

func TestParseResponse(t *testing.T) {
	batch := []Record{
		{Data: []byte(`{}`), SequenceNumber: "99"},
		{Data: []byte(`{}`), SequenceNumber: "100"},
		{Data: []byte(`{}`), SequenceNumber: "101"},
	}
	tests := []struct {
		name   string
		body   string
		want   Verdict
		lowest int
	}{
		// Successes, as documented and as recorded against AWS.
		{"no body", ``, Success, 0},
		{"null", `null`, Success, 0},
		{"empty string", `""`, Success, 0},
		{"empty list", `[]`, Success, 0},
		{"empty object", `{}`, Success, 0},
		{"empty batchItemFailures", `{"batchItemFailures":[]}`, Success, 0},
		{"null batchItemFailures", `{"batchItemFailures":null}`, Success, 0},
		{"other keys only", `{"statusCode":200}`, Success, 0},
		{"whitespace", " \n{\"batchItemFailures\": [ ]}\n", Success, 0},
		// Partial: the lowest sequence number, compared as a number.
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":"101"}]}`, Partial, 2},
		{"lowest of several", `{"batchItemFailures":[{"itemIdentifier":"101"},{"itemIdentifier":"100"}]}`, Partial, 1},
		{"numeric not lexical", `{"batchItemFailures":[{"itemIdentifier":"100"},{"itemIdentifier":"99"}]}`, Partial, 0},
		{"repeated", `{"batchItemFailures":[{"itemIdentifier":"101"},{"itemIdentifier":"101"}]}`, Partial, 2},
		{"extra fields", `{"batchItemFailures":[{"itemIdentifier":"100","reason":"x"}],"other":1}`, Partial, 1},
		// Whole batch failed.
		{"empty itemIdentifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, WholeBatchFailed, 0},
		{"null itemIdentifier", `{"batchItemFailures":[{"itemIdentifier":null}]}`, WholeBatchFailed, 0},
		{"number itemIdentifier", `{"batchItemFailures":[{"itemIdentifier":101}]}`, WholeBatchFailed, 0},
		{"missing itemIdentifier", `{"batchItemFailures":[{"foo":"101"}]}`, WholeBatchFailed, 0},
		{"wrong case", `{"batchItemFailures":[{"ItemIdentifier":"101"}]}`, WholeBatchFailed, 0},
		{"not in the batch", `{"batchItemFailures":[{"itemIdentifier":"102"}]}`, WholeBatchFailed, 0},
		{"one bad among good", `{"batchItemFailures":[{"itemIdentifier":"100"},{"itemIdentifier":""}]}`, WholeBatchFailed, 0},
		{"eventID instead", `{"batchItemFailures":[{"itemIdentifier":"c4ca4238a0b923820dcc509a6f75849b"}]}`, WholeBatchFailed, 0},
		{"null entry", `{"batchItemFailures":[null]}`, WholeBatchFailed, 0},
		{"batchItemFailures not an array", `{"batchItemFailures":{"itemIdentifier":"100"}}`, WholeBatchFailed, 0},
		{"not JSON", `ok`, WholeBatchFailed, 0},
		{"a number", `42`, WholeBatchFailed, 0},
		{"non-empty array", `[{"itemIdentifier":"100"}]`, WholeBatchFailed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseResponse([]byte(tt.body), batch)
			if got.Verdict != tt.want {
				t.Fatalf("ParseResponse(%s): got %v (%s), want %v", tt.body, got.Verdict, got.Reason, tt.want)
			}
			if got.Verdict == Partial && got.Lowest != tt.lowest {
				t.Errorf("ParseResponse(%s): got lowest %d, want %d", tt.body, got.Lowest, tt.lowest)
			}
			if (got.Verdict == WholeBatchFailed) != (got.Reason != "") {
				t.Errorf("ParseResponse(%s): got reason %q with verdict %v", tt.body, got.Reason, got.Verdict)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{``, `null`, `[]`, `{}`, `{"batchItemFailures":[{"itemIdentifier":"7"}]}`,
		`{"batchItemFailures":[{"itemIdentifier":""}]}`, `{"batchItemFailures":null}`, `[1]`} {
		f.Add([]byte(s))
	}
	batch := []Record{{Data: []byte(`{}`), SequenceNumber: "7"}, {Data: []byte(`{}`), SequenceNumber: "8"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := ParseResponse(body, batch)
		switch got.Verdict {
		case Success:
		case Partial:
			if got.Lowest < 0 || got.Lowest >= len(batch) {
				t.Errorf("ParseResponse(%q): lowest %d outside the batch", body, got.Lowest)
			}
		case WholeBatchFailed:
			if got.Reason == "" {
				t.Errorf("ParseResponse(%q): whole batch failed without a reason", body)
			}
		default:
			t.Errorf("ParseResponse(%q): verdict %v", body, got.Verdict)
		}
	})
}

func TestCompareSequenceNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"9", "10", -1},
		{"10", "9", 1},
		{"100000000000000000000000000000000000001", "100000000000000000000000000000000000002", -1},
		{"202328600001712385967261751", "202328600001712385967261751", 0},
		{"800000000003126276362", "99999999999999999999", 1},
	}
	for _, tt := range tests {
		if got := CompareSequenceNumbers(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareSequenceNumbers(%s, %s): got %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRecordFromJSON(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		seq     string
		created time.Time
		wantErr bool
	}{
		{
			name:    "DynamoDB record",
			raw:     `{"eventID":"1","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1763856000,"SequenceNumber":"100000000000000000001"}}`,
			seq:     "100000000000000000001",
			created: time.Unix(1763856000, 0).UTC(),
		},
		{
			name:    "fractional seconds",
			raw:     `{"dynamodb":{"ApproximateCreationDateTime":1763856000.5,"SequenceNumber":"7"}}`,
			seq:     "7",
			created: time.Unix(1763856000, 5e8).UTC(),
		},
		{name: "no creation time", raw: `{"dynamodb":{"SequenceNumber":"7"}}`, seq: "7"},
		{name: "no sequence number", raw: `{"dynamodb":{}}`, wantErr: true},
		{name: "sequence number not decimal", raw: `{"dynamodb":{"SequenceNumber":"7a"}}`, wantErr: true},
		{name: "creation time a string", raw: `{"dynamodb":{"SequenceNumber":"7","ApproximateCreationDateTime":"2025-11-23"}}`, wantErr: true},
		{name: "not JSON", raw: `{`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := RecordFromJSON([]byte(tt.raw))
			if (err != nil) != tt.wantErr {
				t.Fatalf("RecordFromJSON: got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.SequenceNumber != tt.seq || !r.Created.Equal(tt.created) || string(r.Data) != tt.raw {
				t.Errorf("RecordFromJSON: got %s %v %s, want %s %v %s", r.SequenceNumber, r.Created, r.Data, tt.seq, tt.created, tt.raw)
			}
		})
	}
}

func TestBuildPayload(t *testing.T) {
	recs := []Record{{Data: []byte(`{"a":1}`)}, {Data: []byte(`{"b":[2]}`)}}
	tests := []struct {
		records []Record
		want    string
	}{
		{nil, `{"Records":[]}`},
		{recs[:1], `{"Records":[{"a":1}]}`},
		{recs, `{"Records":[{"a":1},{"b":[2]}]}`},
	}
	for _, tt := range tests {
		sh := Shard{ID: "s"}
		got, err := sh.BuildPayload(tt.records)
		if err != nil || string(got) != tt.want {
			t.Errorf("BuildPayload: got %s, %v, want %s", got, err, tt.want)
		}
		if n := sh.PayloadSize(tt.records); n != len(tt.want) {
			t.Errorf("PayloadSize: got %d, want %d", n, len(tt.want))
		}
	}
}
