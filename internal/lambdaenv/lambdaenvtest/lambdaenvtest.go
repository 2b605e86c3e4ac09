// Package lambdaenvtest gives a test process exactly the environment a
// test means for the function's configuration and the SDK's, with
// nothing of the machine running the test leaking in.
package lambdaenvtest

import (
	"os"
	"path/filepath"
	"testing"
)

// vars are the variables the archiver and the SDK's configuration read
// that could change what a test sees.
var vars = []string{
	"FIREHOSE_STREAM_NAME", "BATCH_SIZE", "ARCHIVE_FORMAT", "PACK_RECORDS", "MAX_CONCURRENCY",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_FIREHOSE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_PROFILE",
	"AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
}

// Setenv unsets every variable of vars, points the shared config and
// credentials files at an empty folder, turns off instance metadata, and
// then sets env, for the rest of test t (t.Setenv restores them).
func Setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range vars {
		t.Setenv(k, "")
		_ = os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for k, v := range env {
		t.Setenv(k, v)
	}
}
