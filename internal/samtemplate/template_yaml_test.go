package samtemplate_test

// Checks of the project's template.yaml: valid against both schemas, every
// name resolves, the defaults deploy, and each protection the issue names
// is in place.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/itchyny/gojq"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// The transforms in the order the stack needs: LanguageExtensions expands
// Fn::ForEach before SAM translates AWS::Serverless::Function.
func TestTemplateTransforms(t *testing.T) {
	tpl := loadTemplate(t)
	want := []any{"AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"}
	if got := tpl.Raw["Transform"]; !reflect.DeepEqual(got, want) {
		t.Errorf("Transform = %v, want %v", got, want)
	}
}

// A person deploys with `sam deploy --guided` and accepts the defaults:
// every parameter must have one CloudFormation accepts, and the template
// must resolve with it and with every optional part switched on.
func TestTemplateDefaultsDeploy(t *testing.T) {
	tpl := loadTemplate(t)
	for name, p := range tpl.Parameters {
		if !p.HasDefault {
			t.Errorf("parameter %s has no default", name)
			continue
		}
		if err := p.Check(p.Default); err != nil {
			t.Errorf("default of %s: %v", name, err)
		}
		if p.Description == "" {
			t.Errorf("parameter %s has no Description (sam deploy --guided shows it)", name)
		}
	}
	for name, params := range map[string]map[string]string{"defaults": nil, "all on": allOn()} {
		t.Run(name, func(t *testing.T) {
			r := newResolver(t, tpl, params)
			for id, res := range r.Template().Resources {
				if exists, err := r.Exists(res); err != nil || !exists {
					if err != nil {
						t.Errorf("%s condition: %v", id, err)
					}
					continue // CloudFormation evaluates nothing of it
				}
				if _, err := r.ResolvePartial(res.Properties); err != nil {
					t.Errorf("%s: %v", id, err)
				}
			}
		})
	}
}

func TestTemplateParameterConstraints(t *testing.T) {
	tpl := loadTemplate(t)
	cases := []struct {
		param, value string
		ok           bool
	}{
		{"TableStreamArns", testStreamARNs[0], true},
		{"TableStreamArns", strings.Join(testStreamARNs, ","), true},
		{"TableStreamArns", "", true},
		{"TableStreamArns", "arn:aws:dynamodb:eu-west-1:210987654321:table/Orders", false},
		{"TableStreamArns", testStreamARNs[0] + ",arn:aws:kinesis:eu-west-1:210987654321:stream/Orders", false},
		{"AlarmEmail", testEmail, true},
		{"AlarmEmail", "ops", false},
		{"LogLevel", "INFO", true},
		{"LogLevel", "WARN", false},  // Lambda would drop the EMF metric lines
		{"ArchivePrefix", "", false}, // the Firehose role would write anywhere in the bucket
		{"ArchivePrefix", "ttl/archive/", true},
		{"ArchivePrefix", "archive", false},
		{"ErrorPrefix", "", false},
		{"ErrorPrefix", "errors/", true},
		{"ErrorPrefix", "archive/errors/", false}, // one folder, so a Rule can keep it out of the archive
		{"FirehoseBatchSize", "501", false},
		{"FirehoseBatchSize", "500", true},
		{"BufferSizeMiB", "32", false}, // dynamic partitioning needs 64 MiB
		{"MaxRecordAgeSeconds", "-1", true},
		{"MaxRecordAgeSeconds", "0", false},
		{"MaxRecordAgeSeconds", "59", false},
		{"MaxRecordAgeSeconds", "60", true},
		{"MaxRecordAgeSeconds", "9999", true},
		{"MaxRecordAgeSeconds", "79999", true},
		{"MaxRecordAgeSeconds", "85999", true},
		{"MaxRecordAgeSeconds", "86399", true},
		{"MaxRecordAgeSeconds", "86400", true},
		{"MaxRecordAgeSeconds", "86401", false}, // a stream keeps records 24 hours
		{"MaxRecordAgeSeconds", "90000", false},
		{"MaxRecordAgeSeconds", "604800", false},
		{"MaxRecordAgeSeconds", "-2", false},
		{"NoncurrentVersionExpireDays", "0", false},
		{"NoncurrentVersionExpireDays", "1", true},
		{"TransitionDays", "45", false},
		{"ExpireDays", "100", false},
		{"LogRetentionDays", "365", true},
		{"LogRetentionDays", "366", false},
		{"ArchiveFormat", "dynamodb-json", true},
		{"ArchiveFormat", "ion", false},
		{"PackRecords", "yes", false},
		{"GlueDatabaseName", "TTL-Archive", false},
		{"AlarmTopicArn", testTopicARN, true},
		{"LogRetentionDays", "31", false},
	}
	for _, c := range cases {
		t.Run(c.param+"="+c.value, func(t *testing.T) {
			p, ok := tpl.Parameters[c.param]
			if !ok {
				t.Fatalf("no parameter %s", c.param)
			}
			err := p.Check(c.value)
			if (err == nil) != c.ok {
				t.Errorf("Check(%q) = %v, want ok=%v", c.value, err, c.ok)
			}
		})
	}
}

