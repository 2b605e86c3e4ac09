package firehoselocal

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// putInput is a decoded PutRecordBatch or PutRecord request.
type putInput struct {
	stream    string
	hasStream bool // DeliveryStreamName present and not null
	// records holds the decoded data of each record in request order; a nil
	// element is a record whose Data is missing or null, an empty non-nil
	// element is empty data.
	records    [][]byte
	hasRecords bool // Records (or Record) present and not null
}

// decodeInput decodes the body of op. It takes a fast path for the shape
// the SDK sends (no escapes, no unknown keys), which decodes every record's
// base64 into one block allocated for the call, and falls back to
// encoding/json for anything else, so both accept the same inputs and give
// the same result (FuzzDecodeInput checks this). The records never point
// into body.
func decodeInput(op string, body []byte) (putInput, error) {
	if in, ok := fastDecode(op, body); ok {
		return in, nil
	}
	return jsonDecode(op, body)
}

// jsonRecord and jsonInput are the request shapes for encoding/json.
type jsonRecord struct {
	Data *[]byte
}

type jsonInput struct {
	DeliveryStreamName *string
	Records            *[]*jsonRecord
	Record             *jsonRecord
}

func jsonDecode(op string, body []byte) (putInput, error) {
	var j jsonInput
	if err := json.Unmarshal(body, &j); err != nil {
		return putInput{}, fmt.Errorf("decode %s request: %w", op, err)
	}
	var in putInput
	if j.DeliveryStreamName != nil {
		in.stream, in.hasStream = *j.DeliveryStreamName, true
	}
	recordData := func(r *jsonRecord) []byte {
		if r == nil || r.Data == nil {
			return nil
		}
		if *r.Data == nil {
			return []byte{}
		}
		return *r.Data
	}
	switch op {
	case OperationPutRecordBatch:
		if j.Records != nil {
			in.hasRecords = true
			in.records = make([][]byte, len(*j.Records))
			for i, r := range *j.Records {
				in.records[i] = recordData(r)
			}
		}
	case OperationPutRecord:
		if j.Record != nil {
			in.hasRecords = true
			in.records = [][]byte{recordData(j.Record)}
		}
	}
	return in, nil
}

// span is a byte range of the body.
type span struct{ start, end int }

// fastDecode decodes the exact shape the SDK writes. It reports ok=false,
// and leaves the request to encoding/json, on anything it does not handle
// itself: escapes, non-ASCII or control bytes in strings, unknown or
// repeated keys, null values, base64 that does not decode.
func fastDecode(op string, body []byte) (putInput, bool) {
	s := scanner{b: body}
	var (
		in      putInput
		spans   []span // Data of each record; start < 0 for a missing Data
		sawName bool
		sawRecs bool
	)
	if !s.consume('{') {
		return putInput{}, false
	}
	if !s.consume('}') {
		for {
			k, ok := s.plainString()
			if !ok || !s.consume(':') {
				return putInput{}, false
			}
			switch key := string(body[k.start:k.end]); {
			case key == "DeliveryStreamName" && !sawName:
				v, ok := s.plainString()
				if !ok {
					return putInput{}, false
				}
				in.stream, in.hasStream, sawName = string(body[v.start:v.end]), true, true
			case key == "Records" && op == OperationPutRecordBatch && !sawRecs:
				if !s.consume('[') {
					return putInput{}, false
				}
				spans = make([]span, 0, 16)
				if !s.consume(']') {
					for {
						d, ok := s.recordObject()
						if !ok {
							return putInput{}, false
						}
						spans = append(spans, d)
						if s.consume(']') {
							break
						}
						if !s.consume(',') {
							return putInput{}, false
						}
					}
				}
				in.hasRecords, sawRecs = true, true
			case key == "Record" && op == OperationPutRecord && !sawRecs:
				d, ok := s.recordObject()
				if !ok {
					return putInput{}, false
				}
				spans = []span{d}
				in.hasRecords, sawRecs = true, true
			default:
				return putInput{}, false
			}
			if s.consume('}') {
				break
			}
			if !s.consume(',') {
				return putInput{}, false
			}
		}
	}
	s.skipSpace()
	if s.i != len(body) {
		return putInput{}, false
	}
	if !in.hasRecords {
		return in, true
	}

	// Size the block for all records, then decode into it.
	total := 0
	for _, sp := range spans {
		if sp.start < 0 {
			continue
		}
		n, ok := decodedLen(body[sp.start:sp.end])
		if !ok {
			return putInput{}, false
		}
		total += n
	}
	block := make([]byte, total)
	in.records = make([][]byte, len(spans))
	off := 0
	for i, sp := range spans {
		if sp.start < 0 {
			continue // missing Data stays nil
		}
		n, err := base64.StdEncoding.Decode(block[off:], body[sp.start:sp.end])
		if err != nil {
			return putInput{}, false
		}
		in.records[i] = block[off : off+n : off+n]
		off += n
	}
	return in, true
}

