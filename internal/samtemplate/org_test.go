package samtemplate_test

// The template deployed the way organisations run AWS (issue 24): their
// KMS key, their tables' keys, their bucket, Object Lock, access logs,
// guard rails on the parameters, retained log groups and tracing. Each
// test resolves the template with the option set and with it unset, and
// asserts the resources, properties and IAM statements it changes.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

const (
	testKeyARN     = "arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	testExisting   = "central-archive"
	testOwner      = "123456789012"
	testLogBucket  = "org-access-logs"
	testExistARN   = "arn:aws:s3:::" + testExisting
	testFailedARN  = "arn:AWS::S3::Bucket:FailedBatchesBucket"
	testS3Service  = "s3.eu-west-1.amazonaws.com"
	testDDBService = "dynamodb.eu-west-1.amazonaws.com"
)

var testTableKeyARNs = []string{
	"arn:aws:kms:eu-west-1:210987654321:key/11111111-2222-3333-4444-555555555555",
	"arn:aws:kms:eu-west-1:210987654321:key/mrk-0123456789abcdef0123456789abcdef",
}

// orgParams is a deployable parameter set (a table and an alarm
// recipient) with the given values on top.
func orgParams(extra map[string]string) map[string]string {
	p := map[string]string{"TableStreamArns": testStreamARNs[0], "AlarmEmail": testEmail}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// orgResolver resolves the template with orgParams(extra), as deployed,
// after checking that the Rules accept the parameters.
func orgResolver(t *testing.T, extra map[string]string) *samtemplate.Resolver {
	t.Helper()
	tpl := loadTemplate(t)
	r := deployed(newResolver(t, tpl, orgParams(extra)))
	if refused := checkRules(t, tpl, r); len(refused) > 0 {
		t.Fatalf("%v: the Rules refuse the stack: %q", extra, refused)
	}
	return r
}

// resource returns the resolved properties of a resource that must exist.
func resource(t *testing.T, r *samtemplate.Resolver, id string) map[string]any {
	t.Helper()
	res, ok := r.Template().Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	if exists, err := r.Exists(res); err != nil || !exists {
		t.Fatalf("%s does not exist (%v)", id, err)
	}
	return props(t, r, res)
}

func exists(t *testing.T, r *samtemplate.Resolver, id string) bool {
	t.Helper()
	res, ok := r.Template().Resources[id]
	if !ok {
		return false
	}
	e, err := r.Exists(res)
	if err != nil {
		t.Fatalf("Exists(%s): %v", id, err)
	}
	return e
}

func lookup(v any, path ...string) any {
	x, _ := samtemplate.Lookup(v, path...)
	return x
}

// sse returns a bucket's default encryption rule.
func sse(t *testing.T, r *samtemplate.Resolver, id string) map[string]any {
	t.Helper()
	rule, _ := lookup(resource(t, r, id), "BucketEncryption", "ServerSideEncryptionConfiguration", "0").(map[string]any)
	if rule == nil {
		t.Fatalf("%s has no default encryption", id)
	}
	return rule
}

// kmsGrants returns the kms: grants of a role ("action on resource if
// condition"), sorted.
func kmsGrants(t *testing.T, r *samtemplate.Resolver, role string) []string {
	t.Helper()
	var out []string
	for _, g := range grants(t, r, role) {
		if strings.HasPrefix(g, "kms:") {
			out = append(out, g)
		}
	}
	return out
}

// statement returns the statement of a role with the given Sid.
func statement(t *testing.T, r *samtemplate.Resolver, role, sid string) map[string]any {
	t.Helper()
	for _, s := range statements(t, r)[role] {
		if s["Sid"] == sid {
			return s
		}
	}
	return nil
}

func TestOrgDefaultsUnchanged(t *testing.T) {
	r := orgResolver(t, nil)
	for _, id := range []string{"ArchiveBucket", "FailedBatchesBucket"} {
		rule := sse(t, r, id)
		if got := lookup(rule, "ServerSideEncryptionByDefault"); !reflect.DeepEqual(got, map[string]any{"SSEAlgorithm": "AES256"}) {
			t.Errorf("%s default encryption %v, want SSE-S3 (AES256) only", id, got)
		}
		if _, ok := rule["BucketKeyEnabled"]; ok {
			t.Errorf("%s sets BucketKeyEnabled without a key", id)
		}
		p := resource(t, r, id)
		for _, k := range []string{"ObjectLockEnabled", "ObjectLockConfiguration", "LoggingConfiguration"} {
			if _, ok := p[k]; ok {
				t.Errorf("%s has %s by default", id, k)
			}
		}
	}
	if exists(t, r, "AccessLogsBucket") {
		t.Error("an access-logs bucket exists by default")
	}
	stream := resource(t, r, "ArchiveStream")
	if got := lookup(stream, "DeliveryStreamEncryptionConfigurationInput"); !reflect.DeepEqual(got, map[string]any{"KeyType": "AWS_OWNED_CMK"}) {
		t.Errorf("stream encryption %v, want AWS_OWNED_CMK", got)
	}
	if got := lookup(stream, "ExtendedS3DestinationConfiguration", "EncryptionConfiguration"); got != nil {
		t.Errorf("S3 destination encryption %v, want the bucket's default", got)
	}
	for _, role := range []string{"ArchiverFunctionRole", "FirehoseRole", "DailyCheckFunctionRole", "DailyCheckScheduleRole"} {
		if g := kmsGrants(t, r, role); len(g) > 0 {
			t.Errorf("%s has KMS grants without a key: %v", role, g)
		}
		for _, g := range grants(t, r, role) {
			if strings.Contains(g, "s3:ResourceAccount") {
				t.Errorf("%s: %s checks a bucket owner without ExistingArchiveBucket", role, g)
			}
		}
	}
	for _, lg := range existing(t, r, "AWS::Logs::LogGroup") {
		if _, ok := props(t, r, lg)["KmsKeyId"]; ok {
			t.Errorf("%s has a KMS key by default", lg.LogicalID)
		}
	}
	if _, ok := resource(t, r, "AlarmTopic")["KmsMasterKeyId"]; ok {
		t.Error("the alarm topic has a KMS key by default")
	}
	wg := resource(t, r, "DailyCheckWorkGroup")
	rc := lookup(wg, "WorkGroupConfiguration", "ResultConfiguration")
	if got := lookup(rc, "EncryptionConfiguration"); !reflect.DeepEqual(got, map[string]any{"EncryptionOption": "SSE_S3"}) {
		t.Errorf("workgroup results encryption %v, want SSE_S3", got)
	}
	if got := lookup(rc, "ExpectedBucketOwner"); got != nil {
		t.Errorf("workgroup ExpectedBucketOwner %v by default", got)
	}
	if got := lookup(rc, "OutputLocation"); got != "s3://"+testArchiveBucket+"/athena=results/" {
		t.Errorf("workgroup OutputLocation %v", got)
	}
}

// With KmsKeyArn, everything that stores data uses the key, and each role
// gets exactly the KMS actions its writes and reads need, through the
// service that uses the key.
func TestOrgKMSKey(t *testing.T) {
	r := orgResolver(t, map[string]string{"KmsKeyArn": testKeyARN, "AccessLogBucket": "CREATE"})
	for _, id := range []string{"ArchiveBucket", "FailedBatchesBucket"} {
		rule := sse(t, r, id)
		want := map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": testKeyARN}
		if got := lookup(rule, "ServerSideEncryptionByDefault"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s default encryption %v, want %v", id, got, want)
		}
		if rule["BucketKeyEnabled"] != true {
			t.Errorf("%s BucketKeyEnabled = %v, want true (fewer KMS requests)", id, rule["BucketKeyEnabled"])
		}
	}
	// S3 delivers access logs only into an SSE-S3 bucket.
	if got := lookup(sse(t, r, "AccessLogsBucket"), "ServerSideEncryptionByDefault", "SSEAlgorithm"); got != "AES256" {
		t.Errorf("access-logs bucket SSE %v, want AES256", got)
	}
	stream := resource(t, r, "ArchiveStream")
	if got, want := lookup(stream, "DeliveryStreamEncryptionConfigurationInput"), map[string]any{"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": testKeyARN}; !reflect.DeepEqual(got, want) {
		t.Errorf("stream encryption %v, want %v", got, want)
	}
	if got := lookup(stream, "ExtendedS3DestinationConfiguration", "EncryptionConfiguration", "KMSEncryptionConfig", "AWSKMSKeyARN"); got != testKeyARN {
		t.Errorf("S3 destination KMS key %v, want %s", got, testKeyARN)
	}
	if got := resource(t, r, "AlarmTopic")["KmsMasterKeyId"]; got != testKeyARN {
		t.Errorf("alarm topic key %v, want %s", got, testKeyARN)
	}
	groups := existing(t, r, "AWS::Logs::LogGroup")
	if len(groups) != 3 {
		t.Errorf("%d log groups, want the function's, the check's and Firehose's", len(groups))
	}
	for _, lg := range groups {
		if got := props(t, r, lg)["KmsKeyId"]; got != testKeyARN {
			t.Errorf("%s KmsKeyId %v, want %s", lg.LogicalID, got, testKeyARN)
		}
	}
	wg := resource(t, r, "DailyCheckWorkGroup")
	if got, want := lookup(wg, "WorkGroupConfiguration", "ResultConfiguration", "EncryptionConfiguration"), map[string]any{"EncryptionOption": "SSE_KMS", "KmsKey": testKeyARN}; !reflect.DeepEqual(got, want) {
		t.Errorf("workgroup results encryption %v, want %v", got, want)
	}

	// Exactly these KMS actions, on the key only, through S3 only, for the
	// objects each role writes or reads.
	for _, c := range []struct {
		role, sid string
		reader    string
		actions   []string
		contexts  []string
	}{
		{"ArchiverFunctionRole", "EncryptFailedBatches", "", []string{"kms:GenerateDataKey"}, []string{testFailedARN, testFailedARN + "/*"}},
		{"FirehoseRole", "EncryptArchiveObjects", "", []string{"kms:Decrypt", "kms:GenerateDataKey"},
			[]string{testArchiveBuckARN, testArchiveBuckARN + "/archive/*", testArchiveBuckARN + "/firehose-errors/*"}},
		{"DailyCheckFunctionRole", "DecryptArchive", "auto", []string{"kms:Decrypt", "kms:GenerateDataKey"},
			[]string{testArchiveBuckARN, testArchiveBuckARN + "/archive/*", testArchiveBuckARN + "/athena=results/*"}},
		{"DailyCheckFunctionRole", "DecryptArchive", "s3", []string{"kms:Decrypt"},
			[]string{testArchiveBuckARN, testArchiveBuckARN + "/archive/*", testArchiveBuckARN + "/athena=results/*"}},
		{"DailyCheckScheduleRole", "", "", nil, nil},
	} {
		t.Run(c.role+" "+c.reader, func(t *testing.T) {
			rr := r
			if c.reader != "" {
				rr = orgResolver(t, map[string]string{"KmsKeyArn": testKeyARN, "DailyCheckReader": c.reader})
			}
			var actions []string
			for _, g := range kmsGrants(t, rr, c.role) {
				a, rest, _ := strings.Cut(g, " on ")
				if res, _, _ := strings.Cut(rest, " if "); res != testKeyARN {
					t.Errorf("%s on %s, want the key only", a, res)
				}
				actions = append(actions, a)
			}
			if !slices.Equal(actions, c.actions) {
				t.Errorf("KMS actions %v, want %v", actions, c.actions)
			}
			if c.sid == "" {
				return
			}
			s := statement(t, rr, c.role, c.sid)
			if s == nil {
				t.Fatalf("no statement %s", c.sid)
			}
			if got := lookup(s, "Condition", "StringEquals", "kms:ViaService"); got != testS3Service {
				t.Errorf("kms:ViaService %v, want %s", got, testS3Service)
			}
			got := asStrings(lookup(s, "Condition", "StringLike", "kms:EncryptionContext:aws:s3:arn"))
			if !reflect.DeepEqual(got, c.contexts) {
				t.Errorf("encryption context %v, want %v", got, c.contexts)
			}
		})
	}
}

// Stream records of tables under customer-managed keys: kms:Decrypt for
// the function on exactly those keys, through DynamoDB, and nothing when
// the parameter is empty.
func TestOrgSourceTableKeys(t *testing.T) {
	if g := kmsGrants(t, orgResolver(t, nil), "ArchiverFunctionRole"); len(g) > 0 {
		t.Errorf("without SourceTableKmsKeyArns the function has %v", g)
	}
	r := orgResolver(t, map[string]string{"SourceTableKmsKeyArns": strings.Join(testTableKeyARNs, ",")})
	var got []string
	for _, g := range kmsGrants(t, r, "ArchiverFunctionRole") {
		a, rest, _ := strings.Cut(g, " on ")
		res, _, _ := strings.Cut(rest, " if ")
		if a != "kms:Decrypt" {
			t.Errorf("the function may %s on %s; it only decrypts stream records", a, res)
		}
		got = append(got, res)
	}
	if want := slices.Sorted(slices.Values(testTableKeyARNs)); !slices.Equal(got, want) {
		t.Errorf("kms:Decrypt on %v, want %v", got, want)
	}
	s := statement(t, r, "ArchiverFunctionRole", "DecryptTableStreams")
	if v := lookup(s, "Condition", "StringEquals", "kms:ViaService"); v != testDDBService {
		t.Errorf("kms:ViaService %v, want %s", v, testDDBService)
	}
	for _, role := range []string{"FirehoseRole", "DailyCheckFunctionRole"} {
		if g := kmsGrants(t, r, role); len(g) > 0 {
			t.Errorf("%s has %v; only the function reads the streams", role, g)
		}
	}
}

// refsTo lists where v still refers to the resource id.
func refsTo(v any, id string, path string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := samtemplate.RefName(x); ok && name == id {
			*out = append(*out, path)
			return
		}
		if res, _, ok := samtemplate.GetAtt(x); ok && res == id {
			*out = append(*out, path)
			return
		}
		if s, ok := x["Fn::Sub"]; ok && strings.Contains(fmt.Sprint(s), "${"+id) {
			*out = append(*out, path)
			return
		}
		for k, e := range x {
			refsTo(e, id, path+"."+k, out)
		}
	case []any:
		for i, e := range x {
			refsTo(e, id, path+"."+strconv.Itoa(i), out)
		}
	}
}