func TestTemplateFunction(t *testing.T) {
	tpl := loadTemplate(t)
	fn, ok := tpl.Resources["ArchiverFunction"]
	if !ok {
		t.Fatal("no ArchiverFunction")
	}
	if fn.Type != "AWS::Serverless::Function" {
		t.Errorf("ArchiverFunction type = %s", fn.Type)
	}
	if got := fn.Metadata["BuildMethod"]; got != "makefile" {
		t.Errorf("Metadata.BuildMethod = %v, want makefile", got)
	}
	r := newResolver(t, tpl, nil)
	p := props(t, r, fn)
	want := map[string]any{
		"CodeUri": ".", "Handler": "bootstrap", "Runtime": "provided.al2023",
		"Architectures": []any{"arm64"}, "MemorySize": "128", "Timeout": "60",
	}
	for k, v := range want {
		if !reflect.DeepEqual(p[k], v) {
			t.Errorf("%s = %#v, want %#v", k, p[k], v)
		}
	}
	if v, _ := samtemplate.Lookup(p, "LoggingConfig", "LogFormat"); v != "JSON" {
		t.Errorf("LoggingConfig.LogFormat = %v, want JSON", v)
	}
	if _, ok := fn.Properties["Events"]; ok {
		t.Error("the function has SAM Events; the stream triggers are AWS::Lambda::EventSourceMapping resources, one per table")
	}

	vars, _ := samtemplate.Lookup(fn.Properties, "Environment", "Variables")
	env, _ := vars.(map[string]any)
	if name, _ := samtemplate.RefName(env["FIREHOSE_STREAM_NAME"]); name != "ArchiveStream" {
		t.Errorf("FIREHOSE_STREAM_NAME = %v, want !Ref ArchiveStream", env["FIREHOSE_STREAM_NAME"])
	}
	// The variables the function reads, their defaults and the values it
	// accepts (archive.ConfigFromEnv).
	for _, c := range []struct {
		variable, def string
		good, bad     []string
	}{
		{"BATCH_SIZE", "400", []string{"1", "500"}, []string{"0", "501"}},
		{"ARCHIVE_FORMAT", "json", []string{"json", "dynamodb-json"}, []string{"JSON"}},
		{"PACK_RECORDS", "false", []string{"true", "false"}, []string{"1"}},
		{"MAX_CONCURRENCY", "4", []string{"1", "64"}, []string{"0", "65"}},
	} {
		param, ok := samtemplate.RefName(env[c.variable])
		if !ok {
			t.Errorf("%s = %v, want a !Ref of a parameter", c.variable, env[c.variable])
			continue
		}
		got, err := r.String(env[c.variable])
		if err != nil || got != c.def {
			t.Errorf("%s defaults to %q (%v), want %q", c.variable, got, err, c.def)
		}
		for _, v := range c.good {
			if err := tpl.Parameters[param].Check(v); err != nil {
				t.Errorf("%s (%s) rejects %q: %v", c.variable, param, v, err)
			}
		}
		for _, v := range c.bad {
			if err := tpl.Parameters[param].Check(v); err == nil {
				t.Errorf("%s (%s) accepts %q, which the function rejects at start", c.variable, param, v)
			}
		}
	}
	// AWS_ENDPOINT_URL_FIREHOSE is declared, empty, only so that sam local
	// invoke --env-vars can set it (it overrides declared variables only).
	if v, ok := env["AWS_ENDPOINT_URL_FIREHOSE"]; !ok || v != "" {
		t.Errorf("AWS_ENDPOINT_URL_FIREHOSE = %v (declared %v), want declared and empty", v, ok)
	}
	if len(env) != 6 {
		t.Errorf("environment has %d variables, want the 5 the function reads and AWS_ENDPOINT_URL_FIREHOSE", len(env))
	}
}

// The TTL pattern from AWS-FACTS.md.
const ttlPattern = `{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`

func TestTemplateStreamMappingsProtectData(t *testing.T) {
	tpl := loadTemplate(t)
	if got := existing(t, newResolver(t, tpl, nil), "AWS::Lambda::EventSourceMapping"); len(got) != 0 {
		t.Errorf("with defaults %d mappings exist, want none (no table given)", len(got))
	}
	r := newResolver(t, tpl, allOn())
	mappings := existing(t, r, "AWS::Lambda::EventSourceMapping")
	if want := len(testStreamARNs) + 1; len(mappings) != want {
		t.Fatalf("with %d tables and the demo table, %d mappings exist, want %d", len(testStreamARNs), len(mappings), want)
	}
	sources := map[string]bool{}
	for _, m := range mappings {
		t.Run(m.LogicalID, func(t *testing.T) {
			p := props(t, r, m)
			src := fmt.Sprint(p["EventSourceArn"])
			if sources[src] {
				t.Errorf("EventSourceArn %s is read by two mappings", src)
			}
			sources[src] = true
			if name, _ := samtemplate.RefName(p["FunctionName"]); name != "ArchiverFunction" {
				t.Errorf("FunctionName = %v, want !Ref ArchiverFunction", p["FunctionName"])
			}
			checkTTLFilter(t, p)
			if !reflect.DeepEqual(p["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
				t.Errorf("FunctionResponseTypes = %v, want [ReportBatchItemFailures] (partial batch responses)", p["FunctionResponseTypes"])
			}
			if p["BisectBatchOnFunctionError"] != true {
				t.Errorf("BisectBatchOnFunctionError = %v, want true", p["BisectBatchOnFunctionError"])
			}
			retries, err := strconv.Atoi(fmt.Sprint(p["MaximumRetryAttempts"]))
			if err != nil || retries < 0 || retries > 100 {
				t.Errorf("MaximumRetryAttempts = %v, want bounded (0..100 by default)", p["MaximumRetryAttempts"])
			}
			age, err := strconv.Atoi(fmt.Sprint(p["MaximumRecordAgeInSeconds"]))
			if err != nil || age < 60 || age >= 86400 {
				t.Errorf("MaximumRecordAgeInSeconds = %v, want under the stream's 24 hours so failed batches are saved before they expire", p["MaximumRecordAgeInSeconds"])
			}
			if p["StartingPosition"] != "TRIM_HORIZON" {
				t.Errorf("StartingPosition = %v, want TRIM_HORIZON (archive what the stream still holds)", p["StartingPosition"])
			}
			if _, ok := p["MaximumBatchingWindowInSeconds"]; !ok {
				t.Error("no batching window")
			}
			checkOnFailure(t, p)
			if metrics, _ := samtemplate.Lookup(p, "MetricsConfig", "Metrics"); !reflect.DeepEqual(metrics, []any{"EventCount"}) {
				t.Errorf("MetricsConfig.Metrics = %v, want [EventCount] (the failed-batch alarms read it)", metrics)
			}
		})
	}
	for _, arn := range testStreamARNs {
		if !sources[arn] {
			t.Errorf("no mapping reads %s", arn)
		}
	}
	if b := tpl.Resources["FailedBatchesBucket"]; b.Type != "AWS::S3::Bucket" {
		t.Errorf("FailedBatchesBucket is %v, want an AWS::S3::Bucket", b.Type)
	}
}

// checkTTLFilter fails unless the mapping's only filter is the TTL pattern.
func checkTTLFilter(t *testing.T, p map[string]any) {
	t.Helper()
	filters, err := samtemplate.MappingFilters(p)
	if err != nil || len(filters) != 1 {
		t.Errorf("MappingFilters = %v, %v; want the one TTL filter", filters, err)
		return
	}
	var got, want any
	_ = json.Unmarshal([]byte(filters[0].String()), &got)
	_ = json.Unmarshal([]byte(ttlPattern), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filter pattern = %s, want %s", filters[0], ttlPattern)
	}
}

// checkOnFailure fails unless failed batches go whole to the bucket.
func checkOnFailure(t *testing.T, p map[string]any) {
	t.Helper()
	dest, _ := samtemplate.Lookup(p, "DestinationConfig", "OnFailure", "Destination")
	if res, attr, ok := samtemplate.GetAtt(dest); !ok || res != "FailedBatchesBucket" || attr != "Arn" {
		t.Errorf("OnFailure destination = %v, want !GetAtt FailedBatchesBucket.Arn (an S3 bucket keeps the payload)", dest)
	}
}

// isTTLRecord is the definition of AWS-FACTS.md, written independently of
// the filter implementation.
func isTTLRecord(rec map[string]any) bool {
	id, ok := rec["userIdentity"].(map[string]any)
	return ok && rec["eventName"] == "REMOVE" && id["type"] == "Service" && id["principalId"] == "dynamodb.amazonaws.com"
}

func TestTemplateFilterSelectsTTLRecords(t *testing.T) {
	tpl := loadTemplate(t)
	r := newResolver(t, tpl, allOn())
	var patterns [][]esm.FilterPattern
	for _, m := range existing(t, r, "AWS::Lambda::EventSourceMapping") {
		f, err := samtemplate.MappingFilters(props(t, r, m))
		if err != nil {
			t.Fatalf("%s: %v", m.LogicalID, err)
		}
		patterns = append(patterns, f)
	}
	if len(patterns) == 0 {
		t.Fatal("no mapping")
	}

	files, err := filepath.Glob(filepath.Join(repoRoot(t), "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events in events/: %v", err)
	}
	matched, dropped := 0, 0
	check := func(name string, rec map[string]any) {
		want := isTTLRecord(rec)
		for i, f := range patterns {
			if got := matchAny(f, rec); got != want {
				t.Errorf("%s: mapping %d selects=%v, want %v (eventName %v, userIdentity %v)", name, i, got, want, rec["eventName"], rec["userIdentity"])
			}
		}
		if want {
			matched++
		} else {
			dropped++
		}
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct{ Records []map[string]any }
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, rec := range ev.Records {
			check(fmt.Sprintf("%s record %d", filepath.Base(file), i), rec)
		}
	}
	// Records the samples do not have.
	for name, rec := range map[string]string{
		"MODIFY by the service":     `{"eventName":"MODIFY","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`,
		"REMOVE by another service": `{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"lambda.amazonaws.com"}}`,
		"REMOVE, identity a string": `{"eventName":"REMOVE","userIdentity":"Service"}`,
		"REMOVE, identity in list":  `{"eventName":"REMOVE","userIdentity":[{"type":"Service","principalId":"dynamodb.amazonaws.com"}]}`,
		"lower-case eventName":      `{"eventName":"remove","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`,
		"extra identity fields":     `{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com","x":1}}`,
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(rec), &m); err != nil {
			t.Fatal(err)
		}
		if name == "REMOVE, identity in list" {
			// Lambda matches a list in the record when an element matches;
			// a list of objects is not a TTL record shape and is not matched
			// by the object pattern.
			for _, f := range patterns {
				if matchAny(f, m) {
					t.Errorf("%s: selected", name)
				}
			}
			continue
		}
		check(name, m)
	}

	// mixed-batch.json: exactly the two service deletes pass.
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "mixed-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mixed struct {
		Records []map[string]any
	}
	if err := json.Unmarshal(data, &mixed); err != nil {
		t.Fatal(err)
	}
	var passed []string
	for _, rec := range mixed.Records {
		if matchAny(patterns[0], rec) {
			passed = append(passed, fmt.Sprint(rec["eventID"]))
		}
	}
	if want := []string{"e0000000000000000000000000000004", "e0000000000000000000000000000006"}; !reflect.DeepEqual(passed, want) {
		t.Errorf("mixed-batch.json: filter passes %v, want %v", passed, want)
	}
	if matched == 0 || dropped == 0 {
		t.Errorf("matched %d and dropped %d records; the samples must exercise both", matched, dropped)
	}
}

