package esm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Destination receives the batches the mapping discards: the on-failure
// destination of the mapping. Run calls it from one goroutine per shard, so
// it must be safe for concurrent use. An error stops Run: a soak whose
// destination fails has lost records.
type Destination interface {
	OnFailure(ctx context.Context, record OnFailureRecord) error
}

// DestinationFunc adapts a function to a Destination.
type DestinationFunc func(ctx context.Context, record OnFailureRecord) error

// OnFailure calls f.
func (f DestinationFunc) OnFailure(ctx context.Context, record OnFailureRecord) error {
	return f(ctx, record)
}

// Conditions written to requestContext.condition.
const (
	// ConditionRetryAttemptsExhausted: the batch failed
	// 1+MaximumRetryAttempts times ([ERR], [LS] in the package doc).
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	// ConditionRecordAgeExceeded: the records passed
	// MaximumRecordAgeInSeconds before an invocation ([LS]).
	ConditionRecordAgeExceeded = "RecordAgeExceeded"
	// ConditionRecordTooLarge: the record alone does not fit in
	// MaxPayloadBytes. This condition is the model's: AWS does not document
	// the case, which DynamoDB's 400 KB item limit rules out.
	ConditionRecordTooLarge = "RecordTooLarge"
)

// OnFailureRecord is the JSON document Lambda writes for a discarded batch,
// in the shape it writes to an S3 destination: the invocation record of
// [ERR]'s example, plus the invocation payload ("For Amazon S3
// destinations, Lambda also sends the entire invocation record along with
// the metadata", [ERR]; field name and form from [LS]). Field order follows
// AWS's example. Marshal it with encoding/json.
type OnFailureRecord struct {
	RequestContext RequestContext `json:"requestContext"`
	// ResponseContext is absent when no invocation ended the batch
	// (RecordAgeExceeded, as recorded in [LS]; RecordTooLarge).
	ResponseContext    *ResponseContext `json:"responseContext,omitempty"`
	Version            string           `json:"version"`   // "1.0"
	Timestamp          string           `json:"timestamp"` // e.g. 2019-11-14T00:13:49.717Z
	DDBStreamBatchInfo BatchInfo        `json:"DDBStreamBatchInfo"`
	// Payload is the invocation payload of the discarded records,
	// {"Records":[...]}, as a JSON object (not a string).
	Payload json.RawMessage `json:"payload,omitempty"`

	// Time is Timestamp as a time, on the shard's virtual clock.
	Time time.Time `json:"-"`
}

// RequestContext is the requestContext of an OnFailureRecord.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is the responseContext of an OnFailureRecord.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	// FunctionError is "Unhandled" after a function error, and null after
	// a response that failed records (a partial batch response, or one
	// that failed the whole batch), as recorded in [LS].
	FunctionError *string `json:"functionError"`
}

// BatchInfo is the DDBStreamBatchInfo of an OnFailureRecord.
type BatchInfo struct {
	ShardID             string `json:"shardId"`
	StartSequenceNumber string `json:"startSequenceNumber"`
	EndSequenceNumber   string `json:"endSequenceNumber"`
	// ApproximateArrivalOfFirstRecord and ...LastRecord are the records'
	// ApproximateCreationDateTime, to the second (2019-11-14T00:13:19Z);
	// empty when unknown.
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// ObjectKey is the S3 key Lambda gives an on-failure record:
// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random
// UUID> ([KDEST] in the package doc), from the record's Time and the given
// UUIDs. An empty id gets a random one.
func (r OnFailureRecord) ObjectKey(mappingUUID, id string) string {
	if id == "" {
		id = newUUID()
	}
	t := r.Time.UTC()
	return "aws/lambda/" + mappingUUID + "/" + r.DDBStreamBatchInfo.ShardID + "/" +
		t.Format("2006/01/02") + "/" + t.Format("2006-01-02T15.04.05") + "-" + id
}

const (
	timestampLayout = "2006-01-02T15:04:05.000Z"
	arrivalLayout   = "2006-01-02T15:04:05Z"
)

func arrival(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(arrivalLayout)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
