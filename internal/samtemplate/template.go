package samtemplate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Template is a parsed CloudFormation or SAM template. Values are plain
// trees: map[string]any, []any, string, int, float64, bool and nil, with
// intrinsic functions in their long form.
type Template struct {
	// Raw is the whole document as written (Fn::ForEach not expanded).
	Raw map[string]any
	// Parameters by name.
	Parameters map[string]Parameter
	// Conditions by name, as written (Fn::Equals, Fn::Not, ...).
	Conditions map[string]any
	// Resources by logical id, with Fn::ForEach expanded for the parameter
	// values the template was expanded with (the defaults after Parse).
	Resources map[string]Resource
	// Outputs by name.
	Outputs map[string]any
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Name string
	// Type is the declared type: String, Number, CommaDelimitedList, ...
	Type string
	// Default is the default value as a string, if HasDefault.
	Default    string
	HasDefault bool
	// AllowedValues, AllowedPattern and the bounds constrain a value as
	// CloudFormation checks it at deploy time.
	AllowedValues      []string
	AllowedPattern     string
	MinValue, MaxValue *float64
	Description        string
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID string
	Type      string
	// Properties is nil when the resource has none.
	Properties map[string]any
	// Condition names the condition that decides whether the resource exists;
	// empty when it always does.
	Condition string
	Metadata  map[string]any
	// DeletionPolicy and UpdateReplacePolicy as written ("" when absent).
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// ErrTemplate is wrapped by the errors of [Parse] for a document that is not
// a usable template.
var ErrTemplate = errors.New("invalid template")

// Parse parses a template written in YAML (CloudFormation short-form tags
// included) or JSON, and expands its Fn::ForEach loops with the parameters'
// defaults. [NewResolver] expands them again for other values.
func Parse(data []byte) (*Template, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is %s, want a mapping", ErrTemplate, kindOf(doc))
	}
	t := &Template{Raw: root, Parameters: map[string]Parameter{}}
	params, err := section(root, "Parameters")
	if err != nil {
		return nil, err
	}
	for name, v := range params {
		if t.Parameters[name], err = parseParameter(name, v); err != nil {
			return nil, err
		}
	}
	return t.expand(nil)
}

// expand returns a copy of t whose Conditions, Resources and Outputs have
// their Fn::ForEach loops expanded with the parameter values (defaults for
// those not given).
func (t *Template) expand(params map[string]string) (*Template, error) {
	out := &Template{Raw: t.Raw, Parameters: t.Parameters, Resources: map[string]Resource{}}
	value := func(name string) (string, bool) {
		if v, ok := params[name]; ok {
			return v, true
		}
		p, ok := t.Parameters[name]
		return p.Default, ok && p.HasDefault
	}
	for _, s := range []struct {
		name string
		dst  *map[string]any
	}{{"Conditions", &out.Conditions}, {"Outputs", &out.Outputs}, {"Resources", nil}} {
		m, err := section(t.Raw, s.name)
		if err != nil {
			return nil, err
		}
		if m, err = expandForEach(m, value); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTemplate, s.name, err)
		}
		if s.dst != nil {
			*s.dst = m
			continue
		}
		for id, v := range m {
			if out.Resources[id], err = parseResource(id, v); err != nil {
				return nil, err
			}
		}
	}
	if len(out.Resources) == 0 {
		return nil, fmt.Errorf("%w: no Resources", ErrTemplate)
	}
	return out, nil
}

func section(root map[string]any, name string) (map[string]any, error) {
	v, ok := root[name]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, want a mapping", ErrTemplate, name, kindOf(v))
	}
	return m, nil
}

func parseParameter(name string, v any) (Parameter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Parameter{}, fmt.Errorf("%w: parameter %s is %s, want a mapping", ErrTemplate, name, kindOf(v))
	}
	p := Parameter{Name: name}
	p.Type, _ = m["Type"].(string)
	p.AllowedPattern, _ = m["AllowedPattern"].(string)
	p.Description, _ = m["Description"].(string)
	if p.Type == "" {
		return Parameter{}, fmt.Errorf("%w: parameter %s has no Type", ErrTemplate, name)
	}
	var err error
	if d, ok := m["Default"]; ok {
		if p.Default, err = scalarString(d); err != nil {
			return Parameter{}, fmt.Errorf("%w: parameter %s Default: %v", ErrTemplate, name, err)
		}
		p.HasDefault = true
	}
	av, _ := m["AllowedValues"].([]any)
	for _, e := range av {
		s, err := scalarString(e)
		if err != nil {
			return Parameter{}, fmt.Errorf("%w: parameter %s AllowedValues: %v", ErrTemplate, name, err)
		}
		p.AllowedValues = append(p.AllowedValues, s)
	}
	for key, dst := range map[string]**float64{"MinValue": &p.MinValue, "MaxValue": &p.MaxValue} {
		if x, ok := m[key]; ok {
			f, ok := toFloat(x)
			if !ok {
				return Parameter{}, fmt.Errorf("%w: parameter %s %s is not a number", ErrTemplate, name, key)
			}
			*dst = &f
		}
	}
	return p, nil
}

func parseResource(id string, v any) (Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Resource{}, fmt.Errorf("%w: resource %s is %s, want a mapping", ErrTemplate, id, kindOf(v))
	}
	r := Resource{LogicalID: id}
	r.Type, _ = m["Type"].(string)
	r.Properties, _ = m["Properties"].(map[string]any)
	r.Metadata, _ = m["Metadata"].(map[string]any)
	r.Condition, _ = m["Condition"].(string)
	r.DeletionPolicy, _ = m["DeletionPolicy"].(string)
	r.UpdateReplacePolicy, _ = m["UpdateReplacePolicy"].(string)
	if r.Type == "" {
		return Resource{}, fmt.Errorf("%w: resource %s has no Type", ErrTemplate, id)
	}
	return r, nil
}

// ResourcesOfType returns the resources of a type (for example
// "AWS::Lambda::EventSourceMapping"), sorted by logical id.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// Lookup walks a tree by mapping keys and list indexes ("0").
func Lookup(v any, path ...string) (any, bool) {
	cur := v
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := toInt(p)
			if !ok || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// kindOf names the kind of a tree value for messages.
func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		if name, _, ok := Intrinsic(x); ok {
			return name
		}
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// Intrinsic reports whether v is an intrinsic function call in long form: a
// mapping with the single key "Ref" or "Fn::...". It returns the function
// name and its argument.
func Intrinsic(v any) (name string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// RefName returns the name in {"Ref": name}.
func RefName(v any) (string, bool) {
	name, arg, ok := Intrinsic(v)
	if !ok || name != "Ref" {
		return "", false
	}
	s, ok := arg.(string)
	return s, ok
}

// GetAtt returns the resource and attribute of {"Fn::GetAtt": [res, attr]}.
func GetAtt(v any) (resource, attribute string, ok bool) {
	name, arg, isIntrinsic := Intrinsic(v)
	if a, isList := arg.([]any); isIntrinsic && name == "Fn::GetAtt" && isList && len(a) == 2 {
		r, ok1 := a[0].(string)
		at, ok2 := a[1].(string)
		return r, at, ok1 && ok2
	}
	return "", "", false
}
