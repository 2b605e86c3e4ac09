package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func newRedriveCmd() *cobra.Command {
	var from, stream, output string
	var a awsFlags
	cmd := &cobra.Command{
		Use:   "redrive --from s3://bucket/prefix|PATH [--stream NAME]",
		Short: "Archive again the batches an event source mapping sent to its S3 on-failure destination",
		Long: `Reads the invocation records a DynamoDB event source mapping wrote to its S3
on-failure destination, runs the archiver on each record's payload (the
stream batch) and reports what was archived. The archiver's variables
(FIREHOSE_STREAM_NAME, ARCHIVE_FORMAT, PACK_RECORDS, ...) apply as in the
function. Running it twice only archives duplicates, which restore drops.
It exits 3 when a batch was not archived whole, when an object under
--from is not an on-failure record, and when there is none.

--output json prints one object on stdout instead of the summary (the
per-record lines go to stderr); its shape is in docs/restore.md.`,
		Example: `  ttl-archiver redrive --from s3://my-failures/aws/lambda/ESM-UUID/ --stream ttl-archive
  ttl-archiver redrive --from failed/ --stream ttl-archive --region eu-west-1 --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRedrive(cmd, from, stream, a, output)
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "", "on-failure records: s3://bucket/prefix (e.g. s3://B/aws/lambda/ESM-UUID/) or a local file or directory (required)")
	cmd.Flags().StringVar(&stream, "stream", "", "Firehose `stream` to archive to (default: FIREHOSE_STREAM_NAME)")
	addOutputFlag(cmd.Flags(), &output)
	a.add(cmd.Flags())
	return cmd
}

// redriveReport is redrive --output json's object (docs/restore.md).
type redriveReport struct {
	Complete   bool   `json:"complete"`
	Stream     string `json:"stream"`
	Objects    int    `json:"objects"`
	Records    int    `json:"records"`
	Archived   int    `json:"archived"`
	Skipped    int    `json:"skipped"`
	Failed     int    `json:"failed"`
	NotRecords int    `json:"not_records"`
	Error      string `json:"error"`
}

func runRedrive(cmd *cobra.Command, from, stream string, af awsFlags, output string) error {
	ctx, e := cmd.Context(), envOf(cmd)
	if from == "" {
		return usageErr("--from is required")
	}
	if err := checkOutput(output); err != nil {
		return err
	}
	loc, err := archivefs.ParseLocation(from)
	if err != nil {
		return usageErr("--from: %v", err)
	}
	getenv := e.getenv
	if stream != "" {
		getenv = func(k string) string {
			if k == "FIREHOSE_STREAM_NAME" {
				return stream
			}
			return e.getenv(k)
		}
	}
	acfg, err := archive.ConfigFromEnv(getenv)
	if err != nil {
		return usageErr("%v (or --stream)", err)
	}
	if !loc.IsS3() {
		// Said before asking for credentials that would not help.
		if err := checkNotEmpty(ctx, []archivefs.Location{loc}, nil, []string{from}); err != nil {
			return err
		}
	}
	cfg, err := af.load(ctx, e)
	if err != nil {
		return err
	}
	fh := newFirehoseClient(cfg, af.getenv(e))
	if err := checkStream(ctx, e, fh, acfg.StreamName, cfg.Region); err != nil {
		return err
	}
	a, err := archive.New(fh, acfg, archive.WithLogger(warnLogger(e)))
	if err != nil {
		return err
	}
	src, err := archivefs.NewSource(loc, archivefs.NewS3Client(cfg, af.getenv(e)))
	if err != nil {
		return err
	}
	m := newMeter(e, "records")
	out := e.stdout
	if output == "json" {
		out = e.stderr // stdout is the one report object
	}
	rep, err := restore.Redrive(ctx, restore.RedriveOptions{Source: src, Archive: restore.ArchiverFunc(a), Out: out, Warn: e.stderr,
		Progress: func(r restore.RedriveReport) {
			m.set(r.Objects, fmt.Sprintf("%d stream records, %d archived, %d failed", r.Records, r.Archived, r.Failed))
		}})
	m.finish()
	if err == nil && rep.Objects == 0 {
		err = noObjects([]string{from})
	}
	if output == "json" {
		return errors.Join(err, writeJSON(e.stdout, redriveReport{Complete: err == nil, Stream: acfg.StreamName, Objects: rep.Objects,
			Records: rep.Records, Archived: rep.Archived, Skipped: rep.Skipped, Failed: rep.Failed, NotRecords: rep.NotRecords, Error: errText(err)}))
	}
	fmt.Fprintf(e.stdout, "%d on-failure records: %d stream records, %d TTL deletions archived to %s, %d other records skipped, %d batches not archived whole\n",
		rep.Objects, rep.Records, rep.Archived, acfg.StreamName, rep.Skipped, rep.Failed)
	return err
}

// newFirehoseClient honours AWS_ENDPOINT_URL_FIREHOSE read through
// getenv.
func newFirehoseClient(cfg aws.Config, getenv func(string) string) *firehose.Client {
	return firehose.NewFromConfig(cfg, func(o *firehose.Options) {
		if u := getenv("AWS_ENDPOINT_URL_FIREHOSE"); u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	})
}

// warnLogger passes the archiver's warnings and errors (why records were
// not delivered) to stderr.
func warnLogger(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// checkStream asks Firehose about the stream before any record is sent,
// so that a wrong endpoint, stream name or region is named at once
// instead of after the archiver's retries. Being denied
// firehose:DescribeDeliveryStream is only a notice: sending needs
// firehose:PutRecordBatch alone.
func checkStream(ctx context.Context, e *env, fh *firehose.Client, stream, region string) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := fh.DescribeDeliveryStream(cctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(stream)})
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return fmt.Errorf("firehose stream %s not found in region %s (check the name and AWS_REGION)", stream, region)
		case "AccessDeniedException", "AccessDenied":
			fmt.Fprintf(e.stderr, "notice: cannot check stream %s (%s); sending anyway\n", stream, ae.ErrorMessage())
			return nil
		}
	}
	return fmt.Errorf("reach firehose stream %s in region %s: %w", stream, region, err)
}