// With ExistingArchiveBucket the stack creates no archive bucket, and
// every writer and reader of the archive names the given bucket.
func TestOrgExistingBucket(t *testing.T) {
	tpl := loadTemplate(t)
	params := orgParams(map[string]string{"ExistingArchiveBucket": testExisting, "ExistingArchiveBucketOwner": testOwner, "CreateDemoTable": "true", "AlarmTopicArn": testTopicARN})
	// Unresolved, so that a leftover reference to the bucket shows.
	raw := newResolver(t, tpl, params)
	if refused := checkRules(t, tpl, raw); len(refused) > 0 {
		t.Fatalf("the Rules refuse the stack: %q", refused)
	}
	for _, id := range []string{"ArchiveBucket", "ArchiveBucketPolicy"} {
		if exists(t, raw, id) {
			t.Errorf("%s is created with ExistingArchiveBucket", id)
		}
	}
	if !exists(t, raw, "FailedBatchesBucket") {
		t.Error("no failed-batches bucket")
	}
	var leftover []string
	for id, res := range raw.Template().Resources {
		if !exists(t, raw, id) {
			continue
		}
		v, err := raw.ResolvePartial(res.Properties)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		refsTo(v, "ArchiveBucket", id, &leftover)
	}
	for name, o := range raw.Template().Outputs {
		v, err := raw.ResolvePartial(o)
		if err != nil {
			t.Fatalf("output %s: %v", name, err)
		}
		refsTo(v, "ArchiveBucket", "Outputs."+name, &leftover)
	}
	if len(leftover) > 0 {
		slices.Sort(leftover)
		t.Errorf("with no ArchiveBucket these still refer to it: %v", leftover)
	}

	r := deployed(newResolver(t, tpl, params))
	if got := lookup(resource(t, r, "ArchiveStream"), "ExtendedS3DestinationConfiguration", "BucketARN"); got != testExistARN {
		t.Errorf("Firehose BucketARN %v, want %s", got, testExistARN)
	}
	if env := dailyCheckEnv(t, r); env["ARCHIVE_BUCKET"] != testExisting {
		t.Errorf("daily check ARCHIVE_BUCKET %q, want %s", env["ARCHIVE_BUCKET"], testExisting)
	}
	table := resource(t, r, "ArchiveTable")
	if got := lookup(table, "TableInput", "StorageDescriptor", "Location"); got != "s3://"+testExisting+"/archive/" {
		t.Errorf("Glue table Location %v", got)
	}
	if got := lookup(table, "TableInput", "Parameters", "storage.location.template"); got != "s3://"+testExisting+"/archive/table=${table_name}/dt=${dt}/" {
		t.Errorf("Glue storage.location.template %v", got)
	}
	rc := lookup(resource(t, r, "DailyCheckWorkGroup"), "WorkGroupConfiguration", "ResultConfiguration")
	if got := lookup(rc, "OutputLocation"); got != "s3://"+testExisting+"/athena=results/" {
		t.Errorf("workgroup OutputLocation %v", got)
	}
	if got := lookup(rc, "ExpectedBucketOwner"); got != testOwner {
		t.Errorf("workgroup ExpectedBucketOwner %v, want %s", got, testOwner)
	}
	for _, name := range []string{"ArchiveBucketName", "ArchiveLocation", "FirehoseErrorLocation"} {
		v, err := r.String(r.Template().Outputs[name].(map[string]any)["Value"])
		if err != nil || !strings.Contains(v, testExisting) {
			t.Errorf("output %s = %q (%v), want the existing bucket", name, v, err)
		}
	}
	// Every S3 grant on the archive names the given bucket, and holds only
	// while the given account owns it.
	owner := `"s3:ResourceAccount":"` + testOwner + `"`
	for _, role := range []string{"FirehoseRole", "DailyCheckFunctionRole"} {
		n := 0
		for _, g := range grants(t, r, role) {
			if !strings.HasPrefix(g, "s3:") {
				continue
			}
			n++
			if !strings.Contains(g, " on "+testExistARN) {
				t.Errorf("%s: %s, want the existing bucket", role, g)
			}
			if !strings.Contains(g, owner) {
				t.Errorf("%s: %s does not check the bucket's owner", role, g)
			}
		}
		if n == 0 {
			t.Errorf("%s has no S3 grant on the existing bucket", role)
		}
	}
	// The function writes to the failed-batches bucket only.
	for _, g := range grants(t, r, "ArchiverFunctionRole") {
		if strings.Contains(g, testExisting) {
			t.Errorf("the function may %s", g)
		}
	}
	// Every alarm still exists and notifies.
	if got, want := len(existing(t, r, "AWS::CloudWatch::Alarm")), len(existing(t, deployed(newResolver(t, tpl, orgParams(map[string]string{"CreateDemoTable": "true"}))), "AWS::CloudWatch::Alarm")); got != want || got == 0 {
		t.Errorf("%d alarms with an existing bucket, %d without", got, want)
	}
}

