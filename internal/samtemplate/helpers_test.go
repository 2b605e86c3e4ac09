package samtemplate_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// Where the checks find their inputs, relative to the repository root.
const (
	templateFile = "template.yaml"
	// specFile is installed by `make node_modules/.installed` (npm ci).
	specFile = "node_modules/@aws-cdk/aws-service-spec/db.json.gz"
	// samSchemaFile lives beside the repository, in the shared folder.
	samSchemaFile = "../shared/schemas/sam.schema.json"
	// skipSpecEnv lets a machine without npm skip the spec check.
	skipSpecEnv = "TTL_ARCHIVER_SKIP_SPEC"
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

func loadTemplate(t testing.TB) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.ParseFile(filepath.Join(repoRoot(t), templateFile))
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", templateFile, err)
	}
	return tpl
}

var (
	specOnce sync.Once
	spec     *samtemplate.Spec
	specErr  error
)

// loadSpec returns the CloudFormation resource database. Missing, it fails
// the test (the Makefile installs it), unless TTL_ARCHIVER_SKIP_SPEC=1.
func loadSpec(t testing.TB) *samtemplate.Spec {
	t.Helper()
	path := filepath.Join(repoRoot(t), specFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if os.Getenv(skipSpecEnv) == "1" {
			t.Skipf("%s is missing and %s=1: skipping the CloudFormation resource database check", specFile, skipSpecEnv)
		}
		t.Fatalf("%s is missing: run `make node_modules/.installed` (npm ci of package.json) to install "+
			"the CloudFormation resource database, or set %s=1 to skip this check", specFile, skipSpecEnv)
	}
	specOnce.Do(func() { spec, specErr = samtemplate.LoadSpec(path) })
	if specErr != nil {
		t.Fatalf("LoadSpec: %v", specErr)
	}
	return spec
}

// loadSAMSchema returns the SAM schema, or skips when the shared folder
// beside the repository is absent.
func loadSAMSchema(t testing.TB) *samtemplate.SAMSchema {
	t.Helper()
	path := filepath.Join(repoRoot(t), samSchemaFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Skipf("SAM schema %s not found (no shared/ folder beside the repository): skipping the SAM schema check", filepath.Clean(path))
	}
	s, err := samtemplate.LoadSAMSchema(path)
	if err != nil {
		t.Fatalf("LoadSAMSchema: %v", err)
	}
	return s
}

// Stream ARNs of made-up tables, for parameter sets that attach tables.
var testStreamARNs = []string{
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Orders/stream/2025-06-01T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Sessions/stream/2025-06-02T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Carts/stream/2025-06-03T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/Tokens.v2/stream/2025-06-04T12:00:00.000",
	"arn:aws:dynamodb:eu-west-1:210987654321:table/audit_log/stream/2025-06-05T12:00:00.000",
}

const testTopicARN = "arn:aws:sns:eu-west-1:210987654321:ops-alerts"

// allOn attaches five tables, creates the demo table and sets an alarm
// topic: every optional resource exists.
func allOn() map[string]string {
	p := map[string]string{"CreateDemoTable": "true", "AlarmTopicArn": testTopicARN}
	for i, arn := range testStreamARNs {
		p["TableStreamArn"+string(rune('1'+i))] = arn
	}
	return p
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
	return r
}

// existing returns the resources of a type that exist under the resolver's
// parameters.
func existing(t testing.TB, tpl *samtemplate.Template, r *samtemplate.Resolver, typ string) []samtemplate.Resource {
	t.Helper()
	var out []samtemplate.Resource
	for _, res := range tpl.ResourcesOfType(typ) {
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