func TestTemplateBucketsProtected(t *testing.T) {
	tpl := loadTemplate(t)
	r := newResolver(t, tpl, nil)
	buckets := tpl.ResourcesOfType("AWS::S3::Bucket")
	if len(buckets) != 3 {
		t.Fatalf("%d buckets, want the archive, the failed-batches and the access-logs bucket", len(buckets))
	}
	policies := map[string]map[string]any{}
	for _, bp := range tpl.ResourcesOfType("AWS::S3::BucketPolicy") {
		name, _ := samtemplate.RefName(bp.Properties["Bucket"])
		policies[name] = props(t, r, bp)
	}
	for _, b := range buckets {
		t.Run(b.LogicalID, func(t *testing.T) {
			p := props(t, r, b)
			if b.DeletionPolicy != "Retain" || b.UpdateReplacePolicy != "Retain" {
				t.Errorf("DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain (deleting the stack keeps the data)", b.DeletionPolicy, b.UpdateReplacePolicy)
			}
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if v, _ := samtemplate.Lookup(p, "PublicAccessBlockConfiguration", k); v != true {
					t.Errorf("PublicAccessBlockConfiguration.%s = %v, want true", k, v)
				}
			}
			if v, _ := samtemplate.Lookup(p, "BucketEncryption", "ServerSideEncryptionConfiguration", "0", "ServerSideEncryptionByDefault", "SSEAlgorithm"); v != "AES256" && v != "aws:kms" {
				t.Errorf("SSEAlgorithm = %v, want encryption on", v)
			}
			if v, _ := samtemplate.Lookup(p, "VersioningConfiguration", "Status"); v != "Enabled" {
				t.Errorf("versioning = %v, want Enabled", v)
			}
			rules, _ := samtemplate.Lookup(p, "LifecycleConfiguration", "Rules")
			abort := false
			for _, rule := range rules.([]any) {
				if d, ok := samtemplate.Lookup(rule, "AbortIncompleteMultipartUpload", "DaysAfterInitiation"); ok && d != nil {
					abort = true
				}
			}
			if !abort {
				t.Error("no lifecycle rule aborts incomplete multipart uploads")
			}
			pol, ok := policies[b.LogicalID]
			if !ok {
				t.Fatal("no bucket policy")
			}
			tls := false
			stmts, _ := samtemplate.Lookup(pol, "PolicyDocument", "Statement")
			for _, s := range stmts.([]any) {
				st := s.(map[string]any)
				cond, _ := samtemplate.Lookup(st, "Condition", "Bool", "aws:SecureTransport")
				if st["Effect"] == "Deny" && st["Principal"] == "*" && st["Action"] == "s3:*" && fmt.Sprint(cond) == "false" {
					tls = true
				}
			}
			if !tls {
				t.Error("bucket policy does not deny requests without TLS")
			}
		})
	}

	// Lifecycle parameters: a colder class after N days, optional expiry.
	archive := tpl.Resources["ArchiveBucket"]
	rule := func(params map[string]string) map[string]any {
		p := props(t, newResolver(t, tpl, params), archive)
		v, _ := samtemplate.Lookup(p, "LifecycleConfiguration", "Rules", "0")
		return v.(map[string]any)
	}
	def := rule(nil)
	if v, _ := samtemplate.Lookup(def, "Transitions", "0", "StorageClass"); v != "GLACIER_IR" {
		t.Errorf("default transition class = %v, want GLACIER_IR (Athena reads it directly)", v)
	}
	if _, ok := def["ExpirationInDays"]; ok {
		t.Error("by default archive objects expire; the default must keep them")
	}
	custom := rule(map[string]string{"TransitionDays": "0", "ExpireDays": "3650"})
	if _, ok := custom["Transitions"]; ok {
		t.Error("TransitionDays=0 still transitions")
	}
	if custom["ExpirationInDays"] != "3650" {
		t.Errorf("ExpireDays=3650 gives ExpirationInDays %v", custom["ExpirationInDays"])
	}
}

