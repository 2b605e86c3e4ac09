package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ttl-archiver/ttl-archiver/doctor/doctortest"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
)

// TestDoctorMoto runs the built command against a deployment in
// moto_server: exit 0 and every line ok; 0 with a warning; 3 naming the
// failed checks last; and the JSON shape the help documents.
func TestDoctorMoto(t *testing.T) {
	srv := motoserver.ForTest(t)
	cfg := srv.Config()
	d := doctortest.Deploy(t, cfg)
	ctx := context.Background()
	vars := map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
	args := func(more ...string) []string {
		return append([]string{"doctor", "--source-table", d.Table, "--endpoint-url", srv.URL, "--region", motoserver.Region}, more...)
	}
	db, lc := dynamodb.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	setMapping := func(on bool) {
		if _, err := lc.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(d.MappingUUID), Enabled: aws.Bool(on)}); err != nil {
			t.Fatalf("update event source mapping: %v", err)
		}
	}
	setTTL := func(on bool) {
		if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(d.Table),
			TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{Enabled: aws.Bool(on), AttributeName: aws.String("expires_at")}}); err != nil {
			t.Fatalf("update time to live: %v", err)
		}
	}
	setPITR := func(on bool) {
		if _, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(d.Table),
			PointInTimeRecoverySpecification: &dbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(on)}}); err != nil {
			t.Fatalf("update continuous backups: %v", err)
		}
	}
	checks := []string{"stack", "stream", "mapping", "readers", "firehose", "bucket", "ttl", "pitr", "alarms", "regions"}

	t.Run("healthy", func(t *testing.T) {
		code, out, errOut := runTool(t, vars, args("--ttl-attribute", "expires_at")...)
		if code != exitOK {
			t.Fatalf("doctor: got exit %d, want %d; stdout:\n%s\nstderr: %s", code, exitOK, out, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(checks)+1 {
			t.Fatalf("doctor: got %d lines, want %d (a line per check and a summary):\n%s", len(lines), len(checks)+1, out)
		}
		for i, name := range checks {
			if f := strings.Fields(lines[i]); len(f) < 3 || f[0] != "ok" || f[1] != name {
				t.Errorf("doctor line %d: got %q, want ok %s and what it found", i+1, lines[i], name)
			}
		}
		if got, want := lines[len(lines)-1], "10 checks ok"; got != want {
			t.Errorf("doctor summary: got %q, want %q", got, want)
		}
	})

	t.Run("pitr off is a warning", func(t *testing.T) {
		setPITR(false)
		defer setPITR(true)
		code, out, errOut := runTool(t, vars, args()...)
		if code != exitOK || !strings.Contains(out, "warn  pitr") || !strings.HasSuffix(out, "10 checks ok, 1 warning: pitr\n") {
			t.Errorf("doctor: got exit %d, stdout:\n%s\nwant %d, a warn pitr line and the summary; stderr %s", code, out, exitOK, errOut)
		}
	})

	t.Run("mapping disabled and ttl off", func(t *testing.T) {
		setMapping(false)
		defer setMapping(true)
		setTTL(false)
		defer setTTL(true)
		code, out, errOut := runTool(t, vars, args()...)
		if code != exitIncomplete {
			t.Errorf("doctor: got exit %d, want %d; stdout:\n%s", code, exitIncomplete, out)
		}
		if got, want := errOut, "ttl-archiver doctor: 2 checks failed: mapping, ttl\n"; got != want {
			t.Errorf("doctor stderr: got %q, want %q", got, want)
		}
		for _, want := range []string{"fail  mapping", "--enabled", "fail  ttl", "only turn TTL on after the stack's mapping is Enabled"} {
			if !strings.Contains(out, want) {
				t.Errorf("doctor stdout: got\n%s\nwant it to contain %q", out, want)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		setMapping(false)
		defer setMapping(true)
		code, out, errOut := runTool(t, vars, args("--output", "json")...)
		if code != exitIncomplete || !strings.HasSuffix(errOut, "1 check failed: mapping\n") {
			t.Errorf("doctor --output json: got exit %d, stderr %q, want %d and the failed check", code, errOut, exitIncomplete)
		}
		// The documented shape, field by field.
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("doctor --output json: got %q, want one JSON object: %v", out, err)
		}
		if got := keys(raw); !reflect.DeepEqual(got, []string{"checks", "ok"}) {
			t.Errorf("doctor --output json: got keys %v, want [checks ok]", got)
		}
		var rep struct {
			OK     bool                         `json:"ok"`
			Checks []map[string]json.RawMessage `json:"checks"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("doctor --output json: %v", err)
		}
		if rep.OK {
			t.Errorf("doctor --output json: got ok true, want false")
		}
		var names []string
		for _, c := range rep.Checks {
			if got := keys(c); !reflect.DeepEqual(got, []string{"detail", "fix", "name", "status"}) {
				t.Errorf("doctor --output json: got check keys %v, want [detail fix name status]", got)
			}
			var name, status string
			_ = json.Unmarshal(c["name"], &name)
			_ = json.Unmarshal(c["status"], &status)
			names = append(names, name)
			if want := map[bool]string{true: "fail", false: "ok"}[name == "mapping"]; status != want {
				t.Errorf("doctor --output json: check %s: got status %q, want %q", name, status, want)
			}
		}
		if !reflect.DeepEqual(names, checks) {
			t.Errorf("doctor --output json: got checks %v, want %v", names, checks)
		}
	})
}

func keys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// TestDoctorCommandLine: a wrong command line exits 2 before any call;
// no credentials exits 1.
func TestDoctorCommandLine(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no table", []string{"doctor", "--region", "us-east-1"}, exitUsage, "--source-table is required"},
		{"bad output", []string{"doctor", "--source-table", "T", "--output", "yaml"}, exitUsage, `--output "yaml": want text or json`},
		{"argument", []string{"doctor", "--source-table", "T", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"empty stack", []string{"doctor", "--source-table", "T", "--stack", ""}, exitUsage, "--stack must not be empty"},
		{"no credentials", []string{"doctor", "--source-table", "T", "--region", "us-east-1"}, exitError, "no AWS credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, map[string]string{}, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("%v: got exit %d, stderr %q, want %d and %q; stdout %s", tt.args, code, errOut, tt.code, tt.want, out)
			}
			if out != "" {
				t.Errorf("%v: got stdout %q, want none (no check was made)", tt.args, out)
			}
		})
	}
}
