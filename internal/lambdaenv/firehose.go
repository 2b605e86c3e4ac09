// Package lambdaenv reads what the Lambda environment gives the function:
// the Firehose client's settings (region, credentials, endpoints, retries)
// and the memory it may use. It is the function's wiring, kept apart from
// package main so that the benchmarks time the same code.
package lambdaenv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// FirehoseOptions reads the Firehose client's settings from the
// environment Lambda gives the function, the way the SDK's
// config.LoadDefaultConfig reads the same variables
// (TestFirehoseOptionsMatchSDK compares them):
//
//   - the region: AWS_REGION, else AWS_DEFAULT_REGION;
//   - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//     AWS_SESSION_TOKEN, which Lambda sets from the execution role;
//   - endpoints: AWS_ENDPOINT_URL_FIREHOSE, else AWS_ENDPOINT_URL, unless
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true; AWS_USE_FIPS_ENDPOINT
//     and AWS_USE_DUALSTACK_ENDPOINT;
//   - retries: AWS_MAX_ATTEMPTS and AWS_RETRY_MODE.
//
// It reads nothing else: no shared config or credentials files, profiles,
// SSO, web identity, container or instance credentials. Those are
// config.LoadDefaultConfig's, and linking it brings the SSO, SSO OIDC,
// sign-in and STS clients, whose package initialisation alone was 3 ms of
// the function's start-up (BENCHMARKS.md, section 5) for credential
// sources a Lambda function does not use. A variable that is missing or
// malformed stops the function at start-up, named.
func FirehoseOptions(getenv func(string) string) (firehose.Options, error) {
	var o firehose.Options
	o.Region = firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	if o.Region == "" {
		return o, errors.New("AWS_REGION is not set: want the region of the Firehose stream (Lambda sets it)")
	}

	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return o, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set: want the credentials Lambda sets from the function's execution role (the function reads no other credential source)")
	}
	creds := credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))
	creds.Value.AccountID = getenv("AWS_ACCOUNT_ID")
	o.Credentials = creds

	ignore, _, err := envBool(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	if err != nil {
		return o, err
	}
	if !ignore {
		if u := firstSet(getenv, "AWS_ENDPOINT_URL_FIREHOSE", "AWS_ENDPOINT_URL"); u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	}
	// Both are three-state, as in the SDK: unset, true or false.
	fips, set, err := envBool(getenv, "AWS_USE_FIPS_ENDPOINT")
	switch {
	case err != nil:
		return o, err
	case fips:
		o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
	case set:
		o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateDisabled
	}
	dual, set, err := envBool(getenv, "AWS_USE_DUALSTACK_ENDPOINT")
	switch {
	case err != nil:
		return o, err
	case dual:
		o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
	case set:
		o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateDisabled
	}

	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, fmt.Errorf("AWS_MAX_ATTEMPTS is %q: want a whole number of attempts, 1 or more", v)
		}
		o.RetryMaxAttempts = n
	}
	if v := getenv("AWS_RETRY_MODE"); v != "" {
		if o.RetryMode, err = aws.ParseRetryMode(v); err != nil {
			return o, fmt.Errorf("AWS_RETRY_MODE is %q: want standard or adaptive", v)
		}
	}
	return o, nil
}

// firstSet returns the value of the first of keys that is set.
func firstSet(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// envBool reads a true/false variable as the SDK does (either case), and
// whether it is set.
func envBool(getenv func(string) string, key string) (value, set bool, err error) {
	switch v := getenv(key); {
	case v == "":
		return false, false, nil
	case strings.EqualFold(v, "true"):
		return true, true, nil
	case strings.EqualFold(v, "false"):
		return false, true, nil
	default:
		return false, false, fmt.Errorf("%s is %q: want true or false", key, v)
	}
}
