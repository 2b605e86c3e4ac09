package archivefs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// Filter selects archive lines. The zero Filter selects every line; each
// field that is set narrows the selection, and all of them must hold.
type Filter struct {
	// Table is the source table's name, as in the lines' "table".
	Table string
	// Since and Until bound the lines' deleted_at: Since <= deleted_at <
	// Until. A zero time does not bound. A line without deleted_at matches
	// only when both are zero.
	Since, Until time.Time
	// Keys are conditions on key attributes: all must hold.
	Keys []KeyCondition
}

// KeyCondition is a condition on one key attribute of a line: its value
// equals Value, or starts with it when Prefix is set. The value compared
// is the string form of the attribute: a string as it is, a number's
// digits as archived (equality also holds between equal numbers written
// differently, such as 100 and 1E+2), binary as standard base64.
type KeyCondition struct {
	Name   string
	Value  string
	Prefix bool
}

// ErrBadFilter is wrapped by the errors of the parsers below.
var ErrBadFilter = errors.New("bad filter")

// ParseKeyCondition reads "name=value". The name is everything before the
// first "=", so values may contain "=" (base64 does) but names may not.
func ParseKeyCondition(s string, prefix bool) (KeyCondition, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return KeyCondition{}, fmt.Errorf("%w: %q: want name=value", ErrBadFilter, s)
	}
	return KeyCondition{Name: name, Value: value, Prefix: prefix}, nil
}

func (c KeyCondition) String() string {
	if c.Prefix {
		return fmt.Sprintf("%s starts with %q", c.Name, c.Value)
	}
	return fmt.Sprintf("%s = %q", c.Name, c.Value)
}

// Time layouts ParseTime accepts besides RFC 3339.
const dateLayout = "2006-01-02"

// ParseTime reads a time as RFC 3339 ("2025-11-23T10:00:00Z", fractions
// and offsets allowed) or a date ("2025-11-23", midnight UTC). When
// endOfDay is set, a date means the end of that day (midnight UTC of the
// next day), so that an exclusive upper bound given as a date includes the
// whole day.
func ParseTime(s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q: want RFC 3339 (2025-11-23T10:00:00Z) or a date (2025-11-23)", ErrBadFilter, s)
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// AddFlags registers the filter's flags on fs, named alike in every
// command: --source-table (-s), --since, --until, --key and --key-prefix
// (both repeatable). (--table always names a destination.)
func (f *Filter) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.Table, "source-table", "s", "", "select lines of this source `table` only")
	fs.Var(&timeValue{t: &f.Since}, "since", "select items deleted at or after this `time` (RFC 3339, or a date: midnight UTC)")
	fs.Var(&timeValue{t: &f.Until, endOfDay: true}, "until", "select items deleted before this `time` (RFC 3339, or a date: that whole day included)")
	fs.Var(&keyValue{f: f}, "key", "select items whose key attribute equals a value: `name=value` (repeatable; all must hold)")
	fs.Var(&keyValue{f: f, prefix: true}, "key-prefix", "select items whose key attribute starts with a prefix: `name=prefix` (repeatable)")
}

type timeValue struct {
	t        *time.Time
	endOfDay bool
}

func (v *timeValue) Type() string { return "time" }

func (v *timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339Nano)
}

func (v *timeValue) Set(s string) error {
	t, err := ParseTime(s, v.endOfDay)
	if err != nil {
		return err
	}
	*v.t = t
	return nil
}

type keyValue struct {
	f      *Filter
	prefix bool
}

func (v *keyValue) String() string { return "" }

func (v *keyValue) Type() string { return "name=value" }

func (v *keyValue) Set(s string) error {
	c, err := ParseKeyCondition(s, v.prefix)
	if err != nil {
		return err
	}
	v.f.Keys = append(v.f.Keys, c)
	return nil
}

