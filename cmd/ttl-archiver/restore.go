package main

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func newRestoreCmd() *cobra.Command {
	var o restore.Options
	var from []string
	var a awsFlags
	var output string
	o.Hints = restore.TypeHints{}
	cmd := &cobra.Command{
		Use:   "restore --from s3://bucket/prefix|PATH --table NAME [flags]",
		Short: "Write archived items back into a DynamoDB table",
		Long: `Reads archive objects (gzipped or not, json or dynamodb-json format),
selects lines by source table, deletion time and key, drops duplicate
deliveries (same event_id) and writes the newest archived version of each
key with BatchWriteItem. Versions are ordered by deleted_at, then by
sequence_number as a number; older versions are left out (the archive is
read twice: once to find each key's newest version, once to write).

Items from dynamodb-json archives come back identical. From json archives,
sets come back as lists and binary values as base64 strings (numbers stay
exact) unless --type-hint says otherwise; binary key attributes are decoded
from the table's key schema.

An item DynamoDB refuses (over 400 KB, invalid) does not stop the others:
it goes with the reason into the rejects file, as do items that cannot be
converted; restore that file with --from once the cause is fixed. The run
exits 3 when an object could not be read, a line is not an archive line,
or an item was not written; the checkpoint is then kept. It exits 3 too
when there is nothing to restore: no archive object under --from, or no
line the filters select (it then names the tables and days it saw).

A dry run of local archives makes no AWS call and needs no credentials or
region (the items' keys are then not checked against the table's).

--output json prints the summary as one object on stdout (a dry run's
items are then not printed); its shape is in docs/restore.md.`,
		Example: `  ttl-archiver restore --from s3://my-archive/archive/ --source-table Orders --table Orders-restored --checkpoint orders.ckpt
  ttl-archiver restore --from out/demo --table Orders --since 2025-11-23 --dry-run
  ttl-archiver restore --from s3://my-archive/archive/ -s Orders --table Orders --region eu-west-1 --profile prod --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestore(cmd, o, from, a, output)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&from, "from", "f", nil, "archive `location`: s3://bucket/prefix, or a local file or directory (required; repeatable: all are read as one archive, e.g. each region's of a global table)")
	f.StringVarP(&o.Table, "table", "t", "", "DynamoDB `table` to write to (required)")
	o.Filter.AddFlags(f)
	f.BoolVarP(&o.DryRun, "dry-run", "n", false, "write nothing: print each item that would be written, in DynamoDB JSON")
	f.BoolVar(&o.NoOverwrite, "no-overwrite", false, "never replace an item the table already has (conditional PutItem, one item per call)")
	f.Float64Var(&o.Rate, "rate", 0, "cap the write rate at this many `items` per second (0: no cap; negative refused)")
	f.IntVar(&o.Concurrency, "concurrency", 4, "write `calls` in flight at once (1 or more)")
	addTypeHintFlag(f, o.Hints)
	f.StringVar(&o.Checkpoint, "checkpoint", "", "record progress in this `file` and go on from it after an interruption (removed when the restore completes)")
	f.IntVar(&o.CheckpointEvery, "checkpoint-every", 10000, "write the checkpoint every this many `items` (and at least every 10 s)")
	f.StringVar(&o.Rejects, "rejects", "", "append the items not written, with the reasons, to this `file` (default: CHECKPOINT.rejects.jsonl, or ttl-archiver-rejects-TIME.jsonl; created only if needed)")
	addOutputFlag(f, &output)
	a.add(f)
	return cmd
}

// noArgs refuses positional arguments as a command-line error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unexpected argument %q", args[0])
	}
	return nil
}

func addTypeHintFlag(f *pflag.FlagSet, h restore.TypeHints) {
	f.Var(h, "type-hint", "read an attribute of json-format archives as this type: `path=TYPE`, TYPE one of SS, NS, BS, B, S, N; path: name, name.sub, list[] (repeatable)")
}

// defaultRejects names the rejects file when --rejects is not given.
func defaultRejects(e *env, checkpoint string) string {
	if checkpoint != "" {
		return checkpoint + ".rejects.jsonl"
	}
	return "ttl-archiver-rejects-" + e.now().UTC().Format("20060102T150405Z") + ".jsonl"
}

// checkRate refuses a negative or impossible --rate (0: no cap).
func checkRate(rate float64) error {
	if rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return usageErr("--rate %v: want items per second, more than 0 (or 0 for no cap)", rate)
	}
	return nil
}

// checkConcurrency refuses a --concurrency below 1.
func checkConcurrency(n int) error {
	if n <= 0 {
		return usageErr("--concurrency %d: want 1 or more", n)
	}
	return nil
}

// restoreReport is restore --output json's object (docs/restore.md).
type restoreReport struct {
	Complete          bool          `json:"complete"`
	DryRun            bool          `json:"dry_run"`
	Table             string        `json:"table"`
	Region            string        `json:"region"`
	Objects           int           `json:"objects"`
	Lines             int           `json:"lines"`
	Items             int           `json:"items"`
	FromRaw           int           `json:"from_raw"`
	LeftOut           leftOutReport `json:"left_out"`
	Unreadable        int           `json:"unreadable"`
	Written           int           `json:"written"`
	Existing          int           `json:"existing"`
	Rejected          int           `json:"rejected"`
	RejectsFile       string        `json:"rejects_file"`
	Checkpoint        string        `json:"checkpoint"`
	CheckpointRemoved bool          `json:"checkpoint_removed"`
	Error             string        `json:"error"`
}

// leftOutReport counts the lines a run read and did not select, by why.
type leftOutReport struct {
	Filtered      int `json:"filtered"`
	Duplicates    int `json:"duplicates"`
	Superseded    int `json:"superseded"`
	NoItem        int `json:"no_item"`
	Unconvertible int `json:"unconvertible"`
	Invalid       int `json:"invalid"`
}

func leftOut(c restore.Counts) leftOutReport {
	return leftOutReport{Filtered: c.Filtered, Duplicates: c.Duplicates, Superseded: c.Superseded, NoItem: c.NoItem, Unconvertible: c.Unconvertible, Invalid: c.Invalid}
}

func runRestore(cmd *cobra.Command, o restore.Options, from []string, a awsFlags, output string) error {
	ctx, e := cmd.Context(), envOf(cmd)
	if len(from) == 0 || o.Table == "" {
		return usageErr("--from and --table are required")
	}
	if err := o.Filter.Check(); err != nil {
		return usageErr("%v", err)
	}
	if err := checkOutput(output); err != nil {
		return err
	}
	if err := checkRate(o.Rate); err != nil {
		return err
	}
	if err := checkConcurrency(o.Concurrency); err != nil {
		return err
	}
	if o.CheckpointEvery <= 0 {
		return usageErr("--checkpoint-every %d: want 1 or more", o.CheckpointEvery)
	}
	locs, err := parseLocations("from", from)
	if err != nil {
		return err
	}
	if o.Rejects == "" && !o.DryRun {
		o.Rejects = defaultRejects(e, o.Checkpoint)
	}
	// A dry run of local archives calls no AWS API: it needs no
	// credentials and no region.
	var s3c archivefs.S3API
	if !o.DryRun || anyS3(locs) {
		cfg, err := a.load(ctx, e)
		if err != nil {
			return err
		}
		s3c = archivefs.NewS3Client(cfg, a.getenv(e))
		o.Region = cfg.Region
		o.Client = newDynamoDBClient(cfg, a.getenv(e))
	} else {
		fmt.Fprintln(e.stderr, "notice: a dry run of a local archive calls no AWS API: the keys are not checked against the table's")
	}
	src, err := archivefs.NewSources(locs, s3c)
	if err != nil {
		return err
	}
	o.Source = src
	o.Out, o.Warn = e.stdout, e.stderr
	if output == "json" {
		o.Out = io.Discard // stdout is the one report object
	}
	m := newMeter(e, "lines")
	o.Progress = func(p restore.Progress) {
		if p.Pass == "index" {
			m.set(p.Lines, "finding the newest versions")
			return
		}
		m.set(p.Lines, fmt.Sprintf("%d items: %d written, %d existing, %d refused", p.Items, p.Written, p.Existing, p.Rejected))
	}
	rep, err := restore.Run(ctx, o)
	m.finish()
	if err == nil && !rep.Resumed {
		err = emptyResult(from, rep.Objects+rep.SkippedObjects, rep.Lines, rep.Items, o.Filter, rep.Seen)
	}
	if output == "json" {
		if werr := writeJSON(e.stdout, restoreReport{
			Complete: err == nil, DryRun: o.DryRun, Table: o.Table, Region: o.Region,
			Objects: rep.Objects, Lines: rep.Lines, Items: rep.Items, FromRaw: rep.FromRaw, LeftOut: leftOut(rep.Counts),
			Unreadable: rep.Unreadable, Written: rep.Written, Existing: rep.Existing, Rejected: rep.Rejected,
			RejectsFile: rep.RejectsFile, Checkpoint: o.Checkpoint, CheckpointRemoved: rep.CheckpointRemoved, Error: errText(err),
		}); werr != nil {
			return werr
		}
	} else {
		summary := e.stdout
		if o.DryRun {
			summary = e.stderr
		}
		rep.WriteSummary(summary, o.DryRun)
	}
	if err != nil && o.Checkpoint != "" && !rep.CheckpointRemoved && !o.DryRun {
		switch {
		case rep.CheckpointSaved:
			fmt.Fprintf(e.stderr, "progress is saved in %s: run the same command again to go on\n", o.Checkpoint)
		case errors.Is(err, restore.ErrCheckpoint), rep.Lines == 0 && rep.Unreadable == 0:
			// The checkpoint was not this run's, or could not be read, or
			// nothing was read: there is no progress to speak of.
		case rep.CheckpointWritten || rep.Resumed:
			fmt.Fprintf(e.stderr, "progress could not be saved in %s: it holds an earlier position, from which the same command goes on (writing some items again)\n", o.Checkpoint)
		default:
			fmt.Fprintf(e.stderr, "progress could not be saved in %s: the same command starts over\n", o.Checkpoint)
		}
	}
	return err
}

// newDynamoDBClient honours AWS_ENDPOINT_URL_DYNAMODB read through
// getenv.
func newDynamoDBClient(cfg aws.Config, getenv func(string) string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if u := getenv("AWS_ENDPOINT_URL_DYNAMODB"); u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	})
}
