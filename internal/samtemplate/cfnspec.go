package samtemplate

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Spec is the CloudFormation resource database of the npm package
// @aws-cdk/aws-service-spec (its db.json.gz): every resource type, its
// properties (required or not, with their types), nested property types and
// attributes.
type Spec struct {
	resources map[string]*specEntity // by CloudFormation type
	types     map[string]*specEntity // type definitions by $id
}

type specEntity struct {
	ID         string              `json:"$id"`
	CFNType    string              `json:"cloudFormationType"`
	Name       string              `json:"name"`
	Properties map[string]specProp `json:"properties"`
	Attributes map[string]any      `json:"attributes"`
}

type specProp struct {
	Type          specType   `json:"type"`
	Required      bool       `json:"required"`
	PreviousTypes []specType `json:"previousTypes"`
}

type specType struct {
	Type      string `json:"type"`
	Reference *struct {
		Ref string `json:"$ref"`
	} `json:"reference"`
	Element       *specType  `json:"element"`
	Types         []specType `json:"types"`
	AllowedValues []any      `json:"allowedValues"`
}

type specDB struct {
	Schema struct {
		Resource struct {
			Entities []*specEntity `json:"entities"`
		} `json:"resource"`
		TypeDefinition struct {
			Entities []*specEntity `json:"entities"`
		} `json:"typeDefinition"`
	} `json:"schema"`
}

