package archive

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// roundTripItems is how many random items the round-trip tests convert.
const roundTripItems = 3000

// itemGen makes random items as the SDK's attribute values and writes them
// as DynamoDB JSON images, with random white space, member order and
// escapes, so that every way of writing the same item is exercised.
type itemGen struct {
	r        *rand.Rand
	maxDepth int // of the item being made
}

func newItemGen() *itemGen {
	return &itemGen{r: rand.New(rand.NewPCG(20251123, 1))}
}

// item returns a random item; now and then one nested as deep as a
// convertible image may be.
func (g *itemGen) item() map[string]types.AttributeValue {
	g.maxDepth = g.r.IntN(5)
	m := g.attrs(0, 1+g.r.IntN(8))
	if g.r.IntN(50) == 0 {
		m[g.name()] = g.chain(maxTypedDepth - 1)
	}
	return m
}

// chain returns a value of n nested M or L levels around a scalar: the
// value's own depth is 0, its leaf's is n.
func (g *itemGen) chain(n int) types.AttributeValue {
	if n == 0 {
		return g.scalar()
	}
	if g.r.IntN(2) == 0 {
		return &types.AttributeValueMemberL{Value: []types.AttributeValue{g.chain(n - 1)}}
	}
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{g.name(): g.chain(n - 1)}}
}

func (g *itemGen) attrs(depth, n int) map[string]types.AttributeValue {
	m := make(map[string]types.AttributeValue, n)
	for range n {
		m[g.name()] = g.value(depth)
	}
	return m
}

func (g *itemGen) value(depth int) types.AttributeValue {
	if depth >= g.maxDepth || g.r.IntN(3) > 0 {
		return g.scalar()
	}
	if g.r.IntN(2) == 0 {
		l := make([]types.AttributeValue, g.r.IntN(5))
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return &types.AttributeValueMemberL{Value: l}
	}
	return &types.AttributeValueMemberM{Value: g.attrs(depth+1, g.r.IntN(5))}
}

func (g *itemGen) scalar() types.AttributeValue {
	switch g.r.IntN(8) {
	case 0:
		return &types.AttributeValueMemberS{Value: g.text(20)}
	case 1:
		return &types.AttributeValueMemberN{Value: g.number()}
	case 2:
		return &types.AttributeValueMemberB{Value: g.binary()}
	case 3:
		return &types.AttributeValueMemberBOOL{Value: g.r.IntN(2) == 0}
	case 4:
		return &types.AttributeValueMemberNULL{Value: true}
	case 5:
		ss := make([]string, 1+g.r.IntN(4))
		for i := range ss {
			ss[i] = g.text(10)
		}
		return &types.AttributeValueMemberSS{Value: ss}
	case 6:
		ns := make([]string, 1+g.r.IntN(4))
		for i := range ns {
			ns[i] = g.number()
		}
		return &types.AttributeValueMemberNS{Value: ns}
	default:
		bs := make([][]byte, 1+g.r.IntN(4))
		for i := range bs {
			bs[i] = g.binary()
		}
		return &types.AttributeValueMemberBS{Value: bs}
	}
}

// runes are what random strings are made of: plain and multi-byte
// characters, and every kind that JSON or encoding/json escapes.
var runes = []rune{
	'a', 'Z', '0', ' ', '.', '#', '~', '/', '"', '\\', '<', '>', '&', '\'',
	0x00, 0x01, '\b', '\f', '\n', '\r', '\t', 0x1f, 0x7f, 0x80, 0xff,
	'é', 'ß', 'ж', '中', '\u2028', '\u2029', '\uFEFF', '\uFFFD', '\uE000', '\uFFFF',
	'\U0001F9AB', '\U00010000', '\U0010FFFF',
}

