package archive

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Format is how keys and items are written in archive lines.
type Format uint8

const (
	// FormatJSON writes plain JSON: maps, lists, strings, booleans, null;
	// numbers as JSON numbers with every digit kept; binary as base64
	// strings; sets as arrays.
	FormatJSON Format = iota
	// FormatDynamoDBJSON keeps DynamoDB's typed JSON ({"S":"..."},
	// {"N":"..."}, {"SS":[...]}, ...), which loses nothing and is what
	// DynamoDB's import from S3 reads.
	FormatDynamoDBJSON
)

// String returns the name used in ARCHIVE_FORMAT.
func (f Format) String() string {
	if f == FormatDynamoDBJSON {
		return FormatDynamoDBJSONName
	}
	return "json"
}

// maxTypedDepth bounds the nesting of typed values (M and L) a converter
// follows, so that hostile input cannot exhaust the stack (the converter
// recurses once per level). DynamoDB allows 32. A deeper image is a
// conversion error: the record is archived raw (scanner.skip passes over
// JSON of any depth).
const maxTypedDepth = 60

// ConversionError says why an image could not be converted. The record is
// then archived raw with this message; it never fails the batch.
type ConversionError struct {
	Path string // attribute path, such as `lines[1].price`; empty for the image itself
	Msg  string
}

func (e *ConversionError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return fmt.Sprintf("attribute %s: %s", e.Path, e.Msg)
}

func convErrorf(format string, args ...any) error {
	return &ConversionError{Msg: fmt.Sprintf(format, args...)}
}

// within prefixes a conversion error's path with an attribute name or
// list index; other errors pass through.
func within(err error, name []byte, index int) error {
	ce, ok := err.(*ConversionError)
	if !ok {
		return err
	}
	var seg string
	if name != nil {
		seg = string(name)
		if ce.Path != "" && ce.Path[0] != '[' {
			seg += "."
		}
	} else {
		seg = fmt.Sprintf("[%d]", index)
		if ce.Path != "" && ce.Path[0] != '[' {
			seg += "."
		}
	}
	return &ConversionError{Path: seg + ce.Path, Msg: ce.Msg}
}

// converter turns DynamoDB typed JSON into archive JSON. It keeps scratch
// space between calls, so it is not safe for concurrent use; the archiver
// keeps one per invocation.
type converter struct {
	format  Format
	members []member // stack of the map members being written
	scratch []byte   // reordering and base64 space
}

// member is one written "name":value, span of a map being converted.
type member struct {
	name       []byte // decoded attribute name
	start, end int    // span in the output, trailing comma included
}

// image converts an attribute map (an item, its keys, or an M value's
// contents) at the scanner and appends it to dst. On error dst is returned
// unchanged in length semantics only up to the caller: callers truncate.
func (c *converter) image(dst []byte, s *scanner) ([]byte, error) {
	if s.peek() != '{' {
		return dst, convErrorf("image is not an object")
	}
	return c.mapValue(dst, s, 0)
}

// mapValue converts {"name": typed, ...}, writing the members sorted by
// name (as encoding/json sorts map keys) so that output is deterministic.
func (c *converter) mapValue(dst []byte, s *scanner, depth int) ([]byte, error) {
	s.pos++ // '{', checked by the caller
	if s.peek() == '}' {
		s.pos++
		return append(dst, '{', '}'), nil
	}
	region := len(dst)
	dst = append(dst, '{')
	mark := len(c.members)
	defer func() { c.members = c.members[:mark] }()
	for {
		raw, flags, err := s.str()
		if err != nil {
			return dst, err
		}
		if flags&strNonASCII != 0 && !utf8.Valid(raw) {
			return dst, convErrorf("attribute name is not valid UTF-8")
		}
		name := decodeString(raw, flags)
		if err := s.expect(':'); err != nil {
			return dst, err
		}
		start := len(dst)
		dst = appendString(dst, raw, flags)
		dst = append(dst, ':')
		if dst, err = c.value(dst, s, depth); err != nil {
			return dst, within(err, name, 0)
		}
		dst = append(dst, ',')
		// Appended empty and filled in place: copying a member built on
		// the stack stalled on the store of its fields.
		c.members = append(c.members, member{})
		m := &c.members[len(c.members)-1]
		m.name, m.start, m.end = name, start, len(dst)
		switch s.peek() {
		case ',':
			s.pos++
			continue
		case '}':
			s.pos++
		default:
			return dst, s.errorf("want , or } in object")
		}
		break
	}
	ms := c.members[mark:]
	if !membersSorted(ms) {
		sortMembers(ms)
		c.scratch = append(c.scratch[:0], dst[region+1:]...)
		out := dst[:region+1]
		for _, m := range ms {
			out = append(out, c.scratch[m.start-region-1:m.end-region-1]...)
		}
		dst = out
	}
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(ms[i-1].name, ms[i].name) {
			return dst, &ConversionError{Path: string(ms[i].name), Msg: "duplicate attribute name"}
		}
	}
	dst[len(dst)-1] = '}' // the last member's comma
	return dst, nil
}

