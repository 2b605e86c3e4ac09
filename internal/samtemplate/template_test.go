package samtemplate_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

func mustParse(t *testing.T, src string) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return tpl
}

func TestParseShortForms(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       any
	}{
		{"Ref", `!Ref Bucket`, map[string]any{"Ref": "Bucket"}},
		{"GetAtt dotted", `!GetAtt Bucket.Arn`, map[string]any{"Fn::GetAtt": []any{"Bucket", "Arn"}}},
		{"GetAtt nested attribute", `!GetAtt Db.Endpoint.Address`, map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{"GetAtt list", `!GetAtt [Bucket, Arn]`, map[string]any{"Fn::GetAtt": []any{"Bucket", "Arn"}}},
		{"Sub string", `!Sub '${AWS::Region}-x'`, map[string]any{"Fn::Sub": "${AWS::Region}-x"}},
		{"Sub list", "!Sub\n  - '${a}'\n  - {a: !Ref P}", map[string]any{"Fn::Sub": []any{"${a}", map[string]any{"a": map[string]any{"Ref": "P"}}}}},
		{"If", `!If [C, 1, !Ref AWS::NoValue]`, map[string]any{"Fn::If": []any{"C", 1, map[string]any{"Ref": "AWS::NoValue"}}}},
		{"Equals", `!Equals [!Ref P, '']`, map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, ""}}},
		{"Not", `!Not [!Condition C]`, map[string]any{"Fn::Not": []any{map[string]any{"Condition": "C"}}}},
		{"And", `!And [!Condition A, !Condition B]`, map[string]any{"Fn::And": []any{map[string]any{"Condition": "A"}, map[string]any{"Condition": "B"}}}},
		{"Or", `!Or [!Condition A, !Condition B]`, map[string]any{"Fn::Or": []any{map[string]any{"Condition": "A"}, map[string]any{"Condition": "B"}}}},
		{"Join", `!Join [',', [a, b]]`, map[string]any{"Fn::Join": []any{",", []any{"a", "b"}}}},
		{"Select", `!Select [0, !GetAZs '']`, map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::GetAZs": ""}}}},
		{"Split", `!Split [',', 'a,b']`, map[string]any{"Fn::Split": []any{",", "a,b"}}},
		{"FindInMap", `!FindInMap [M, k1, k2]`, map[string]any{"Fn::FindInMap": []any{"M", "k1", "k2"}}},
		{"ImportValue", `!ImportValue Shared-Vpc`, map[string]any{"Fn::ImportValue": "Shared-Vpc"}},
		{"Base64", `!Base64 hello`, map[string]any{"Fn::Base64": "hello"}},
		{"Cidr", `!Cidr ['10.0.0.0/16', 6, 5]`, map[string]any{"Fn::Cidr": []any{"10.0.0.0/16", 6, 5}}},
		{"Base64 of Sub", `!Base64 {"Fn::Sub": "x"}`, map[string]any{"Fn::Base64": map[string]any{"Fn::Sub": "x"}}},
		{"plain scalars", `{i: 1, f: 1.5, b: true, s: '1', d: 2020-01-01, n: null}`, map[string]any{"i": 1, "f": 1.5, "b": true, "s": "1", "d": "2020-01-01", "n": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl := mustParse(t, "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties:\n      V: "+indent(c.yaml)+"\n")
			if got := tpl.Resources["R"].Properties["V"]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("V = %#v, want %#v", got, c.want)
			}
		})
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n      ") }

func TestParseJSONTemplate(t *testing.T) {
	tpl := mustParse(t, `{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "x-${AWS::Region}"}}}}}`)
	if got := tpl.Resources["B"].Properties["BucketName"]; !reflect.DeepEqual(got, map[string]any{"Fn::Sub": "x-${AWS::Region}"}) {
		t.Errorf("BucketName = %#v", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"not a mapping":     "- a\n- b\n",
		"no resources":      "Parameters: {}\n",
		"unknown tag":       "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties: {A: !Bogus x}\n",
		"duplicate key":     "Resources:\n  R:\n    Type: AWS::S3::Bucket\n  R:\n    Type: AWS::S3::Bucket\n",
		"no type":           "Resources:\n  R:\n    Properties: {}\n",
		"merge key":         "X: &x {Type: AWS::S3::Bucket}\nResources:\n  R:\n    <<: *x\n",
		"bad GetAtt":        "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties: {A: !GetAtt Bucket}\n",
		"parameter no type": "Parameters: {P: {Default: x}}\nResources:\n  R:\n    Type: AWS::S3::Bucket\n",
		"not YAML":          "Resources: [\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(src))
			if !errors.Is(err, samtemplate.ErrTemplate) {
				t.Errorf("Parse = %v, want an error wrapping ErrTemplate", err)
			}
		})
	}
}

