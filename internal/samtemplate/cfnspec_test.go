package samtemplate_test

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// A miniature of db.json's layout (schema.resource and
// schema.typeDefinition entities).
const miniSpec = `{"idCtr": 5, "schema": {
  "resource": {"type": "entities", "entities": [
    {"$id": "1", "cloudFormationType": "AWS::Test::Thing", "name": "Thing",
     "attributes": {"Arn": {"type": {"type": "string"}}},
     "properties": {
       "Name": {"type": {"type": "string"}, "required": true},
       "Mode": {"type": {"type": "string", "allowedValues": ["FAST", "SLOW"]}},
       "Count": {"type": {"type": "integer"}},
       "On": {"type": {"type": "boolean"}},
       "Config": {"type": {"type": "ref", "reference": {"$ref": "2"}}},
       "Items": {"type": {"type": "array", "element": {"type": "ref", "reference": {"$ref": "3"}}}},
       "Labels": {"type": {"type": "map", "element": {"type": "string"}}},
       "Policy": {"type": {"type": "json"}},
       "Tags": {"type": {"type": "array", "element": {"type": "tag"}}},
       "Either": {"type": {"type": "union", "types": [{"type": "string"}, {"type": "ref", "reference": {"$ref": "3"}}]}},
       "Old": {"type": {"type": "ref", "reference": {"$ref": "3"}}, "previousTypes": [{"type": "string"}]}
     }}
  ]},
  "typeDefinition": {"type": "entities", "entities": [
    {"$id": "2", "name": "Config", "properties": {
      "Level": {"type": {"type": "integer"}, "required": true},
      "Inner": {"type": {"type": "ref", "reference": {"$ref": "3"}}}}},
    {"$id": "3", "name": "Item", "properties": {"Key": {"type": {"type": "string"}, "required": true}}}
  ]}
}}`

func miniSpecFromFile(t *testing.T) *samtemplate.Spec {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.json.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(miniSpec)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := samtemplate.LoadSpec(path)
	if err != nil {
		t.Fatalf("LoadSpec: %v", err)
	}
	return s
}

func TestSpecValidateResource(t *testing.T) {
	s := miniSpecFromFile(t)
	if !s.HasType("AWS::Test::Thing") || s.HasType("AWS::Test::Other") {
		t.Error("HasType")
	}
	if !s.HasAttribute("AWS::Test::Thing", "Arn") || s.HasAttribute("AWS::Test::Thing", "ARN") {
		t.Error("HasAttribute")
	}
	cases := []struct {
		name, props string
		wantErr     string
	}{
		{"valid", `{Name: n, Mode: FAST, Count: 3, On: true, Config: {Level: 1, Inner: {Key: k}}, Items: [{Key: a}], Labels: {a: b}, Policy: {anything: [1]}, Tags: [{Key: k, Value: v}], Either: s, Old: old}`, ""},
		{"numbers and booleans as strings", `{Name: n, Count: '3', On: 'false'}`, ""},
		{"intrinsics", `{Name: !Ref N, Config: !If [C, {Level: 1}, !Ref AWS::NoValue], Items: !Ref L, Labels: {a: !Sub x}}`, ""},
		{"union ref", `{Name: n, Either: {Key: k}}`, ""},
		{"previous type", `{Name: n, Old: {Key: k}}`, ""},
		{"missing required", `{Mode: FAST}`, `missing required property "Name"`},
		{"unknown property", `{Name: n, Title: x}`, `unknown property "Title"`},
		{"allowed values", `{Name: n, Mode: fast}`, `"fast" is not one of FAST, SLOW`},
		{"allowed values in If", `{Name: n, Mode: !If [C, FAST, MEDIUM]}`, `"MEDIUM" is not one of`},
		{"integer", `{Name: n, Count: 1.5}`, "not a whole number"},
		{"not a number", `{Name: n, Count: many}`, `"many" is not a number`},
		{"boolean", `{Name: n, On: yes please}`, "is not true or false"},
		{"nested unknown", `{Name: n, Config: {Level: 1, Depth: 2}}`, `Properties.Config: unknown property "Depth"`},
		{"nested required", `{Name: n, Config: {Inner: {}}}`, `missing required property "Level"`},
		{"deep required", `{Name: n, Config: {Level: 1, Inner: {}}}`, `Properties.Config.Inner: missing required property "Key"`},
		{"array of refs", `{Name: n, Items: [{Key: a}, {Kye: b}]}`, `Properties.Items[1]: unknown property "Kye"`},
		{"list expected", `{Name: n, Items: {Key: a}}`, "want a list"},
		{"map expected", `{Name: n, Labels: [a]}`, "want a mapping"},
		{"scalar expected", `{Name: [a]}`, "want a string"},
		{"tag", `{Name: n, Tags: [{Value: v}]}`, `missing required property "Key"`},
		{"union none", `{Name: n, Either: {Kee: k}}`, `unknown property "Kee"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl := mustParse(t, "Resources:\n  T:\n    Type: AWS::Test::Thing\n    Properties: "+c.props+"\n")
			errs := s.ValidateResource(tpl.Resources["T"])
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			if c.wantErr == "" {
				if len(all) > 0 {
					t.Errorf("unexpected errors:\n%s", strings.Join(all, "\n"))
				}
				return
			}
			if !strings.Contains(strings.Join(all, "\n"), c.wantErr) {
				t.Errorf("errors %q lack %q", all, c.wantErr)
			}
		})
	}
	tpl := mustParse(t, "Resources:\n  T:\n    Type: AWS::Test::Nothing\n")
	if errs := s.ValidateResource(tpl.Resources["T"]); len(errs) != 1 {
		t.Errorf("unknown type gave %v", errs)
	}
	if errs := s.ValidateProperties("T", "AWS::Test::Thing", map[string]any{"Mode": "FAST"}); len(errs) != 0 {
		t.Errorf("ValidateProperties requires what it should not: %v", errs)
	}
	if errs := s.ValidateProperties("T", "AWS::Test::Thing", map[string]any{"Mood": "FAST"}); len(errs) != 1 {
		t.Errorf("ValidateProperties missed an unknown property: %v", errs)
	}
}

func TestLoadSpecErrors(t *testing.T) {
	if _, err := samtemplate.LoadSpec(filepath.Join(t.TempDir(), "missing.json.gz")); err == nil {
		t.Error("LoadSpec of a missing file succeeded")
	}
	path := filepath.Join(t.TempDir(), "db.json")
	if err := os.WriteFile(path, []byte(`{"schema": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := samtemplate.LoadSpec(path); err == nil {
		t.Error("LoadSpec of a database without resources succeeded")
	}
}

func TestCheckReferencesAttributes(t *testing.T) {
	s := miniSpecFromFile(t)
	tpl := mustParse(t, `
Resources:
  T:
    Type: AWS::Test::Thing
    Properties:
      Name: !GetAtt T.Arn
      Mode: !GetAtt T.Arnn
      Labels: {a: !Sub '${T.Arn}', b: !Sub '${T.Id}'}
`)
	var msgs []string
	for _, e := range samtemplate.CheckReferences(tpl, s) {
		msgs = append(msgs, e.Error())
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "no attribute Id") || !strings.Contains(msgs[1], "no attribute Arnn") {
		t.Errorf("CheckReferences = %q, want the two unknown attributes", msgs)
	}
}
