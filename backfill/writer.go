package backfill

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// S3API is the part of the S3 client backfill uses: archivefs's reads and
// PutObject, with the SDK's own signatures.
type S3API interface {
	archivefs.S3API
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// objectStore writes whole objects into the archive, never over one that
// is there.
type objectStore struct {
	loc    archivefs.Location
	client S3API
}

// name is where the object rel (table=T/dt=DAY/NAME) goes.
func (o objectStore) name(rel string) string {
	if o.loc.IsS3() {
		return "s3://" + o.loc.Bucket + "/" + prefixDir(o.loc.Prefix) + rel
	}
	return filepath.Join(o.loc.Path, filepath.FromSlash(rel))
}

// put writes data as the object rel. In S3 it is a PutObject with
// If-None-Match: * (S3's conditional write), so that an object of the
// same name is never replaced; locally a file written aside and linked
// into place, which fails when the name exists.
func (o objectStore) put(ctx context.Context, rel string, data []byte) error {
	if o.loc.IsS3() {
		key := prefixDir(o.loc.Prefix) + rel
		if o.client == nil {
			return fmt.Errorf("put s3://%s/%s: no S3 client", o.loc.Bucket, key)
		}
		_, err := o.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(o.loc.Bucket),
			Key:         aws.String(key),
			Body:        bytes.NewReader(data),
			IfNoneMatch: aws.String("*"),
		})
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", o.loc.Bucket, key, err)
		}
		return nil
	}
	p := o.name(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".backfill-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Link(tmp.Name(), p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
