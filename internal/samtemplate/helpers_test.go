package samtemplate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// repoRoot walks up from the test's directory to the folder with go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("os.Getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// loadTemplate parses the project's template.yaml.
func loadTemplate(t testing.TB) *samtemplate.Template {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Parse(data)
	if err != nil {
		t.Fatalf("Parse(template.yaml): %v", err)
	}
	return tpl
}

// Stream ARNs of made-up tables, for parameter sets that attach tables.
var testStreamARNs = []string{
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Orders/stream/2025-06-01T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Sessions/stream/2025-06-02T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Carts/stream/2025-06-03T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Tokens.v2/stream/2025-06-04T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/audit_log/stream/2025-06-05T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Kitchen-Sink/stream/2025-06-06T12:00:00.000",
}

const (
	testTopicARN = "arn:aws:sns:eu-west-1:210987654321:ops-alerts"
	testEmail    = "ops@example.com"
)

// allOn attaches the test tables, creates the demo table and sets both
// alarm destinations: every optional resource exists.
func allOn() map[string]string {
	return map[string]string{
		"TableStreamArns": strings.Join(testStreamARNs, ","),
		"CreateDemoTable": "true",
		"AlarmTopicArn":   testTopicARN,
		"AlarmEmail":      testEmail,
	}
}

func newResolver(t testing.TB, tpl *samtemplate.Template, params map[string]string) *samtemplate.Resolver {
	t.Helper()
	r, err := samtemplate.NewResolver(tpl, params)
	if err != nil {
		t.Fatalf("NewResolver(%v): %v", params, err)
	}
	r.Pseudo["AWS::Partition"] = "aws"
	r.Pseudo["AWS::Region"] = "eu-west-1"
	r.Pseudo["AWS::AccountId"] = "210987654321"
	r.Pseudo["AWS::StackName"] = "ttl-archiver"
	r.Pseudo["AWS::URLSuffix"] = "amazonaws.com"
	return r
}

// existing returns the resources of a type that exist under the resolver's
// parameters (Fn::ForEach expanded with them).
func existing(t testing.TB, r *samtemplate.Resolver, typ string) []samtemplate.Resource {
	t.Helper()
	var out []samtemplate.Resource
	for _, res := range r.Template().ResourcesOfType(typ) {
		ok, err := r.Exists(res)
		if err != nil {
			t.Fatalf("Exists(%s): %v", res.LogicalID, err)
		}
		if ok {
			out = append(out, res)
		}
	}
	return out
}

// props resolves a resource's properties, keeping what only a deployment
// knows in place.
func props(t testing.TB, r *samtemplate.Resolver, res samtemplate.Resource) map[string]any {
	t.Helper()
	v, err := r.ResolvePartial(res.Properties)
	if err != nil {
		t.Fatalf("ResolvePartial(%s): %v", res.LogicalID, err)
	}
	m, _ := v.(map[string]any)
	return m
}

// checkRules evaluates the template's Rules with the resolver's parameter
// values, as CloudFormation does before it creates or changes a stack: for
// each rule whose RuleCondition holds (or that has none), every Assert must
// hold. It returns "Rule: AssertDescription" for each failed assertion,
// sorted.
func checkRules(t testing.TB, tpl *samtemplate.Template, r *samtemplate.Resolver) []string {
	t.Helper()
	var refused []string
	rules, _ := tpl.Raw["Rules"].(map[string]any)
	for name, rule := range rules {
		rm, _ := rule.(map[string]any)
		if c, ok := rm["RuleCondition"]; ok && !ruleHolds(t, r, c) {
			continue
		}
		asserts, _ := rm["Assertions"].([]any)
		for _, a := range asserts {
			am, _ := a.(map[string]any)
			if !ruleHolds(t, r, am["Assert"]) {
				refused = append(refused, fmt.Sprintf("%s: %v", name, am["AssertDescription"]))
			}
		}
	}
	sort.Strings(refused)
	return refused
}

// ruleHolds evaluates a rule function: Fn::Not, Fn::And, Fn::Or,
// Fn::Equals, Fn::Contains, Fn::EachMemberEquals and Fn::EachMemberIn, as
// the CloudFormation documentation defines them.
func ruleHolds(t testing.TB, r *samtemplate.Resolver, v any) bool {
	t.Helper()
	name, arg, _ := samtemplate.Intrinsic(v)
	args, _ := arg.([]any)
	switch name {
	case "Fn::Not":
		return !ruleHolds(t, r, args[0])
	case "Fn::And", "Fn::Or":
		for _, a := range args {
			if ruleHolds(t, r, a) != (name == "Fn::And") {
				return name == "Fn::Or"
			}
		}
		return name == "Fn::And"
	}
	if len(args) != 2 {
		t.Fatalf("rule function %v: want a name and two arguments", v)
	}
	a, err := r.Resolve(args[0])
	if err != nil {
		t.Fatalf("rule %v: %v", v, err)
	}
	b, err := r.Resolve(args[1])
	if err != nil {
		t.Fatalf("rule %v: %v", v, err)
	}
	list, _ := a.([]any)
	switch name {
	case "Fn::Equals":
		return fmt.Sprint(a) == fmt.Sprint(b)
	case "Fn::Contains":
		return slices.Contains(list, b)
	case "Fn::EachMemberEquals":
		return !slices.ContainsFunc(list, func(e any) bool { return e != b })
	case "Fn::EachMemberIn":
		allowed, _ := b.([]any)
		return !slices.ContainsFunc(list, func(e any) bool { return !slices.Contains(allowed, e) })
	}
	t.Fatalf("rule function %s is not implemented", name)
	return false
}

// matchAny reports whether any of the patterns matches: a record passes a
// mapping's FilterCriteria when one of its filters matches.
func matchAny(patterns []esm.FilterPattern, record map[string]any) bool {
	return slices.ContainsFunc(patterns, func(p esm.FilterPattern) bool { return p.Match(record) })
}
