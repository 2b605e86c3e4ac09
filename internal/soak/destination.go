package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
)

// FailedBucket is the local stand-in of the template's FailedBatchesBucket:
// the mappings' on-failure destination.
const FailedBucket = "ttl-archive-failed-local"

// MappingUUID is the event source mapping id in on-failure object keys.
const MappingUUID = "5e1f0c2a-7d2b-4c1e-9a53-0ad1c0ffee00"

// S3Destination writes each discarded batch, as Lambda writes to an S3
// on-failure destination, as one JSON object under the key esm gives
// (aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/...). It is safe for
// concurrent use.
type S3Destination struct {
	Client *s3.Client
	Bucket string
	UUID   string

	records atomic.Int64
	batches atomic.Int64
}

// OnFailure stores one record. It implements esm.Destination.
func (d *S3Destination) OnFailure(ctx context.Context, r esm.OnFailureRecord) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	// The payload is kept as it was sent: no HTML escaping of <, > and &.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode on-failure record: %w", err)
	}
	key := r.ObjectKey(d.UUID, "")
	_, err := d.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(d.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body.Bytes()),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("put on-failure record s3://%s/%s: %w", d.Bucket, key, err)
	}
	d.batches.Add(1)
	d.records.Add(int64(r.DDBStreamBatchInfo.BatchSize))
	return nil
}

var _ esm.Destination = (*S3Destination)(nil)