// Object Lock on the bucket the stack creates: versioning (which Object
// Lock needs) and a default retention in the mode and days given.
func TestOrgObjectLock(t *testing.T) {
	for _, mode := range []string{"GOVERNANCE", "COMPLIANCE"} {
		t.Run(mode, func(t *testing.T) {
			r := orgResolver(t, map[string]string{"ObjectLockMode": mode, "ObjectLockRetentionDays": "2555"})
			p := resource(t, r, "ArchiveBucket")
			if p["ObjectLockEnabled"] != true {
				t.Errorf("ObjectLockEnabled = %v, want true", p["ObjectLockEnabled"])
			}
			want := map[string]any{"ObjectLockEnabled": "Enabled", "Rule": map[string]any{"DefaultRetention": map[string]any{"Mode": mode, "Days": "2555"}}}
			if got := p["ObjectLockConfiguration"]; !reflect.DeepEqual(got, want) {
				t.Errorf("ObjectLockConfiguration %v, want %v", got, want)
			}
			if v := lookup(p, "VersioningConfiguration", "Status"); v != "Enabled" {
				t.Errorf("versioning %v: Object Lock needs it Enabled", v)
			}
			if _, ok := resource(t, r, "FailedBatchesBucket")["ObjectLockConfiguration"]; ok {
				t.Error("the failed-batches bucket is locked too; batches must be removable once redriven")
			}
		})
	}
	tpl := loadTemplate(t)
	for _, bad := range []string{"0", "36501"} {
		if err := tpl.Parameters["ObjectLockRetentionDays"].Check(bad); err == nil {
			t.Errorf("ObjectLockRetentionDays=%s accepted", bad)
		}
	}
	if err := tpl.Parameters["ObjectLockMode"].Check("LEGAL_HOLD"); err == nil {
		t.Error("ObjectLockMode=LEGAL_HOLD accepted")
	}
}

