package doctor

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// checkFirehose: the stack's Firehose stream (output DeliveryStreamName)
// is ACTIVE.
func (r *run) checkFirehose(ctx context.Context) {
	const name = "firehose"
	ds, err := r.output(outputStream)
	if err != nil {
		r.rep.add(couldNot(name, err, r.outputFix()))
		return
	}
	out, err := r.o.Firehose.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(ds)})
	if err != nil {
		r.rep.add(couldNot(name, fmt.Errorf("describe delivery stream %s: %w", ds, short(err)), "check that the stack's Firehose stream exists ("+r.aws("firehose list-delivery-streams")+") and the credentials' firehose:DescribeDeliveryStream permission"))
		return
	}
	d := out.DeliveryStreamDescription
	if d == nil {
		r.rep.add(couldNot(name, fmt.Errorf("describe delivery stream %s: no description in the answer", ds), redeployFix))
		return
	}
	c := Check{Name: name, Detail: fmt.Sprintf("delivery stream %s is %s", ds, d.DeliveryStreamStatus)}
	switch d.DeliveryStreamStatus {
	case fhtypes.DeliveryStreamStatusActive:
		c.Status = OK
	case fhtypes.DeliveryStreamStatusCreating:
		c.Status, c.Fix = Warn, "wait until it is ACTIVE and run doctor again"
	default:
		c.Status = Fail
		if f := d.FailureDescription; f != nil {
			c.Detail += fmt.Sprintf(" (%s: %s)", f.Type, aws.ToString(f.Details))
		}
		c.Detail += ": the function's records are refused"
		c.Fix = "see " + r.aws("firehose describe-delivery-stream --delivery-stream-name %s", ds) + ", then deploy the stack again (sam deploy)"
	}
	r.rep.add(c)
}

// checkBucket: the archive bucket (output ArchiveBucketName) answers
// HeadBucket with these credentials.
func (r *run) checkBucket(ctx context.Context) {
	const name = "bucket"
	b, err := r.output(outputBucket)
	if err != nil {
		r.rep.add(couldNot(name, err, r.outputFix()))
		return
	}
	if _, err := r.o.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
		r.rep.add(Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("archive bucket %s is not reachable: %v", b, short(err)),
			Fix:    fmt.Sprintf("a 404 means the bucket is gone (deploy the stack again: sam deploy); a 403, that these credentials may not read it (s3:ListBucket on arn:aws:s3:::%s); try %s", b, r.aws("s3api head-bucket --bucket %s", b))})
		return
	}
	r.rep.add(Check{Name: name, Status: OK, Detail: fmt.Sprintf("archive bucket %s is reachable", b)})
}
