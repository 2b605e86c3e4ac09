package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
	"github.com/ttl-archiver/ttl-archiver/verify"
)

type verifyFlags struct {
	from, tables, regions []string
	since, until          string
	output                string
	settle                time.Duration
	workers               int
	athena                bool
	workgroup, database   string
	glueTable             string
	aws                   awsFlags
}

func newVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --from s3://bucket/prefix|PATH --since DAY [flags]",
		Short: "Prove the archive complete: TTL deletions counted by DynamoDB against the lines archived",
		Long: `Compares, per source table, region and UTC day, DynamoDB's CloudWatch
metric TimeToLiveDeletedItemCount (Sum) with the distinct event_ids
archived for that table, region and deleted_at day.

The archive is every --from (local folders or S3 prefixes, read as one:
give each region's archive of a global table), read in one streaming
pass, objects in parallel; or, with --athena, counted by Athena through
the stack's Glue table. Tables are the --source-table values, or every
table seen in the archive. Regions are --regions, or each table's
replicas (DescribeTable) plus --region; a region the archive has lines
of is always added. A global table is judged on the sum over its regions
for each day; its region rows are detail.

Verdicts: complete; missing (with how many); extra (more archived than
deleted: a non-TTL delete archived, or a bug); pending (the day is not
over, or not --settle old); unknown (archived lines but no metric data:
beyond CloudWatch's 455 days, or the metric is absent). A deletion that
the metric puts in the last hour of a day and the archive in the first
hour of the next (or the other way round) is matched across midnight; a
real gap is reported exactly.

With --output json, stdout is one object:
  {"complete": bool,
   "rows": [{"table","region","day","ttl_deleted","archived","missing","extra","status","note","detail"}],
   "totals": {"ttl_deleted","archived","missing","extra"},
   "problems": [{"object","line","error"}]}
A global table's verdict rows have "region": "*".

Exit codes: 0 every day complete or pending; 3 anything missing, unknown
or extra, or no archive object under --from; 1 an error, such as an object or a line that could not be read
(each is named); 2 a bad command line.`,
		Example: `  ttl-archiver verify --from s3://my-archive/archive/ --since 2025-11-20 --until 2025-11-22
  ttl-archiver verify --from s3://archive-use1/archive/ --from s3://archive-euw1/archive/ -s Orders --since 2025-11-20 --regions us-east-1,eu-west-1 --output json
  ttl-archiver verify --athena -s Orders --since 2025-10-01 --until 2025-10-31`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runVerify(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.from, "from", "f", nil, "archive `location`: s3://bucket/prefix, or a local file or directory (repeatable: all are read as one archive)")
	fl.StringArrayVarP(&f.tables, "source-table", "s", nil, "verify this source `table` (repeatable; default: every table in the archive)")
	fl.StringVar(&f.since, "since", "", "first UTC `day` to verify, yyyy-mm-dd (required)")
	fl.StringVar(&f.until, "until", "", "last UTC `day` to verify, included (default: today)")
	fl.StringSliceVar(&f.regions, "regions", nil, "the tables' `regions`, comma-separated (default: each table's replicas plus --region)")
	addOutputFlag(fl, &f.output)
	fl.DurationVar(&f.settle, "settle", verify.DefaultSettle, "how long after a day ends its metric and lines are final (`duration`); younger days are pending")
	fl.IntVar(&f.workers, "concurrency", 0, "`objects` read at once (default: one per CPU)")
	fl.BoolVar(&f.athena, "athena", false, "count through the stack's Glue table with Athena instead of reading the objects")
	fl.StringVar(&f.workgroup, "workgroup", "ttl-archiver", "Athena `workgroup` (the stack's, named after it)")
	fl.StringVar(&f.database, "database", verify.DefaultDatabase, "Glue `database` of the archive table")
	fl.StringVar(&f.glueTable, "glue-table", verify.DefaultGlueTable, "Glue `table` over the archive")
	f.aws.add(fl)
	return cmd
}

// parseDay reads a UTC day, yyyy-mm-dd.
func parseDay(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usageErr("--%s %q: want a day as yyyy-mm-dd (UTC)", flag, s)
	}
	return t, nil
}

func runVerify(cmd *cobra.Command, f verifyFlags) error {
	ctx, e := cmd.Context(), envOf(cmd)
	if f.since == "" {
		return usageErr("--since is required")
	}
	since, err := parseDay("since", f.since)
	if err != nil {
		return err
	}
	until := e.now().UTC().Truncate(24 * time.Hour)
	if f.until != "" {
		if until, err = parseDay("until", f.until); err != nil {
			return err
		}
	}
	if until.Before(since) {
		return usageErr("--since %s is after --until %s", f.since, until.Format(time.DateOnly))
	}
	if err := checkOutput(f.output); err != nil {
		return err
	}
	if f.workers < 0 || cmd.Flags().Changed("concurrency") && f.workers == 0 {
		return usageErr("--concurrency %d: want 1 or more (default: one per CPU)", f.workers)
	}
	if f.settle < 0 {
		return usageErr("--settle %s: want a duration of zero or more", f.settle)
	}
	switch {
	case f.athena && len(f.from) > 0:
		return usageErr("--athena counts through the Glue table: give no --from")
	case f.athena && len(f.tables) == 0:
		return usageErr("--athena needs --source-table: the Glue table's table_name partition is injected")
	case !f.athena && len(f.from) == 0:
		return usageErr("no archive: give --from s3://bucket/prefix or a local path (or --athena)")
	}
	for _, r := range f.regions {
		if strings.TrimSpace(r) == "" {
			return usageErr("--regions has an empty entry")
		}
	}
	locs, err := parseLocations("from", f.from)
	if err != nil {
		return err
	}
	if !f.athena && !anyS3(locs) {
		// Said before asking for credentials that would not help.
		if err := checkNotEmpty(ctx, locs, nil, f.from); err != nil {
			return err
		}
	}
	cfg, err := f.aws.load(ctx, e)
	if err != nil {
		return err
	}
	opts := verify.Options{
		Tables: f.tables, Since: since, Until: until, Regions: f.regions,
		DefaultRegion: cfg.Region, Settle: f.settle, Now: e.now,
		Describe: dynamodb.NewFromConfig(cfg),
		Metrics: func(region string) verify.MetricsAPI {
			return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Region = region })
		},
	}
	if f.athena {
		opts.Counter = &verify.AthenaCounter{Client: athena.NewFromConfig(cfg), WorkGroup: f.workgroup, Database: f.database, Table: f.glueTable}
	} else {
		src, err := archivefs.NewSources(locs, archivefs.NewS3Client(cfg, f.aws.getenv(e)))
		if err != nil {
			return err
		}
		if anyS3(locs) {
			if err := checkNotEmpty(ctx, locs, archivefs.NewS3Client(cfg, f.aws.getenv(e)), f.from); err != nil {
				return err
			}
		}
		opts.Counter = &verify.ArchiveCounter{Sources: []*archivefs.Source{src}, Workers: f.workers}
	}
	rep, err := verify.Run(ctx, opts)
	if err != nil {
		if errors.Is(err, verify.ErrNoTables) {
			return usageErr("%v", err)
		}
		return err
	}
	if f.output == "json" {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	switch {
	case len(rep.Problems) > 0:
		return fmt.Errorf("%d objects or lines could not be read or counted, first %s: %s", len(rep.Problems), rep.Problems[0].Object, rep.Problems[0].Error)
	case !rep.Complete:
		return fmt.Errorf("%w: %s", restore.ErrIncomplete, rep.Verdict())
	}
	return nil
}
