package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
)

// KillFunc decides, for the n-th invocation (from 1), whether the function
// process is killed while it runs the invocation, and after how long. It is
// called concurrently.
type KillFunc func(n int64) (after time.Duration, kill bool)

// KillRate kills a share of the invocations (a pseudo-random function of
// seed and the invocation's number), each after a delay drawn uniformly
// from [0, within). An invocation that answers before its delay is not
// killed.
func KillRate(rate float64, within time.Duration, seed uint64) KillFunc {
	return func(n int64) (time.Duration, bool) {
		r := rand.New(rand.NewPCG(seed, uint64(n)))
		if r.Float64() >= rate {
			return 0, false
		}
		if within <= 0 {
			return 0, true
		}
		return time.Duration(r.Int64N(int64(within))), true
	}
}

// Functions runs the real bootstrap as Lambda runs a function behind an
// event source mapping: one execution environment (a process under its own
// loopback Runtime API) per invocation in flight, each serving one
// invocation at a time. It is the esm.Invoker of the soak.
//
// As in Lambda, an invocation that runs into its timeout is a function
// error ("Sandbox.Timedout") and its environment is replaced; so is one
// whose process died (killed by Kill, or crashed). The replacement is
// started before the next invocation, as a cold start.
type Functions struct {
	stack   *local.Stack
	opts    local.FunctionOptions
	kill    KillFunc
	observe func([]byte, esm.Outcome)
	// grace is how long past its deadline an invocation is waited for
	// before its process is killed: an answer in that time is counted late
	// (Lambda would have timed it out) rather than lost to the kill.
	grace time.Duration

	slots chan *slot
	all   []*slot

	n            atomic.Int64 // invocations started
	killed       atomic.Int64 // invocations killed by Kill
	idleKills    atomic.Int64 // kills that found the invocation already answered
	crashed      atomic.Int64 // processes that exited on their own
	late         atomic.Int64 // answers after the deadline, or none by deadline+grace
	hung         atomic.Int64 // of those, no answer by deadline+grace
	functionErrs atomic.Int64 // errors the function returned
	starts       atomic.Int64 // processes started (the first of each slot included)
	maxLate      atomic.Int64 // nanoseconds past the deadline, the most seen

	// stalls describes the harness's own stalls between two moments, for
	// the late examples; nil leaves them out.
	stalls func(from, to time.Time) string

	mu        sync.Mutex
	lastCrash string
	lateOnes  []lateAnswer
}

// lateAnswer is an invocation answered past its deadline, or not at all,
// kept for the late examples. They are written when Stats is called, by
// which time the harness's stalls around the answer have been measured.
type lateAnswer struct {
	requestID string
	bytes     int
	// queued, taken, answered and deadline are as runtimeapi.Result has
	// them; for an invocation not answered by the deadline plus the grace
	// (hung), answered is when the harness gave up on it.
	queued, taken, answered, deadline time.Time
	hung                              bool
}

// maxLateExamples bounds the late answers described in the stats.
const maxLateExamples = 10

func (l lateAnswer) String() string {
	taken := "never taken"
	if !l.taken.IsZero() {
		taken = fmt.Sprintf("taken %v later", l.taken.Sub(l.queued))
	}
	head := fmt.Sprintf("request %s, %d bytes: queued %s, %s, ", l.requestID, l.bytes, l.queued.UTC().Format(time.RFC3339Nano), taken)
	if l.hung {
		return head + fmt.Sprintf("no answer by %v past the deadline %s",
			l.answered.Sub(l.deadline), l.deadline.UTC().Format(time.RFC3339Nano))
	}
	return head + fmt.Sprintf("answered %v after taken, %v past the deadline %s",
		l.answered.Sub(l.taken), l.answered.Sub(l.deadline), l.deadline.UTC().Format(time.RFC3339Nano))
}

type slot struct {
	fn *local.Function
}

// FunctionsOptions configure StartFunctions.
type FunctionsOptions struct {
	// Bootstrap is the built function; Env its settings on top of the
	// stack's.
	Bootstrap string
	Env       []string
	// Processes is the number of execution environments: the most
	// invocations in flight at once (one per shard being processed).
	Processes int
	// Kill, when set, kills processes in the middle of invocations.
	Kill KillFunc
	// Grace is how long past its deadline a late invocation is waited for
	// (default 2 s).
	Grace time.Duration
	// Output receives the functions' stdout and stderr (log and metric
	// lines); nil discards them.
	Output io.Writer
	// Observe, when set, is told of every invocation that reached a
	// function: its payload and what came of it. It is called
	// concurrently.
	Observe func(payload []byte, out esm.Outcome)
	// Stalls, when set, describes the harness's own scheduling stalls
	// between two moments; each late example ends with what it says about
	// the time from the invocation's hand-over to its answer.
	Stalls func(from, to time.Time) string
}

