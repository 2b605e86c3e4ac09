package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Template is a parsed CloudFormation or SAM template. Values are plain
// trees: map[string]any, []any, string, int, float64, bool and nil, with
// intrinsic functions in their long form.
type Template struct {
	// Raw is the whole document.
	Raw map[string]any
	// Parameters by name.
	Parameters map[string]Parameter
	// Conditions by name, as written (Fn::Equals, Fn::Not, ...).
	Conditions map[string]any
	// Mappings as written, for Fn::FindInMap.
	Mappings map[string]any
	// Resources by logical id.
	Resources map[string]Resource
	// Outputs by name, as written.
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
	AllowedValues  []string
	AllowedPattern string
	MinLength      *int
	MaxLength      *int
	MinValue       *float64
	MaxValue       *float64
	Description    string
	// Raw is the entry as written.
	Raw map[string]any
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
	DependsOn           []string
	// Raw is the entry as written.
	Raw map[string]any
}

// ErrTemplate is wrapped by the errors of [Parse] for a document that is not
// a usable template.
var ErrTemplate = errors.New("invalid template")

// ParseFile reads and parses a template file.
func ParseFile(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template written in YAML (CloudFormation short-form tags
// included) or JSON.
func Parse(data []byte) (*Template, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is %s, want a mapping", ErrTemplate, kindOf(doc))
	}
	t := &Template{
		Raw:        root,
		Parameters: map[string]Parameter{},
		Conditions: map[string]any{},
		Mappings:   map[string]any{},
		Resources:  map[string]Resource{},
		Outputs:    map[string]any{},
	}
	if err := section(root, "Conditions", t.Conditions); err != nil {
		return nil, err
	}
	if err := section(root, "Mappings", t.Mappings); err != nil {
		return nil, err
	}
	if err := section(root, "Outputs", t.Outputs); err != nil {
		return nil, err
	}
	params := map[string]any{}
	if err := section(root, "Parameters", params); err != nil {
		return nil, err
	}
	for name, v := range params {
		p, err := parseParameter(name, v)
		if err != nil {
			return nil, err
		}
		t.Parameters[name] = p
	}
	resources := map[string]any{}
	if err := section(root, "Resources", resources); err != nil {
		return nil, err
	}
	if len(resources) == 0 {
		return nil, fmt.Errorf("%w: no Resources", ErrTemplate)
	}
	for id, v := range resources {
		r, err := parseResource(id, v)
		if err != nil {
			return nil, err
		}
		t.Resources[id] = r
	}
	return t, nil
}

func section(root map[string]any, name string, into map[string]any) error {
	v, ok := root[name]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: %s is %s, want a mapping", ErrTemplate, name, kindOf(v))
	}
	for k, e := range m {
		into[k] = e
	}
	return nil
}

