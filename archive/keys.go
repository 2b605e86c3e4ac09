package archive

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Canonical keys.
//
// The same item's keys are written three ways: typed in exports and in
// dynamodb-json lines ({"pk":{"S":"a"},"n":{"N":"1E+2"}}), plain in json
// lines ({"pk":"a","n":100}). AppendCanonicalKeys writes one form for
// all: the attributes sorted by name, each as its name, a kind (s for
// strings and binary, which json lines cannot tell apart, n for numbers)
// and its value, numbers in one form however they were written (100,
// 1E+2 and 100.0 are one number), each part preceded by its length. A
// table's key attribute has one type, so a string and a binary of the
// same text are never two keys of one table.

// ErrKeys is wrapped by the errors of keys that are not key attributes:
// not an object, or a value that is not a string, number or binary.
var ErrKeys = errors.New("keys are not key attributes")

type canonAttr struct {
	name []byte
	kind byte
	val  []byte
}

// KeyCanonicalizer writes canonical keys. It keeps buffers between calls:
// it is not safe for concurrent use.
type KeyCanonicalizer struct {
	attrs []canonAttr
	buf   []byte
}

// Append appends the canonical form of keys (the raw JSON of a line's
// keys, typed when typed is set) to dst.
func (k *KeyCanonicalizer) Append(dst, keys []byte, typed bool) ([]byte, error) {
	k.attrs, k.buf = k.attrs[:0], k.buf[:0]
	s := scanner{data: keys}
	if s.peek() != '{' {
		return dst, fmt.Errorf("%w: not an object", ErrKeys)
	}
	err := s.object(func(name []byte) error {
		a := canonAttr{name: name}
		var err error
		if typed {
			a.kind, a.val, err = k.typedValue(&s)
		} else {
			a.kind, a.val, err = k.plainValue(&s)
		}
		if err != nil {
			return fmt.Errorf("key attribute %q: %w", name, err)
		}
		k.attrs = append(k.attrs, a)
		return nil
	})
	if err == nil {
		if s.ws(); s.pos != len(keys) {
			err = s.errorf("data after the keys")
		}
	}
	if err != nil {
		return dst, err
	}
	if len(k.attrs) == 0 {
		return dst, fmt.Errorf("%w: no attribute", ErrKeys)
	}
	slices.SortFunc(k.attrs, func(a, b canonAttr) int { return compareBytes(a.name, b.name) })
	for _, a := range k.attrs {
		dst = binary.AppendUvarint(dst, uint64(len(a.name)))
		dst = append(dst, a.name...)
		dst = append(dst, a.kind)
		dst = binary.AppendUvarint(dst, uint64(len(a.val)))
		dst = append(dst, a.val...)
	}
	return dst, nil
}

func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

func (k *KeyCanonicalizer) plainValue(s *scanner) (byte, []byte, error) {
	switch c := s.peek(); {
	case c == '"':
		raw, flags, err := s.str()
		if err != nil {
			return 0, nil, err
		}
		return 's', decodeString(raw, flags), nil
	case c == '-' || '0' <= c && c <= '9':
		n, err := s.number()
		if err != nil {
			return 0, nil, err
		}
		return k.number(n)
	}
	if err := s.skip(); err != nil {
		return 0, nil, err
	}
	return 0, nil, fmt.Errorf("%w: not a string or a number", ErrKeys)
}

func (k *KeyCanonicalizer) typedValue(s *scanner) (byte, []byte, error) {
	if s.peek() != '{' {
		if err := s.skip(); err != nil {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("%w: not a typed value", ErrKeys)
	}
	var kind byte
	var val []byte
	n := 0
	err := s.object(func(tag []byte) error {
		n++
		if s.peek() != '"' {
			if err := s.skip(); err != nil {
				return err
			}
			return fmt.Errorf("%w: %s value is not a string", ErrKeys, tag)
		}
		raw, flags, err := s.str()
		if err != nil {
			return err
		}
		v := decodeString(raw, flags)
		switch string(tag) {
		case "S":
			kind, val = 's', v
		case "N":
			if !isJSONNumber(v) {
				return fmt.Errorf("%w: number %q is not a decimal number", ErrKeys, v)
			}
			kind, val, err = k.number(v)
		case "B":
			// As the converter writes binary in json lines: the base64
			// of the decoded bytes.
			b, derr := base64.StdEncoding.DecodeString(string(v))
			if derr != nil {
				return fmt.Errorf("%w: binary value is not base64: %v", ErrKeys, derr)
			}
			kind, val = 's', base64.StdEncoding.AppendEncode(nil, b)
		default:
			return fmt.Errorf("%w: type %q is not S, N or B", ErrKeys, tag)
		}
		return err
	})
	if err == nil && n != 1 {
		err = fmt.Errorf("%w: a typed value has one type, not %d", ErrKeys, n)
	}
	return kind, val, err
}

// number returns the canonical text of a JSON number: its significant
// digits and the power of ten of the point before them (0.DIGITS ×
// 10^EXP) as "DIGITSeEXP", with a leading "-" when negative; "0" for zero.
func (k *KeyCanonicalizer) number(n []byte) (byte, []byte, error) {
	neg := len(n) > 0 && n[0] == '-'
	if neg {
		n = n[1:]
	}
	var mant, exp []byte
	for i, c := range n {
		if c == 'e' || c == 'E' {
			mant, exp = n[:i], n[i+1:]
			break
		}
	}
	if mant == nil {
		mant = n
	}
	point := len(mant)
	start := len(k.buf)
	for i, c := range mant {
		if c == '.' {
			point = i
			continue
		}
		k.buf = append(k.buf, c)
	}
	digits := k.buf[start:]
	e := int64(point)
	if len(exp) > 0 {
		x, err := strconv.ParseInt(string(exp), 10, 32)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: exponent of %q is out of range", ErrKeys, n)
		}
		e += x
	}
	lead := 0
	for lead < len(digits) && digits[lead] == '0' {
		lead++
	}
	digits = digits[lead:]
	e -= int64(lead)
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		k.buf = append(k.buf[:start], '0')
		return 'n', k.buf[start:], nil
	}
	out := make([]byte, 0, len(digits)+8)
	if neg {
		out = append(out, '-')
	}
	out = append(out, digits...)
	out = append(out, 'e')
	out = strconv.AppendInt(out, e, 10)
	k.buf = append(k.buf[:start], out...)
	return 'n', k.buf[start:], nil
}