func compareMembers(a, b member) int { return bytes.Compare(a.name, b.name) }

func membersSorted(ms []member) bool {
	for i := 1; i < len(ms); i++ {
		if bytes.Compare(ms[i-1].name, ms[i].name) > 0 {
			return false
		}
	}
	return true
}

// sortMembers sorts a map's members by name, keeping the order of equal
// names (an error later). Most items have a few attributes: an insertion
// sort with the comparison inlined sorts those in a fraction of the
// general sort's time.
func sortMembers(ms []member) {
	if len(ms) > 16 {
		slices.SortStableFunc(ms, compareMembers)
		return
	}
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && bytes.Compare(ms[j-1].name, ms[j].name) > 0; j-- {
			ms[j-1], ms[j] = ms[j], ms[j-1]
		}
	}
}

// value converts one typed value {"T": v}.
func (c *converter) value(dst []byte, s *scanner, depth int) ([]byte, error) {
	if depth >= maxTypedDepth {
		return dst, convErrorf("nested deeper than %d levels", maxTypedDepth)
	}
	if s.peek() != '{' {
		return dst, convErrorf("attribute value is not an object")
	}
	s.pos++
	if s.peek() == '}' {
		return dst, convErrorf("attribute value has no type")
	}
	tag, ok := s.typeName()
	if !ok {
		traw, tflags, err := s.str()
		if err != nil {
			return dst, err
		}
		tag = decodeString(traw, tflags)
		if err := s.expect(':'); err != nil {
			return dst, err
		}
	}
	var err error
	typed := c.format == FormatDynamoDBJSON
	if typed {
		dst = append(dst, `{"`...)
		dst = append(dst, tag...) // validated below: one of the known tags
		dst = append(dst, `":`...)
	}
	switch string(tag) {
	case "S":
		dst, err = c.stringValue(dst, s)
	case "N":
		dst, err = c.numberValue(dst, s)
	case "B":
		dst, err = c.binaryValue(dst, s)
	case "BOOL":
		switch s.peek() {
		case 't':
			err = s.literal("true")
			dst = append(dst, "true"...)
		case 'f':
			err = s.literal("false")
			dst = append(dst, "false"...)
		default:
			err = convErrorf("BOOL value is not true or false")
		}
	case "NULL":
		if s.peek() != 't' {
			return dst, convErrorf("NULL value is not true")
		}
		err = s.literal("true")
		if typed {
			dst = append(dst, "true"...)
		} else {
			dst = append(dst, "null"...)
		}
	case "SS":
		dst, err = c.set(dst, s, c.stringValue, "SS")
	case "NS":
		dst, err = c.set(dst, s, c.numberValue, "NS")
	case "BS":
		dst, err = c.set(dst, s, c.binaryValue, "BS")
	case "L":
		dst, err = c.list(dst, s, depth)
	case "M":
		if s.peek() != '{' {
			return dst, convErrorf("M value is not an object")
		}
		dst, err = c.mapValue(dst, s, depth+1)
	default:
		return dst, convErrorf("unknown attribute type %q", tag)
	}
	if err != nil {
		return dst, err
	}
	switch s.peek() {
	case '}':
		s.pos++
	case ',':
		return dst, convErrorf("attribute value has more than one type")
	default:
		return dst, s.errorf("want } after attribute value")
	}
	if typed {
		dst = append(dst, '}')
	}
	return dst, nil
}