// LoadSpec reads db.json.gz (or an uncompressed db.json).
func LoadSpec(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open CloudFormation spec: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("read CloudFormation spec %s: %w", path, err)
		}
		defer func() { _ = zr.Close() }() // read only
		r = zr
	}
	s, err := ReadSpec(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ReadSpec decodes the database from JSON.
func ReadSpec(r io.Reader) (*Spec, error) {
	var db specDB
	if err := json.NewDecoder(r).Decode(&db); err != nil {
		return nil, fmt.Errorf("decode CloudFormation spec: %w", err)
	}
	s := &Spec{resources: map[string]*specEntity{}, types: map[string]*specEntity{}}
	for _, e := range db.Schema.Resource.Entities {
		if e.CFNType != "" {
			s.resources[e.CFNType] = e
		}
	}
	for _, e := range db.Schema.TypeDefinition.Entities {
		s.types[e.ID] = e
	}
	if len(s.resources) == 0 {
		return nil, errors.New("decode CloudFormation spec: no resource types")
	}
	return s, nil
}

// HasType reports whether the database knows the resource type.
func (s *Spec) HasType(cfnType string) bool {
	_, ok := s.resources[cfnType]
	return ok
}

// HasAttribute reports whether Fn::GetAtt may read attr of the type.
func (s *Spec) HasAttribute(cfnType, attr string) bool {
	e, ok := s.resources[cfnType]
	if !ok {
		return false
	}
	_, ok = e.Attributes[attr]
	return ok
}

// Attributes lists a type's attributes, sorted.
func (s *Spec) Attributes(cfnType string) []string {
	e, ok := s.resources[cfnType]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(e.Attributes))
	for a := range e.Attributes {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ValidateResource checks a plain CloudFormation resource: its type exists,
// every property (at every depth) is one the type has, required properties
// are present, values have the declared shape, and literal strings are among
// the allowed values where the database lists them. Intrinsic functions are
// accepted where a value is expected; both branches of an Fn::If are
// checked.
func (s *Spec) ValidateResource(r Resource) []error {
	e, ok := s.resources[r.Type]
	if !ok {
		return []error{&ValidationError{Resource: r.LogicalID, Message: fmt.Sprintf("unknown resource type %s", r.Type)}}
	}
	return toErrors(r.LogicalID, s.checkProperties(e, r.Properties, "Properties", 0))
}

// ValidateProperties checks some properties of a resource type against the
// database, without requiring the others (for SAM pass-through properties).
func (s *Spec) ValidateProperties(resource, cfnType string, props map[string]any) []error {
	e, ok := s.resources[cfnType]
	if !ok {
		return []error{&ValidationError{Resource: resource, Message: fmt.Sprintf("unknown resource type %s", cfnType)}}
	}
	var out []issue
	for _, k := range sortedKeys(props) {
		p, ok := e.Properties[k]
		if !ok {
			out = append(out, issue{"Properties", fmt.Sprintf("%s has no property %q", cfnType, k)})
			continue
		}
		out = append(out, s.checkProp(p, props[k], "Properties."+k, 0)...)
	}
	return toErrors(resource, out)
}

func (s *Spec) checkProperties(e *specEntity, props map[string]any, path string, depth int) []issue {
	var out []issue
	for _, k := range sortedKeys(props) {
		p, ok := e.Properties[k]
		if !ok {
			out = append(out, issue{path, fmt.Sprintf("unknown property %q (%s has %s)", k, e.displayName(), strings.Join(e.propertyNames(), ", "))})
			continue
		}
		out = append(out, s.checkProp(p, props[k], path+"."+k, depth+1)...)
	}
	for _, name := range e.propertyNames() {
		if e.Properties[name].Required {
			if _, ok := props[name]; !ok {
				out = append(out, issue{path, fmt.Sprintf("missing required property %q", name)})
			}
		}
	}
	return out
}

func (e *specEntity) displayName() string {
	if e.CFNType != "" {
		return e.CFNType
	}
	return e.Name
}

func (e *specEntity) propertyNames() []string {
	out := make([]string, 0, len(e.Properties))
	for n := range e.Properties {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkProp accepts a value matching the property's type or one of its
// previous types (the database keeps types a property had before).
func (s *Spec) checkProp(p specProp, v any, path string, depth int) []issue {
	iss := s.checkType(p.Type, v, path, depth)
	if len(iss) == 0 {
		return nil
	}
	for _, pt := range p.PreviousTypes {
		if len(s.checkType(pt, v, path, depth)) == 0 {
			return nil
		}
	}
	return iss
}

func (s *Spec) checkType(t specType, v any, path string, depth int) []issue {
	if depth > maxDepth {
		return []issue{{path, "nested too deeply"}}
	}
	if name, arg, ok := Intrinsic(v); ok {
		if name != "Fn::If" {
			return nil
		}
		args := asList(arg)
		if len(args) != 3 {
			return []issue{{path, "Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]"}}
		}
		var out []issue
		for _, branch := range args[1:] {
			if !IsNoValue(branch) {
				out = append(out, s.checkType(t, branch, path, depth+1)...)
			}
		}
		return out
	}
	switch t.Type {
	case "json":
		return nil
	case "string", "date-time":
		if !isScalar(v) {
			return []issue{{path, fmt.Sprintf("is %s, want a string", kindOf(v))}}
		}
		if str, ok := v.(string); ok && len(t.AllowedValues) > 0 && !allowed(t.AllowedValues, str) {
			return []issue{{path, fmt.Sprintf("%q is not one of %s", str, joinAny(t.AllowedValues))}}
		}
	case "integer", "number":
		f, ok := numberValue(v)
		if !ok {
			// CloudFormation accepts numbers written as strings.
			str, isStr := v.(string)
			if !isStr {
				return []issue{{path, fmt.Sprintf("is %s, want a number", kindOf(v))}}
			}
			if f, ok = toFloat(str); !ok {
				return []issue{{path, fmt.Sprintf("%q is not a number", str)}}
			}
		}
		if t.Type == "integer" && f != float64(int64(f)) {
			return []issue{{path, fmt.Sprintf("%v is not a whole number", f)}}
		}
		if len(t.AllowedValues) > 0 && !allowed(t.AllowedValues, strconv.FormatFloat(f, 'f', -1, 64)) {
			return []issue{{path, fmt.Sprintf("%v is not one of %s", f, joinAny(t.AllowedValues))}}
		}
	case "boolean":
		switch x := v.(type) {
		case bool:
		case string:
			if x != "true" && x != "false" {
				return []issue{{path, fmt.Sprintf("%q is not true or false", x)}}
			}
		default:
			return []issue{{path, fmt.Sprintf("is %s, want true or false", kindOf(v))}}
		}
	case "tag":
		m, ok := v.(map[string]any)
		if !ok {
			return []issue{{path, fmt.Sprintf("is %s, want a tag {Key, Value}", kindOf(v))}}
		}
		var out []issue
		for _, k := range sortedKeys(m) {
			if k != "Key" && k != "Value" {
				out = append(out, issue{path, fmt.Sprintf("unknown tag property %q", k)})
			}
		}
		if _, ok := m["Key"]; !ok {
			out = append(out, issue{path, `missing required property "Key"`})
		}
		return out
	case "array":
		l, ok := v.([]any)
		if !ok {
			return []issue{{path, fmt.Sprintf("is %s, want a list", kindOf(v))}}
		}
		if t.Element == nil {
			return nil
		}
		var out []issue
		for i, e := range l {
			if IsNoValue(e) {
				continue
			}
			out = append(out, s.checkType(*t.Element, e, fmt.Sprintf("%s[%d]", path, i), depth+1)...)
		}
		return out
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return []issue{{path, fmt.Sprintf("is %s, want a mapping", kindOf(v))}}
		}
		if t.Element == nil {
			return nil
		}
		var out []issue
		for _, k := range sortedKeys(m) {
			out = append(out, s.checkType(*t.Element, m[k], path+"."+k, depth+1)...)
		}
		return out
	case "ref":
		if t.Reference == nil {
			return nil
		}
		def, ok := s.types[t.Reference.Ref]
		if !ok {
			return []issue{{path, fmt.Sprintf("the spec has no type %s", t.Reference.Ref)}}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return []issue{{path, fmt.Sprintf("is %s, want a %s mapping", kindOf(v), def.Name)}}
		}
		return s.checkProperties(def, m, path, depth+1)
	case "union":
		var best []issue
		for _, alt := range t.Types {
			iss := s.checkType(alt, v, path, depth+1)
			if len(iss) == 0 {
				return nil
			}
			if best == nil || closer(iss, best, path) {
				best = iss
			}
		}
		return best
	default:
		return []issue{{path, fmt.Sprintf("the spec has a type %q this checker does not know", t.Type)}}
	}
	return nil
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool, int, int64, float64:
		return true
	}
	return false
}

func allowed(values []any, s string) bool {
	for _, a := range values {
		as, err := scalarString(a)
		if err == nil && as == s {
			return true
		}
	}
	return false
}

func joinAny(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}
