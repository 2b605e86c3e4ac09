package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

type catFlags struct {
	filter archivefs.Filter
	count  bool
	output string
	aws    awsFlags
}

func newCatCmd() *cobra.Command {
	var f catFlags
	cmd := &cobra.Command{
		Use:   "cat [flags] PATH|s3://bucket/prefix...",
		Short: "Print archived lines from archive objects (local files or s3://), filtered",
		Long: `Prints the archive lines in the objects under each location (a file, a
directory read recursively, or an S3 prefix), gunzipping as needed, that
match the filters. S3 is read with your AWS credentials (--region,
--profile, --endpoint-url, or AWS_ENDPOINT_URL_S3). In the folder of a
local S3 (ttl-archiver invoke --out DIR), only the objects are read, not
the metadata kept beside them. A local archive needs no credentials.

It exits 3 when a line is not an archive line or an object could not be
read to its end, and when there is nothing to print: no archive object
under the locations, or no line the filters select (it then names the
tables and days it saw).

--count --output json prints one object:
  {"matched": 3, "lines": 5, "objects": 2, "invalid": 0, "unreadable": 0, "error": ""}`,
		Example: `  ttl-archiver cat --source-table Orders --since 2025-11-01 s3://my-archive/archive/
  ttl-archiver cat out/demo --count
  ttl-archiver cat --count --output json --profile prod s3://my-archive/archive/table=Orders/`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("no location: give a PATH or s3://bucket/prefix")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.filter.Check(); err != nil {
				return usageErr("%v", err)
			}
			if err := checkOutput(f.output); err != nil {
				return err
			}
			if f.output == "json" && !f.count {
				return usageErr("--output json goes with --count: without it, cat prints the archive's own JSON lines")
			}
			return runCat(cmd, f, args)
		},
	}
	f.filter.AddFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&f.count, "count", "c", false, "print only the number of matching lines")
	addOutputFlag(cmd.Flags(), &f.output)
	f.aws.add(cmd.Flags())
	return cmd
}

// catReport is cat --count --output json's object (docs/cli.md).
type catReport struct {
	Matched    int    `json:"matched"`
	Lines      int    `json:"lines"`
	Objects    int    `json:"objects"`
	Invalid    int    `json:"invalid"`
	Unreadable int    `json:"unreadable"`
	Error      string `json:"error"`
}

func runCat(cmd *cobra.Command, f catFlags, args []string) error {
	ctx, e := cmd.Context(), envOf(cmd)
	locs := make([]archivefs.Location, len(args))
	for i, arg := range args {
		loc, err := archivefs.ParseLocation(arg)
		if err != nil {
			return usageErr("%v", err)
		}
		locs[i] = loc
	}
	var client archivefs.S3API
	if anyS3(locs) {
		cfg, err := f.aws.load(ctx, e)
		if err != nil {
			return err
		}
		client = archivefs.NewS3Client(cfg, f.aws.getenv(e))
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer func() { _ = out.Flush() }()
	m := newMeter(e, "lines")
	var rep catReport
	var seen archivefs.Seen
	for _, loc := range locs {
		src, err := archivefs.NewSource(loc, client)
		if err != nil {
			return err
		}
		for obj, err := range src.Objects(ctx) {
			if err != nil {
				m.finish()
				return err
			}
			rep.Objects++
			for l, err := range src.ObjectLines(ctx, obj, 0) {
				if err != nil {
					if ctx.Err() != nil {
						m.finish()
						return ctx.Err()
					}
					m.finish()
					fmt.Fprintf(e.stderr, "ttl-archiver cat: %v\n", err)
					if !errors.Is(err, archivefs.ErrLineTooLong) {
						rep.Unreadable++
						break
					}
					rep.Invalid++
					continue
				}
				rep.Lines++
				if rep.Lines%1024 == 0 {
					m.set(rep.Lines, fmt.Sprintf("%d matching", rep.Matched))
				}
				line, perr := archive.ParseLine(l.Data)
				if perr != nil {
					rep.Invalid++
					m.finish()
					fmt.Fprintf(e.stderr, "ttl-archiver cat: %s line %d: %v\n", l.Object, l.Number, perr)
					continue
				}
				if !f.filter.Match(line) {
					seen.Add(line)
					continue
				}
				rep.Matched++
				if !f.count {
					_, _ = out.Write(l.Data)
					_ = out.WriteByte('\n')
				}
			}
		}
	}
	m.set(rep.Lines, fmt.Sprintf("%d matching", rep.Matched))
	m.finish()
	var err error
	switch {
	case rep.Invalid > 0 || rep.Unreadable > 0:
		err = fmt.Errorf("%w: %d lines are not archive lines, %d objects could not be read to their end (see above)", restore.ErrIncomplete, rep.Invalid, rep.Unreadable)
	default:
		err = emptyResult(args, rep.Objects, rep.Lines, rep.Matched, f.filter, &seen)
	}
	switch {
	case f.count && f.output == "json":
		rep.Error = errText(err)
		if werr := writeJSON(out, rep); werr != nil {
			return werr
		}
	case f.count:
		fmt.Fprintln(out, rep.Matched)
	}
	return err
}