// Check reports a filter that can select nothing.
func (f Filter) Check() error {
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("%w: since %s is not before until %s", ErrBadFilter, f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	return nil
}

// String describes the filter for people ("all lines" when zero).
func (f Filter) String() string {
	var parts []string
	if f.Table != "" {
		parts = append(parts, "table "+f.Table)
	}
	if !f.Since.IsZero() {
		parts = append(parts, "deleted at or after "+f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "deleted before "+f.Until.UTC().Format(time.RFC3339Nano))
	}
	for _, c := range f.Keys {
		parts = append(parts, c.String())
	}
	if len(parts) == 0 {
		return "all lines"
	}
	return strings.Join(parts, ", ")
}

// Match reports whether the line is selected. Keys are read from the
// line's "keys" in either format, or, for a line archived raw without
// keys, from its stream record's dynamodb.Keys.
func (f Filter) Match(l archive.Line) bool {
	if f.Table != "" && l.Table != f.Table {
		return false
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		if l.DeletedAt == nil {
			return false
		}
		if !f.Since.IsZero() && l.DeletedAt.Before(f.Since) {
			return false
		}
		if !f.Until.IsZero() && !l.DeletedAt.Before(f.Until) {
			return false
		}
	}
	if len(f.Keys) == 0 {
		return true
	}
	keys, err := KeyValues(l)
	if err != nil {
		return false
	}
	for _, c := range f.Keys {
		v, ok := keys[c.Name]
		if !ok || !v.matches(c) {
			return false
		}
	}
	return true
}

// KeyValue is the value of one key attribute of a line.
type KeyValue struct {
	Type  string // "S", "N" or "B"; in json-format lines, binary reads as "S"
	Value string // the string, the number's digits, or base64 of the bytes
}

func (v KeyValue) matches(c KeyCondition) bool {
	if c.Prefix {
		return strings.HasPrefix(v.Value, c.Value)
	}
	if v.Value == c.Value {
		return true
	}
	if v.Type != "N" || archive.CheckNumber(v.Value) != nil || archive.CheckNumber(c.Value) != nil {
		return false // no exact arithmetic on numbers DynamoDB can't hold (1e999999)
	}
	a, ok1 := new(big.Rat).SetString(v.Value)
	b, ok2 := new(big.Rat).SetString(c.Value)
	return ok1 && ok2 && a.Cmp(b) == 0
}

// KeyValues returns the line's key attributes. For a line archived raw
// with no keys, they come from the stream record in raw or raw_base64.
func KeyValues(l archive.Line) (map[string]KeyValue, error) {
	if len(l.Keys) > 0 && string(l.Keys) != "null" {
		if l.Format == archive.FormatDynamoDBJSONName {
			return typedKeyValues(l.Keys)
		}
		return plainKeyValues(l.Keys)
	}
	rec, err := RawRecord(l)
	if err != nil {
		return nil, err
	}
	if rec == nil || len(rec.Dynamodb.Keys) == 0 {
		return nil, fmt.Errorf("line of event %s has no keys", l.EventID)
	}
	return typedKeyValues(rec.Dynamodb.Keys)
}

func plainKeyValues(raw json.RawMessage) (map[string]KeyValue, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	out := make(map[string]KeyValue, len(m))
	for name, v := range m {
		switch v := v.(type) {
		case string:
			out[name] = KeyValue{Type: "S", Value: v}
		case json.Number:
			out[name] = KeyValue{Type: "N", Value: v.String()}
		default:
			return nil, fmt.Errorf("key attribute %s is not a string or a number", name)
		}
	}
	return out, nil
}

func typedKeyValues(raw json.RawMessage) (map[string]KeyValue, error) {
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	out := make(map[string]KeyValue, len(m))
	for name, tv := range m {
		if len(tv) != 1 {
			return nil, fmt.Errorf("key attribute %s is not a typed value", name)
		}
		for typ, v := range tv {
			var s string
			if err := json.Unmarshal(v, &s); err != nil || typ != "S" && typ != "N" && typ != "B" {
				return nil, fmt.Errorf("key attribute %s is not S, N or B", name)
			}
			if typ == "B" {
				if _, err := base64.StdEncoding.DecodeString(s); err != nil {
					return nil, fmt.Errorf("key attribute %s: %w", name, err)
				}
			}
			out[name] = KeyValue{Type: typ, Value: s}
		}
	}
	return out, nil
}

// StreamRecord is the part of a DynamoDB stream record that lines
// archived raw are read for.
type StreamRecord struct {
	EventID  string `json:"eventID"`
	Dynamodb struct {
		Keys           json.RawMessage `json:"Keys"`
		OldImage       json.RawMessage `json:"OldImage"`
		SequenceNumber string          `json:"SequenceNumber"`
	} `json:"dynamodb"`
}

// RawRecord decodes the stream record of a line archived raw (from raw,
// raw_gzip, or raw_base64 when its bytes are valid JSON). It returns nil,
// nil for a line without any.
func RawRecord(l archive.Line) (*StreamRecord, error) {
	raw, err := l.RawBytes()
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, nil
	}
	var rec StreamRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("stream record of event %s: %w", l.EventID, err)
	}
	return &rec, nil
}