// statements returns every identity-policy statement of the roles, resolved
// with every optional part on.
func statements(t *testing.T, r *samtemplate.Resolver) map[string][]map[string]any {
	t.Helper()
	tpl := r.Template()
	out := map[string][]map[string]any{}
	for _, role := range tpl.ResourcesOfType("AWS::IAM::Role") {
		p := props(t, r, role)
		pols, _ := p["Policies"].([]any)
		for _, pol := range pols {
			st, _ := samtemplate.Lookup(pol, "PolicyDocument", "Statement")
			for _, s := range st.([]any) {
				out[role.LogicalID] = append(out[role.LogicalID], s.(map[string]any))
			}
		}
		if _, ok := p["ManagedPolicyArns"]; ok {
			t.Errorf("%s attaches managed policies; grant exactly what it needs inline", role.LogicalID)
		}
	}
	if len(tpl.ResourcesOfType("AWS::IAM::Policy"))+len(tpl.ResourcesOfType("AWS::IAM::ManagedPolicy")) > 0 {
		t.Error("policies outside the roles are not checked here")
	}
	return out
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, asStrings(e)...)
		}
		return out
	}
	b, _ := json.Marshal(v)
	return []string{string(b)}
}

func TestTemplateIAMLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)
	r := newResolver(t, tpl, allOn())
	// What the deployment returns, so that ARNs resolve to text.
	for id, res := range r.Template().Resources {
		r.Refs[id] = "ref-" + id
		for _, attr := range []string{"Arn", "StreamArn"} {
			r.Attrs[id+"."+attr] = "arn:" + res.Type + ":" + id
		}
	}
	r.Attrs["ArchiveBucket.Arn"] = "arn:aws:s3:::archive-bucket"
	r.Attrs["FailedBatchesBucket.Arn"] = "arn:aws:s3:::failed-batches-bucket"
	r.Attrs["ArchiverLogGroup.Arn"] = "arn:aws:logs:eu-west-1:210987654321:log-group:/ttl-archiver/ttl-archiver/function:*"

	all := statements(t, r)
	type grant struct{ role, action, resource string }
	var grants []grant
	for role, sts := range all {
		for _, s := range sts {
			for _, k := range []string{"NotAction", "NotResource"} {
				if _, ok := s[k]; ok {
					t.Errorf("%s: statement %v uses %s", role, s["Sid"], k)
				}
			}
			if s["Effect"] != "Allow" {
				continue
			}
			for _, a := range asStrings(s["Action"]) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s: statement %v allows %s", role, s["Sid"], a)
				}
				for _, res := range asStrings(s["Resource"]) {
					// GetMetricData and the X-Ray writes have no
					// resource-level permissions.
					if res == "*" && a != "cloudwatch:GetMetricData" && !strings.HasPrefix(a, "xray:Put") {
						t.Errorf("%s: statement %v allows %s on *", role, s["Sid"], a)
					}
					grants = append(grants, grant{role, a, res})
				}
			}
		}
	}
	resourcesOf := func(role, action string) []string {
		var out []string
		for _, g := range grants {
			if g.role == role && g.action == action {
				out = append(out, g.resource)
			}
		}
		sort.Strings(out)
		return out
	}

	// The function: PutRecordBatch on its stream only; stream read on the
	// given streams only; the failed-batches bucket for the on-failure
	// destination.
	if got, want := resourcesOf("ArchiverFunctionRole", "firehose:PutRecordBatch"), []string{"arn:AWS::KinesisFirehose::DeliveryStream:ArchiveStream"}; !reflect.DeepEqual(got, want) {
		t.Errorf("firehose:PutRecordBatch on %v, want %v", got, want)
	}
	wantStreams := append([]string{"arn:AWS::DynamoDB::Table:DemoTable"}, testStreamARNs...)
	sort.Strings(wantStreams)
	for _, a := range []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"} {
		if got := resourcesOf("ArchiverFunctionRole", a); !reflect.DeepEqual(got, wantStreams) {
			t.Errorf("%s on %v, want %v", a, got, wantStreams)
		}
	}
	if got, want := resourcesOf("ArchiverFunctionRole", "s3:PutObject"), []string{"arn:aws:s3:::failed-batches-bucket/*"}; !reflect.DeepEqual(got, want) {
		t.Errorf("function s3:PutObject on %v, want %v", got, want)
	}
	if got, want := resourcesOf("ArchiverFunctionRole", "s3:ListBucket"), []string{"arn:aws:s3:::failed-batches-bucket"}; !reflect.DeepEqual(got, want) {
		t.Errorf("function s3:ListBucket on %v, want %v", got, want)
	}
	for _, g := range grants {
		if g.role == "ArchiverFunctionRole" && strings.HasPrefix(g.action, "s3:") && strings.Contains(g.resource, "archive-bucket") {
			t.Errorf("the function may %s on the archive bucket (%s); only Firehose writes there", g.action, g.resource)
		}
	}

	// Firehose: objects only under its two prefixes.
	for _, g := range grants {
		if g.role != "FirehoseRole" || !strings.HasPrefix(g.action, "s3:") {
			continue
		}
		switch g.action {
		case "s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload":
			if g.resource != "arn:aws:s3:::archive-bucket/archive/*" && g.resource != "arn:aws:s3:::archive-bucket/firehose-errors/*" {
				t.Errorf("Firehose %s on %s, want only under the archive and error prefixes", g.action, g.resource)
			}
		case "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads":
			if g.resource != "arn:aws:s3:::archive-bucket" {
				t.Errorf("Firehose %s on %s, want the archive bucket", g.action, g.resource)
			}
		default:
			t.Errorf("Firehose role allows %s", g.action)
		}
	}
	if len(resourcesOf("FirehoseRole", "s3:PutObject")) != 2 {
		t.Errorf("Firehose s3:PutObject on %v, want the archive and error prefixes", resourcesOf("FirehoseRole", "s3:PutObject"))
	}

	// With no table, the stream statement disappears rather than allowing
	// an empty or wildcard resource.
	none := statements(t, newResolver(t, tpl, nil))
	for _, s := range none["ArchiverFunctionRole"] {
		if strings.Contains(fmt.Sprint(s["Action"]), "dynamodb:") {
			t.Errorf("with no table the function role still has %v on %v", s["Action"], s["Resource"])
		}
	}
}

