package esm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
)

// ErrFilterPattern is wrapped by [ParseFilterPattern] for a pattern Lambda
// would reject, or one using syntax this package does not implement.
var ErrFilterPattern = errors.New("invalid filter pattern")

// FilterPattern is one Lambda event filter pattern (FilterCriteria.Filters[].
// Pattern of an event source mapping; internal/samtemplate reads them from
// the template), applied to a record's fields as Lambda applies it to a
// DynamoDB stream record:
//   - every field the pattern names must match (AND across fields);
//   - a field's value is an object (match the record's nested object) or a
//     list of values, any of which may match (OR);
//   - values match exactly and case-sensitively (numbers by value); null
//     matches a JSON null; a record value that is a list matches when any
//     element does; a field absent from the record does not match.
//
// Content filters ({"prefix": ...}, {"numeric": ...}, ...) are rejected, so
// that a check built on this cannot silently pass: the project's pattern
// needs none.
type FilterPattern struct {
	root map[string]any
	text string
}

// ParseFilterPattern parses and checks a pattern string.
func ParseFilterPattern(s string) (FilterPattern, error) {
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return FilterPattern{}, fmt.Errorf("%w: %v", ErrFilterPattern, err)
	}
	root, ok := v.(map[string]any)
	if !ok || len(root) == 0 {
		return FilterPattern{}, fmt.Errorf("%w: want a non-empty JSON object", ErrFilterPattern)
	}
	if err := checkPattern(root, ""); err != nil {
		return FilterPattern{}, err
	}
	return FilterPattern{root: root, text: s}, nil
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("text after the JSON value")
	}
	return v, nil
}

// String returns the pattern as it was given.
func (p FilterPattern) String() string { return p.text }

func checkPattern(m map[string]any, path string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		field := path + "." + k
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return fmt.Errorf("%w: %s is an empty object", ErrFilterPattern, field)
			}
			if err := checkPattern(v, field); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("%w: %s is an empty list (it would match nothing)", ErrFilterPattern, field)
			}
			for _, e := range v {
				switch e.(type) {
				case string, json.Number, bool, nil:
				case map[string]any:
					return fmt.Errorf("%w: %s: content filters are not supported here", ErrFilterPattern, field)
				default:
					return fmt.Errorf("%w: %s: %s is not a value to match", ErrFilterPattern, field, jsonKind(e))
				}
			}
		default:
			return fmt.Errorf("%w: %s must be an object or a list of values, not %s", ErrFilterPattern, field, jsonKind(v))
		}
	}
	return nil
}

// MatchJSON decodes a record and reports whether the pattern matches it.
func (p FilterPattern) MatchJSON(record []byte) (bool, error) {
	v, err := decodeJSON(record)
	if err != nil {
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
func (p FilterPattern) Match(record map[string]any) bool { return matchObject(p.root, record) }

func matchObject(pattern, record map[string]any) bool {
	for k, pv := range pattern {
		rv, present := record[k]
		if !present {
			return false
		}
		if want, ok := pv.(map[string]any); ok {
			sub, ok := rv.(map[string]any)
			if !ok || !matchObject(want, sub) {
				return false
			}
			continue
		}
		if !matchValues(pv.([]any), rv) {
			return false
		}
	}
	return true
}

func matchValues(values []any, got any) bool {
	if list, ok := got.([]any); ok {
		for _, e := range list {
			if matchValues(values, e) {
				return true
			}
		}
		return false
	}
	for _, want := range values {
		if want == got {
			return true
		}
		w, ok1 := number(want)
		g, ok2 := number(got)
		if ok1 && ok2 && w.Cmp(g) == 0 {
			return true
		}
	}
	return false
}

func number(v any) (*big.Float, bool) {
	switch x := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 256, big.ToNearestEven)
		return f, err == nil
	case float64:
		return big.NewFloat(x), true
	}
	return nil, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