// Server access logs of the buckets the stack creates: into a bucket given
// by name, or into one the stack creates whose policy lets S3's logging
// service write for those buckets only.
func TestOrgAccessLogging(t *testing.T) {
	logging := func(r *samtemplate.Resolver, id string) any { return resource(t, r, id)["LoggingConfiguration"] }
	for _, c := range []struct {
		name   string
		params map[string]string
		dest   any // want DestinationBucketName
		logged []string
	}{
		{"given bucket", map[string]string{"AccessLogBucket": testLogBucket}, testLogBucket, []string{"ArchiveBucket", "FailedBatchesBucket"}},
		{"created bucket", map[string]string{"AccessLogBucket": "CREATE"}, "ref-AccessLogsBucket", []string{"ArchiveBucket", "FailedBatchesBucket"}},
		{"created, existing archive", map[string]string{"AccessLogBucket": "CREATE", "ExistingArchiveBucket": testExisting, "ExistingArchiveBucketOwner": testOwner}, "ref-AccessLogsBucket", []string{"FailedBatchesBucket"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := orgResolver(t, c.params)
			prefixes := map[string]bool{}
			for _, id := range c.logged {
				lc := logging(r, id)
				if got := lookup(lc, "DestinationBucketName"); got != c.dest {
					t.Errorf("%s logs to %v, want %v", id, got, c.dest)
				}
				prefix, _ := lookup(lc, "LogFilePrefix").(string)
				if !strings.HasPrefix(prefix, "ttl-archiver/") || prefixes[prefix] {
					t.Errorf("%s LogFilePrefix %q, want one of its own under the stack's name", id, prefix)
				}
				prefixes[prefix] = true
			}
			created := c.params["AccessLogBucket"] == "CREATE"
			if exists(t, r, "AccessLogsBucket") != created {
				t.Fatalf("AccessLogsBucket exists = %v, want %v", !created, created)
			}
			if !created {
				return
			}
			lb := resource(t, r, "AccessLogsBucket")
			if _, ok := lb["LoggingConfiguration"]; ok {
				t.Error("the access-logs bucket logs itself")
			}
			if _, ok := lb["ObjectLockConfiguration"]; ok {
				t.Error("the access-logs bucket has Object Lock: S3 refuses it as a log destination")
			}
			pol := resource(t, r, "AccessLogsBucketPolicy")
			var allow map[string]any
			stmts, _ := lookup(pol, "PolicyDocument", "Statement").([]any)
			for _, s := range stmts {
				if m := s.(map[string]any); m["Effect"] == "Allow" {
					allow = m
				}
			}
			if got := lookup(allow, "Principal", "Service"); got != "logging.s3.amazonaws.com" || allow["Action"] != "s3:PutObject" {
				t.Errorf("log delivery statement %v, want logging.s3.amazonaws.com s3:PutObject", allow)
			}
			if got := lookup(allow, "Condition", "StringEquals", "aws:SourceAccount"); got != "210987654321" {
				t.Errorf("aws:SourceAccount %v, want the stack's account", got)
			}
			var want []string
			for _, id := range c.logged {
				want = append(want, "arn:AWS::S3::Bucket:"+id)
			}
			if id := c.logged[0]; id == "ArchiveBucket" {
				want[0] = testArchiveBuckARN
			}
			if got := asStrings(lookup(allow, "Condition", "ArnLike", "aws:SourceArn")); !reflect.DeepEqual(got, want) {
				t.Errorf("aws:SourceArn %v, want %v", got, want)
			}
		})
	}
	r := orgResolver(t, nil)
	for _, id := range []string{"ArchiveBucket", "FailedBatchesBucket"} {
		if lc := logging(r, id); lc != nil {
			t.Errorf("%s logs to %v by default", id, lc)
		}
	}
}

