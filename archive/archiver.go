package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// BatchResponse is the partial batch response Lambda reads when the event
// source mapping has FunctionResponseTypes [ReportBatchItemFailures]. It
// marshals exactly as aws-lambda-go's events.DynamoDBEventResponse.
type BatchResponse struct {
	BatchItemFailures []BatchItemFailure `json:"batchItemFailures"`
}

// BatchItemFailure names a record that was not archived by its
// SequenceNumber (not its eventID). Lambda resumes from the lowest one.
type BatchItemFailure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

// Result is what Archive did with one batch.
type Result struct {
	Response BatchResponse
	Counts   Counts
	// Problems holds a few messages about records archived raw or not
	// delivered, and the last Firehose error, for the log.
	Problems []string
}

// ErrUnreportable is returned when a TTL record that was not delivered has
// no SequenceNumber: a partial batch response cannot name it, so the whole
// batch must fail to be retried.
var ErrUnreportable = errors.New("a record that was not archived has no SequenceNumber")

// BatchError is the error of an invocation that no partial batch response
// can answer: the payload is not a stream event that can be read
// ([ErrNotStreamEvent], invalid JSON), an event from another source than a
// DynamoDB stream ([ErrNotDynamoDBStream]), or a record that was not delivered
// has no SequenceNumber ([ErrUnreportable]). Lambda then retries the whole
// batch, bisecting it when the mapping says so; "BatchError" is the
// errorType it logs (aws-lambda-go reports the error's type name).
type BatchError struct {
	Err error
}

func (e *BatchError) Error() string { return e.Err.Error() }

func (e *BatchError) Unwrap() error { return e.Err }

// Archiver archives the TTL deletions of stream batches. Create it once
// with [New] and use it for every invocation; it is safe for concurrent use.
type Archiver struct {
	client       FirehoseAPI
	cfg          Config
	logger       *slog.Logger
	metrics      io.Writer
	functionName string
	backoff      Backoff
	now          func() time.Time
	idle         chan *batch  // batches kept for the next invocations
	bodies       *bodyBuffers // request body buffers kept for the next calls
}

// Option configures an Archiver.
type Option func(*Archiver)

// WithLogger makes the archiver write one log line per invocation (and
// warnings when records could not be converted or delivered).
func WithLogger(l *slog.Logger) Option { return func(a *Archiver) { a.logger = l } }

// WithMetrics makes the archiver write one CloudWatch Embedded Metric
// Format line per invocation to w, dimensioned by functionName.
func WithMetrics(w io.Writer, functionName string) Option {
	return func(a *Archiver) { a.metrics, a.functionName = w, functionName }
}

// WithBackoff sets the retry policy.
func WithBackoff(b Backoff) Option { return func(a *Archiver) { a.backoff = b } }

