package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
)

// ValidationError is one problem a schema check found in a resource.
type ValidationError struct {
	// Resource is the logical id ("" for template-level problems).
	Resource string
	// Path is where in the resource, e.g. "Properties.Environment.Variables".
	Path string
	// Message says what is wrong.
	Message string
}

func (e *ValidationError) Error() string {
	switch {
	case e.Resource == "":
		return fmt.Sprintf("%s: %s", e.Path, e.Message)
	case e.Path == "":
		return fmt.Sprintf("%s: %s", e.Resource, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Resource, e.Path, e.Message)
}

// SAMSchema is AWS SAM's JSON schema (draft 4, sam.schema.json from the
// aws/serverless-application-model repository). It validates the
// AWS::Serverless::* resources of a template; SAM passes other resources
// through unchecked.
//
// The validator implements the keywords the schema uses: $ref (local
// pointers), type, properties, additionalProperties, patternProperties,
// required, items, enum, pattern, allOf, anyOf, oneOf, not and the numeric
// and length bounds. Intrinsic functions are accepted wherever a value is
// expected, as CloudFormation resolves them before SAM reads the values;
// both branches of an Fn::If are validated.
type SAMSchema struct {
	root map[string]any
	// defs maps a SAM resource type to its definition.
	defs    map[string]any
	regexps map[string]*schemaPattern
}

// LoadSAMSchema reads the schema from a file.
func LoadSAMSchema(path string) (*SAMSchema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SAM schema: %w", err)
	}
	return ParseSAMSchema(data)
}

// ParseSAMSchema parses the schema document.
func ParseSAMSchema(data []byte) (*SAMSchema, error) {
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse SAM schema: %w", err)
	}
	s := &SAMSchema{root: root, defs: map[string]any{}, regexps: map[string]*schemaPattern{}}
	alts, ok := Lookup(root, "properties", "Resources", "additionalProperties", "anyOf")
	if !ok {
		return nil, errors.New("parse SAM schema: no properties.Resources.additionalProperties.anyOf")
	}
	for _, a := range alts.([]any) {
		def, err := s.deref(a)
		if err != nil {
			return nil, fmt.Errorf("parse SAM schema: %w", err)
		}
		enum, _ := Lookup(def, "properties", "Type", "enum")
		for _, t := range asList(enum) {
			if ts, ok := t.(string); ok {
				s.defs[ts] = def
			}
		}
	}
	if len(s.defs) == 0 {
		return nil, errors.New("parse SAM schema: no AWS::Serverless resource types")
	}
	return s, nil
}

// ResourceTypes lists the SAM resource types the schema defines.
func (s *SAMSchema) ResourceTypes() []string {
	out := make([]string, 0, len(s.defs))
	for t := range s.defs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ValidateResource checks one AWS::Serverless::* resource.
func (s *SAMSchema) ValidateResource(r Resource) []error {
	def, ok := s.defs[r.Type]
	if !ok {
		return []error{&ValidationError{Resource: r.LogicalID, Message: fmt.Sprintf("%s is not a type the SAM schema knows (%s)", r.Type, strings.Join(s.ResourceTypes(), ", "))}}
	}
	return toErrors(r.LogicalID, s.check(def, r.Raw, "", 0))
}

// ValidateGlobals checks the template's Globals section, if any.
func (s *SAMSchema) ValidateGlobals(t *Template) []error {
	g, ok := t.Raw["Globals"]
	if !ok {
		return nil
	}
	schema, ok := Lookup(s.root, "properties", "Globals")
	if !ok {
		return []error{&ValidationError{Path: "Globals", Message: "the SAM schema has no Globals"}}
	}
	return toErrors("", s.check(schema, g, "Globals", 0))
}

// PassThroughProperties lists the properties of a SAM resource type that
// SAM copies unchanged to the resource it generates (the schema marks them
// __samPassThrough or PassThroughProp), such as a Function's Environment.
func (s *SAMSchema) PassThroughProperties(samType string) []string {
	def, ok := s.defs[samType]
	if !ok {
		return nil
	}
	ps, ok := Lookup(def, "properties", "Properties")
	if !ok {
		return nil
	}
	props, err := s.deref(ps)
	if err != nil {
		return nil
	}
	pm, _ := Lookup(props, "properties")
	var out []string
	for name, schema := range asMap(pm) {
		if isPassThrough(schema) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

const passThroughRef = "#/definitions/PassThroughProp"

func isPassThrough(schema any) bool {
	m := asMap(schema)
	if _, ok := m["__samPassThrough"]; ok {
		return true
	}
	if m["$ref"] == passThroughRef {
		return true
	}
	for _, a := range asList(m["allOf"]) {
		if asMap(a)["$ref"] == passThroughRef {
			return true
		}
	}
	return false
}

type issue struct{ path, msg string }

func toErrors(resource string, issues []issue) []error {
	out := make([]error, 0, len(issues))
	for _, i := range issues {
		out = append(out, &ValidationError{Resource: resource, Path: strings.TrimPrefix(i.path, "."), Message: i.msg})
	}
	return out
}

// deref follows $ref until the schema is not a reference.
func (s *SAMSchema) deref(schema any) (any, error) {
	for i := 0; i < 32; i++ {
		m := asMap(schema)
		ref, ok := m["$ref"].(string)
		if !ok {
			return schema, nil
		}
		target, err := s.pointer(ref)
		if err != nil {
			return nil, err
		}
		schema = target
	}
	return nil, errors.New("$ref chain too long")
}

func (s *SAMSchema) pointer(ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local", ref)
	}
	var cur any = s.root
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		next, ok := Lookup(cur, tok)
		if !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
		}
		cur = next
	}
	return cur, nil
}

