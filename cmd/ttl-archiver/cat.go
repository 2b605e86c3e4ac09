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

func newCatCmd() *cobra.Command {
	var filter archivefs.Filter
	var count bool
	cmd := &cobra.Command{
		Use:   "cat [flags] PATH|s3://bucket/prefix...",
		Short: "Print archived lines from archive objects (local files or s3://), filtered",
		Long: `Prints the archive lines in the objects under each location (a file, a
directory read recursively, or an S3 prefix), gunzipping as needed, that
match the filters. S3 is read with your AWS credentials (AWS_ENDPOINT_URL_S3
points it elsewhere). In the folder of a local S3 (ttl-archiver invoke
--out DIR), only the objects are read, not the metadata kept beside them.
It exits 3 when a line is not an archive line or an object could not be
read to its end.`,
		Example: `  ttl-archiver cat --source-table Orders --since 2025-11-01 s3://my-archive/archive/
  ttl-archiver cat out/demo --count`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("no location: give a PATH or s3://bucket/prefix")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := filter.Check(); err != nil {
				return usageErr("%v", err)
			}
			return runCat(cmd, filter, count, args)
		},
	}
	filter.AddFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&count, "count", "c", false, "print only the number of matching lines")
	return cmd
}

func runCat(cmd *cobra.Command, filter archivefs.Filter, count bool, args []string) error {
	ctx, e := cmd.Context(), envOf(cmd)
	locs := make([]archivefs.Location, len(args))
	for i, arg := range args {
		loc, err := archivefs.ParseLocation(arg)
		if err != nil {
			return usageErr("%v", err)
		}
		locs[i] = loc
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer func() { _ = out.Flush() }()
	m := newMeter(e, "lines")
	defer m.finish()
	read, matched, bad, unreadable := 0, 0, 0, 0
	for _, loc := range locs {
		var client archivefs.S3API
		if loc.IsS3() {
			cfg, err := loadAWSConfigFromEnv(ctx, e)
			if err != nil {
				return err
			}
			client = archivefs.NewS3Client(cfg, e.getenv)
		}
		src, err := archivefs.NewSource(loc, client)
		if err != nil {
			return err
		}
		for obj, err := range src.Objects(ctx) {
			if err != nil {
				return err
			}
			for l, err := range src.ObjectLines(ctx, obj, 0) {
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					fmt.Fprintf(e.stderr, "ttl-archiver cat: %v\n", err)
					if !errors.Is(err, archivefs.ErrLineTooLong) {
						unreadable++
						break
					}
					bad++
					continue
				}
				read++
				if read%1024 == 0 {
					m.set(read, fmt.Sprintf("%d matching", matched))
				}
				line, perr := archive.ParseLine(l.Data)
				if perr != nil {
					bad++
					fmt.Fprintf(e.stderr, "ttl-archiver cat: %s line %d: %v\n", l.Object, l.Number, perr)
					continue
				}
				if !filter.Match(line) {
					continue
				}
				matched++
				if !count {
					_, _ = out.Write(l.Data)
					_ = out.WriteByte('\n')
				}
			}
		}
	}
	m.set(read, fmt.Sprintf("%d matching", matched))
	if count {
		fmt.Fprintln(out, matched)
	}
	if bad > 0 || unreadable > 0 {
		return fmt.Errorf("%w: %d lines are not archive lines, %d objects could not be read to their end (see above)", restore.ErrIncomplete, bad, unreadable)
	}
	return nil
}
