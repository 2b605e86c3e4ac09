package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ttl-archiver/ttl-archiver/internal/clitest"
)

// The conventions of issue 25 (flags, empty results, help, AWS flags,
// --output json, version, validation, dry runs, errors last), each run
// as a user would: through the built binary where the issue says so.

// runBinary runs the built command (internal/clitest) with vars as its
// only environment besides PATH and a fresh HOME.
func runBinary(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return clitest.Run(t, vars, args...)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestSingleDashLongFlags: a long flag with one dash is refused, with a
// hint, by every command; shorthands keep working.
func TestSingleDashLongFlags(t *testing.T) {
	code, out, errOut := runBinary(t, nil, "restore", "-table=Orders2", "--from", t.TempDir(), "--dry-run")
	if code != exitUsage || !strings.Contains(errOut, "-table=Orders2: did you mean --table?") {
		t.Errorf("restore -table=Orders2: exit %d, stderr %q, want %d and the hint; stdout %s", code, errOut, exitUsage, out)
	}
	// Every command, with one of its own long flags.
	for _, c := range newRootCmd().Commands() {
		var name string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if name == "" && f.Name != "help" && len(f.Name) > 1 {
				name = f.Name
			}
		})
		if name == "" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, _, errOut := runCLI(t, "", c.Name(), "-"+name+"=x")
			if want := fmt.Sprintf("-%s=x: did you mean --%s?", name, name); code != exitUsage || !strings.Contains(errOut, want) {
				t.Errorf("%s -%s=x: exit %d, stderr %q, want %d and %q", c.Name(), name, code, errOut, exitUsage, want)
			}
		})
	}
	dir := demoArchive(t)
	for _, args := range [][]string{
		{"cat", "-c", "-s", "Sessions", dir},
		{"cat", "-c", "-sSessions", dir},
		{"cat", "-cs", "Sessions", dir},
		{"cat", "--count", "--since", "2025-11-23", "-s=Sessions", dir},
	} {
		code, out, errOut := runBinary(t, nil, args...)
		if code != 0 || out != "2\n" {
			t.Errorf("ttl-archiver %v: exit %d, stdout %q, want 0 and 2; stderr %s", args, code, out, errOut)
		}
	}
	code, out, errOut = runBinary(t, nil, "restore", "-n", "-f", dir, "-t", "Orders", "-s", "Orders")
	if code != 0 || !strings.Contains(errOut, "dry run: 3 items would be written") {
		t.Errorf("restore -n -f DIR -t Orders -s Orders: exit %d, want 0 and 3 items; stdout %s; stderr %s", code, out, errOut)
	}
}

// TestNoSilentEmptyResults: an empty location, and a filter that matches
// nothing, say so and exit 3; the filter's message names what was seen.
func TestNoSilentEmptyResults(t *testing.T) {
	empty := t.TempDir()
	dir := demoArchive(t)
	srv, _ := fakeFirehoseServer(t, false)
	fh := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL_FIREHOSE": srv.URL}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want []string
	}{
		{"cat empty", nil, []string{"cat", empty}, []string{"no archive objects under " + empty}},
		{"cat count empty", nil, []string{"cat", "--count", empty}, []string{"no archive objects"}},
		{"cat wrong case", nil, []string{"cat", "--source-table", "orders", dir},
			[]string{"no line matches table orders", "Orders (3 lines, 2025-11-23)", "Sessions (2 lines, 2025-11-23)", "did you mean --source-table Orders?"}},
		{"cat days", nil, []string{"cat", "-s", "Orders", "--since", "2026-01-01", dir}, []string{"deleted at or after 2026-01-01", "Orders (3 lines, 2025-11-23)"}},
		{"restore empty", nil, []string{"restore", "--dry-run", "--from", empty, "--table", "T"}, []string{"no archive objects under " + empty}},
		{"restore wrong case", nil, []string{"restore", "--dry-run", "--from", dir, "--table", "T", "-s", "orders"}, []string{"did you mean --source-table Orders?"}},
		{"export-import empty", nil, []string{"export-import", "--from", empty, "--to", filepath.Join(t.TempDir(), "x")}, []string{"no archive objects under " + empty}},
		{"export-import wrong case", nil, []string{"export-import", "--from", dir, "-s", "orders", "--to", filepath.Join(t.TempDir(), "x")}, []string{"did you mean --source-table Orders?"}},
		{"redrive empty", nil, []string{"redrive", "--from", empty, "--stream", "s"}, []string{"no archive objects under " + empty}},
		{"redrive empty, AWS configured", fh, []string{"redrive", "--from", empty, "--stream", "s"}, []string{"no archive objects under " + empty}},
		{"verify empty", nil, []string{"verify", "--from", empty, "--since", "2025-11-20", "--until", "2025-11-21"}, []string{"no archive objects under " + empty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runBinary(t, tt.vars, tt.args...)
			if code != exitIncomplete {
				t.Errorf("%v: exit %d, want %d\nstdout %s\nstderr %s", tt.args, code, exitIncomplete, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(lastLine(errOut), w) {
					t.Errorf("%v: last line of stderr %q lacks %q", tt.args, lastLine(errOut), w)
				}
			}
		})
	}
}

