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

// entry is one item to write and the archive line it came from, so that
// a refused item can be written to the rejects file as its line.
type entry struct {
	item   Item
	data   []byte // the archive line (a copy)
	object string
	line   int
}

// rejected is an item DynamoDB refused, with DynamoDB's reason.
type rejected struct {
	entry
	reason string
}

// batchResult is what writing one batch did.
type batchResult struct {
	written  int        // items put
	existing int        // items skipped because they exist (no-overwrite)
	rejected []rejected // items DynamoDB refused (each put alone)
}

// write puts the entries' items (at most MaxBatchItems, keys distinct).
// When DynamoDB refuses the batch for what an item holds (a
// ValidationException, such as an item over 400 KB), the items are put
// one by one, so that the refused ones are named and the others written.
func (w *writer) write(ctx context.Context, items []entry) (batchResult, error) {
	if err := w.limit.take(ctx, len(items)); err != nil {
		return batchResult{}, err
	}
	if w.noOverwrite {
		return w.putEach(ctx, items, true)
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, e := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: e.item}}
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
			if isItemError(err) {
				res, perr := w.putEach(ctx, w.entriesOf(items, reqs), false)
				res.written += len(items) - len(reqs)
				return res, perr
			}
			if !isThrottle(err) {
				return batchResult{written: len(items) - len(reqs)}, describeError(err, "dynamodb:BatchWriteItem", w.table, w.region)
			}
			stalled++
			retry++
			if stalled >= w.backoff.Attempts {
				return batchResult{written: len(items) - len(reqs)}, fmt.Errorf("%w: %d calls in a row to table %s: %v", ErrThrottled, stalled, w.table, err)
			}
			w.throttled("DynamoDB is throttling writes to table %s: slowing down (add capacity, or cap the rate with --rate)", w.table)
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

// entriesOf returns the entries whose items reqs hold, matched by key
// (UnprocessedItems are new values, not the requests sent).
func (w *writer) entriesOf(items []entry, reqs []types.WriteRequest) []entry {
	if len(reqs) == len(items) {
		return items
	}
	byKey := make(map[string]entry, len(items))
	for _, e := range items {
		byKey[keyString(e.item, w.keys)] = e
	}
	out := make([]entry, 0, len(reqs))
	for _, r := range reqs {
		if r.PutRequest != nil {
			out = append(out, byKey[keyString(r.PutRequest.Item, w.keys)])
		}
	}
	return out
}

// isItemError reports errors about what one item holds, which putting
// the other items does not share: DynamoDB refuses the item, not the call.
func isItemError(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ValidationException", "ItemCollectionSizeLimitExceededException":
		return true
	}
	return false
}

// putEach puts the items one by one; with ifAbsent, on the condition that
// no item with the same key exists (BatchWriteItem takes no conditions).
// An item DynamoDB refuses is returned in rejected and the others go on.
func (w *writer) putEach(ctx context.Context, items []entry, ifAbsent bool) (batchResult, error) {
	var cond *string
	var names map[string]string
	if ifAbsent {
		names = make(map[string]string, len(w.keys))
		c := ""
		for i, k := range w.keys {
			ph := fmt.Sprintf("#k%d", i)
			names[ph] = k.Name
			if i > 0 {
				c += " AND "
			}
			c += "attribute_not_exists(" + ph + ")"
		}
		cond = aws.String(c)
	}
	var res batchResult
	for _, e := range items {
		stalled := 0
		for {
			_, err := w.client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:                aws.String(w.table),
				Item:                     e.item,
				ConditionExpression:      cond,
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
			if isItemError(err) {
				msg := err.Error()
				if errors.As(err, &ae) {
					msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
				}
				res.rejected = append(res.rejected, rejected{entry: e, reason: "DynamoDB refused the item: " + msg})
				break
			}
			if !isThrottle(err) {
				return res, describeError(err, "dynamodb:PutItem", w.table, w.region)
			}
			stalled++
			if stalled >= w.backoff.Attempts {
				return res, fmt.Errorf("%w: %d calls in a row to table %s: %v", ErrThrottled, stalled, w.table, err)
			}
			w.throttled("DynamoDB is throttling writes to table %s: slowing down (add capacity, or cap the rate with --rate)", w.table)
			if err := w.sleep(ctx, w.backoff.delay(stalled)); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}