// LineKeys is what backfill reads of an archive line to tell whether a
// deletion is archived: the table, the region, the deletion time and the
// keys. The byte slices point into the line given to [ParseLineKeys] (or
// into fresh memory for escaped strings).
type LineKeys struct {
	Table, Region []byte
	// EventID and SequenceNumber are the line's, nil when null or absent.
	EventID, SequenceNumber []byte
	DeletedAt               time.Time // zero when null or absent
	// Keys is the raw JSON of the line's keys, or of its raw stream
	// record's dynamodb.Keys when the line has none (a record archived
	// raw); nil when neither is there.
	Keys []byte
	// Typed is set when Keys is DynamoDB JSON: the line is in
	// dynamodb-json format, or Keys come from the raw stream record.
	Typed bool
	// Format is the line's format: FormatDynamoDBJSON when its "format"
	// says so, else FormatJSON.
	Format Format
	// Recovered is set on a line recovered from a table export (its
	// recovered_from names the export).
	Recovered bool
}

var (
	lineKeysNames  = newMemberNames("table", "region", "event_id", "sequence_number", "deleted_at", "format", "keys", "item", "recovered_from")
	rawRecordNames = newMemberNames("dynamodb")
	rawKeysNames   = newMemberNames("Keys")
)

// ParseLineKeys reads an archive line's table, region, deleted_at, format
// and keys without decoding the rest, and checks that the whole line is
// one valid JSON object. Like [ParseLineHeader], it refuses a line of a
// format version newer than [FormatVersion] (the error wraps
// [ErrNewerFormat]).
func ParseLineKeys(data []byte) (LineKeys, error) {
	var l LineKeys
	var rawKeys []byte
	s := scanner{data: data}
	h := LineHeader{}
	err := s.members(lineKeysNames, func(i int, name []byte) error {
		var err error
		switch i {
		case 0:
			l.Table, err = s.nullableString()
		case 1:
			l.Region, err = s.nullableString()
		case 2:
			l.EventID, err = s.nullableString()
		case 3:
			l.SequenceNumber, err = s.nullableString()
		case 4:
			err = h.readDeletedAt(&s)
			l.DeletedAt = h.DeletedAt
		case 5:
			var f []byte
			f, err = s.nullableString()
			l.Format = FormatJSON
			if string(f) == FormatDynamoDBJSONName {
				l.Format = FormatDynamoDBJSON
			}
		case 6:
			l.Keys, err = s.span()
		case 8:
			var from []byte
			from, err = s.nullableString()
			l.Recovered = len(from) > 0
		default:
			if i < 0 && string(name) == "v" {
				return s.readFormatVersion()
			}
			if i < 0 && string(name) == "raw" && s.peek() == '{' {
				rawKeys, err = s.rawRecordKeys()
				return err
			}
			return s.skip()
		}
		return err
	})
	if err == nil {
		if s.ws(); s.pos != len(s.data) {
			err = s.errorf("data after the line's object")
		}
	}
	if err != nil {
		return LineKeys{}, fmt.Errorf("parse archive line: %w", err)
	}
	l.Typed = l.Format == FormatDynamoDBJSON
	if l.Keys == nil && rawKeys != nil {
		l.Keys, l.Typed = rawKeys, true
	}
	return l, nil
}

// span passes over one value and returns its raw JSON; nil for null.
func (s *scanner) span() ([]byte, error) {
	if s.peek() == 'n' {
		return nil, s.literal("null")
	}
	start := s.pos
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

// rawRecordKeys reads a stream record's dynamodb.Keys (nil when absent).
func (s *scanner) rawRecordKeys() ([]byte, error) {
	var keys []byte
	err := s.members(rawRecordNames, func(i int, _ []byte) error {
		if i != 0 || s.peek() != '{' {
			return s.skip()
		}
		return s.members(rawKeysNames, func(i int, _ []byte) error {
			if i != 0 {
				return s.skip()
			}
			var err error
			keys, err = s.span()
			return err
		})
	})
	return keys, err
}
