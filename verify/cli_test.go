package verify_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"

	"github.com/ttl-archiver/ttl-archiver/internal/clitest"
)

// runVerifyCLI runs the built command (internal/clitest) with env
// ("NAME=value" each) as its environment besides PATH and a fresh HOME.
func runVerifyCLI(t *testing.T, env []string, _ time.Time, args ...string) (int, string, string) {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return clitest.Run(t, vars, args...)
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
