package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/spf13/cobra"

	"github.com/ttl-archiver/ttl-archiver/doctor"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/restore"
)

func newDoctorCmd() *cobra.Command {
	var o doctor.Options
	var a awsFlags
	var output string
	cmd := &cobra.Command{
		Use:   "doctor --source-table NAME [--stack NAME] [flags]",
		Short: "Check a deployed archiver: stream, mapping, Firehose, bucket, TTL, PITR, alarms, regions",
		Long: `Checks a live deployment of the archiver for one table and prints one line
per check: ok, warn or fail, the check's name, what it found and, for warn
and fail, the fix. The checks:

  stack     the stack (--stack, default ttl-archiver) is deployed
  stream    the table's stream is enabled, NEW_AND_OLD_IMAGES (OLD_IMAGE:
            warn; KEYS_ONLY or NEW_IMAGE: fail, items archived as null)
  mapping   the stack's function has an event source mapping on the
            table's current stream: Enabled, with the TTL filter,
            ReportBatchItemFailures and TRIM_HORIZON (warn otherwise);
            a mapping left on an old stream ARN of the table fails
  readers   at most two mappings read the stream (one for a global
            table's replica: warn)
  firehose  the stack's Firehose stream (output DeliveryStreamName) is ACTIVE
  bucket    the archive bucket (output ArchiveBucketName) is reachable
  ttl       TTL is enabled (on --ttl-attribute when given)
  pitr      point-in-time recovery is on (warn: backfill from
            incremental exports needs it)
  alarms    the alarm topic has a confirmed subscription (no topic: warn)
  regions   for a global table, one check "region REGION" per replica
            region: the stack is deployed there, with a mapping on the
            replica's stream

A check that cannot be made (a call refused, a stack output missing) is a
fail saying why. It exits 0 when no check failed (warnings allowed), 3
when one did, 2 for a bad command line, 1 when it could not start (no
credentials, no region).

--output json prints one object on stdout instead of the lines:
  {"ok": bool, "checks": [{"name": "...", "status": "ok|warn|fail",
                           "detail": "...", "fix": "..."}]}
"ok" is false when any check failed; "fix" is "" for a check that passed.`,
		Example: `  ttl-archiver doctor --source-table Orders
  ttl-archiver doctor --source-table Orders --ttl-attribute expires_at --region eu-west-1 --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd, o, a, output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Table, "source-table", "", "the archived DynamoDB `table` (required)")
	f.StringVar(&o.Stack, "stack", doctor.DefaultStack, "the archiver's CloudFormation `stack`")
	f.StringVar(&o.TTLAttribute, "ttl-attribute", "", "the `attribute` TTL must be on (default: report the one it is on)")
	addOutputFlag(f, &output)
	a.add(f)
	return cmd
}

// failedChecks is the error of a run in which checks failed: it says
// which, and exits 3 (it wraps restore.ErrIncomplete).
type failedChecks string

func (f failedChecks) Error() string { return string(f) }
func (f failedChecks) Unwrap() error { return restore.ErrIncomplete }

func runDoctor(cmd *cobra.Command, o doctor.Options, a awsFlags, output string) error {
	ctx, e := cmd.Context(), envOf(cmd)
	if o.Table == "" {
		return usageErr("--source-table is required")
	}
	if o.Stack == "" {
		return usageErr("--stack must not be empty")
	}
	if err := checkOutput(output); err != nil {
		return err
	}
	cfg, err := a.load(ctx, e)
	if err != nil {
		return err
	}
	o.Region = cfg.Region
	o.Clients = doctorClients(cfg, a.getenv(e))
	o.ForRegion = func(region string) doctor.Clients {
		c := cfg.Copy()
		c.Region = region
		return doctorClients(c, a.getenv(e))
	}
	rep, err := doctor.Run(ctx, o)
	if err != nil {
		return err
	}
	if output == "json" {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		return failedChecks(rep.Summary())
	}
	if output == "text" {
		_, err = e.stdout.Write([]byte(rep.Summary() + "\n"))
	}
	return err
}

// doctorClients returns the clients of cfg's region. DynamoDB and S3
// honour AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3 (path style
// against a stand-in) as the other commands do.
func doctorClients(cfg aws.Config, getenv func(string) string) doctor.Clients {
	return doctor.Clients{
		DynamoDB:       newDynamoDBClient(cfg, getenv),
		Lambda:         lambda.NewFromConfig(cfg),
		Firehose:       firehose.NewFromConfig(cfg),
		S3:             archivefs.NewS3Client(cfg, getenv),
		SNS:            sns.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
	}
}