func parseParameter(name string, v any) (Parameter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Parameter{}, fmt.Errorf("%w: parameter %s is %s, want a mapping", ErrTemplate, name, kindOf(v))
	}
	p := Parameter{Name: name, Raw: m}
	var err error
	if p.Type, err = stringField(m, "Type"); err != nil || p.Type == "" {
		return Parameter{}, fmt.Errorf("%w: parameter %s has no Type", ErrTemplate, name)
	}
	if d, ok := m["Default"]; ok {
		s, err := scalarString(d)
		if err != nil {
			return Parameter{}, fmt.Errorf("%w: parameter %s Default: %v", ErrTemplate, name, err)
		}
		p.Default, p.HasDefault = s, true
	}
	if av, ok := m["AllowedValues"]; ok {
		list, ok := av.([]any)
		if !ok {
			return Parameter{}, fmt.Errorf("%w: parameter %s AllowedValues is %s, want a list", ErrTemplate, name, kindOf(av))
		}
		for _, e := range list {
			s, err := scalarString(e)
			if err != nil {
				return Parameter{}, fmt.Errorf("%w: parameter %s AllowedValues: %v", ErrTemplate, name, err)
			}
			p.AllowedValues = append(p.AllowedValues, s)
		}
	}
	if p.AllowedPattern, err = stringField(m, "AllowedPattern"); err != nil {
		return Parameter{}, fmt.Errorf("%w: parameter %s: %v", ErrTemplate, name, err)
	}
	if p.Description, err = stringField(m, "Description"); err != nil {
		return Parameter{}, fmt.Errorf("%w: parameter %s: %v", ErrTemplate, name, err)
	}
	for key, dst := range map[string]**int{"MinLength": &p.MinLength, "MaxLength": &p.MaxLength} {
		if x, ok := m[key]; ok {
			n, ok := toInt(x)
			if !ok {
				return Parameter{}, fmt.Errorf("%w: parameter %s %s is not a whole number", ErrTemplate, name, key)
			}
			*dst = &n
		}
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

// resourceAttributes are the keys a resource entry may have.
var resourceAttributes = map[string]bool{
	"Type": true, "Properties": true, "Condition": true, "DependsOn": true,
	"Metadata": true, "DeletionPolicy": true, "UpdateReplacePolicy": true,
	"CreationPolicy": true, "UpdatePolicy": true,
	// SAM-only attributes.
	"Connectors": true, "IgnoreGlobals": true,
}

func parseResource(id string, v any) (Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Resource{}, fmt.Errorf("%w: resource %s is %s, want a mapping", ErrTemplate, id, kindOf(v))
	}
	r := Resource{LogicalID: id, Raw: m}
	for k := range m {
		if !resourceAttributes[k] {
			return Resource{}, fmt.Errorf("%w: resource %s has unknown attribute %q", ErrTemplate, id, k)
		}
	}
	var err error
	if r.Type, err = stringField(m, "Type"); err != nil || r.Type == "" {
		return Resource{}, fmt.Errorf("%w: resource %s has no Type", ErrTemplate, id)
	}
	if p, ok := m["Properties"]; ok && p != nil {
		if r.Properties, ok = p.(map[string]any); !ok {
			return Resource{}, fmt.Errorf("%w: resource %s Properties is %s, want a mapping", ErrTemplate, id, kindOf(p))
		}
	}
	if md, ok := m["Metadata"]; ok && md != nil {
		if r.Metadata, ok = md.(map[string]any); !ok {
			return Resource{}, fmt.Errorf("%w: resource %s Metadata is %s, want a mapping", ErrTemplate, id, kindOf(md))
		}
	}
	for key, dst := range map[string]*string{"Condition": &r.Condition, "DeletionPolicy": &r.DeletionPolicy, "UpdateReplacePolicy": &r.UpdateReplacePolicy} {
		if *dst, err = stringField(m, key); err != nil {
			return Resource{}, fmt.Errorf("%w: resource %s: %v", ErrTemplate, id, err)
		}
	}
	switch d := m["DependsOn"].(type) {
	case nil:
	case string:
		r.DependsOn = []string{d}
	case []any:
		for _, e := range d {
			s, ok := e.(string)
			if !ok {
				return Resource{}, fmt.Errorf("%w: resource %s DependsOn has %s, want names", ErrTemplate, id, kindOf(e))
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	default:
		return Resource{}, fmt.Errorf("%w: resource %s DependsOn is %s", ErrTemplate, id, kindOf(d))
	}
	return r, nil
}

// Resource returns the resource with the logical id.
func (t *Template) Resource(logicalID string) (Resource, bool) {
	r, ok := t.Resources[logicalID]
	return r, ok
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

// ResourceIDs returns every logical id, sorted.
func (t *Template) ResourceIDs() []string {
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ParameterNames returns every parameter name, sorted.
func (t *Template) ParameterNames() []string {
	names := make([]string, 0, len(t.Parameters))
	for n := range t.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsServerless reports whether the resource is an AWS SAM type
// (AWS::Serverless::*), which the SAM transform turns into plain resources.
func (r Resource) IsServerless() bool { return strings.HasPrefix(r.Type, "AWS::Serverless::") }

// Property returns the value at a path of property names, for example
// r.Property("DestinationConfig", "OnFailure", "Destination"). List elements
// are addressed by their index as a string ("0").
func (r Resource) Property(path ...string) (any, bool) {
	return Lookup(r.Properties, path...)
}

// Lookup walks a tree by mapping keys and list indexes.
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

func stringField(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, want a string", key, kindOf(v))
	}
	return s, nil
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
	default:
		return fmt.Sprintf("%T", v)
	}
}
