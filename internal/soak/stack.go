package soak

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	ttlarchiver "github.com/ttl-archiver/ttl-archiver"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/s3delivery"
	"github.com/ttl-archiver/ttl-archiver/internal/s3local"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// objectBytes is the size at which the soak's S3 delivery writes a
// partition's buffer, in place of the template's BufferSizeMiB (64 to
// 128 MiB). With 128 MiB objects the harness stalled for up to 2 s at a
// time (the stall meter: no goroutine of the process ran), long enough
// for the Runtime API stand-in to record an answer sent in time as late;
// with 8 MiB objects the longest stall in a long soak was 218 ms. The
// likely cause is that writing an object hashes it whole (MD5 for the
// ETag, SHA-256 and a checksum in the SDK's request) and copies the
// buffer as it grows, each in one assembly call that the Go runtime
// cannot preempt, so a garbage collection that starts meanwhile waits for
// it with every other goroutine stopped. Object size changes nothing the
// soak checks: every line is read back wherever it is.
const objectBytes = 8 << 20

// soakStack is the local AWS side of a soak: the Firehose stand-in of
// internal/local, delivering as template.yaml configures (internal/s3delivery)
// into S3 on loopback, which also holds the on-failure destination's
// bucket.
//
// It differs from local.Start in one way: the stand-in hands accepted
// records to the S3 delivery through a queue, as Firehose acknowledges a
// record once it holds it and writes S3 objects later, on its own. With
// local.Start, the delivery runs inside the PutRecordBatch call: a call
// that fills a 128 MiB buffer waits for it to be gzipped and written, which
// at the soak's volume delays calls past the function's send deadline and
// turns the stand-in's slowness into faults the soak did not ask for.
type soakStack struct {
	*local.Stack
	s3       *s3local.Server
	delivery *s3delivery.Delivery
	sink     *queueSink
}

func startStack(dir string, template []byte, params map[string]string) (*soakStack, error) {
	if template == nil {
		template = ttlarchiver.Template
	}
	t, err := samtemplate.Parse(template)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	dc, err := samtemplate.FirehoseDelivery(t, params)
	if err != nil {
		return nil, fmt.Errorf("read the Firehose delivery of the template: %w", err)
	}
	cfg, err := local.DeliveryFromTemplate(dc)
	if err != nil {
		return nil, err
	}
	cfg.BufferBytes = objectBytes
	s := &soakStack{}
	if s.s3, err = s3local.Start(dir, local.Bucket, FailedBucket); err != nil {
		return nil, err
	}
	if s.delivery, err = s3delivery.New(cfg, s.s3.Client()); err != nil {
		_ = s.s3.Close()
		return nil, err
	}
	s.sink = newQueueSink(s.delivery, 64)
	if s.Stack, err = local.Start(local.Options{Template: template, Params: params, Sink: s.sink}); err != nil {
		s.sink.close()
		_ = s.s3.Close()
		return nil, err
	}
	return s, nil
}

// flush writes every record accepted so far to S3, as Firehose does when
// its buffering interval ends.
func (s *soakStack) flush(ctx context.Context) error {
	if err := s.sink.drain(); err != nil {
		return err
	}
	return s.delivery.Flush(ctx)
}

func (s *soakStack) close() error {
	errs := []error{s.Firehose.Close()}
	if err := s.sink.drain(); err != nil {
		errs = append(errs, err)
	}
	s.sink.close()
	errs = append(errs, s.delivery.Flush(context.Background()), s.s3.Close())
	return errors.Join(errs...)
}

// queueSink accepts records into a bounded queue and delivers them from
// one goroutine, with a context of its own.
type queueSink struct {
	next    *s3delivery.Delivery
	queue   chan batchOf
	pending sync.WaitGroup
	done    chan struct{}
	failed  atomic.Pointer[error]
}

type batchOf struct {
	stream  string
	records [][]byte
}

func newQueueSink(next *s3delivery.Delivery, size int) *queueSink {
	q := &queueSink{next: next, queue: make(chan batchOf, size), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for b := range q.queue {
			if err := q.next.Deliver(context.Background(), b.stream, b.records); err != nil {
				err = fmt.Errorf("deliver %d accepted records to S3: %w", len(b.records), err)
				q.failed.CompareAndSwap(nil, &err)
			}
			q.pending.Done()
		}
	}()
	return q
}

// Deliver queues the records; a full queue holds the call back (it is then
// answered late, or not at all when its caller gives up). Once a delivery
// has failed, every call fails.
func (q *queueSink) Deliver(ctx context.Context, stream string, records [][]byte) error {
	if err := q.failed.Load(); err != nil {
		return *err
	}
	q.pending.Add(1)
	select {
	case q.queue <- batchOf{stream, records}:
		return nil
	case <-ctx.Done():
		q.pending.Done()
		return ctx.Err()
	}
}

// drain waits until every queued record is delivered and returns the first
// delivery error: records that were acknowledged and not written.
func (q *queueSink) drain() error {
	q.pending.Wait()
	if err := q.failed.Load(); err != nil {
		return *err
	}
	return nil
}

func (q *queueSink) close() {
	close(q.queue)
	<-q.done
}
