package local_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ttlarchiver "github.com/ttl-archiver/ttl-archiver"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// The function and the command-line tool, built once for these tests.
var bootstrap, cli string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ttl-archiver-samlocal")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	root, err := local.ModuleRoot()
	if err == nil {
		bootstrap, err = local.BuildBootstrap(context.Background(), root, dir)
	}
	if err == nil {
		cli = filepath.Join(dir, "ttl-archiver")
		cmd := exec.Command("go", "build", "-o", cli, "./cmd/ttl-archiver")
		cmd.Dir = root
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("build ttl-archiver: %v\n%s", berr, out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

const functionID = "ArchiverFunction"

// samEnv is the environment sam local invoke gives a function, computed as
// SAM CLI computes it (samcli/local/lambdafn/env_vars.py,
// EnvironmentVariables.resolve): its own AWS_* variables, then each
// variable the template declares for the function, with Ref to a
// parameter resolved to the parameter's default and Ref to a resource to
// the resource's logical id, overridden by the --env-vars file's
// "Parameters" entry and then by its entry for the function. A variable
// the file sets but the template does not declare is not passed on.
func samEnv(t *testing.T, template []byte, envFile []byte) map[string]string {
	t.Helper()
	tmpl, err := samtemplate.Parse(template)
	if err != nil {
		t.Fatalf("parse template: %v", err)
	}
	res, ok := tmpl.Resources[functionID]
	if !ok {
		t.Fatalf("template has no %s", functionID)
	}
	resolve := func(name string, v any) string {
		t.Helper()
		switch v := v.(type) {
		case string:
			return v
		case bool, int, int64, float64:
			return fmt.Sprint(v)
		case map[string]any:
			ref, ok := v["Ref"].(string)
			if !ok || len(v) != 1 {
				t.Fatalf("%s: %v: this test resolves only Ref, as SAM CLI does for the other intrinsics it would need extending", name, v)
			}
			if p, ok := tmpl.Parameters[ref]; ok {
				if !p.HasDefault {
					t.Fatalf("%s: parameter %s has no default: sam local invoke would need --parameter-overrides", name, ref)
				}
				return p.Default
			}
			if _, ok := tmpl.Resources[ref]; ok {
				return ref // what SAM CLI gives a Ref to a resource
			}
			pseudo := map[string]string{"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
			if s, ok := pseudo[ref]; ok {
				return s
			}
			t.Fatalf("%s: Ref %s names no parameter or resource", name, ref)
		}
		t.Fatalf("%s: value %v (%T): want a string, number, bool or Ref", name, v, v)
		return ""
	}
	prop := func(key string) string {
		v, ok := res.Properties[key]
		if !ok {
			return ""
		}
		return resolve(key, v)
	}
	env := map[string]string{
		"AWS_SAM_LOCAL":                   "true",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": prop("MemorySize"),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     prop("Timeout"),
		"AWS_LAMBDA_FUNCTION_HANDLER":     prop("Handler"),
		"AWS_LAMBDA_FUNCTION_NAME":        functionID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "aws/lambda/" + functionID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "$LATEST",
		// With no AWS credentials on the host, SAM CLI's placeholders.
		"AWS_REGION":            "us-east-1",
		"AWS_DEFAULT_REGION":    "us-east-1",
		"AWS_ACCESS_KEY_ID":     "defaultkey",
		"AWS_SECRET_ACCESS_KEY": "defaultsecret",
		"AWS_ACCOUNT_ID":        "123456789012",
	}
	var overrides map[string]map[string]string
	if envFile != nil {
		if err := json.Unmarshal(envFile, &overrides); err != nil {
			t.Fatalf("env file: %v", err)
		}
	}
	vars, _ := samtemplate.Lookup(res.Properties, "Environment", "Variables")
	declared, _ := vars.(map[string]any)
	for name, v := range declared {
		value := resolve(name, v)
		for _, section := range []string{"Parameters", functionID} {
			if o, ok := overrides[section][name]; ok {
				value = o
			}
		}
		env[name] = value
	}
	return env
}

// TestSAMEnvironment checks the environment sam local invoke would give
// the function, with and without events/env.json.
func TestSAMEnvironment(t *testing.T) {
	envFile := readRepoFile(t, "events", "env.json")
	tests := []struct {
		name    string
		envFile []byte
		want    map[string]string // "" means unset or empty
	}{
		// The reason for the env file: alone, the template sends the
		// function to a stream named after the logical id, on real AWS.
		{"template alone", nil, map[string]string{"FIREHOSE_STREAM_NAME": "ArchiveStream", "AWS_ENDPOINT_URL_FIREHOSE": ""}},
		{"events/env.json", envFile, map[string]string{"FIREHOSE_STREAM_NAME": local.Stream, "AWS_ENDPOINT_URL_FIREHOSE": "http://host.docker.internal:" + port(t, local.DefaultServeAddr)}},
		{"an undeclared variable is not passed on", []byte(`{"ArchiverFunction":{"NOT_DECLARED":"x"}}`), map[string]string{"NOT_DECLARED": ""}},
		{"Parameters applies to every function", []byte(`{"Parameters":{"FIREHOSE_STREAM_NAME":"p"}}`), map[string]string{"FIREHOSE_STREAM_NAME": "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := samEnv(t, ttlarchiver.Template, tt.envFile)
			for k, want := range tt.want {
				if got := env[k]; got != want {
					t.Errorf("samEnv %s = %q, want %q", k, got, want)
				}
			}
		})
	}

	// Every variable the file sets must be declared in the template, or
	// SAM CLI drops it without a word.
	var file map[string]map[string]string
	if err := json.Unmarshal(envFile, &file); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	env := samEnv(t, ttlarchiver.Template, nil)
	for section, vars := range file {
		if section != functionID && section != "Parameters" {
			t.Errorf("events/env.json: section %q names no function: want %s or Parameters", section, functionID)
		}
		for k := range vars {
			if _, ok := env[k]; !ok {
				t.Errorf("events/env.json sets %s, which %s does not declare in template.yaml: sam local invoke would ignore it", k, functionID)
			}
		}
	}
}

// TestSAMLocalInvoke does what `sam local invoke ArchiverFunction -e
// events/ttl-batch.json --env-vars events/env.json` does against a running
// `ttl-archiver serve`, without SAM CLI or Docker: the built bootstrap
// runs under the Runtime API stand-in with SAM CLI's environment (the
// container's host.docker.internal becomes loopback), and the TTL
// deletions of the event must arrive in serve's bucket.
func TestSAMLocalInvoke(t *testing.T) {
	env := samEnv(t, ttlarchiver.Template, readRepoFile(t, "events", "env.json"))
	event := readRepoFile(t, "events", "ttl-batch.json")
	dir := t.TempDir()

	// serve checks signatures against the keys in its environment: give it
	// those SAM CLI gives the function (its placeholders, with no AWS
	// credentials on the host), as a user exports them in both shells.
	srv := startServe(t, dir, "AWS_ACCESS_KEY_ID="+env["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+env["AWS_SECRET_ACCESS_KEY"], "AWS_SESSION_TOKEN=")
	endpoint, err := url.Parse(env["AWS_ENDPOINT_URL_FIREHOSE"])
	if err != nil || endpoint.Hostname() != "host.docker.internal" {
		t.Fatalf("events/env.json AWS_ENDPOINT_URL_FIREHOSE = %q, want http://host.docker.internal:PORT", env["AWS_ENDPOINT_URL_FIREHOSE"])
	}
	endpoint.Host = srv.addr // this test listens on loopback only, on a free port
	env["AWS_ENDPOINT_URL_FIREHOSE"] = endpoint.String()

	api := runtimeapi.New()
	t.Cleanup(func() { _ = api.Close() })
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	p, err := api.StartProcess(runtimeapi.ProcessConfig{Path: bootstrap, Env: kv})
	if err != nil {
		t.Fatalf("start bootstrap: %v", err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	ctx := context.Background()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatalf("bootstrap init: %v\nstderr: %s", err, p.Stderr())
	}
	res, err := api.Invoke(ctx, event, time.Minute)
	if err != nil {
		t.Fatalf("Invoke: %v\nstderr: %s", err, p.Stderr())
	}
	if res.Error != nil {
		t.Fatalf("Invoke: function error %s: %s", res.Error.Type, res.Error.Message)
	}
	var resp struct {
		BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatalf("response %s: %v", res.Payload, err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("batchItemFailures = %s, want none\nfunction log: %s", resp.BatchItemFailures, p.Stdout())
	}

	out := srv.stop(t)
	if !strings.Contains(out, "stopped: ") {
		t.Errorf("serve output lacks its closing line:\n%s", out)
	}
	got := archivedSequenceNumbers(t, filepath.Join(dir, "buckets", local.Bucket))
	want := ttlSequenceNumbers(t, event)
	if len(want) == 0 {
		t.Fatal("events/ttl-batch.json holds no TTL deletion")
	}
	if !slices.Equal(got, want) {
		t.Errorf("archived sequence numbers = %v, want %v\nserve output:\n%s", got, want, out)
	}
}

// serveProcess is a running `ttl-archiver serve`.
type serveProcess struct {
	cmd   *exec.Cmd
	addr  string // host:port of its Firehose
	lines chan string
	done  chan struct{}
	out   bytes.Buffer
}

// startServe starts the built `ttl-archiver serve` on loopback, on a free
// port, with env added to its environment, and waits for it to print its
// endpoint.
func startServe(t *testing.T, dir string, env ...string) *serveProcess {
	t.Helper()
	s := &serveProcess{lines: make(chan string, 100), done: make(chan struct{})}
	s.cmd = exec.Command(cli, "serve", "--addr", "127.0.0.1:0", "--out", dir, "--flush-interval", "0")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = os.Stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
			_ = s.cmd.Wait()
		}
	})
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.out.WriteString(sc.Text() + "\n")
			select {
			case s.lines <- sc.Text():
			default:
			}
		}
	}()
	const prefix = "AWS_ENDPOINT_URL_FIREHOSE=http://"
	for {
		select {
		case l := <-s.lines:
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
				s.addr = v
				return s
			}
		case <-s.done:
			_ = s.cmd.Wait()
			t.Fatalf("serve exited before printing its endpoint:\n%s", s.out.String())
		}
	}
}

// stop sends SIGTERM, as Ctrl-C or a container stop does, and returns
// everything serve printed; serve must exit 0.
func (s *serveProcess) stop(t *testing.T) string {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal serve: %v", err)
	}
	<-s.done
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit 0", err)
	}
	return s.out.String()
}

