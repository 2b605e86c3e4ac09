package esm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run processes every shard to its end through fn and returns what
// happened. Shards run concurrently (at most Concurrency at once), one
// goroutine each; within a shard, records go strictly in order with one
// invocation in flight, as an event source mapping with
// ParallelizationFactor 1 does ([DDB] in the package doc).
//
// Run stops at the first error: a setting out of range, a malformed shard,
// a destination that failed, or ctx ending. The report then holds what was
// done so far.
func (m Mapping) Run(ctx context.Context, shards []Shard, fn Invoker) (Report, error) {
	if m.ExecutedVersion == "" {
		m.ExecutedVersion = "$LATEST"
	}
	if err := m.check(); err != nil {
		return Report{}, fmt.Errorf("event source mapping: %w", err)
	}
	seen := make(map[string]bool, len(shards))
	for _, sh := range shards {
		if err := checkShard(sh); err != nil {
			return Report{}, fmt.Errorf("event source mapping: %w", err)
		}
		if seen[sh.ID] {
			return Report{}, fmt.Errorf("event source mapping: shard %s given twice", sh.ID)
		}
		seen[sh.ID] = true
	}
	if fn == nil {
		return Report{}, errors.New("event source mapping: no Invoker")
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	limit := m.Concurrency
	if limit == 0 || limit > len(shards) {
		limit = len(shards)
	}
	slots := make(chan struct{}, max(limit, 1))
	runs := make([]*shardRun, len(shards))
	var wg sync.WaitGroup
	for i, sh := range shards {
		runs[i] = &shardRun{m: &m, shard: sh, report: ShardReport{ID: sh.ID, Records: len(sh.Records)}}
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			if err := runs[i].run(ctx, fn); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()

	var rep Report
	for _, r := range runs {
		rep.add(r)
	}
	if err := context.Cause(ctx); err != nil {
		return rep, fmt.Errorf("event source mapping: %w", err)
	}
	return rep, nil
}

// batch is the records of one invocation, and what they went through.
type batch struct {
	records []Record
	retries int  // retry attempts used
	invokes int  // invocations that carried these records
	retry   bool // the next invocation is a retry
	failed  bool // the last invocation of these records failed
	// fnErr is the last invocation's functionError, nil after a response.
	fnErr *string
	// requestID is the last invocation's request id.
	requestID string
}

// shardRun processes one shard.
type shardRun struct {
	m     *Mapping
	shard Shard
	now   time.Time // the shard's virtual clock

	report                       ShardReport
	functionErrors, invokeErrors int
	timeouts, partial, invalid   int
	retries, bisections          int
	discarded                    []Discarded
	durations                    []time.Duration
}

var unhandled = "Unhandled"

func (s *shardRun) run(ctx context.Context, fn Invoker) error {
	m := s.m
	records := s.shard.Records
	s.now = m.Start
	if s.now.IsZero() && len(records) > 0 {
		s.now = records[0].Created
	}
	next := 0
	// queue holds the batch being worked on; after a bisection, its two
	// halves, first half first.
	var queue []*batch
	for len(queue) > 0 || next < len(records) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(queue) == 0 {
			n := s.shard.cut(records[next:], m.BatchSize, MaxPayloadBytes)
			if n == 0 {
				// A record that does not fit in a payload alone: see
				// ConditionRecordTooLarge.
				b := &batch{records: records[next : next+1]}
				next++
				if err := s.discard(ctx, b, ConditionRecordTooLarge, false); err != nil {
					return err
				}
				continue
			}
			queue = append(queue, &batch{records: records[next : next+n]})
			next += n
		}
		b := queue[0]
		if b.failed {
			s.now = s.now.Add(m.RetryDelay)
		}
		if err := s.expire(ctx, b); err != nil {
			return err
		}
		if len(b.records) == 0 {
			queue = queue[1:]
			continue
		}
		halves, err := s.invoke(ctx, fn, b)
		if err != nil {
			return err
		}
		switch {
		case halves != nil:
			queue = append(halves, queue[1:]...)
		case len(b.records) == 0:
			queue = queue[1:]
		}
	}
	return nil
}

// expire takes out of b, before an invocation, the records that are too old:
// those past MaximumRecordAgeInSeconds go to the destination with
// RecordAgeExceeded, without invoking the function, and the rest of the
// batch goes on ([ERR]: Lambda retries "until the records expire, exceed
// the maximum age ..., or reach the configured retry quota"; [LS]: an
// expired record is discarded alone while the others of its batch are
// invoked). Those past the stream's retention are trimmed. Records are in
// creation order, so the old ones are at the front.
func (s *shardRun) expire(ctx context.Context, b *batch) error {
	if age := s.m.MaximumRecordAgeInSeconds; age >= 0 {
		limit := time.Duration(age) * time.Second
		n := s.older(b.records, limit)
		if n > 0 {
			old := &batch{records: b.records[:n], invokes: b.invokes, requestID: b.requestID}
			b.records = b.records[n:]
			if err := s.discard(ctx, old, ConditionRecordAgeExceeded, false); err != nil {
				return err
			}
		}
	}
	if n := s.older(b.records, StreamRetention); n > 0 {
		s.report.Trimmed += n
		s.pass(b.records[:n])
		b.records = b.records[n:]
	}
	return nil
}

// older counts the records at the front of records older than limit.
func (s *shardRun) older(records []Record, limit time.Duration) int {
	n := 0
	for n < len(records) && !records[n].Created.IsZero() && s.now.Sub(records[n].Created) > limit {
		n++
	}
	return n
}

// invoke runs the function on b and applies the outcome. It returns the two
// halves of b when b was bisected; otherwise b is left with the records
// still to do (none when it is finished).
func (s *shardRun) invoke(ctx context.Context, fn Invoker, b *batch) ([]*batch, error) {
	m := s.m
	payload, err := s.shard.BuildPayload(b.records)
	if err != nil {
		return nil, err
	}
	out, err := fn.Invoke(ctx, payload, m.FunctionTimeout)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s.report.Invocations++
	b.invokes++
	if b.retry {
		s.retries++
		b.retry = false
	}
	s.now = s.now.Add(out.Duration)
	b.requestID = out.RequestID
	if b.requestID == "" {
		b.requestID = newUUID()
	}

	functionError := false
	switch {
	case err != nil:
		// The harness failed: treated as a function error, counted apart.
		s.invokeErrors++
		functionError = true
	default:
		s.durations = append(s.durations, out.Duration)
		if (out.FunctionError != nil && out.FunctionError.TimedOut) || out.Duration > m.FunctionTimeout {
			s.timeouts++
		}
		if out.FunctionError != nil {
			s.functionErrors++
			functionError = true
		}
	}

	if functionError {
		b.fnErr = &unhandled
		return s.fail(ctx, b, true)
	}
	b.fnErr = nil
	if !m.ReportBatchItemFailures {
		// "Without the setting in the mapping, the response is ignored"
		// ([PBR]): returning is success.
		s.succeed(b)
		return nil, nil
	}
	resp := ParseResponse(out.Response, b.records)
	switch resp.Verdict {
	case Success:
		s.succeed(b)
		return nil, nil
	case Partial:
		// The records before the lowest reported sequence number are
		// checkpointed; the retry starts there and uses the retry quota
		// ([PBR], [LS]). With BisectBatchOnFunctionError too, "the batch
		// will be bisected at the returned sequence number and Lambda will
		// retry only the remaining records" ([PBR]): the same thing.
		s.partial++
		s.report.Succeeded += resp.Lowest
		s.pass(b.records[:resp.Lowest])
		b.records = b.records[resp.Lowest:]
		return s.fail(ctx, b, false)
	default:
		s.invalid++
		return s.fail(ctx, b, false)
	}
}

// fail handles a batch whose invocation failed. A function error with
// BisectBatchOnFunctionError splits the batch in two, both halves keeping
// its retry count, since "splitting batches doesn't consume the retry
// quota" ([ERR]); it does so even with no retry left. Otherwise the batch is
// retried, or discarded with RetryAttemptsExhausted once it has been
// retried MaximumRetryAttempts times (-1: never; [ERR], [PARAMS]).
func (s *shardRun) fail(ctx context.Context, b *batch, functionError bool) ([]*batch, error) {
	m := s.m
	b.failed = true
	if functionError && m.BisectBatchOnFunctionError && len(b.records) > 1 {
		s.bisections++
		mid := (len(b.records) + 1) / 2
		first, second := *b, *b
		first.records = b.records[:mid]
		second.records = b.records[mid:]
		return []*batch{&first, &second}, nil
	}
	if m.MaximumRetryAttempts >= 0 && b.retries >= m.MaximumRetryAttempts {
		err := s.discard(ctx, b, ConditionRetryAttemptsExhausted, true)
		b.records = nil
		return nil, err
	}
	b.retries++
	b.retry = true
	return nil, nil
}

func (s *shardRun) succeed(b *batch) {
	s.report.Succeeded += len(b.records)
	s.pass(b.records)
	b.records = nil
}

// pass moves the checkpoint past records.
func (s *shardRun) pass(records []Record) {
	if len(records) == 0 {
		return
	}
	s.report.Checkpointed += len(records)
	s.report.Checkpoint = records[len(records)-1].SequenceNumber
}

// discard sends b's records to the destination, if any, and moves the
// checkpoint past them: "If the error handling measures fail, Lambda
// discards the records and continues processing batches from the stream"
// ([ERR]).
func (s *shardRun) discard(ctx context.Context, b *batch, condition string, invoked bool) error {
	m := s.m
	first, last := b.records[0], b.records[len(b.records)-1]
	payload, err := s.shard.BuildPayload(b.records)
	if err != nil {
		return err
	}
	rec := OnFailureRecord{
		RequestContext: RequestContext{
			RequestID:              b.requestID,
			FunctionARN:            m.FunctionARN,
			Condition:              condition,
			ApproximateInvokeCount: b.invokes,
		},
		Version:   "1.0",
		Timestamp: s.now.UTC().Format(timestampLayout),
		DDBStreamBatchInfo: BatchInfo{
			ShardID:                         s.shard.ID,
			StartSequenceNumber:             first.SequenceNumber,
			EndSequenceNumber:               last.SequenceNumber,
			ApproximateArrivalOfFirstRecord: arrival(first.Created),
			ApproximateArrivalOfLastRecord:  arrival(last.Created),
			BatchSize:                       len(b.records),
			StreamARN:                       m.StreamARN,
		},
		Payload: payload,
		Time:    s.now,
	}
	if rec.RequestContext.RequestID == "" {
		rec.RequestContext.RequestID = newUUID()
	}
	if invoked {
		rec.ResponseContext = &ResponseContext{StatusCode: 200, ExecutedVersion: m.ExecutedVersion, FunctionError: b.fnErr}
	}
	s.discarded = append(s.discarded, Discarded{
		ShardID: s.shard.ID, Condition: condition, Records: len(b.records),
		Start: first.SequenceNumber, End: last.SequenceNumber,
	})
	s.report.Discarded += len(b.records)
	s.pass(b.records)
	if m.Destination == nil {
		return nil
	}
	if err := m.Destination.OnFailure(ctx, rec); err != nil {
		return fmt.Errorf("shard %s: send records %s to %s to the on-failure destination: %w",
			s.shard.ID, first.SequenceNumber, last.SequenceNumber, err)
	}
	return nil
}
