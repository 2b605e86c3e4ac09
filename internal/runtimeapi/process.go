package runtimeapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProcessConfig says how to start the function's bootstrap.
type ProcessConfig struct {
	// Path is the executable, e.g. a bootstrap built with
	// -tags lambda.norpc.
	Path string
	// Args are its arguments (Lambda passes none).
	Args []string
	// Env holds KEY=VALUE entries set on top of [DefaultEnv]; a key given
	// here replaces the default. The test process's own environment is not
	// passed on, as Lambda passes on nothing of the caller's: give
	// credentials and endpoints here. AWS_LAMBDA_RUNTIME_API is always the
	// process's endpoint.
	Env []string
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Stdout and Stderr, if set, also receive the process's output, as it
	// is written (the Process keeps its own copy either way).
	Stdout, Stderr io.Writer
}

// DefaultEnv returns the variables a process gets unless ProcessConfig.Env
// replaces them: what Lambda sets for a provided.al2023 function, with a
// function named "function", 128 MB, JSON logs (the log format this
// project's function is configured with; Lambda's own default is Text) in
// us-east-1.
func DefaultEnv() []string {
	return []string{
		"AWS_LAMBDA_FUNCTION_NAME=function",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
}

// InitError is an init error the runtime reported on /runtime/init/error.
type InitError struct {
	Type    string
	Message string
	Body    []byte
}

func (e *InitError) Error() string {
	return "function init error: " + e.Type + ": " + e.Message
}

// ExitError is a function process that exited while it was expected to
// serve: during init, holding an invocation, or waiting for one. It
// matches [ErrProcessExited] with errors.Is.
type ExitError struct {
	// Code is the exit code, -1 when a signal ended the process.
	Code int
	// Signal names the signal that ended it, "" if it exited.
	Signal string
	// During is "init" (before its first /next), "invocation <id>" or
	// "idle".
	During string
	// Init is the init error the runtime reported before exiting, if any.
	Init *InitError
	// Stderr is the end of what it wrote to stderr.
	Stderr string
}

func (e *ExitError) Error() string {
	var b strings.Builder
	b.WriteString("function process ")
	if e.Signal != "" {
		b.WriteString("killed by signal " + e.Signal)
	} else {
		fmt.Fprintf(&b, "exited with code %d", e.Code)
	}
	b.WriteString(" during " + e.During)
	if e.Init != nil {
		b.WriteString(": " + e.Init.Type + ": " + e.Init.Message)
	}
	if e.Stderr != "" {
		b.WriteString(": " + e.Stderr)
	}
	return b.String()
}

// Is reports whether target is ErrProcessExited.
func (e *ExitError) Is(target error) bool { return target == ErrProcessExited }

// stderrTail is how much of stderr an ExitError keeps.
const stderrTail = 2048

// Process is a running function process: the bootstrap under
// [Server.StartProcess] with its own Runtime API endpoint.
type Process struct {
	server      *Server
	cmd         *exec.Cmd
	addr        string
	endpoint    *http.Server
	env         []string
	functionARN string
	started     time.Time

	stdout, stderr lockedBuffer

	mu        sync.Mutex // guards ready
	ready     time.Time
	readyOnce sync.Once
	readyCh   chan struct{} // closed at the first /next
	initCh    chan struct{} // closed at the first /init/error
	initOnce  sync.Once

	exitedCh chan struct{} // closed once exit is handled
	exitCode int
	exitErr  *ExitError
	waitErr  error

	// Guarded by server.mu.
	inflight map[string]*invocation
	exited   bool
	initErr  *InitError
}

// StartProcess starts the function process and makes it the server's
// execution environment. It returns once the process has started; use
// [Process.WaitReady] to wait for its init to finish. Only one process runs
// at a time: start the next one once [Process.Wait] or [Process.Kill] of
// the last has returned.
func (s *Server) StartProcess(cfg ProcessConfig) (*Process, error) {
	if cfg.Path == "" {
		return nil, errors.New("start function process: no Path")
	}
	p := &Process{
		server:   s,
		readyCh:  make(chan struct{}),
		initCh:   make(chan struct{}),
		exitedCh: make(chan struct{}),
		inflight: make(map[string]*invocation),
	}
	if err := s.attach(p); err != nil {
		return nil, fmt.Errorf("start function process: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.detach(p, &ExitError{Code: -1, During: "start"})
		return nil, fmt.Errorf("start function process: listen: %w", err)
	}
	p.addr = ln.Addr().String()
	p.env = processEnv(cfg, p.addr)
	p.functionARN = "arn:aws:lambda:" + lookup(p.env, "AWS_REGION") + ":" + s.account + ":function:" + lookup(p.env, "AWS_LAMBDA_FUNCTION_NAME")
	p.endpoint = &http.Server{Handler: p.routes(), ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = p.endpoint.Serve(ln) }() // returns ErrServerClosed at exit

	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = p.env
	cmd.Dir = cfg.Dir
	cmd.Stdout = tee(&p.stdout, cfg.Stdout)
	cmd.Stderr = tee(&p.stderr, cfg.Stderr)
	cmd.WaitDelay = 5 * time.Second // do not hang on pipes a child left open
	p.cmd = cmd
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = p.endpoint.Close()
		s.detach(p, &ExitError{Code: -1, During: "start"})
		return nil, fmt.Errorf("start function process %s: %w", cfg.Path, err)
	}
	go p.watch()
	return p, nil
}

func tee(buf *lockedBuffer, w io.Writer) io.Writer {
	if w == nil {
		return buf
	}
	return io.MultiWriter(buf, w)
}

// processEnv builds the environment: defaults, the caller's entries over
// them, then the endpoint.
func processEnv(cfg ProcessConfig, addr string) []string {
	var keys []string
	vals := make(map[string]string)
	set := func(kv string) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	for _, kv := range DefaultEnv() {
		set(kv)
	}
	if dir, err := filepath.Abs(filepath.Dir(cfg.Path)); err == nil {
		set("LAMBDA_TASK_ROOT=" + dir)
	}
	for _, kv := range cfg.Env {
		set(kv)
	}
	set("AWS_LAMBDA_RUNTIME_API=" + addr)
	env := make([]string, len(keys))
	for i, k := range keys {
		env[i] = k + "=" + vals[k]
	}
	return env
}

func lookup(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// watch waits for the process to exit and fails what it held.
func (p *Process) watch() {
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		err = nil // a non-zero exit is the process's outcome, not a failure to wait
	}
	ee := &ExitError{Code: -1, During: "idle"}
	if ps := p.cmd.ProcessState; ps != nil {
		ee.Code = ps.ExitCode()
		if ws, ok := ps.Sys().(interface {
			Signaled() bool
			Signal() syscall.Signal
		}); ok && ws.Signaled() {
			ee.Signal = ws.Signal().String()
		}
	}
	if p.Ready().IsZero() {
		ee.During = "init"
	}
	ee.Stderr = tail(p.stderr.String(), stderrTail)
	p.server.mu.Lock()
	ee.Init = p.initErr
	p.server.mu.Unlock()
	p.server.detach(p, ee)
	_ = p.endpoint.Close()
	p.exitCode, p.exitErr, p.waitErr = ee.Code, ee, err
	close(p.exitedCh)
}

// tail returns the end of s, at most n bytes, from a line start where it
// can, without surrounding space.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return s
}

