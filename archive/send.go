package archive

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// FirehoseAPI is the part of the Firehose client the archiver uses, with
// the SDK's own signature, so that *firehose.Client satisfies it and tests
// can pass a fake.
type FirehoseAPI interface {
	PutRecordBatch(ctx context.Context, params *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

var _ FirehoseAPI = (*firehose.Client)(nil)

// MaxBytesInFlight bounds the record data of the PutRecordBatch calls in
// flight at once, besides Config.Concurrency: one call's worth
// (MaxBytesPerCall). Small records still go out Concurrency calls at a
// time (400 records of 1 KB are 400 KB); calls of large records (up to
// 4 MiB each) go one after another, a round trip each: a stream's default
// quota of 5 MiB/s (AWS-FACTS.md) would answer more at once with throttled
// records to send again, not with more throughput. Memory is not what it
// bounds: a call's body is encoded from the lines as it is sent
// (streamedBody), not held.
const MaxBytesInFlight = MaxBytesPerCall

// byteBudget is a counting semaphore over bytes. Waiters take their turn
// in the order they arrive, so a large call is not starved by small ones.
type byteBudget struct {
	turn  sync.Mutex // held by the one waiter allowed to wait on cond
	mu    sync.Mutex
	cond  sync.Cond
	used  int
	limit int
}

func newByteBudget(limit int) *byteBudget {
	b := &byteBudget{limit: limit}
	b.cond.L = &b.mu
	return b
}

// acquire waits until n more bytes fit (n is capped at the limit, so a
// single call larger than the limit still goes, alone) and takes them. It
// returns what it took, to hand back to release. Waiting always ends: the
// bytes are held only while a call is sent, and sends end by the deadline.
func (b *byteBudget) acquire(n int) int {
	n = min(n, b.limit)
	b.turn.Lock()
	defer b.turn.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+n > b.limit {
		b.cond.Wait()
	}
	b.used += n
	return n
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// delivery is the state of sending one batch's records.
type delivery struct {
	a       *Archiver
	b       *batch
	recs    []fhRecord
	calls   []call
	budget  *byteBudget
	failed  []bool // by record: not delivered in the end
	next    atomic.Int64
	nCalls  atomic.Int64
	retried atomic.Int64
	errMu   sync.Mutex
	lastErr error
}

// deliver sends the records in calls, at most cfg.Concurrency calls and
// MaxBytesInFlight bytes of records at a time, resending what fails until
// it succeeds or ctx (the send deadline) ends. It returns, by record,
// whether the record was not delivered.
func (a *Archiver) deliver(ctx context.Context, b *batch, recs []fhRecord, cs []call) *delivery {
	d := &delivery{a: a, b: b, recs: recs, calls: cs, failed: make([]bool, len(recs)), budget: newByteBudget(MaxBytesInFlight)}
	workers := min(a.cfg.Concurrency, len(cs))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(d.next.Add(1) - 1)
				if i >= len(cs) {
					return
				}
				c := cs[i]
				n := d.budget.acquire(d.callBytes(c))
				d.send(ctx, c)
				d.budget.release(n)
			}
		})
	}
	wg.Wait()
	return d
}

// send delivers one call's records, resending only those that fail.
func (d *delivery) send(ctx context.Context, c call) {
	pending := make([]int, 0, c.last-c.first)
	for i := c.first; i < c.last; i++ {
		pending = append(pending, i)
	}
	entries := make([]types.Record, 0, len(pending))
	_, hasDeadline := ctx.Deadline()
	policy := d.a.backoff
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if !hasDeadline && attempt > policy.AttemptsWithoutDeadline {
				break
			}
			wait := policy.Delay(attempt - 1)
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				break
			}
			if !sleepCtx(ctx, wait) {
				break
			}
			d.retried.Add(int64(len(pending)))
		}
		entries = entries[:0]
		for _, r := range pending {
			rec := d.recs[r]
			entries = append(entries, types.Record{Data: d.b.out[rec.start:rec.end]})
		}
		d.nCalls.Add(1)
		body := new(streamedBody)
		out, err := d.a.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
			DeliveryStreamName: aws.String(d.a.cfg.StreamName),
			Records:            entries,
		}, body.apply)
		body.end() // the lines may be reused once the call has returned
		if err != nil {
			d.noteErr(fmt.Errorf("put record batch to %s: %w", d.a.cfg.StreamName, err))
			if isPermanent(err) || ctx.Err() != nil {
				break
			}
			continue
		}
		if aws.ToInt32(out.FailedPutCount) == 0 {
			pending = pending[:0]
			break
		}
		if len(out.RequestResponses) != len(pending) {
			// The answer cannot be matched to the records: send them all
			// again (at worst a duplicate, never a loss).
			d.noteErr(fmt.Errorf("put record batch to %s: %d responses for %d records", d.a.cfg.StreamName, len(out.RequestResponses), len(pending)))
			continue
		}
		still := pending[:0]
		for k, resp := range out.RequestResponses {
			if aws.ToString(resp.ErrorCode) != "" {
				still = append(still, pending[k])
				if k == 0 || len(still) == 1 {
					d.noteErr(fmt.Errorf("put record batch to %s: %d of %d records failed: %s: %s",
						d.a.cfg.StreamName, aws.ToInt32(out.FailedPutCount), len(pending), aws.ToString(resp.ErrorCode), aws.ToString(resp.ErrorMessage)))
				}
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
	}
	for _, r := range pending {
		d.failed[r] = true
	}
}

// callBytes is the record data of call c.
func (d *delivery) callBytes(c call) int {
	n := 0
	for _, r := range d.recs[c.first:c.last] {
		n += r.end - r.start
	}
	return n
}

func (d *delivery) noteErr(err error) {
	d.errMu.Lock()
	d.lastErr = err
	d.errMu.Unlock()
}
