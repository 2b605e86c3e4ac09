package archive

import (
	"errors"
	"fmt"
	"time"
)

// LineHeader is what a reader needs of an archive line to count it: the
// source table and region, the stream record's event_id and the deletion
// time. The byte slices point into the line given to [ParseLineHeader]
// (or, for escaped strings, into fresh memory): copy them to keep them.
type LineHeader struct {
	Table, Region, EventID []byte
	// DeletedAt is zero when the line's deleted_at is null or absent (a
	// malformed record archived raw).
	DeletedAt time.Time
}

// lineHeaderNames are Line's members that ParseLineHeader reads, in the
// order the archiver writes them.
// ("v", the format version, is absent from version-1 lines.)
var lineHeaderNames = newMemberNames("table", "region", "event_id", "sequence_number", "deleted_at", "v")

// ParseLineHeader reads an archive line's table, region, event_id and
// deleted_at without decoding the rest, and checks that the whole line is
// one valid JSON object. It reads what [ParseLine] reads: a member given
// twice counts by its last value, as encoding/json has it, and a null or
// absent member leaves its field empty. It refuses a line of a format
// version newer than [FormatVersion] (the error wraps [ErrNewerFormat]).
func ParseLineHeader(data []byte) (LineHeader, error) {
	var h LineHeader
	s := scanner{data: data}
	err := s.members(lineHeaderNames, func(i int, _ []byte) error {
		var dst *[]byte
		switch i {
		case 0:
			dst = &h.Table
		case 1:
			dst = &h.Region
		case 2:
			dst = &h.EventID
		case 4:
			return h.readDeletedAt(&s)
		case 5:
			return s.readFormatVersion()
		default:
			return s.skip()
		}
		v, err := s.nullableString()
		*dst = v
		return err
	})
	if err == nil {
		s.ws()
		if s.pos != len(s.data) {
			err = s.errorf("data after the line's object")
		}
	}
	if err != nil {
		return LineHeader{}, fmt.Errorf("parse archive line: %w", err)
	}
	return h, nil
}

// nullableString reads a string's decoded bytes, or nil for null.
func (s *scanner) nullableString() ([]byte, error) {
	if s.peek() == 'n' {
		return nil, s.literal("null")
	}
	raw, flags, err := s.str()
	if err != nil {
		return nil, err
	}
	return decodeString(raw, flags), nil
}

var errDeletedAt = errors.New("deleted_at is not an RFC 3339 time")

func (h *LineHeader) readDeletedAt(s *scanner) error {
	v, err := s.nullableString()
	if err != nil || v == nil {
		h.DeletedAt = time.Time{}
		return err
	}
	t, ok := parseUTCSeconds(v)
	if !ok {
		if t, err = time.Parse(time.RFC3339Nano, string(v)); err != nil {
			return fmt.Errorf("%w: %q", errDeletedAt, v)
		}
	}
	h.DeletedAt = t
	return nil
}

// parseUTCSeconds reads "2006-01-02T15:04:05Z", the form the archiver
// writes deleted_at in when the time has no fraction, without allocating.
// Anything else is left to time.Parse (ok false).
func parseUTCSeconds(b []byte) (time.Time, bool) {
	if len(b) != 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != 'Z' {
		return time.Time{}, false
	}
	n := func(i, w int) int {
		v := 0
		for _, c := range b[i : i+w] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, hh, mm, ss := n(0, 4), n(5, 2), n(8, 2), n(11, 2), n(14, 2), n(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, hh, mm, ss, 0, time.UTC)
	if t.Day() != d { // 2025-02-30 normalised to March
		return time.Time{}, false
	}
	return t, true
}
