package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// The command-line findings of issue 15, each run as a user would.

// demoArchive runs invoke into a local S3 folder, as "make demo" does,
// and returns the folder: DIR/buckets/... and the metadata beside it.
func demoArchive(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "invoke", "--out", dir, "../../events/mixed-batch.json", "../../events/ttl-batch.json")
	if code != 0 {
		t.Fatalf("invoke: exit code %d\n%s\n%s", code, out, errOut)
	}
	return dir
}

func TestCatCommandLine(t *testing.T) {
	dir := demoArchive(t)
	bucket := filepath.Join(dir, "buckets", "ttl-archive-local")
	tests := []struct {
		name string
		args []string
		want string
	}{
		// cat counts only archive objects, not the local S3's metadata.
		{"whole local S3 folder", []string{"cat", "--count", dir}, "5\n"},
		// Flags after the path are flags.
		{"flag after path", []string{"cat", bucket, "--count"}, "5\n"},
		{"short flags", []string{"cat", "-c", "-s", "Sessions", bucket}, "2\n"},
		// --source-table is the filter, as in restore and export-import.
		{"source table", []string{"cat", bucket, "--source-table=Orders", "--count"}, "3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != 0 || out != tt.want {
				t.Errorf("ttl-archiver %s: exit code %d, stdout %q, want 0 and %q; stderr: %s", strings.Join(tt.args, " "), code, out, tt.want, errOut)
			}
		})
	}
}

// TestProgress: a long cat shows a progress bar with counts and rate on
// stderr when stderr is a terminal, and nothing otherwise.
func TestProgress(t *testing.T) {
	dir := demoArchive(t)
	for _, terminal := range []bool{true, false} {
		var out, errOut bytes.Buffer
		clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
			stderrTerminal: terminal, now: func() time.Time { clock = clock.Add(3 * time.Second); return clock }}
		if code := run(context.Background(), e, []string{"cat", "--count", dir}); code != 0 {
			t.Fatalf("cat: exit code %d, stderr %s", code, errOut.String())
		}
		got := errOut.String()
		if terminal && (!strings.Contains(got, "5 matching") || !strings.Contains(got, "lines/s")) {
			t.Errorf("cat on a terminal, 6 s: stderr %q, want a progress bar with %q and a rate in lines/s", got, "5 matching")
		}
		if !terminal && got != "" {
			t.Errorf("cat with stderr not a terminal: stderr %q, want nothing", got)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := runCLI(t, "", "--version")
	if want := versionText(); code != 0 || out != want || !strings.HasPrefix(out, "ttl-archiver "+readBuildInfo().Version+"\n") {
		t.Errorf("ttl-archiver --version: exit code %d, stdout %q, want 0 and %q; stderr %s", code, out, want, errOut)
	}
}

// TestInvokeStreamErrors: without credentials, or with an endpoint that
// does not answer, invoke --stream says so at once instead of retrying
// every record and reporting only that some were not delivered.
func TestInvokeStreamErrors(t *testing.T) {
	// No credentials anywhere the SDK looks.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")

	// A loopback port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()

	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no credentials", map[string]string{}, "no AWS credentials"},
		{"endpoint down", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL_FIREHOSE": closed, "AWS_MAX_ATTEMPTS": "1"},
			"reach firehose stream ttl-archive in region us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, tt.vars, "invoke", "--stream", "ttl-archive", "../../events/ttl-batch.json")
			if code != exitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("invoke --stream: exit code %d, stderr %q, want %d and %q; stdout %s", code, errOut, exitError, tt.want, out)
			}
		})
	}
}

// TestExportImportTableFlag: --table names the destination in
// export-import too (the table ImportTable creates).
func TestExportImportTableFlag(t *testing.T) {
	dir := demoArchive(t)
	to := filepath.Join(t.TempDir(), "import")
	code, out, errOut := runCLI(t, "", "export-import", "--from", dir, "--source-table", "Orders", "--to", to, "--table", "Orders-back")
	if code != 0 || !strings.Contains(out, `"TableName":"Orders-back"`) {
		t.Errorf("export-import --table Orders-back: exit code %d, stdout %s; want 0 and the import command for Orders-back; stderr %s", code, out, errOut)
	}
}

// TestInvokeStreamToServe: invoke --stream sends to a stream it checks
// first; against the local stack that serve runs, the check passes and the
// batch is archived there.
func TestInvokeStreamToServe(t *testing.T) {
	stack, err := local.Start(local.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("local.Start: %v", err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	vars := map[string]string{}
	for _, kv := range stack.FunctionEnv() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	code, out, errOut := runTool(t, vars, "invoke", "--stream", local.Stream, "../../events/ttl-batch.json")
	if code != 0 {
		t.Fatalf("invoke --stream %s: exit code %d, want 0\nstdout %s\nstderr %s", local.Stream, code, out, errOut)
	}
	if got := stack.Firehose.Stats().RecordsAccepted; got != 3 {
		t.Errorf("invoke --stream %s: the stream accepted %d records, want the batch's 3 TTL deletions", local.Stream, got)
	}
}
