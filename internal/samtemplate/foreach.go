package samtemplate

import (
	"fmt"
	"regexp"
	"strings"
)

// forEachPrefix starts the key of a loop: "Fn::ForEach::LoopName".
const forEachPrefix = "Fn::ForEach::"

// expandForEach expands the Fn::ForEach loops of a section (Resources,
// Conditions or Outputs) as the AWS::LanguageExtensions transform does: a
// loop [Identifier, Collection, {OutputKey: OutputValue}] gives, for each
// item of the collection, the fragment with ${Identifier} (the item) and
// &{Identifier} (the item without its non-alphanumeric characters) replaced
// in its keys and in Fn::Sub strings, and Ref Identifier replaced by the
// item. The collection is a list of strings or a Ref to a list parameter,
// whose value is looked up with value. Loops may nest.
func expandForEach(m map[string]any, value func(string) (string, bool)) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !strings.HasPrefix(k, forEachPrefix) {
			out[k] = v
		}
	}
	for k, v := range m {
		if !strings.HasPrefix(k, forEachPrefix) {
			continue
		}
		args, _ := v.([]any)
		if len(args) != 3 {
			return nil, fmt.Errorf("%s takes [Identifier, Collection, Fragment]", k)
		}
		id, ok1 := args[0].(string)
		frag, ok2 := args[2].(map[string]any)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s takes an identifier and a fragment mapping", k)
		}
		items, err := collection(args[1], value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		for _, item := range items {
			inner, err := expandForEach(substitute(frag, id, item).(map[string]any), value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			for ik, iv := range inner {
				if _, dup := out[ik]; dup {
					return nil, fmt.Errorf("%s makes %s a second time", k, ik)
				}
				out[ik] = iv
			}
		}
	}
	return out, nil
}

func collection(v any, value func(string) (string, bool)) ([]string, error) {
	if name, ok := RefName(v); ok {
		s, ok := value(name)
		if !ok {
			return nil, fmt.Errorf("the collection parameter %s has no value", name)
		}
		return strings.Split(s, ","), nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("the collection is %s, want a list or a Ref to a list parameter", kindOf(v))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, err := scalarString(e)
		if err != nil {
			return nil, fmt.Errorf("collection item %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

var nonAlphanumeric = regexp.MustCompile(`[^0-9a-zA-Z]+`)

// substitute returns a copy of v with the loop identifier id replaced by
// item where the transform replaces it.
func substitute(v any, id, item string) any {
	replace := strings.NewReplacer("${"+id+"}", item, "&{"+id+"}", nonAlphanumeric.ReplaceAllString(item, "")).Replace
	switch x := v.(type) {
	case map[string]any:
		if name, arg, ok := Intrinsic(x); ok {
			switch name {
			case "Ref":
				if arg == id {
					return item
				}
				// Ref: !Sub 'Name&{Identifier}' names a resource of the loop.
				if s, isSub := substitute(arg, id, item).(map[string]any); isSub {
					if lit, ok := s["Fn::Sub"].(string); ok && !strings.Contains(lit, "${") {
						return map[string]any{"Ref": lit}
					}
					return map[string]any{"Ref": s}
				}
			case "Fn::Sub":
				switch a := arg.(type) {
				case string:
					return map[string]any{name: replace(a)}
				case []any:
					if s, ok := a[0].(string); ok && len(a) == 2 {
						return map[string]any{name: []any{replace(s), substitute(a[1], id, item)}}
					}
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[replace(k)] = substitute(e, id, item)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, id, item)
		}
		return out
	}
	return v
}
