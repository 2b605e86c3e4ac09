package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MaxResponseBytes is the largest response the runtime may post for a
// synchronous invocation; Lambda's message for a larger one names this
// number ("exceeded maximum allowed payload size (6291556 bytes)").
const MaxResponseBytes = 6291556

// DefaultAccountID is the account in the function ARN the server sends.
const DefaultAccountID = "123456789012"

var (
	// ErrNoProcess is returned by Invoke when no process is running to
	// take the invocation.
	ErrNoProcess = errors.New("no function process is running")
	// ErrProcessRunning is returned by StartProcess while an earlier
	// process has not exited.
	ErrProcessRunning = errors.New("a function process is already running")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("runtime API server closed")
	// ErrProcessExited matches (errors.Is) every [*ExitError].
	ErrProcessExited = errors.New("function process exited")
)

// Server is the Lambda side of the Runtime API: the queue of invocations
// and the process that serves them. Its methods are safe for concurrent
// use.
type Server struct {
	account string

	mu     sync.Mutex
	queue  []*invocation // queued, not yet taken by the runtime
	wake   chan struct{} // closed and replaced when the queue grows
	proc   *Process      // the running process, nil when none
	last   *ExitError    // how the last process ended
	closed bool
}

// Option configures a [Server].
type Option func(*Server)

// WithAccountID sets the account id in the invoked function ARN (default
// [DefaultAccountID]).
func WithAccountID(id string) Option {
	return func(s *Server) { s.account = id }
}

