package samtemplate

import (
	"fmt"
	"strings"
)

// Pseudo parameters CloudFormation defines.
const (
	NoValue = "AWS::NoValue"
)

var pseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true,
	"AWS::Partition": true, "AWS::Region": true, "AWS::StackId": true,
	"AWS::StackName": true, "AWS::URLSuffix": true,
}

// IsPseudoParameter reports whether name is one of CloudFormation's pseudo
// parameters (AWS::Region, AWS::NoValue, ...).
func IsPseudoParameter(name string) bool { return pseudoParameters[name] }

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

// GetAtt returns the resource and attribute of {"Fn::GetAtt": [res, attr]}
// (or the dotted string form "res.attr").
func GetAtt(v any) (resource, attribute string, ok bool) {
	name, arg, isIntrinsic := Intrinsic(v)
	if !isIntrinsic || name != "Fn::GetAtt" {
		return "", "", false
	}
	switch a := arg.(type) {
	case []any:
		if len(a) != 2 {
			return "", "", false
		}
		r, ok1 := a[0].(string)
		at, ok2 := a[1].(string)
		return r, at, ok1 && ok2
	case string:
		r, at, found := strings.Cut(a, ".")
		return r, at, found
	}
	return "", "", false
}

// IsNoValue reports whether v is {"Ref": "AWS::NoValue"}.
func IsNoValue(v any) bool {
	n, ok := RefName(v)
	return ok && n == NoValue
}

// subPart is a piece of an Fn::Sub string: literal text, or a variable
// (${Name} or ${Resource.Attribute}).
type subPart struct {
	literal  string
	variable string
}

// parseSub splits an Fn::Sub template string. "${!Literal}" stands for the
// literal text "${Literal}".
func parseSub(s string) ([]subPart, error) {
	orig := s
	var parts []subPart
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		lit.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.Index(rest, "}")
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: unclosed ${ in %q", orig)
		}
		name := rest[:j]
		s = rest[j+1:]
		if strings.HasPrefix(name, "!") {
			lit.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("Fn::Sub: empty ${} in %q", orig)
		}
		if lit.Len() > 0 {
			parts = append(parts, subPart{literal: lit.String()})
			lit.Reset()
		}
		parts = append(parts, subPart{variable: name})
	}
	if lit.Len() > 0 {
		parts = append(parts, subPart{literal: lit.String()})
	}
	return parts, nil
}
