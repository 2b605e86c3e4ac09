package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// scanner reads JSON from a byte slice without building values. It is the
// fast path's reader: every method validates what it passes over, so a
// payload the scanner accepts is valid JSON (RFC 8259).
type scanner struct {
	data []byte
	pos  int
}

// syntaxError is a JSON syntax error at a byte offset of the payload. A
// syntax error anywhere makes the record boundaries unknowable, so it fails
// the whole batch; every other problem is confined to its record.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.offset, e.msg)
}

func (s *scanner) errorf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), offset: s.pos}
}

func isSyntaxError(err error) bool {
	var se *syntaxError
	return errors.As(err, &se)
}

// ws skips white space. The payloads Lambda sends are compact, so the
// common case, no space at all, is one comparison inlined at the caller.
func (s *scanner) ws() {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return
	}
	s.skipSpace()
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// expect consumes the byte c after optional white space.
func (s *scanner) expect(c byte) error {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return nil
	}
	return s.expectSpaced(c)
}

func (s *scanner) expectSpaced(c byte) error {
	s.ws()
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of input, want %q", c)
	}
	if s.data[s.pos] != c {
		return s.errorf("got %q, want %q", s.data[s.pos], c)
	}
	s.pos++
	return nil
}

// strFlags describe a scanned string's contents.
type strFlags uint8

const (
	strEscaped  strFlags = 1 << iota // contains a backslash escape
	strNonASCII                      // contains bytes >= 0x80
)