// The archive lines a Firehose partitioning query must handle, with the
// partition each belongs to.
var partitionCases = []struct {
	name, line string
	table, dt  string
}{
	{"plain", `{"table":"Orders","region":"us-east-1","event_id":"e1","sequence_number":"1","deleted_at":"2025-11-23T00:00:00Z","keys":{"id":"a"},"item":{"id":"a"}}` + "\n", "Orders", "2025-11-23"},
	{"fractional seconds", `{"table":"Kitchen-Sink.v2","region":"us-west-2","event_id":"e2","sequence_number":"2","deleted_at":"2025-12-31T23:59:59.999Z","format":"dynamodb-json","keys":{"id":{"N":"1"}},"item":null}`, "Kitchen-Sink.v2", "2025-12-31"},
	{"malformed record", `{"table":"Orders","region":"us-east-1","event_id":"e3","sequence_number":"3","deleted_at":null,"keys":null,"item":null,"error":"bad image","raw":{"x":1}}`, "Orders", "unknown"},
	{"no table", `{"table":"","region":"","event_id":"e4","sequence_number":"4","deleted_at":null,"keys":null,"item":null,"raw_base64":"AAE="}`, "unknown", "unknown"},
	{"fields missing", `{"event_id":"e5"}`, "unknown", "unknown"},
	{"deleted_at not a string", `{"table":"Orders","deleted_at":1763900000}`, "Orders", "unknown"},
	{"table not a string", `{"table":{"a":1},"deleted_at":"2025-11-23T00:00:00Z"}`, "unknown", "2025-11-23"},
}

func runJQ(t *testing.T, code *gojq.Code, line string) map[string]any {
	t.Helper()
	var in any
	if err := json.Unmarshal([]byte(line), &in); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	iter := code.Run(in)
	v, ok := iter.Next()
	if !ok {
		t.Fatalf("query gave no result for %q", line)
	}
	if err, isErr := v.(error); isErr {
		t.Fatalf("query failed on %q: %v", line, err)
	}
	if extra, more := iter.Next(); more {
		t.Fatalf("query gave a second result %v for %q", extra, line)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("query gave %T for %q, want an object", v, line)
	}
	return m
}

func TestTemplateFirehoseDelivery(t *testing.T) {
	tpl := loadTemplate(t)
	cases := []struct {
		name     string
		params   map[string]string
		pack     bool
		prefix   string
		errorPfx string
	}{
		{"defaults", nil, false,
			"archive/table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/",
			"firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"},
		{"packed, custom prefixes", map[string]string{"PackRecords": "true", "ArchivePrefix": "ttl/v1/", "ErrorPrefix": "ttl-errors/"}, true,
			"ttl/v1/table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/",
			"ttl-errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"},
		{"deep archive prefix", map[string]string{"ArchivePrefix": "a/b/c/"}, false,
			"a/b/c/table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/",
			"firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := samtemplate.FirehoseDelivery(tpl, c.params)
			if err != nil {
				t.Fatalf("FirehoseDelivery: %v", err)
			}
			if d.Prefix != c.prefix || d.ErrorOutputPrefix != c.errorPfx {
				t.Errorf("prefixes = %q, %q; want %q, %q", d.Prefix, d.ErrorOutputPrefix, c.prefix, c.errorPfx)
			}
			if !strings.Contains(d.ErrorOutputPrefix, "!{firehose:error-output-type}") || !strings.Contains(d.ErrorOutputPrefix, "!{timestamp:") {
				t.Errorf("ErrorOutputPrefix %q lacks the error type or a timestamp", d.ErrorOutputPrefix)
			}
			if strings.HasPrefix(d.ErrorOutputPrefix, strings.Split(d.Prefix, "table=")[0]) && strings.Split(d.Prefix, "table=")[0] != "" {
				t.Errorf("error prefix %q is inside the archive prefix %q", d.ErrorOutputPrefix, d.Prefix)
			}
			if d.StreamType != "DirectPut" || d.CompressionFormat != "GZIP" || !d.DynamicPartitioning {
				t.Errorf("stream type %s, compression %s, dynamic partitioning %v; want DirectPut, GZIP, true", d.StreamType, d.CompressionFormat, d.DynamicPartitioning)
			}
			if d.BufferSizeMiB < 64 || d.BufferSizeMiB > 128 || d.BufferIntervalSeconds < 60 || d.BufferIntervalSeconds > 900 {
				t.Errorf("buffering %d MiB / %d s; dynamic partitioning needs 64..128 MiB, 60..900 s", d.BufferSizeMiB, d.BufferIntervalSeconds)
			}
			if d.RecordDeAggregation != c.pack || d.AppendDelimiterToRecord != c.pack {
				t.Errorf("de-aggregation %v, append delimiter %v; want both %v", d.RecordDeAggregation, d.AppendDelimiterToRecord, c.pack)
			}
			if c.pack && d.DeAggregationType != "JSON" {
				t.Errorf("de-aggregation type %q, want JSON", d.DeAggregationType)
			}
			if d.JSONParsingEngine != "JQ-1.6" {
				t.Errorf("JsonParsingEngine = %q, want JQ-1.6", d.JSONParsingEngine)
			}
			// Each partition key of the prefix comes from the query.
			q, err := gojq.Parse(d.MetadataExtractionQuery)
			if err != nil {
				t.Fatalf("MetadataExtractionQuery %q: %v", d.MetadataExtractionQuery, err)
			}
			code, err := gojq.Compile(q)
			if err != nil {
				t.Fatalf("compile query: %v", err)
			}
			for _, pc := range partitionCases {
				got := runJQ(t, code, pc.line)
				want := map[string]any{"table": pc.table, "dt": pc.dt}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: partition keys %v, want %v", pc.name, got, want)
				}
				for key := range got {
					if !strings.Contains(d.Prefix, "!{partitionKeyFromQuery:"+key+"}") {
						t.Errorf("query key %s is not used in the prefix %q", key, d.Prefix)
					}
				}
			}
		})
	}
	for _, bad := range []map[string]string{{"PackRecords": "maybe"}, {"ArchivePrefix": ""}} {
		if _, err := samtemplate.FirehoseDelivery(tpl, bad); err == nil {
			t.Errorf("FirehoseDelivery accepted %v", bad)
		}
	}
}

