package restore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// MaxBatchItems is the most put requests one BatchWriteItem call takes
// (a fixed DynamoDB limit).
const MaxBatchItems = 25

// Backoff is the retry policy for unprocessed items and throttling.
type Backoff struct {
	// Before retry n (from 1) the writer sleeps a random time in
	// [0, min(Max, Base*2^(n-1))] ("full jitter").
	Base, Max time.Duration
	// Attempts is the most calls in a row that make no progress before
	// the writer gives up with an error.
	Attempts int
}

// DefaultBackoff is used when Options.Backoff is zero.
var DefaultBackoff = Backoff{Base: 50 * time.Millisecond, Max: 5 * time.Second, Attempts: 12}

func (b Backoff) delay(retry int) time.Duration {
	return archive.Backoff{Base: b.Base, Max: b.Max}.Delay(retry)
}

// ErrThrottled is returned when DynamoDB kept throttling or leaving items
// unprocessed for Backoff.Attempts calls in a row.
var ErrThrottled = errors.New("DynamoDB kept throttling the writes")

// writer writes items to one table.
type writer struct {
	client      DynamoDBAPI
	table       string
	region      string
	keys        []KeyAttr
	noOverwrite bool
	limit       *limiter
	backoff     Backoff
	sleep       func(context.Context, time.Duration) error

	warnMu   sync.Mutex
	warnLast time.Time
	warnf    func(format string, args ...any) // throttling notices, at most one per warnEvery
}

// warnEvery spaces out throttling notices.
const warnEvery = 5 * time.Second

func (w *writer) throttled(format string, args ...any) {
	w.warnMu.Lock()
	defer w.warnMu.Unlock()
	if w.warnf == nil || time.Since(w.warnLast) < warnEvery {
		return
	}
	w.warnLast = time.Now()
	w.warnf(format, args...)
}

// batchResult is what writing one batch did.
type batchResult struct {
	written  int // items put
	existing int // items skipped because they exist (no-overwrite)
}

// write puts the items (at most MaxBatchItems, keys distinct).
func (w *writer) write(ctx context.Context, items []Item) (batchResult, error) {
	if err := w.limit.take(ctx, len(items)); err != nil {
		return batchResult{}, err
	}
	if w.noOverwrite {
		return w.putEach(ctx, items)
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	stalled := 0
	for retry := 0; len(reqs) > 0; {
		if retry > 0 {
			if err := w.sleep(ctx, w.backoff.delay(retry)); err != nil {
				return batchResult{written: len(items) - len(reqs)}, err
			}
		}
		out, err := w.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{w.table: reqs},
		})
		if err != nil {
			if !isThrottle(err) {
				return batchResult{written: len(items) - len(reqs)}, describeError(err, "dynamodb:BatchWriteItem", w.table, w.region)
			}
			stalled++
			retry++
			if stalled >= w.backoff.Attempts {
				return batchResult{written: len(items) - len(reqs)}, fmt.Errorf("%w: %d calls in a row to table %s: %v", ErrThrottled, stalled, w.table, err)
			}
			w.throttled("DynamoDB is throttling writes to table %s: slowing down (add capacity, or cap the rate with -rate)", w.table)
			continue
		}
		left := out.UnprocessedItems[w.table]
		if len(left) == 0 {
			break
		}
		if len(left) < len(reqs) {
			stalled = 0
		} else {
			stalled++
		}
		if stalled >= w.backoff.Attempts {
			return batchResult{written: len(items) - len(left)}, fmt.Errorf("%w: %d items left unprocessed %d times in a row by table %s", ErrThrottled, len(left), stalled, w.table)
		}
		w.throttled("DynamoDB left %d of %d items unprocessed in table %s: resending them, slowing down", len(left), len(reqs), w.table)
		reqs = left
		retry++
	}
	return batchResult{written: len(items)}, nil
}

// putEach puts the items one by one on the condition that no item with
// the same key exists: BatchWriteItem takes no conditions.
func (w *writer) putEach(ctx context.Context, items []Item) (batchResult, error) {
	names := make(map[string]string, len(w.keys))
	cond := ""
	for i, k := range w.keys {
		ph := fmt.Sprintf("#k%d", i)
		names[ph] = k.Name
		if i > 0 {
			cond += " AND "
		}
		cond += "attribute_not_exists(" + ph + ")"
	}
	var res batchResult
	for _, it := range items {
		stalled := 0
		for {
			_, err := w.client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:                aws.String(w.table),
				Item:                     it,
				ConditionExpression:      aws.String(cond),
				ExpressionAttributeNames: names,
			})
			if err == nil {
				res.written++
				break
			}
			var ccf *types.ConditionalCheckFailedException
			var ae smithy.APIError
			if errors.As(err, &ccf) || errors.As(err, &ae) && ae.ErrorCode() == "ConditionalCheckFailedException" {
				res.existing++
				break
			}
			if !isThrottle(err) {
				return res, describeError(err, "dynamodb:PutItem", w.table, w.region)
			}
			stalled++
			if stalled >= w.backoff.Attempts {
				return res, fmt.Errorf("%w: %d calls in a row to table %s: %v", ErrThrottled, stalled, w.table, err)
			}
			w.throttled("DynamoDB is throttling writes to table %s: slowing down (add capacity, or cap the rate with -rate)", w.table)
			if err := w.sleep(ctx, w.backoff.delay(stalled)); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}
