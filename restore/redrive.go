package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// ArchiveFunc archives one DynamoDB stream batch (a Lambda invocation
// payload) and says what it did. [ArchiverFunc] makes one of an
// archive.Archiver; tests pass their own.
type ArchiveFunc func(ctx context.Context, payload []byte) (ArchiveOutcome, error)

// ArchiveOutcome is what archiving one batch did.
type ArchiveOutcome struct {
	Records  int      // records in the batch
	Archived int      // TTL deletions whose line reached Firehose
	Skipped  int      // records that are not TTL deletions
	Failed   []string // sequence numbers of TTL deletions not archived
	// Problems are the archiver's messages about records archived raw or
	// not delivered, and the last Firehose error.
	Problems []string
}

// ArchiverFunc returns the ArchiveFunc of an archiver.
func ArchiverFunc(a *archive.Archiver) ArchiveFunc {
	return func(ctx context.Context, payload []byte) (ArchiveOutcome, error) {
		res, err := a.Archive(ctx, payload)
		out := ArchiveOutcome{Records: res.Counts.Received, Archived: res.Counts.Archived, Skipped: res.Counts.SkippedTotal(), Problems: res.Problems}
		for _, f := range res.Response.BatchItemFailures {
			out.Failed = append(out.Failed, f.ItemIdentifier)
		}
		return out, err
	}
}

// FailureRecord is the invocation record a Lambda event source mapping
// writes to its on-failure destination when it gives up on a batch of a
// DynamoDB stream. Only an S3 destination gets Payload, the invocation's
// event; SQS and SNS destinations get the metadata alone.
type FailureRecord struct {
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"` // e.g. RetryAttemptsExhausted, RecordAgeExceeded
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	Version            string `json:"version"`
	Timestamp          string `json:"timestamp"`
	DDBStreamBatchInfo *struct {
		ShardID                         string `json:"shardId"`
		StartSequenceNumber             string `json:"startSequenceNumber"`
		EndSequenceNumber               string `json:"endSequenceNumber"`
		ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
		ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
		BatchSize                       int    `json:"batchSize"`
		StreamArn                       string `json:"streamArn"`
	} `json:"DDBStreamBatchInfo"`
	// Payload is the invocation's event. AWS documents it as a string
	// holding the event's JSON; some emulators write the event object
	// itself. [FailureRecord.Event] accepts both.
	Payload json.RawMessage `json:"payload"`
}

// ErrNoPayload is the error of an on-failure record without the batch:
// one sent to SQS or SNS, whose records must be read from the stream
// itself (within its 24 hours) by shard and sequence numbers.
var ErrNoPayload = errors.New("the record has no payload (only an S3 on-failure destination receives the batch)")

// ErrNotFailureRecord is wrapped by the error of ParseFailureRecord for
// data that is not an on-failure invocation record.
var ErrNotFailureRecord = errors.New("not an on-failure invocation record")

// FailureRecordExpected says what an on-failure invocation record looks
// like, for messages about data that is not one.
const FailureRecordExpected = `the JSON object Lambda writes to an event source mapping's S3 on-failure destination, with "requestContext", "DDBStreamBatchInfo" and "payload" (a stream event goes to ttl-archiver invoke; archive lines to restore)`

// ParseFailureRecord decodes an on-failure invocation record.
func ParseFailureRecord(data []byte) (FailureRecord, error) {
	var r FailureRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return FailureRecord{}, fmt.Errorf("%w: %w", ErrNotFailureRecord, err)
	}
	if r.DDBStreamBatchInfo == nil && r.RequestContext.FunctionArn == "" && len(r.Payload) == 0 {
		return FailureRecord{}, fmt.Errorf("%w: no requestContext, DDBStreamBatchInfo or payload", ErrNotFailureRecord)
	}
	return r, nil
}

// Event returns the batch's stream event (the invocation payload).
func (r FailureRecord) Event() ([]byte, error) {
	p := bytes.TrimSpace(r.Payload)
	if len(p) == 0 || string(p) == "null" {
		return nil, ErrNoPayload
	}
	if p[0] == '"' {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
		return []byte(s), nil
	}
	return p, nil
}

// describe says which batch the record is about.
func (r FailureRecord) describe() string {
	var parts []string
	if b := r.DDBStreamBatchInfo; b != nil {
		parts = append(parts, fmt.Sprintf("%d records of %s, %s, sequence numbers %s to %s", b.BatchSize, b.StreamArn, b.ShardID, b.StartSequenceNumber, b.EndSequenceNumber))
	}
	if c := r.RequestContext; c.Condition != "" {
		parts = append(parts, fmt.Sprintf("given up at %s (%s after %d invocations)", r.Timestamp, c.Condition, c.ApproximateInvokeCount))
	}
	return strings.Join(parts, "; ")
}

