package lambdaenv

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv/lambdaenvtest"
)

// TestFirehoseClientEndpoint: the client goes where the SDK's rules say,
// and an endpoint that is not an absolute http(s) URL stops init naming
// its variable.
func TestFirehoseClientEndpoint(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // the client's BaseEndpoint
		wantErr string // the variable the error names
	}{
		{"as Lambda sets it", nil, "", ""},
		{"Firehose endpoint", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:4573"}, "http://127.0.0.1:4573", ""},
		{"global endpoint", map[string]string{"AWS_ENDPOINT_URL": "https://proxy.example:8443/fh"}, "https://proxy.example:8443/fh", ""},
		{"Firehose endpoint wins", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:2"}, "http://127.0.0.1:2", ""},
		{"endpoints ignored", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", ""},
		{"not a URL", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "::not a url::"}, "", "AWS_ENDPOINT_URL_FIREHOSE"},
		{"no scheme", map[string]string{"AWS_ENDPOINT_URL": "firehose.us-east-1.amazonaws.com"}, "", "AWS_ENDPOINT_URL"},
		{"no host", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "https:///path"}, "", "AWS_ENDPOINT_URL_FIREHOSE"},
		{"not http", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "unix:///tmp/sock"}, "", "AWS_ENDPOINT_URL_FIREHOSE"},
		{"no region", map[string]string{"AWS_REGION": ""}, "", "AWS_REGION"},
		{"only AWS_DEFAULT_REGION", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1"}, "", ""},
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": ""}, "", "AWS_ACCESS_KEY_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}
			for k, v := range tt.env {
				env[k] = v
			}
			lambdaenvtest.Setenv(t, env)
			cfg, err := FirehoseConfig(context.Background())
			if err == nil {
				_, err = NewFirehoseClient(cfg)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("FirehoseConfig error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FirehoseConfig: %v", err)
			}
			client, _ := NewFirehoseClient(cfg)
			if got := aws.ToString(client.Options().BaseEndpoint); got != tt.want {
				t.Errorf("BaseEndpoint = %q, want %q", got, tt.want)
			}
		})
	}
}
