package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

func init() {
	register(command{
		name:    "cat",
		summary: "print archived lines from archive objects (local files or s3://), filtered",
		run:     runCat,
	})
}

func runCat(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "cat")
	var filter archivefs.Filter
	filter.AddFlags(fs, "table")
	count := fs.Bool("count", false, "print only the number of matching lines")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `usage: ttl-archiver cat [flags] PATH|s3://bucket/prefix...

Prints the archive lines in the objects under each location (a file, a
directory read recursively, or an S3 prefix), gunzipping as needed, that
match the filters. S3 is read with your AWS credentials (AWS_ENDPOINT_URL_S3
points it elsewhere).

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no location: give a PATH or s3://bucket/prefix", errUsage)
	}
	if err := filter.Check(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer func() { _ = out.Flush() }()
	matched, bad := 0, 0
	for _, arg := range fs.Args() {
		loc, err := archivefs.ParseLocation(arg)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
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
		for l, err := range src.Lines(ctx) {
			if err != nil {
				return err
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
			if !*count {
				_, _ = out.Write(l.Data)
				_ = out.WriteByte('\n')
			}
		}
	}
	if *count {
		fmt.Fprintln(out, matched)
	}
	if bad > 0 {
		return fmt.Errorf("%d lines are not archive lines", bad)
	}
	return nil
}
