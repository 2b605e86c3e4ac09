package esm

import (
	"context"
	"time"
)

// Invoker runs the function once, synchronously, with payload as its event
// and timeout as its configured timeout. Run calls it from one goroutine
// per shard, so it must be safe for concurrent use.
//
// The returned error is for the harness failing (the loopback Runtime API
// down, the process not starting): the model treats it like a function
// error but counts it apart. What the function itself did, including
// failing, goes in the Outcome.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Outcome, error)
}

// InvokerFunc adapts a function to an Invoker.
type InvokerFunc func(ctx context.Context, payload []byte, timeout time.Duration) (Outcome, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Outcome, error) {
	return f(ctx, payload, timeout)
}

// Outcome is what one invocation did.
type Outcome struct {
	// Response is what the function returned, when it returned.
	Response []byte
	// FunctionError is set when the function returned an error, crashed or
	// timed out: for an event source mapping all three are function errors
	// that fail the whole batch ([ERR] in the package doc).
	FunctionError *FunctionError
	// Duration is how long the invocation took. It also advances the
	// shard's virtual clock.
	Duration time.Duration
	// RequestID is the invocation's request id, written to the destination
	// record; one is made up when empty.
	RequestID string
}

// FunctionError describes a failed invocation, as the Runtime API reports
// it.
type FunctionError struct {
	Type     string // errorType, e.g. "Runtime.ExitError"
	Message  string // errorMessage
	TimedOut bool   // the invocation hit its timeout
}