func (c *converter) stringValue(dst []byte, s *scanner) ([]byte, error) {
	if s.peek() != '"' {
		return dst, convErrorf("S value is not a string")
	}
	raw, flags, err := s.str()
	if err != nil {
		return dst, err
	}
	if flags&strNonASCII != 0 && !utf8.Valid(raw) {
		return dst, convErrorf("string is not valid UTF-8")
	}
	return appendString(dst, raw, flags), nil
}

func (c *converter) numberValue(dst []byte, s *scanner) ([]byte, error) {
	if s.peek() != '"' {
		return dst, convErrorf("N value is not a string")
	}
	// A number written plainly, as DynamoDB writes them: its text ends
	// at the closing quote, found without a string scan.
	d := s.data[s.pos+1:]
	if n := numberLen(d); n > 0 && n < len(d) && d[n] == '"' {
		s.pos += n + 2
		return c.appendNumber(dst, d[:n]), nil
	}
	raw, flags, err := s.str()
	if err != nil {
		return dst, err
	}
	n := decodeString(raw, flags)
	if !isJSONNumber(n) {
		if !utf8.Valid(n) {
			return dst, convErrorf("number is not valid UTF-8")
		}
		return dst, convErrorf("number %q is not a decimal number", n)
	}
	return c.appendNumber(dst, n), nil
}

// appendNumber appends a number's text in the converter's format.
func (c *converter) appendNumber(dst, n []byte) []byte {
	if c.format == FormatDynamoDBJSON {
		dst = append(dst, '"')
		dst = append(dst, n...)
		return append(dst, '"')
	}
	return append(dst, n...)
}

func (c *converter) binaryValue(dst []byte, s *scanner) ([]byte, error) {
	if s.peek() != '"' {
		return dst, convErrorf("B value is not a string")
	}
	raw, flags, err := s.str()
	if err != nil {
		return dst, err
	}
	enc := decodeString(raw, flags)
	c.scratch, err = base64.StdEncoding.AppendDecode(c.scratch[:0], enc)
	if err != nil {
		return dst, convErrorf("binary value is not base64: %v", err)
	}
	dst = append(dst, '"')
	dst = appendBase64(dst, c.scratch)
	return append(dst, '"'), nil
}

// set converts SS, NS and BS: non-empty arrays, kept in their order.
func (c *converter) set(dst []byte, s *scanner, elem func([]byte, *scanner) ([]byte, error), tag string) ([]byte, error) {
	if s.peek() != '[' {
		return dst, convErrorf("%s value is not an array", tag)
	}
	s.pos++
	if s.peek() == ']' {
		return dst, convErrorf("%s value is an empty set", tag)
	}
	dst = append(dst, '[')
	for i := 0; ; i++ {
		var err error
		if dst, err = elem(dst, s); err != nil {
			return dst, within(err, nil, i)
		}
		switch s.peek() {
		case ',':
			s.pos++
			dst = append(dst, ',')
		case ']':
			s.pos++
			return append(dst, ']'), nil
		default:
			return dst, s.errorf("want , or ] in array")
		}
	}
}

func (c *converter) list(dst []byte, s *scanner, depth int) ([]byte, error) {
	if s.peek() != '[' {
		return dst, convErrorf("L value is not an array")
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		return append(dst, '[', ']'), nil
	}
	dst = append(dst, '[')
	for i := 0; ; i++ {
		var err error
		if dst, err = c.value(dst, s, depth+1); err != nil {
			return dst, within(err, nil, i)
		}
		switch s.peek() {
		case ',':
			s.pos++
			dst = append(dst, ',')
		case ']':
			s.pos++
			return append(dst, ']'), nil
		default:
			return dst, s.errorf("want , or ] in array")
		}
	}
}

// ConvertImage converts one DynamoDB image (an attribute map in DynamoDB
// JSON, as in a stream record's Keys or OldImage) to the given format and
// appends it to dst. It is the fast path the archiver uses.
func ConvertImage(dst, image []byte, f Format) ([]byte, error) {
	c := converter{format: f}
	s := scanner{data: image}
	n := len(dst)
	out, err := c.image(dst, &s)
	if err == nil {
		s.ws()
		if s.pos != len(s.data) {
			err = s.errorf("data after the image")
		}
	}
	if err != nil {
		return dst[:n], err
	}
	return out, nil
}
