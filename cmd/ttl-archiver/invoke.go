package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

type invokeFlags struct {
	events    []string
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
	aws       awsFlags
}

func newInvokeCmd() *cobra.Command {
	var f invokeFlags
	cmd := &cobra.Command{
		Use:   "invoke [flags] [--event] FILE...",
		Short: "Run the archiver on stream event files (or stdin), into a local Firehose and S3",
		Long: `Runs the archiver on each stream event file (the JSON Lambda receives), as
Lambda would, and prints each partial batch response and the counts. By
default nothing leaves this machine: the lines go to a Firehose stand-in on
loopback that buffers, partitions and gzips them as template.yaml's stream
does, into an S3 API on loopback whose objects are files under --out.
With --stream, the lines go to that real stream with your AWS credentials
(--region, --profile and --endpoint-url apply to it only): missing
credentials or an unreachable endpoint are reported at once.`,
		Example: `  ttl-archiver invoke -v --out out/demo events/ttl-batch.json
  ttl-archiver invoke --stream ttl-archive --region eu-west-1 events/ttl-batch.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.events = append(f.events, args...)
			return runInvoke(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.events, "event", nil, "stream event `file` (repeatable; - for stdin); arguments count too")
	fl.StringVar(&f.stream, "stream", "", "send to this real Firehose `stream` with your AWS credentials and region, instead of the local one")
	fl.StringVar(&f.out, "out", filepath.Join("out", "s3"), "`dir`ectory of the local S3 API: objects land in DIR/buckets/"+local.Bucket+"/")
	fl.StringVar(&f.bootstrap, "bootstrap", "", "run this built function (`path` to bootstrap) under a loopback Lambda Runtime API instead of in-process")
	fl.StringVar(&f.format, "format", "json", "archive format: json or dynamodb-json")
	fl.StringVar(&f.batchSize, "batch-size", "", "records per PutRecordBatch call (1 to 500, default 400)")
	fl.BoolVar(&f.pack, "pack", false, "pack several lines into each Firehose record (PACK_RECORDS)")
	fl.Float64Var(&f.failRate, "fail-rate", 0, "local Firehose fails this share (0 to 1) of records, as throttling does")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "the function's timeout: each invocation's deadline")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print counts, objects and sample lines even when stdout is not a terminal")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the batch responses, even on a terminal")
	f.aws.add(fl)
	return cmd
}

func runInvoke(cmd *cobra.Command, f invokeFlags) error {
	ctx, e := cmd.Context(), envOf(cmd)
	if len(f.events) == 0 {
		return usageErr("no event file: give --event FILE (or - for stdin)")
	}
	if f.failRate < 0 || f.failRate > 1 {
		return usageErr("--fail-rate %v: want 0 to 1", f.failRate)
	}
	if f.stream != "" && (f.bootstrap != "" || f.failRate > 0) {
		return usageErr("--stream sends to a real stream: --bootstrap and --fail-rate are for the local one")
	}
	if f.stream == "" && (f.aws != awsFlags{}) {
		return usageErr("--region, --profile and --endpoint-url are for --stream: without it nothing leaves this machine")
	}
	if f.timeout <= 0 {
		return usageErr("--timeout %s: want a duration above zero", f.timeout)
	}
	verbose := (e.isTerminal || f.verbose) && !f.quiet
	fnEnv := map[string]string{"ARCHIVE_FORMAT": f.format, "BATCH_SIZE": f.batchSize, "PACK_RECORDS": strconv.FormatBool(f.pack)}
	fnEnv["FIREHOSE_STREAM_NAME"] = local.Stream
	if f.stream != "" {
		fnEnv["FIREHOSE_STREAM_NAME"] = f.stream
	}
	cfg, err := archive.ConfigFromEnv(func(k string) string { return fnEnv[k] })
	if err != nil {
		return usageErr("%v", err)
	}

	var stack *local.Stack
	var invoker func(context.Context, []byte) (archive.BatchResponse, archive.Counts, bool, error)
	if f.stream != "" {
		acfg, err := f.aws.load(ctx, e)
		if err != nil {
			return err
		}
		fh := newFirehoseClient(acfg, f.aws.getenv(e))
		if err := checkStream(ctx, e, fh, f.stream, acfg.Region); err != nil {
			return err
		}
		invoker, err = inProcess(fh, cfg, archive.WithLogger(warnLogger(e)))
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
		return fmt.Errorf("%w: some records were not delivered (the reasons are above): Lambda would retry from the lowest itemIdentifier above", restore.ErrIncomplete)
	}
	return nil
}

// inProcess runs the archiver in this process.
func inProcess(client archive.FirehoseAPI, cfg archive.Config, opts ...archive.Option) (func(context.Context, []byte) (archive.BatchResponse, archive.Counts, bool, error), error) {
	a, err := archive.New(client, cfg, opts...)
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