func (g *itemGen) text(maxLen int) string {
	var b strings.Builder
	for range g.r.IntN(maxLen + 1) {
		if g.r.IntN(3) == 0 {
			b.WriteRune(runes[g.r.IntN(len(runes))])
		} else {
			b.WriteByte(byte('a' + g.r.IntN(26)))
		}
	}
	return b.String()
}

func (g *itemGen) name() string { return g.text(8) }

func (g *itemGen) binary() []byte {
	b := make([]byte, g.r.IntN(40))
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

// number returns a random decimal within DynamoDB's range (up to 38
// significant digits, magnitude from 1E-130 to below 1E+126), written in
// one of the ways JSON allows: integer, fraction, or with an exponent.
func (g *itemGen) number() string {
	if g.r.IntN(20) == 0 {
		return [...]string{"0", "-0", "0.0", "0E+5", "0.000e-3"}[g.r.IntN(5)]
	}
	digits := make([]byte, 1+g.r.IntN(38))
	for i := range digits {
		digits[i] = byte('0' + g.r.IntN(10))
	}
	digits[0] = byte('1' + g.r.IntN(9))
	// The value is 0.digits × 10^exp.
	exp := -129 + g.r.IntN(255)
	sign := ""
	if g.r.IntN(2) == 0 {
		sign = "-"
	}
	d := string(digits)
	switch form := g.r.IntN(3); {
	case form == 0 && exp >= len(d) && exp <= 40: // an integer
		return sign + d + strings.Repeat("0", exp-len(d))
	case form == 0 && exp > 0 && exp < len(d): // point inside the digits
		return sign + d[:exp] + "." + d[exp:] + strings.Repeat("0", g.r.IntN(3))
	case form == 0 && exp <= 0 && exp > -40: // 0.000ddd
		return sign + "0." + strings.Repeat("0", -exp) + d
	default: // a mantissa with the point after p digits, and an exponent
		p := g.r.IntN(len(d) + 1)
		var mant string
		switch {
		case p == 0:
			mant = "0." + d
		case p == len(d):
			mant = d
		default:
			mant = d[:p] + "." + d[p:]
		}
		es := strconv.Itoa(exp - p)
		if exp-p >= 0 && g.r.IntN(2) == 0 {
			es = "+" + es
		}
		return sign + mant + [...]string{"e", "E"}[g.r.IntN(2)] + es
	}
}

// ws writes random JSON white space.
func (g *itemGen) ws(b *bytes.Buffer) {
	if g.r.IntN(4) == 0 {
		b.WriteString([...]string{" ", "\n", "\t", "\r\n  "}[g.r.IntN(4)])
	}
}

// writeString writes s as a JSON string, each character as it is or
// escaped in one of the ways JSON allows.
func (g *itemGen) writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		mustEscape := r < 0x20 || r == '"' || r == '\\'
		if !mustEscape && g.r.IntN(4) > 0 {
			b.WriteRune(r)
			continue
		}
		short := map[rune]string{'"': `\"`, '\\': `\\`, '/': `\/`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}[r]
		switch {
		case short != "" && g.r.IntN(2) == 0:
			b.WriteString(short)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			g.writeU(b, r1)
			g.writeU(b, r2)
		default:
			g.writeU(b, r)
		}
	}
	b.WriteByte('"')
}

func (g *itemGen) writeU(b *bytes.Buffer, r rune) {
	if g.r.IntN(2) == 0 {
		fmt.Fprintf(b, `\u%04x`, r)
	} else {
		fmt.Fprintf(b, `\u%04X`, r)
	}
}

// writeImage writes an attribute map as DynamoDB JSON, members in random
// order.
func (g *itemGen) writeImage(b *bytes.Buffer, m map[string]types.AttributeValue) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	g.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		g.ws(b)
		g.writeString(b, n)
		g.ws(b)
		b.WriteByte(':')
		g.ws(b)
		g.writeValue(b, m[n])
		g.ws(b)
	}
	b.WriteByte('}')
}