// StartFunctions starts the execution environments.
func StartFunctions(ctx context.Context, stack *local.Stack, o FunctionsOptions) (*Functions, error) {
	if o.Processes < 1 {
		return nil, errors.New("soak: functions: want at least one process")
	}
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	f := &Functions{
		stack:   stack,
		opts:    local.FunctionOptions{Bootstrap: o.Bootstrap, Env: o.Env, Stdout: out, Stderr: out},
		kill:    o.Kill,
		observe: o.Observe,
		grace:   o.Grace,
		stalls:  o.Stalls,
		slots:   make(chan *slot, o.Processes),
	}
	if f.grace <= 0 {
		f.grace = 2 * time.Second
	}
	for range o.Processes {
		s := &slot{}
		if err := f.start(ctx, s); err != nil {
			_ = f.Close()
			return nil, err
		}
		f.all = append(f.all, s)
		f.slots <- s
	}
	return f, nil
}

// start replaces the slot's environment with a new one.
func (f *Functions) start(ctx context.Context, s *slot) error {
	if s.fn != nil {
		_ = s.fn.Close()
		s.fn = nil
	}
	fn, err := f.stack.StartFunction(ctx, f.opts)
	if err != nil {
		return fmt.Errorf("soak: start function: %w", err)
	}
	f.starts.Add(1)
	s.fn = fn
	return nil
}

// Close stops every environment.
func (f *Functions) Close() error {
	var errs []error
	for _, s := range f.all {
		if s.fn != nil {
			errs = append(errs, s.fn.Close())
		}
	}
	return errors.Join(errs...)
}

// Invoke runs one invocation in a free environment. It implements
// esm.Invoker.
func (f *Functions) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (esm.Outcome, error) {
	out, err := f.invoke(ctx, payload, timeout)
	if err == nil && f.observe != nil {
		f.observe(payload, out)
	}
	return out, err
}

func (f *Functions) invoke(ctx context.Context, payload []byte, timeout time.Duration) (esm.Outcome, error) {
	var s *slot
	select {
	case s = <-f.slots:
	case <-ctx.Done():
		return esm.Outcome{}, ctx.Err()
	}
	defer func() { f.slots <- s }()
	if s.fn == nil || s.fn.Process.Exited() != nil {
		if err := f.start(ctx, s); err != nil {
			return esm.Outcome{}, err
		}
	}
	n := f.n.Add(1)

	// The invocation is waited for until its deadline plus the grace.
	ictx, cancel := context.WithTimeout(ctx, timeout+f.grace)
	defer cancel()
	var killTimer *time.Timer
	killDone := make(chan struct{})
	var killFired atomic.Bool
	if f.kill != nil {
		if after, ok := f.kill(n); ok {
			p := s.fn.Process
			killTimer = time.AfterFunc(after, func() {
				defer close(killDone)
				killFired.Store(true)
				_ = p.Kill()
			})
		}
	}
	start := time.Now()
	res, err := s.fn.Invoke(ictx, payload, timeout)
	elapsed := time.Since(start)
	if killTimer != nil && !killTimer.Stop() {
		<-killDone // the kill ran: let it finish before looking at the process
	}
	if ctx.Err() != nil {
		return esm.Outcome{}, ctx.Err()
	}

	var exit *runtimeapi.ExitError
	switch {
	case err == nil:
		out := esm.Outcome{Response: res.Payload, Duration: res.Duration, RequestID: res.RequestID}
		if res.Late {
			// Lambda would have ended the invocation at its deadline: a
			// timeout, and a new environment for the next one.
			f.noteLate(res.Answered.Sub(res.Deadline), lateAnswer{
				requestID: res.RequestID, bytes: len(payload),
				queued: res.Queued, taken: res.Taken, answered: res.Answered, deadline: res.Deadline,
			})
			out.Response = nil
			out.FunctionError = &esm.FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out", TimedOut: true}
			_ = s.fn.Process.Kill()
		} else if res.Error != nil {
			f.functionErrs.Add(1)
			out.FunctionError = &esm.FunctionError{Type: res.Error.Type, Message: res.Error.Message}
		}
		if killFired.Load() {
			f.idleKills.Add(1) // answered first; the environment is replaced
		}
		return out, nil
	case errors.As(err, &exit):
		if killFired.Load() {
			f.killed.Add(1)
		} else {
			f.crashed.Add(1)
			f.mu.Lock()
			f.lastCrash = exit.Error()
			f.mu.Unlock()
		}
		return esm.Outcome{
			FunctionError: &esm.FunctionError{Type: "Runtime.ExitError", Message: exit.Error()},
			Duration:      elapsed,
		}, nil
	case errors.Is(err, context.DeadlineExceeded):
		// No answer by deadline plus grace: a timeout; the process is
		// killed as Lambda kills a timed-out environment.
		f.noteLate(elapsed-timeout, lateAnswer{
			requestID: res.RequestID, bytes: len(payload),
			queued: res.Queued, taken: res.Taken, answered: start.Add(elapsed), deadline: res.Deadline, hung: true,
		})
		_ = s.fn.Process.Kill()
		return esm.Outcome{
			FunctionError: &esm.FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out", TimedOut: true},
			Duration:      elapsed,
		}, nil
	default:
		// The harness failed (no process, Runtime API closed): replace
		// the environment and let the mapping count it apart.
		if s.fn.Process.Exited() == nil {
			_ = s.fn.Process.Kill()
		}
		return esm.Outcome{Duration: elapsed}, fmt.Errorf("soak: invoke: %w", err)
	}
}