// The lines the archiver's own golden tests expect: every one partitions
// without error, by table and deletion date.
func TestTemplatePartitionsGoldenLines(t *testing.T) {
	tpl := loadTemplate(t)
	d, err := samtemplate.FirehoseDelivery(tpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := gojq.Parse(d.MetadataExtractionQuery)
	if err != nil {
		t.Fatal(err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "archive", "testdata", "golden", "*.jsonl"))
	if len(files) == 0 {
		t.Skip("no golden archive lines in archive/testdata/golden")
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var l struct {
				Table     string  `json:"table"`
				DeletedAt *string `json:"deleted_at"`
			}
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			want := map[string]any{"table": l.Table, "dt": "unknown"}
			if l.Table == "" {
				want["table"] = "unknown"
			}
			if l.DeletedAt != nil && len(*l.DeletedAt) >= 10 {
				want["dt"] = (*l.DeletedAt)[:10]
			}
			if got := runJQ(t, code, line); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: partition %v, want %v", filepath.Base(f), got, want)
			}
			n++
		}
	}
	if n == 0 {
		t.Error("the golden files hold no lines")
	}
}

// Athena reads exactly where Firehose writes: the projected location of a
// (table_name, dt) partition is the Firehose prefix with the same keys.
func TestTemplateGlueTableMatchesArchive(t *testing.T) {
	tpl := loadTemplate(t)
	for _, params := range []map[string]string{nil, {"ArchivePrefix": "ttl/v1/"}, {"ArchivePrefix": "a/b/c/"}} {
		r := newResolver(t, tpl, params)
		r.Refs["ArchiveBucket"] = "archive-bucket"
		r.Refs["ArchiveDatabase"] = "ttl_archive"
		r.Refs["ArchiveTable"] = "expired_items"
		d, err := samtemplate.FirehoseDelivery(tpl, params)
		if err != nil {
			t.Fatal(err)
		}
		table := tpl.Resources["ArchiveTable"]
		p := props(t, r, table)
		in, _ := p["TableInput"].(map[string]any)
		tp, _ := in["Parameters"].(map[string]any)

		fromFirehose := strings.NewReplacer("!{partitionKeyFromQuery:table}", "Orders", "!{partitionKeyFromQuery:dt}", "2025-11-23").Replace(d.Prefix)
		fromGlue := strings.NewReplacer("${table_name}", "Orders", "${dt}", "2025-11-23").Replace(fmt.Sprint(tp["storage.location.template"]))
		if want := "s3://archive-bucket/" + fromFirehose; fromGlue != want {
			t.Errorf("ArchivePrefix=%q: Athena reads %s, Firehose writes %s", params["ArchivePrefix"], fromGlue, want)
		}
		if loc, _ := samtemplate.Lookup(in, "StorageDescriptor", "Location"); !strings.HasPrefix(fromGlue, fmt.Sprint(loc)) {
			t.Errorf("table Location %v is not above the partitions %s", loc, fromGlue)
		}
		want := map[string]string{
			"projection.enabled": "true", "projection.table_name.type": "injected",
			"projection.dt.type": "date", "projection.dt.format": "yyyy-MM-dd",
			"projection.dt.interval": "1", "projection.dt.interval.unit": "DAYS",
		}
		for k, v := range want {
			if tp[k] != v {
				t.Errorf("table parameter %s = %v, want %s", k, tp[k], v)
			}
		}
		if rng, _ := tp["projection.dt.range"].(string); !strings.HasSuffix(rng, ",NOW") {
			t.Errorf("projection.dt.range = %q, want up to NOW", rng)
		}
		var keys []string
		pk, _ := in["PartitionKeys"].([]any)
		for _, k := range pk {
			keys = append(keys, fmt.Sprint(k.(map[string]any)["Name"]))
		}
		if !reflect.DeepEqual(keys, []string{"table_name", "dt"}) {
			t.Errorf("partition keys %v, want [table_name dt] (table is reserved in Athena)", keys)
		}
		if serde, _ := samtemplate.Lookup(in, "StorageDescriptor", "SerdeInfo", "SerializationLibrary"); serde != "org.openx.data.jsonserde.JsonSerDe" {
			t.Errorf("SerDe = %v, want the OpenX JSON SerDe", serde)
		}
		// Every field of an archive line is a column, except table (the
		// partition table_name).
		cols := map[string]bool{}
		cl, _ := samtemplate.Lookup(in, "StorageDescriptor", "Columns")
		for _, c := range cl.([]any) {
			cols[fmt.Sprint(c.(map[string]any)["Name"])] = true
		}
		for _, f := range []string{"region", "event_id", "sequence_number", "deleted_at", "format", "keys", "item", "item_gzip", "error", "raw", "raw_base64"} {
			if !cols[f] {
				t.Errorf("no column %s", f)
			}
		}
		if cols["table"] {
			t.Error("a column named table: reserved in Athena queries")
		}

		// The example query names both partitions, so projection can prune.
		nq := tpl.Resources["ExampleQuery"]
		qp := props(t, r, nq)
		query := fmt.Sprint(qp["QueryString"])
		for _, s := range []string{`FROM "ttl_archive"."expired_items"`, "WHERE table_name = ", "AND dt = "} {
			if !strings.Contains(query, s) {
				t.Errorf("example query lacks %q:\n%s", s, query)
			}
		}
	}
}

// tableName is the table of a stream ARN, as the template takes it.
func tableName(arn string) string { return strings.Split(arn, "/")[1] }

