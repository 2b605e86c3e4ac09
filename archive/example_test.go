package archive_test

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// printFirehose prints the records it is sent instead of delivering them.
type printFirehose struct{}

func (printFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	for _, r := range in.Records {
		_, _ = os.Stdout.Write(r.Data)
	}
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = aws.String(strconv.Itoa(i)) // only an entry with a RecordId counts as delivered
	}
	return out, nil
}

func Example() {
	a, err := archive.New(printFirehose{}, archive.Config{StreamName: "ttl-archive", BatchSize: 400, Concurrency: 1})
	if err != nil {
		panic(err)
	}
	event := []byte(`{"Records":[
	  {"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"Keys":{"id":{"S":"a"}},"SequenceNumber":"100"},
	   "eventSourceARN":"arn:aws:dynamodb:eu-west-1:123456789012:table/Carts/stream/2025-01-01T00:00:00.000"},
	  {"eventID":"2","eventName":"REMOVE","eventSource":"aws:dynamodb","awsRegion":"eu-west-1",
	   "dynamodb":{"ApproximateCreationDateTime":1763856000,"Keys":{"id":{"S":"b"}},
	     "OldImage":{"id":{"S":"b"},"total":{"N":"12345678901234567890.000000000000000001"},"tags":{"SS":["x","y"]}},
	     "SequenceNumber":"200"},
	   "userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},
	   "eventSourceARN":"arn:aws:dynamodb:eu-west-1:123456789012:table/Carts/stream/2025-01-01T00:00:00.000"}]}`)
	res, err := a.Archive(context.Background(), event)
	if err != nil {
		panic(err)
	}
	fmt.Printf("received %d, archived %d, skipped %d, failures %v\n",
		res.Counts.Received, res.Counts.Archived, res.Counts.SkippedTotal(), res.Response.BatchItemFailures)
	// Output:
	// {"table":"Carts","region":"eu-west-1","event_id":"2","sequence_number":"200","deleted_at":"2025-11-23T00:00:00Z","keys":{"id":"b"},"item":{"id":"b","tags":["x","y"],"total":12345678901234567890.000000000000000001}}
	// received 2, archived 1, skipped 1, failures []
}
