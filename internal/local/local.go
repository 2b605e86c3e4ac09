// Package local runs the AWS side of the archiver on this machine: a
// Firehose stand-in on loopback that delivers into an S3 API on loopback
// (objects kept as files), configured from template.yaml, so that local
// objects land under the same prefixes, compressed and partitioned as the
// deployed stack's. The CLI, the end-to-end tests, the soak and the
// benchmarks all start it here.
package local

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	ttlarchiver "github.com/ttl-archiver/ttl-archiver"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/s3delivery"
	"github.com/ttl-archiver/ttl-archiver/internal/s3local"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// Names of the local resources.
const (
	Stream = "ttl-archive-local"
	Bucket = "ttl-archive-local"
	Region = s3local.Region
)

// Options configure a Stack.
type Options struct {
	// Dir holds the S3 data: objects are files under Dir/buckets/<Bucket>/.
	Dir string
	// Template is the SAM template's text; the built-in template.yaml when nil.
	Template []byte
	// Params override the template's parameter defaults.
	Params map[string]string
	// Faults, when set, are injected into Firehose calls.
	Faults firehoselocal.FaultFunc
	// Sink, when set, receives the accepted records instead of S3 delivery
	// (benchmarks use firehoselocal.Discard).
	Sink firehoselocal.Sink
	// FirehoseAddr and S3Addr are where the servers listen; empty means
	// 127.0.0.1 on a free port.
	FirehoseAddr string
	S3Addr       string
	// Credentials are the keys every call to both servers must be signed
	// with (SigV4); DefaultCredentials when empty. The stack's own clients
	// and FunctionEnv use them.
	Credentials firehoselocal.Credentials
	// NoAuth serves calls whatever their signature (the Firehose stand-in
	// still wants one in the SigV4 form).
	NoAuth bool
	// CORSOrigin, when set, lets pages from that origin call the S3 API;
	// without it no CORS header is sent.
	CORSOrigin string
}

// DefaultCredentials are the keys a stack checks signatures against
// unless given others: fixed, so that tools on this machine reach a
// stack started elsewhere in the same test or benchmark.
var DefaultCredentials = firehoselocal.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}

// Stack is a running local Firehose stream and S3 bucket.
type Stack struct {
	S3       *s3local.Server
	Firehose *firehoselocal.Server
	Delivery *s3delivery.Delivery
	Config   samtemplate.DeliveryConfig
	// Credentials are the keys calls are signed with.
	Credentials firehoselocal.Credentials

	flushFailed atomic.Bool // a Flush failed: Close does not write again
}

// Start starts the stack.
func Start(o Options) (*Stack, error) {
	text := o.Template
	if text == nil {
		text = ttlarchiver.Template
	}
	t, err := samtemplate.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("local: read template: %w", err)
	}
	dc, err := samtemplate.FirehoseDelivery(t, o.Params)
	if err != nil {
		return nil, fmt.Errorf("local: Firehose delivery in template: %w", err)
	}
	cfg, err := DeliveryFromTemplate(dc)
	if err != nil {
		return nil, err
	}
	creds := o.Credentials
	if creds == (firehoselocal.Credentials{}) {
		creds = DefaultCredentials
	}
	s := &Stack{Config: dc, Credentials: creds}
	sink := o.Sink
	if sink == nil {
		if s.S3, err = s3local.StartWith(s3local.Options{Addr: orLoopback(o.S3Addr), Dir: o.Dir, Buckets: []string{Bucket},
			Credentials: creds, NoAuth: o.NoAuth, CORSOrigin: o.CORSOrigin}); err != nil {
			return nil, err
		}
		if s.Delivery, err = s3delivery.New(cfg, s.S3.Client()); err != nil {
			_ = s.S3.Close()
			return nil, err
		}
		sink = s.Delivery
	}
	opts := []firehoselocal.Option{firehoselocal.WithStream(Stream, sink), firehoselocal.WithAddr(orLoopback(o.FirehoseAddr))}
	if o.Faults != nil {
		opts = append(opts, firehoselocal.WithFaults(o.Faults))
	}
	if !o.NoAuth {
		opts = append(opts, firehoselocal.WithCredentials(creds))
	}
	s.Firehose = firehoselocal.New(opts...)
	if err := s.Firehose.Start(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// orLoopback returns addr, or 127.0.0.1 on a free port when it is empty.
func orLoopback(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

// DeliveryFromTemplate turns the template's delivery settings into the
// local delivery's configuration.
func DeliveryFromTemplate(dc samtemplate.DeliveryConfig) (s3delivery.Config, error) {
	if dc.RecordDeAggregation && dc.DeAggregationType != "JSON" {
		return s3delivery.Config{}, fmt.Errorf("local: de-aggregation type %q is not supported: want JSON", dc.DeAggregationType)
	}
	return s3delivery.Config{
		StreamName:          Stream,
		Bucket:              Bucket,
		Prefix:              dc.Prefix,
		ErrorOutputPrefix:   dc.ErrorOutputPrefix,
		Compression:         dc.CompressionFormat,
		BufferBytes:         dc.BufferSizeMiB << 20,
		DynamicPartitioning: dc.DynamicPartitioning,
		PartitionQuery:      dc.MetadataExtractionQuery,
		Deaggregate:         dc.RecordDeAggregation,
		AppendDelimiter:     dc.AppendDelimiterToRecord,
	}, nil
}

// FunctionEnv is the environment the function needs to send to the local
// stream, on top of its own settings.
func (s *Stack) FunctionEnv() []string {
	return []string{
		"FIREHOSE_STREAM_NAME=" + Stream,
		"AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL_FIREHOSE=" + s.Firehose.URL(),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + s.Credentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + s.Credentials.SessionToken,
	}
}

// FirehoseClient returns an SDK client for the local stream.
func (s *Stack) FirehoseClient() *firehose.Client {
	return firehose.New(firehose.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Firehose.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(s.Credentials.AccessKeyID, s.Credentials.SecretAccessKey, s.Credentials.SessionToken),
	})
}

// Flush writes what the delivery still buffers, as Firehose does when its
// buffering interval ends. What it cannot write stays buffered for the
// next Flush or Shutdown, but not for Close.
func (s *Stack) Flush(ctx context.Context) error {
	if s.Delivery == nil {
		return nil
	}
	err := s.Delivery.Flush(ctx)
	if err != nil {
		s.flushFailed.Store(true)
	}
	return err
}

// Shutdown stops taking Firehose calls, waits (until ctx ends) for the
// calls in flight to be answered, writes everything delivery buffers and
// stops S3: every record a caller saw accepted is in an object when it
// returns nil. Its error names what could not be written.
func (s *Stack) Shutdown(ctx context.Context) error {
	var errs []error
	if s.Firehose != nil {
		errs = append(errs, s.Firehose.Shutdown(ctx))
	}
	errs = append(errs, s.Flush(ctx))
	if s.S3 != nil {
		errs = append(errs, s.S3.Close())
	}
	return errors.Join(errs...)
}

// Close stops the servers; calls in flight end without an answer, as a
// stream that goes away does. It writes what is buffered first, unless a
// Flush has failed: what Flush reported as not written is not written
// after the caller was told so (invoke had exited 1 with the object then
// written anyway).
func (s *Stack) Close() error {
	var errs []error
	if s.Firehose != nil {
		errs = append(errs, s.Firehose.Close())
	}
	if !s.flushFailed.Load() {
		errs = append(errs, s.Flush(context.Background()))
	}
	if s.S3 != nil {
		errs = append(errs, s.S3.Close())
	}
	return errors.Join(errs...)
}
