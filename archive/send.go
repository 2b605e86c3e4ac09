package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// records to send again, not with more throughput. It also bounds the
// request bodies held (requestBody): about 4/3 of the record data in
// flight.
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
		body := newRequestBody(d.a.bodies)
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
		still, verr := acknowledge(out, pending)
		if verr != nil {
			verr = fmt.Errorf("put record batch to %s: %w", d.a.cfg.StreamName, verr)
			d.noteErr(verr)
			if errors.Is(verr, ErrFirehoseProtocol) {
				d.logProtocolError(ctx, verr, len(pending), out)
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

// ErrFirehoseProtocol is an answer to PutRecordBatch that cannot be matched
// to the records sent: RequestResponses with fewer or more entries than
// records (an HTTP 200 with an empty body or `{}` decodes as none at all),
// or entries that say neither RecordId nor ErrorCode, or a FailedPutCount
// that disagrees with the entries. Every record the answer does not
// acknowledge is sent again.
var ErrFirehoseProtocol = errors.New("firehose answer does not match the records sent")

// acknowledge returns the records of pending (in the order sent) that
// Firehose's answer does not prove delivered, and an error describing
// what was wrong with the answer, if anything. A record counts as
// delivered only when the entry at its position has a RecordId and no
// ErrorCode (AWS-FACTS.md, "PutRecordBatch answers RequestResponses in the
// order of the records sent"). FailedPutCount is only cross-checked: the
// SDK decodes an empty or `{}` body as FailedPutCount 0 with no entries.
// still reuses pending's array.
func acknowledge(out *firehose.PutRecordBatchOutput, pending []int) (still []int, err error) {
	if out == nil {
		out = &firehose.PutRecordBatchOutput{}
	}
	failedPut := aws.ToInt32(out.FailedPutCount)
	if len(out.RequestResponses) != len(pending) {
		return pending, fmt.Errorf("%w: %d records sent, %d entries received, FailedPutCount %d",
			ErrFirehoseProtocol, len(pending), len(out.RequestResponses), failedPut)
	}
	still = pending[:0]
	var firstCode, firstMsg string
	unanswered := 0 // entries with neither RecordId nor ErrorCode
	for k, resp := range out.RequestResponses {
		code, id := aws.ToString(resp.ErrorCode), aws.ToString(resp.RecordId)
		if code == "" && id != "" {
			continue
		}
		still = append(still, pending[k])
		switch {
		case code == "":
			unanswered++
		case firstCode == "":
			firstCode, firstMsg = code, aws.ToString(resp.ErrorMessage)
		}
	}
	switch {
	case unanswered > 0 || int(failedPut) != len(still):
		return still, fmt.Errorf("%w: %d records sent, %d entries received, FailedPutCount %d, %d entries not acknowledged (%d with neither RecordId nor ErrorCode)",
			ErrFirehoseProtocol, len(pending), len(out.RequestResponses), failedPut, len(still), unanswered)
	case len(still) > 0:
		return still, fmt.Errorf("%d of %d records failed: %s: %s", len(still), len(pending), firstCode, firstMsg)
	}
	return still, nil
}

// logProtocolError logs an answer that did not match the call, with the
// call's details, whatever becomes of the records afterwards: a faulty
// proxy or an API change shows in the log even when a resend cures it.
func (d *delivery) logProtocolError(ctx context.Context, err error, sent int, out *firehose.PutRecordBatchOutput) {
	if d.a.logger == nil {
		return
	}
	d.a.logger.LogAttrs(ctx, slog.LevelError, "firehose answer does not match the call; its records are sent again",
		slog.String("stream", d.a.cfg.StreamName),
		slog.Int("records_sent", sent),
		slog.Int("entries_received", len(out.RequestResponses)),
		slog.Int("failed_put_count", int(aws.ToInt32(out.FailedPutCount))),
		slog.String("error", err.Error()))
}