// TestHelpForPeople: no boolean shows pflag's [=true|false], every
// command has an example, and the root help keeps the exit codes.
func TestHelpForPeople(t *testing.T) {
	code, out, _ := runBinary(t, nil, "--help")
	for _, w := range []string{"Exit codes: 0 complete; 1 stopped by an error; 2 bad command line;", "130 interrupted", "Examples:", "version"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("ttl-archiver --help: exit %d, lacks %q:\n%s", code, w, out)
		}
	}
	for _, c := range newRootCmd().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, out, errOut := runBinary(t, nil, c.Name(), "--help")
			if code != 0 {
				t.Fatalf("%s --help: exit %d; stderr %s", c.Name(), code, errOut)
			}
			if strings.Contains(out, "[=true|false]") || strings.Contains(out, "[=") {
				t.Errorf("%s --help shows an optional-value notation:\n%s", c.Name(), out)
			}
			if !strings.Contains(out, "Examples:\n  ttl-archiver "+c.Name()) {
				t.Errorf("%s --help has no example:\n%s", c.Name(), out)
			}
			if !regexp.MustCompile(`(?m)^  -h, --help +help for`).MatchString(out) {
				t.Errorf("%s --help: the flags are not listed as pflag lays them out:\n%s", c.Name(), out)
			}
		})
	}
}

// fakeS3 answers ListObjectsV2 with an empty bucket and records, for
// each request, the region and access key of its signature.
type fakeS3 struct {
	*httptest.Server
	mu   sync.Mutex
	sigs []string // "AKID/region"
}

var credentialScope = regexp.MustCompile(`Credential=([^/]+)/\d+/([^/]+)/`)

func newFakeS3(t *testing.T) *fakeS3 {
	f := &fakeS3{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
		f.mu.Lock()
		if m != nil {
			f.sigs = append(f.sigs, m[1]+"/"+m[2])
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeS3) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sigs) == 0 {
		return ""
	}
	return f.sigs[len(f.sigs)-1]
}