const sampleTemplate = `
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Prefix: {Type: String, Default: 'logs/', AllowedPattern: '^([a-z]+/)*$'}
  Size: {Type: Number, Default: 64, MinValue: 64, MaxValue: 128}
  Names: {Type: CommaDelimitedList, Default: 'a,b,c'}
  Required: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [!Ref Size, 64]]
  Either: !Or [!Condition IsProd, !Equals [!Select [1, !Ref Names], b]]
  Loop: !Not [!Condition Loop]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
  Other:
    Type: AWS::S3::Bucket
    Condition: IsProd
    Properties:
      Tags:
        - {Key: a, Value: b}
        - !If [IsProd, {Key: env, Value: prod}, !Ref AWS::NoValue]
      Maybe: !If [IsProd, yes, !Ref AWS::NoValue]
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
`

func TestTemplateLookups(t *testing.T) {
	tpl := mustParse(t, sampleTemplate)
	var ids []string
	for _, r := range tpl.ResourcesOfType("AWS::S3::Bucket") {
		ids = append(ids, r.LogicalID)
	}
	if !reflect.DeepEqual(ids, []string{"Bucket", "Other"}) {
		t.Errorf("ResourcesOfType(AWS::S3::Bucket) = %v", ids)
	}
	if b := tpl.Resources["Bucket"]; b.DeletionPolicy != "Retain" {
		t.Errorf("Bucket = %+v, want DeletionPolicy Retain", b)
	}
	o := tpl.Resources["Other"]
	if o.Condition != "IsProd" {
		t.Errorf("Other.Condition = %q", o.Condition)
	}
	if v, ok := samtemplate.Lookup(o.Properties, "Tags", "0", "Key"); !ok || v != "a" {
		t.Errorf("Lookup(Tags, 0, Key) = %v, %v", v, ok)
	}
	if _, ok := samtemplate.Lookup(o.Properties, "Tags", "9"); ok {
		t.Error("Lookup(Tags, 9) found an element")
	}
	if fn := tpl.Resources["Fn"]; fn.Metadata["BuildMethod"] != "makefile" {
		t.Errorf("Fn = %+v", fn)
	}
	p := tpl.Parameters["Size"]
	if p.Type != "Number" || p.Default != "64" || *p.MinValue != 64 || *p.MaxValue != 128 {
		t.Errorf("Size = %+v", p)
	}
	if tpl.Parameters["Required"].HasDefault {
		t.Error("Required has a default")
	}
}

func TestResolverConditions(t *testing.T) {
	tpl := mustParse(t, sampleTemplate)
	cases := []struct {
		params map[string]string
		want   map[string]bool
	}{
		{nil, map[string]bool{"IsProd": false, "IsDev": true, "Both": true, "Either": true}},
		{map[string]string{"Env": "prod", "Names": "x,y"}, map[string]bool{"IsProd": true, "IsDev": false, "Both": false, "Either": true}},
		{map[string]string{"Size": "65", "Names": "x,y"}, map[string]bool{"IsProd": false, "IsDev": true, "Both": false, "Either": false}},
	}
	for _, c := range cases {
		r, err := samtemplate.NewResolver(tpl, c.params)
		if err != nil {
			t.Fatalf("NewResolver(%v): %v", c.params, err)
		}
		for name, want := range c.want {
			if got, err := r.Condition(name); err != nil || got != want {
				t.Errorf("params %v: Condition(%s) = %v, %v; want %v", c.params, name, got, err, want)
			}
		}
		if _, err := r.Condition("Loop"); err == nil {
			t.Error("Condition(Loop) did not report the cycle")
		}
		if _, err := r.Condition("Missing"); err == nil {
			t.Error("Condition(Missing) did not fail")
		}
	}
}

