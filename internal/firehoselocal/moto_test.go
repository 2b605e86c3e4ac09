package firehoselocal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
)

// answer is what a caller can see of a Firehose answer: the status, the
// content type, the error code, and the names of the body's members.
type answer struct {
	status      int
	contentType string
	code        string
	members     []string
}

func post(t *testing.T, url, target, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	req.Header.Set("X-Amz-Target", "Firehose_20150804."+target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/"+now.Format("20060102")+"/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s to %s: %v", target, url, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s to %s: answer %d is not a JSON object: %.200s", target, url, res.StatusCode, b)
	}
	a := answer{status: res.StatusCode, contentType: res.Header.Get("Content-Type"), code: res.Header.Get("X-Amzn-Errortype")}
	for k := range m {
		// moto writes the error message twice, as "message" and
		// "Message"; the SDK reads either.
		if k != "Message" {
			a.members = append(a.members, k)
		}
	}
	slices.Sort(a.members)
	return a
}

// TestProtocolAgreesWithMoto sends the same requests to the stand-in and
// to moto_server's Firehose, an implementation written by others, and
// finds the same answers where moto implements the behaviour: success
// shapes and the unknown stream. Where moto is silent (it enforces none of
// PutRecordBatch's limits and validates no input: empty Records, 501
// records, a 1,000 KiB + 1 record, 4 MiB in a call, bad base64, a missing
// stream name, unknown operations), the stand-in follows the API
// reference, and TestProtocol and the limit tests hold it there.
func TestProtocolAgreesWithMoto(t *testing.T) {
	moto := motoserver.ForTest(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("delivery")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := firehose.NewFromConfig(moto.Config()).CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(stream),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::delivery"), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"),
		},
	}); err != nil {
		t.Fatalf("CreateDeliveryStream: %v", err)
	}
	local := firehoselocal.New(firehoselocal.WithStream(stream, &firehoselocal.MemorySink{}))
	if err := local.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = local.Close() }()

	tests := []struct {
		name, target, body string
	}{
		{"PutRecordBatch", "PutRecordBatch", `{"DeliveryStreamName":"` + stream + `","Records":[{"Data":"aGVsbG8="},{"Data":""}]}`},
		{"PutRecord", "PutRecord", `{"DeliveryStreamName":"` + stream + `","Record":{"Data":"aGVsbG8="}}`},
		{"unknown stream", "PutRecordBatch", `{"DeliveryStreamName":"no-such-stream","Records":[{"Data":"aGVsbG8="}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := post(t, local.URL(), tt.target, tt.body), post(t, moto.URL, tt.target, tt.body)
			if got.status != want.status || got.contentType != want.contentType || got.code != want.code || !slices.Equal(got.members, want.members) {
				t.Errorf("%s: stand-in answers %+v, moto %+v", tt.name, got, want)
			}
		})
	}
}
