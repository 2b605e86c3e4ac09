package restore

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket of items per second. It holds at most one
// second of tokens; a take larger than what is left goes into debt, and the
// taker sleeps until the debt is paid, so the rate holds over time however
// large the takes are.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; <= 0: no limit
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, tokens: rate, now: time.Now, sleep: sleepCtx}
}

// take waits until n tokens are available, or ctx ends.
func (l *limiter) take(ctx context.Context, n int) error {
	if l == nil || l.rate <= 0 {
		return nil
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.rate {
			l.tokens = l.rate
		}
	}
	l.last = now
	l.tokens -= float64(n)
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait > 0 {
		return l.sleep(ctx, wait)
	}
	return nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
