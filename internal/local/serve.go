package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// DefaultServeAddr is where [Serve] takes Firehose calls unless told
// otherwise. events/env.json, the environment file for sam local invoke,
// names its port.
const DefaultServeAddr = "127.0.0.1:9573"

// ServeOptions configure [Serve].
type ServeOptions struct {
	// Addr is where the Firehose stand-in listens (DefaultServeAddr when
	// empty). A function in a container reaches the host through Docker's
	// gateway, not loopback: it needs "0.0.0.0:9573" or the gateway's
	// address.
	Addr string
	// S3Addr is where the S3 API listens (127.0.0.1 on a free port when
	// empty). Only tools on this machine read it; the function needs none.
	S3Addr string
	// Dir holds the bucket: objects are files under Dir/buckets/<Bucket>/.
	Dir string
	// FlushInterval is how often buffered lines are written as objects, as
	// Firehose's buffering interval (template.yaml's BufferIntervalSeconds)
	// does; 0 writes them only when Serve stops.
	FlushInterval time.Duration
	// Params override template.yaml's parameter defaults.
	Params map[string]string
	// Credentials are the keys calls must be signed with; without them
	// (and without NoAuth) Serve refuses to start.
	Credentials firehoselocal.Credentials
	// NoAuth serves calls whatever keys signed them.
	NoAuth bool
	// CORSOrigin lets pages from that origin call the S3 API; without it
	// no CORS header is sent.
	CORSOrigin string
}

// ErrNoCredentials is Serve's refusal to start with neither credentials
// nor NoAuth.
var ErrNoCredentials = errors.New("no credentials to check signatures against")

// shutdownTimeout bounds how long Serve waits, once stopped, for Firehose
// calls in flight and for the last objects to be written.
const shutdownTimeout = 30 * time.Second

// Serve runs the local Firehose stream and S3 bucket for a function that
// runs elsewhere (sam local invoke, a debugger): it prints to w the
// endpoints and the variables that point the function there, writes an
// object for what was buffered every FlushInterval, and runs until ctx
// ends. It then stops taking calls, waits for those in flight and writes
// everything buffered, so that no record a caller saw accepted is lost;
// it returns an error naming what it could not write.
func Serve(ctx context.Context, o ServeOptions, w io.Writer) error {
	if o.Addr == "" {
		o.Addr = DefaultServeAddr
	}
	if o.FlushInterval < 0 {
		return fmt.Errorf("serve: flush interval %v: want 0 or more", o.FlushInterval)
	}
	if !o.NoAuth && (o.Credentials.AccessKeyID == "" || o.Credentials.SecretAccessKey == "") {
		return ErrNoCredentials
	}
	stack, err := Start(Options{Dir: o.Dir, Params: o.Params, FirehoseAddr: o.Addr, S3Addr: o.S3Addr,
		Credentials: o.Credentials, NoAuth: o.NoAuth, CORSOrigin: o.CORSOrigin})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	printEndpoints(w, stack, o)

	var mu sync.Mutex // serialises flushes and the lines about them
	printed := 0
	flush := func(ctx context.Context, flush func(context.Context) error) error {
		mu.Lock()
		defer mu.Unlock()
		err := flush(ctx)
		objs := stack.Delivery.Objects()
		for _, obj := range objs[printed:] {
			kind := ""
			if obj.Error {
				kind = " (error output)"
			}
			fmt.Fprintf(w, "wrote s3://%s/%s: %d lines%s\n", Bucket, obj.Key, obj.Records, kind)
		}
		printed = len(objs)
		return err
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	if o.FlushInterval > 0 {
		wg.Go(func() {
			tick := time.NewTicker(o.FlushInterval)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					// A buffer that could not be written is kept for the
					// next flush.
					if err := flush(context.Background(), stack.Flush); err != nil {
						fmt.Fprintf(w, "write objects (kept, tried again at the next flush): %v\n", err)
					}
				}
			}
		})
	}

	<-ctx.Done()
	close(done)
	wg.Wait()
	fmt.Fprintln(w, "stopping: answering the calls in flight and writing what is buffered")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := flush(sctx, stack.Shutdown); err != nil {
		return fmt.Errorf("serve: stop: %w", err)
	}
	st := stack.Firehose.Stats()
	fmt.Fprintf(w, "stopped: %d records accepted; objects written: %d, under %s\n", st.RecordsAccepted, printed, stack.S3.BucketDir(Bucket))
	return nil
}

// printEndpoints tells the user where the servers are and how to point
// the function at them.
func printEndpoints(w io.Writer, stack *Stack, o ServeOptions) {
	fhURL := stack.Firehose.URL()
	fmt.Fprintf(w, "Firehose stream %s -> S3 bucket %s, configured from template.yaml\n", Stream, Bucket)
	host, _, _ := net.SplitHostPort(o.Addr)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(fhURL, "http://"))
	fmt.Fprintf(w, "  Firehose  %s  (listening on %s)\n", fhURL, net.JoinHostPort(host, port))
	fmt.Fprintf(w, "  S3        %s  (objects are files under %s)\n", stack.S3.URL(), stack.S3.BucketDir(Bucket))
	if o.FlushInterval > 0 {
		fmt.Fprintf(w, "Buffered lines are written every %v and when serve stops (Ctrl-C).\n", o.FlushInterval)
	} else {
		fmt.Fprintln(w, "Buffered lines are written when serve stops (Ctrl-C).")
	}
	if o.NoAuth {
		fmt.Fprintf(w, "\nPoint the function here (--no-auth: any access keys will do):\n")
	} else {
		fmt.Fprintf(w, "\nPoint the function here, with the access key %s that serve checks signatures against:\n", o.Credentials.AccessKeyID)
	}
	fmt.Fprintf(w, "  FIREHOSE_STREAM_NAME=%s\n  AWS_ENDPOINT_URL_FIREHOSE=%s\n", Stream, fhURL)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		fmt.Fprintf(w, "A container cannot reach %s: for sam local invoke, serve with --addr 0.0.0.0:%s.\n", host, port)
		return
	}
	fmt.Fprintf(w, "From a container (sam local invoke --env-vars events/env.json): AWS_ENDPOINT_URL_FIREHOSE=http://host.docker.internal:%s\n", port)
}
