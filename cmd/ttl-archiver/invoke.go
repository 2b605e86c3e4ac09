package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

func init() {
	register(command{
		name:    "invoke",
		summary: "run the archiver on stream event files (or stdin), into a local Firehose and S3",
		run:     runInvoke,
	})
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type invokeFlags struct {
	events    stringList
	stream    string
	out       string
	bootstrap string
	format    string
	batchSize string
	pack      bool
	failRate  float64
	timeout   time.Duration
	verbose   bool
	quiet     bool
}

func runInvoke(ctx context.Context, e *env, args []string) error {
	var f invokeFlags
	fs := newFlagSet(e, "invoke")
	fs.Var(&f.events, "event", "stream event `file` (repeatable; - for stdin); files after the flags count too")
	fs.StringVar(&f.stream, "stream", "", "send to this real Firehose `stream` with your AWS credentials and region, instead of the local one")
	fs.StringVar(&f.out, "out", filepath.Join("out", "s3"), "`dir`ectory of the local S3 API: objects land in DIR/buckets/"+local.Bucket+"/")
	fs.StringVar(&f.bootstrap, "bootstrap", "", "run this built function (`path` to bootstrap) under a loopback Lambda Runtime API instead of in-process")
	fs.StringVar(&f.format, "format", "json", "archive format: json or dynamodb-json")
	fs.StringVar(&f.batchSize, "batch-size", "", "records per PutRecordBatch call (1 to 500, default 400)")
	fs.BoolVar(&f.pack, "pack", false, "pack several lines into each Firehose record (PACK_RECORDS)")
	fs.Float64Var(&f.failRate, "fail-rate", 0, "local Firehose fails this share (0 to 1) of records, as throttling does")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "the function's timeout: each invocation's deadline")
	fs.BoolVar(&f.verbose, "v", false, "print counts, objects and sample lines even when stdout is not a terminal")
	fs.BoolVar(&f.quiet, "q", false, "print only the batch responses, even on a terminal")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `usage: ttl-archiver invoke [flags] [--event] FILE...

Runs the archiver on each stream event file (the JSON Lambda receives), as
Lambda would, and prints each partial batch response and the counts. By
default nothing leaves this machine: the lines go to a Firehose stand-in on
loopback that buffers, partitions and gzips them as template.yaml's stream
does, into an S3 API on loopback whose objects are files under -out.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	f.events = append(f.events, fs.Args()...)
	if len(f.events) == 0 {
		return fmt.Errorf("%w: no event file: give --event FILE (or - for stdin)", errUsage)
	}
	if f.failRate < 0 || f.failRate > 1 {
		return fmt.Errorf("%w: -fail-rate %v: want 0 to 1", errUsage, f.failRate)
	}
	if f.stream != "" && (f.bootstrap != "" || f.failRate > 0) {
		return fmt.Errorf("%w: -stream sends to a real stream: -bootstrap and -fail-rate are for the local one", errUsage)
	}
	verbose := (e.isTerminal || f.verbose) && !f.quiet
	fnEnv := map[string]string{"ARCHIVE_FORMAT": f.format, "BATCH_SIZE": f.batchSize, "PACK_RECORDS": strconv.FormatBool(f.pack)}
	fnEnv["FIREHOSE_STREAM_NAME"] = local.Stream
	if f.stream != "" {
		fnEnv["FIREHOSE_STREAM_NAME"] = f.stream
	}
	cfg, err := archive.ConfigFromEnv(func(k string) string { return fnEnv[k] })
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	var stack *local.Stack
	var invoker func(context.Context, []byte) (archive.BatchResponse, archive.Counts, bool, error)
	if f.stream != "" {
		acfg, err := loadAWSConfigFromEnv(ctx, e)
		if err != nil {
			return err
		}
		invoker, err = inProcess(firehose.NewFromConfig(acfg), cfg)
		if err != nil {
			return err
		}
	} else {
		opts := local.Options{Dir: f.out, Params: map[string]string{"PackRecords": strconv.FormatBool(f.pack)}}
		if f.failRate > 0 {
			opts.Faults = firehoselocal.FailRecordsRate(f.failRate, time.Now().UnixNano())
		}
		if stack, err = local.Start(opts); err != nil {
			return err
		}
		defer func() { _ = stack.Close() }()
		if f.bootstrap != "" {
			var env []string
			for k, v := range fnEnv {
				if v != "" && k != "FIREHOSE_STREAM_NAME" {
					env = append(env, k+"="+v)
				}
			}
			fo := local.FunctionOptions{Bootstrap: f.bootstrap, Env: env}
			if verbose {
				// The function's one log line per invocation carries its
				// counts; the metrics lines are for CloudWatch.
				fo.Stdout = &logLines{w: e.stdout}
			}
			fn, err := stack.StartFunction(ctx, fo)
			if err != nil {
				return fmt.Errorf("start %s: %w", f.bootstrap, err)
			}
			defer func() { _ = fn.Close() }()
			invoker = throughRuntime(fn, f.timeout)
		} else if invoker, err = inProcess(stack.FirehoseClient(), cfg); err != nil {
			return err
		}
	}

	failed := false
	for _, name := range f.events {
		payload, err := readEvent(e, name)
		if err != nil {
			return err
		}
		ictx, cancel := context.WithTimeout(ctx, f.timeout)
		resp, c, haveCounts, err := invoker(ictx, payload)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out, _ := json.Marshal(resp)
		fmt.Fprintf(e.stdout, "%s: %s\n", name, out)
		if verbose && haveCounts {
			fmt.Fprintf(e.stdout, "  received %d, archived %d (raw %d, no old image %d), skipped %d, failed %d; %d Firehose calls\n",
				c.Received, c.Archived, c.RawArchived, c.NoOldImage, c.SkippedTotal(), c.Failed, c.Calls)
		}
		failed = failed || len(resp.BatchItemFailures) > 0
	}
	if stack != nil {
		if err := stack.Flush(ctx); err != nil {
			return err
		}
		if verbose {
			printObjects(e.stdout, stack)
		}
	}
	if failed {
		return fmt.Errorf("some records were not delivered: Lambda would retry from the lowest itemIdentifier above")
	}
	return nil
}

// inProcess runs the archiver in this process.
func inProcess(client archive.FirehoseAPI, cfg archive.Config) (func(context.Context, []byte) (archive.BatchResponse, archive.Counts, bool, error), error) {
	a, err := archive.New(client, cfg)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, payload []byte) (archive.BatchResponse, archive.Counts, bool, error) {
		res, err := a.Archive(ctx, payload)
		return res.Response, res.Counts, true, err
	}, nil
}

// throughRuntime runs each event through the bootstrap under the loopback
// Runtime API; the counts are in the function's log, not here.
func throughRuntime(fn *local.Function, timeout time.Duration) func(context.Context, []byte) (archive.BatchResponse, archive.Counts, bool, error) {
	return func(ctx context.Context, payload []byte) (archive.BatchResponse, archive.Counts, bool, error) {
		var resp archive.BatchResponse
		res, err := fn.Invoke(ctx, payload, timeout)
		if err != nil {
			return resp, archive.Counts{}, false, err
		}
		if res.Error != nil {
			return resp, archive.Counts{}, false, fmt.Errorf("function error %s: %s", res.Error.Type, res.Error.Message)
		}
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			return resp, archive.Counts{}, false, fmt.Errorf("function response %q: %w", res.Payload, err)
		}
		return resp, archive.Counts{}, false, nil
	}
}

// logLines passes the function's log lines on, indented, and drops its
// Embedded Metric Format lines.
type logLines struct {
	w   io.Writer
	buf []byte
}

func (l *logLines) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := l.buf[:i]
		if !bytes.Contains(line, []byte(`"_aws"`)) {
			fmt.Fprintf(l.w, "  function log: %s\n", line)
		}
		l.buf = l.buf[i+1:]
	}
}

// printObjects lists the objects the local stream wrote and a few lines.
func printObjects(w io.Writer, stack *local.Stack) {
	objs := stack.Delivery.Objects()
	dir := stack.S3.BucketDir(local.Bucket)
	fmt.Fprintf(w, "\n%d objects in s3://%s (files under %s):\n", len(objs), local.Bucket, dir)
	for _, o := range objs {
		kind := ""
		if o.Error {
			kind = "  (error output)"
		}
		fmt.Fprintf(w, "  %s  %d lines, %d bytes, %d gzipped%s\n", o.Key, o.Records, o.Bytes, o.Size, kind)
	}
	if len(objs) > 0 {
		fmt.Fprintf(w, "\nRead them with: ttl-archiver cat %s\n", dir)
	}
}

func readEvent(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	return b, nil
}
