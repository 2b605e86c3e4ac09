package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func init() {
	register(command{
		name:    "invoke",
		summary: "run the archiver on stream event files (or stdin) and show what it sends",
		run:     runInvoke,
	})
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runInvoke(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "invoke")
	var eventFiles stringList
	fs.Var(&eventFiles, "event", "stream event `file` (repeatable; - for stdin); files after the flags count too")
	stream := fs.String("stream", "", "send to this real Firehose `stream` with your AWS credentials instead of printing the lines")
	format := fs.String("format", "json", "archive format: json or dynamodb-json")
	batchSize := fs.String("batch-size", "", "records per PutRecordBatch call (1 to 500, default 400)")
	pack := fs.Bool("pack", false, "pack several lines into each Firehose record")
	quiet := fs.Bool("q", false, "print only the batch responses")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ttl-archiver invoke [flags] [--event] FILE...\n\nRuns the archiver on each stream event file, as Lambda would, and prints\nthe archive lines it sends, the partial batch response and the counts.\nWithout --stream nothing leaves this machine.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	eventFiles = append(eventFiles, fs.Args()...)
	if len(eventFiles) == 0 {
		return fmt.Errorf("%w: no event file: give --event FILE (or - for stdin)", errUsage)
	}
	env := map[string]string{"FIREHOSE_STREAM_NAME": "local-ttl-archive", "ARCHIVE_FORMAT": *format, "BATCH_SIZE": *batchSize, "PACK_RECORDS": fmt.Sprint(*pack)}
	if *stream != "" {
		env["FIREHOSE_STREAM_NAME"] = *stream
	}
	cfg, err := archive.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var client archive.FirehoseAPI
	lines := &printFirehose{w: e.stdout, quiet: *quiet}
	if *stream != "" {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS configuration: %w", err)
		}
		client = firehose.NewFromConfig(awsCfg)
	} else {
		client = lines
	}
	a, err := archive.New(client, cfg)
	if err != nil {
		return err
	}
	failed := false
	for _, name := range eventFiles {
		payload, err := readEvent(e, name)
		if err != nil {
			return err
		}
		res, err := a.Archive(ctx, payload)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		resp, _ := json.Marshal(res.Response)
		c := res.Counts
		fmt.Fprintf(e.stdout, "%s: response %s\n", name, resp)
		if !*quiet {
			fmt.Fprintf(e.stdout, "%s: received %d, archived %d (raw %d, no old image %d), skipped %d, failed %d, Firehose calls %d\n",
				name, c.Received, c.Archived, c.RawArchived, c.NoOldImage, c.SkippedTotal(), c.Failed, c.Calls)
			for _, p := range res.Problems {
				fmt.Fprintf(e.stdout, "%s: %s\n", name, p)
			}
		}
		failed = failed || len(res.Response.BatchItemFailures) > 0
	}
	if failed {
		return fmt.Errorf("some records were not delivered (see the responses above)")
	}
	return nil
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

// printFirehose stands in for Firehose by printing each record it is sent.
type printFirehose struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
}

func (p *printFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.quiet {
		for _, r := range in.Records {
			_, _ = p.w.Write(r.Data)
		}
	}
	return &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}, nil
}