func (s *SAMSchema) check(schema any, inst any, path string, depth int) []issue {
	if depth > maxDepth {
		return []issue{{path, "schema nested too deeply"}}
	}
	if b, ok := schema.(bool); ok {
		if !b {
			return []issue{{path, "not allowed here"}}
		}
		return nil
	}
	sm := asMap(schema)
	if ref, ok := sm["$ref"].(string); ok {
		target, err := s.pointer(ref)
		if err != nil {
			return []issue{{path, err.Error()}}
		}
		return s.check(target, inst, path, depth+1)
	}
	if name, arg, ok := Intrinsic(inst); ok {
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
				out = append(out, s.check(schema, branch, path, depth+1)...)
			}
		}
		return out
	}

	var out []issue
	if t, ok := sm["type"]; ok && !typeMatches(t, inst) {
		return []issue{{path, fmt.Sprintf("is %s, want %s", kindOf(inst), typeNames(t))}}
	}
	if enum, ok := sm["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if jsonEqual(e, inst) {
				found = true
				break
			}
		}
		if !found {
			return []issue{{path, fmt.Sprintf("%v is not one of %v", inst, enum)}}
		}
	}
	if str, ok := inst.(string); ok {
		if p, ok := sm["pattern"].(string); ok {
			re, err := s.compile(p)
			if err != nil {
				out = append(out, issue{path, err.Error()})
			} else if !re.match(str) {
				out = append(out, issue{path, fmt.Sprintf("%q does not match %s", str, p)})
			}
		}
		if n, ok := toInt(sm["minLength"]); ok && len([]rune(str)) < n {
			out = append(out, issue{path, fmt.Sprintf("shorter than %d", n)})
		}
		if n, ok := toInt(sm["maxLength"]); ok && len([]rune(str)) > n {
			out = append(out, issue{path, fmt.Sprintf("longer than %d", n)})
		}
	}
	if f, ok := numberValue(inst); ok {
		if min, ok := toFloat(sm["minimum"]); ok && f < min {
			out = append(out, issue{path, fmt.Sprintf("%v is below %v", f, min)})
		}
		if max, ok := toFloat(sm["maximum"]); ok && f > max {
			out = append(out, issue{path, fmt.Sprintf("%v is above %v", f, max)})
		}
	}
	switch x := inst.(type) {
	case map[string]any:
		out = append(out, s.checkObject(sm, x, path, depth)...)
	case []any:
		switch items := sm["items"].(type) {
		case map[string]any:
			for i, e := range x {
				out = append(out, s.check(items, e, fmt.Sprintf("%s[%d]", path, i), depth+1)...)
			}
		case []any:
			for i, e := range x {
				if i < len(items) {
					out = append(out, s.check(items[i], e, fmt.Sprintf("%s[%d]", path, i), depth+1)...)
				}
			}
		}
		if n, ok := toInt(sm["minItems"]); ok && len(x) < n {
			out = append(out, issue{path, fmt.Sprintf("fewer than %d items", n)})
		}
		if n, ok := toInt(sm["maxItems"]); ok && len(x) > n {
			out = append(out, issue{path, fmt.Sprintf("more than %d items", n)})
		}
	}
	for _, sub := range asList(sm["allOf"]) {
		out = append(out, s.check(sub, inst, path, depth+1)...)
	}
	if alts := asList(sm["anyOf"]); len(alts) > 0 {
		var best []issue
		ok := false
		for _, sub := range alts {
			iss := s.check(sub, inst, path, depth+1)
			if len(iss) == 0 {
				ok = true
				break
			}
			if best == nil || closer(iss, best, path) {
				best = iss
			}
		}
		if !ok {
			out = append(out, issue{path, fmt.Sprintf("matches none of %d alternatives; closest:", len(alts))})
			out = append(out, best...)
		}
	}
	if alts := asList(sm["oneOf"]); len(alts) > 0 {
		n := 0
		for _, sub := range alts {
			if len(s.check(sub, inst, path, depth+1)) == 0 {
				n++
			}
		}
		if n != 1 {
			out = append(out, issue{path, fmt.Sprintf("matches %d of the oneOf alternatives, want exactly 1", n)})
		}
	}
	if not, ok := sm["not"]; ok && len(s.check(not, inst, path, depth+1)) == 0 {
		out = append(out, issue{path, "matches a schema it must not"})
	}
	return out
}