// Addr is the process's AWS_LAMBDA_RUNTIME_API, host:port.
func (p *Process) Addr() string { return p.addr }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Env is the environment the process was started with.
func (p *Process) Env() []string { return append([]string(nil), p.env...) }

// Started is when the process was started.
func (p *Process) Started() time.Time { return p.started }

// Ready is when the process first asked for an invocation (its init
// ended), zero until it does.
func (p *Process) Ready() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// StartupLatency is Ready minus Started, zero until the process is ready.
func (p *Process) StartupLatency() time.Duration {
	r := p.Ready()
	if r.IsZero() {
		return 0
	}
	return r.Sub(p.started)
}

func (p *Process) markReady() {
	p.readyOnce.Do(func() {
		p.mu.Lock()
		p.ready = time.Now()
		p.mu.Unlock()
		close(p.readyCh)
	})
}

// WaitReady waits until the process asks for its first invocation. It
// returns the [*InitError] the runtime reported, or the [*ExitError] of a
// process that exited first (with the end of its stderr, where a Go
// function prints why it stopped), or ctx's error.
func (p *Process) WaitReady(ctx context.Context) error {
	select {
	case <-p.readyCh:
		return nil
	default:
	}
	select {
	case <-p.readyCh:
		return nil
	case <-p.initCh:
		p.server.mu.Lock()
		defer p.server.mu.Unlock()
		return fmt.Errorf("wait for function init: %w", p.initErr)
	case <-p.exitedCh:
		return fmt.Errorf("wait for function init: %w", p.exitErr)
	case <-ctx.Done():
		return fmt.Errorf("wait for function init: %w", ctx.Err())
	}
}

// Stdout returns what the process wrote to stdout so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns what the process wrote to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Kill kills the process (SIGKILL, to its own pid) and returns once its
// exit is handled: the invocation it held has failed and a new process can
// be started. Killing a process that has exited does nothing.
func (p *Process) Kill() error {
	select {
	case <-p.exitedCh:
		return nil
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill function process %d: %w", p.cmd.Process.Pid, err)
	}
	<-p.exitedCh
	return nil
}

// Wait waits for the process to exit and returns its exit code (-1 if a
// signal ended it). The error is for a failure to wait, not for a non-zero
// code.
func (p *Process) Wait() (int, error) {
	<-p.exitedCh
	return p.exitCode, p.waitErr
}

// Exited returns the process's exit as an [*ExitError], nil while it
// runs.
func (p *Process) Exited() *ExitError {
	select {
	case <-p.exitedCh:
		return p.exitErr
	default:
		return nil
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