func TestResolverParameters(t *testing.T) {
	tpl := mustParse(t, sampleTemplate)
	bad := []map[string]string{
		{"Nope": "x"},
		{"Env": "staging"},
		{"Prefix": "Logs/"},
		{"Size": "63"},
		{"Size": "129"},
		{"Size": "big"},
	}
	for _, p := range bad {
		if _, err := samtemplate.NewResolver(tpl, p); !errors.Is(err, samtemplate.ErrParameter) {
			t.Errorf("NewResolver(%v) = %v, want ErrParameter", p, err)
		}
	}
	r, err := samtemplate.NewResolver(tpl, map[string]string{"Prefix": ""})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := r.ParameterValue("Names"); err != nil || !reflect.DeepEqual(v, []any{"a", "b", "c"}) {
		t.Errorf("ParameterValue(Names) = %v, %v", v, err)
	}
	if _, err := r.Resolve(map[string]any{"Ref": "Required"}); !errors.Is(err, samtemplate.ErrParameter) {
		t.Errorf("Ref to a parameter without default or value = %v, want ErrParameter", err)
	}
}

func TestResolverValues(t *testing.T) {
	tpl := mustParse(t, sampleTemplate)
	r, err := samtemplate.NewResolver(tpl, map[string]string{"Env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	r.Pseudo["AWS::Region"] = "eu-west-1"
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"Sub params and pseudo", map[string]any{"Fn::Sub": "${Prefix}${Env}/${AWS::Region}"}, "logs/prod/eu-west-1"},
		{"Sub literal", map[string]any{"Fn::Sub": "s3://b/${Prefix}t=${!table}/"}, "s3://b/logs/t=${table}/"},
		{"Sub variables", map[string]any{"Fn::Sub": []any{"${a}-${Env}", map[string]any{"a": map[string]any{"Fn::Join": []any{"+", []any{"x", "y"}}}}}}, "x+y-prod"},
		{"Sub Firehose expressions", map[string]any{"Fn::Sub": "${Prefix}k=!{partitionKeyFromQuery:k}/"}, "logs/k=!{partitionKeyFromQuery:k}/"},
		{"If", map[string]any{"Fn::If": []any{"IsProd", "p", "d"}}, "p"},
		{"NoValue in list", []any{1, map[string]any{"Fn::If": []any{"IsDev", 2, map[string]any{"Ref": "AWS::NoValue"}}}, 3}, []any{1, 3}},
		{"NoValue in map", map[string]any{"a": 1, "b": map[string]any{"Ref": "AWS::NoValue"}}, map[string]any{"a": 1}},
		{"NoValue alone", map[string]any{"Ref": "AWS::NoValue"}, nil},
		{"Join", map[string]any{"Fn::Join": []any{"-", []any{"a", 1, true}}}, "a-1-true"},
		{"Select of list parameter", map[string]any{"Fn::Select": []any{"2", map[string]any{"Ref": "Names"}}}, "c"},
		{"Split", map[string]any{"Fn::Split": []any{"/", "a/b"}}, []any{"a", "b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Resolve(c.in)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("Resolve = %#v, %v; want %#v", got, err, c.want)
			}
		})
	}
}