// noteLate counts an invocation answered past its deadline, or not
// answered, by the given time, and keeps it for the examples.
func (f *Functions) noteLate(by time.Duration, l lateAnswer) {
	f.late.Add(1)
	if l.hung {
		f.hung.Add(1)
	}
	f.mu.Lock()
	if len(f.lateOnes) < maxLateExamples {
		f.lateOnes = append(f.lateOnes, l)
	}
	f.mu.Unlock()
	for {
		cur := f.maxLate.Load()
		if int64(by) <= cur || f.maxLate.CompareAndSwap(cur, int64(by)) {
			return
		}
	}
}

// FunctionStats are the counts of a Functions.
type FunctionStats struct {
	Invocations int64 `json:"invocations"`
	// Killed counts invocations killed mid-way by the Kill fault; IdleKills
	// kills that came after the answer (the environment was replaced
	// anyway).
	Killed    int64 `json:"killed"`
	IdleKills int64 `json:"idle_kills"`
	// Crashed counts processes that exited on their own while serving:
	// never expected.
	Crashed   int64  `json:"crashed"`
	LastCrash string `json:"last_crash,omitempty"`
	// PastDeadline counts invocations answered after their deadline or not
	// at all; Hung those not answered within the grace after it.
	PastDeadline int64    `json:"past_deadline"`
	Hung         int64    `json:"hung"`
	MaxLateMS    float64  `json:"max_late_ms"`
	LateExamples []string `json:"late_examples,omitempty"`
	// FunctionErrors counts errors the function returned (not crashes or
	// timeouts).
	FunctionErrors int64 `json:"function_errors"`
	// ColdStarts counts processes started, the first ones included.
	ColdStarts int64 `json:"cold_starts"`
}

// Stats returns the counts so far.
func (f *Functions) Stats() FunctionStats {
	f.mu.Lock()
	last, lateOnes := f.lastCrash, slices.Clone(f.lateOnes)
	f.mu.Unlock()
	var late []string
	for _, l := range lateOnes {
		e := l.String()
		if f.stalls != nil {
			from := l.taken
			if from.IsZero() {
				from = l.queued
			}
			e += "; " + f.stalls(from, l.answered)
		}
		late = append(late, e)
	}
	return FunctionStats{
		Invocations:    f.n.Load(),
		Killed:         f.killed.Load(),
		IdleKills:      f.idleKills.Load(),
		Crashed:        f.crashed.Load(),
		LastCrash:      last,
		PastDeadline:   f.late.Load(),
		Hung:           f.hung.Load(),
		MaxLateMS:      float64(f.maxLate.Load()) / 1e6,
		LateExamples:   late,
		FunctionErrors: f.functionErrs.Load(),
		ColdStarts:     f.starts.Load(),
	}
}

var _ esm.Invoker = (*Functions)(nil)
