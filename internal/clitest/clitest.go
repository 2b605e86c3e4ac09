// Package clitest builds the ttl-archiver command once per test binary
// and runs it as a user would: a separate process, its exit code and its
// two output streams, with an environment of the test's choosing and no
// AWS configuration of the machine's. The CLI's tests, and those of the
// packages it fronts (verify, backfill), share it.
package clitest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// The version and commit the test binary is stamped with, as make
// release stamps a release (-X main.releaseVersion, main.releaseCommit).
const (
	Version = "v9.8.7"
	Commit  = "0123456789abcdef"
)

var (
	once    sync.Once
	path    string
	errOnce error
)

// Binary returns the path of ttl-archiver built from this module, once.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		root, err := local.ModuleRoot()
		if err != nil {
			errOnce = err
			return
		}
		dir, err := os.MkdirTemp("", "ttl-archiver-cli")
		if err != nil {
			errOnce = err
			return
		}
		path = filepath.Join(dir, "ttl-archiver")
		cmd := exec.Command("go", "build", "-ldflags", "-X main.releaseVersion="+Version+" -X main.releaseCommit="+Commit, "-o", path, "./cmd/ttl-archiver")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			errOnce = errors.New(string(out))
		}
	})
	if errOnce != nil {
		t.Fatalf("build ttl-archiver: %v", errOnce)
	}
	return path
}

// Run runs the built command with only PATH, a fresh HOME, no AWS config
// or credentials file, no instance metadata, and vars in its environment.
func Run(t testing.TB, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	none := filepath.Join(t.TempDir(), "none")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none, "AWS_EC2_METADATA_DISABLED=true"}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run ttl-archiver: %v", err)
	}
	return code, out.String(), errOut.String()
}