// archivedSequenceNumbers reads every object under dir (gzipped JSON
// lines) and returns the lines' sequence numbers, sorted.
func archivedSequenceNumbers(t *testing.T, dir string) []string {
	t.Helper()
	var seqs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		var r io.Reader = f
		if strings.HasSuffix(path, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			r = zr
		}
		dec := json.NewDecoder(r)
		for dec.More() {
			var line struct {
				SequenceNumber string `json:"sequence_number"`
			}
			if err := dec.Decode(&line); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			seqs = append(seqs, line.SequenceNumber)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	slices.Sort(seqs)
	return seqs
}

// ttlSequenceNumbers returns the sequence numbers of the event's TTL
// deletions, read without the archiver's code, sorted.
func ttlSequenceNumbers(t *testing.T, event []byte) []string {
	t.Helper()
	var ev struct {
		Records []struct {
			EventName    string `json:"eventName"`
			UserIdentity *struct {
				Type        string `json:"type"`
				PrincipalID string `json:"principalId"`
			} `json:"userIdentity"`
			DynamoDB struct {
				SequenceNumber string `json:"SequenceNumber"`
			} `json:"dynamodb"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatalf("event: %v", err)
	}
	var seqs []string
	for _, r := range ev.Records {
		if r.EventName == "REMOVE" && r.UserIdentity != nil && r.UserIdentity.Type == "Service" && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com" {
			seqs = append(seqs, r.DynamoDB.SequenceNumber)
		}
	}
	slices.Sort(seqs)
	return seqs
}

func readRepoFile(t *testing.T, path ...string) []byte {
	t.Helper()
	root, err := local.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(append([]string{root}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.Atoi(p); err != nil {
		t.Fatalf("port of %s: %v", addr, err)
	}
	return p
}