// The Rules refuse, before anything is created, what would break the
// stack or quietly lose something.
func TestOrgGuardRails(t *testing.T) {
	tpl := loadTemplate(t)
	cases := []struct {
		name   string
		params map[string]string
		refuse string // rule name, "" for accepted
	}{
		{"defaults with a recipient", nil, ""},
		{"no alarm recipient", map[string]string{"AlarmEmail": ""}, "AlarmRecipient"},
		{"no recipient, opted out", map[string]string{"AlarmEmail": "", "AlarmsWithoutRecipient": "true"}, ""},
		{"topic only", map[string]string{"AlarmEmail": "", "AlarmTopicArn": testTopicARN}, ""},
		{"error folder is the archive", map[string]string{"ArchivePrefix": "data/", "ErrorPrefix": "data/"}, "ErrorPrefixOutsideArchive"},
		{"archive inside the error folder", map[string]string{"ArchivePrefix": "data/archive/", "ErrorPrefix": "data/"}, ""},
		{"GLACIER", map[string]string{"TransitionStorageClass": "GLACIER"}, "ThawBeforeRestore"},
		{"DEEP_ARCHIVE", map[string]string{"TransitionStorageClass": "DEEP_ARCHIVE", "TransitionDays": "365"}, "ThawBeforeRestore"},
		{"GLACIER, thaw accepted", map[string]string{"TransitionStorageClass": "GLACIER", "AcceptThawBeforeRestore": "true"}, ""},
		{"GLACIER, no transition", map[string]string{"TransitionStorageClass": "GLACIER", "TransitionDays": "0"}, ""},
		{"existing bucket, no owner", map[string]string{"ExistingArchiveBucket": testExisting}, "ExistingBucketOwner"},
		{"Object Lock on an existing bucket", map[string]string{"ExistingArchiveBucket": testExisting, "ExistingArchiveBucketOwner": testOwner, "ObjectLockMode": "GOVERNANCE"}, "ObjectLockOnCreatedBucket"},
		{"access logs into the archive", map[string]string{"ExistingArchiveBucket": testExisting, "ExistingArchiveBucketOwner": testOwner, "AccessLogBucket": testExisting}, "AccessLogsElsewhere"},
		{"everything at once", map[string]string{"KmsKeyArn": testKeyARN, "SourceTableKmsKeyArns": testTableKeyARNs[0], "ObjectLockMode": "COMPLIANCE", "AccessLogBucket": "CREATE", "Tracing": "PassThrough", "CreateDemoTable": "true"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused := checkRules(t, tpl, newResolver(t, tpl, orgParams(c.params)))
			var rules []string
			for _, f := range refused {
				name, _, _ := strings.Cut(f, ":")
				rules = append(rules, name)
			}
			want := []string{}
			if c.refuse != "" {
				want = []string{c.refuse}
			}
			if rules == nil {
				rules = []string{}
			}
			if !reflect.DeepEqual(rules, want) {
				t.Errorf("the Rules refuse %q, want %v", refused, want)
			}
		})
	}

	// Every lifecycle the parameters allow, against S3's own conditions
	// written here independently of the Rules: STANDARD_IA only from 30
	// days, and expiry strictly after the transition.
	// The template's Parameters and Rules only, so that each of the few
	// hundred resolvers does not expand the whole template again.
	doc, err := json.Marshal(map[string]any{
		"Parameters": tpl.Raw["Parameters"], "Rules": tpl.Raw["Rules"],
		"Resources": map[string]any{"Nothing": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rulesOnly, err := samtemplate.Parse(doc)
	if err != nil {
		t.Fatalf("Parse(Parameters and Rules): %v", err)
	}
	trans, expire := tpl.Parameters["TransitionDays"].AllowedValues, tpl.Parameters["ExpireDays"].AllowedValues
	if len(trans) == 0 || len(expire) == 0 {
		t.Fatal("TransitionDays and ExpireDays have no AllowedValues")
	}
	for _, class := range []string{"GLACIER_IR", "STANDARD_IA", "INTELLIGENT_TIERING"} {
		for _, ts := range trans {
			for _, es := range expire {
				td, _ := strconv.Atoi(ts)
				ed, _ := strconv.Atoi(es)
				s3Refuses := td > 0 && ((class == "STANDARD_IA" && td < 30) || (ed > 0 && ed <= td))
				refused := checkRules(t, rulesOnly, newResolver(t, rulesOnly, orgParams(map[string]string{"TransitionStorageClass": class, "TransitionDays": ts, "ExpireDays": es})))
				if (len(refused) > 0) != s3Refuses {
					t.Errorf("%s after %s days, expiry %s: the Rules refuse %q, S3 refuses=%v", class, ts, es, refused, s3Refuses)
				}
			}
		}
	}
}

// Log groups are kept with the stack, for a year by default, and named per
// stack instance, so that deploying the same stack name again after sam
// delete does not collide with the kept groups.
func TestOrgLogGroups(t *testing.T) {
	tpl := loadTemplate(t)
	if d := tpl.Parameters["LogRetentionDays"].Default; d != "365" {
		t.Errorf("LogRetentionDays default %s, want 365 (CloudWatch.16)", d)
	}
	names := func(stackID string) map[string]string {
		r := deployed(newResolver(t, tpl, orgParams(nil)))
		r.Pseudo["AWS::StackId"] = stackID
		out := map[string]string{}
		for _, lg := range existing(t, r, "AWS::Logs::LogGroup") {
			if lg.DeletionPolicy != "Retain" || lg.UpdateReplacePolicy != "Retain" {
				t.Errorf("%s DeletionPolicy/UpdateReplacePolicy %q/%q, want Retain/Retain", lg.LogicalID, lg.DeletionPolicy, lg.UpdateReplacePolicy)
			}
			p := props(t, r, lg)
			if days, _ := strconv.Atoi(fmt.Sprint(p["RetentionInDays"])); days < 365 {
				t.Errorf("%s RetentionInDays %v, want 365 or more", lg.LogicalID, p["RetentionInDays"])
			}
			name, err := r.String(lg.Properties["LogGroupName"])
			if err != nil {
				t.Fatalf("%s LogGroupName: %v", lg.LogicalID, err)
			}
			out[lg.LogicalID] = name
		}
		return out
	}
	first := names("arn:aws:cloudformation:eu-west-1:210987654321:stack/ttl-archiver/1b2c3d4e-aaaa-bbbb-cccc-1234567890ab")
	again := names("arn:aws:cloudformation:eu-west-1:210987654321:stack/ttl-archiver/9f8e7d6c-aaaa-bbbb-cccc-1234567890ab")
	if want := "/ttl-archiver/ttl-archiver/1b2c3d4e/function"; first["ArchiverLogGroup"] != want {
		t.Errorf("function log group %q, want %q", first["ArchiverLogGroup"], want)
	}
	if len(first) != 3 {
		t.Errorf("log groups %v, want 3", first)
	}
	for id, name := range first {
		if again[id] == name {
			t.Errorf("%s is %q for both stacks of that name: the second deploy would fail with already exists", id, name)
		}
	}
}

// X-Ray tracing, on by default, with the write permissions Lambda checks
// for when tracing is Active.
func TestOrgTracing(t *testing.T) {
	xray := []string{"xray:PutTelemetryRecords on *", "xray:PutTraceSegments on *"}
	for _, c := range []struct {
		mode string
		want []string
	}{{"", xray}, {"Active", xray}, {"PassThrough", nil}} {
		var params map[string]string // "": the default
		if c.mode != "" {
			params = map[string]string{"Tracing": c.mode}
		}
		r := orgResolver(t, params)
		for fn, role := range map[string]string{"ArchiverFunction": "ArchiverFunctionRole", "DailyCheckFunction": "DailyCheckFunctionRole"} {
			want := c.mode
			if want == "" {
				want = "Active"
			}
			if got := resource(t, r, fn)["Tracing"]; got != want {
				t.Errorf("Tracing=%q: %s Tracing %v, want %s", c.mode, fn, got, want)
			}
			var got []string
			for _, g := range grants(t, r, role) {
				if strings.HasPrefix(g, "xray:") {
					got = append(got, g)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Tracing=%q: %s X-Ray grants %v, want %v", c.mode, role, got, c.want)
			}
		}
	}
}

func TestOrgDemoTablePITR(t *testing.T) {
	r := orgResolver(t, map[string]string{"CreateDemoTable": "true"})
	if got := lookup(resource(t, r, "DemoTable"), "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); got != true {
		t.Errorf("demo table PITR %v, want true (DynamoDB.2)", got)
	}
}

// cfn-lint, given each option's values, finds nothing: the properties the
// conditions select are valid for their resource types. `make test` lints
// the template as written; this lints it with each set of values.
func TestOrgCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cfn-lint not on PATH (make tools)")
		}
		t.Skip("cfn-lint not on PATH")
	}
	sets := map[string]map[string]string{
		"defaults":        nil,
		"kms":             {"KmsKeyArn": testKeyARN, "SourceTableKmsKeyArns": strings.Join(testTableKeyARNs, ",")},
		"existing bucket": {"ExistingArchiveBucket": testExisting, "ExistingArchiveBucketOwner": testOwner, "AccessLogBucket": "CREATE"},
		"object lock":     {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetentionDays": "3650"},
		"logging":         {"AccessLogBucket": testLogBucket, "Tracing": "PassThrough", "CreateDemoTable": "true"},
	}
	tpl := filepath.Join(repoRoot(t), "template.yaml")
	for name, extra := range sets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--non-zero-exit-code", "informational", "--format", "json", tpl, "--parameters"}
			for k, v := range orgParams(extra) {
				args = append(args, k+"="+v)
			}
			out, err := exec.Command(lint, args...).Output()
			var findings []map[string]any
			_ = json.Unmarshal(out, &findings)
			if err != nil || len(findings) > 0 {
				t.Errorf("cfn-lint %v: %v\n%s", extra, err, out)
			}
		})
	}
}
