package verify_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
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
