package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestInvokeLocal(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "invoke", "-v", "--out", dir, "../../events/mixed-batch.json", "../../events/ttl-batch.json")
	if code != 0 {
		t.Fatalf("invoke exit code = %d, want 0; stderr: %s", code, errOut)
	}
	for _, want := range []string{`mixed-batch.json: {"batchItemFailures":[]}`, "received 6, archived 2", "skipped 4",
		"2 objects in s3://ttl-archive-local", "archive/table=Sessions/dt=2025-11-23/", "archive/table=Orders/dt=2025-11-23/"} {
		if !strings.Contains(out, want) {
			t.Errorf("invoke output lacks %q:\n%s", want, out)
		}
	}
	// cat reads back what invoke wrote, filtered.
	bucket := filepath.Join(dir, "buckets", "ttl-archive-local")
	tests := []struct {
		name string
		args []string
		want []string // sequence numbers, in order
	}{
		{"all", []string{bucket}, []string{"4421584500000000017450439091", "4421584500000000017450439092", "4421584500000000017450439093", "100000000000000000004", "100000000000000000006"}},
		{"table", []string{"--source-table", "Sessions", bucket}, []string{"100000000000000000004", "100000000000000000006"}},
		{"key", []string{"--key", "pk=customer#1002", bucket}, []string{"4421584500000000017450439092"}},
		{"key prefix", []string{"--key-prefix", "id=user#1", bucket}, []string{"100000000000000000006"}},
		{"time range", []string{"--since", "2025-11-23T00:00:01Z", "--until", "2025-11-23T12:00:00Z", bucket}, []string{"4421584500000000017450439092"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"cat"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("cat %v: exit %d, stderr %s", tt.args, code, errOut)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l == "" {
					continue
				}
				parsed, err := archive.ParseLine([]byte(l))
				if err != nil {
					t.Fatalf("ParseLine(%q): %v", l, err)
				}
				got = append(got, parsed.SequenceNumber)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("cat %v = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}

func TestInvokeErrors(t *testing.T) {
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no event", "", []string{"invoke"}, 2, "no event file"},
		{"bad format", "", []string{"invoke", "--format", "xml", "x.json"}, 2, "ARCHIVE_FORMAT"},
		{"missing file", "", []string{"invoke", "--out", "OUT", "no-such-file.json"}, 1, "no-such-file.json"},
		{"not an event", `{"hello":1}`, []string{"invoke", "--out", "OUT", "-"}, 1, "not a DynamoDB stream event"},
		{"fail rate out of range", "", []string{"invoke", "--fail-rate", "2", "x.json"}, 2, "--fail-rate"},
		{"cat without location", "", []string{"cat"}, 2, "no location"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "OUT" {
					args[i] = t.TempDir()
				}
			}
			code, _, errOut := runCLI(t, tt.stdin, args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("ttl-archiver %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}