// str scans a string and returns its raw contents (between the quotes,
// escapes not decoded) and flags. The scanner must be at the opening quote
// (after white space).
func (s *scanner) str() ([]byte, strFlags, error) {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, 0, s.errorf("want a string")
	}
	s.pos++
	start := s.pos
	var flags strFlags
	data := s.data
	for i := start; i < len(data); {
		// Eight bytes at a time up to the first that needs a look.
		for i+8 <= len(data) {
			if m := strSpecial(binary.LittleEndian.Uint64(data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return data[start:i], flags, nil
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(data) {
				s.pos = i
				return nil, 0, s.errorf("unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					s.pos = i
					return nil, 0, s.errorf("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return nil, 0, s.errorf("invalid escape \\%c", data[i+1])
			}
		case c < 0x20:
			s.pos = i
			return nil, 0, s.errorf("control character 0x%02x in string", c)
		case c >= 0x80:
			flags |= strNonASCII
			i++
		default:
			i++
		}
	}
	s.pos = len(data)
	return nil, 0, s.errorf("unterminated string")
}

// Bytes of a word, for strSpecial.
const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// strSpecial returns, for the eight bytes of w in little-endian order, a
// mask whose lowest set bit is the high bit of the first byte a string
// scan must look at: a quote, a backslash, a control character (below
// 0x20) or a byte of a multi-byte UTF-8 sequence (0x80 and above); 0 when
// there is none. Bits above the lowest may be set for bytes that are not
// special (a borrow from a special byte below them), so only the lowest
// counts.
func strSpecial(w uint64) uint64 {
	q := w ^ (lows * '"')
	b := w ^ (lows * '\\')
	return ((q-lows)&^q | (b-lows)&^b | (w - lows*0x20) | w) & highs
}

func isHex4(b []byte) bool {
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// number scans a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.ws()
	start := s.pos
	n := numberLen(s.data[start:])
	if n == 0 {
		return nil, s.errorf("want a number")
	}
	s.pos += n
	return s.data[start:s.pos], nil
}

// numberLen returns the length of the JSON number at the start of b, or 0
// when b does not start with one.
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	return i
}

// isJSONNumber reports whether b is exactly one JSON number.
func isJSONNumber(b []byte) bool {
	return len(b) > 0 && numberLen(b) == len(b)
}

// literal consumes true, false or null.
func (s *scanner) literal(word string) error {
	s.ws()
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.errorf("want %s", word)
	}
	s.pos += len(word)
	return nil
}

// skip validates and passes over one value. It keeps the open arrays and
// objects on a stack of its own instead of recursing, so that nesting is
// bounded only by the payload's size (6 MB at most) and costs no call
// stack: any valid JSON can be passed over, however deep. A record the
// converter rejects, an image nested deeper than maxTypedDepth among them,
// is therefore archived raw instead of failing the batch.
func (s *scanner) skip() error { return s.skipWithin(0, 0) }

// skipWithin is skip for a value nested depth arrays and objects deep, that
// fails when its own make the nesting deeper than max (0: no limit).
func (s *scanner) skipWithin(depth, max int) error {
	var buf [32]byte
	open := buf[:0] // '{' or '[' for each array or object being passed over
	for {
		// A value.
		switch s.peek() {
		case '"':
			if _, _, err := s.str(); err != nil {
				return err
			}
		case '{':
			if max > 0 && depth+len(open)+1 > max {
				return s.errorf("nested deeper than %d", max)
			}
			s.pos++
			if s.peek() == '}' {
				s.pos++
				break
			}
			if err := s.memberName(); err != nil {
				return err
			}
			open = append(open, '{')
			continue
		case '[':
			if max > 0 && depth+len(open)+1 > max {
				return s.errorf("nested deeper than %d", max)
			}
			s.pos++
			if s.peek() == ']' {
				s.pos++
				break
			}
			open = append(open, '[')
			continue
		case 't':
			if err := s.literal("true"); err != nil {
				return err
			}
		case 'f':
			if err := s.literal("false"); err != nil {
				return err
			}
		case 'n':
			if err := s.literal("null"); err != nil {
				return err
			}
		case 0:
			if s.pos >= len(s.data) {
				return s.errorf("unexpected end of input")
			}
			return s.errorf("unexpected byte 0x00")
		default:
			if _, err := s.number(); err != nil {
				return err
			}
		}
		// After a value: close what ends here, up to the next value.
		for {
			if len(open) == 0 {
				return nil
			}
			top := open[len(open)-1]
			c := s.peek()
			if c == ',' {
				s.pos++
				if top == '{' {
					if err := s.memberName(); err != nil {
						return err
					}
				}
				break
			}
			if top == '{' && c != '}' {
				return s.errorf("want , or } in object")
			}
			if top == '[' && c != ']' {
				return s.errorf("want , or ] in array")
			}
			s.pos++
			open = open[:len(open)-1]
		}
	}
}

// memberName passes over an object member's name and the colon after it.
func (s *scanner) memberName() error {
	if _, _, err := s.str(); err != nil {
		return err
	}
	return s.expect(':')
}

// object iterates over the members of an object, calling fn with each
// member's decoded name and the scanner positioned at its value; fn must
// consume the value. The scanner must be at '{'.
func (s *scanner) object(fn func(name []byte) error) error {
	return s.members(noNames, func(_ int, name []byte) error { return fn(name) })
}

// noNames are no member names: members then scans every name.
var noNames = newMemberNames()

// typeName consumes the name of a typed value's type and its colon when
// they are written as compact JSON writes DynamoDB's types: one to four
// capital letters (`"S":`, `"BOOL":`), and returns the name. Anything else
// is left to scan as a string (false, nothing consumed): an unknown,
// escaped or spaced name.
func (s *scanner) typeName() ([]byte, bool) {
	d := s.data[s.pos:]
	if len(d) < 7 || d[0] != '"' {
		return nil, false
	}
	for i := 1; i < 6; i++ {
		switch c := d[i]; {
		case c == '"' && i > 1:
			if d[i+1] != ':' {
				return nil, false
			}
			s.pos += i + 2
			return d[1:i], true
		case c < 'A' || c > 'Z':
			return nil, false
		}
	}
	return nil, false
}

// memberNames are the names of the members of an object a reader looks
// for, in the order the payload usually has them.
type memberNames struct {
	names []string
	known []knownName
}

// knownName is a member name as compact JSON writes it, `"name":`, with
// its first sixteen bytes as two words to compare with the payload's.
type knownName struct {
	quoted       string
	head, tail   uint64 // bytes 0-7 and 8-15 of quoted, zeros past its end
	headM, tailM uint64 // the bits of head and tail that quoted fills
}

// newMemberNames returns the names to look for, in the order the payload
// usually has them.
func newMemberNames(names ...string) *memberNames {
	m := &memberNames{names: names}
	for _, n := range names {
		k := knownName{quoted: `"` + n + `":`}
		var w [16]byte
		l := copy(w[:], k.quoted)
		k.head, k.tail = binary.LittleEndian.Uint64(w[:]), binary.LittleEndian.Uint64(w[8:])
		k.headM, k.tailM = wordMask(l), wordMask(l-8)
		m.known = append(m.known, k)
	}
	return m
}

// wordMask returns the mask of the first n bytes (0 to 8) of a
// little-endian word.
func wordMask(n int) uint64 {
	switch {
	case n <= 0:
		return 0
	case n >= 8:
		return ^uint64(0)
	}
	return ^uint64(0) >> (64 - 8*n)
}

// members iterates over the members of an object, calling fn with the
// index in names of each member's name, or -1 and the decoded name for a
// name not in names, and the scanner positioned at the member's value; fn
// must consume the value. A name written plainly, followed at once
// by its colon, is matched without scanning it as a string: first against
// the name after the last one found, so that members in the usual order
// cost one comparison each. The scanner must be at '{'.
func (s *scanner) members(names *memberNames, fn func(i int, name []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	next := 0
	for {
		i := names.match(s.data[s.pos:], next)
		var name []byte
		if i >= 0 {
			s.pos += len(names.known[i].quoted)
			next = i + 1
		} else {
			raw, flags, err := s.str()
			if err != nil {
				return err
			}
			name = decodeString(raw, flags)
			if err := s.expect(':'); err != nil {
				return err
			}
			i = slices.Index(names.names, string(name))
		}
		if err := fn(i, name); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.errorf("want , or } in object")
		}
	}
}

// match returns the index of the quoted name with its colon that b starts
// with, trying next first, or -1. It compares the first sixteen bytes as
// two words, and the rest of a longer name only when those match.
func (m *memberNames) match(b []byte, next int) int {
	if len(b) < 16 {
		return -1 // the scan of the name as a string decides
	}
	head, tail := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	for k := range m.known {
		i := next + k
		if i >= len(m.known) {
			i -= len(m.known)
		}
		n := &m.known[i]
		if head&n.headM != n.head || tail&n.tailM != n.tail {
			continue
		}
		if q := n.quoted; len(q) <= 16 || len(b) >= len(q) && string(b[16:len(q)]) == q[16:] {
			return i
		}
	}
	return -1
}

// unescape decodes the contents of a valid JSON string that contains
// escapes, with encoding/json's rules (invalid surrogates become U+FFFD).
func unescape(raw []byte) []byte {
	return appendUnescaped(make([]byte, 0, len(raw)), raw)
}

// appendUnescaped appends the decoded contents of raw (see unescape) to
// out.
func appendUnescaped(out, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if 0xD800 <= r && r < 0xDC00 {
				// A high surrogate: valid only with a low one after it.
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 := rune(hex4(raw[i+2 : i+6]))
					if 0xDC00 <= r2 && r2 < 0xE000 {
						out = utf8.AppendRune(out, (r-0xD800)<<10+(r2-0xDC00)+0x10000)
						i += 6
						continue
					}
				}
				out = utf8.AppendRune(out, utf8.RuneError)
				continue
			}
			if 0xDC00 <= r && r < 0xE000 {
				out = utf8.AppendRune(out, utf8.RuneError)
				continue
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		i += 2
	}
	return out
}