// TestAWSFlags: --region, --profile and --endpoint-url, on every command
// that calls AWS, win over the environment, which wins over the config
// file, as in the AWS CLI; the environment variables keep working.
func TestAWSFlags(t *testing.T) {
	root := newRootCmd()
	for _, name := range []string{"cat", "restore", "export-import", "redrive", "invoke", "verify", "doctor"} {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"region", "profile", "endpoint-url"} {
			if c.Flags().Lookup(f) == nil {
				t.Errorf("%s has no --%s", name, f)
			}
		}
	}
	good, dead := newFakeS3(t), newFakeS3(t)
	dead.Close()
	cfgDir := t.TempDir()
	config := filepath.Join(cfgDir, "config")
	if err := os.WriteFile(config, []byte("[profile p]\nregion = ap-south-1\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envKeys := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{"AWS_CONFIG_FILE": config}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string // AKID/region the request was signed with
	}{
		{"environment", with(envKeys, "AWS_REGION", "eu-west-1", "AWS_ENDPOINT_URL_S3", good.URL), nil, "AKIDENV/eu-west-1"},
		{"region flag over environment", with(envKeys, "AWS_REGION", "eu-west-1", "AWS_ENDPOINT_URL_S3", good.URL), []string{"--region", "us-west-2"}, "AKIDENV/us-west-2"},
		{"config file through AWS_PROFILE", with(nil, "AWS_PROFILE", "p", "AWS_ENDPOINT_URL_S3", good.URL), nil, "AKIDPROFILE/ap-south-1"},
		{"environment region over config file", with(nil, "AWS_PROFILE", "p", "AWS_REGION", "eu-west-1", "AWS_ENDPOINT_URL_S3", good.URL), nil, "AKIDPROFILE/eu-west-1"},
		{"profile flag over environment keys", with(envKeys, "AWS_ENDPOINT_URL_S3", good.URL), []string{"--profile", "p"}, "AKIDPROFILE/ap-south-1"},
		{"endpoint flag over environment", with(envKeys, "AWS_REGION", "eu-west-1", "AWS_ENDPOINT_URL_S3", dead.URL, "AWS_ENDPOINT_URL", dead.URL), []string{"--endpoint-url", good.URL}, "AKIDENV/eu-west-1"},
	}
	for _, tt := range tests {
		for _, cmd := range [][]string{
			{"cat", "s3://b/p/"},
			{"restore", "--dry-run", "--from", "s3://b/p/", "--table", "T"},
			{"export-import", "--from", "s3://b/p/", "--to", filepath.Join(t.TempDir(), "x")},
		} {
			t.Run(tt.name+"/"+cmd[0], func(t *testing.T) {
				args := append(append([]string(nil), cmd...), tt.args...)
				code, out, errOut := runBinary(t, tt.vars, args...)
				// The fake bucket is empty: the command got through.
				if code != exitIncomplete || !strings.Contains(errOut, "no archive objects under s3://b/p/") {
					t.Fatalf("%v: exit %d, want %d and an empty archive\nstdout %s\nstderr %s", args, code, exitIncomplete, out, errOut)
				}
				if got := good.last(); got != tt.want {
					t.Errorf("%v: request signed as %s, want %s", args, got, tt.want)
				}
			})
		}
	}
	code, _, errOut := runBinary(t, nil, "cat", "--region", "eu-west-1", "s3://b/p/")
	if code != exitError || !strings.Contains(errOut, "no AWS credentials: give --profile") {
		t.Errorf("cat --region without credentials: exit %d, stderr %q, want %d and a hint", code, errOut, exitError)
	}
	code, _, errOut = runBinary(t, nil, "invoke", "--region", "eu-west-1", "x.json")
	if code != exitUsage || !strings.Contains(errOut, "are for --stream") {
		t.Errorf("invoke --region without --stream: exit %d, stderr %q, want %d", code, errOut, exitUsage)
	}
}

// decodeOne decodes stdout as exactly one JSON object.
func decodeOne(t *testing.T, stdout string, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(stdout))
	if err := d.Decode(v); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("stdout %q holds more than one JSON value", stdout)
	}
}