// decodedLen is the exact decoded length of padded standard base64, and
// false if enc cannot be padded standard base64.
func decodedLen(enc []byte) (int, bool) {
	n := len(enc)
	if n%4 != 0 {
		return 0, false
	}
	if n == 0 {
		return 0, true
	}
	pad := 0
	if enc[n-1] == '=' {
		pad++
		if enc[n-2] == '=' {
			pad++
		}
	}
	return n/4*3 - pad, true
}

// scanner reads the restricted JSON of the fast path.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, and reports whether c was there.
func (s *scanner) consume(c byte) bool {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string of printable ASCII with no escapes and returns
// the span of its contents.
func (s *scanner) plainString() (span, bool) {
	if !s.consume('"') {
		return span{}, false
	}
	start := s.i
	for i, c := range s.b[start:] {
		if plain[c] {
			continue
		}
		if c != '"' {
			return span{}, false
		}
		s.i = start + i + 1
		return span{start, start + i}, true
	}
	return span{}, false
}

// plain marks the bytes the fast path takes inside strings: printable
// ASCII except '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// recordObject reads {"Data":"<base64>"} (or {}) and returns the span of
// the base64, start -1 when Data is absent.
func (s *scanner) recordObject() (span, bool) {
	if !s.consume('{') {
		return span{}, false
	}
	if s.consume('}') {
		return span{-1, -1}, true
	}
	k, ok := s.plainString()
	if !ok || string(s.b[k.start:k.end]) != "Data" || !s.consume(':') {
		return span{}, false
	}
	v, ok := s.plainString()
	if !ok || !s.consume('}') {
		return span{}, false
	}
	return v, true
}

// streamNamePattern is the API model's pattern for DeliveryStreamName.
var streamNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// validate checks in against the constraints of the API model, as the
// service's request validation does before the operation runs, and returns
// a ValidationException listing every violation, in the service's words:
// "2 validation errors detected: Value '...' at 'records.1.member.data'
// failed to satisfy constraint: Member must have length less than or equal
// to 1024000; ...". Member indices in the paths are 1-based; that they are
// is not confirmed.
func validate(op string, in putInput) *CallError {
	var v []string
	switch {
	case !in.hasStream:
		v = append(v, "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null")
	case len(in.stream) < 1:
		v = append(v, "Value '' at 'deliveryStreamName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	default:
		if len(in.stream) > MaxStreamNameLength {
			v = append(v, "Value '"+in.stream+"' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to "+strconv.Itoa(MaxStreamNameLength))
		}
		if !streamNamePattern.MatchString(in.stream) {
			v = append(v, "Value '"+in.stream+"' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
		}
	}
	list, member := "records", "records.%d.member.data"
	if op == OperationPutRecord {
		list, member = "record", "record.data"
	}
	switch {
	case !in.hasRecords:
		v = append(v, "Value null at '"+list+"' failed to satisfy constraint: Member must not be null")
	case op == OperationPutRecordBatch && len(in.records) < 1:
		v = append(v, "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case op == OperationPutRecordBatch && len(in.records) > MaxRecordsPerCall:
		v = append(v, "Value '"+describeRecords(in.records)+"' at 'records' failed to satisfy constraint: Member must have length less than or equal to "+strconv.Itoa(MaxRecordsPerCall))
	}
	for i, r := range in.records {
		path := member
		if op == OperationPutRecordBatch {
			path = fmt.Sprintf(member, i+1)
		}
		switch {
		case r == nil:
			v = append(v, "Value null at '"+path+"' failed to satisfy constraint: Member must not be null")
		case len(r) > MaxRecordBytes:
			v = append(v, "Value '"+describeData(r)+"' at '"+path+"' failed to satisfy constraint: Member must have length less than or equal to "+strconv.Itoa(MaxRecordBytes))
		}
	}
	switch len(v) {
	case 0:
		return nil
	case 1:
		return badRequest(CodeValidation, "1 validation error detected: "+v[0])
	default:
		return badRequest(CodeValidation, strconv.Itoa(len(v))+" validation errors detected: "+strings.Join(v, "; "))
	}
}

// describeData renders a blob as the service's (Java) validation messages
// do.
func describeData(b []byte) string {
	return "java.nio.HeapByteBuffer[pos=0 lim=" + strconv.Itoa(len(b)) + " cap=" + strconv.Itoa(len(b)) + "]"
}

// describeRecords renders the first records of a list, as the service's
// messages do in full; the rest are elided.
func describeRecords(records [][]byte) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range records {
		if i == 3 {
			b.WriteString(", ... (" + strconv.Itoa(len(records)) + " records)")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("Record(data=" + describeData(r) + ")")
	}
	b.WriteByte(']')
	return b.String()
}
