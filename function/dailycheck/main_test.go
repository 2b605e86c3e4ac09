package main

import (
	"context"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv/lambdaenvtest"
	"github.com/ttl-archiver/ttl-archiver/verify"
)

const (
	ordersARN   = "arn:aws:dynamodb:eu-west-1:210987654321:table/Orders/stream/2025-06-01T12:00:00.000"
	sessionsARN = "arn:aws:dynamodb:eu-west-1:210987654321:table/Sessions.v2/stream/2025-06-02T12:00:00.000"
)

// baseEnv is what the template sets, with every variable of the check
// present (empty ones included), and a region and credentials.
var baseEnv = map[string]string{
	"TABLE_STREAM_ARNS": ordersARN + "," + sessionsARN, "DEMO_TABLE": "",
	"ARCHIVE_BUCKET": "archive-bucket", "ARCHIVE_PREFIX": "archive/",
	"READER": "auto", "STREAM_LIMIT_BYTES": "2147483648", "DAYS": "3",
	"ATHENA_WORKGROUP": "ttl-archiver", "GLUE_DATABASE": "ttl_archive", "GLUE_TABLE": "expired_items",
	"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET",
}

func TestSetupConfigurationErrors(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		wantVar string
	}{
		{"no table at all", map[string]string{"TABLE_STREAM_ARNS": ""}, "TABLE_STREAM_ARNS"},
		{"a table ARN, not a stream ARN", map[string]string{"TABLE_STREAM_ARNS": "arn:aws:dynamodb:eu-west-1:210987654321:table/Orders"}, "TABLE_STREAM_ARNS"},
		{"an empty entry", map[string]string{"TABLE_STREAM_ARNS": ordersARN + ","}, "TABLE_STREAM_ARNS"},
		{"no bucket", map[string]string{"ARCHIVE_BUCKET": ""}, "ARCHIVE_BUCKET"},
		{"prefix without a slash", map[string]string{"ARCHIVE_PREFIX": "archive"}, "ARCHIVE_PREFIX"},
		{"unknown reader", map[string]string{"READER": "glue"}, "READER"},
		{"limit not a number", map[string]string{"STREAM_LIMIT_BYTES": "2GiB"}, "STREAM_LIMIT_BYTES"},
		{"limit zero", map[string]string{"STREAM_LIMIT_BYTES": "0"}, "STREAM_LIMIT_BYTES"},
		{"days zero", map[string]string{"DAYS": "0"}, "DAYS"},
		{"days over 14", map[string]string{"DAYS": "15"}, "DAYS"},
		{"auto without a workgroup", map[string]string{"ATHENA_WORKGROUP": ""}, "ATHENA_WORKGROUP"},
		{"athena without a database", map[string]string{"READER": "athena", "GLUE_DATABASE": ""}, "GLUE_DATABASE"},
		{"athena without a table", map[string]string{"READER": "athena", "GLUE_TABLE": ""}, "GLUE_TABLE"},
		{"no region", map[string]string{"AWS_REGION": ""}, "AWS_REGION"},
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/creds"}, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(baseEnv)
			maps.Copy(env, tt.set)
			lambdaenvtest.Setenv(t, env)
			_, err := setup(context.Background(), os.Getenv)
			if err == nil || !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("setup error = %v, want one naming %s", err, tt.wantVar)
			}
		})
	}
}

func TestSetupReadsTheTables(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want verify.DailyOptions
	}{
		{"two streams", nil, verify.DailyOptions{Tables: []string{"Orders", "Sessions.v2"}, Reader: "auto", StreamLimitBytes: 2 << 30, Days: 3,
			WorkGroup: "ttl-archiver", Database: "ttl_archive", Table: "expired_items"}},
		{"the demo table only", map[string]string{"TABLE_STREAM_ARNS": "", "DEMO_TABLE": "ttl-archiver-DemoTable-1A2B"},
			verify.DailyOptions{Tables: []string{"ttl-archiver-DemoTable-1A2B"}, Reader: "auto", StreamLimitBytes: 2 << 30, Days: 3,
				WorkGroup: "ttl-archiver", Database: "ttl_archive", Table: "expired_items"}},
		{"streams, the demo table, s3 with defaults", map[string]string{"DEMO_TABLE": "Demo", "READER": "s3", "STREAM_LIMIT_BYTES": "", "DAYS": "",
			"ATHENA_WORKGROUP": "", "GLUE_DATABASE": "", "GLUE_TABLE": ""},
			verify.DailyOptions{Tables: []string{"Orders", "Sessions.v2", "Demo"}, Reader: "s3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(baseEnv)
			maps.Copy(env, tt.set)
			lambdaenvtest.Setenv(t, env)
			c, err := setup(context.Background(), os.Getenv)
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			o := c.opts
			if !slices.Equal(o.Tables, tt.want.Tables) || o.Reader != tt.want.Reader || o.StreamLimitBytes != tt.want.StreamLimitBytes || o.Days != tt.want.Days ||
				o.WorkGroup != tt.want.WorkGroup || o.Database != tt.want.Database || o.Table != tt.want.Table {
				t.Errorf("setup options: tables %v reader %q limit %d days %d athena %s/%s/%s; want %+v",
					o.Tables, o.Reader, o.StreamLimitBytes, o.Days, o.WorkGroup, o.Database, o.Table, tt.want)
			}
			if o.Bucket != "archive-bucket" || o.Prefix != "archive/" || o.Region != "eu-west-1" {
				t.Errorf("setup archive s3://%s/%s in %s, want s3://archive-bucket/archive/ in eu-west-1", o.Bucket, o.Prefix, o.Region)
			}
			if o.S3 == nil || o.Athena == nil || o.Metrics == nil || o.Out == nil {
				t.Error("setup left a client or the metrics writer nil")
			}
			if a, b := o.Metrics("us-east-1"), o.Metrics("us-east-1"); a == nil || a != b || a == o.Metrics("eu-west-1") {
				t.Error("Metrics does not keep one client per region")
			}
		})
	}
}

func TestTableOfStreamARN(t *testing.T) {
	for arn, want := range map[string]string{
		ordersARN:   "Orders",
		sessionsARN: "Sessions.v2",
		"arn:aws-cn:dynamodb:cn-north-1:210987654321:table/a_b-c/stream/2025-06-01T12:00:00.000": "a_b-c",
		"arn:aws:dynamodb:eu-west-1:210987654321:table/Orders":                                   "",
		"arn:aws:dynamodb:eu-west-1:210987654321:table//stream/2025":                             "",
		"table/Orders/stream/2025": "",
		"":                         "",
	} {
		if got, ok := tableOfStreamARN(arn); got != want || ok != (want != "") {
			t.Errorf("tableOfStreamARN(%q) = %q, %v; want %q", arn, got, ok, want)
		}
	}
}