// TestOutputJSON: --output json prints one object on stdout, of the
// documented shape, for cat --count, restore, export-import and redrive;
// messages stay on stderr.
func TestOutputJSON(t *testing.T) {
	dir := demoArchive(t)
	code, out, errOut := runBinary(t, nil, "cat", "--count", "-s", "Orders", "--output", "json", dir)
	var c map[string]any
	decodeOne(t, out, &c)
	if code != 0 || c["matched"] != 3.0 || c["lines"] != 5.0 || c["objects"] != 2.0 || c["error"] != "" {
		t.Errorf("cat --count --output json: exit %d, %v; stderr %s", code, c, errOut)
	}
	code, _, errOut = runBinary(t, nil, "cat", "--output", "json", dir)
	if code != exitUsage || !strings.Contains(errOut, "--output json goes with --count") {
		t.Errorf("cat --output json without --count: exit %d, stderr %s", code, errOut)
	}

	code, out, errOut = runBinary(t, nil, "restore", "--dry-run", "--from", dir, "--table", "Orders", "-s", "Orders", "-o", "json")
	var r restoreReport
	decodeOne(t, out, &r)
	want := restoreReport{Complete: true, DryRun: true, Table: "Orders", Objects: 2, Lines: 5, Items: 3, LeftOut: leftOutReport{Filtered: 2}}
	if code != 0 || r != want {
		t.Errorf("restore --dry-run --output json: exit %d,\n got %+v\nwant %+v\nstderr %s", code, r, want, errOut)
	}

	to := filepath.Join(t.TempDir(), "import")
	code, out, errOut = runBinary(t, map[string]string{"AWS_REGION": "eu-west-1"}, "export-import", "--from", dir, "-s", "Orders", "--to", to, "--output", "json")
	var x exportReport
	decodeOne(t, out, &x)
	if code != 0 || !x.Complete || x.Exported != 3 || len(x.Parts) != 1 || x.Table != "Orders-restored" || len(x.Keys) != 2 ||
		!strings.Contains(x.Command, "aws dynamodb import-table --region eu-west-1") {
		t.Errorf("export-import --output json: exit %d, %+v; stderr %s", code, x, errOut)
	}

	srv, _ := fakeFirehoseServer(t, false)
	vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL_FIREHOSE": srv.URL}
	recs := writeObjects(t, map[string][]byte{"rec": []byte(failureRecord(t))})
	code, out, errOut = runBinary(t, vars, "redrive", "--from", recs, "--stream", "s", "--output", "json")
	var d redriveReport
	decodeOne(t, out, &d)
	if wantD := (redriveReport{Complete: true, Stream: "s", Objects: 1, Records: 1, Archived: 1}); code != 0 || d != wantD || !strings.Contains(errOut, "rec: 1 records, 1 TTL deletions archived") {
		t.Errorf("redrive --output json: exit %d,\n got %+v\nwant %+v\nstderr %s", code, d, wantD, errOut)
	}

	code, out, errOut = runBinary(t, nil, "version", "--output", "json")
	var v buildInfo
	decodeOne(t, out, &v)
	if code != 0 || v.Version != "v9.8.7" || v.Commit != "0123456789abcdef" || v.ArchiveFormat != 1 || !strings.HasPrefix(v.Go, "go1.") {
		t.Errorf("version --output json: exit %d, %+v; stderr %s", code, v, errOut)
	}
}

// failureRecord is an S3 on-failure record of one TTL deletion.
func failureRecord(t *testing.T) string {
	event := `{"Records":[{"eventID":"e1","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
		`"dynamodb":{"ApproximateCreationDateTime":1763892000,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}},"SequenceNumber":"111","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"},` +
		`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000"}]}`
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return `{"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},` +
		`"version":"1.0","timestamp":"2025-11-23T10:05:00.000Z","DDBStreamBatchInfo":{"shardId":"shardId-1","startSequenceNumber":"111","endSequenceNumber":"111","batchSize":1,"streamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000"},` +
		`"payload":` + string(payload) + `}`
}

// TestVersionCommand: version and --version print the module version,
// the commit, the Go version and the archive format version.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := runBinary(t, nil, args...)
		for _, w := range []string{"ttl-archiver v9.8.7\n", "commit:         0123456789abcdef\n", "go:             go1.", "archive format: 1\n"} {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("ttl-archiver %v: exit %d, stdout %q lacks %q; stderr %s", args, code, out, w, errOut)
			}
		}
	}
}

