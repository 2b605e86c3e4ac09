package restore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ttl-archiver/ttl-archiver/archive"

	"github.com/ttl-archiver/ttl-archiver/archive/reference"
)

// Item is a DynamoDB item.
type Item = map[string]types.AttributeValue

// maxNesting bounds the depth of typed values read; DynamoDB allows 32.
const maxNesting = 64

// DecodeTypedItem reads an item in DynamoDB JSON ({"name":{"S":"..."}, ...}).
func DecodeTypedItem(data []byte) (Item, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("item is not a JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("item is null")
	}
	return decodeTypedMap(m, "", 0)
}

func decodeTypedMap(m map[string]json.RawMessage, path string, depth int) (Item, error) {
	out := make(Item, len(m))
	for name, raw := range m {
		av, err := decodeTypedValue(raw, joinPath(path, name), depth+1)
		if err != nil {
			return nil, err
		}
		out[name] = av
	}
	return out, nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decodeTypedValue reads one typed value ({"S":"x"}, {"L":[...]}, ...).
func decodeTypedValue(raw json.RawMessage, path string, depth int) (types.AttributeValue, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("attribute %s: nested deeper than %d", path, maxNesting)
	}
	var tv map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tv); err != nil || len(tv) != 1 {
		return nil, fmt.Errorf("attribute %s: not a typed value such as {\"S\":\"...\"}", path)
	}
	var typ string
	var v json.RawMessage
	for typ, v = range tv {
	}
	bad := func(err error) error { return fmt.Errorf("attribute %s: bad %s value: %w", path, typ, err) }
	switch typ {
	case "S":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, bad(err)
		}
		return &types.AttributeValueMemberS{Value: s}, nil
	case "N":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, bad(err)
		}
		if err := archive.CheckNumber(s); err != nil {
			return nil, bad(err)
		}
		return &types.AttributeValueMemberN{Value: s}, nil
	case "B":
		var b []byte // encoding/json reads base64 into []byte
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, bad(err)
		}
		if b == nil {
			b = []byte{}
		}
		return &types.AttributeValueMemberB{Value: b}, nil
	case "SS":
		var ss []string
		if err := json.Unmarshal(v, &ss); err != nil {
			return nil, bad(err)
		}
		return &types.AttributeValueMemberSS{Value: ss}, nil
	case "NS":
		var ns []string
		if err := json.Unmarshal(v, &ns); err != nil {
			return nil, bad(err)
		}
		for _, n := range ns {
			if err := archive.CheckNumber(n); err != nil {
				return nil, bad(err)
			}
		}
		return &types.AttributeValueMemberNS{Value: ns}, nil
	case "BS":
		var bs [][]byte
		if err := json.Unmarshal(v, &bs); err != nil {
			return nil, bad(err)
		}
		return &types.AttributeValueMemberBS{Value: bs}, nil
	case "BOOL":
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, bad(err)
		}
		return &types.AttributeValueMemberBOOL{Value: b}, nil
	case "NULL":
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, bad(err)
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case "L":
		var l []json.RawMessage
		if err := json.Unmarshal(v, &l); err != nil {
			return nil, bad(err)
		}
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			av, err := decodeTypedValue(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case "M":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, bad(err)
		}
		mm, err := decodeTypedMap(m, path, depth)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: mm}, nil
	}
	return nil, fmt.Errorf("attribute %s: unknown type %q", path, typ)
}

// AppendTypedJSON appends the item in DynamoDB JSON, attribute names
// sorted, with no newline in it.
func AppendTypedJSON(dst []byte, item Item) []byte {
	b, _ := json.Marshal(reference.TypedJSON(&types.AttributeValueMemberM{Value: item})["M"]) // plain values cannot fail to marshal
	return append(dst, b...)
}

// decodePlainItem reads an item in the archive's plain JSON: strings,
// numbers (kept exact), booleans, null, lists and maps. Hints give the
// DynamoDB type of attributes plain JSON cannot tell: sets and binary.
func decodePlainItem(data []byte, hints TypeHints) (Item, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("item is not a JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("item is null")
	}
	out := make(Item, len(m))
	for name, v := range m {
		av, err := plainValue(v, name, hints, 1)
		if err != nil {
			return nil, err
		}
		out[name] = av
	}
	return out, nil
}