// New returns an Archiver that sends to client as cfg says.
func New(client FirehoseAPI, cfg Config, opts ...Option) (*Archiver, error) {
	if client == nil {
		return nil, errors.New("archive: nil Firehose client")
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	a := &Archiver{client: client, cfg: cfg, backoff: DefaultBackoff, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	a.idle = make(chan *batch, maxIdleBatches)
	a.bodies = &bodyBuffers{max: a.cfg.Concurrency}
	return a, nil
}

// maxIdleBatches is how many batches, with their buffers, an Archiver
// keeps between invocations: Lambda sends a process one invocation at a
// time, so one is reused every time; concurrent callers get new ones.
const maxIdleBatches = 2

// getBatch returns a kept batch, or a new one.
//
// The batches are kept in a channel rather than a sync.Pool: a Pool keeps
// what is put back on the current P (a thread of the scheduler), where
// Get on another P does not look, and empties at every second garbage
// collection. Either way an invocation would then start with empty
// buffers and grow them again step by step, as much work as the
// conversion itself for a large batch.
func (a *Archiver) getBatch() *batch {
	select {
	case b := <-a.idle:
		return b
	default:
		return new(batch)
	}
}

// putBatch keeps b for a later invocation, unless enough are kept.
func (a *Archiver) putBatch(b *batch) {
	select {
	case a.idle <- b:
	default:
	}
}

// Config returns the archiver's configuration.
func (a *Archiver) Config() Config { return a.cfg }

// Archive archives the TTL deletions of one stream batch (the invocation
// payload, a DynamoDB stream event). It returns an error only when the
// whole batch must be retried: a payload that is not a stream event or not
// valid JSON, a record that is not from a DynamoDB stream (nothing of the
// batch is then sent), or an undelivered record without a SequenceNumber. Every other
// failure is in Result.Response, record by record.
func (a *Archiver) Archive(ctx context.Context, payload []byte) (Result, error) {
	start := a.now()
	b := a.getBatch()
	defer a.putBatch(b)
	b.reset(a.cfg.Format)
	b.reserve(len(payload))

	var res Result
	if err := b.read(payload); err != nil {
		res.Counts = b.counts
		return res, &BatchError{fmt.Errorf("read stream event: %w", err)}
	}
	b.recs = b.records(a.cfg.Pack, b.recs)
	b.calls = calls(b.recs, a.cfg.BatchSize, b.calls)
	recs, cs := b.recs, b.calls
	b.counts.Records = len(recs)
	b.counts.Bytes = len(b.out)

	sendCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithDeadline(ctx, dl.Add(-safetyMargin(dl.Sub(start))))
		defer cancel()
	}
	d := a.deliver(sendCtx, b, recs, cs)
	b.counts.Calls = int(d.nCalls.Load())
	b.counts.Retried = int(d.retried.Load())

	// Every line whose record was not delivered is reported, and so is
	// every oversize record (it has no record at all).
	failedLine := make([]bool, len(b.lines))
	for i, r := range recs {
		if d.failed[i] {
			for l := r.first; l < r.last; l++ {
				failedLine[l] = true
			}
		}
	}
	res.Response.BatchItemFailures = []BatchItemFailure{}
	// Each table the lines came from gets its count, zero included: the
	// stop alarm compares it with the table's TTL deletions. Allocated per
	// invocation, since Counts outlives the batch.
	b.counts.Tables = make([]TableCount, len(b.tables))
	for i, t := range b.tables {
		b.counts.Tables[i].Table = t
	}
	var unreportable bool
	for i, l := range b.lines {
		if l.end == l.start {
			failedLine[i] = true
		}
		if !failedLine[i] {
			b.counts.Archived++
			if l.table >= 0 {
				b.counts.Tables[l.table].Archived++
			}
			if l.raw {
				b.counts.RawArchived++
			}
			continue
		}
		b.counts.Failed++
		if len(l.seq) == 0 {
			unreportable = true
			continue
		}
		res.Response.BatchItemFailures = append(res.Response.BatchItemFailures, BatchItemFailure{ItemIdentifier: string(l.seq)})
	}
	res.Problems = append(res.Problems, b.errs...)
	if d.lastErr != nil && b.counts.Failed > 0 {
		res.Problems = append(res.Problems, d.lastErr.Error())
	}
	b.counts.Duration = a.now().Sub(start)
	res.Counts = b.counts
	if unreportable {
		return res, &BatchError{fmt.Errorf("archive: %d records not delivered: %w", b.counts.Failed, ErrUnreportable)}
	}
	return res, nil
}

// Invoke is the Lambda handler: it archives the batch in payload and
// answers with the partial batch response. It has the signature of
// aws-lambda-go's lambda.Handler, so lambda.Start can take the Archiver
// itself. It logs one line and writes one metrics line per invocation.
func (a *Archiver) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := a.Archive(ctx, payload)
	a.report(ctx, res, err)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res.Response)
}

// report writes the invocation's log line and metrics.
func (a *Archiver) report(ctx context.Context, res Result, err error) {
	c := res.Counts
	if a.logger != nil {
		attrs := c.LogAttrs()
		level := slog.LevelInfo
		msg := "archived batch"
		switch {
		case err != nil:
			level, msg = slog.LevelError, "batch failed"
			attrs = append(attrs, slog.String("error", err.Error()))
		case c.Failed > 0:
			level, msg = slog.LevelWarn, "archived batch with failures"
		case c.RawArchived > 0:
			level = slog.LevelWarn
		}
		if len(res.Problems) > 0 {
			attrs = append(attrs, slog.Any("problems", res.Problems))
		}
		a.logger.LogAttrs(ctx, level, msg, attrs...)
		if c.NoOldImage > 0 {
			a.logger.LogAttrs(ctx, slog.LevelWarn, "TTL deletions without an old image were archived with item null: set the table's stream view type to NEW_AND_OLD_IMAGES (or OLD_IMAGE) to archive whole items",
				slog.Int("no_old_image", c.NoOldImage))
		}
	}
	if a.metrics != nil {
		_, _ = a.metrics.Write(c.EMF(a.now(), a.functionName)) // best effort: metrics never fail a batch
	}
}