func (g *itemGen) writeValue(b *bytes.Buffer, av types.AttributeValue) {
	typed := func(tag string, body func()) {
		b.WriteString(`{"` + tag + `":`)
		g.ws(b)
		body()
		g.ws(b)
		b.WriteByte('}')
	}
	array := func(n int, elem func(i int)) {
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
				g.ws(b)
			}
			elem(i)
		}
		b.WriteByte(']')
	}
	b64 := func(p []byte) { g.writeString(b, base64.StdEncoding.EncodeToString(p)) }
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		typed("S", func() { g.writeString(b, v.Value) })
	case *types.AttributeValueMemberN:
		typed("N", func() { g.writeString(b, v.Value) })
	case *types.AttributeValueMemberB:
		typed("B", func() { b64(v.Value) })
	case *types.AttributeValueMemberBOOL:
		typed("BOOL", func() { b.WriteString(strconv.FormatBool(v.Value)) })
	case *types.AttributeValueMemberNULL:
		typed("NULL", func() { b.WriteString("true") })
	case *types.AttributeValueMemberSS:
		typed("SS", func() { array(len(v.Value), func(i int) { g.writeString(b, v.Value[i]) }) })
	case *types.AttributeValueMemberNS:
		typed("NS", func() { array(len(v.Value), func(i int) { g.writeString(b, v.Value[i]) }) })
	case *types.AttributeValueMemberBS:
		typed("BS", func() { array(len(v.Value), func(i int) { b64(v.Value[i]) }) })
	case *types.AttributeValueMemberL:
		typed("L", func() { array(len(v.Value), func(i int) { g.writeValue(b, v.Value[i]) }) })
	case *types.AttributeValueMemberM:
		typed("M", func() { g.writeImage(b, v.Value) })
	default:
		panic(fmt.Sprintf("unexpected attribute value %T", av))
	}
}

// decodeUseNumber parses JSON keeping numbers as json.Number.
func decodeUseNumber(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the value")
	}
	return v, nil
}

// sameDecimal reports whether two decimal texts are exactly the same
// number (1E+2 and 100.0 are).
func sameDecimal(a, b string) bool {
	x, okx := new(big.Rat).SetString(a)
	y, oky := new(big.Rat).SetString(b)
	return okx && oky && x.Cmp(y) == 0
}

