// Command dailycheck is the stack's daily check of the archive, a Lambda
// function that EventBridge Scheduler invokes once a day: it reads its
// configuration and builds the S3, CloudWatch and Athena clients once, and
// hands verify.Daily to the Lambda runtime. What is checked, with which
// reader and which metrics it writes is verify's (verify/daily.go).
//
// Build it for Lambda (provided.al2023, arm64) with `make build-DailyCheckFunction`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv"
	"github.com/ttl-archiver/ttl-archiver/verify"
)

// maxDays is the most days DAYS accepts, as the template's DailyCheckDays.
const maxDays = 14

// credentialsTimeout bounds the first retrieval of credentials at init.
const credentialsTimeout = 5 * time.Second

func main() {
	lambdaenv.SetMemoryLimit(os.Getenv) // GOMEMLIMIT, which the template sets, wins
	lambdaenv.SetProcs(os.Getenv)
	c, err := setup(context.Background(), os.Getenv)
	if err != nil {
		// A configuration error stops the function at init: Lambda reports
		// the exit and this message, the invocation fails, and the Errors
		// alarm and the missing MissingItems datapoint both say so.
		fmt.Fprintf(os.Stderr, "ttl-archiver daily check: %v\n", err)
		os.Exit(1)
	}
	lambda.Start(c.handle)
}

// check is the configured daily check.
type check struct {
	opts verify.DailyOptions
	log  *slog.Logger
}

// setup reads the configuration and builds the clients, once per process.
// The check's settings come through getenv; the clients' (region,
// credentials, endpoints, retries) are the SDK's to read.
func setup(ctx context.Context, getenv func(string) string) (*check, error) {
	opts, err := optionsFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("configuration: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("configuration: AWS_REGION is not set: want the stack's region (Lambda sets it)")
	}
	cctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return nil, fmt.Errorf("configuration: retrieve AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or container credentials, as Lambda sets them for the execution role): %w", err)
	}
	opts.Region = cfg.Region
	opts.S3 = archivefs.NewS3Client(cfg, getenv)
	opts.Athena = athena.NewFromConfig(cfg)
	opts.Metrics = metricsClients(cfg)
	opts.Out = os.Stdout
	return &check{opts: opts, log: lambdacontext.NewLogger()}, nil
}

// metricsClients returns the CloudWatch client of a region: the stack's,
// built now, or another's, built the first time the archive holds lines
// of that region.
func metricsClients(cfg aws.Config) func(region string) verify.MetricsAPI {
	var mu sync.Mutex
	clients := map[string]verify.MetricsAPI{cfg.Region: cloudwatch.NewFromConfig(cfg)}
	return func(region string) verify.MetricsAPI {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[region]; ok {
			return c
		}
		c := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Region = region })
		clients[region] = c
		return c
	}
}

// configError names a variable, its value and what it accepts.
func configError(name, value, accepted string) error {
	if value == "" {
		return fmt.Errorf("%s is not set: want %s", name, accepted)
	}
	return fmt.Errorf("%s=%q is not valid: want %s", name, value, accepted)
}

