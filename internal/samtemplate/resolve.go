package samtemplate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ErrUnresolved is wrapped by [Resolver.Resolve] for a value only a
// deployment knows: a resource's Ref or attribute, an import, or a pseudo
// parameter the resolver was not given.
var ErrUnresolved = errors.New("not known before deployment")

// ErrParameter is wrapped for a parameter value the template does not accept
// (unknown name, or a value outside AllowedValues, AllowedPattern or the
// bounds), and for a parameter without default and value.
var ErrParameter = errors.New("bad parameter")

// Resolver evaluates intrinsic functions against parameter values.
type Resolver struct {
	t      *Template
	params map[string]string
	// Pseudo holds values for pseudo parameters such as AWS::Region or
	// AWS::AccountId; those not set are unresolved.
	Pseudo map[string]string
	// Refs and Attrs stand in for what a deployment returns: the Ref of a
	// resource by logical id, and attributes by "LogicalId.Attribute". A
	// local stand-in sets them (a bucket name, a stream ARN); those not set
	// are unresolved.
	Refs  map[string]string
	Attrs map[string]string

	conds      map[string]bool
	evaluating map[string]bool
}

// NewResolver returns a resolver for the template with the given parameter
// values; parameters not given take their defaults. Given values are checked
// against the parameter's constraints as CloudFormation checks them.
func NewResolver(t *Template, params map[string]string) (*Resolver, error) {
	r := &Resolver{
		t:          t,
		params:     map[string]string{},
		Pseudo:     map[string]string{},
		Refs:       map[string]string{},
		Attrs:      map[string]string{},
		conds:      map[string]bool{},
		evaluating: map[string]bool{},
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		p, ok := t.Parameters[name]
		if !ok {
			return nil, fmt.Errorf("%w: the template has no parameter %s", ErrParameter, name)
		}
		if err := p.Check(params[name]); err != nil {
			return nil, err
		}
		r.params[name] = params[name]
	}
	return r, nil
}

// Check reports whether value is acceptable for the parameter, with the rule
// CloudFormation would reject it by.
func (p Parameter) Check(value string) error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s=%q: %s", ErrParameter, p.Name, value, fmt.Sprintf(format, a...))
	}
	values := []string{value}
	if isListType(p.Type) {
		values = strings.Split(value, ",")
	}
	for _, v := range values {
		if len(p.AllowedValues) > 0 && !containsString(p.AllowedValues, v) {
			return fail("not one of %s", strings.Join(p.AllowedValues, ", "))
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
			if err != nil {
				return fmt.Errorf("%w: %s AllowedPattern %q: %v", ErrParameter, p.Name, p.AllowedPattern, err)
			}
			if !re.MatchString(v) {
				return fail("does not match AllowedPattern %s", p.AllowedPattern)
			}
		}
		if p.MinLength != nil && len(v) < *p.MinLength {
			return fail("shorter than MinLength %d", *p.MinLength)
		}
		if p.MaxLength != nil && len(v) > *p.MaxLength {
			return fail("longer than MaxLength %d", *p.MaxLength)
		}
		if p.Type == "Number" || p.Type == "List<Number>" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fail("not a number")
			}
			if p.MinValue != nil && f < *p.MinValue {
				return fail("below MinValue %v", *p.MinValue)
			}
			if p.MaxValue != nil && f > *p.MaxValue {
				return fail("above MaxValue %v", *p.MaxValue)
			}
		}
	}
	return nil
}

func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// ParameterValue returns a parameter's value: the given one, else the
// default. List types give []any of strings; others a string.
func (r *Resolver) ParameterValue(name string) (any, error) {
	p, ok := r.t.Parameters[name]
	if !ok {
		return nil, fmt.Errorf("%w: the template has no parameter %s", ErrParameter, name)
	}
	v, given := r.params[name]
	if !given {
		if !p.HasDefault {
			return nil, fmt.Errorf("%w: %s has no default and no value was given", ErrParameter, name)
		}
		v = p.Default
	}
	if isListType(p.Type) {
		parts := strings.Split(v, ",")
		out := make([]any, len(parts))
		for i, s := range parts {
			out[i] = s
		}
		return out, nil
	}
	return v, nil
}

// Condition evaluates a named condition of the Conditions section.
func (r *Resolver) Condition(name string) (bool, error) {
	if v, ok := r.conds[name]; ok {
		return v, nil
	}
	expr, ok := r.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not defined", name)
	}
	if r.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	r.evaluating[name] = true
	defer delete(r.evaluating, name)
	v, err := r.evalCondition(expr, 0)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	r.conds[name] = v
	return v, nil
}

// Exists reports whether the resource is created with these parameters (its
// Condition, if any, is true).
func (r *Resolver) Exists(res Resource) (bool, error) {
	if res.Condition == "" {
		return true, nil
	}
	return r.Condition(res.Condition)
}

