package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/pflag"
)

// awsFlags are the AWS CLI's global options, for the commands that call
// AWS: --region, --profile and --endpoint-url. As in the AWS CLI, a flag
// wins over the environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL and
// the services' AWS_ENDPOINT_URL_S3, _DYNAMODB, _FIREHOSE), which wins
// over the config file.
type awsFlags struct {
	region, profile, endpointURL string
}

func (a *awsFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&a.region, "region", "", "AWS `region` (default: AWS_REGION, then the profile's region)")
	fs.StringVar(&a.profile, "profile", "", "AWS CLI `profile` to use (default: AWS_PROFILE, then default)")
	fs.StringVar(&a.endpointURL, "endpoint-url", "", "send every AWS call to this `URL` (default: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL; a local stand-in such as moto)")
}

// getenv returns the environment the service clients read their
// endpoints from (AWS_ENDPOINT_URL_S3, ...): e's, except that
// --endpoint-url hides the per-service variables, as it does in the AWS
// CLI.
func (a *awsFlags) getenv(e *env) func(string) string {
	if a.endpointURL == "" {
		return e.getenv
	}
	return func(k string) string {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			return ""
		}
		return e.getenv(k)
	}
}

// load loads the SDK's configuration as the AWS CLI would (profile,
// credentials, region, endpoint), reading the environment through
// e.getenv as well, so that tests can set it. It fails at once, naming
// the cause, when no region or no credentials are found.
func (a *awsFlags) load(ctx context.Context, e *env) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	region := a.region
	if region == "" {
		region = e.getenv("AWS_REGION")
	}
	if region == "" {
		region = e.getenv("AWS_DEFAULT_REGION")
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	endpoint := a.endpointURL
	if endpoint == "" {
		endpoint = e.getenv("AWS_ENDPOINT_URL")
	}
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	if a.profile != "" {
		// --profile wins over credentials in the environment.
		opts = append(opts, config.WithSharedConfigProfile(a.profile))
	} else {
		if p := e.getenv("AWS_PROFILE"); p != "" {
			opts = append(opts, config.WithSharedConfigProfile(p))
		}
		if id := e.getenv("AWS_ACCESS_KEY_ID"); id != "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
				id, e.getenv("AWS_SECRET_ACCESS_KEY"), e.getenv("AWS_SESSION_TOKEN"))))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: give --region, or set AWS_REGION (or a region in your AWS profile)")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return aws.Config{}, fmt.Errorf("no AWS credentials: give --profile, or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: %w", err)
	}
	return cfg, nil
}