// New returns a server with no process.
func New(opts ...Option) *Server {
	s := &Server{account: DefaultAccountID, wake: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close kills the running process, if any, and fails every invocation not
// answered yet with ErrClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	p := s.proc
	for _, inv := range s.queue {
		inv.finishLocked(ErrClosed)
	}
	s.queue = nil
	s.mu.Unlock()
	if p != nil {
		if err := p.Kill(); err != nil {
			return fmt.Errorf("close runtime API server: %w", err)
		}
	}
	return nil
}

// FunctionError is an error the runtime reported for an invocation (POST
// .../error), or a response Lambda would turn into one.
type FunctionError struct {
	// Type is errorType from the body, else the
	// Lambda-Runtime-Function-Error-Type header.
	Type string
	// Message is errorMessage from the body.
	Message string
	// Body is the error document as posted.
	Body []byte
}

func (e *FunctionError) Error() string {
	return e.Type + ": " + e.Message
}

// Result is the outcome of one invocation.
type Result struct {
	// RequestID is the invocation's Lambda-Runtime-Aws-Request-Id.
	RequestID string
	// Payload is the function's response; nil when Error is set.
	Payload []byte
	// Error is the function's error, nil when it responded.
	Error *FunctionError
	// Queued is when Invoke queued the invocation, Taken when the runtime
	// received it from /next (zero if it never did), Answered when its
	// response or error arrived.
	Queued, Taken, Answered time.Time
	// Duration is Answered minus Queued.
	Duration time.Duration
	// Deadline is the Lambda-Runtime-Deadline-Ms sent to the runtime.
	Deadline time.Time
	// Late reports an answer after the deadline, which Lambda would have
	// turned into a timeout.
	Late bool
}

// invocation is one queued or in-flight invocation. Its fields after
// payload are guarded by Server.mu.
type invocation struct {
	id       string
	payload  []byte
	traceID  string
	deadline time.Time

	result   Result
	err      error
	done     chan struct{} // closed by finish
	finished bool
}

// finishLocked ends the invocation with err (nil when result is set). The
// caller holds Server.mu.
func (inv *invocation) finishLocked(err error) {
	if inv.finished {
		return
	}
	inv.finished = true
	inv.err = err
	close(inv.done)
}

// Invoke queues payload as an invocation whose deadline is now plus
// timeout, and waits for the function's answer. A function error is in
// Result.Error with a nil error; the error is for what kept the function
// from answering: no process ([ErrNoProcess]), a process that exited
// ([*ExitError]), an init error the runtime reported ([*InitError]), a
// closed server, or ctx. Invoke does not end the invocation at its
// deadline: it waits for the answer (Result.Late tells) until ctx ends.
func (s *Server) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Result, error) {
	if timeout <= 0 {
		return Result{}, fmt.Errorf("invoke: timeout %v: want a positive duration", timeout)
	}
	now := time.Now()
	inv := &invocation{
		id:       newRequestID(),
		payload:  payload,
		traceID:  newTraceID(now),
		deadline: now.Add(timeout),
		done:     make(chan struct{}),
	}
	inv.result = Result{RequestID: inv.id, Queued: now, Deadline: inv.deadline}

	s.mu.Lock()
	switch p := s.proc; {
	case s.closed:
		s.mu.Unlock()
		return inv.result, fmt.Errorf("invoke: %w", ErrClosed)
	case p == nil && s.last != nil:
		last := s.last
		s.mu.Unlock()
		return inv.result, fmt.Errorf("invoke: %w since the last one ended: %w", ErrNoProcess, last)
	case p == nil:
		s.mu.Unlock()
		return inv.result, fmt.Errorf("invoke: %w", ErrNoProcess)
	case p.initErr != nil:
		s.mu.Unlock()
		return inv.result, fmt.Errorf("invoke: %w", p.initErr)
	}
	s.queue = append(s.queue, inv)
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()

	select {
	case <-inv.done:
	case <-ctx.Done():
		s.mu.Lock()
		for i, q := range s.queue {
			if q == inv {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
		// An answer that arrives later is accepted and dropped.
		inv.finishLocked(ctx.Err())
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.err != nil {
		return inv.result, fmt.Errorf("invoke %s: %w", inv.id, inv.err)
	}
	return inv.result, nil
}

// next blocks until an invocation is queued and hands it to p, or returns
// nil when ctx ends, p exits or the server closes.
func (s *Server) next(ctx context.Context, p *Process) *invocation {
	for {
		s.mu.Lock()
		if s.closed || s.proc != p || p.exited {
			s.mu.Unlock()
			return nil
		}
		if len(s.queue) > 0 {
			inv := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			inv.result.Taken = time.Now()
			p.inflight[inv.id] = inv
			s.mu.Unlock()
			return inv
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-p.exitedCh:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// requeue puts an invocation that could not be handed over back at the
// head of the queue.
func (s *Server) requeue(p *Process, inv *invocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(p.inflight, inv.id)
	if inv.finished || s.closed {
		return
	}
	inv.result.Taken = time.Time{}
	s.queue = append([]*invocation{inv}, s.queue...)
	close(s.wake)
	s.wake = make(chan struct{})
}

// answer ends the invocation id held by p with a response (fe nil) or a
// function error. It reports false if p holds no such invocation.
func (s *Server) answer(p *Process, id string, payload []byte, fe *FunctionError) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := p.inflight[id]
	if !ok {
		return false
	}
	delete(p.inflight, id)
	now := time.Now()
	inv.result.Answered = now
	inv.result.Duration = now.Sub(inv.result.Queued)
	inv.result.Late = now.After(inv.deadline)
	if fe != nil {
		inv.result.Error = fe
	} else {
		inv.result.Payload = payload
	}
	inv.finishLocked(nil)
	return true
}

// attach makes p the running process.
func (s *Server) attach(p *Process) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.proc != nil:
		return ErrProcessRunning
	}
	s.proc = p
	return nil
}

// detach fails what p held and, if nothing else runs, what is queued: no
// process is left to take it.
func (s *Server) detach(p *Process, exit *ExitError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.exited = true
	for id, inv := range p.inflight {
		e := *exit
		e.During = "invocation " + id
		inv.finishLocked(&e)
	}
	clear(p.inflight)
	if s.proc == p {
		s.proc = nil
		s.last = exit
		for _, inv := range s.queue {
			inv.finishLocked(exit)
		}
		s.queue = nil
	}
}

// initFailed records an init error the runtime reported and fails the
// queued invocations with it, as Lambda serves it in response to the first
// invoke.
func (s *Server) initFailed(p *Process, ie *InitError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.initErr == nil {
		p.initErr = ie
	}
	if s.proc == p {
		for _, inv := range s.queue {
			inv.finishLocked(ie)
		}
		s.queue = nil
	}
}

// errorDocument is Lambda's error format, posted to the error paths.
type errorDocument struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// parseFunctionError reads a posted error: the type from the body, else
// from the header, as the API description says Lambda does.
func parseFunctionError(headerType string, body []byte) *FunctionError {
	fe := &FunctionError{Type: headerType, Body: body}
	var doc errorDocument
	if json.Unmarshal(body, &doc) == nil {
		if doc.ErrorType != "" {
			fe.Type = doc.ErrorType
		}
		fe.Message = doc.ErrorMessage
	} else if len(body) > 0 {
		fe.Message = string(body)
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

// newRequestID returns a random UUID (version 4), as Lambda's request ids
// are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an X-Ray trace header: Root=1-<epoch hex>-<96 random
// bits>, a parent segment and Sampled=0.
func newTraceID(now time.Time) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}