func TestTemplateAlarms(t *testing.T) {
	tpl := loadTemplate(t)
	r := newResolver(t, tpl, allOn())
	type metric struct{ namespace, name, dimension string }
	got := map[metric]int{}
	for _, a := range existing(t, r, "AWS::CloudWatch::Alarm") {
		p := props(t, r, a)
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if !reflect.DeepEqual(p[k], []any{testTopicARN, map[string]any{"Ref": "AlarmTopic"}}) {
				t.Errorf("%s %s = %v, want the given topic and the email topic", a.LogicalID, k, p[k])
			}
		}
		if p["AlarmDescription"] == nil {
			t.Errorf("%s has no description saying what to do", a.LogicalID)
		}
		ns, name, dims := p["Namespace"], p["MetricName"], p["Dimensions"]
		if ns == nil {
			ms, _ := samtemplate.Lookup(p, "Metrics", "0", "MetricStat", "Metric")
			m, _ := ms.(map[string]any)
			ns, name, dims = m["Namespace"], m["MetricName"], m["Dimensions"]
		}
		dim, _ := samtemplate.Lookup(dims, "0", "Name")
		got[metric{fmt.Sprint(ns), fmt.Sprint(name), fmt.Sprint(dim)}]++
		// Counters of failures: no data is no failure. The stop and gap
		// alarms read TTL deletions and fill the archived side, so their
		// missing data means nothing to compare, which must not read as OK.
		// The daily check writes MissingItems every day: no data is a check
		// that did not run.
		want := "notBreaching"
		switch name {
		case "TimeToLiveDeletedItemCount":
			want = "missing"
		case "MissingItems":
			want = "breaching"
		}
		if p["TreatMissingData"] != want {
			t.Errorf("%s TreatMissingData = %v, want %s", a.LogicalID, p["TreatMissingData"], want)
		}
	}
	tables := len(testStreamARNs) + 1 // and the demo table
	want := map[metric]int{
		{"AWS/Lambda", "Errors", "FunctionName"}:                                            2, // the archiver and the daily check
		{"AWS/Lambda", "IteratorAge", "FunctionName"}:                                       1,
		{"AWS/Lambda", "DestinationDeliveryFailures", "FunctionName"}:                       1,
		{"AWS/Lambda", "OnFailureDestinationDeliveredEventCount", "EventSourceMappingUUID"}: tables,
		{"AWS/DynamoDB", "TimeToLiveDeletedItemCount", "TableName"}:                         2 * tables, // stop and gap alarms
		{"TTLArchiver", "MissingItems", "TableName"}:                                        tables,
		{"TTLArchiver", "Failed", "FunctionName"}:                                           1,
		{"TTLArchiver", "NoOldImage", "FunctionName"}:                                       1,
		{"TTLArchiver", "RawArchived", "FunctionName"}:                                      1,
		{"AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName"}:                1,
		{"AWS/Firehose", "DeliveryToS3.Success", "DeliveryStreamName"}:                      1,
		{"AWS/Firehose", "PartitionCountExceeded", "DeliveryStreamName"}:                    1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alarms on %v,\nwant %v", got, want)
	}
	// Without a topic or an email the alarms still exist, with no actions,
	// and no topic is created.
	r = newResolver(t, tpl, map[string]string{"CreateDemoTable": "true"})
	for _, a := range existing(t, r, "AWS::CloudWatch::Alarm") {
		if p := props(t, r, a); !reflect.DeepEqual(p["AlarmActions"], []any{}) {
			t.Errorf("%s has AlarmActions %v with no topic", a.LogicalID, p["AlarmActions"])
		}
	}
	if got := existing(t, r, "AWS::SNS::Topic"); len(got) != 0 {
		t.Errorf("with no AlarmEmail %d topics exist", len(got))
	}
	r = newResolver(t, tpl, map[string]string{"AlarmEmail": testEmail})
	topics := existing(t, r, "AWS::SNS::Topic")
	if len(topics) != 1 {
		t.Fatalf("with AlarmEmail %d topics exist, want 1", len(topics))
	}
	sub, _ := samtemplate.Lookup(props(t, r, topics[0]), "Subscription", "0")
	if want := map[string]any{"Protocol": "email", "Endpoint": testEmail}; !reflect.DeepEqual(sub, want) {
		t.Errorf("topic subscription %v, want %v", sub, want)
	}
}

// What the issue asks of the template's wiring, proved without deploying:
// every table of the list gets a mapping with the TTL filter and an
// on-failure destination, a failed-batch alarm on that mapping and a stop
// alarm whose metric math compares that table's TimeToLiveDeletedItemCount
// with the items archived from it; and the Rules refuse a stack that would
// archive nothing.
func TestTemplateWiring(t *testing.T) {
	tpl := loadTemplate(t)
	for n := 1; n <= len(testStreamARNs); n++ {
		arns := testStreamARNs[:n]
		r := newResolver(t, tpl, map[string]string{"TableStreamArns": strings.Join(arns, ","), "AlarmEmail": testEmail})
		if refused := checkRules(t, tpl, r); len(refused) > 0 {
			t.Errorf("%d tables: the Rules refuse the stack: %q", n, refused)
		}
		mappings := map[string]string{} // logical id by stream ARN
		for _, m := range existing(t, r, "AWS::Lambda::EventSourceMapping") {
			p := props(t, r, m)
			mappings[fmt.Sprint(p["EventSourceArn"])] = m.LogicalID
			checkTTLFilter(t, p)
			checkOnFailure(t, p)
		}
		stopped := map[string]bool{} // tables whose TTL deletions a stop alarm compares
		failed := map[string]bool{}  // mappings a failed-batch alarm watches
		for _, a := range existing(t, r, "AWS::CloudWatch::Alarm") {
			p := props(t, r, a)
			if v, _ := samtemplate.Lookup(p, "Dimensions", "0"); v != nil {
				if d := v.(map[string]any); d["Name"] == "EventSourceMappingUUID" {
					id, _ := samtemplate.RefName(d["Value"])
					failed[id] = true
				}
			}
			if table, ok := stopAlarmTable(t, p); ok {
				stopped[table] = true
			}
		}
		for _, arn := range arns {
			id, ok := mappings[arn]
			if !ok {
				t.Errorf("%d tables: no mapping reads %s", n, arn)
			}
			if !failed[id] {
				t.Errorf("%d tables: no failed-batch alarm watches %s (%s)", n, id, arn)
			}
			if !stopped[tableName(arn)] {
				t.Errorf("%d tables: no stop alarm compares TimeToLiveDeletedItemCount of %s", n, tableName(arn))
			}
		}
		if len(mappings) != n || len(stopped) != n || len(failed) != n {
			t.Errorf("%d tables: %d mappings, %d stop alarms, %d failed-batch alarms; want %d of each", n, len(mappings), len(stopped), len(failed), n)
		}
	}

	for _, c := range []struct {
		params map[string]string
		refuse bool
	}{
		{map[string]string{}, true},
		{map[string]string{"TableStreamArns": "", "CreateDemoTable": "false"}, true},
		{map[string]string{"TableStreamArns": testStreamARNs[0] + ",", "CreateDemoTable": "true"}, true},
		{map[string]string{"TableStreamArns": testStreamARNs[0] + ",," + testStreamARNs[1]}, true},
		{map[string]string{"CreateDemoTable": "true", "AlarmEmail": testEmail}, false},
		{map[string]string{"TableStreamArns": testStreamARNs[0], "AlarmTopicArn": testTopicARN}, false},
		{map[string]string{"TableStreamArns": testStreamARNs[0], "AlarmsWithoutRecipient": "true"}, false},
		{map[string]string{"TableStreamArns": testStreamARNs[0]}, true}, // no one hears the alarms
		{allOn(), false},
	} {
		if refused := checkRules(t, tpl, newResolver(t, tpl, c.params)); (len(refused) > 0) != c.refuse {
			t.Errorf("%v: the Rules refuse %q, want refused=%v", c.params, refused, c.refuse)
		}
	}
}

