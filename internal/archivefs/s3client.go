package archivefs

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewS3Client returns an S3 client for cfg. When an endpoint is
// overridden (cfg.BaseEndpoint, or AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
// through getenv) it uses path-style addressing, which S3-compatible
// servers on a host name without buckets in DNS (gofakes3, MinIO) need.
// AWS_ENDPOINT_URL_S3 read through getenv takes precedence over
// cfg.BaseEndpoint, as in the SDK.
func NewS3Client(cfg aws.Config, getenv func(string) string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		override := cfg.BaseEndpoint != nil
		if getenv != nil {
			if v := getenv("AWS_ENDPOINT_URL_S3"); v != "" {
				o.BaseEndpoint = aws.String(v)
				override = true
			} else if getenv("AWS_ENDPOINT_URL") != "" {
				override = true
			}
		}
		if override {
			o.UsePathStyle = true
		}
	})
}