// MaxFailureRecordBytes bounds an on-failure record read whole: a 6 MB
// invocation payload, escaped as a JSON string, plus metadata.
const MaxFailureRecordBytes = 16 << 20

// RedriveOptions configure a redrive.
type RedriveOptions struct {
	Source  *archivefs.Source
	Archive ArchiveFunc
	// Out receives one line per on-failure record; Warn the details of
	// failures.
	Out, Warn io.Writer
	// Progress, when not nil, is called after each on-failure record
	// with the report so far.
	Progress func(RedriveReport)
}

// RedriveReport is what a redrive did.
type RedriveReport struct {
	Objects  int // on-failure records read
	Records  int // stream records in their batches
	Archived int // TTL deletions archived
	Skipped  int // stream records that are not TTL deletions
	Failed   int // on-failure records whose batch was not archived whole
	// NotRecords counts the objects of Failed that are not on-failure
	// records at all.
	NotRecords int
}

// ErrRedriveIncomplete is returned when some batches were not archived
// whole.
var ErrRedriveIncomplete = errors.New("some batches were not archived whole")

// Redrive archives again the batches of the on-failure records in
// o.Source. Running it twice archives the batches twice: the lines are
// duplicates with the same event_id, which restore drops; nothing is
// lost. It never deletes the on-failure records.
func Redrive(ctx context.Context, o RedriveOptions) (RedriveReport, error) {
	var rep RedriveReport
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	for obj, err := range o.Source.Objects(ctx) {
		if err != nil {
			return rep, err
		}
		rep.Objects++
		out, desc, err := redriveOne(ctx, o, obj)
		rep.Records += out.Records
		rep.Archived += out.Archived
		rep.Skipped += out.Skipped
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			return rep, err
		case err != nil:
			rep.Failed++
			if errors.Is(err, ErrNotFailureRecord) {
				rep.NotRecords++
			}
			fmt.Fprintf(o.Out, "FAILED %s: %v\n", obj.Key, err)
			if desc != "" {
				fmt.Fprintf(o.Warn, "  batch: %s\n", desc)
			}
		case len(out.Failed) > 0:
			rep.Failed++
			fmt.Fprintf(o.Out, "FAILED %s: %d of %d records archived, %d not: sequence numbers %s\n",
				obj.Key, out.Archived, out.Records-out.Skipped, len(out.Failed), strings.Join(out.Failed, ", "))
			for _, p := range out.Problems {
				fmt.Fprintf(o.Out, "  why: %s\n", p)
			}
			if desc != "" {
				fmt.Fprintf(o.Warn, "  batch: %s\n", desc)
			}
		default:
			fmt.Fprintf(o.Out, "ok %s: %d records, %d TTL deletions archived, %d other records skipped\n",
				obj.Key, out.Records, out.Archived, out.Skipped)
		}
		if o.Progress != nil {
			o.Progress(rep)
		}
	}
	if rep.NotRecords > 0 {
		also := ""
		if n := rep.Failed - rep.NotRecords; n > 0 {
			also = fmt.Sprintf(", and %d batches were not archived whole", n)
		}
		return rep, fmt.Errorf("%w: %w: %d of %d objects are not on-failure records (see above)%s: want %s",
			ErrIncomplete, ErrRedriveIncomplete, rep.NotRecords, rep.Objects, also, FailureRecordExpected)
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("%w: %w: %d of %d on-failure records (see above); run redrive again once the cause is fixed: batches archived twice only make duplicates, which restore drops",
			ErrIncomplete, ErrRedriveIncomplete, rep.Failed, rep.Objects)
	}
	return rep, nil
}

func redriveOne(ctx context.Context, o RedriveOptions, obj archivefs.Object) (ArchiveOutcome, string, error) {
	rc, err := o.Source.Open(ctx, obj)
	if err != nil {
		return ArchiveOutcome{}, "", err
	}
	data, err := io.ReadAll(io.LimitReader(rc, MaxFailureRecordBytes+1))
	_ = rc.Close()
	if err != nil {
		return ArchiveOutcome{}, "", fmt.Errorf("read: %w", err)
	}
	if len(data) > MaxFailureRecordBytes {
		return ArchiveOutcome{}, "", fmt.Errorf("%w: larger than %d bytes", ErrNotFailureRecord, MaxFailureRecordBytes)
	}
	rec, err := ParseFailureRecord(data)
	if err != nil {
		return ArchiveOutcome{}, "", err
	}
	desc := rec.describe()
	event, err := rec.Event()
	if err != nil {
		return ArchiveOutcome{}, desc, err
	}
	out, err := o.Archive(ctx, event)
	if err != nil {
		return out, desc, fmt.Errorf("archive the batch: %w", err)
	}
	return out, desc, nil
}