func (r *Resolver) evalCondition(v any, depth int) (bool, error) {
	if depth > maxDepth {
		return false, errors.New("nested too deeply")
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if name, ok := m["Condition"]; ok {
			s, ok := name.(string)
			if !ok {
				return false, fmt.Errorf("Condition takes a name, not %s", kindOf(name))
			}
			return r.Condition(s)
		}
	}
	name, arg, ok := Intrinsic(v)
	if !ok {
		return false, fmt.Errorf("want a condition function, got %s", kindOf(v))
	}
	args, _ := arg.([]any)
	switch name {
	case "Fn::Equals":
		if len(args) != 2 {
			return false, errors.New("Fn::Equals takes two values")
		}
		a, err := r.Resolve(args[0])
		if err != nil {
			return false, err
		}
		b, err := r.Resolve(args[1])
		if err != nil {
			return false, err
		}
		as, err := scalarString(a)
		if err != nil {
			return false, fmt.Errorf("Fn::Equals: %w", err)
		}
		bs, err := scalarString(b)
		if err != nil {
			return false, fmt.Errorf("Fn::Equals: %w", err)
		}
		return as == bs, nil
	case "Fn::Not":
		if len(args) != 1 {
			return false, errors.New("Fn::Not takes one condition")
		}
		c, err := r.evalCondition(args[0], depth+1)
		return !c, err
	case "Fn::And", "Fn::Or":
		if len(args) < 2 || len(args) > 10 {
			return false, fmt.Errorf("%s takes 2 to 10 conditions, got %d", name, len(args))
		}
		and := name == "Fn::And"
		for _, a := range args {
			c, err := r.evalCondition(a, depth+1)
			if err != nil {
				return false, err
			}
			if and && !c {
				return false, nil
			}
			if !and && c {
				return true, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("%s is not a condition function", name)
}

// noValue stands for AWS::NoValue while resolving: the property or list
// element it is in disappears.
type noValue struct{}

// Resolve evaluates every intrinsic function in v. A value only a deployment
// knows makes it fail with an error wrapping [ErrUnresolved]. AWS::NoValue
// removes the mapping entry or list element it stands in; a v that is
// AWS::NoValue itself resolves to nil.
func (r *Resolver) Resolve(v any) (any, error) {
	out, err := r.resolve(v, false, 0)
	if _, ok := out.(noValue); ok {
		return nil, err
	}
	return out, err
}

// ResolvePartial evaluates what the parameters decide and leaves in place
// what only a deployment knows: {"Fn::GetAtt": ...} and Refs to resources
// stay as they are, and Fn::Sub keeps only its unresolved variables, as in
// {"Fn::Sub": "${ArchiveBucket.Arn}/archive/*"}.
func (r *Resolver) ResolvePartial(v any) (any, error) {
	out, err := r.resolve(v, true, 0)
	if _, ok := out.(noValue); ok {
		return nil, err
	}
	return out, err
}

// String resolves v fully and renders it as a string (numbers and booleans
// as CloudFormation would pass them).
func (r *Resolver) String(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	return scalarString(out)
}

func (r *Resolver) resolve(v any, partial bool, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch x := v.(type) {
	case map[string]any:
		if name, arg, ok := Intrinsic(x); ok {
			return r.call(name, arg, partial, depth)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e, partial, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, gone := rv.(noValue); gone {
				continue
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(e, partial, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, gone := rv.(noValue); gone {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	}
	return v, nil
}

// unresolved returns the call as it is in partial mode, else an error.
func unresolved(name string, arg any, partial bool, why string) (any, error) {
	if partial {
		return map[string]any{name: arg}, nil
	}
	return nil, fmt.Errorf("%s: %s %w", name, why, ErrUnresolved)
}

func (r *Resolver) call(name string, arg any, partial bool, depth int) (any, error) {
	switch name {
	case "Ref":
		ref, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("!Ref takes a name, not %s", kindOf(arg))
		}
		return r.ref(ref, partial)
	case "Fn::GetAtt":
		res, attr, ok := GetAtt(map[string]any{name: arg})
		if !ok {
			return nil, errors.New("Fn::GetAtt takes [Resource, Attribute]")
		}
		if _, exists := r.t.Resources[res]; !exists {
			return nil, fmt.Errorf("Fn::GetAtt: no resource %s", res)
		}
		if v, ok := r.Attrs[res+"."+attr]; ok {
			return v, nil
		}
		return unresolved(name, []any{res, attr}, partial, res+"."+attr+" is")
	case "Fn::Sub":
		return r.sub(arg, partial, depth)
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, errors.New("Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]")
		}
		cond, ok := args[0].(string)
		if !ok {
			return nil, errors.New("Fn::If: the condition must be a name")
		}
		c, err := r.Condition(cond)
		if err != nil {
			return nil, err
		}
		if c {
			return r.resolve(args[1], partial, depth+1)
		}
		return r.resolve(args[2], partial, depth+1)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return r.evalCondition(map[string]any{name: arg}, depth+1)
	}

	// The rest evaluate their resolved arguments.
	a, err := r.resolve(arg, partial, depth+1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if containsIntrinsic(a) {
		return unresolved(name, a, partial, "an argument is")
	}
	switch name {
	case "Fn::Join":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Join takes [delimiter, list]")
		}
		delim, ok := args[0].(string)
		if !ok {
			return nil, errors.New("Fn::Join: the delimiter must be a string")
		}
		list, ok := args[1].([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Join: want a list, got %s", kindOf(args[1]))
		}
		parts := make([]string, len(list))
		for i, e := range list {
			s, err := scalarString(e)
			if err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
			parts[i] = s
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Select takes [index, list]")
		}
		i, ok := toInt(args[0])
		if !ok {
			return nil, errors.New("Fn::Select: the index must be a whole number")
		}
		list, ok := args[1].([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Select: want a list, got %s", kindOf(args[1]))
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select: index %d out of range of %d elements", i, len(list))
		}
		return list[i], nil
	case "Fn::Split":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Split takes [delimiter, string]")
		}
		delim, ok1 := args[0].(string)
		s, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("Fn::Split takes two strings")
		}
		parts := strings.Split(s, delim)
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "Fn::FindInMap":
		args, ok := a.([]any)
		if !ok || len(args) < 3 {
			return nil, errors.New("Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
		}
		keys := make([]string, 3)
		for i := range keys {
			s, err := scalarString(args[i])
			if err != nil {
				return nil, fmt.Errorf("Fn::FindInMap: %w", err)
			}
			keys[i] = s
		}
		v, ok := Lookup(r.t.Mappings, keys...)
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: no %s/%s/%s in Mappings", keys[0], keys[1], keys[2])
		}
		return v, nil
	case "Fn::Base64":
		s, err := scalarString(a)
		if err != nil {
			return nil, fmt.Errorf("Fn::Base64: %w", err)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	}
	return unresolved(name, a, partial, "is")
}

func (r *Resolver) ref(name string, partial bool) (any, error) {
	if name == NoValue {
		return noValue{}, nil
	}
	if _, ok := r.t.Parameters[name]; ok {
		return r.ParameterValue(name)
	}
	if IsPseudoParameter(name) {
		if v, ok := r.Pseudo[name]; ok {
			return v, nil
		}
		return unresolved("Ref", name, partial, name+" is")
	}
	if _, ok := r.t.Resources[name]; ok {
		if v, ok := r.Refs[name]; ok {
			return v, nil
		}
		return unresolved("Ref", name, partial, "resource "+name+" is")
	}
	return nil, fmt.Errorf("!Ref %s names neither a parameter nor a resource", name)
}

func (r *Resolver) sub(arg any, partial bool, depth int) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, errors.New("Fn::Sub takes a string or [string, {variables}]")
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, errors.New("Fn::Sub: the template must be a string")
		}
		tmpl = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, errors.New("Fn::Sub: the variables must be a mapping")
		}
		for k, v := range m {
			rv, err := r.resolve(v, partial, depth+1)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = rv
		}
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string, not %s", kindOf(arg))
	}
	parts, err := parseSub(tmpl)
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	left := false // an unresolved variable remains (partial mode)
	for _, p := range parts {
		if p.variable == "" {
			if partial {
				out.WriteString(strings.ReplaceAll(p.literal, "${", "${!"))
			} else {
				out.WriteString(p.literal)
			}
			continue
		}
		val, err := r.subVariable(p.variable, vars, partial)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", p.variable, err)
		}
		if val == nil || containsIntrinsic(val) {
			left = true
			out.WriteString("${" + p.variable + "}")
			continue
		}
		s, err := scalarString(val)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", p.variable, err)
		}
		if partial {
			s = strings.ReplaceAll(s, "${", "${!")
		}
		out.WriteString(s)
	}
	if !partial {
		return out.String(), nil
	}
	if left {
		rest := map[string]any{}
		for k, v := range vars {
			if containsIntrinsic(v) {
				rest[k] = v
			}
		}
		if len(rest) > 0 {
			return map[string]any{"Fn::Sub": []any{out.String(), rest}}, nil
		}
		return map[string]any{"Fn::Sub": out.String()}, nil
	}
	// Nothing left to substitute: undo the escaping.
	return strings.ReplaceAll(out.String(), "${!", "${"), nil
}

// subVariable returns a variable's value, or nil (partial mode) when only a
// deployment knows it.
func (r *Resolver) subVariable(name string, vars map[string]any, partial bool) (any, error) {
	if v, ok := vars[name]; ok {
		return v, nil
	}
	if res, attr, dotted := strings.Cut(name, "."); dotted && !IsPseudoParameter(name) {
		if _, ok := r.t.Resources[res]; !ok {
			return nil, fmt.Errorf("no resource %s", res)
		}
		if v, ok := r.Attrs[name]; ok {
			return v, nil
		}
		if partial {
			return nil, nil
		}
		return nil, fmt.Errorf("%s.%s is %w", res, attr, ErrUnresolved)
	}
	v, err := r.ref(name, partial)
	if err != nil {
		return nil, err
	}
	if _, gone := v.(noValue); gone {
		return nil, errors.New("AWS::NoValue cannot be substituted")
	}
	if containsIntrinsic(v) {
		return nil, nil
	}
	return v, nil
}

func containsIntrinsic(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, _, ok := Intrinsic(x); ok {
			return true
		}
		for _, e := range x {
			if containsIntrinsic(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsIntrinsic(e) {
				return true
			}
		}
	}
	return false
}
