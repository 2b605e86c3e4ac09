// Command function is the ttl-archiver Lambda function: it reads and checks
// its configuration once, builds the Firehose client once, and hands the
// archiver to the Lambda runtime. All archiving rules live in package
// archive.
//
// Build it for Lambda (provided.al2023, arm64) with `make build-ArchiverFunction`.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv"
)

func main() {
	lambdaenv.SetMemoryLimit(os.Getenv) // before anything is allocated for a batch
	lambdaenv.SetProcs(os.Getenv)
	a, err := setup(context.Background(), os.Getenv)
	if err != nil {
		// A configuration error stops the function at init: Lambda reports
		// the exit and this message, and no batch is taken (and lost).
		fmt.Fprintf(os.Stderr, "ttl-archiver: %v\n", err)
		os.Exit(1)
	}
	lambda.Start(a)
}

// setup reads the configuration and builds the archiver, once per process.
// The archiver's settings come through getenv; the Firehose client's
// (region, credentials, endpoints, retries) are the SDK's to read, from
// the process environment and every source the SDK knows.
func setup(ctx context.Context, getenv func(string) string) (*archive.Archiver, error) {
	cfg, err := archive.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := lambdaenv.FirehoseConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	client, err := lambdaenv.NewFirehoseClient(awsCfg)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return archive.New(client, cfg,
		archive.WithLogger(lambdacontext.NewLogger()),
		archive.WithMetrics(os.Stdout, getenv("AWS_LAMBDA_FUNCTION_NAME")),
	)
}