// stopAlarmTable returns the table whose TTL deletions a stop alarm reads,
// after checking that its expression compares them with the function's
// Archived metric for the same table, filling silence with 0.
func stopAlarmTable(t *testing.T, p map[string]any) (string, bool) {
	t.Helper()
	metrics, _ := p["Metrics"].([]any)
	byID := map[string]map[string]any{}
	for _, m := range metrics {
		mm := m.(map[string]any)
		byID[fmt.Sprint(mm["Id"])] = mm
	}
	deleted, ok := byID["deleted"]
	if !ok {
		return "", false
	}
	dims := func(m map[string]any) map[string]any {
		out := map[string]any{}
		list, _ := samtemplate.Lookup(m, "MetricStat", "Metric", "Dimensions")
		for _, d := range list.([]any) {
			out[fmt.Sprint(d.(map[string]any)["Name"])] = d.(map[string]any)["Value"]
		}
		return out
	}
	if name, _ := samtemplate.Lookup(deleted, "MetricStat", "Metric", "MetricName"); name != "TimeToLiveDeletedItemCount" {
		t.Errorf("stop alarm reads %v as deleted, want TimeToLiveDeletedItemCount", name)
	}
	table := dims(deleted)["TableName"]
	archived := byID["archived"]
	if ns, _ := samtemplate.Lookup(archived, "MetricStat", "Metric", "Namespace"); ns != archive.MetricsNamespace {
		t.Errorf("stop alarm reads archived items from %v, want %s", ns, archive.MetricsNamespace)
	}
	if d := dims(archived); !reflect.DeepEqual(d["TableName"], table) || d["FunctionName"] == nil {
		t.Errorf("stop alarm's archived dimensions %v, want FunctionName and TableName %v", d, table)
	}
	for id, m := range byID {
		period, _ := samtemplate.Lookup(m, "MetricStat", "Period")
		if secs, _ := strconv.Atoi(fmt.Sprint(period)); m["MetricStat"] != nil && secs < 3600 {
			t.Errorf("stop alarm metric %s over %v s, want an hour or more (TTL deletes in batches)", id, period)
		}
		if expr, ok := m["Expression"].(string); ok && !strings.Contains(expr, "FILL(archived, 0)") {
			t.Errorf("stop alarm expression %q does not fill a silent function's archived side with 0", expr)
		}
	}
	s, ok := table.(string)
	return s, ok
}

func TestTemplateOutputs(t *testing.T) {
	tpl := loadTemplate(t)
	for _, name := range []string{"ArchiveBucketName", "ArchiveLocation", "DeliveryStreamName", "GlueDatabase", "GlueTable", "FailedBatchesBucketName", "FailedBatchesLocation"} {
		if _, ok := tpl.Outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
}

func TestTemplateDemoTable(t *testing.T) {
	tpl := loadTemplate(t)
	r := newResolver(t, tpl, map[string]string{"CreateDemoTable": "true"})
	tables := existing(t, r, "AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("%d tables with CreateDemoTable=true, want 1", len(tables))
	}
	p := props(t, r, tables[0])
	if v, _ := samtemplate.Lookup(p, "StreamSpecification", "StreamViewType"); v != "NEW_AND_OLD_IMAGES" {
		t.Errorf("demo stream view %v, want NEW_AND_OLD_IMAGES", v)
	}
	if v, _ := samtemplate.Lookup(p, "TimeToLiveSpecification", "Enabled"); v != true {
		t.Errorf("demo TTL enabled = %v", v)
	}
	if got := existing(t, newResolver(t, tpl, nil), "AWS::DynamoDB::Table"); len(got) != 0 {
		t.Errorf("by default %d tables are created, want none", len(got))
	}
}

// sam deploy --guided asks for the parameters in the order of the
// Parameters section (SAM CLI's guided_context reads them in template
// order and ignores AWS::CloudFormation::Interface), and the console shows
// the Interface's groups: both must give the same order, what matters
// first, with every parameter in exactly one group.
func TestTemplateParameterOrder(t *testing.T) {
	tpl := loadTemplate(t)
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), "\nParameters:\n")
	var written []string
	for _, line := range strings.Split(rest, "\n") {
		if line != "" && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "#") {
			break // the next section
		}
		if name, ok := strings.CutSuffix(line, ":"); ok && strings.HasPrefix(name, "  ") && !strings.HasPrefix(name, "   ") {
			written = append(written, strings.TrimSpace(name))
		}
	}
	var grouped []string
	groups, _ := samtemplate.Lookup(tpl.Raw, "Metadata", "AWS::CloudFormation::Interface", "ParameterGroups")
	for _, g := range groups.([]any) {
		names, _ := samtemplate.Lookup(g, "Parameters")
		for _, n := range names.([]any) {
			grouped = append(grouped, n.(string))
		}
	}
	if len(written) != len(tpl.Parameters) {
		t.Fatalf("read %d parameter names from the text, the template has %d", len(written), len(tpl.Parameters))
	}
	if !reflect.DeepEqual(grouped, written) {
		t.Errorf("Interface groups list %v,\nthe Parameters section (guided deploy's order) %v", grouped, written)
	}
	if want := []string{"TableStreamArns", "CreateDemoTable", "AlarmEmail"}; !reflect.DeepEqual(written[:3], want) {
		t.Errorf("guided deploy asks first for %v, want %v", written[:3], want)
	}
}

// The dashboard's body is JSON once deployed, and shows what the issue
// names: TTL deletions against archived items, iterator age, delivery
// freshness and success, errors, duration and failed batches.
func TestTemplateDashboard(t *testing.T) {
	tpl := loadTemplate(t)
	r := newResolver(t, tpl, nil)
	r.Refs["ArchiverFunction"] = "ttl-archiver-fn"
	r.Refs["ArchiveStream"] = "ttl-archiver-stream"
	body, err := r.String(tpl.Resources["Dashboard"].Properties["DashboardBody"])
	if err != nil {
		t.Fatalf("DashboardBody: %v", err)
	}
	var d struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics []any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v\n%s", err, body)
	}
	shown := ""
	for _, w := range d.Widgets {
		b, _ := json.Marshal(w.Properties.Metrics)
		shown += string(b)
	}
	for _, want := range []string{
		"TimeToLiveDeletedItemCount", `\"Archived\"`, "IteratorAge", "DeliveryToS3.DataFreshness",
		"DeliveryToS3.Success", `"Errors"`, `"Duration"`, "OnFailureDestinationDeliveredEventCount",
		"NoOldImage", "RawArchived", "ttl-archiver-fn", "ttl-archiver-stream", "${PROP('Dim.TableName')}",
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
