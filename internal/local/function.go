package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
)

// Function is the real bootstrap running under a loopback Lambda Runtime
// API and sending to the stack's Firehose stream.
type Function struct {
	API     *runtimeapi.Server
	Process *runtimeapi.Process
}

// FunctionOptions configure StartFunction.
type FunctionOptions struct {
	Bootstrap string   // path to the built function
	Env       []string // the function's own settings (BATCH_SIZE=..., ...)
	Stdout    io.Writer
	Stderr    io.Writer
}

// StartFunction starts the bootstrap with the stack's environment and
// waits until it asks for its first invocation (its init is done).
func (s *Stack) StartFunction(ctx context.Context, o FunctionOptions) (*Function, error) {
	return StartFunction(ctx, s.FunctionEnv(), o)
}

// StartFunction starts the bootstrap under a Runtime API of its own with
// the Lambda environment, then awsEnv (what reaches the AWS side: stream
// name, region, credentials, endpoints), then o.Env, and waits until it
// asks for its first invocation (its init is done).
func StartFunction(ctx context.Context, awsEnv []string, o FunctionOptions) (*Function, error) {
	api := runtimeapi.New()
	env := append(runtimeapi.DefaultEnv(), awsEnv...)
	env = append(env, "AWS_LAMBDA_FUNCTION_NAME=ttl-archiver-local")
	env = append(env, o.Env...)
	p, err := api.StartProcess(runtimeapi.ProcessConfig{Path: o.Bootstrap, Env: env, Stdout: o.Stdout, Stderr: o.Stderr})
	if err != nil {
		_ = api.Close()
		return nil, err
	}
	if err := p.WaitReady(ctx); err != nil {
		_ = p.Kill()
		_ = api.Close()
		return nil, err
	}
	return &Function{API: api, Process: p}, nil
}

// Invoke sends one stream event to the function, with a timeout as the
// function's configured timeout.
func (f *Function) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (runtimeapi.Result, error) {
	return f.API.Invoke(ctx, payload, timeout)
}

// Close stops the function process and the Runtime API.
func (f *Function) Close() error {
	if f.Process.Exited() == nil {
		_ = f.Process.Kill()
	}
	return f.API.Close()
}

// BuildBootstrap builds ./function for this machine (the Lambda build is
// linux/arm64; this one runs here) into dir and returns its path. moduleDir
// is the repository root.
func BuildBootstrap(ctx context.Context, moduleDir, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./function")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build bootstrap: %v\n%s", err, b)
	}
	return out, nil
}

// ModuleRoot returns the repository root: the nearest folder at or above
// the working directory that holds go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// RunWithBootstrap is a TestMain body for packages whose tests run the
// real function: it builds ./function for this machine into a temporary
// folder, stores its path in *bootstrap, runs the tests and removes the
// folder. It returns the exit code for os.Exit.
func RunWithBootstrap(m interface{ Run() int }, bootstrap *string) int {
	dir, err := os.MkdirTemp("", "ttl-archiver-bootstrap")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	root, err := ModuleRoot()
	if err == nil {
		*bootstrap, err = BuildBootstrap(context.Background(), root, dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
