package archive

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/smithy-go"
)

// Backoff is the retry policy for records Firehose did not take.
type Backoff struct {
	// Base and Max bound the exponential backoff: before attempt n (from
	// 1) the archiver sleeps a random time in [0, min(Max, Base*2^(n-1))]
	// ("full jitter"), so that many shards retrying at once spread out.
	Base, Max time.Duration
	// AttemptsWithoutDeadline caps the attempts per call when the context
	// has no deadline (outside Lambda). With a deadline, the archiver
	// retries until the deadline nears.
	AttemptsWithoutDeadline int
}

// DefaultBackoff is used unless WithBackoff says otherwise.
var DefaultBackoff = Backoff{Base: 50 * time.Millisecond, Max: 2 * time.Second, AttemptsWithoutDeadline: 10}

// Delay returns a random sleep before the given retry (1 for the first):
// full jitter over min(Max, Base*2^(retry-1)).
func (p Backoff) Delay(retry int) time.Duration {
	d := p.Max
	if retry < 31 {
		if e := p.Base << (retry - 1); e > 0 && e < d {
			d = e
		}
	}
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// Safety margin: the archiver stops sending this long before the
// invocation's deadline, so that it always answers with a partial batch
// response instead of being killed mid-call (which would make Lambda retry
// the whole batch). A tenth of the time left, between 500 ms and 2 s: what
// follows the last call (collecting the outcome, the log and metric lines,
// the answer to the Runtime API) takes milliseconds on an idle CPU, but
// the function runs on a fraction of one, and the short soak saw answers
// 300 ms after the send deadline on a saturated host (with a 200 ms
// floor, two of them arrived 15-20 ms late).
const (
	minSafetyMargin = 500 * time.Millisecond
	maxSafetyMargin = 2 * time.Second
)

func safetyMargin(remaining time.Duration) time.Duration {
	return min(max(remaining/10, minSafetyMargin), maxSafetyMargin)
}

// sleepCtx sleeps for d unless ctx ends first; it reports whether it slept
// the whole time.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// permanentErrorCodes are Firehose errors that retrying within the
// invocation cannot cure: a missing stream, a denied role, a bad request.
// The records are reported failed at once; Lambda retries the batch later,
// when the configuration may have been fixed.
var permanentErrorCodes = map[string]bool{
	"ResourceNotFoundException":   true,
	"InvalidArgumentException":    true,
	"AccessDeniedException":       true,
	"InvalidKMSResourceException": true,
	"ValidationException":         true,
	"UnrecognizedClientException": true,
}

func isPermanent(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && permanentErrorCodes[ae.ErrorCode()]
}
