package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv/lambdaenvtest"
)

var baseEnv = map[string]string{"FIREHOSE_STREAM_NAME": "ttl-archive", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}

func TestSetupConfigurationErrors(t *testing.T) {
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
		{"Firehose endpoint not a URL", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "::not a url::"}, "AWS_ENDPOINT_URL_FIREHOSE"},
		{"Firehose endpoint without a scheme", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "127.0.0.1:4573"}, "AWS_ENDPOINT_URL_FIREHOSE"},
		{"Firehose endpoint not http", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "ftp://127.0.0.1:4573"}, "AWS_ENDPOINT_URL_FIREHOSE"},
		{"Firehose endpoint without a host", map[string]string{"AWS_ENDPOINT_URL_FIREHOSE": "http://"}, "AWS_ENDPOINT_URL_FIREHOSE"},
		{"global endpoint relative", map[string]string{"AWS_ENDPOINT_URL": "/firehose"}, "AWS_ENDPOINT_URL"},
		{"container credentials unreachable", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
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

func TestSetupBuildsArchiver(t *testing.T) {
	env := map[string]string{"FIREHOSE_STREAM_NAME": "ttl-archive", "BATCH_SIZE": "250", "ARCHIVE_FORMAT": "dynamodb-json",
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:4573"}
	lambdaenvtest.Setenv(t, env)
	a, err := setup(context.Background(), os.Getenv)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if c := a.Config(); c.StreamName != "ttl-archive" || c.BatchSize != 250 || c.Format != archive.FormatDynamoDBJSON {
		t.Errorf("setup config = %+v, want stream ttl-archive, batch size 250, dynamodb-json", c)
	}
}

// TestSetupTakesContainerCredentials: with no credentials in the
// environment, the function takes them from a container credentials
// endpoint, as the SDK's chain does (a loopback stand-in of the endpoint).
func TestSetupTakesContainerCredentials(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token-1" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"secret","Token":"session","Expiration":"`+
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	}))
	defer srv.Close()
	env := maps.Clone(baseEnv)
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "", ""
	env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.URL + "/creds"
	env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "token-1"
	lambdaenvtest.Setenv(t, env)
	if _, err := setup(context.Background(), os.Getenv); err != nil {
		t.Fatalf("setup: %v", err)
	}
	if got := served.Load(); got != 1 {
		t.Errorf("container credentials served %d times at init, want 1", got)
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
