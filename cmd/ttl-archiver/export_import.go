package main

import (
	"context"
	"fmt"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func init() {
	register(command{
		name:    "export-import",
		summary: "rewrite archived items as DynamoDB's S3 import format, for a new table",
		run:     runExportImport,
	})
}

func runExportImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "export-import")
	var o restore.ExportOptions
	from := fs.String("from", "", "archive `location`: s3://bucket/prefix, or a local file or directory (required)")
	to := fs.String("to", "", "where to write the import files: s3://bucket/prefix or a local directory; must be empty (required)")
	o.Filter.AddFlags(fs, "source-table")
	o.Hints = restore.TypeHints{}
	fs.Var(o.Hints, "type-hint", "write an attribute of json-format archives as this type: `path=TYPE`, TYPE one of SS, NS, BS, B, S, N (repeatable)")
	fs.StringVar(&o.HashKey, "hash-key", "", "the new table's partition key `attribute` (default: derived from the lines' keys)")
	fs.StringVar(&o.RangeKey, "range-key", "", "the new table's sort key `attribute` (default: derived from the lines' keys)")
	fs.StringVar(&o.NewTable, "new-table", "", "name of the table ImportTable creates, for the printed command (default: SOURCE-restored)")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `usage: ttl-archiver export-import -from s3://bucket/prefix|PATH -to s3://bucket/prefix|DIR [flags]

Rewrites the selected archive lines into DynamoDB's S3 import format
(DYNAMODB_JSON: one {"Item":{...}} per line, gzipped), then prints the
"aws dynamodb import-table" command that creates a new table from them
without using any write capacity.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return fmt.Errorf("%w: -from and -to are required", errUsage)
	}
	loc, err := archivefs.ParseLocation(*from)
	if err != nil {
		return fmt.Errorf("%w: -from: %v", errUsage, err)
	}
	if o.To, err = archivefs.ParseLocation(*to); err != nil {
		return fmt.Errorf("%w: -to: %v", errUsage, err)
	}
	if o.NewTable == "" {
		o.NewTable = "restored"
		if o.Filter.Table != "" {
			o.NewTable = o.Filter.Table + "-restored"
		}
	}
	var s3c = archivefs.S3API(nil)
	if loc.IsS3() || o.To.IsS3() {
		cfg, err := loadAWSConfigFromEnv(ctx, e)
		if err != nil {
			return err
		}
		c := archivefs.NewS3Client(cfg, e.getenv)
		s3c, o.S3, o.Region = c, c, cfg.Region
	} else {
		o.Region = e.getenv("AWS_REGION")
	}
	if o.Source, err = archivefs.NewSource(loc, s3c); err != nil {
		return err
	}
	o.Warn = e.stderr
	rep, err := restore.Export(ctx, o)
	fmt.Fprintf(e.stdout, "read %d objects, %d lines: %d items exported; left out: %d by the filter, %d duplicates, %d without an item, %d unconvertible, %d invalid lines\n",
		rep.Objects, rep.Lines, rep.Items, rep.Filtered, rep.Duplicates, rep.NoItem, rep.Unconvertible, rep.Invalid)
	for _, p := range rep.Parts {
		fmt.Fprintf(e.stdout, "wrote %s\n", p)
	}
	if rep.Command != "" {
		if rep.KeysGuessed {
			fmt.Fprintf(e.stderr, "warning: the keys have two attributes and which is the partition key was guessed (%s HASH, %s RANGE): check, or pass -hash-key and -range-key\n",
				rep.Keys[0].Name, rep.Keys[1].Name)
		}
		fmt.Fprintf(e.stdout, "\nCreate the table %s from them (no write capacity used):\n\n%s", o.NewTable, rep.Command)
	}
	return err
}
