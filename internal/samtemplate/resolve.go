package samtemplate

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
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

var pseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true,
	"AWS::Partition": true, "AWS::Region": true, "AWS::StackId": true,
	"AWS::StackName": true, "AWS::URLSuffix": true,
}

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
// against the parameter's constraints as CloudFormation checks them, and the
// template's Fn::ForEach loops are expanded with them ([Resolver.Template]).
func NewResolver(t *Template, params map[string]string) (*Resolver, error) {
	r := &Resolver{
		params: map[string]string{}, Pseudo: map[string]string{},
		Refs: map[string]string{}, Attrs: map[string]string{},
		conds: map[string]bool{}, evaluating: map[string]bool{},
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		p, ok := t.Parameters[name]
		if !ok {
			return nil, fmt.Errorf("%w: the template has no parameter %s", ErrParameter, name)
		}
		if err := p.Check(params[name]); err != nil {
			return nil, err
		}
		r.params[name] = params[name]
	}
	var err error
	if r.t, err = t.expand(r.params); err != nil {
		return nil, err
	}
	return r, nil
}

// Template returns the template with its Fn::ForEach loops expanded for the
// resolver's parameter values.
func (r *Resolver) Template() *Template { return r.t }

// Check reports whether value is acceptable for the parameter, with the rule
// CloudFormation would reject it by. A list parameter's constraints apply to
// each of its comma-separated values.
func (p Parameter) Check(value string) error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s=%q: %s", ErrParameter, p.Name, value, fmt.Sprintf(format, a...))
	}
	values := []string{value}
	if isListType(p.Type) {
		values = strings.Split(value, ",")
	}
	for _, v := range values {
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
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
		if p.Type == "Number" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			switch {
			case err != nil:
				return fail("not a number")
			case p.MinValue != nil && f < *p.MinValue:
				return fail("below MinValue %v", *p.MinValue)
			case p.MaxValue != nil && f > *p.MaxValue:
				return fail("above MaxValue %v", *p.MaxValue)
			}
		}
	}
	return nil
}

func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
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
	if !isListType(p.Type) {
		return v, nil
	}
	return strs(strings.Split(v, ",")), nil
}

// strs turns strings into a tree list.
func strs(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
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

// evalCondition evaluates a condition function.
func (r *Resolver) evalCondition(v any, depth int) (bool, error) {
	if depth > maxDepth {
		return false, errors.New("nested too deeply")
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if name, ok := m["Condition"].(string); ok {
			return r.Condition(name)
		}
	}
	name, arg, ok := Intrinsic(v)
	if !ok {
		return false, fmt.Errorf("want a condition function, got %s", kindOf(v))
	}
	args, _ := arg.([]any)
	switch name {
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
			if err != nil || c != and {
				return c, err
			}
		}
		return and, nil
	case "Fn::Equals":
		if len(args) != 2 {
			return false, errors.New("Fn::Equals takes two values")
		}
		var s [2]string
		for i, a := range args {
			v, err := r.Resolve(a)
			if err == nil {
				s[i], err = scalarString(v)
			}
			if err != nil {
				return false, fmt.Errorf("Fn::Equals: %w", err)
			}
		}
		return s[0] == s[1], nil
	}
	return false, fmt.Errorf("%s is not a condition function", name)
}

// noValue stands for AWS::NoValue while resolving: the property or list
// element it is in disappears.
type noValue struct{}

// Resolve evaluates every intrinsic function in v. A value only a deployment
// knows makes it fail with an error wrapping [ErrUnresolved]. AWS::NoValue
// removes the mapping entry or list element it stands in (v itself: nil).
func (r *Resolver) Resolve(v any) (any, error) { return r.top(v, false) }

// ResolvePartial evaluates what the parameters decide and leaves in place
// what only a deployment knows: {"Fn::GetAtt": ...}, Refs to resources, and
// an Fn::Sub with such a variable stay as they are.
func (r *Resolver) ResolvePartial(v any) (any, error) { return r.top(v, true) }

// String resolves v fully and renders it as CloudFormation passes a value.
func (r *Resolver) String(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	return scalarString(out)
}

func (r *Resolver) top(v any, partial bool) (any, error) {
	out, err := r.resolve(v, partial, 0)
	if _, ok := out.(noValue); ok {
		return nil, err
	}
	return out, err
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
			if _, gone := rv.(noValue); !gone {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(e, partial, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, gone := rv.(noValue); !gone {
				out = append(out, rv)
			}
		}
		return out, nil
	}
	return v, nil
}

