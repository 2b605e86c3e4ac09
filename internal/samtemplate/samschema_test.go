package samtemplate_test

import (
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// A miniature of sam.schema.json's structure.
const miniSAMSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "required": ["Resources"],
  "properties": {
    "Globals": {"$ref": "#/definitions/Globals"},
    "Resources": {"additionalProperties": {"anyOf": [
      {"$ref": "#/definitions/Func__Resource"},
      {"$ref": "#/definitions/any_cfn"}
    ]}}
  },
  "definitions": {
    "PassThroughProp": {},
    "Globals": {"type": "object", "additionalProperties": false, "properties": {"Function": {"type": "object"}}},
    "any_cfn": {"type": "object", "required": ["Type"], "properties": {"Type": {"type": "string", "pattern": "^(?!AWS::Serverless::).+$"}}},
    "Func__Resource": {
      "type": "object", "additionalProperties": false, "required": ["Type"],
      "properties": {
        "Type": {"type": "string", "enum": ["AWS::Serverless::Function"]},
        "Condition": {"$ref": "#/definitions/PassThroughProp"},
        "Metadata": {"$ref": "#/definitions/PassThroughProp"},
        "Properties": {"$ref": "#/definitions/Func__Properties"}
      }
    },
    "Func__Properties": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "CodeUri": {"anyOf": [{"type": "string"}, {"$ref": "#/definitions/CodeUri"}]},
        "Handler": {"__samPassThrough": {}, "allOf": [{"$ref": "#/definitions/PassThroughProp"}]},
        "MemorySize": {"allOf": [{"$ref": "#/definitions/PassThroughProp"}]},
        "Tracing": {"anyOf": [{"type": "object"}, {"type": "string", "enum": ["Active", "PassThrough"]}]},
        "Layers": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "Retries": {"type": "integer", "minimum": 0, "maximum": 5},
        "Mode": {"oneOf": [{"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "b$"}]},
        "Events": {"type": "object", "additionalProperties": {"$ref": "#/definitions/Event"}}
      }
    },
    "CodeUri": {"type": "object", "required": ["Bucket", "Key"], "additionalProperties": false,
      "properties": {"Bucket": {"type": "string"}, "Key": {"type": "string"}}},
    "Event": {"type": "object", "required": ["Type"], "additionalProperties": false,
      "properties": {"Type": {"enum": ["DynamoDB"]}, "Properties": {"type": "object"}}}
  }
}`

func TestSAMSchemaValidate(t *testing.T) {
	s, err := samtemplate.ParseSAMSchema([]byte(miniSAMSchema))
	if err != nil {
		t.Fatalf("ParseSAMSchema: %v", err)
	}
	if got := s.ResourceTypes(); len(got) != 1 || got[0] != "AWS::Serverless::Function" {
		t.Errorf("ResourceTypes = %v", got)
	}
	if got := strings.Join(s.PassThroughProperties("AWS::Serverless::Function"), ","); got != "Handler,MemorySize" {
		t.Errorf("PassThroughProperties = %s, want Handler,MemorySize", got)
	}
	cases := []struct {
		name, props string
		wantErr     string // "" for valid
	}{
		{"valid", `{CodeUri: ., Handler: bootstrap, MemorySize: !Ref M, Tracing: Active, Layers: [a], Retries: 3, Mode: abc}`, ""},
		{"CodeUri object", `{CodeUri: {Bucket: b, Key: k}}`, ""},
		{"intrinsics anywhere", `{CodeUri: !Sub x, Layers: !Ref L, Retries: !Ref R, Tracing: !GetAtt A.B}`, ""},
		{"unknown property", `{CodeURI: .}`, `unknown property "CodeURI"`},
		{"anyOf none", `{CodeUri: {Bucket: b}}`, "matches none of 2 alternatives"},
		{"enum", `{Tracing: Sometimes}`, "is not one of"},
		{"items type", `{Layers: [1]}`, "want string"},
		{"maxItems", `{Layers: [a, b, c]}`, "more than 2 items"},
		{"integer", `{Retries: 1.5}`, "want integer"},
		{"maximum", `{Retries: 6}`, "above 5"},
		{"oneOf both", `{Mode: ab}`, "matches 2 of the oneOf"},
		{"If branches checked", `{Tracing: !If [C, Active, Sometimes]}`, "is not one of"},
		{"If NoValue branch", `{Tracing: !If [C, Active, !Ref AWS::NoValue]}`, ""},
		{"nested additionalProperties", `{Events: {E: {Type: DynamoDB, Propertees: {}}}}`, `unknown property "Propertees"`},
		{"nested required", `{Events: {E: {Properties: {}}}}`, `missing required property "Type"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl := mustParse(t, "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: "+c.props+"\n")
			errs := s.ValidateResource(tpl.Resources["F"])
			if c.wantErr == "" {
				for _, e := range errs {
					t.Errorf("unexpected: %v", e)
				}
				return
			}
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), c.wantErr) {
				t.Errorf("errors %q lack %q", all, c.wantErr)
			}
		})
	}

	tpl := mustParse(t, "Globals:\n  Api: {}\nResources:\n  F:\n    Type: AWS::Serverless::Api\n")
	if errs := s.ValidateResource(tpl.Resources["F"]); len(errs) != 1 {
		t.Errorf("an unknown SAM type gave %v, want one error", errs)
	}
	if errs := s.ValidateGlobals(tpl); len(errs) != 1 || !strings.Contains(errs[0].Error(), `unknown property "Api"`) {
		t.Errorf("ValidateGlobals = %v", errs)
	}
}

func TestParseSAMSchemaRejects(t *testing.T) {
	for _, doc := range []string{`not json`, `{}`, `{"properties":{"Resources":{"additionalProperties":{"anyOf":[{"$ref":"#/definitions/missing"}]}}}}`} {
		if _, err := samtemplate.ParseSAMSchema([]byte(doc)); err == nil {
			t.Errorf("ParseSAMSchema(%s) succeeded", doc)
		}
	}
}
