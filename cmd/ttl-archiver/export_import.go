package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func newExportImportCmd() *cobra.Command {
	var o restore.ExportOptions
	var from []string
	var to, output string
	var a awsFlags
	o.Hints = restore.TypeHints{}
	cmd := &cobra.Command{
		Use:   "export-import --from s3://bucket/prefix|PATH --to s3://bucket/prefix|DIR [flags]",
		Short: "Rewrite archived items as DynamoDB's S3 import format, for a new table",
		Long: `Rewrites the newest archived version of each selected key into DynamoDB's
S3 import format (DYNAMODB_JSON: one {"Item":{...}} per line, gzipped),
then prints the "aws dynamodb import-table" command that creates a new
table from them without using any write capacity.

A new table holds one source table's items: when the archive holds
several, choose one with --source-table. Items over DynamoDB's 400 KB
limit (which ImportTable refuses) and items that cannot be converted are
not written: they go with the reason into the rejects file, the command
exits 3 and prints no import command. It exits 3 too when there is
nothing to export: no archive object under --from, or no line the
filters select (it then names the tables and days it saw). Local --from
and --to need no AWS credentials.

--output json prints one object on stdout instead of the summary and the
command; its shape is in docs/restore.md.`,
		Example: `  ttl-archiver export-import --from s3://my-archive/archive/ --source-table Orders --to s3://my-import/orders/ --table Orders-restored
  ttl-archiver export-import --from out/demo -s Orders --to out/import --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExportImport(cmd, o, from, to, a, output)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&from, "from", "f", nil, "archive `location`: s3://bucket/prefix, or a local file or directory (required; repeatable: all are read as one archive)")
	f.StringVar(&to, "to", "", "where to write the import files (`location`): s3://bucket/prefix or a local directory; must be empty (required)")
	o.Filter.AddFlags(f)
	addTypeHintFlag(f, o.Hints)
	f.StringVar(&o.HashKey, "hash-key", "", "the new table's partition key `attribute` (default: derived from the lines' keys)")
	f.StringVar(&o.RangeKey, "range-key", "", "the new table's sort key `attribute` (default: derived from the lines' keys)")
	f.StringVarP(&o.NewTable, "table", "t", "", "name of the `table` ImportTable creates, for the printed command (default: SOURCE-restored)")
	f.StringVar(&o.Rejects, "rejects", "", "append the items not exported, with the reasons, to this `file` (default: ttl-archiver-rejects-TIME.jsonl; created only if needed)")
	addOutputFlag(f, &output)
	a.add(f)
	return cmd
}

// exportReport is export-import --output json's object (docs/restore.md).
type exportReport struct {
	Complete    bool          `json:"complete"`
	Objects     int           `json:"objects"`
	Lines       int           `json:"lines"`
	Exported    int           `json:"exported"`
	LeftOut     leftOutReport `json:"left_out"`
	Unreadable  int           `json:"unreadable"`
	Rejected    int           `json:"rejected"`
	RejectsFile string        `json:"rejects_file"`
	Parts       []string      `json:"parts"`
	Table       string        `json:"table"`
	Keys        []exportKey   `json:"keys"`
	KeysGuessed bool          `json:"keys_guessed"`
	Command     string        `json:"command"`
	Error       string        `json:"error"`
}

type exportKey struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	KeyType string `json:"key_type"`
}

func runExportImport(cmd *cobra.Command, o restore.ExportOptions, from []string, to string, a awsFlags, output string) error {
	ctx, e := cmd.Context(), envOf(cmd)
	if len(from) == 0 || to == "" {
		return usageErr("--from and --to are required")
	}
	if err := o.Filter.Check(); err != nil {
		return usageErr("%v", err)
	}
	if err := checkOutput(output); err != nil {
		return err
	}
	locs, err := parseLocations("from", from)
	if err != nil {
		return err
	}
	if o.To, err = archivefs.ParseLocation(to); err != nil {
		return usageErr("--to: %v", err)
	}
	if o.NewTable == "" {
		o.NewTable = "restored"
		if o.Filter.Table != "" {
			o.NewTable = o.Filter.Table + "-restored"
		}
	}
	if o.Rejects == "" {
		o.Rejects = defaultRejects(e, "")
	}
	var s3c = archivefs.S3API(nil)
	if anyS3(locs) || o.To.IsS3() {
		cfg, err := a.load(ctx, e)
		if err != nil {
			return err
		}
		c := archivefs.NewS3Client(cfg, a.getenv(e))
		s3c, o.S3, o.Region = c, c, cfg.Region
	} else {
		// Only for the printed command: nothing here calls AWS.
		o.Region = a.region
		if o.Region == "" {
			o.Region = e.getenv("AWS_REGION")
		}
	}
	if o.Source, err = archivefs.NewSources(locs, s3c); err != nil {
		return err
	}
	o.Warn = e.stderr
	m := newMeter(e, "lines")
	o.Progress = func(p restore.Progress) {
		if p.Pass == "index" {
			m.set(p.Lines, "finding the newest versions")
			return
		}
		m.set(p.Lines, fmt.Sprintf("%d items exported", p.Items))
	}
	rep, err := restore.Export(ctx, o)
	m.finish()
	if errors.Is(err, restore.ErrSeveralTables) {
		return usageErr("%v", err)
	}
	if err == nil || errors.Is(err, restore.ErrNothingSelected) {
		if eerr := emptyResult(from, rep.Objects, rep.Lines, rep.Items, o.Filter, rep.Seen); eerr != nil {
			err = eerr
		}
	}
	if output == "json" {
		r := exportReport{Complete: err == nil, Objects: rep.Objects, Lines: rep.Lines, Exported: rep.Items - rep.Rejected,
			LeftOut: leftOut(rep.Counts), Unreadable: rep.Unreadable, Rejected: rep.Rejected, RejectsFile: rep.RejectsFile,
			Parts: rep.Parts, Table: o.NewTable, KeysGuessed: rep.KeysGuessed, Command: rep.Command, Error: errText(err)}
		if r.Parts == nil {
			r.Parts = []string{}
		}
		r.Keys = []exportKey{}
		for _, k := range rep.Keys {
			r.Keys = append(r.Keys, exportKey{Name: k.Name, Type: k.Type, KeyType: k.KeyType})
		}
		return errors.Join(err, writeJSON(e.stdout, r))
	}
	fmt.Fprintf(e.stdout, "read %d objects, %d lines: %d items exported; left out: %d by the filter, %d duplicates, %d older versions of a key, %d without an item, %d unconvertible, %d over 400 KB, %d invalid lines\n",
		rep.Objects, rep.Lines, rep.Items-rep.Rejected, rep.Filtered, rep.Duplicates, rep.Superseded, rep.NoItem, rep.Unconvertible, rep.Rejected, rep.Invalid)
	for _, p := range rep.Parts {
		fmt.Fprintf(e.stdout, "wrote %s\n", p)
	}
	if rep.RejectsFile != "" {
		fmt.Fprintf(e.stdout, "items not exported, with the reasons: %s\n", rep.RejectsFile)
	}
	if rep.Command != "" {
		if rep.KeysGuessed {
			fmt.Fprintf(e.stderr, "warning: the keys have two attributes and which is the partition key was guessed (%s HASH, %s RANGE): check, or pass --hash-key and --range-key\n",
				rep.Keys[0].Name, rep.Keys[1].Name)
		}
		fmt.Fprintf(e.stdout, "\nCreate the table %s from them (no write capacity used):\n\n%s", o.NewTable, rep.Command)
	}
	return err
}
