package samtemplate

import (
	"fmt"
	"sort"
	"strings"
)

// samGenerated maps SAM resource types to the CloudFormation type the SAM
// transform generates from them, whose properties SAM's pass-through
// properties are and whose attributes Fn::GetAtt reads.
var samGenerated = map[string]string{
	"AWS::Serverless::Function":     "AWS::Lambda::Function",
	"AWS::Serverless::LayerVersion": "AWS::Lambda::LayerVersion",
	"AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
}

// ValidateTemplate checks every resource of the template: AWS::Serverless::*
// resources against the SAM schema and, for the properties SAM passes
// through unchanged, against the CloudFormation type SAM generates; every
// other resource against the CloudFormation resource database. A nil sam or
// spec skips the checks that need it.
func ValidateTemplate(t *Template, sam *SAMSchema, spec *Spec) []error {
	var errs []error
	if sam != nil {
		errs = append(errs, sam.ValidateGlobals(t)...)
	}
	for _, id := range t.ResourceIDs() {
		r := t.Resources[id]
		if !r.IsServerless() {
			if spec != nil {
				errs = append(errs, spec.ValidateResource(r)...)
			}
			continue
		}
		if sam != nil {
			errs = append(errs, sam.ValidateResource(r)...)
		}
		cfnType, ok := samGenerated[r.Type]
		if sam == nil || spec == nil || !ok {
			continue
		}
		pass := map[string]any{}
		for _, name := range sam.PassThroughProperties(r.Type) {
			if v, ok := r.Properties[name]; ok {
				pass[name] = v
			}
		}
		errs = append(errs, spec.ValidateProperties(id, cfnType, pass)...)
	}
	return errs
}

// CheckReferences finds names that point at nothing: a Ref that is neither
// a parameter, a pseudo parameter nor a resource; an Fn::GetAtt or
// ${Resource.Attribute} of a missing resource or (when spec is given and
// knows the type) of an attribute the type does not have; a condition used
// by Fn::If or a Condition attribute that is not defined; a DependsOn on a
// missing resource.
func CheckReferences(t *Template, spec *Spec) []error {
	c := &refChecker{t: t, spec: spec}
	for _, id := range t.ResourceIDs() {
		r := t.Resources[id]
		if r.Condition != "" {
			c.condition(r.Condition, id, "Condition")
		}
		for _, d := range r.DependsOn {
			if _, ok := t.Resources[d]; !ok {
				c.fail(id, "DependsOn", fmt.Sprintf("no resource %s", d))
			}
		}
		c.walk(r.Properties, id, "Properties", nil)
	}
	for _, name := range sortedKeys(t.Outputs) {
		o := asMap(t.Outputs[name])
		if cond, ok := o["Condition"].(string); ok {
			c.condition(cond, "", "Outputs."+name+".Condition")
		}
		c.walk(o, "", "Outputs."+name, nil)
	}
	for _, name := range sortedKeys(t.Conditions) {
		c.walk(t.Conditions[name], "", "Conditions."+name, nil)
	}
	return c.errs
}

type refChecker struct {
	t    *Template
	spec *Spec
	errs []error
}

func (c *refChecker) fail(resource, path, msg string) {
	c.errs = append(c.errs, &ValidationError{Resource: resource, Path: path, Message: msg})
}

func (c *refChecker) condition(name, resource, path string) {
	if _, ok := c.t.Conditions[name]; !ok {
		c.fail(resource, path, fmt.Sprintf("condition %s is not defined", name))
	}
}

func (c *refChecker) ref(name, resource, path string, local map[string]bool) {
	if local[name] || IsPseudoParameter(name) {
		return
	}
	if _, ok := c.t.Parameters[name]; ok {
		return
	}
	if _, ok := c.t.Resources[name]; ok {
		return
	}
	c.fail(resource, path, fmt.Sprintf("!Ref %s names neither a parameter nor a resource", name))
}

func (c *refChecker) getAtt(res, attr, resource, path string) {
	target, ok := c.t.Resources[res]
	if !ok {
		c.fail(resource, path, fmt.Sprintf("Fn::GetAtt of %s.%s: no resource %s", res, attr, res))
		return
	}
	if c.spec == nil {
		return
	}
	typ := target.Type
	if gen, ok := samGenerated[typ]; ok {
		typ = gen
	}
	if c.spec.HasType(typ) && !c.spec.HasAttribute(typ, attr) {
		c.fail(resource, path, fmt.Sprintf("Fn::GetAtt of %s.%s: %s has no attribute %s (it has %s)", res, attr, typ, attr, strings.Join(c.spec.Attributes(typ), ", ")))
	}
}

