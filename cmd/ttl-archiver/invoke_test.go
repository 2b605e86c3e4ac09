package main

import (
	"bytes"
	"context"
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
	code, out, errOut := runCLI(t, "", "invoke", "../../events/mixed-batch.json")
	if code != 0 {
		t.Fatalf("invoke exit code = %d, want 0; stderr: %s", code, errOut)
	}
	var lines []archive.Line
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "{") {
			parsed, err := archive.ParseLine([]byte(l))
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", l, err)
			}
			lines = append(lines, parsed)
		}
	}
	if len(lines) != 2 || lines[0].SequenceNumber != "100000000000000000004" || lines[1].SequenceNumber != "100000000000000000006" {
		t.Errorf("invoke printed %d lines %+v, want the two TTL deletions of mixed-batch.json", len(lines), lines)
	}
	for _, want := range []string{`response {"batchItemFailures":[]}`, "received 6, archived 2", "skipped 4"} {
		if !strings.Contains(out, want) {
			t.Errorf("invoke output lacks %q:\n%s", want, out)
		}
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
		{"missing file", "", []string{"invoke", "no-such-file.json"}, 1, "no-such-file.json"},
		{"not an event", `{"hello":1}`, []string{"invoke", "-"}, 1, "not a DynamoDB stream event"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("ttl-archiver %v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}
