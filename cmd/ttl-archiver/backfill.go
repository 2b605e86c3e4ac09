package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/backfill"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

type backfillFlags struct {
	exports, others []string
	archive         string
	table, ttlAttr  string
	allDeletes      bool
	format, output  string
	dryRun          bool
	tolerance       time.Duration
	workers         int
	aws             awsFlags
}

func newBackfillCmd() *cobra.Command {
	var f backfillFlags
	cmd := &cobra.Command{
		Use:   "backfill --export s3://bucket/prefix/AWSDynamoDB/EXPORT-ID/ --archive s3://bucket/archive/ --source-table T [flags]",
		Short: "Archive the TTL deletions no stream delivered, from DynamoDB's incremental exports",
		Long: `Reads incremental exports of the table (ExportTableToPointInTime with
ExportType INCREMENTAL_EXPORT and NEW_AND_OLD_IMAGES; start them with
ttl-archiver export-request), in S3 or local copies with the same layout,
and writes an archive line for each deleted item whose TTL attribute was
at or before the write time and that the archive does not hold yet (same
keys, deleted_at within --tolerance, in --archive or any --other-archive:
give every region's archive of a global table).

Lines go under --archive's own table=T/dt=DAY/ partitions, gzipped, in
objects named ttl-archiver-backfill-EXPORT-ID-NNNN.gz, in the archive's
format. Each says "recovered_from" (the export's ARN) and "ttl":"inferred"
(or "delete":"any" with --all-deletes). Their event ids come from the
table, keys and write time: running it again writes nothing.

An export keeps one line per item and window: a recovered item is as it
was when its window began. An item created and deleted inside one window
is in no export. Run ttl-archiver verify after: it shows what is left.

With --output json, stdout is one object:
  {"export_lines","deletions","ttl_deletions","selected","already_archived",
   "recovered","compacted_old_images","objects":[{"object","lines"}],"problems":[...],...}

Exit codes: 0 everything read and written; 3 something was missing,
unreadable or not convertible (named); 1 an error (an object could not be
written: it is named); 2 a bad command line, or an export refused (a full
export, a NEW_IMAGE export, an export of another table).`,
		Example: `  ttl-archiver backfill --export s3://exports/ddb/AWSDynamoDB/01763700000000-0a1b2c3d/ --archive s3://my-archive/archive/ -s Orders
  ttl-archiver backfill --export ./exports/AWSDynamoDB/01763700000000-0a1b2c3d --archive ./archive -s Orders --ttl-attribute expires_at --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackfill(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.exports, "export", nil, "an export's `folder`: s3://bucket/prefix/AWSDynamoDB/EXPORT-ID/ or a local copy (required; repeatable: windows in a row)")
	fl.StringVar(&f.archive, "archive", "", "the archive to check and write into: the `location` holding the table= folders (s3://bucket/archive/ or a local folder; required)")
	fl.StringArrayVar(&f.others, "other-archive", nil, "another archive to check against, not written into: each other region's of a global table (`location`, repeatable)")
	fl.StringVarP(&f.table, "source-table", "s", "", "the exported `table` (required)")
	fl.StringVar(&f.ttlAttr, "ttl-attribute", "", "the table's TTL `attribute` (default: DescribeTimeToLive)")
	fl.BoolVar(&f.allDeletes, "all-deletes", false, `recover every deletion, TTL's or not, marked "delete":"any"`)
	fl.StringVar(&f.format, "format", "auto", "`format` of the lines written: json, dynamodb-json, or auto (the archive's newest line's)")
	fl.BoolVarP(&f.dryRun, "dry-run", "n", false, "write nothing: print the lines that would be written (with --output json, the counts only)")
	fl.StringVarP(&f.output, "output", "o", "text", "output `format`: text or json")
	fl.DurationVar(&f.tolerance, "tolerance", backfill.DefaultTolerance, "an archived deleted_at this close to the export's write time is the same deletion (`duration`)")
	fl.IntVar(&f.workers, "concurrency", 0, "objects read at once (default: one per CPU)")
	f.aws.add(fl)
	return cmd
}

func runBackfill(cmd *cobra.Command, f backfillFlags) error {
	ctx, e := cmd.Context(), envOf(cmd)
	switch {
	case len(f.exports) == 0:
		return usageErr("--export is required: an incremental export's folder (ttl-archiver export-request starts them)")
	case f.archive == "":
		return usageErr("--archive is required: the archive's location, holding the table= folders")
	case f.table == "":
		return usageErr("--source-table is required")
	case f.output != "text" && f.output != "json":
		return usageErr("--output %q: want text or json", f.output)
	case f.tolerance <= 0:
		return usageErr("--tolerance %s: want a positive duration", f.tolerance)
	case f.workers < 0:
		return usageErr("--concurrency %d: want a positive number", f.workers)
	}
	o := backfill.Options{Table: f.table, TTLAttribute: f.ttlAttr, AllDeletes: f.allDeletes, DryRun: f.dryRun, Tolerance: f.tolerance, Workers: f.workers}
	switch f.format {
	case "auto":
	case "json", archive.FormatDynamoDBJSONName:
		v := archive.FormatJSON
		if f.format != "json" {
			v = archive.FormatDynamoDBJSON
		}
		o.Format = &v
	default:
		return usageErr("--format %q: want json, dynamodb-json or auto", f.format)
	}
	var err error
	if o.Exports, err = parseLocations("export", f.exports); err != nil {
		return err
	}
	archiveLocs, err := parseLocations("archive", []string{f.archive})
	if err != nil {
		return err
	}
	o.Archive = archiveLocs[0]
	if o.OtherArchives, err = parseLocations("other-archive", f.others); err != nil {
		return err
	}
	all := append(append(append([]archivefs.Location{}, o.Exports...), o.Archive), o.OtherArchives...)
	if anyS3(all) || f.ttlAttr == "" {
		cfg, err := f.aws.load(ctx, e)
		if err != nil {
			return err
		}
		o.S3 = archivefs.NewS3Client(cfg, e.getenv)
		o.TTL = func(region string) backfill.TTLAPI {
			c := cfg.Copy()
			c.Region = region
			return exportDynamoDB(c, e, f.aws)
		}
	}
	if f.dryRun && f.output == "text" {
		o.Out = e.stdout
	}
	m := newMeter(e, "lines")
	o.Progress = func(p backfill.Progress) {
		if p.Phase == "archive" {
			m.set(int(p.Lines), "reading what is archived")
			return
		}
		m.set(int(p.Lines), fmt.Sprintf("export lines: %d recovered", p.Recovered))
	}
	rep, err := backfill.Run(ctx, o)
	m.finish()
	if rep != nil {
		w := e.stdout
		if f.dryRun && f.output == "text" {
			w = e.stderr
		}
		var werr error
		if f.output == "json" {
			werr = rep.WriteJSON(w)
		} else {
			werr = rep.WriteText(w)
		}
		if werr != nil && err == nil {
			err = fmt.Errorf("write the report: %w", werr)
		}
	}
	switch {
	case errors.Is(err, backfill.ErrRefused):
		return usageErr("%s", strings.TrimPrefix(err.Error(), backfill.ErrRefused.Error()+": "))
	case errors.Is(err, backfill.ErrIncomplete):
		return fmt.Errorf("%w: %v", restore.ErrIncomplete, err)
	}
	return err
}
