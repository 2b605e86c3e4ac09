package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/backfill"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

type exportRequestFlags struct {
	table, from, to string
	bucket, prefix  string
	archive, output string
	aws             awsFlags
}

func newExportRequestCmd() *cobra.Command {
	var f exportRequestFlags
	cmd := &cobra.Command{
		Use:   "export-request --source-table T --from TIME --to TIME --s3-bucket B [--s3-prefix P]",
		Short: "Start the incremental exports that cover a time range, for backfill",
		Long: `Checks that point-in-time recovery of the table is ENABLED and covers
--from to --to (DescribeContinuousBackups), then starts one incremental
export (ExportTableToPointInTime, INCREMENTAL_EXPORT, NEW_AND_OLD_IMAGES,
DYNAMODB_JSON) per window of at most 24 hours (a range under 15 minutes
is refused). It prints the exports' ARNs, how to watch them, and the
backfill command to run once they are COMPLETED. Running it again with
the same values returns the same exports (client tokens).

--from is included, --to excluded; each is RFC 3339 or a date (midnight UTC).`,
		Example: `  ttl-archiver export-request -s Orders --from 2025-11-21T06:00:00Z --to 2025-11-21T12:00:00Z --s3-bucket my-exports --s3-prefix ddb --archive s3://my-archive/archive/`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runExportRequest(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.table, "source-table", "s", "", "the `table` to export (required)")
	fl.StringVar(&f.from, "from", "", "start of the range, included (`time`: RFC 3339 or a date; required)")
	fl.StringVar(&f.to, "to", "", "end of the range, excluded (`time`; required)")
	fl.StringVar(&f.bucket, "s3-bucket", "", "the `bucket` the exports are written to (required)")
	fl.StringVar(&f.prefix, "s3-prefix", "", "the key `prefix` of the exports in the bucket")
	fl.StringVar(&f.archive, "archive", "s3://ARCHIVE-BUCKET/archive/", "the archive `location` named in the printed backfill command")
	fl.StringVarP(&f.output, "output", "o", "text", "output `format`: text or json")
	f.aws.add(fl)
	return cmd
}

func runExportRequest(cmd *cobra.Command, f exportRequestFlags) error {
	ctx, e := cmd.Context(), envOf(cmd)
	switch {
	case f.table == "" || f.from == "" || f.to == "" || f.bucket == "":
		return usageErr("--source-table, --from, --to and --s3-bucket are required")
	case f.output != "text" && f.output != "json":
		return usageErr("--output %q: want text or json", f.output)
	}
	from, err := archivefs.ParseTime(f.from, false)
	if err != nil {
		return usageErr("--from: %v", err)
	}
	to, err := archivefs.ParseTime(f.to, false)
	if err != nil {
		return usageErr("--to: %v", err)
	}
	if !from.Before(to) {
		return usageErr("--from %s is not before --to %s", f.from, f.to)
	}
	if _, err := backfill.Windows(from, to); err != nil {
		return usageErr("%s", strings.TrimPrefix(err.Error(), backfill.ErrRefused.Error()+": "))
	}
	cfg, err := f.aws.load(ctx, e)
	if err != nil {
		return err
	}
	exports, err := backfill.RequestExports(ctx, exportDynamoDB(cfg, e, f.aws), backfill.RequestOptions{Table: f.table, From: from, To: to, Bucket: f.bucket, Prefix: f.prefix})
	if errors.Is(err, backfill.ErrRefused) {
		return usageErr("%s", strings.TrimPrefix(err.Error(), backfill.ErrRefused.Error()+": "))
	}
	var cmdLine strings.Builder
	fmt.Fprintf(&cmdLine, "ttl-archiver backfill --source-table %s --archive %s", f.table, f.archive)
	for _, x := range exports {
		fmt.Fprintf(&cmdLine, " \\\n    --export %s", x.Folder)
	}
	if f.output == "json" {
		b, jerr := json.Marshal(map[string]any{"exports": exports, "backfill": cmdLine.String()})
		if jerr != nil {
			return jerr
		}
		fmt.Fprintln(e.stdout, string(b))
		return err
	}
	for _, x := range exports {
		fmt.Fprintf(e.stdout, "%s  %s to %s  %s\n", x.ARN, x.From.Format(time.RFC3339), x.To.Format(time.RFC3339), x.Status)
	}
	if len(exports) > 0 {
		fmt.Fprintf(e.stdout, "\nwatch each until its ExportStatus is COMPLETED (exports take minutes to hours):\n")
		for _, x := range exports {
			fmt.Fprintf(e.stdout, "  aws dynamodb describe-export --export-arn %s --query ExportDescription.ExportStatus\n", x.ARN)
		}
		fmt.Fprintf(e.stdout, "\nthen archive what the stream missed, and verify:\n  %s\n", cmdLine.String())
	}
	return err
}

// exportDynamoDB is a DynamoDB client for cfg that honours
// AWS_ENDPOINT_URL_DYNAMODB unless --endpoint-url is given.
func exportDynamoDB(cfg aws.Config, e *env, a awsFlags) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if u := e.getenv("AWS_ENDPOINT_URL_DYNAMODB"); u != "" && a.endpointURL == "" {
			o.BaseEndpoint = aws.String(u)
		}
	})
}
