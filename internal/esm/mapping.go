package esm

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnsupported is returned for settings the model does not reproduce.
var ErrUnsupported = errors.New("not modelled")

// StreamRetention is how long a DynamoDB stream keeps a record ([PARAMS] in
// the package doc: "The data retention limit for DynamoDB Streams is 24
// hours."). Older records are trimmed before they can be invoked.
const StreamRetention = 24 * time.Hour

// Mapping is the configuration of an event source mapping on a DynamoDB
// stream, named as in AWS::Lambda::EventSourceMapping, plus what the model
// needs to write destination records. Ranges and defaults are those of
// [PARAMS]; [DefaultMapping] has the defaults.
type Mapping struct {
	// BatchSize is the most records per invocation: 1 to 10,000.
	BatchSize int
	// MaximumBatchingWindow is 0 to 300 s. It is checked but has no effect:
	// a shard is a backlog, so each batch takes what is available.
	MaximumBatchingWindow time.Duration
	// ParallelizationFactor is 1 to 10; only 1 is modelled.
	ParallelizationFactor int
	// ReportBatchItemFailures is FunctionResponseTypes:
	// [ReportBatchItemFailures]. Without it the response is ignored.
	ReportBatchItemFailures bool
	// BisectBatchOnFunctionError splits a batch that failed with a function
	// error in two.
	BisectBatchOnFunctionError bool
	// MaximumRetryAttempts is -1 (retry until the records expire) or 0 to
	// 10,000.
	MaximumRetryAttempts int
	// MaximumRecordAgeInSeconds is -1 (no limit but the stream's retention)
	// or 60 to 604,800.
	MaximumRecordAgeInSeconds int
	// Destination is the on-failure destination; nil discards.
	Destination Destination

	// FunctionTimeout is the function's timeout, passed to each Invoke.
	FunctionTimeout time.Duration
	// Concurrency is how many shards are processed at once; 0 means all.
	Concurrency int
	// Start is where every shard's virtual clock starts. The clock then
	// advances by each invocation's Outcome.Duration and by RetryDelay
	// before each invocation that follows a failure; record ages are read
	// on it. The zero time starts a shard's clock at its first record's
	// Created.
	Start time.Time
	// RetryDelay is virtual time added before an invocation that follows a
	// failure. AWS does not document the delay between stream retries.
	RetryDelay time.Duration

	// FunctionARN, StreamARN and ExecutedVersion are written to destination
	// records. ExecutedVersion defaults to "$LATEST".
	FunctionARN     string
	StreamARN       string
	ExecutedVersion string
}

// DefaultMapping returns a Mapping with the service's defaults: batches of
// 100, no batching window, ParallelizationFactor 1, no partial batch
// responses, no bisection, retries and record age unlimited (-1), and the
// function's default timeout of 3 s.
func DefaultMapping() Mapping {
	return Mapping{
		BatchSize:                 100,
		ParallelizationFactor:     1,
		MaximumRetryAttempts:      -1,
		MaximumRecordAgeInSeconds: -1,
		FunctionTimeout:           3 * time.Second,
		ExecutedVersion:           "$LATEST",
	}
}

// check reports the first setting out of its range, naming the accepted
// values.
func (m Mapping) check() error {
	switch {
	case m.BatchSize < 1 || m.BatchSize > 10000:
		return fmt.Errorf("BatchSize %d: want 1 to 10000", m.BatchSize)
	case m.MaximumBatchingWindow < 0 || m.MaximumBatchingWindow > 300*time.Second:
		return fmt.Errorf("MaximumBatchingWindow %v: want 0 to 300s", m.MaximumBatchingWindow)
	case m.ParallelizationFactor < 1 || m.ParallelizationFactor > 10:
		return fmt.Errorf("ParallelizationFactor %d: want 1 to 10", m.ParallelizationFactor)
	case m.ParallelizationFactor > 1:
		return fmt.Errorf("ParallelizationFactor %d: only 1 is modelled: %w", m.ParallelizationFactor, ErrUnsupported)
	case m.MaximumRetryAttempts < -1 || m.MaximumRetryAttempts > 10000:
		return fmt.Errorf("MaximumRetryAttempts %d: want -1 or 0 to 10000", m.MaximumRetryAttempts)
	case m.MaximumRecordAgeInSeconds != -1 && (m.MaximumRecordAgeInSeconds < 60 || m.MaximumRecordAgeInSeconds > 604800):
		return fmt.Errorf("MaximumRecordAgeInSeconds %d: want -1 or 60 to 604800", m.MaximumRecordAgeInSeconds)
	case m.FunctionTimeout <= 0:
		return fmt.Errorf("FunctionTimeout %v: want more than 0", m.FunctionTimeout)
	case m.Concurrency < 0:
		return fmt.Errorf("mapping Concurrency %d: want 0 (all shards) or more", m.Concurrency)
	case m.RetryDelay < 0:
		return fmt.Errorf("RetryDelay %v: want 0 or more", m.RetryDelay)
	}
	return nil
}