func hex4(b []byte) int {
	v := 0
	for _, c := range b {
		v <<= 4
		switch {
		case '0' <= c && c <= '9':
			v |= int(c - '0')
		case 'a' <= c && c <= 'f':
			v |= int(c - 'a' + 10)
		default:
			v |= int(c - 'A' + 10)
		}
	}
	return v
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string exactly as encoding/json does with
// HTML escaping off: control characters, quote and backslash escaped,
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendString appends a scanned string (raw contents and flags from
// scanner.str) in canonical form: copied as it is when that is already
// canonical, which is the common case, else decoded and re-quoted.
func appendString(dst, raw []byte, flags strFlags) []byte {
	if flags == 0 {
		dst = append(dst, '"')
		dst = append(dst, raw...)
		return append(dst, '"')
	}
	if flags&strEscaped == 0 && utf8.Valid(raw) && !hasLineSeparator(raw) {
		dst = append(dst, '"')
		dst = append(dst, raw...)
		return append(dst, '"')
	}
	if flags&strEscaped != 0 {
		var buf [128]byte // decoded on the stack when short
		raw = appendUnescaped(buf[:0], raw)
	}
	return appendQuoted(dst, raw)
}

// hasLineSeparator reports whether b holds U+2028 or U+2029, which
// encoding/json escapes.
func hasLineSeparator(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0xE2 && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
			return true
		}
	}
	return false
}

// decodeString returns a scanned string's decoded bytes.
func decodeString(raw []byte, flags strFlags) []byte {
	if flags&strEscaped != 0 {
		return unescape(raw)
	}
	return raw
}
