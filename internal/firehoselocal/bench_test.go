package firehoselocal_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// BenchmarkPutRecordBatch measures full calls through the real SDK client:
// 500 records of 200 bytes per call, records discarded.
func BenchmarkPutRecordBatch(b *testing.B) {
	srv, _ := start(b)
	srv.AddStream(stream, nil) // discard, so memory stays flat
	c := client(b, srv.URL(), 1)
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: records(sized(500, 200)...)}
	b.SetBytes(500 * 200)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.PutRecordBatch(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(srv.Stats().RecordsAccepted)/b.Elapsed().Seconds(), "records/s")
}
