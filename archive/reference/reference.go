// Package reference converts DynamoDB stream images the straightforward
// way, with the AWS SDK's types and its attributevalue package: the
// specification that package archive's fast conversion is tested against
// (identical bytes on every input, the same inputs refused). It is several
// times slower and is never used to archive; it lives apart so that the
// Lambda function does not link the SDK's DynamoDB packages.
package reference

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxDepth bounds the nesting of typed values (M and L), as package
// archive bounds it (a test there holds the two equal).
const MaxDepth = 60

// PlainJSON converts an image to plain JSON: decode the DynamoDB JSON into
// the SDK's types.AttributeValue with encoding/json, unmarshal that with
// attributevalue into Go values (numbers kept as attributevalue.Number),
// and encode them with encoding/json.
func PlainJSON(image []byte) ([]byte, error) {
	m, err := decodeImage(image)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	dec := attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) { o.UseNumber = true })
	if err := dec.Decode(&types.AttributeValueMemberM{Value: m}, &out); err != nil {
		return nil, fmt.Errorf("attributevalue: %w", err)
	}
	return encode(NumbersAsJSON(out))
}

// DynamoDBJSON converts an image to DynamoDB JSON (typed values, map keys
// sorted) through the SDK's types.AttributeValue.
func DynamoDBJSON(image []byte) ([]byte, error) {
	m, err := decodeImage(image)
	if err != nil {
		return nil, err
	}
	return encode(TypedJSON(&types.AttributeValueMemberM{Value: m})["M"])
}

func decodeImage(image []byte) (map[string]types.AttributeValue, error) {
	if !utf8.Valid(image) {
		return nil, errors.New("image is not valid UTF-8")
	}
	if !json.Valid(image) {
		return nil, errors.New("image is not valid JSON")
	}
	return decodeMap(image, 0)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeMap decodes an attribute map strictly: an object whose
// names are unique.
func decodeMap(raw []byte, depth int) (map[string]types.AttributeValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	m := map[string]types.AttributeValue{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("duplicate attribute name %q", name)
		}
		av, err := decodeValue(v, depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m[name] = av
	}
	return m, nil
}

// decodeValue decodes one typed value {"T": v} with exactly one
// member and a value of the JSON type the tag requires.
func decodeValue(raw json.RawMessage, depth int) (types.AttributeValue, error) {
	if depth >= MaxDepth {
		return nil, errors.New("too deep")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	if !dec.More() {
		return nil, errors.New("no type")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	tag := tok.(string)
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one type")
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("not closed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	switch tag {
	case "S":
		s, err := refString(v)
		return &types.AttributeValueMemberS{Value: s}, err
	case "N":
		n, err := refNumber(v)
		return &types.AttributeValueMemberN{Value: n}, err
	case "B":
		b, err := refBinary(v)
		return &types.AttributeValueMemberB{Value: b}, err
	case "BOOL":
		var b bool
		if string(v) != "true" && string(v) != "false" {
			return nil, errors.New("value of BOOL is not a bool")
		}
		err := json.Unmarshal(v, &b)
		return &types.AttributeValueMemberBOOL{Value: b}, err
	case "NULL":
		if string(v) != "true" {
			return nil, errors.New("value of NULL is not true")
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case "SS":
		ss, err := refSet(v, refString)
		return &types.AttributeValueMemberSS{Value: ss}, err
	case "NS":
		ns, err := refSet(v, refNumber)
		return &types.AttributeValueMemberNS{Value: ns}, err
	case "BS":
		bs, err := refSet(v, refBinary)
		return &types.AttributeValueMemberBS{Value: bs}, err
	case "L":
		var elems []json.RawMessage
		if len(v) == 0 || v[0] != '[' {
			return nil, errors.New("value of L is not an array")
		}
		if err := json.Unmarshal(v, &elems); err != nil {
			return nil, err
		}
		l := make([]types.AttributeValue, len(elems))
		for i, e := range elems {
			if l[i], err = decodeValue(e, depth+1); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case "M":
		if len(v) == 0 || v[0] != '{' {
			return nil, errors.New("value of M is not an object")
		}
		m, err := decodeMap(v, depth+1)
		return &types.AttributeValueMemberM{Value: m}, err
	}
	return nil, fmt.Errorf("unknown type %q", tag)
}

func refString(v json.RawMessage) (string, error) {
	if len(v) == 0 || v[0] != '"' {
		return "", errors.New("not a string")
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

func refNumber(v json.RawMessage) (string, error) {
	s, err := refString(v)
	if err != nil {
		return "", err
	}
	if _, err := json.Marshal(json.Number(s)); err != nil || s == "" {
		return "", fmt.Errorf("invalid number %q", s)
	}
	return s, nil
}

func refBinary(v json.RawMessage) ([]byte, error) {
	s, err := refString(v)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

func refSet[T any](v json.RawMessage, elem func(json.RawMessage) (T, error)) ([]T, error) {
	var elems []json.RawMessage
	if len(v) == 0 || v[0] != '[' {
		return nil, errors.New("set not an array")
	}
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, errors.New("empty set")
	}
	out := make([]T, len(elems))
	for i, e := range elems {
		var err error
		if out[i], err = elem(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NumbersAsJSON replaces attributevalue.Number (a string type, which
// encoding/json would quote) with json.Number throughout v, the result of
// decoding with attributevalue's UseNumber, so that encoding/json writes
// numbers with every digit.
func NumbersAsJSON(v any) any {
	switch v := v.(type) {
	case attributevalue.Number:
		return json.Number(v)
	case []attributevalue.Number:
		out := make([]json.Number, len(v))
		for i, n := range v {
			out[i] = json.Number(n)
		}
		return out
	case map[string]any:
		for k, e := range v {
			v[k] = NumbersAsJSON(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = NumbersAsJSON(e)
		}
		return v
	}
	return v
}

// TypedJSON returns an attribute value as Go values that encoding/json
// writes as DynamoDB JSON: {"S":"..."}, {"N":"..."}, {"B":"<base64>"}, ...,
// map keys sorted. An empty binary value is written as "" (not null). A
// member type the SDK may add later is written as null.
func TypedJSON(av types.AttributeValue) map[string]any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": nonNilBytes(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = TypedJSON(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			m[k] = TypedJSON(e)
		}
		return map[string]any{"M": m}
	}
	return nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
