package main

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

func newServeCmd() *cobra.Command {
	o := local.ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--out DIR]",
		Short: "Run the local Firehose and S3 for a function run elsewhere (sam local invoke), until Ctrl-C",
		Long: `Runs the Firehose stream and S3 bucket of template.yaml on this machine for
a function that runs elsewhere, such as under sam local invoke with
--env-vars events/env.json, until interrupted (Ctrl-C or SIGTERM). It then
answers the calls in flight and writes everything buffered before it exits.
It makes no AWS call, and needs no region. It serves only calls signed with
the keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
AWS_SESSION_TOKEN, if set): export the same ones where sam local invoke
runs, which passes them to the function (defaultkey and defaultsecret when
that shell has none). --no-auth serves any caller.
It sends no CORS headers unless given --cors.`,
		Example: `  ttl-archiver serve --addr 0.0.0.0:9573
  sam local invoke ArchiverFunction -e events/ttl-batch.json --env-vars events/env.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAddr("addr", o.Addr); err != nil {
				return err
			}
			if err := checkAddr("s3-addr", o.S3Addr); err != nil {
				return err
			}
			if o.FlushInterval < 0 {
				return usageErr("--flush-interval %s: want a duration of zero or more", o.FlushInterval)
			}
			e := envOf(cmd)
			o.Credentials.AccessKeyID = e.getenv("AWS_ACCESS_KEY_ID")
			o.Credentials.SecretAccessKey = e.getenv("AWS_SECRET_ACCESS_KEY")
			o.Credentials.SessionToken = e.getenv("AWS_SESSION_TOKEN")
			// local.Serve does the work; this only reads the flags.
			err := local.Serve(cmd.Context(), o, e.stdout)
			if errors.Is(err, local.ErrNoCredentials) {
				return usageErr("%v: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the keys the function signs with (sam local invoke passes the function those of its shell, or defaultkey and defaultsecret when it has none), or give --no-auth", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", local.DefaultServeAddr, "`host:port` the Firehose stand-in listens on; 0.0.0.0:9573 lets a container (sam local invoke) reach it")
	f.StringVar(&o.S3Addr, "s3-addr", "127.0.0.1:0", "`host:port` the S3 API listens on (port 0: a free one); only tools on this machine need it")
	f.StringVar(&o.Dir, "out", filepath.Join("out", "serve"), "`dir`ectory of the local S3 API: objects land in DIR/buckets/"+local.Bucket+"/")
	f.BoolVar(&o.NoAuth, "no-auth", false, "serve calls whatever keys signed them (by default only those signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	f.StringVar(&o.CORSOrigin, "cors", "", "let web pages from this `origin` (such as http://localhost:3000) call the S3 API; by default no CORS header is sent")
	f.DurationVar(&o.FlushInterval, "flush-interval", 10*time.Second, "write buffered lines as objects this often (0: only when serve stops); Firehose uses template.yaml's BufferIntervalSeconds")
	return cmd
}

// checkAddr refuses a listen address that is not HOST:PORT with a port
// from 0 to 65535 (0: a free one).
func checkAddr(flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("--%s %q: want host:port, such as 127.0.0.1:9573 or 0.0.0.0:9573", flag, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usageErr("--%s %q: the port must be a number from 0 to 65535", flag, addr)
	}
	return nil
}
