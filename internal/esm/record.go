package esm

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Record is one stream record as Lambda puts it in the Records array.
type Record struct {
	// Data is the whole record, as JSON, when its shard has no Source.
	Data json.RawMessage
	// Offset and Size place the record's JSON in its shard's Source, when
	// the shard has one; Data is then not used.
	Offset int64
	Size   int
	// SequenceNumber is dynamodb.SequenceNumber: a decimal string without
	// leading zeros. It is the itemIdentifier of partial batch responses.
	SequenceNumber string
	// Created is dynamodb.ApproximateCreationDateTime, the base of the
	// record's age. The zero time means unknown: the record never ages.
	Created time.Time
}

// Shard is the ordered records of one stream shard.
//
// The records' JSON is held in one of two ways. Without a Source, each
// Record carries it in Data: the simple form, for tests and small streams.
// With a Source, record r is the r.Size bytes at r.Offset in it, read when
// a payload is built: a long soak keeps gigabytes of stream in a file this
// way, out of the Go heap. Everything that needs a record's bytes goes
// through [Shard.RecordData] (or its appending form), so the two forms
// behave the same.
type Shard struct {
	ID      string // the shardId written to DDBStreamBatchInfo
	Records []Record
	// Source, when set, holds the records' JSON. Run reads it from one
	// goroutine per shard, and the caller may read it too, so it must
	// allow concurrent ReadAt calls, as *os.File and *bytes.Reader do.
	Source io.ReaderAt
}

// RecordData returns the JSON of r, a record of the shard: r.Data, or a
// fresh copy of its bytes in Source.
func (sh Shard) RecordData(r Record) ([]byte, error) {
	if sh.Source == nil {
		return r.Data, nil
	}
	return sh.appendRecord(nil, r)
}

// recordSize is the length of r's JSON, without reading it.
func (sh Shard) recordSize(r Record) int {
	if sh.Source == nil {
		return len(r.Data)
	}
	return r.Size
}

// appendRecord appends the JSON of r, a record of the shard, to b.
func (sh Shard) appendRecord(b []byte, r Record) ([]byte, error) {
	if sh.Source == nil {
		return append(b, r.Data...), nil
	}
	if r.Offset < 0 || r.Size <= 0 {
		return b, fmt.Errorf("shard %s, record %s: no data at offset %d, size %d", sh.ID, r.SequenceNumber, r.Offset, r.Size)
	}
	n := len(b)
	b = slices.Grow(b, r.Size)[:n+r.Size]
	// ReadAt may return io.EOF with the whole record when it ends the
	// source; a short read is an error.
	if got, err := sh.Source.ReadAt(b[n:], r.Offset); got < r.Size {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return b[:n], fmt.Errorf("shard %s: read record %s (%d bytes at %d): %w", sh.ID, r.SequenceNumber, r.Size, r.Offset, err)
	}
	return b, nil
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
// records (read from the Source, when the shard has one), sequence numbers
// strictly increasing.
func checkShard(sh Shard) error {
	if sh.ID == "" {
		return fmt.Errorf("shard without an ID")
	}
	var buf []byte
	for i, r := range sh.Records {
		if err := checkSequenceNumber(r.SequenceNumber); err != nil {
			return fmt.Errorf("shard %s, record %d: %w", sh.ID, i, err)
		}
		data, err := sh.appendRecord(buf[:0], r)
		if err != nil {
			return err
		}
		buf = data
		if !json.Valid(data) {
			return fmt.Errorf("shard %s, record %s: data is not valid JSON", sh.ID, r.SequenceNumber)
		}
		if i > 0 && CompareSequenceNumbers(sh.Records[i-1].SequenceNumber, r.SequenceNumber) >= 0 {
			return fmt.Errorf("shard %s: sequence number %s does not follow %s", sh.ID, r.SequenceNumber, sh.Records[i-1].SequenceNumber)
		}
	}
	return nil
}
