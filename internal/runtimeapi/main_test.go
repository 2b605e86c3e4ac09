package runtimeapi_test

import (
	"context"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
)

// bootstrap is the test function (testdata/fn), built once per run.
var bootstrap string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "runtimeapi-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bootstrap = filepath.Join(dir, "bootstrap")
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	// As the project builds its function: static, without the RPC mode.
	build := exec.Command(gotool, "build", "-tags", "lambda.norpc", "-o", bootstrap, "./testdata/fn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata/fn: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// startFn starts the test function against srv with extra environment and
// kills it when the test ends.
func startFn(t *testing.T, srv *runtimeapi.Server, env ...string) *runtimeapi.Process {
	t.Helper()
	p, err := srv.StartProcess(runtimeapi.ProcessConfig{Path: bootstrap, Env: env})
	if err != nil {
		t.Fatalf("StartProcess: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Kill(); err != nil {
			t.Errorf("Kill: %v", err)
		}
	})
	return p
}

// ready starts the test function and waits for its init.
func ready(t *testing.T, srv *runtimeapi.Server, env ...string) *runtimeapi.Process {
	t.Helper()
	p := startFn(t, srv, env...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v (stderr %q)", err, p.Stderr())
	}
	return p
}

func newServer(t *testing.T) *runtimeapi.Server {
	t.Helper()
	srv := runtimeapi.New()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
