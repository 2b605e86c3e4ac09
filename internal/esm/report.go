package esm

import (
	"math"
	"slices"
	"time"
)

// Report is what a Run did, over all shards.
type Report struct {
	Invocations int
	// FunctionErrors counts invocations where the function returned an
	// error, crashed or timed out.
	FunctionErrors int
	// InvokeErrors counts invocations where the Invoker itself failed; they
	// were handled like function errors.
	InvokeErrors int
	// Timeouts counts invocations that timed out or ran past the function
	// timeout; TimeoutExceeded says whether there was any.
	Timeouts        int
	TimeoutExceeded bool
	// PartialResponses counts responses that reported some records failed;
	// InvalidResponses those that failed the whole batch (see
	// ParseResponse). Both only with ReportBatchItemFailures.
	PartialResponses int
	InvalidResponses int
	// Retries counts invocations that retried records after a failure and
	// used the retry quota; Bisections counts batches split in two.
	Retries    int
	Bisections int
	// OnFailure lists the discarded batches, in shard order; Trimmed counts
	// records dropped by the stream's retention.
	OnFailure        []Discarded
	OnFailureRecords int
	Trimmed          int
	// Durations holds the duration of every invocation that reached the
	// function, shard after shard, each shard in order.
	Durations []time.Duration
	// Shards reports each shard, in the order given to Run.
	Shards []ShardReport
}

// Discarded is one batch sent to the on-failure destination (or dropped,
// without one).
type Discarded struct {
	ShardID   string
	Condition string
	Records   int
	Start     string // first sequence number
	End       string // last sequence number
}

// ShardReport is what Run did with one shard.
type ShardReport struct {
	ID          string
	Records     int
	Invocations int
	// Checkpointed counts the records the checkpoint has passed: Succeeded
	// plus Discarded plus Trimmed. It equals Records when the shard was
	// finished.
	Checkpointed int
	Succeeded    int
	Discarded    int
	Trimmed      int
	// Checkpoint is the sequence number of the last record passed.
	Checkpoint string
}

// Percentile returns the p-th percentile (0 < p <= 100) of the invocation
// durations, by nearest rank; 0 when there were none.
func (r Report) Percentile(p float64) time.Duration {
	if len(r.Durations) == 0 || p <= 0 {
		return 0
	}
	d := slices.Clone(r.Durations)
	slices.Sort(d)
	rank := int(math.Ceil(p / 100 * float64(len(d))))
	rank = min(max(rank, 1), len(d))
	return d[rank-1]
}

func (r *Report) add(s *shardRun) {
	r.Invocations += s.report.Invocations
	r.FunctionErrors += s.functionErrors
	r.InvokeErrors += s.invokeErrors
	r.Timeouts += s.timeouts
	r.TimeoutExceeded = r.TimeoutExceeded || s.timeouts > 0
	r.PartialResponses += s.partial
	r.InvalidResponses += s.invalid
	r.Retries += s.retries
	r.Bisections += s.bisections
	r.OnFailure = append(r.OnFailure, s.discarded...)
	for _, d := range s.discarded {
		r.OnFailureRecords += d.Records
	}
	r.Trimmed += s.report.Trimmed
	r.Durations = append(r.Durations, s.durations...)
	r.Shards = append(r.Shards, s.report)
}
