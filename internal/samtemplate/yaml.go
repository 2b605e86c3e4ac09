package samtemplate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// shortForms maps CloudFormation's short-form YAML tags to the long form.
// !GetAtt and !Ref are handled apart: "!GetAtt A.B" becomes
// {"Fn::GetAtt": ["A", "B"]}, "!Ref X" becomes {"Ref": "X"}.
var shortForms = map[string]string{
	"!Sub":          "Fn::Sub",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!FindInMap":    "Fn::FindInMap",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Not":          "Fn::Not",
	"!ImportValue":  "Fn::ImportValue",
	"!GetAZs":       "Fn::GetAZs",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!Transform":    "Fn::Transform",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
	"!Condition":    "Condition",
}

// decodeYAML parses one YAML (or JSON) document into a plain tree.
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

const (
	maxDepth = 200
	// maxNodes bounds the values a document expands to, so that aliases
	// of aliases cannot blow up.
	maxNodes = 1 << 20
)

// converter turns YAML nodes into a plain tree.
type converter struct{ budget int }

func (c *converter) node(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	c.budget--
	if c.budget < 0 {
		return nil, errors.New("the document expands to too many values")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("line %d: want one document", n.Line)
		}
		return c.node(n.Content[0], depth+1)
	case yaml.AliasNode:
		return c.node(n.Alias, depth+1)
	}

	tag := n.Tag
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		return c.shortForm(n, depth)
	}

	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported by CloudFormation", k.Line)
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := c.node(val, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.node(e, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		return convertScalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// convertScalar keeps CloudFormation's view of scalars: integers, floats,
// booleans and null are typed; everything else (timestamps included) stays a
// string.
func convertScalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		if i >= math.MinInt && i <= math.MaxInt {
			return int(i), nil
		}
		return float64(i), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return f, nil
	default:
		return n.Value, nil
	}
}

func (c *converter) shortForm(n *yaml.Node, depth int) (any, error) {
	// A short-form tag applies to the node it is on; decode the node as if
	// it had no tag, then wrap it.
	inner := *n
	inner.Tag = ""
	if n.Kind == yaml.ScalarNode {
		inner.Tag = "!!str"
	}
	switch n.Tag {
	case "!Ref":
		if n.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: !Ref takes a name", n.Line)
		}
		return map[string]any{"Ref": n.Value}, nil
	case "!GetAtt":
		if n.Kind == yaml.ScalarNode {
			res, attr, ok := strings.Cut(n.Value, ".")
			if !ok || res == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, n.Value)
			}
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
		v, err := c.node(&inner, depth+1)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	}
	long, ok := shortForms[n.Tag]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	v, err := c.node(&inner, depth+1)
	if err != nil {
		return nil, err
	}
	return map[string]any{long: v}, nil
}

// scalarString renders a scalar parameter value as CloudFormation passes it:
// as a string.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case nil:
		return "", nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, err := scalarString(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("%s is not a scalar", kindOf(v))
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x), true
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}