// unresolved returns the call as it is in partial mode, else an error.
func unresolved(name string, arg any, partial bool, what string) (any, error) {
	if partial {
		return map[string]any{name: arg}, nil
	}
	return nil, fmt.Errorf("%s: %s is %w", name, what, ErrUnresolved)
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
		return r.attr(res, attr, partial)
	case "Fn::Sub":
		return r.sub(arg, partial, depth)
	case "Fn::If":
		args, _ := arg.([]any)
		cond, ok := "", len(args) == 3
		if ok {
			cond, ok = args[0].(string)
		}
		if !ok {
			return nil, errors.New("Fn::If takes [ConditionName, ValueIfTrue, ValueIfFalse]")
		}
		c, err := r.Condition(cond)
		if err != nil {
			return nil, err
		}
		if c {
			return r.resolve(args[1], partial, depth+1)
		}
		return r.resolve(args[2], partial, depth+1)
	}
	// The rest evaluate their resolved arguments.
	a, err := r.resolve(arg, partial, depth+1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if containsIntrinsic(a) {
		return unresolved(name, a, partial, "an argument")
	}
	args, _ := a.([]any)
	if len(args) != 2 {
		return unresolved(name, a, partial, "the function")
	}
	switch name {
	case "Fn::Join":
		delim, ok1 := args[0].(string)
		list, ok2 := args[1].([]any)
		if !ok1 || !ok2 {
			return nil, errors.New("Fn::Join takes [delimiter, list]")
		}
		parts := make([]string, len(list))
		for i, e := range list {
			if parts[i], err = scalarString(e); err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		i, ok1 := toInt(args[0])
		list, ok2 := args[1].([]any)
		if !ok1 || !ok2 || i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select: no element %v in %v", args[0], args[1])
		}
		return list[i], nil
	case "Fn::Split":
		delim, ok1 := args[0].(string)
		s, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("Fn::Split takes two strings")
		}
		return strs(strings.Split(s, delim)), nil
	}
	return unresolved(name, a, partial, "the function")
}

func (r *Resolver) ref(name string, partial bool) (any, error) {
	switch _, isParam := r.t.Parameters[name]; {
	case name == "AWS::NoValue":
		return noValue{}, nil
	case isParam:
		return r.ParameterValue(name)
	case pseudoParameters[name]:
		if v, ok := r.Pseudo[name]; ok {
			return v, nil
		}
		return unresolved("Ref", name, partial, name)
	}
	if _, ok := r.t.Resources[name]; !ok {
		return nil, fmt.Errorf("!Ref %s names neither a parameter nor a resource", name)
	}
	if v, ok := r.Refs[name]; ok {
		return v, nil
	}
	return unresolved("Ref", name, partial, "resource "+name)
}

func (r *Resolver) attr(res, attr string, partial bool) (any, error) {
	if _, exists := r.t.Resources[res]; !exists {
		return nil, fmt.Errorf("Fn::GetAtt: no resource %s", res)
	}
	if v, ok := r.Attrs[res+"."+attr]; ok {
		return v, nil
	}
	return unresolved("Fn::GetAtt", []any{res, attr}, partial, res+"."+attr)
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub evaluates Fn::Sub. "${!Literal}" stands for the text "${Literal}". In
// partial mode a call with a variable only a deployment knows stays as it
// is.
func (r *Resolver) sub(arg any, partial bool, depth int) (any, error) {
	tmpl, ok := arg.(string)
	vars := map[string]any{}
	if list, isList := arg.([]any); isList && len(list) == 2 {
		tmpl, ok = list[0].(string)
		m, isMap := list[1].(map[string]any)
		ok = ok && isMap
		for k, v := range m {
			rv, err := r.resolve(v, partial, depth+1)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = rv
		}
	}
	if !ok {
		return nil, errors.New("Fn::Sub takes a string or [string, {variables}]")
	}
	var firstErr error
	out := subVariable.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		v, known := vars[name]
		var err error
		if !known {
			if res, attr, dotted := strings.Cut(name, "."); dotted {
				v, err = r.attr(res, attr, partial)
			} else {
				v, err = r.ref(name, partial)
			}
		}
		s := ""
		if err == nil && !containsIntrinsic(v) {
			s, err = scalarString(v)
		} else if err == nil {
			err = fmt.Errorf("${%s} is %w", name, ErrUnresolved)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return s
	})
	if errors.Is(firstErr, ErrUnresolved) && partial {
		return map[string]any{"Fn::Sub": arg}, nil
	}
	if firstErr != nil {
		return nil, fmt.Errorf("Fn::Sub %q: %w", tmpl, firstErr)
	}
	return out, nil
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
