package samtemplate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	maxDepth = 200
	// maxNodes bounds the values a document expands to, so that aliases
	// of aliases cannot blow up.
	maxNodes = 1 << 20
)

// decodeYAML parses one YAML (or JSON) document into a plain tree, with
// CloudFormation's short-form tags in their long form: "!Sub x" becomes
// {"Fn::Sub": "x"}, "!Ref X" {"Ref": "X"}, "!GetAtt A.B"
// {"Fn::GetAtt": ["A", "B"]} and "!Condition C" {"Condition": "C"}.
func decodeYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	if doc.Kind == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrTemplate)
	}
	c := &converter{budget: maxNodes}
	v, err := c.node(&doc, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	return v, nil
}

// shortForms are the functions with a short-form tag other than !Ref,
// !Condition and !GetAtt: "!Name x" is {"Fn::Name": x}.
var shortForms = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`Sub If Equals Join Select Split FindInMap And Or Not
		ImportValue GetAZs Base64 Cidr Transform Length ToJsonString GetAtt
		Contains EachMemberEquals EachMemberIn RefAll ValueOf ValueOfAll`) {
		shortForms[name] = true
	}
}

// converter turns YAML nodes into a plain tree.
type converter struct{ budget int }

func (c *converter) node(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	if c.budget--; c.budget < 0 {
		return nil, errors.New("the document expands to too many values")
	}
	switch {
	case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
		return c.node(n.Content[0], depth+1)
	case n.Kind == yaml.AliasNode:
		return c.node(n.Alias, depth+1)
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		return c.shortForm(n, depth)
	case n.Kind == yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: a mapping key must be a plain scalar (no merge keys)", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := c.node(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case n.Kind == yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.node(e, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case n.Kind == yaml.ScalarNode:
		// CloudFormation's view of scalars: integers, floats, booleans and
		// null are typed; everything else (timestamps included) is a string.
		switch n.Tag {
		case "!!null", "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return v, nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func (c *converter) shortForm(n *yaml.Node, depth int) (any, error) {
	name := strings.TrimPrefix(n.Tag, "!")
	switch {
	case name == "Ref" || name == "Condition":
		if n.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: !%s takes a name", n.Line, name)
		}
		return map[string]any{name: n.Value}, nil
	case name == "GetAtt" && n.Kind == yaml.ScalarNode:
		res, attr, ok := strings.Cut(n.Value, ".")
		if !ok || res == "" || attr == "" {
			return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, n.Value)
		}
		return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
	case !shortForms[name]:
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	// The tag applies to the node it is on: decode the node as if it had
	// none, then wrap it.
	inner := *n
	inner.Tag = ""
	if n.Kind == yaml.ScalarNode {
		inner.Tag = "!!str"
	}
	v, err := c.node(&inner, depth+1)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// scalarString renders a scalar parameter value as CloudFormation passes it:
// as a string (a list as its values joined by commas).
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case nil:
		return "", nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := scalarString(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("%s is not a scalar", kindOf(v))
}

func toInt(v any) (int, bool) {
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return 0, false
	}
	return int(f), true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}
