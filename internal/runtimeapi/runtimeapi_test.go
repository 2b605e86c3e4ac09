package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
)

type echoed struct {
	Message      string `json:"message"`
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	DeadlineMS   int64  `json:"deadlineMs"`
	FunctionName string `json:"functionName"`
	MemoryMB     int    `json:"memoryMb"`
	TraceID      string `json:"traceId"`
	Region       string `json:"region"`
	Setting      string `json:"setting"`
}

func TestInvoke(t *testing.T) {
	srv := newServer(t)
	p := ready(t, srv, "AWS_LAMBDA_FUNCTION_NAME=archiver", "AWS_REGION=eu-west-1", "FN_SETTING=on")

	tests := []struct {
		name      string
		event     string
		timeout   time.Duration
		wantErr   *runtimeapi.FunctionError // Type and a Message prefix
		wantLate  bool
		checkBody func(t *testing.T, r runtimeapi.Result)
	}{
		{
			name: "response", event: `{"action":"echo","message":"hi"}`, timeout: 5 * time.Second,
			checkBody: func(t *testing.T, r runtimeapi.Result) {
				var got echoed
				if err := json.Unmarshal(r.Payload, &got); err != nil {
					t.Fatalf("decode payload %q: %v", r.Payload, err)
				}
				want := echoed{Message: "hi", RequestID: r.RequestID, FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:archiver",
					DeadlineMS: r.Deadline.UnixMilli(), FunctionName: "archiver", MemoryMB: 128, TraceID: got.TraceID, Region: "eu-west-1", Setting: "on"}
				if got != want {
					t.Errorf("what the function saw: got %+v, want %+v", got, want)
				}
				if !strings.HasPrefix(got.TraceID, "Root=1-") {
					t.Errorf("trace id: got %q, want an X-Ray header", got.TraceID)
				}
			},
		},
		{
			name: "function error", event: `{"action":"error","message":"no stream"}`, timeout: 5 * time.Second,
			wantErr: &runtimeapi.FunctionError{Type: "customError", Message: "no stream"},
		},
		{
			name: "deadline passed, function honours it", event: `{"action":"sleep","millis":10000}`, timeout: 200 * time.Millisecond,
			wantErr: &runtimeapi.FunctionError{Type: "deadlineExceededError", Message: "context deadline exceeded"}, wantLate: true,
		},
		{
			name: "deadline passed, function ignores it", event: `{"action":"hang","millis":400}`, timeout: 100 * time.Millisecond,
			wantLate: true,
			checkBody: func(t *testing.T, r runtimeapi.Result) {
				if got := string(r.Payload); got != `"woke"` {
					t.Errorf("payload: got %s, want \"woke\"", got)
				}
			},
		},
		{
			// Last: aws-lambda-go exits when a post is refused, as the 413
			// for this response is (checked below).
			name: "response over 6 MB", event: fmt.Sprintf(`{"action":"big","size":%d}`, runtimeapi.MaxResponseBytes), timeout: 10 * time.Second,
			wantErr: &runtimeapi.FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "Response payload size exceeded maximum allowed payload size (6291556 bytes)."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			r, err := srv.Invoke(context.Background(), []byte(tt.event), tt.timeout)
			if err != nil {
				t.Fatalf("Invoke: got error %v, want none (stderr %q)", err, p.Stderr())
			}
			if r.RequestID == "" || len(r.RequestID) != 36 {
				t.Errorf("RequestID: got %q, want a UUID", r.RequestID)
			}
			if r.Queued.Before(before) || r.Taken.Before(r.Queued) || r.Answered.Before(r.Taken) || r.Duration != r.Answered.Sub(r.Queued) {
				t.Errorf("timing: got queued %v, taken %v, answered %v, duration %v, want them in order", r.Queued, r.Taken, r.Answered, r.Duration)
			}
			if got, want := r.Deadline.Sub(r.Queued), tt.timeout; got != want {
				t.Errorf("deadline: got queued+%v, want queued+%v", got, want)
			}
			if r.Late != tt.wantLate {
				t.Errorf("Late: got %v, want %v (duration %v, timeout %v)", r.Late, tt.wantLate, r.Duration, tt.timeout)
			}
			switch {
			case tt.wantErr == nil && r.Error != nil:
				t.Errorf("function error: got %v, want none", r.Error)
			case tt.wantErr != nil && r.Error == nil:
				t.Errorf("function error: got none (payload %.100q), want %v", r.Payload, tt.wantErr)
			case tt.wantErr != nil:
				if r.Error.Type != tt.wantErr.Type || !strings.HasPrefix(r.Error.Message, tt.wantErr.Message) {
					t.Errorf("function error: got %s: %s, want %s: %s", r.Error.Type, r.Error.Message, tt.wantErr.Type, tt.wantErr.Message)
				}
				if r.Payload != nil {
					t.Errorf("payload with a function error: got %.100q, want nil", r.Payload)
				}
			}
			if tt.checkBody != nil {
				tt.checkBody(t, r)
			}
		})
	}

	exited := make(chan int, 1)
	go func() { code, _ := p.Wait(); exited <- code }()
	select {
	case code := <-exited:
		if code != 1 {
			t.Errorf("exit code after a refused response: got %d, want 1", code)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("process after a refused response: still running 10s later, want it to exit as aws-lambda-go does")
	}
}