func (c *refChecker) walk(v any, resource, path string, local map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if cond, ok := x["Condition"].(string); ok && strings.HasPrefix(path, "Conditions.") {
				c.condition(cond, resource, path)
				return
			}
		}
		name, arg, ok := Intrinsic(x)
		if !ok {
			for _, k := range sortedKeys(x) {
				c.walk(x[k], resource, path+"."+k, local)
			}
			return
		}
		switch name {
		case "Ref":
			if s, ok := arg.(string); ok {
				c.ref(s, resource, path, local)
			} else {
				c.fail(resource, path, "Ref takes a name")
			}
			return
		case "Fn::GetAtt":
			res, attr, ok := GetAtt(x)
			if !ok {
				c.fail(resource, path, "Fn::GetAtt takes [Resource, Attribute]")
				return
			}
			c.getAtt(res, attr, resource, path)
			return
		case "Fn::If":
			args := asList(arg)
			if len(args) != 3 {
				c.fail(resource, path, "Fn::If takes [Condition, ValueIfTrue, ValueIfFalse]")
				return
			}
			if cond, ok := args[0].(string); ok {
				c.condition(cond, resource, path)
			} else {
				c.fail(resource, path, "Fn::If: the condition must be a name")
			}
			c.walk(args[1], resource, path, local)
			c.walk(args[2], resource, path, local)
			return
		case "Fn::Sub":
			c.sub(arg, resource, path, local)
			return
		}
		c.walk(arg, resource, path, local)
	case []any:
		for i, e := range x {
			c.walk(e, resource, fmt.Sprintf("%s[%d]", path, i), local)
		}
	}
}

func (c *refChecker) sub(arg any, resource, path string, local map[string]bool) {
	var tmpl string
	vars := map[string]bool{}
	for k, v := range local {
		vars[k] = v
	}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			c.fail(resource, path, "Fn::Sub takes a string or [string, {variables}]")
			return
		}
		s, ok := a[0].(string)
		if !ok {
			c.fail(resource, path, "Fn::Sub: the template must be a string")
			return
		}
		tmpl = s
		m := asMap(a[1])
		for _, k := range sortedKeys(m) {
			c.walk(m[k], resource, path+".("+k+")", local)
			vars[k] = true
		}
	default:
		c.fail(resource, path, "Fn::Sub takes a string")
		return
	}
	parts, err := parseSub(tmpl)
	if err != nil {
		c.fail(resource, path, err.Error())
		return
	}
	for _, p := range parts {
		if p.variable == "" || vars[p.variable] {
			continue
		}
		if res, attr, dotted := strings.Cut(p.variable, "."); dotted && !IsPseudoParameter(p.variable) {
			c.getAtt(res, attr, resource, path)
			continue
		}
		c.ref(p.variable, resource, path, vars)
	}
}

// Unused returns the parameters and conditions nothing in the template uses.
func Unused(t *Template) (parameters, conditions []string) {
	used := map[string]bool{}
	usedCond := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if cond, ok := x["Condition"].(string); ok && len(x) == 1 {
				usedCond[cond] = true
			}
			if name, arg, ok := Intrinsic(x); ok {
				switch name {
				case "Ref":
					if s, ok := arg.(string); ok {
						used[s] = true
					}
				case "Fn::If":
					if args := asList(arg); len(args) == 3 {
						if s, ok := args[0].(string); ok {
							usedCond[s] = true
						}
					}
				case "Fn::Sub":
					tmpl, _ := arg.(string)
					if l := asList(arg); len(l) == 2 {
						tmpl, _ = l[0].(string)
					}
					parts, _ := parseSub(tmpl)
					for _, p := range parts {
						if p.variable != "" {
							used[p.variable] = true
						}
					}
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range t.Resources {
		if r.Condition != "" {
			usedCond[r.Condition] = true
		}
		walk(r.Properties)
	}
	for _, o := range t.Outputs {
		if cond, ok := asMap(o)["Condition"].(string); ok {
			usedCond[cond] = true
		}
		walk(o)
	}
	for _, cnd := range t.Conditions {
		walk(cnd)
	}
	if rules, ok := t.Raw["Rules"]; ok {
		walk(rules)
	}
	for name := range t.Parameters {
		if !used[name] {
			parameters = append(parameters, name)
		}
	}
	for name := range t.Conditions {
		if !usedCond[name] {
			conditions = append(conditions, name)
		}
	}
	sort.Strings(parameters)
	sort.Strings(conditions)
	return parameters, conditions
}
