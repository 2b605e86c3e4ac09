package samtemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// ErrFilterPattern is wrapped by [ParseFilterPattern] for a pattern Lambda
// would reject (or one using syntax this package does not implement).
var ErrFilterPattern = errors.New("invalid filter pattern")

// FilterPattern is one Lambda event filter pattern (FilterCriteria.Filters[].
// Pattern of an event source mapping), applied to a record's top-level
// fields as Lambda applies it to a DynamoDB stream record.
//
// Semantics, as in Lambda's event filtering:
//   - every field the pattern names must match (AND across fields);
//   - a field's value is an object (match the record's nested object) or a
//     list of matchers, any of which may match (OR);
//   - a string or number matcher is an exact, case-sensitive match; null
//     matches a JSON null; a record value that is a list matches when any
//     element does;
//   - a field absent from the record matches only {"exists": false};
//   - content filters: {"prefix": s}, {"suffix": s},
//     {"equals-ignore-case": s}, {"anything-but": v | [v...]},
//     {"numeric": [op, n, ...]}, {"exists": bool}.
//
// Patterns using other operators are rejected, so that a check built on
// this cannot silently pass.
type FilterPattern struct {
	root map[string]any
	text string
}

// ParseFilterPattern parses and checks a pattern string.
func ParseFilterPattern(s string) (FilterPattern, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return FilterPattern{}, fmt.Errorf("%w: %v", ErrFilterPattern, err)
	}
	if dec.More() {
		return FilterPattern{}, fmt.Errorf("%w: text after the pattern", ErrFilterPattern)
	}
	root, ok := v.(map[string]any)
	if !ok || len(root) == 0 {
		return FilterPattern{}, fmt.Errorf("%w: want a non-empty JSON object", ErrFilterPattern)
	}
	if err := checkPatternObject(root, ""); err != nil {
		return FilterPattern{}, err
	}
	return FilterPattern{root: root, text: s}, nil
}

// String returns the pattern as it was given.
func (p FilterPattern) String() string { return p.text }

func checkPatternObject(m map[string]any, path string) error {
	for _, k := range sortedKeys(m) {
		field := path + "." + k
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return fmt.Errorf("%w: %s is an empty object", ErrFilterPattern, field)
			}
			if err := checkPatternObject(v, field); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("%w: %s is an empty list (it would match nothing)", ErrFilterPattern, field)
			}
			for _, m := range v {
				if err := checkMatcher(m, field); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%w: %s must be an object or a list of values, not %s", ErrFilterPattern, field, jsonKind(v))
		}
	}
	return nil
}