func TestInitFailure(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		wantAs      func(error) bool
		wantMessage string
		wantCode    int
	}{
		{
			name: "exits with a message", env: []string{"FN_INIT=exit"},
			wantAs: func(err error) bool {
				var e *runtimeapi.ExitError
				return errors.As(err, &e) && e.During == "init" && e.Code == 1
			},
			wantMessage: "function process exited with code 1 during init: fn: configuration: FN_SETTING is not set: want a value",
			wantCode:    1,
		},
		{
			name: "posts an init error", env: []string{"FN_INIT=initerror"},
			wantAs: func(err error) bool {
				var e *runtimeapi.InitError
				return errors.As(err, &e) && e.Type == "Runtime.ConfigError"
			},
			wantMessage: "function init error: Runtime.ConfigError: FN_SETTING is not set",
			wantCode:    2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			p := startFn(t, srv, tt.env...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := p.WaitReady(ctx)
			if err == nil || !tt.wantAs(err) {
				t.Fatalf("WaitReady: got error %v, want one of the right type", err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("WaitReady error: got %q, want it to contain %q", err, tt.wantMessage)
			}
			code, werr := p.Wait()
			if werr != nil || code != tt.wantCode {
				t.Errorf("Wait: got %d, %v, want %d, nil", code, werr, tt.wantCode)
			}
			// Invoke reports the same failure, at once.
			began := time.Now()
			_, err = srv.Invoke(ctx, []byte(`{"action":"echo"}`), time.Second)
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tt.wantMessage, "function init error: ")) {
				t.Errorf("Invoke after a failed init: got error %v, want one with %q", err, tt.wantMessage)
			}
			if d := time.Since(began); d > time.Second {
				t.Errorf("Invoke after a failed init took %v, want it at once", d)
			}
			if !p.Ready().IsZero() || p.StartupLatency() != 0 {
				t.Errorf("Ready: got %v, want zero for a process that never asked for work", p.Ready())
			}
		})
	}
}

// TestInitErrorQueued checks that an invocation queued during init gets
// the init error the runtime posts, as Lambda serves it to the first
// invoke.
func TestInitErrorQueued(t *testing.T) {
	srv := newServer(t)
	startFn(t, srv, "FN_INIT=initerror")
	_, err := srv.Invoke(context.Background(), []byte(`{"action":"echo"}`), 5*time.Second)
	var ie *runtimeapi.InitError
	var ee *runtimeapi.ExitError
	switch {
	case errors.As(err, &ie):
	case errors.As(err, &ee) && ee.Init != nil:
	default:
		t.Fatalf("Invoke during a failing init: got error %v, want the init error", err)
	}
	if !strings.Contains(err.Error(), "FN_SETTING is not set") {
		t.Errorf("Invoke during a failing init: got %q, want the runtime's message", err)
	}
}

