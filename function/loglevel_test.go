package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.yaml.in/yaml/v3"

	ttlarchiver "github.com/ttl-archiver/ttl-archiver"
)

// Lambda's application log levels, from most detail to least
// (LoggingConfig.ApplicationLogLevel).
var lambdaLevels = map[string]int{"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4, "FATAL": 5}

// lambdaLevelOf is the level Lambda's log-level filtering gives a line of
// a function with the JSON log format, as its documentation states
// ("Log-level filtering"): the value of the "level" key; a line whose
// "level" is invalid or missing, or that has no valid RFC 3339 timestamp,
// is INFO.
func lambdaLevelOf(line []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(line, &fields) != nil {
		return "INFO"
	}
	var level, ts string
	if json.Unmarshal(fields["level"], &level) != nil || json.Unmarshal(fields["timestamp"], &ts) != nil {
		return "INFO"
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return "INFO"
	}
	level = strings.ToUpper(level)
	if _, ok := lambdaLevels[level]; !ok {
		return "INFO"
	}
	return level
}

// lambdaKeeps reports whether Lambda sends a line to CloudWatch Logs when
// ApplicationLogLevel is applicationLevel: only lines at that level of
// detail or less.
func lambdaKeeps(line []byte, applicationLevel string) bool {
	return lambdaLevels[lambdaLevelOf(line)] >= lambdaLevels[applicationLevel]
}

// allowedLogLevels reads the LogLevel parameter's AllowedValues from the
// template the repository ships.
func allowedLogLevels(t *testing.T) []string {
	t.Helper()
	var tpl struct {
		Parameters struct {
			LogLevel struct {
				AllowedValues []string `yaml:"AllowedValues"`
			} `yaml:"LogLevel"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(ttlarchiver.Template, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if len(tpl.Parameters.LogLevel.AllowedValues) == 0 {
		t.Fatal("template.yaml: Parameters.LogLevel.AllowedValues is empty, want the levels the template allows")
	}
	return tpl.Parameters.LogLevel.AllowedValues
}

func TestLambdaLevelOf(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{`{"timestamp":"2026-01-02T03:04:05.6Z","level":"WARN","message":"x"}`, "WARN"},
		{`{"timestamp":"2026-01-02T03:04:05Z","level":"debug"}`, "DEBUG"},
		{`{"_aws":{"Timestamp":1}}`, "INFO"},
		{`{"timestamp":"2026-01-02T03:04:05Z","level":"LOUD"}`, "INFO"},
		{`{"level":"ERROR"}`, "INFO"},
		{`not json`, "INFO"},
	}
	for _, tt := range tests {
		if got := lambdaLevelOf([]byte(tt.line)); got != tt.want {
			t.Errorf("lambdaLevelOf(%s) = %s, want %s", tt.line, got, tt.want)
		}
	}
}

// TestMetricsSurviveAllowedLogLevels runs the function's own setup and
// handler in a child process with the environment Lambda gives it at each
// log level the template allows (JSON log format, AWS_LAMBDA_LOG_LEVEL),
// invokes it with a batch that archives and one that fails, and applies
// Lambda's filtering to what it prints: every EMF metric line must reach
// CloudWatch, and so must the summary line of each invocation.
func TestMetricsSurviveAllowedLogLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	firehose := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Records []json.RawMessage }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b strings.Builder
		b.WriteString(`{"FailedPutCount":0,"RequestResponses":[`)
		for i := range in.Records {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"RecordId":"r%d"}`, i)
		}
		b.WriteString(`]}`)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(b.String()))
	}))
	defer firehose.Close()

	for _, level := range allowedLogLevels(t) {
		t.Run(level, func(t *testing.T) {
			if _, ok := lambdaLevels[level]; !ok {
				t.Fatalf("template allows LogLevel %q, which is not a Lambda ApplicationLogLevel", level)
			}
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestPrintInvocationLines$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				"TTL_ARCHIVER_PRINT_LINES=1",
				"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL="+level,
				"AWS_LAMBDA_FUNCTION_NAME=ttl-archiver", "FIREHOSE_STREAM_NAME=ttl-archive",
				"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET",
				"AWS_ENDPOINT_URL_FIREHOSE="+firehose.URL, "AWS_EC2_METADATA_DISABLED=true",
				"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"))
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var metrics, summaries int
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				line := sc.Bytes()
				var fields map[string]json.RawMessage
				if json.Unmarshal(line, &fields) != nil {
					continue // the test framework's own output
				}
				kept := lambdaKeeps(line, level)
				switch _, emf := fields["_aws"]; {
				case emf:
					metrics++
					if !kept {
						t.Errorf("at ApplicationLogLevel %s Lambda drops the metric line %s", level, line)
					}
				case bytes.Contains(line, []byte(`"received"`)):
					summaries++
					if !kept {
						t.Errorf("at ApplicationLogLevel %s Lambda drops the summary line %s", level, line)
					}
				}
			}
			// The archiving invocation writes its totals and the Orders
			// table's line; the refused SQS batch only its totals.
			if metrics != 3 || summaries != 2 {
				t.Errorf("child printed %d metric and %d summary lines, want 3 and 2 (totals per invocation, and one table's); output:\n%s", metrics, summaries, out)
			}
		})
	}
}

// TestPrintInvocationLines is the child process of
// TestMetricsSurviveAllowedLogLevels: the function's setup, then two
// invocations through its handler, printing to stdout as in Lambda.
func TestPrintInvocationLines(t *testing.T) {
	if os.Getenv("TTL_ARCHIVER_PRINT_LINES") == "" {
		t.Skip("run by TestMetricsSurviveAllowedLogLevels")
	}
	a, err := setup(context.Background(), os.Getenv)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	ttl, err := os.ReadFile(filepath.Join("..", "events", "ttl-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	sqs := []byte(`{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"x"}]}`)
	for i, payload := range [][]byte{ttl, sqs} {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprint("req-", i)})
		_, _ = a.Invoke(ctx, payload) // the second fails: its lines are what matter
	}
}