func plainValue(v any, path string, hints TypeHints, depth int) (types.AttributeValue, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("attribute %s: nested deeper than %d", path, maxNesting)
	}
	if h, ok := hints[path]; ok && v != nil {
		return hinted(v, path, h)
	}
	switch v := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}, nil
	case string:
		return &types.AttributeValueMemberS{Value: v}, nil
	case json.Number:
		return number(path, v.String())
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, e := range v {
			av, err := plainValue(e, path+"[]", hints, depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = av
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case map[string]any:
		m := make(Item, len(v))
		for k, e := range v {
			av, err := plainValue(e, path+"."+k, hints, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = av
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("attribute %s: unexpected JSON value %T", path, v)
}

// hinted converts a plain JSON value to the hinted type.
func hinted(v any, path, typ string) (types.AttributeValue, error) {
	wrong := func(want string) error {
		return fmt.Errorf("attribute %s: type hint %s wants %s, the item has %s", path, typ, want, jsonKind(v))
	}
	switch typ {
	case "B":
		s, ok := v.(string)
		if !ok {
			return nil, wrong("a base64 string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: type hint B: not base64: %v", path, err)
		}
		return &types.AttributeValueMemberB{Value: b}, nil
	case "S":
		s, ok := v.(string)
		if !ok {
			return nil, wrong("a string")
		}
		return &types.AttributeValueMemberS{Value: s}, nil
	case "N":
		switch n := v.(type) {
		case json.Number:
			return number(path, n.String())
		case string:
			return number(path, n)
		}
		return nil, wrong("a number")
	}
	l, ok := v.([]any)
	if !ok {
		return nil, wrong("an array")
	}
	if len(l) == 0 {
		// DynamoDB sets are never empty: an empty array was a list.
		return &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, nil
	}
	switch typ {
	case "SS":
		ss := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, wrong("an array of strings")
			}
			ss[i] = s
		}
		return &types.AttributeValueMemberSS{Value: ss}, nil
	case "NS":
		ns := make([]string, len(l))
		for i, e := range l {
			n, ok := e.(json.Number)
			if !ok {
				return nil, wrong("an array of numbers")
			}
			if err := archive.CheckNumber(n.String()); err != nil {
				return nil, fmt.Errorf("attribute %s: element %d: %w", path, i, err)
			}
			ns[i] = n.String()
		}
		return &types.AttributeValueMemberNS{Value: ns}, nil
	case "BS":
		bs := make([][]byte, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, wrong("an array of base64 strings")
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: type hint BS: element %d is not base64: %v", path, i, err)
			}
			bs[i] = b
		}
		return &types.AttributeValueMemberBS{Value: bs}, nil
	}
	return nil, fmt.Errorf("attribute %s: unknown type hint %q", path, typ)
}

// number is an N value, refused when DynamoDB would refuse it (more
// than 38 digits, out of range, not a number): such an item goes to the
// rejects file with the reason instead of failing a batch write.
func number(path, s string) (types.AttributeValue, error) {
	if err := archive.CheckNumber(s); err != nil {
		return nil, fmt.Errorf("attribute %s: %w", path, err)
	}
	return &types.AttributeValueMemberN{Value: s}, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// TypeHints maps an attribute path to the DynamoDB type its values are
// restored as, for items archived in the json format. A path is a
// top-level attribute name, "name.sub" for an attribute of a map, and
// "name[]" for every element of a list: "orders[].tags".
type TypeHints map[string]string

// hintTypes are the types a hint may name.
var hintTypes = []string{"SS", "NS", "BS", "B", "S", "N"}

// Set reads "path=TYPE" (TYPE one of SS, NS, BS, B, S, N) and
// adds it to h. It is the value of the repeatable --type-hint flag.
func (h TypeHints) Set(s string) error {
	i := strings.LastIndex(s, "=")
	if i <= 0 {
		return fmt.Errorf("type hint %q: want path=TYPE with TYPE one of %s", s, strings.Join(hintTypes, ", "))
	}
	path, typ := s[:i], strings.ToUpper(s[i+1:])
	for _, t := range hintTypes {
		if t == typ {
			h[path] = typ
			return nil
		}
	}
	return fmt.Errorf("type hint %q: type %q is not one of %s", s, s[i+1:], strings.Join(hintTypes, ", "))
}

// Type names the flag's value (pflag.Value).
func (h TypeHints) Type() string { return "path=TYPE" }

// String lists the hints, sorted (flag.Value).
func (h TypeHints) String() string {
	parts := make([]string, 0, len(h))
	for p, t := range h {
		parts = append(parts, p+"="+t)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