// comparePlain checks plain JSON (decoded with UseNumber) against the
// attribute value it was made from.
func comparePlain(path string, av types.AttributeValue, got any) error {
	mismatch := func() error { return fmt.Errorf("%s: got %#v, want %#v", path, got, av) }
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		if s, ok := got.(string); !ok || s != v.Value {
			return mismatch()
		}
	case *types.AttributeValueMemberN:
		if n, ok := got.(json.Number); !ok || !sameDecimal(string(n), v.Value) || string(n) != v.Value {
			return mismatch()
		}
	case *types.AttributeValueMemberB:
		if s, ok := got.(string); !ok || !sameBase64(s, v.Value) {
			return mismatch()
		}
	case *types.AttributeValueMemberBOOL:
		if b, ok := got.(bool); !ok || b != v.Value {
			return mismatch()
		}
	case *types.AttributeValueMemberNULL:
		if got != nil {
			return mismatch()
		}
	case *types.AttributeValueMemberSS:
		l, ok := got.([]any)
		if !ok || len(l) != len(v.Value) {
			return mismatch()
		}
		for i, e := range v.Value {
			if err := comparePlain(fmt.Sprintf("%s[%d]", path, i), &types.AttributeValueMemberS{Value: e}, l[i]); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberNS:
		l, ok := got.([]any)
		if !ok || len(l) != len(v.Value) {
			return mismatch()
		}
		for i, e := range v.Value {
			if err := comparePlain(fmt.Sprintf("%s[%d]", path, i), &types.AttributeValueMemberN{Value: e}, l[i]); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberBS:
		l, ok := got.([]any)
		if !ok || len(l) != len(v.Value) {
			return mismatch()
		}
		for i, e := range v.Value {
			if err := comparePlain(fmt.Sprintf("%s[%d]", path, i), &types.AttributeValueMemberB{Value: e}, l[i]); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberL:
		l, ok := got.([]any)
		if !ok || len(l) != len(v.Value) {
			return mismatch()
		}
		for i, e := range v.Value {
			if err := comparePlain(fmt.Sprintf("%s[%d]", path, i), e, l[i]); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberM:
		m, ok := got.(map[string]any)
		if !ok || len(m) != len(v.Value) {
			return mismatch()
		}
		for k, e := range v.Value {
			g, ok := m[k]
			if !ok {
				return fmt.Errorf("%s: attribute %q missing", path, k)
			}
			if err := comparePlain(path+"."+k, e, g); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s: unexpected attribute value %T", path, av)
	}
	return nil
}

func sameBase64(s string, want []byte) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && bytes.Equal(b, want)
}

// parseTyped turns decoded DynamoDB JSON back into an attribute value.
func parseTyped(v any) (types.AttributeValue, error) {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, fmt.Errorf("not a typed value: %#v", v)
	}
	for tag, x := range obj {
		strs := func() ([]string, error) {
			l, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("%s is not an array", tag)
			}
			out := make([]string, len(l))
			for i, e := range l {
				if out[i], ok = e.(string); !ok {
					return nil, fmt.Errorf("%s element is not a string", tag)
				}
			}
			return out, nil
		}
		switch tag {
		case "S", "N", "B":
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s is not a string", tag)
			}
			switch tag {
			case "S":
				return &types.AttributeValueMemberS{Value: s}, nil
			case "N":
				return &types.AttributeValueMemberN{Value: s}, nil
			}
			b, err := base64.StdEncoding.DecodeString(s)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			b, ok := x.(bool)
			if !ok {
				return nil, fmt.Errorf("BOOL is not a bool")
			}
			return &types.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			if x != true {
				return nil, fmt.Errorf("NULL is not true")
			}
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "SS", "NS":
			s, err := strs()
			if tag == "SS" {
				return &types.AttributeValueMemberSS{Value: s}, err
			}
			return &types.AttributeValueMemberNS{Value: s}, err
		case "BS":
			s, err := strs()
			if err != nil {
				return nil, err
			}
			bs := make([][]byte, len(s))
			for i, e := range s {
				if bs[i], err = base64.StdEncoding.DecodeString(e); err != nil {
					return nil, err
				}
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			l, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("L is not an array")
			}
			out := make([]types.AttributeValue, len(l))
			for i, e := range l {
				var err error
				if out[i], err = parseTyped(e); err != nil {
					return nil, err
				}
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		case "M":
			m, err := parseTypedMap(x)
			return &types.AttributeValueMemberM{Value: m}, err
		}
		return nil, fmt.Errorf("unknown type %q", tag)
	}
	panic("unreachable")
}

func parseTypedMap(v any) (map[string]types.AttributeValue, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object: %#v", v)
	}
	m := make(map[string]types.AttributeValue, len(obj))
	for k, e := range obj {
		av, err := parseTyped(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = av
	}
	return m, nil
}

// sameTyped reports whether two attribute values are identical, numbers
// compared as written.
func sameTyped(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		y, ok := b.(*types.AttributeValueMemberNULL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && slices.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && slices.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		return ok && slices.EqualFunc(x.Value, y.Value, bytes.Equal)
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(x.Value, y.Value, sameTyped)
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		return ok && sameTypedMap(x.Value, y.Value)
	}
	return false
}

func sameTypedMap(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || !sameTyped(x, y) {
			return false
		}
	}
	return true
}

