package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// endless is stdin that never ends, counting what is read of it.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

// lambdaPayloadLimit is Lambda's invocation payload limit as Lambda counts
// it: 6 MiB + 100 bytes. Written out here, not taken from invoke.go.
const lambdaPayloadLimit = 6291556

// paddedEvent is an event of exactly size bytes: no records, then spaces.
func paddedEvent(size int) []byte {
	b := []byte(`{"Records":[]}`)
	return append(b, bytes.Repeat([]byte{' '}, size-len(b))...)
}

// TestInvokeRefusesOversizeEvent: an event over Lambda's payload limit is
// refused with an error naming the limit (exit 1), from a file or stdin,
// reading no more than one byte over it; one at the limit runs.
func TestInvokeRefusesOversizeEvent(t *testing.T) {
	dir := t.TempDir()
	atLimit := filepath.Join(dir, "at-limit.json")
	over := filepath.Join(dir, "over.json")
	if err := os.WriteFile(atLimit, paddedEvent(lambdaPayloadLimit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, paddedEvent(lambdaPayloadLimit+1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stdin    io.Reader
		event    string
		wantCode int
	}{
		{"file at the limit", nil, atLimit, exitOK},
		{"file one byte over", nil, over, exitError},
		{"stdin one byte over", bytes.NewReader(paddedEvent(lambdaPayloadLimit + 1)), "-", exitError},
		{"endless stdin", &endless{}, "-", exitError},
	}
	// Through the built binary, as a user runs it.
	for _, ev := range []struct {
		path string
		code int
	}{{atLimit, exitOK}, {over, exitError}} {
		code, out, errOut := runBinary(t, nil, "invoke", "--out", t.TempDir(), ev.path)
		if code != ev.code || ev.code != exitOK && !strings.Contains(lastLine(errOut), "6291556 bytes") {
			t.Errorf("ttl-archiver invoke %s: exit %d, want %d (over the limit naming it last)\nstdout %s\nstderr %s", filepath.Base(ev.path), code, ev.code, out, errOut)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			stdin := tt.stdin
			if stdin == nil {
				stdin = strings.NewReader("")
			}
			e := &env{stdin: stdin, stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
			code := run(context.Background(), e, []string{"invoke", "--out", t.TempDir(), tt.event})
			if code != tt.wantCode {
				t.Fatalf("invoke %s: exit code %d, want %d\nstdout %s\nstderr %s", tt.event, code, tt.wantCode, out.String(), errOut.String())
			}
			if tt.wantCode != exitOK && !strings.Contains(errOut.String(), "6291556 bytes") {
				t.Errorf("invoke %s: stderr %q, want it to name the limit (6291556 bytes)", tt.event, errOut.String())
			}
			if c, ok := tt.stdin.(*endless); ok && c.n > lambdaPayloadLimit+1 {
				t.Errorf("invoke - on endless stdin: read %d bytes, want at most %d", c.n, lambdaPayloadLimit+1)
			}
		})
	}
}

var (
	bootstrapOnce sync.Once
	bootstrapPath string
	bootstrapErr  error
)

// builtBootstrap builds the function once for the tests that run it.
func builtBootstrap(t *testing.T) string {
	t.Helper()
	bootstrapOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ttl-archiver-cmd-bootstrap")
		if err != nil {
			bootstrapErr = err
			return
		}
		root, err := local.ModuleRoot()
		if err != nil {
			bootstrapErr = err
			return
		}
		bootstrapPath, bootstrapErr = local.BuildBootstrap(context.Background(), root, dir)
	})
	if bootstrapErr != nil {
		t.Fatalf("build bootstrap: %v", bootstrapErr)
	}
	return bootstrapPath
}

// TestInvokeSaysWhy: when records are not delivered, invoke prints the
// archiver's own reasons after the batch response, in process and through
// the built function (whose reasons are in its log line), not only "the
// reasons are above".
func TestInvokeSaysWhy(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"in process", nil},
		{"bootstrap", []string{"--bootstrap", builtBootstrap(t)}},
		{"bootstrap, quiet", []string{"--bootstrap", builtBootstrap(t), "--quiet"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A short timeout: the archiver retries until its deadline is near.
			args := append([]string{"invoke", "--out", t.TempDir(), "--fail-rate", "1", "--timeout", "3s"}, tt.args...)
			code, out, errOut := runBinary(t, nil, append(args, "../../events/ttl-batch.json")...)
			if code != exitIncomplete {
				t.Fatalf("invoke --fail-rate 1: exit code %d, want %d\nstdout %s\nstderr %s", code, exitIncomplete, out, errOut)
			}
			var why []string
			for _, l := range strings.Split(out, "\n") {
				if s, ok := strings.CutPrefix(l, "  why: "); ok {
					why = append(why, s)
				}
			}
			if len(why) == 0 || !strings.Contains(strings.Join(why, "\n"), "Slow down.") {
				t.Errorf("invoke --fail-rate 1: why lines %q, want the archiver's reason (the Firehose error \"Slow down.\")\nstdout %s", why, out)
			}
		})
	}
}