func (s *SAMSchema) checkObject(sm map[string]any, x map[string]any, path string, depth int) []issue {
	var out []issue
	props := asMap(sm["properties"])
	patternProps := asMap(sm["patternProperties"])
	for _, k := range sortedKeys(x) {
		val := x[k]
		p := path + "." + k
		if ps, ok := props[k]; ok {
			out = append(out, s.check(ps, val, p, depth+1)...)
			continue
		}
		matched := false
		for pat, ps := range patternProps {
			re, err := s.compile(pat)
			if err != nil {
				out = append(out, issue{p, err.Error()})
				continue
			}
			if re.match(k) {
				matched = true
				out = append(out, s.check(ps, val, p, depth+1)...)
			}
		}
		if matched {
			continue
		}
		switch ap := sm["additionalProperties"].(type) {
		case bool:
			if !ap {
				out = append(out, issue{path, fmt.Sprintf("unknown property %q", k)})
			}
		case map[string]any:
			out = append(out, s.check(ap, val, p, depth+1)...)
		}
	}
	for _, r := range asList(sm["required"]) {
		name, _ := r.(string)
		if _, ok := x[name]; !ok {
			out = append(out, issue{path, fmt.Sprintf("missing required property %q", name)})
		}
	}
	return out
}

// schemaPattern is a JSON Schema pattern. Go's regexp has no lookahead;
// the one form the SAM schema uses, "^(?!literal)rest", is handled apart.
type schemaPattern struct {
	notPrefix string
	re        *regexp.Regexp
}

func (p *schemaPattern) match(s string) bool {
	if p.notPrefix != "" && strings.HasPrefix(s, p.notPrefix) {
		return false
	}
	return p.re.MatchString(s)
}

var negativeLookahead = regexp.MustCompile(`^\^\(\?!([^()\[\]\\|*+?{}.$^]+)\)(.*)$`)

func (s *SAMSchema) compile(pattern string) (*schemaPattern, error) {
	if p, ok := s.regexps[pattern]; ok {
		return p, nil
	}
	p := &schemaPattern{}
	expr := pattern
	if m := negativeLookahead.FindStringSubmatch(pattern); m != nil {
		p.notPrefix, expr = m[1], "^"+m[2]
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("cannot check pattern %q: %v", pattern, err)
	}
	p.re = re
	s.regexps[pattern] = p
	return p, nil
}

func typeMatches(t any, inst any) bool {
	if list, ok := t.([]any); ok {
		for _, e := range list {
			if typeMatches(e, inst) {
				return true
			}
		}
		return false
	}
	name, _ := t.(string)
	switch name {
	case "object":
		_, ok := inst.(map[string]any)
		return ok
	case "array":
		_, ok := inst.([]any)
		return ok
	case "string":
		_, ok := inst.(string)
		return ok
	case "boolean":
		_, ok := inst.(bool)
		return ok
	case "null":
		return inst == nil
	case "number":
		_, ok := numberValue(inst)
		return ok
	case "integer":
		f, ok := numberValue(inst)
		return ok && f == math.Trunc(f)
	}
	return true
}

func typeNames(t any) string {
	if list, ok := t.([]any); ok {
		names := make([]string, 0, len(list))
		for _, e := range list {
			names = append(names, fmt.Sprint(e))
		}
		return strings.Join(names, " or ")
	}
	return fmt.Sprint(t)
}

func numberValue(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func jsonEqual(a, b any) bool {
	if fa, ok := numberValue(a); ok {
		fb, ok := numberValue(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !jsonEqual(v, y[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// closer reports whether the issues of one alternative explain a failure
// better than another's: an alternative of the value's own type (whose
// issues are not just "is a string, want object") beats one of another
// type, then fewer issues win.
func closer(a, b []issue, path string) bool {
	am, bm := wrongType(a, path), wrongType(b, path)
	if am != bm {
		return bm
	}
	return len(a) < len(b)
}

func wrongType(iss []issue, path string) bool {
	return len(iss) == 1 && iss[0].path == path && strings.HasPrefix(iss[0].msg, "is ")
}