func TestResolverDeploymentValues(t *testing.T) {
	tpl := mustParse(t, sampleTemplate)
	r, err := samtemplate.NewResolver(tpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	getAtt := map[string]any{"Fn::GetAtt": []any{"Bucket", "Arn"}}
	sub := map[string]any{"Fn::Sub": "${Bucket.Arn}/${Prefix}*"}
	for _, v := range []any{getAtt, sub, map[string]any{"Ref": "Bucket"}, map[string]any{"Ref": "AWS::Region"}, map[string]any{"Fn::ImportValue": "x"}} {
		if _, err := r.Resolve(v); !errors.Is(err, samtemplate.ErrUnresolved) {
			t.Errorf("Resolve(%v) = %v, want ErrUnresolved", v, err)
		}
	}
	for _, v := range []any{map[string]any{"Ref": "Nothing"}, map[string]any{"Fn::GetAtt": []any{"Nothing", "Arn"}}, map[string]any{"Fn::Sub": "${Nothing.Arn}"}} {
		if _, err := r.Resolve(v); err == nil || errors.Is(err, samtemplate.ErrUnresolved) {
			t.Errorf("Resolve(%v) = %v, want an error naming the missing resource", v, err)
		}
	}

	// Partial: what parameters decide is resolved, the rest kept.
	got, err := r.ResolvePartial([]any{getAtt, sub, map[string]any{"Fn::Sub": "${Bucket}-${!lit}"}, map[string]any{"Fn::Join": []any{"", []any{"a", map[string]any{"Ref": "Bucket"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		getAtt,
		sub,
		map[string]any{"Fn::Sub": "${Bucket}-${!lit}"},
		map[string]any{"Fn::Join": []any{"", []any{"a", map[string]any{"Ref": "Bucket"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolvePartial = %#v,\nwant %#v", got, want)
	}

	// A stand-in supplies what the deployment would.
	r.Refs["Bucket"] = "my-bucket"
	r.Attrs["Bucket.Arn"] = "arn:aws:s3:::my-bucket"
	if s, err := r.String(sub); err != nil || s != "arn:aws:s3:::my-bucket/logs/*" {
		t.Errorf("String(%v) = %q, %v", sub, s, err)
	}
	if s, err := r.String(map[string]any{"Ref": "Bucket"}); err != nil || s != "my-bucket" {
		t.Errorf("String(Ref Bucket) = %q, %v", s, err)
	}
}

func TestResolverExists(t *testing.T) {
	tpl := mustParse(t, sampleTemplate)
	for env, want := range map[string]bool{"dev": false, "prod": true} {
		r, err := samtemplate.NewResolver(tpl, map[string]string{"Env": env})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := r.Exists(tpl.Resources["Other"]); err != nil || got != want {
			t.Errorf("Env=%s: Exists(Other) = %v, %v; want %v", env, got, err, want)
		}
		if got, _ := r.Exists(tpl.Resources["Bucket"]); !got {
			t.Errorf("Env=%s: Exists(Bucket) = false", env)
		}
		props, err := r.ResolvePartial(tpl.Resources["Other"].Properties)
		if err != nil {
			t.Fatal(err)
		}
		tags, _ := samtemplate.Lookup(props, "Tags")
		_, maybe := props.(map[string]any)["Maybe"]
		if n := len(tags.([]any)); (n == 2) != want || maybe != want {
			t.Errorf("Env=%s: %d tags, Maybe present %v", env, n, maybe)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleTemplate))
	f.Add([]byte(firehoseTemplate))
	f.Add([]byte(`{"Resources": {"R": {"Type": "T", "Properties": {"A": {"Fn::Sub": "${!x}${y}"}}}}}`))
	f.Add([]byte(forEachTemplate))
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := samtemplate.Parse(data)
		if err != nil {
			return
		}
		// Whatever parses can be checked and resolved without panicking.
		r, err := samtemplate.NewResolver(tpl, nil)
		if err != nil {
			return
		}
		for _, res := range r.Template().Resources {
			_, _ = r.Exists(res)
			_, _ = r.ResolvePartial(res.Properties)
		}
		_, _ = samtemplate.FirehoseDelivery(tpl, nil)
	})
}

const forEachTemplate = `
Parameters:
  Arns: {Type: CommaDelimitedList, Default: ''}
  Demo: {Type: String, Default: 'false'}
Rules:
  Something:
    RuleCondition: !Equals [!Ref Demo, 'false']
    Assertions:
      - Assert: {Fn::Not: [{Fn::EachMemberEquals: [!Ref Arns, '']}]}
        AssertDescription: give an ARN or the demo
  NoEmpty:
    RuleCondition: {Fn::Not: [{Fn::EachMemberEquals: [!Ref Arns, '']}]}
    Assertions:
      - Assert: {Fn::Not: [{Fn::Contains: [!Ref Arns, '']}]}
        AssertDescription: an empty entry
      - Assert: {Fn::EachMemberIn: [!Ref Arns, ['arn:a/T1', 'arn:b/T2']]}
        AssertDescription: an unknown entry
Conditions:
  Has: !Not [!Equals [!Join ['', !Ref Arns], '']]
Resources:
  Fn::ForEach::Table:
    - Arn
    - !Ref Arns
    - Map&{Arn}:
        Type: AWS::Lambda::EventSourceMapping
        Condition: Has
        Properties:
          EventSourceArn: !Ref Arn
          Name: !Select [1, !Split ['/', !Ref Arn]]
          Text: !Sub 'reads ${Arn}'
      Alarm&{Arn}:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Uuid: {Ref: !Sub 'Map&{Arn}'}
  Fn::ForEach::Fixed:
    - X
    - [a, b]
    - Fixed${X}: {Type: AWS::S3::Bucket}
`

func TestForEach(t *testing.T) {
	tpl := mustParse(t, forEachTemplate)
	cases := []struct {
		arns string
		want map[string]string // logical id of each mapping: its EventSourceArn
	}{
		{"", map[string]string{"Map": ""}},
		{"arn:a/T1", map[string]string{"MaparnaT1": "arn:a/T1"}},
		{"arn:a/T1,arn:b/T2", map[string]string{"MaparnaT1": "arn:a/T1", "MaparnbT2": "arn:b/T2"}},
	}
	for _, c := range cases {
		t.Run(c.arns, func(t *testing.T) {
			r, err := samtemplate.NewResolver(tpl, map[string]string{"Arns": c.arns})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, m := range r.Template().ResourcesOfType("AWS::Lambda::EventSourceMapping") {
				exists, err := r.Exists(m)
				if err != nil || exists != (c.arns != "") {
					t.Errorf("Exists(%s) = %v, %v; want %v", m.LogicalID, exists, err, c.arns != "")
				}
				got[m.LogicalID] = ""
				if !exists {
					continue // CloudFormation evaluates nothing of it
				}
				p, err := r.Resolve(m.Properties)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", m.LogicalID, err)
				}
				arn, _ := samtemplate.Lookup(p, "EventSourceArn")
				got[m.LogicalID] = arn.(string)
				if text, _ := samtemplate.Lookup(p, "Text"); text != "reads "+arn.(string) {
					t.Errorf("%s Text = %v, want the ARN substituted", m.LogicalID, text)
				}
				name, _ := samtemplate.Lookup(p, "Name")
				if want := strings.Split(arn.(string), "/")[1]; name != want {
					t.Errorf("%s Name = %v, want %s", m.LogicalID, name, want)
				}
				alarm, ok := r.Template().Resources["Alarm"+strings.TrimPrefix(m.LogicalID, "Map")]
				if uuid, _ := samtemplate.RefName(alarm.Properties["Uuid"]); !ok || uuid != m.LogicalID {
					t.Errorf("alarm of %s refers to %v, want Ref %s", m.LogicalID, alarm.Properties["Uuid"], m.LogicalID)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("mappings %v, want %v", got, c.want)
			}
			for _, id := range []string{"Fixeda", "Fixedb"} {
				if _, ok := r.Template().Resources[id]; !ok {
					t.Errorf("no %s from the literal collection", id)
				}
			}
		})
	}
	for name, src := range map[string]string{
		"duplicate":       "Resources:\n  Fn::ForEach::L:\n    - X\n    - [a, a]\n    - R${X}: {Type: T}\n",
		"not a list":      "Resources:\n  Fn::ForEach::L: [X, a, {R: {Type: T}}]\n",
		"short":           "Resources:\n  Fn::ForEach::L: [X, [a]]\n",
		"clashes literal": "Resources:\n  Ra: {Type: T}\n  Fn::ForEach::L: [X, [a], {R${X}: {Type: T}}]\n",
	} {
		if _, err := samtemplate.Parse([]byte(src)); !errors.Is(err, samtemplate.ErrTemplate) {
			t.Errorf("%s: Parse = %v, want ErrTemplate", name, err)
		}
	}
}

func TestRules(t *testing.T) {
	tpl := mustParse(t, forEachTemplate)
	cases := []struct {
		params map[string]string
		refuse []string
	}{
		{map[string]string{}, []string{"Something: give an ARN or the demo"}},
		{map[string]string{"Demo": "true"}, nil},
		{map[string]string{"Arns": "arn:a/T1"}, nil},
		{map[string]string{"Arns": "arn:a/T1,arn:b/T2", "Demo": "true"}, nil},
		{map[string]string{"Arns": "arn:a/T1,"}, []string{"NoEmpty: an empty entry", "NoEmpty: an unknown entry"}},
		{map[string]string{"Arns": "arn:c/T3"}, []string{"NoEmpty: an unknown entry"}},
	}
	for _, c := range cases {
		r, err := samtemplate.NewResolver(tpl, c.params)
		if err != nil {
			t.Fatal(err)
		}
		if got := checkRules(t, tpl, r); !reflect.DeepEqual(got, c.refuse) {
			t.Errorf("%v: the Rules refuse %q, want %q", c.params, got, c.refuse)
		}
	}
}
