package archive

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantVar string // the variable the error must name; "" for success
	}{
		{"defaults", map[string]string{"FIREHOSE_STREAM_NAME": "ttl-archive"},
			Config{StreamName: "ttl-archive", BatchSize: 400, Format: FormatJSON, Concurrency: 4}, ""},
		{"all set", map[string]string{"FIREHOSE_STREAM_NAME": "s", "BATCH_SIZE": "500", "ARCHIVE_FORMAT": "dynamodb-json", "PACK_RECORDS": "true", "MAX_CONCURRENCY": "8"},
			Config{StreamName: "s", BatchSize: 500, Format: FormatDynamoDBJSON, Pack: true, Concurrency: 8}, ""},
		{"batch size 1", map[string]string{"FIREHOSE_STREAM_NAME": "s", "BATCH_SIZE": "1"},
			Config{StreamName: "s", BatchSize: 1, Format: FormatJSON, Concurrency: 4}, ""},
		{"stream missing", map[string]string{}, Config{}, "FIREHOSE_STREAM_NAME"},
		{"stream with a slash", map[string]string{"FIREHOSE_STREAM_NAME": "a/b"}, Config{}, "FIREHOSE_STREAM_NAME"},
		{"stream too long", map[string]string{"FIREHOSE_STREAM_NAME": strings.Repeat("a", 65)}, Config{}, "FIREHOSE_STREAM_NAME"},
		{"batch size 0", map[string]string{"FIREHOSE_STREAM_NAME": "s", "BATCH_SIZE": "0"}, Config{}, "BATCH_SIZE"},
		{"batch size 501", map[string]string{"FIREHOSE_STREAM_NAME": "s", "BATCH_SIZE": "501"}, Config{}, "BATCH_SIZE"},
		{"batch size not a number", map[string]string{"FIREHOSE_STREAM_NAME": "s", "BATCH_SIZE": "many"}, Config{}, "BATCH_SIZE"},
		{"unknown format", map[string]string{"FIREHOSE_STREAM_NAME": "s", "ARCHIVE_FORMAT": "csv"}, Config{}, "ARCHIVE_FORMAT"},
		{"pack yes", map[string]string{"FIREHOSE_STREAM_NAME": "s", "PACK_RECORDS": "yes"}, Config{}, "PACK_RECORDS"},
		{"concurrency 0", map[string]string{"FIREHOSE_STREAM_NAME": "s", "MAX_CONCURRENCY": "0"}, Config{}, "MAX_CONCURRENCY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(envOf(tt.env))
			if tt.wantVar == "" {
				if err != nil {
					t.Fatalf("ConfigFromEnv: %v", err)
				}
				if got != tt.want {
					t.Errorf("ConfigFromEnv = %+v, want %+v", got, tt.want)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ConfigFromEnv error = %v, want a *ConfigError", err)
			}
			if ce.Variable != tt.wantVar || !strings.Contains(err.Error(), tt.wantVar) || !strings.Contains(err.Error(), "want ") {
				t.Errorf("ConfigFromEnv error = %q, want one naming %s and what it accepts", err, tt.wantVar)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name                  string
		event, typ, principal string
		hasIdentity           bool
		want                  SkipReason
	}{
		{"ttl delete", "REMOVE", "Service", "dynamodb.amazonaws.com", true, notSkipped},
		{"user delete", "REMOVE", "", "", false, SkipUserRemove},
		{"lower-case service", "REMOVE", "service", "dynamodb.amazonaws.com", true, SkipUserRemove},
		{"other principal", "REMOVE", "Service", "lambda.amazonaws.com", true, SkipUserRemove},
		{"identity without fields", "REMOVE", "", "", true, SkipUserRemove},
		{"insert", "INSERT", "Service", "dynamodb.amazonaws.com", true, SkipInsert},
		{"modify", "MODIFY", "", "", false, SkipModify},
		{"lower-case remove", "remove", "Service", "dynamodb.amazonaws.com", true, SkipOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify([]byte(tt.event), []byte(tt.typ), []byte(tt.principal), tt.hasIdentity)
			if got != tt.want {
				t.Errorf("classify(%q, %q, %q, %v) = %v, want %v", tt.event, tt.typ, tt.principal, tt.hasIdentity, got, tt.want)
			}
		})
	}
}

func TestEpochTime(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"1763856000", "2025-11-23T00:00:00Z", false},
		{"1763856000.123", "2025-11-23T00:00:00.123Z", false},
		{"1763856000.000001", "2025-11-23T00:00:00.000001Z", false},
		{"1.763856000123E9", "2025-11-23T00:00:00.123Z", false},
		{"0", "1970-01-01T00:00:00Z", false},
		{"", "", true},
		{"-5", "", true},
		{"253402300800", "", true},
		{"1e300", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := epochTime([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("epochTime(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got.Format("2006-01-02T15:04:05.999999999Z07:00") != tt.want {
				t.Errorf("epochTime(%q) = %s, want %s", tt.in, got.Format("2006-01-02T15:04:05.999999999Z07:00"), tt.want)
			}
		})
	}
}

func TestParseStreamARN(t *testing.T) {
	tests := []struct {
		arn, table, region string
		ok                 bool
	}{
		{"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000", "Orders", "us-east-1", true},
		{"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/a.b-c_d/stream/x", "a.b-c_d", "cn-north-1", true},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/Orders", "Orders", "us-east-1", true},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/x", "", "", false},
		{"not an arn", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			table, region, ok := parseStreamARN([]byte(tt.arn))
			if ok != tt.ok || (ok && (string(table) != tt.table || string(region) != tt.region)) {
				t.Errorf("parseStreamARN(%q) = %q, %q, %v, want %q, %q, %v", tt.arn, table, region, ok, tt.table, tt.region, tt.ok)
			}
		})
	}
}

// validStreamName must accept exactly what Firehose's pattern does.
func TestValidStreamName(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
	names := []string{"", "a", "ttl-archive", "A_b.c-9", strings.Repeat("x", 64), strings.Repeat("x", 65),
		"a b", "a/b", "a:b", "ä", "a\n", "-", ".", "_", "a\x00"}
	for c := 0; c < 256; c++ {
		names = append(names, "s"+string(rune(c)), string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validStreamName(n), pattern.MatchString(n); got != want {
			t.Errorf("validStreamName(%q) = %v, want %v", n, got, want)
		}
	}
}