// TestValidationUpFront: values that cannot work exit 2 naming the flag,
// before anything is read or called.
func TestValidationUpFront(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"restore", "--from", dir, "--table", "T", "--rate", "-5"}, "--rate -5"},
		{[]string{"restore", "--from", dir, "--table", "T", "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"restore", "--from", dir, "--table", "T", "--concurrency", "-2"}, "--concurrency -2"},
		{[]string{"restore", "--from", dir, "--table", "T", "--since", "2025-02-30"}, "--since"},
		{[]string{"restore", "--from", dir, "--table", "T", "--since", "2025-11-23", "--until", "2025-11-20"}, "since 2025-11-23T00:00:00Z is not before until"},
		{[]string{"restore", "--from", dir, "--table", "T", "--type-hint", "tags=XS"}, `type "XS" is not one of`},
		{[]string{"restore", "--from", dir, "--table", "T", "--output", "yaml"}, `--output "yaml"`},
		{[]string{"cat", "--until", "2025-13-01", dir}, "--until"},
		{[]string{"export-import", "--from", dir, "--to", dir + "x", "--type-hint", "a"}, "--type-hint"},
		{[]string{"serve", "--addr", "nope"}, `--addr "nope": want host:port`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, "the port must be a number from 0 to 65535"},
		{[]string{"serve", "--flush-interval", "-1s"}, "--flush-interval"},
		{[]string{"verify", "--from", dir, "--since", "2025-11-20", "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"invoke", "--timeout", "0s", "x.json"}, "--timeout"},
	}
	for _, tt := range tests {
		code, out, errOut := runBinary(t, nil, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q; stdout %s", tt.args, code, errOut, exitUsage, tt.want, out)
		}
	}
}

// TestDryRunLocalNeedsNoAWS: a dry run of a local archive, and cat and
// export-import of local folders, run with no credentials and no region.
func TestDryRunLocalNeedsNoAWS(t *testing.T) {
	dir := demoArchive(t)
	code, out, errOut := runBinary(t, nil, "restore", "--dry-run", "--from", dir, "--table", "Orders", "-s", "Orders")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(errOut, "dry run: 3 items would be written") {
		t.Errorf("restore --dry-run of a local archive without AWS: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	code, out, errOut = runBinary(t, nil, "export-import", "--from", dir, "-s", "Orders", "--to", filepath.Join(t.TempDir(), "x"))
	if code != 0 || !strings.Contains(out, "3 items exported") {
		t.Errorf("export-import of local folders without AWS: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// Writing needs both, and says so.
	code, _, errOut = runBinary(t, nil, "restore", "--from", dir, "--table", "Orders")
	if code != exitError || !strings.Contains(errOut, "no AWS region: give --region") {
		t.Errorf("restore without --dry-run and without AWS: exit %d, stderr %q, want %d and the missing region", code, errOut, exitError)
	}
}

// TestErrorLast: a command that ends non-zero prints why last, after its
// summary; redrive given what is not an on-failure record names what it
// expected.
func TestErrorLast(t *testing.T) {
	bad := writeObjects(t, map[string][]byte{"x.json": []byte(plainLine("e1", "1", "2025-11-23T10:00:00Z", "a", "1", "") + "not json\n")})
	srv, _ := fakeFirehoseServer(t, false)
	fh := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL_FIREHOSE": srv.URL}
	event := writeObjects(t, map[string][]byte{"ttl-batch.json": mustRead(t, "../../events/ttl-batch.json")})
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string // in the last line of stderr
	}{
		{"restore", nil, []string{"restore", "--dry-run", "--from", bad, "--table", "Orders"}, "ttl-archiver restore: incomplete: 1 lines are not archive lines"},
		{"export-import", nil, []string{"export-import", "--from", bad, "--to", filepath.Join(t.TempDir(), "x")}, "ttl-archiver export-import: incomplete"},
		{"cat", nil, []string{"cat", "--count", bad}, "ttl-archiver cat: incomplete: 1 lines are not archive lines"},
		{"redrive a stream event", fh, []string{"redrive", "--from", event, "--stream", "s"},
			`1 of 1 objects are not on-failure records (see above): want the JSON object Lambda writes to an event source mapping's S3 on-failure destination, with "requestContext", "DDBStreamBatchInfo" and "payload"`},
		{"redrive archive lines", fh, []string{"redrive", "--from", bad, "--stream", "s", "-o", "json"}, "not on-failure records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runBinary(t, tt.vars, tt.args...)
			if code != exitIncomplete || !strings.Contains(lastLine(errOut), tt.want) {
				t.Errorf("%v: exit %d, last line of stderr %q, want %d and %q\nstdout %s\nstderr %s", tt.args, code, lastLine(errOut), exitIncomplete, tt.want, out, errOut)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