func TestKillMidInvocation(t *testing.T) {
	srv := newServer(t)
	p := ready(t, srv)

	type outcome struct {
		r   runtimeapi.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := srv.Invoke(context.Background(), []byte(`{"action":"hang","millis":60000}`), time.Minute)
		done <- outcome{r, err}
	}()
	waitFor(t, "the function to start the invocation", func() bool { return strings.Contains(p.Stdout(), " hang\n") })

	killed := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	var o outcome
	select {
	case o = <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("Invoke after Kill: still waiting 5s later, want it to return at once")
	}
	if d := time.Since(killed); d > 2*time.Second {
		t.Errorf("Invoke returned %v after Kill, want at once", d)
	}
	var ee *runtimeapi.ExitError
	if !errors.As(o.err, &ee) || !errors.Is(o.err, runtimeapi.ErrProcessExited) {
		t.Fatalf("Invoke after Kill: got error %v, want an *ExitError", o.err)
	}
	if ee.Signal != "killed" || ee.Code != -1 || ee.During != "invocation "+o.r.RequestID {
		t.Errorf("ExitError: got signal %q, code %d, during %q, want killed, -1, invocation %s", ee.Signal, ee.Code, ee.During, o.r.RequestID)
	}
	if o.r.Taken.IsZero() || !o.r.Answered.IsZero() {
		t.Errorf("Result: got taken %v, answered %v, want taken and never answered", o.r.Taken, o.r.Answered)
	}
	if code, err := p.Wait(); code != -1 || err != nil {
		t.Errorf("Wait: got %d, %v, want -1, nil", code, err)
	}
	if p.Exited() == nil {
		t.Errorf("Exited: got nil, want the exit")
	}

	// With no process, Invoke fails at once and says why.
	if _, err := srv.Invoke(context.Background(), []byte(`{"action":"echo"}`), time.Second); !errors.Is(err, runtimeapi.ErrNoProcess) || !errors.Is(err, runtimeapi.ErrProcessExited) {
		t.Errorf("Invoke with no process: got %v, want ErrNoProcess naming the last exit", err)
	}

	// As Lambda does, a fresh process takes over.
	p2 := ready(t, srv)
	if p2.Pid() == p.Pid() || p2.Addr() == p.Addr() {
		t.Errorf("new process: got pid %d at %s, want a new process and endpoint (old %d at %s)", p2.Pid(), p2.Addr(), p.Pid(), p.Addr())
	}
	r, err := srv.Invoke(context.Background(), []byte(`{"action":"echo","message":"again"}`), 5*time.Second)
	if err != nil || r.Error != nil || !bytes.Contains(r.Payload, []byte(`"message":"again"`)) {
		t.Errorf("Invoke on the new process: got %s, %v, %v, want the echo", r.Payload, r.Error, err)
	}
}

func TestProcessDiesMidInvocation(t *testing.T) {
	tests := []struct {
		name        string
		event       string
		wantCode    int
		wantMessage string
		wantResult  bool // the function answered before dying
	}{
		{"exits", `{"action":"exit","code":3,"message":"fn: giving up"}`, 3, "function process exited with code 3 during invocation ", false},
		// aws-lambda-go reports a panic, then exits: the invocation has its
		// answer and the process is gone.
		{"panics", `{"action":"panic","message":"boom"}`, 1, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			p := ready(t, srv)
			r, err := srv.Invoke(context.Background(), []byte(tt.event), 10*time.Second)
			if tt.wantResult {
				if err != nil || r.Error == nil || r.Error.Type != "string" || r.Error.Message != "boom" {
					t.Fatalf("Invoke: got %+v, %v, want the panic reported as a function error", r.Error, err)
				}
			} else {
				if !errors.Is(err, runtimeapi.ErrProcessExited) || !strings.Contains(err.Error(), tt.wantMessage) || !strings.Contains(err.Error(), "fn: giving up") {
					t.Fatalf("Invoke: got error %v, want %q with the stderr message", err, tt.wantMessage)
				}
			}
			if code, _ := p.Wait(); code != tt.wantCode {
				t.Errorf("Wait: got code %d, want %d", code, tt.wantCode)
			}
		})
	}
}

