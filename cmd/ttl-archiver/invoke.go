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
	"sync"
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
	var invoker invokeFunc
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
			// The function's one log line per invocation carries its
			// counts and problems; the metrics lines are for CloudWatch.
			logs := &logLines{problems: map[string][]string{}}
			logs.cond = sync.NewCond(&logs.mu)
			if verbose {
				logs.w = e.stdout
			}
			fo := local.FunctionOptions{Bootstrap: f.bootstrap, Env: env, Stdout: logs}
			fn, err := stack.StartFunction(ctx, fo)
			if err != nil {
				return fmt.Errorf("start %s: %w", f.bootstrap, err)
			}
			defer func() { _ = fn.Close() }()
			invoker = throughRuntime(fn, f.timeout, logs)
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
		resp, c, haveCounts, problems, err := invoker(ictx, payload)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out, _ := json.Marshal(resp)
		fmt.Fprintf(e.stdout, "%s: %s\n", name, out)
		if len(resp.BatchItemFailures) > 0 {
			// The archiver's own account of the records it could not
			// deliver, as its log line has it.
			if len(problems) == 0 {
				problems = []string{"the function logged no reason"}
			}
			for _, p := range problems {
				fmt.Fprintf(e.stdout, "  why: %s\n", p)
			}
		}
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
		return fmt.Errorf("%w: some records were not delivered (the reasons are above, after \"why:\"): Lambda would retry from the lowest itemIdentifier above", restore.ErrIncomplete)
	}
	return nil
}

// invokeFunc runs the archiver on one event: its response, its counts
// (when known here), and its problems (why records were archived raw or
// not delivered).
type invokeFunc func(context.Context, []byte) (resp archive.BatchResponse, c archive.Counts, haveCounts bool, problems []string, err error)

// inProcess runs the archiver in this process.
func inProcess(client archive.FirehoseAPI, cfg archive.Config, opts ...archive.Option) (invokeFunc, error) {
	a, err := archive.New(client, cfg, opts...)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, payload []byte) (archive.BatchResponse, archive.Counts, bool, []string, error) {
		res, err := a.Archive(ctx, payload)
		return res.Response, res.Counts, true, res.Problems, err
	}, nil
}

// logWait is how long, after the function answered, invoke waits for its
// log line (the pipe from the process may lag the response).
const logWait = 2 * time.Second

// throughRuntime runs each event through the bootstrap under the loopback
// Runtime API; the counts and problems are in the function's log line,
// which logs collects.
func throughRuntime(fn *local.Function, timeout time.Duration, logs *logLines) invokeFunc {
	return func(ctx context.Context, payload []byte) (archive.BatchResponse, archive.Counts, bool, []string, error) {
		var resp archive.BatchResponse
		res, err := fn.Invoke(ctx, payload, timeout)
		if err != nil {
			return resp, archive.Counts{}, false, nil, err
		}
		if res.Error != nil {
			return resp, archive.Counts{}, false, nil, fmt.Errorf("function error %s: %s", res.Error.Type, res.Error.Message)
		}
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			return resp, archive.Counts{}, false, nil, fmt.Errorf("function response %q: %w", res.Payload, err)
		}
		var problems []string
		if len(resp.BatchItemFailures) > 0 {
			problems = logs.problemsOf(res.RequestID, logWait)
		}
		return resp, archive.Counts{}, false, problems, nil
	}
}

// logLines reads the function's log: it keeps the problems of each
// invocation's line by request id, and, with w set, passes the lines on,
// indented, without the Embedded Metric Format lines.
type logLines struct {
	w   io.Writer
	buf []byte

	mu       sync.Mutex
	cond     *sync.Cond
	problems map[string][]string // by requestId, for lines that have them
	seen     map[string]bool     // request ids whose batch line arrived
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
			l.note(line)
			if l.w != nil {
				fmt.Fprintf(l.w, "  function log: %s\n", line)
			}
		}
		l.buf = l.buf[i+1:]
	}
}

// note records the problems of a batch line (one with counts).
func (l *logLines) note(line []byte) {
	var rec struct {
		RequestID string   `json:"requestId"`
		Received  *int     `json:"received"`
		Problems  []string `json:"problems"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.RequestID == "" || rec.Received == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[rec.RequestID] = true
	l.problems[rec.RequestID] = append(l.problems[rec.RequestID], rec.Problems...)
	l.cond.Broadcast()
}

// problemsOf waits up to wait for the batch line of the invocation id and
// returns its problems.
func (l *logLines) problemsOf(id string, wait time.Duration) []string {
	t := time.AfterFunc(wait, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.cond.Broadcast()
	})
	defer t.Stop()
	deadline := time.Now().Add(wait)
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.seen[id] && time.Now().Before(deadline) {
		l.cond.Wait()
	}
	return l.problems[id]
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

// maxEventBytes is the largest event invoke runs: Lambda's invocation
// payload limit, "6 MB" in its quotas, is 6 MiB + 100 bytes
// (6,291,556) as Lambda counts it in its errors; an event source mapping
// never sends a larger batch.
const maxEventBytes = 6<<20 + 100

// readEvent reads one event from a file or stdin ("-"), reading no more
// than one byte over maxEventBytes.
func readEvent(e *env, name string) ([]byte, error) {
	r := e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
		defer func() { _ = f.Close() }()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > maxEventBytes {
			return nil, eventTooLarge(name, fmt.Sprintf("%d bytes", fi.Size()))
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxEventBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read event %s: %w", name, err)
	}
	if len(b) > maxEventBytes {
		return nil, eventTooLarge(name, fmt.Sprintf("more than %d bytes", maxEventBytes))
	}
	return b, nil
}

func eventTooLarge(name, size string) error {
	if name == "-" {
		name = "stdin"
	}
	return fmt.Errorf("event %s: %s, over Lambda's invocation payload limit of 6 MB (%d bytes): no event source mapping sends a larger batch; split it into smaller events", name, size, maxEventBytes)
}
