package firehoselocal_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// The real SDK client talks to the stand-in through BaseEndpoint; here the
// second of three records is throttled.
func Example() {
	sink := &firehoselocal.MemorySink{}
	srv := firehoselocal.New(
		firehoselocal.WithStream("archive", sink),
		firehoselocal.WithFaults(func(c firehoselocal.Call) firehoselocal.Fault {
			return firehoselocal.Fault{FailRecords: []firehoselocal.RecordFailure{{Index: 1}}}
		}),
	)
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = srv.Close() }()

	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(srv.URL()) })

	out, err := client.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("archive"),
		Records:            []types.Record{{Data: []byte("a\n")}, {Data: []byte("b\n")}, {Data: []byte("c\n")}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("failed:", aws.ToInt32(out.FailedPutCount), aws.ToString(out.RequestResponses[1].ErrorCode), aws.ToString(out.RequestResponses[1].ErrorMessage))
	fmt.Printf("delivered: %q\n", sink.Records())
	fmt.Printf("%+v\n", srv.Stats())
	// Output:
	// failed: 1 ServiceUnavailableException Slow down.
	// delivered: ["a\n" "c\n"]
	// {Calls:1 CallsFailed:0 Resets:0 RecordsAccepted:2 RecordsFailed:1 BytesAccepted:4}
}
