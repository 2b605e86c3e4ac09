package archive

import (
	"encoding/json"
	"fmt"
	"time"
)

// Line is one archived item as it is stored in S3: a single JSON object
// followed by "\n". Every archive object is a concatenation of such lines
// (gzipped by Firehose). Field order on the wire is the order below.
//
// In FormatJSON, Keys and Item are plain JSON (numbers with every digit kept,
// binary as base64 strings, sets as arrays). In FormatDynamoDBJSON they are
// DynamoDB's typed JSON ({"S":"..."}, {"N":"..."}, ...) and Format is
// "dynamodb-json".
//
// A record whose image could not be converted is still archived: Error says
// why, Raw holds the stream record exactly as received (compacted), or
// RawBase64 holds its bytes when they are not valid UTF-8 JSON, or, when
// the line would not fit in one Firehose record otherwise, RawGzip holds
// them gzipped (and the item, if any, is in ItemGzip).
//
// An item whose line would exceed Firehose's record limit is stored with
// Item null and ItemGzip set to the base64 of the gzipped item JSON.
type Line struct {
	// V is the line's format version; absent (0) in version 1, the only
	// one so far (see [FormatVersion]).
	V              int             `json:"v,omitempty"`
	Table          string          `json:"table"`
	Region         string          `json:"region"`
	EventID        string          `json:"event_id"`
	SequenceNumber string          `json:"sequence_number"`
	DeletedAt      *time.Time      `json:"deleted_at"`
	Format         string          `json:"format,omitempty"`
	Keys           json.RawMessage `json:"keys"`
	Item           json.RawMessage `json:"item"`
	ItemGzip       []byte          `json:"item_gzip,omitempty"`
	Error          string          `json:"error,omitempty"`
	Raw            json.RawMessage `json:"raw,omitempty"`
	RawBase64      []byte          `json:"raw_base64,omitempty"`
	RawGzip        []byte          `json:"raw_gzip,omitempty"`
	// RecoveredFrom, on a line that no stream delivered but backfill
	// recovered from a table export, is the export's ARN; TTL is then
	// "inferred" (the export does not say which deletes TTL made: an
	// expired item's TTL attribute was at or before the write time), or
	// Delete is "any" (every deletion recovered, TTL's or not). See
	// [LineWriter].
	RecoveredFrom string `json:"recovered_from,omitempty"`
	TTL           string `json:"ttl,omitempty"`
	Delete        string `json:"delete,omitempty"`
}

// FormatDynamoDBJSONName is the value of Line.Format for lines whose keys and
// item are in DynamoDB's typed JSON.
const FormatDynamoDBJSONName = "dynamodb-json"

// ParseLine decodes one archive line (with or without its trailing
// newline). It refuses a line of a format version newer than
// [FormatVersion] (the error wraps [ErrNewerFormat]).
func ParseLine(data []byte) (Line, error) {
	var l Line
	if err := json.Unmarshal(data, &l); err != nil {
		return Line{}, fmt.Errorf("parse archive line: %w", err)
	}
	if err := checkFormatVersion(l.V); err != nil {
		return Line{}, fmt.Errorf("parse archive line: %w", err)
	}
	return l, nil
}

// RawBytes returns the stream record of a line archived raw, as it was
// received: from Raw, RawGzip (gunzipped) or RawBase64. It returns nil
// for a line without any.
func (l Line) RawBytes() ([]byte, error) {
	switch {
	case len(l.Raw) > 0:
		return l.Raw, nil
	case len(l.RawGzip) > 0:
		b, err := gunzip(l.RawGzip)
		if err != nil {
			return nil, fmt.Errorf("raw_gzip of event %s: %w", l.EventID, err)
		}
		return b, nil
	}
	return l.RawBase64, nil
}

// ItemJSON returns the item's JSON, decompressing ItemGzip when the item was
// stored compressed. It returns nil when the line has no item (a stream
// without old images, or a record that could not be converted).
func (l Line) ItemJSON() (json.RawMessage, error) {
	if len(l.ItemGzip) > 0 {
		b, err := gunzip(l.ItemGzip)
		if err != nil {
			return nil, fmt.Errorf("item_gzip of event %s: %w", l.EventID, err)
		}
		return b, nil
	}
	if len(l.Item) == 0 || string(l.Item) == "null" {
		return nil, nil
	}
	return l.Item, nil
}