// optionsFromEnv reads the check's settings; the error names the first
// variable that is missing or wrong and what it accepts.
func optionsFromEnv(getenv func(string) string) (verify.DailyOptions, error) {
	var o verify.DailyOptions
	if v := strings.TrimSpace(getenv("TABLE_STREAM_ARNS")); v != "" {
		for _, arn := range strings.Split(v, ",") {
			name, ok := tableOfStreamARN(strings.TrimSpace(arn))
			if !ok {
				return o, configError("TABLE_STREAM_ARNS", v, "comma-separated DynamoDB stream ARNs (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)")
			}
			o.Tables = append(o.Tables, name)
		}
	}
	if v := strings.TrimSpace(getenv("DEMO_TABLE")); v != "" {
		o.Tables = append(o.Tables, v)
	}
	if len(o.Tables) == 0 {
		return o, errors.New("TABLE_STREAM_ARNS and DEMO_TABLE are both empty: want the stream ARNs of the archived tables, or the demo table's name")
	}
	if o.Bucket = strings.TrimSpace(getenv("ARCHIVE_BUCKET")); o.Bucket == "" {
		return o, configError("ARCHIVE_BUCKET", "", "the archive bucket's name")
	}
	if o.Prefix = strings.TrimSpace(getenv("ARCHIVE_PREFIX")); o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		return o, configError("ARCHIVE_PREFIX", o.Prefix, "the archive's key prefix: empty, or folder names ending in /")
	}
	switch o.Reader = strings.TrimSpace(getenv("READER")); o.Reader {
	case "", verify.ReaderAuto, verify.ReaderS3, verify.ReaderAthena:
	default:
		return o, configError("READER", o.Reader, `"auto" (default), "s3" or "athena"`)
	}
	if v := strings.TrimSpace(getenv("STREAM_LIMIT_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return o, configError("STREAM_LIMIT_BYTES", v, fmt.Sprintf("a whole number of bytes, 1 or more (default %d)", verify.DefaultStreamLimitBytes))
		}
		o.StreamLimitBytes = n
	}
	if v := strings.TrimSpace(getenv("DAYS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDays {
			return o, configError("DAYS", v, fmt.Sprintf("a whole number of days from 1 to %d (default %d)", maxDays, verify.DefaultDailyDays))
		}
		o.Days = n
	}
	if o.Reader != verify.ReaderS3 {
		for _, f := range []struct {
			name string
			dst  *string
		}{{"ATHENA_WORKGROUP", &o.WorkGroup}, {"GLUE_DATABASE", &o.Database}, {"GLUE_TABLE", &o.Table}} {
			if *f.dst = strings.TrimSpace(getenv(f.name)); *f.dst == "" {
				return o, configError(f.name, "", "the stack's Athena workgroup, Glue database and table (READER auto or athena counts through them)")
			}
		}
	}
	return o, nil
}

// tableOfStreamARN returns the table's name in a stream ARN: the part
// after "table/" (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL).
func tableOfStreamARN(arn string) (string, bool) {
	_, rest, ok := strings.Cut(arn, ":table/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return "", false
	}
	name, label, ok := strings.Cut(rest, "/stream/")
	if !ok || name == "" || label == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// summary is the invocation's answer (EventBridge Scheduler ignores it;
// `aws lambda invoke` shows it).
type summary struct {
	Since             string              `json:"since"`
	Until             string              `json:"until"`
	Reader            string              `json:"reader"`
	ArchiveBytes      int64               `json:"archive_bytes"`
	Tables            []verify.DailyTable `json:"tables"`
	UnreadableObjects int                 `json:"unreadable_objects"`
	Verdict           string              `json:"verdict"`
}

// handle runs one check for the scheduler's event, whose content does not
// matter: the days are the clock's. It logs one line with the outcome.
func (c *check) handle(ctx context.Context, _ json.RawMessage) (*summary, error) {
	start := time.Now()
	res, err := verify.Daily(ctx, c.opts)
	if res == nil {
		c.log.ErrorContext(ctx, "daily check did not run", slog.String("error", err.Error()))
		return nil, err
	}
	s := &summary{
		Since: res.Since.Format(time.DateOnly), Until: res.Until.Format(time.DateOnly),
		Reader: res.Reader, ArchiveBytes: res.ArchiveBytes, Tables: res.Tables,
		UnreadableObjects: res.UnreadableObjects, Verdict: res.Report.Verdict(),
	}
	attrs := []any{
		slog.String("since", s.Since), slog.String("until", s.Until), slog.String("reader", s.Reader),
		slog.Int64("archive_bytes", s.ArchiveBytes), slog.Any("tables", s.Tables),
		slog.Int64("missing", res.Report.Totals.Missing), slog.Int("unreadable_objects", s.UnreadableObjects),
		slog.String("verdict", s.Verdict), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if err != nil {
		c.log.ErrorContext(ctx, "daily check failed", append(attrs, slog.String("error", err.Error()))...)
		return s, err
	}
	c.log.InfoContext(ctx, "daily check", attrs...)
	return s, nil
}
