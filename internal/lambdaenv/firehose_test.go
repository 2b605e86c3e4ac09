package lambdaenv

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// sdkEnv are the variables config.LoadDefaultConfig reads that could
// change what the comparison sees; each case starts with all of them
// cleared, and with no shared config or credentials file.
var sdkEnv = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_FIREHOSE",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_MAX_ATTEMPTS",
	"AWS_RETRY_MODE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_DEFAULTS_MODE",
}

// TestFirehoseOptionsMatchSDK builds the Firehose client both ways, with
// FirehoseOptions and with config.LoadDefaultConfig and NewFromConfig,
// from the same environment, and compares what the client ends up with.
func TestFirehoseOptionsMatchSDK(t *testing.T) {
	lambdaEnv := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	}
	tests := []struct {
		name string
		set  map[string]string
	}{
		{"as Lambda sets it", nil},
		{"no session token", map[string]string{"AWS_SESSION_TOKEN": ""}},
		{"only AWS_DEFAULT_REGION", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-southeast-2"}},
		{"both regions, AWS_REGION wins", map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}},
		{"account id", map[string]string{"AWS_ACCOUNT_ID": "123456789012"}},
		{"local stand-in", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:4573"}},
		{"global endpoint", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}},
		{"service endpoint wins", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:2"}},
		{"endpoints ignored", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"}},
		{"endpoints not ignored", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}},
		{"FIPS and dual-stack", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "True"}},
		{"FIPS off", map[string]string{"AWS_USE_FIPS_ENDPOINT": "false"}},
		{"retries", map[string]string{"AWS_MAX_ATTEMPTS": "7", "AWS_RETRY_MODE": "adaptive"}},
		{"standard retries", map[string]string{"AWS_RETRY_MODE": "standard"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(lambdaEnv)
			maps.Copy(env, tt.set)
			for _, k := range sdkEnv {
				t.Setenv(k, env[k])
				if env[k] == "" {
					_ = os.Unsetenv(k)
				}
			}
			dir := t.TempDir()
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))

			opts, err := FirehoseOptions(os.Getenv)
			if err != nil {
				t.Fatalf("FirehoseOptions: %v", err)
			}
			ours := firehose.New(opts).Options()
			cfg, err := config.LoadDefaultConfig(context.Background())
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			sdk := firehose.NewFromConfig(cfg).Options()

			if ours.Region != sdk.Region {
				t.Errorf("Region = %q, SDK %q", ours.Region, sdk.Region)
			}
			if aws.ToString(ours.BaseEndpoint) != aws.ToString(sdk.BaseEndpoint) {
				t.Errorf("BaseEndpoint = %q, SDK %q", aws.ToString(ours.BaseEndpoint), aws.ToString(sdk.BaseEndpoint))
			}
			if ours.EndpointOptions.UseFIPSEndpoint != sdk.EndpointOptions.UseFIPSEndpoint || ours.EndpointOptions.UseDualStackEndpoint != sdk.EndpointOptions.UseDualStackEndpoint {
				t.Errorf("endpoint options = %+v, SDK %+v", ours.EndpointOptions, sdk.EndpointOptions)
			}
			if ours.Retryer.MaxAttempts() != sdk.Retryer.MaxAttempts() || ours.RetryMode != sdk.RetryMode {
				t.Errorf("retries = %d attempts, mode %q; SDK %d, %q", ours.Retryer.MaxAttempts(), ours.RetryMode, sdk.Retryer.MaxAttempts(), sdk.RetryMode)
			}
			got, err := ours.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatalf("credentials: %v", err)
			}
			want, err := sdk.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatalf("SDK credentials: %v", err)
			}
			if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey || got.SessionToken != want.SessionToken || got.AccountID != want.AccountID || got.CanExpire != want.CanExpire {
				t.Errorf("credentials = %+v, SDK %+v", got, want)
			}
			// The endpoint each resolves for the region and options.
			params := firehose.EndpointParameters{Region: aws.String(ours.Region), Endpoint: ours.BaseEndpoint,
				UseFIPS:      aws.Bool(ours.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
				UseDualStack: aws.Bool(ours.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled)}
			sdkParams := firehose.EndpointParameters{Region: aws.String(sdk.Region), Endpoint: sdk.BaseEndpoint,
				UseFIPS:      aws.Bool(sdk.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
				UseDualStack: aws.Bool(sdk.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled)}
			e1, err1 := ours.EndpointResolverV2.ResolveEndpoint(context.Background(), params)
			e2, err2 := sdk.EndpointResolverV2.ResolveEndpoint(context.Background(), sdkParams)
			if (err1 == nil) != (err2 == nil) || err1 == nil && e1.URI.String() != e2.URI.String() {
				t.Errorf("endpoint = %v (%v), SDK %v (%v)", e1.URI.String(), err1, e2.URI.String(), err2)
			}
		})
	}
}
