package archive

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// decodeBatchResponse decodes the body of a successful PutRecordBatch
// answer into out, with the SDK's rules (awsJson 1.1, as smithy-go's
// ShapeDeserializer applies them): an empty body leaves out as it is (null,
// or white space alone, is an error), a member whose value is null is left
// unset, members the API does not have are passed over (up to the SDK's
// nesting limit), a null entry of RequestResponses is an empty entry, and
// a value of the wrong type is an error.
//
// The SDK builds each of the up to 500 entries field by field, with an
// allocation for every string and pointer: about 6% of the function's CPU
// on a 9,000-record batch. This makes three allocations per answer: the
// entries, their strings (substrings of one copy of the body), and
// pointers to those. TestDecodeBatchResponseMatchesSDK and
// FuzzDecodeBatchResponse hold it to the SDK's own deserializer.
func decodeBatchResponse(body []byte, out *firehose.PutRecordBatchOutput) error {
	s := scanner{data: body}
	switch s.peek() {
	case 0:
		if len(body) == 0 {
			return nil // nothing to decode
		}
		return s.errorf("unexpected end of input or byte 0x00")
	case '{':
	default:
		return s.errorf("PutRecordBatch output is not an object")
	}
	d := responseDecoder{s: s}
	return d.s.object(func(name []byte) error {
		if d.s.peek() == 'n' {
			return d.s.literal("null")
		}
		switch string(name) {
		case "Encrypted":
			v, err := d.boolean()
			out.Encrypted = &v
			return err
		case "FailedPutCount":
			v, err := d.int32()
			out.FailedPutCount = &v
			return err
		case "RequestResponses":
			var err error
			out.RequestResponses, err = d.entries()
			return err
		}
		return d.s.skipWithin(1, maxAnswerDepth)
	})
}

// maxAnswerDepth is how deep the SDK's JSON parser lets arrays and
// objects nest in an answer (smithy-go's maxDepth); deeper is an error.
// It matters only in members the API does not have, which are passed over.
const maxAnswerDepth = 10_000

// responseDecoder reads a PutRecordBatch answer.
type responseDecoder struct {
	s    scanner
	text string   // the body as a string, made at the first string value
	strs []string // where the entries' string pointers point
}

func (d *responseDecoder) boolean() (bool, error) {
	switch d.s.peek() {
	case 't':
		return true, d.s.literal("true")
	case 'f':
		return false, d.s.literal("false")
	}
	return false, d.s.errorf("want a boolean")
}

func (d *responseDecoder) int32() (int32, error) {
	if c := d.s.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, d.s.errorf("want a number")
	}
	num, err := d.s.number()
	if err != nil {
		return 0, err
	}
	// Digits only, as the SDK reads integers: no fraction, no exponent.
	n, err := strconv.ParseInt(string(num), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid int32 %s", num)
	}
	return int32(n), nil
}

// entries reads RequestResponses.
func (d *responseDecoder) entries() ([]types.PutRecordBatchResponseEntry, error) {
	if d.s.peek() != '[' {
		return nil, d.s.errorf("RequestResponses is not an array")
	}
	d.s.pos++
	// Each entry has one string (a RecordId, or an ErrorCode with its
	// ErrorMessage): the entries are about as many as the objects.
	n := bytes.Count(d.s.data[d.s.pos:], []byte("{")) + 1
	es := make([]types.PutRecordBatchResponseEntry, 0, n)
	if d.strs == nil {
		d.strs = make([]string, 0, n+1)
	}
	if d.s.peek() == ']' {
		d.s.pos++
		return es, nil
	}
	for {
		var e types.PutRecordBatchResponseEntry
		switch d.s.peek() {
		case 'n':
			if err := d.s.literal("null"); err != nil {
				return nil, err
			}
		case '{':
			err := d.s.object(func(name []byte) error {
				if d.s.peek() == 'n' {
					return d.s.literal("null")
				}
				switch string(name) {
				case "RecordId":
					return d.str(&e.RecordId)
				case "ErrorCode":
					return d.str(&e.ErrorCode)
				case "ErrorMessage":
					return d.str(&e.ErrorMessage)
				}
				return d.s.skipWithin(3, maxAnswerDepth)
			})
			if err != nil {
				return nil, err
			}
		default:
			return nil, d.s.errorf("RequestResponses entry is not an object")
		}
		es = append(es, e)
		switch d.s.peek() {
		case ',':
			d.s.pos++
		case ']':
			d.s.pos++
			return es, nil
		default:
			return nil, d.s.errorf("want , or ] in RequestResponses")
		}
	}
}

// str reads a string value into *dst.
func (d *responseDecoder) str(dst **string) error {
	if d.s.peek() != '"' {
		return d.s.errorf("want a string")
	}
	raw, flags, err := d.s.str()
	if err != nil {
		return err
	}
	var v string
	if flags&strEscaped != 0 {
		v = string(unescape(raw))
	} else {
		if d.text == "" {
			d.text = string(d.s.data)
		}
		end := d.s.pos - 1
		v = d.text[end-len(raw) : end]
	}
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, 2*cap(d.strs)+1)
	}
	d.strs = append(d.strs, v)
	*dst = &d.strs[len(d.strs)-1]
	return nil
}

// responseBuffers keeps the buffers PutRecordBatch answers are read into.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
