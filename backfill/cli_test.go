package backfill_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bt "github.com/ttl-archiver/ttl-archiver/backfill/backfilltest"

	"github.com/ttl-archiver/ttl-archiver/internal/clitest"
)

// runCLI runs the built command (internal/clitest) with no AWS
// configuration at all and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, nil, args...)
}

// Refusals through the command a user runs, with local inputs and no
// credentials: --ttl-attribute is given, so nothing asks AWS.
func TestCLIRefusals(t *testing.T) {
	s := newScenario()
	base := s.exports("us-east-1")[0]
	tests := []struct {
		name   string
		change func(e *bt.Export)
		remove bool
		code   int
		says   string
	}{
		{name: "NEW_IMAGE export", change: func(e *bt.Export) { e.View = bt.NewImageView }, code: 2, says: "NEW_IMAGE export"},
		{name: "full export", change: func(e *bt.Export) { e.Type = bt.Full; e.Items = []bt.Item{order("a", 1, day1, "x")} }, code: 2, says: "full export"},
		{name: "export of another table", change: func(e *bt.Export) { e.Table = "Customers" }, code: 2, says: "not of --source-table Orders"},
		{name: "missing data file", remove: true, code: 3, says: "missing"},
		{name: "complete", code: 0, says: `"recovered":4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := base
			if tt.change != nil {
				tt.change(&e)
			}
			locs := localExports(t, filepath.Join(dir, "exports"), []bt.Export{e})
			if tt.remove {
				if err := os.Remove(filepath.Join(dir, "exports", filepath.FromSlash(e.Objects()[0].Key))); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errOut := runCLI(t, "backfill", "--export", locs[0].Path, "--archive", filepath.Join(dir, "archive"),
				"--source-table", "Orders", "--ttl-attribute", "expires_at", "--output", "json")
			if code != tt.code || !strings.Contains(out+errOut, tt.says) {
				t.Errorf("ttl-archiver backfill: exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.says, out, errOut)
			}
			if code == 3 && !strings.Contains(errOut, filepath.Base(e.Objects()[0].Key)) {
				t.Errorf("exit 3 without naming the missing file %s:\n%s", e.Objects()[0].Key, errOut)
			}
			if code == 0 {
				var rep map[string]any
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("--output json: %v\n%s", err, out)
				}
				for _, k := range []string{"export_lines", "deletions", "ttl_deletions", "already_archived", "recovered", "objects", "compacted_old_images"} {
					if _, ok := rep[k]; !ok {
						t.Errorf("--output json has no %q: %s", k, out)
					}
				}
			}
		})
	}
}

func TestCLIDryRunAndUsage(t *testing.T) {
	s := newScenario()
	dir := t.TempDir()
	locs := localExports(t, filepath.Join(dir, "exports"), s.exports("us-east-1"))
	writeArchive(t, filepath.Join(dir, "archive"), "us-east-1", s.archived, false)
	args := []string{"backfill", "--archive", filepath.Join(dir, "archive"), "-s", "Orders", "--ttl-attribute", "expires_at", "--dry-run"}
	for _, l := range locs {
		args = append(args, "--export", l.Path)
	}
	code, out, errOut := runCLI(t, args...)
	if code != 0 || strings.Count(out, `"recovered_from":`) != len(s.want) || !strings.Contains(errOut, "to recover (dry run)") {
		t.Errorf("backfill --dry-run: exit %d, want 0, %d lines on stdout, the counts on stderr\nstdout:\n%s\nstderr:\n%s", code, len(s.want), out, errOut)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "archive", "*", "*", "ttl-archiver-backfill-*")); len(files) != 0 {
		t.Errorf("a dry run wrote %v", files)
	}
	for _, bad := range [][]string{
		{"backfill", "--archive", "x", "-s", "Orders"},
		{"backfill", "--export", locs[0].Path, "-s", "Orders"},
		{"backfill", "--export", locs[0].Path, "--archive", "x"},
		{"backfill", "--export", locs[0].Path, "--archive", "x/table=Orders/", "-s", "Orders", "--ttl-attribute", "e"},
		{"backfill", "--export", locs[0].Path, "--archive", "x", "-s", "Orders", "--format", "csv"},
		{"export-request", "-s", "Orders", "--from", "2025-11-21T00:00:00Z", "--to", "2025-11-21T00:10:00Z", "--s3-bucket", "b"},
		{"export-request", "-s", "Orders", "--from", "2025-11-21", "--s3-bucket", "b"},
	} {
		code, out, errOut := runCLI(t, bad...)
		if code != 2 || out != "" || !strings.Contains(errOut, "ttl-archiver "+bad[0]+": ") {
			t.Errorf("ttl-archiver %s: exit %d, stdout %q, stderr %q; want 2, nothing, the reason", strings.Join(bad, " "), code, out, errOut)
		}
	}
}
