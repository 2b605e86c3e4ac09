package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func init() {
	register(command{
		name:    "restore",
		summary: "write archived items back into a DynamoDB table",
		run:     runRestore,
	})
}

func runRestore(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "restore")
	var o restore.Options
	from := fs.String("from", "", "archive `location`: s3://bucket/prefix, or a local file or directory (required)")
	fs.StringVar(&o.Table, "table", "", "DynamoDB `table` to write to (required)")
	o.Filter.AddFlags(fs, "source-table")
	fs.BoolVar(&o.DryRun, "dry-run", false, "write nothing: print each item that would be written, in DynamoDB JSON")
	fs.BoolVar(&o.NoOverwrite, "no-overwrite", false, "never replace an item that exists (conditional PutItem, one item per call)")
	fs.Float64Var(&o.Rate, "rate", 0, "cap the write rate at this many `items` per second (0: no cap)")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "write calls in flight at once")
	o.Hints = restore.TypeHints{}
	fs.Var(o.Hints, "type-hint", "restore an attribute of json-format archives as this type: `path=TYPE`, TYPE one of SS, NS, BS, B, S, N; path: name, name.sub, list[] (repeatable)")
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "record progress in this `file` and go on from it after an interruption (removed when the restore completes)")
	fs.IntVar(&o.CheckpointEvery, "checkpoint-every", 10000, "write the checkpoint every this many `items` (and at least every 10 s)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `usage: ttl-archiver restore -from s3://bucket/prefix|PATH -table NAME [flags]

Reads archive objects (gzipped or not, json or dynamodb-json format),
selects lines by source table, deletion time and key, drops duplicate
deliveries (same event_id) and writes the items with BatchWriteItem.

Items from dynamodb-json archives come back identical. From json archives,
sets come back as lists and binary values as base64 strings (numbers stay
exact) unless -type-hint says otherwise; binary key attributes are decoded
from the table's key schema.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || o.Table == "" {
		return fmt.Errorf("%w: -from and -table are required", errUsage)
	}
	loc, err := archivefs.ParseLocation(*from)
	if err != nil {
		return fmt.Errorf("%w: -from: %v", errUsage, err)
	}
	cfg, err := loadAWSConfigFromEnv(ctx, e)
	if err != nil {
		return err
	}
	src, err := archivefs.NewSource(loc, archivefs.NewS3Client(cfg, e.getenv))
	if err != nil {
		return err
	}
	o.Source = src
	o.Region = cfg.Region
	o.Client = newDynamoDBClient(cfg, e)
	o.Out, o.Warn = e.stdout, e.stderr
	if e.isTerminal && !o.DryRun {
		o.Progress = e.stdout
	}
	rep, err := restore.Run(ctx, o)
	summary := e.stdout
	if o.DryRun {
		summary = e.stderr
	}
	rep.WriteSummary(summary, o.DryRun)
	if err != nil && o.Checkpoint != "" && !rep.CheckpointRemoved && !o.DryRun && !errors.Is(err, restore.ErrCheckpoint) {
		fmt.Fprintf(e.stderr, "progress is saved in %s: run the same command again to go on\n", o.Checkpoint)
	}
	return err
}

// parseFlags parses args, marking errors as usage errors (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// loadAWSConfigFromEnv loads the SDK's configuration as the AWS CLI
// would (profile, credentials, AWS_REGION, AWS_ENDPOINT_URL), reading the
// variables through e.getenv as well, so that tests can set them.
func loadAWSConfigFromEnv(ctx context.Context, e *env) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if r := e.getenv("AWS_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if u := e.getenv("AWS_ENDPOINT_URL"); u != "" {
		opts = append(opts, config.WithBaseEndpoint(u))
	}
	if id := e.getenv("AWS_ACCESS_KEY_ID"); id != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, e.getenv("AWS_SECRET_ACCESS_KEY"), e.getenv("AWS_SESSION_TOKEN"))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set AWS_REGION (or a region in your AWS profile)")
	}
	return cfg, nil
}

// newDynamoDBClient honours AWS_ENDPOINT_URL_DYNAMODB read through
// e.getenv.
func newDynamoDBClient(cfg aws.Config, e *env) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if u := e.getenv("AWS_ENDPOINT_URL_DYNAMODB"); u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	})
}