func checkMatcher(m any, field string) error {
	switch x := m.(type) {
	case string, json.Number, bool, nil:
		return nil
	case map[string]any:
		if len(x) != 1 {
			return fmt.Errorf("%w: %s: a content filter has exactly one operator", ErrFilterPattern, field)
		}
		for op, arg := range x {
			switch op {
			case "prefix", "suffix", "equals-ignore-case":
				if _, ok := arg.(string); !ok {
					return fmt.Errorf("%w: %s: %s takes a string", ErrFilterPattern, field, op)
				}
			case "exists":
				if _, ok := arg.(bool); !ok {
					return fmt.Errorf("%w: %s: exists takes true or false", ErrFilterPattern, field)
				}
			case "anything-but":
				switch a := arg.(type) {
				case string, json.Number:
				case []any:
					for _, e := range a {
						switch e.(type) {
						case string, json.Number:
						default:
							return fmt.Errorf("%w: %s: anything-but lists strings or numbers", ErrFilterPattern, field)
						}
					}
				default:
					return fmt.Errorf("%w: %s: anything-but takes a value or a list", ErrFilterPattern, field)
				}
			case "numeric":
				if _, err := numericRanges(arg); err != nil {
					return fmt.Errorf("%w: %s: %v", ErrFilterPattern, field, err)
				}
			default:
				return fmt.Errorf("%w: %s: unsupported operator %q", ErrFilterPattern, field, op)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s: %s is not a matcher", ErrFilterPattern, field, jsonKind(m))
}

// MatchJSON decodes a record and reports whether the pattern matches it.
func (p FilterPattern) MatchJSON(record []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("decode record: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("decode record: %s, want an object", jsonKind(v))
	}
	return p.Match(m), nil
}

// Match reports whether the pattern matches a record decoded with
// json.Decoder.UseNumber (plain float64 numbers work too).
func (p FilterPattern) Match(record map[string]any) bool {
	return matchObject(p.root, record)
}

// MatchAny reports whether any of the patterns matches: a record passes a
// mapping's FilterCriteria when one of its filters matches.
func MatchAny(patterns []FilterPattern, record map[string]any) bool {
	for _, p := range patterns {
		if p.Match(record) {
			return true
		}
	}
	return false
}

func matchObject(pattern, record map[string]any) bool {
	for k, pv := range pattern {
		rv, present := record[k]
		switch want := pv.(type) {
		case map[string]any:
			sub, ok := rv.(map[string]any)
			if !present || !ok || !matchObject(want, sub) {
				return false
			}
		case []any:
			if !matchField(want, rv, present) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchField(matchers []any, value any, present bool) bool {
	for _, m := range matchers {
		if matchOne(m, value, present) {
			return true
		}
	}
	return false
}

func matchOne(m any, value any, present bool) bool {
	if op, ok := m.(map[string]any); ok {
		if e, ok := op["exists"]; ok {
			return e.(bool) == present
		}
	}
	if !present {
		return false
	}
	if list, ok := value.([]any); ok {
		for _, e := range list {
			if matchOne(m, e, true) {
				return true
			}
		}
		return false
	}
	switch x := m.(type) {
	case nil:
		return value == nil
	case string:
		s, ok := value.(string)
		return ok && s == x
	case bool:
		b, ok := value.(bool)
		return ok && b == x
	case json.Number:
		return numbersEqual(x, value)
	case map[string]any:
		for op, arg := range x {
			switch op {
			case "prefix":
				s, ok := value.(string)
				return ok && strings.HasPrefix(s, arg.(string))
			case "suffix":
				s, ok := value.(string)
				return ok && strings.HasSuffix(s, arg.(string))
			case "equals-ignore-case":
				s, ok := value.(string)
				return ok && strings.EqualFold(s, arg.(string))
			case "anything-but":
				excluded := []any{arg}
				if l, ok := arg.([]any); ok {
					excluded = l
				}
				for _, e := range excluded {
					if matchOne(e, value, true) {
						return false
					}
				}
				return true
			case "numeric":
				ranges, _ := numericRanges(arg)
				f, ok := toBigFloat(value)
				if !ok {
					return false
				}
				for _, r := range ranges {
					if !r.holds(f) {
						return false
					}
				}
				return true
			}
		}
	}
	return false
}

type numericRange struct {
	op string
	n  *big.Float
}

func (r numericRange) holds(f *big.Float) bool {
	c := f.Cmp(r.n)
	switch r.op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func numericRanges(arg any) ([]numericRange, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 {
		return nil, errors.New("numeric takes [operator, number, ...]")
	}
	var out []numericRange
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok || !containsString([]string{"=", "<", "<=", ">", ">="}, op) {
			return nil, fmt.Errorf("numeric: bad operator %v", list[i])
		}
		n, ok := toBigFloat(list[i+1])
		if !ok {
			return nil, fmt.Errorf("numeric: %v is not a number", list[i+1])
		}
		out = append(out, numericRange{op, n})
	}
	return out, nil
}

func numbersEqual(want json.Number, value any) bool {
	w, ok1 := toBigFloat(want)
	v, ok2 := toBigFloat(value)
	return ok1 && ok2 && w.Cmp(v) == 0
}

func toBigFloat(v any) (*big.Float, bool) {
	switch x := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 256, big.ToNearestEven)
		return f, err == nil
	case float64:
		return big.NewFloat(x), true
	case int:
		return new(big.Float).SetInt64(int64(x)), true
	}
	return nil, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64, int:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MappingFilters returns the filter patterns of an event source mapping
// (AWS::Lambda::EventSourceMapping FilterCriteria, or the FilterCriteria of
// a SAM event's Properties). The patterns must be literal strings.
func MappingFilters(props map[string]any) ([]FilterPattern, error) {
	fc, ok := props["FilterCriteria"]
	if !ok {
		return nil, nil
	}
	filters, ok := Lookup(fc, "Filters")
	if !ok {
		return nil, fmt.Errorf("%w: FilterCriteria has no Filters", ErrFilterPattern)
	}
	list, ok := filters.([]any)
	if !ok || len(list) == 0 || len(list) > 5 {
		return nil, fmt.Errorf("%w: FilterCriteria.Filters must list 1 to 5 filters", ErrFilterPattern)
	}
	out := make([]FilterPattern, 0, len(list))
	for i, f := range list {
		pv, _ := Lookup(f, "Pattern")
		s, ok := pv.(string)
		if !ok {
			return nil, fmt.Errorf("%w: Filters[%d].Pattern is %s, want a literal string", ErrFilterPattern, i, kindOf(pv))
		}
		p, err := ParseFilterPattern(s)
		if err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}