// roundTripImages makes the random items and their images.
func roundTripImages() ([]map[string]types.AttributeValue, [][]byte) {
	g := newItemGen()
	items := make([]map[string]types.AttributeValue, roundTripItems)
	images := make([][]byte, roundTripItems)
	for i := range items {
		items[i] = g.item()
		var b bytes.Buffer
		g.ws(&b)
		g.writeImage(&b, items[i])
		g.ws(&b)
		images[i] = b.Bytes()
	}
	return items, images
}

func TestRoundTripJSON(t *testing.T) {
	items, images := roundTripImages()
	for i, im := range images {
		out, err := convertBoth(t, im, FormatJSON)
		if err != nil {
			t.Fatalf("item %d: ConvertImage(%s, json): %v", i, im, err)
		}
		got, err := decodeUseNumber(out)
		if err != nil {
			t.Fatalf("item %d: ConvertImage(%s, json) = %s, which does not parse: %v", i, im, out, err)
		}
		if err := comparePlain("item", &types.AttributeValueMemberM{Value: items[i]}, got); err != nil {
			t.Fatalf("item %d: ConvertImage(%s, json) = %s: %v", i, im, out, err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("item %d: ConvertImage(%s, json) = %q, not UTF-8", i, im, out)
		}
	}
}

func TestRoundTripDynamoDBJSON(t *testing.T) {
	items, images := roundTripImages()
	for i, im := range images {
		out, err := convertBoth(t, im, FormatDynamoDBJSON)
		if err != nil {
			t.Fatalf("item %d: ConvertImage(%s, dynamodb-json): %v", i, im, err)
		}
		v, err := decodeUseNumber(out)
		if err != nil {
			t.Fatalf("item %d: ConvertImage(%s, dynamodb-json) = %s, which does not parse: %v", i, im, out, err)
		}
		got, err := parseTypedMap(v)
		if err != nil {
			t.Fatalf("item %d: ConvertImage(%s, dynamodb-json) = %s, not DynamoDB JSON: %v", i, im, out, err)
		}
		if !sameTypedMap(got, items[i]) {
			t.Fatalf("item %d: ConvertImage(%s, dynamodb-json) = %s, not the item it was made from", i, im, out)
		}
	}
}

// TestRoundTripNumbers checks the number generator itself: every number it
// writes is a valid JSON number within DynamoDB's range, so that the
// round trips above test what they claim to.
func TestRoundTripNumbers(t *testing.T) {
	g := newItemGen()
	lo, _ := new(big.Rat).SetString("1E-130")
	hi, _ := new(big.Rat).SetString("1E+126")
	forms := map[string]int{}
	for range 10000 {
		n := g.number()
		if !isJSONNumber([]byte(n)) {
			t.Fatalf("number() = %q, not a JSON number", n)
		}
		r, ok := new(big.Rat).SetString(n)
		if !ok {
			t.Fatalf("number() = %q, not a decimal", n)
		}
		if abs := new(big.Rat).Abs(r); abs.Sign() != 0 && (abs.Cmp(lo) < 0 || abs.Cmp(hi) >= 0) {
			t.Fatalf("number() = %q, outside DynamoDB's range", n)
		}
		switch {
		case strings.ContainsAny(n, "eE"):
			forms["exponent"]++
		case strings.Contains(n, "."):
			forms["fraction"]++
		default:
			forms["integer"]++
		}
	}
	for _, f := range []string{"exponent", "fraction", "integer"} {
		if forms[f] < 100 {
			t.Errorf("number() wrote %d numbers of the %s form in 10000, want at least 100", forms[f], f)
		}
	}
	for _, tc := range []struct{ a, b string }{{"1E+2", "100"}, {"-0.5", "-5e-1"}, {"0", "-0.0"}} {
		if !sameDecimal(tc.a, tc.b) {
			t.Errorf("sameDecimal(%q, %q) = false, want true", tc.a, tc.b)
		}
	}
	if sameDecimal("1E+2", "101") {
		t.Errorf("sameDecimal(%q, %q) = true, want false", "1E+2", "101")
	}
}
