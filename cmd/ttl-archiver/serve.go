package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

func init() {
	register(command{
		name:    "serve",
		summary: "run the local Firehose and S3 for a function run elsewhere (sam local invoke), until Ctrl-C",
		run:     runServe,
	})
}

// runServe only reads the flags; local.Serve does the work.
func runServe(ctx context.Context, e *env, args []string) error {
	o := local.ServeOptions{}
	fs := newFlagSet(e, "serve")
	fs.StringVar(&o.Addr, "addr", local.DefaultServeAddr, "`host:port` the Firehose stand-in listens on; 0.0.0.0:9573 lets a container (sam local invoke) reach it")
	fs.StringVar(&o.S3Addr, "s3-addr", "127.0.0.1:0", "`host:port` the S3 API listens on (port 0: a free one); only tools on this machine need it")
	fs.StringVar(&o.Dir, "out", filepath.Join("out", "serve"), "`dir`ectory of the local S3 API: objects land in DIR/buckets/"+local.Bucket+"/")
	fs.DurationVar(&o.FlushInterval, "flush-interval", 10*time.Second, "write buffered lines as objects this often (0: only when serve stops); Firehose uses template.yaml's BufferIntervalSeconds")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `usage: ttl-archiver serve [flags]

Runs the Firehose stream and S3 bucket of template.yaml on this machine for
a function that runs elsewhere, such as under sam local invoke with
--env-vars events/env.json, until interrupted (Ctrl-C or SIGTERM). It then
answers the calls in flight and writes everything buffered before it exits.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return local.Serve(ctx, o, e.stdout)
}
