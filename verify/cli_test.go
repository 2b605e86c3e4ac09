package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// cliBinary builds the ttl-archiver command once for the tests that run
// it as a user would.
func cliBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "verify-cli")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ttl-archiver")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/ttl-archiver").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build ttl-archiver: %v", buildErr)
	}
	return binPath
}

// runVerifyCLI runs the built command with env (and nothing else of the
// environment but PATH and HOME) and returns its exit code and output.
func runVerifyCLI(t *testing.T, env []string, _ time.Time, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_EC2_METADATA_DISABLED=true"}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	}
	t.Fatalf("run ttl-archiver: %v", err)
	return 0, "", ""
}

func TestCLIUsage(t *testing.T) {
	tests := [][]string{
		{"verify", "--from", "x"},
		{"verify", "--from", "x", "--since", "2025-02-30"},
		{"verify", "--from", "x", "--since", "2025-11-22", "--until", "2025-11-20"},
		{"verify", "--from", "x", "--since", "2025-11-20", "--output", "yaml"},
		{"verify", "--since", "2025-11-20"},
		{"verify", "--athena", "--since", "2025-11-20"},
		{"verify", "--from", "x", "--since", "2025-11-20", "--concurrency", "-1"},
	}
	for _, args := range tests {
		code, out, errOut := runVerifyCLI(t, nil, time.Time{}, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "ttl-archiver verify: ") {
			t.Errorf("ttl-archiver %s: exit %d, stdout %q, stderr %q; want 2, nothing, the reason", strings.Join(args, " "), code, out, errOut)
		}
	}
}

// An object that can't be read fails the run (exit 1), naming it, even
// when every count matches.
func TestCLIUnreadable(t *testing.T) {
	srv := motoserver.ForTest(t)
	dir := t.TempDir()
	ds := dels("a", at(0, 1, 0, 0), 300)
	cfg := srv.Config()
	if err := verifytest.PutMetrics(context.Background(), cloudwatch.NewFromConfig(cfg), verifytest.HourlyCounts(ds)["us-east-1"]); err != nil {
		t.Fatal(err)
	}
	writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/a.gz", lines(ds)...)
	p := writeGz(t, dir, "archive/table=Orders/dt=2025-11-20/cut.gz", lines(ds[:100])...)
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"}
	for _, output := range []string{"text", "json"} {
		code, out, errOut := runVerifyCLI(t, env, time.Time{}, "verify", "--from", dir, "--since", "2025-11-20", "--until", "2025-11-20",
			"--region", "us-east-1", "--regions", "us-east-1", "--endpoint-url", srv.URL, "--output", output)
		if code != 1 || !strings.Contains(errOut, "cut.gz") || strings.Contains(out, `"complete":true`) {
			t.Errorf("verify --output %s with a truncated object: exit %d, want 1 naming cut.gz\nstdout:\n%s\nstderr:\n%s", output, code, out, errOut)
		}
		if output == "json" {
			var rep struct {
				Complete bool
				Rows     []map[string]any
				Totals   map[string]int64
				Problems []map[string]any
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Complete || len(rep.Rows) != 1 || rep.Totals["ttl_deleted"] != 300 || len(rep.Problems) != 1 {
				t.Errorf("verify --output json: %+v, %v; want one row, 300 deleted, one problem", rep, err)
			}
			for _, k := range []string{"table", "region", "day", "ttl_deleted", "archived", "missing", "extra", "status"} {
				if _, ok := rep.Rows[0][k]; !ok {
					t.Errorf("verify --output json: row has no %q: %v", k, rep.Rows[0])
				}
			}
		}
	}
}
