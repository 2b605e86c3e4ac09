package main

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func TestSetupConfigurationErrors(t *testing.T) {
	base := map[string]string{"FIREHOSE_STREAM_NAME": "ttl-archive", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}
	tests := []struct {
		name    string
		set     map[string]string
		wantVar string
	}{
		{"stream name missing", map[string]string{"FIREHOSE_STREAM_NAME": ""}, "FIREHOSE_STREAM_NAME"},
		{"batch size too big", map[string]string{"BATCH_SIZE": "1000"}, "BATCH_SIZE"},
		{"unknown format", map[string]string{"ARCHIVE_FORMAT": "parquet"}, "ARCHIVE_FORMAT"},
		{"pack not a bool", map[string]string{"PACK_RECORDS": "1"}, "PACK_RECORDS"},
		{"no region", map[string]string{"AWS_REGION": ""}, "AWS_REGION"},
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": ""}, "AWS_ACCESS_KEY_ID"},
		{"no secret key", map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, "AWS_SECRET_ACCESS_KEY"},
		{"attempts not a number", map[string]string{"AWS_MAX_ATTEMPTS": "many"}, "AWS_MAX_ATTEMPTS"},
		{"attempts zero", map[string]string{"AWS_MAX_ATTEMPTS": "0"}, "AWS_MAX_ATTEMPTS"},
		{"unknown retry mode", map[string]string{"AWS_RETRY_MODE": "legacy"}, "AWS_RETRY_MODE"},
		{"FIPS not a bool", map[string]string{"AWS_USE_FIPS_ENDPOINT": "yes"}, "AWS_USE_FIPS_ENDPOINT"},
		{"dual-stack not a bool", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "1"}, "AWS_USE_DUALSTACK_ENDPOINT"},
		{"ignore endpoints not a bool", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "on"}, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(base)
			maps.Copy(env, tt.set)
			_, err := setup(func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("setup error = %v, want one naming %s", err, tt.wantVar)
			}
		})
	}
}

func TestSetupBuildsArchiver(t *testing.T) {
	env := map[string]string{"FIREHOSE_STREAM_NAME": "ttl-archive", "BATCH_SIZE": "250", "ARCHIVE_FORMAT": "dynamodb-json",
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
	a, err := setup(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if c := a.Config(); c.StreamName != "ttl-archive" || c.BatchSize != 250 || c.Format != archive.FormatDynamoDBJSON {
		t.Errorf("setup config = %+v, want stream ttl-archive, batch size 250, dynamodb-json", c)
	}
}

// The archiver's response must read exactly as aws-lambda-go's own type
// for partial batch responses.
func TestBatchResponseMatchesLambdaEvents(t *testing.T) {
	for _, ids := range [][]string{{}, {"100"}, {"100", "4421584500000000017450439092"}} {
		ours := archive.BatchResponse{BatchItemFailures: []archive.BatchItemFailure{}}
		theirs := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
		for _, id := range ids {
			ours.BatchItemFailures = append(ours.BatchItemFailures, archive.BatchItemFailure{ItemIdentifier: id})
			theirs.BatchItemFailures = append(theirs.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: id})
		}
		a, _ := json.Marshal(ours)
		b, _ := json.Marshal(theirs)
		if string(a) != string(b) {
			t.Errorf("json.Marshal(archive.BatchResponse) = %s, want %s", a, b)
		}
	}
}