func TestStartup(t *testing.T) {
	var stdout, stderr bytes.Buffer
	var mu sync.Mutex
	srv := newServer(t)
	p, err := srv.StartProcess(runtimeapi.ProcessConfig{
		Path:   bootstrap,
		Env:    []string{"FN_INIT=slow", "FN_INIT_MILLIS=150"},
		Stdout: lockedWriter{&mu, &stdout},
		Stderr: lockedWriter{&mu, &stderr},
	})
	if err != nil {
		t.Fatalf("StartProcess: %v", err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	if _, err := srv.StartProcess(runtimeapi.ProcessConfig{Path: bootstrap}); !errors.Is(err, runtimeapi.ErrProcessRunning) {
		t.Errorf("second StartProcess: got %v, want ErrProcessRunning", err)
	}
	if err := p.WaitReady(context.Background()); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if got := p.StartupLatency(); got < 150*time.Millisecond || got > 20*time.Second {
		t.Errorf("StartupLatency: got %v, want at least the 150ms init", got)
	}
	if got := p.Ready().Sub(p.Started()); got != p.StartupLatency() {
		t.Errorf("Ready - Started: got %v, want StartupLatency %v", got, p.StartupLatency())
	}
	// The function prints its init line before asking for an invocation,
	// but the line reaches us through a pipe that os/exec copies on its
	// own goroutine: it may arrive after the request.
	waitFor(t, "the init line on Stdout", func() bool { return strings.Contains(p.Stdout(), "init done\n") })
	waitFor(t, "the init line on the tee'd stdout", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(stdout.String(), "init done\n")
	})
	env := strings.Join(p.Env(), "\n") + "\n"
	for _, want := range []string{"AWS_LAMBDA_RUNTIME_API=" + p.Addr() + "\n", "AWS_LAMBDA_FUNCTION_NAME=function\n", "AWS_LAMBDA_LOG_FORMAT=JSON\n", "_HANDLER=bootstrap\n", "FN_INIT=slow\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("Env: got %q, want it to contain %q", env, want)
		}
	}
	if strings.Contains(env, "HOME=") {
		t.Errorf("Env: got %q, want nothing of the test's own environment", env)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestConcurrentInvokes(t *testing.T) {
	srv := newServer(t)
	ready(t, srv)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			msg := fmt.Sprintf("m%d", i)
			r, err := srv.Invoke(context.Background(), []byte(`{"action":"echo","message":"`+msg+`"}`), 10*time.Second)
			if err != nil || r.Error != nil {
				errs <- fmt.Errorf("Invoke %d: %v %v", i, err, r.Error)
				return
			}
			var got echoed
			if err := json.Unmarshal(r.Payload, &got); err != nil || got.Message != msg || got.RequestID != r.RequestID {
				errs <- fmt.Errorf("Invoke %d: got %s, want message %s and request id %s", i, r.Payload, msg, r.RequestID)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestInvokeCancelled(t *testing.T) {
	srv := newServer(t)
	ready(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := srv.Invoke(ctx, []byte(`{"action":"hang","millis":1000}`), time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke with a short context: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(began); d > 900*time.Millisecond {
		t.Errorf("Invoke with a short context took %v, want it to end with the context", d)
	}
	// The function still finishes the abandoned invocation, then serves
	// the next one.
	r, err := srv.Invoke(context.Background(), []byte(`{"action":"echo","message":"next"}`), 10*time.Second)
	if err != nil || !bytes.Contains(r.Payload, []byte(`"next"`)) {
		t.Errorf("Invoke after an abandoned one: got %s, %v, want the echo", r.Payload, err)
	}
}

func TestInvokeWithoutProcess(t *testing.T) {
	tests := []struct {
		name    string
		srv     func() *runtimeapi.Server
		timeout time.Duration
		want    error
	}{
		{"no process", func() *runtimeapi.Server { return runtimeapi.New() }, time.Second, runtimeapi.ErrNoProcess},
		{"closed", func() *runtimeapi.Server { s := runtimeapi.New(); _ = s.Close(); return s }, time.Second, runtimeapi.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.srv().Invoke(context.Background(), []byte(`{}`), tt.timeout); !errors.Is(err, tt.want) {
				t.Errorf("Invoke: got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := runtimeapi.New().Invoke(context.Background(), []byte(`{}`), 0); err == nil {
		t.Errorf("Invoke with timeout 0: got nil, want an error")
	}
}
