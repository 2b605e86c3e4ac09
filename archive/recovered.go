package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Lines recovered from a table export.
//
// A TTL deletion that no stream delivered in time can still be in one of
// DynamoDB's incremental exports (see the backfill package). Such a line
// is written by the same converter and line writer as the stream's
// (appendLine), so that an item over Firehose's record limit gets
// item_gzip exactly as the function gives it, with these differences:
//
//   - event_id is [RecoveredEventID]: the export has no stream event id;
//   - sequence_number is "0" (RecoveredSequenceNumber), below every
//     stream sequence number, so that at an equal deleted_at a version
//     archived from the stream wins in restore;
//   - deleted_at is the export's write time, microseconds kept;
//   - after the other members, "recovered_from" names the export's ARN and
//     "ttl":"inferred" says TTL was inferred, or "delete":"any" that every
//     deletion was taken.

// RecoveredSequenceNumber is the sequence_number of every recovered line.
const RecoveredSequenceNumber = "0"

// Values of the provenance members of a recovered line.
const (
	TTLInferred = "inferred" // "ttl": the TTL attribute was at or before the write time
	DeleteAny   = "any"      // "delete": every deletion was taken, TTL's or not
)

// ErrLineTooLarge is returned for an item whose line does not fit one
// Firehose record even with the item gzipped.
var ErrLineTooLarge = errors.New("archive line over 1,000 KiB even with the item gzipped")

// Recovered is what a recovered line says besides its keys and item.
type Recovered struct {
	Table, Region string
	// EventID is the line's event_id: RecoveredEventID, 32 hex digits.
	EventID string
	// DeletedAt is the export's write time of the deletion.
	DeletedAt time.Time
	// From is the ARN of the export the item was recovered from.
	From string
	// AnyDelete marks a line taken with every deletion ("delete":"any")
	// instead of inferred from the TTL attribute ("ttl":"inferred").
	AnyDelete bool
}

// LineWriter writes recovered lines in a Format. It keeps buffers between
// calls, so it is not safe for concurrent use: give each goroutine its
// own.
type LineWriter struct {
	b     batch
	at    []byte
	prov  []byte
	event []byte
}

// NewLineWriter returns a LineWriter for format f.
func NewLineWriter(f Format) *LineWriter {
	w := &LineWriter{}
	w.b.c.format = f
	return w
}

// Append appends the archive line (with its "\n") of an item recovered
// from an export: keys and oldImage are DynamoDB JSON, as the export has
// them. A conversion error (a *ConversionError, or a syntax error) or
// ErrLineTooLarge returns dst as it was.
func (w *LineWriter) Append(dst []byte, rec Recovered, keys, oldImage []byte) ([]byte, error) {
	if !isPlainID(rec.EventID) {
		return dst, fmt.Errorf("event id %q: want letters, digits and dashes", rec.EventID)
	}
	b := &w.b
	b.conv = b.conv[:0]
	b.prev.reset()
	r := &b.fields
	*r = recordFields{keys: [2]int{-1, -1}, item: [2]int{-1, -1}, problems: r.problems[:0]}
	for i, img := range [2][]byte{keys, oldImage} {
		s := scanner{data: img}
		n := len(b.conv)
		out, err := b.c.image(b.conv, &s)
		if err == nil {
			if s.ws(); s.pos != len(img) {
				err = s.errorf("data after the image")
			}
		}
		if err != nil {
			b.conv = b.conv[:n]
			return dst, fmt.Errorf("%s: %w", [2]string{"Keys", "OldImage"}[i], err)
		}
		b.conv = out
		span := [2]int{n, len(out)}
		if i == 0 {
			r.keys = span
		} else {
			r.item = span
		}
	}
	w.event = append(w.event[:0], rec.EventID...)
	r.eventID = jstr{raw: w.event, ok: true}
	r.seq = jstr{raw: []byte(RecoveredSequenceNumber), ok: true}
	w.at = rec.DeletedAt.UTC().AppendFormat(w.at[:0], time.RFC3339Nano)
	w.prov = append(w.prov[:0], `,"recovered_from":`...)
	w.prov = appendQuoted(w.prov, []byte(rec.From))
	if rec.AnyDelete {
		w.prov = append(w.prov, `,"delete":"`+DeleteAny+`"`...)
	} else {
		w.prov = append(w.prov, `,"ttl":"`+TTLInferred+`"`...)
	}
	m := lineMeta{table: []byte(rec.Table), region: []byte(rec.Region), deletedAt: w.at, provenance: w.prov}
	out, fits := b.appendFitted(dst, r, &m, nil)
	if !fits {
		return dst, ErrLineTooLarge
	}
	return out, nil
}

// isPlainID reports whether s is a non-empty run of what JSON writes as
// it is and event ids hold: letters, digits and dashes.
func isPlainID(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}

// RecoveredEventID is the event_id of a recovered line: the first 32 hex
// digits (16 bytes, what verify counts event ids by) of the SHA-256 of
// the table name, a zero byte, the canonical keys (AppendCanonicalKeys),
// a zero byte, and the write time in Unix microseconds as a decimal
// number. The same deletion read from the same export, or from two
// exports whose windows overlap, gets the same id: a second backfill
// writes nothing new, and a duplicate would count once.
func RecoveredEventID(table string, canonicalKeys []byte, at time.Time) string {
	h := sha256.New()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write(canonicalKeys)
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, at.UnixMicro(), 10))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
