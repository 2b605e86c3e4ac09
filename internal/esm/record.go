package esm

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Record is one stream record as Lambda puts it in the Records array.
type Record struct {
	// Data is the whole record, as JSON.
	Data json.RawMessage
	// SequenceNumber is dynamodb.SequenceNumber: a decimal string without
	// leading zeros. It is the itemIdentifier of partial batch responses.
	SequenceNumber string
	// Created is dynamodb.ApproximateCreationDateTime, the base of the
	// record's age. The zero time means unknown: the record never ages.
	Created time.Time
}

// Shard is the ordered records of one stream shard.
type Shard struct {
	ID      string // the shardId written to DDBStreamBatchInfo
	Records []Record
}

// RecordFromJSON builds a Record from one element of an event's Records
// array, reading dynamodb.SequenceNumber and
// dynamodb.ApproximateCreationDateTime (epoch seconds) from it.
func RecordFromJSON(raw []byte) (Record, error) {
	var r struct {
		DynamoDB struct {
			SequenceNumber              string       `json:"SequenceNumber"`
			ApproximateCreationDateTime *json.Number `json:"ApproximateCreationDateTime"`
		} `json:"dynamodb"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Record{}, fmt.Errorf("read stream record: %w", err)
	}
	rec := Record{Data: json.RawMessage(raw), SequenceNumber: r.DynamoDB.SequenceNumber}
	if err := checkSequenceNumber(rec.SequenceNumber); err != nil {
		return Record{}, fmt.Errorf("read stream record: %w", err)
	}
	if n := r.DynamoDB.ApproximateCreationDateTime; n != nil {
		f, err := n.Float64()
		if err != nil || f < 0 || f > math.MaxInt32*4 {
			return Record{}, fmt.Errorf("read stream record %s: ApproximateCreationDateTime %q is not epoch seconds", rec.SequenceNumber, n.String())
		}
		sec, frac := math.Modf(f)
		rec.Created = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	return rec, nil
}

// CompareSequenceNumbers orders two sequence numbers numerically: the
// shorter is the smaller, and equal lengths compare as strings. Both must
// be decimal strings without leading zeros, as DynamoDB writes them; they
// can have more digits than any integer type holds.
func CompareSequenceNumbers(a, b string) int {
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return strings.Compare(a, b)
}

func checkSequenceNumber(s string) error {
	if s == "" {
		return fmt.Errorf("empty sequence number")
	}
	if len(s) > 1 && s[0] == '0' {
		return fmt.Errorf("sequence number %q has a leading zero", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("sequence number %q is not a decimal string", s)
		}
	}
	return nil
}

// checkShard makes sure a shard can be processed: an ID, valid JSON
// records, sequence numbers strictly increasing.
func checkShard(sh Shard) error {
	if sh.ID == "" {
		return fmt.Errorf("shard without an ID")
	}
	for i, r := range sh.Records {
		if err := checkSequenceNumber(r.SequenceNumber); err != nil {
			return fmt.Errorf("shard %s, record %d: %w", sh.ID, i, err)
		}
		if !json.Valid(r.Data) {
			return fmt.Errorf("shard %s, record %s: data is not valid JSON", sh.ID, r.SequenceNumber)
		}
		if i > 0 && CompareSequenceNumbers(sh.Records[i-1].SequenceNumber, r.SequenceNumber) >= 0 {
			return fmt.Errorf("shard %s: sequence number %s does not follow %s", sh.ID, r.SequenceNumber, sh.Records[i-1].SequenceNumber)
		}
	}
	return nil
}
