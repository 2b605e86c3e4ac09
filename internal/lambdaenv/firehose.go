// Package lambdaenv reads what the Lambda environment gives the function:
// the Firehose client's configuration (region, credentials, endpoints,
// retries) and the memory it may use. It is the function's wiring, kept
// apart from package main so that the benchmarks time the same code.
package lambdaenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// endpointVars are the variables the SDK takes the Firehose endpoint from,
// the service's own first.
var endpointVars = []string{"AWS_ENDPOINT_URL_FIREHOSE", "AWS_ENDPOINT_URL"}

// credentialsTimeout bounds the first retrieval of credentials at init
// (Lambda's init phase may last 10 s): from the environment it takes
// microseconds; from a container credentials endpoint, one local round trip.
const credentialsTimeout = 5 * time.Second

// FirehoseConfig loads the Firehose client's configuration as the SDK does
// (config.LoadDefaultConfig: environment, shared files, and every
// credential source of the SDK's chain, container credentials included),
// so the SDK's documented rules are the function's. optFns are for callers
// outside Lambda (the benchmarks); the function passes none.
//
// It checks at init what the SDK would only find out at the first call,
// naming the variable:
//   - a region must be set (AWS_REGION, which Lambda sets);
//   - an endpoint URL (AWS_ENDPOINT_URL_FIREHOSE, AWS_ENDPOINT_URL) must
//     be an absolute http or https URL: the SDK takes any string and every
//     invocation would then fail until its deadline;
//   - AWS_MAX_ATTEMPTS, when set, must be 1 or more;
//   - credentials must be retrievable: they are retrieved once here, and
//     the SDK caches them for the first call.
//
// A malformed value the SDK itself reads (AWS_RETRY_MODE,
// AWS_USE_FIPS_ENDPOINT...) is the SDK's error, which names it.
func FirehoseConfig(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	for _, k := range endpointVars {
		if err := checkEndpoint(k, os.Getenv(k)); err != nil {
			return aws.Config{}, err
		}
	}
	if v := os.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return aws.Config{}, fmt.Errorf("AWS_MAX_ATTEMPTS=%q is not valid: want a whole number of attempts, 1 or more", v)
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set: want the region of the Firehose stream (Lambda sets it)")
	}
	if cfg.BaseEndpoint != nil {
		if err := checkEndpoint("the shared config's endpoint_url", *cfg.BaseEndpoint); err != nil {
			return aws.Config{}, err
		}
	}
	if cfg.Credentials == nil {
		return aws.Config{}, errors.New("no AWS credentials: want those Lambda gives the function's execution role (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or container credentials)")
	}
	cctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return aws.Config{}, fmt.Errorf("retrieve AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or container credentials, as Lambda sets them for the execution role): %w", err)
	}
	return cfg, nil
}

// NewFirehoseClient builds the Firehose client from cfg, with the
// service-specific settings the SDK resolves (AWS_ENDPOINT_URL_FIREHOSE),
// and checks the endpoint it resolved.
func NewFirehoseClient(cfg aws.Config) (*firehose.Client, error) {
	client := firehose.NewFromConfig(cfg)
	if e := client.Options().BaseEndpoint; e != nil {
		if err := checkEndpoint("the Firehose endpoint URL (AWS_ENDPOINT_URL_FIREHOSE, or endpoint_url in the shared config's firehose section)", *e); err != nil {
			return nil, err
		}
	}
	return client, nil
}

// checkEndpoint returns an error naming name unless v is empty or an
// absolute http or https URL with a host.
func checkEndpoint(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q is not valid: want an absolute http or https URL, such as https://firehose.us-east-1.amazonaws.com", name, v)
	}
	return nil
}
