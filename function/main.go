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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func main() {
	setMemoryLimit(os.Getenv) // before anything is allocated for a batch
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
func setup(ctx context.Context, getenv func(string) string) (*archive.Archiver, error) {
	cfg, err := archive.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	// Region, credentials, endpoint overrides (AWS_ENDPOINT_URL,
	// AWS_ENDPOINT_URL_FIREHOSE) and retry settings (AWS_MAX_ATTEMPTS,
	// AWS_RETRY_MODE) come from the environment as the SDK reads them.
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("configuration: AWS_REGION is not set: want the region of the Firehose stream")
	}
	client := firehose.NewFromConfig(awsCfg)
	return archive.New(client, cfg,
		archive.WithLogger(lambdacontext.NewLogger()),
		archive.WithMetrics(os.Stdout, getenv("AWS_LAMBDA_FUNCTION_NAME")),
	)
}
