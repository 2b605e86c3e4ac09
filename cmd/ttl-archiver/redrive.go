package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func init() {
	register(command{
		name:    "redrive",
		summary: "archive again the batches an event source mapping sent to its S3 on-failure destination",
		run:     runRedrive,
	})
}

func runRedrive(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "redrive")
	from := fs.String("from", "", "on-failure records: s3://bucket/prefix (e.g. s3://B/aws/lambda/ESM-UUID/) or a local file or directory (required)")
	stream := fs.String("stream", "", "Firehose `stream` to archive to (default: FIREHOSE_STREAM_NAME)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `usage: ttl-archiver redrive -from s3://bucket/prefix|PATH [-stream NAME]

Reads the invocation records a DynamoDB event source mapping wrote to its S3
on-failure destination, runs the archiver on each record's payload (the
stream batch) and reports what was archived. The archiver's variables
(FIREHOSE_STREAM_NAME, ARCHIVE_FORMAT, PACK_RECORDS, ...) apply as in the
function. Running it twice only archives duplicates, which restore drops.
It exits non-zero when a batch was not archived whole.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return fmt.Errorf("%w: -from is required", errUsage)
	}
	loc, err := archivefs.ParseLocation(*from)
	if err != nil {
		return fmt.Errorf("%w: -from: %v", errUsage, err)
	}
	getenv := e.getenv
	if *stream != "" {
		getenv = func(k string) string {
			if k == "FIREHOSE_STREAM_NAME" {
				return *stream
			}
			return e.getenv(k)
		}
	}
	acfg, err := archive.ConfigFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("%w: %v (or -stream)", errUsage, err)
	}
	cfg, err := loadAWSConfigFromEnv(ctx, e)
	if err != nil {
		return err
	}
	fh := firehose.NewFromConfig(cfg, func(o *firehose.Options) {
		if u := e.getenv("AWS_ENDPOINT_URL_FIREHOSE"); u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	})
	a, err := archive.New(fh, acfg, archive.WithLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	src, err := archivefs.NewSource(loc, archivefs.NewS3Client(cfg, e.getenv))
	if err != nil {
		return err
	}
	rep, err := restore.Redrive(ctx, restore.RedriveOptions{Source: src, Archive: restore.ArchiverFunc(a), Out: e.stdout, Warn: e.stderr})
	fmt.Fprintf(e.stdout, "%d on-failure records: %d stream records, %d TTL deletions archived to %s, %d other records skipped, %d batches not archived whole\n",
		rep.Objects, rep.Records, rep.Archived, acfg.StreamName, rep.Skipped, rep.Failed)
	return err
}
