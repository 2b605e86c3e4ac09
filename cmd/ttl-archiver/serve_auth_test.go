package main

import (
	"strings"
	"testing"
)

// TestServeNeedsKeys: serve does not start open to any caller by
// accident: with no keys to check signatures against and no --no-auth it
// exits 2, naming the variables and the flag.
func TestServeNeedsKeys(t *testing.T) {
	code, out, errOut := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--out", t.TempDir())
	if code != exitUsage {
		t.Fatalf("serve with no keys: exit code %d, want %d\nstdout %s\nstderr %s", code, exitUsage, out, errOut)
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "--no-auth"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("serve with no keys: stderr %q, want it to name %s", errOut, want)
		}
	}
}
