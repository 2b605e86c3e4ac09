package archive

import (
	"fmt"
	"strconv"
	"strings"
)

// Firehose's fixed limits for PutRecordBatch (AWS-FACTS.md; they cannot be
// raised).
const (
	MaxRecordsPerCall = 500             // records in one PutRecordBatch call
	MaxBytesPerCall   = 4 * 1024 * 1024 // bytes of record data in one call
	MaxRecordBytes    = 1000 * 1024     // one record's data, before base64
)

// Defaults for the configuration variables.
const (
	DefaultBatchSize   = 400
	DefaultConcurrency = 4
	MaxConcurrency     = 64
)

// Config is the archiver's configuration. [ConfigFromEnv] reads it from the
// environment of the Lambda function.
type Config struct {
	// StreamName is the Firehose stream the lines go to
	// (FIREHOSE_STREAM_NAME, required).
	StreamName string
	// BatchSize is the most records in one PutRecordBatch call
	// (BATCH_SIZE, 1 to 500, default 400).
	BatchSize int
	// Format is how keys and items are written (ARCHIVE_FORMAT, "json" or
	// "dynamodb-json", default "json").
	Format Format
	// Pack packs several lines into one Firehose record of up to 1,000 KiB
	// (PACK_RECORDS, "true" or "false", default false). Firehose bills each
	// record rounded up to 5 KB, so packing small items cuts the bill by up
	// to five times; the stream must then split records back into lines
	// (multi-record de-aggregation) when it partitions by content.
	Pack bool
	// Concurrency is the most PutRecordBatch calls in flight at once
	// (MAX_CONCURRENCY, 1 to 64, default 4).
	Concurrency int
}

// ConfigError is a configuration variable with a value the archiver cannot
// use. Its message names the variable and what it accepts.
type ConfigError struct {
	Variable string
	Value    string
	Accepted string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s is not set: want %s", e.Variable, e.Accepted)
	}
	return fmt.Sprintf("%s=%q is not valid: want %s", e.Variable, e.Value, e.Accepted)
}

// validStreamName reports whether name meets Firehose's
// DeliveryStreamName constraint, the pattern [a-zA-Z0-9_.-]+ and 1 to 64
// characters. It is written out rather than compiled from a regular
// expression at package init, which every cold start would pay for.
func validStreamName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for i := range len(name) {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// ConfigFromEnv reads and checks the configuration from environment
// variables through getenv (os.Getenv in the function). The error names the
// first variable that is missing or wrong and the values it accepts.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{BatchSize: DefaultBatchSize, Format: FormatJSON, Concurrency: DefaultConcurrency}

	c.StreamName = strings.TrimSpace(getenv("FIREHOSE_STREAM_NAME"))
	if !validStreamName(c.StreamName) {
		return Config{}, &ConfigError{"FIREHOSE_STREAM_NAME", c.StreamName, "a Firehose stream name: 1 to 64 of a-z A-Z 0-9 _ . -"}
	}
	var err error
	if c.BatchSize, err = intVar(getenv, "BATCH_SIZE", DefaultBatchSize, 1, MaxRecordsPerCall); err != nil {
		return Config{}, err
	}
	switch v := strings.TrimSpace(getenv("ARCHIVE_FORMAT")); v {
	case "", "json":
		c.Format = FormatJSON
	case FormatDynamoDBJSONName:
		c.Format = FormatDynamoDBJSON
	default:
		return Config{}, &ConfigError{"ARCHIVE_FORMAT", v, `"json" (default) or "dynamodb-json"`}
	}
	switch v := strings.TrimSpace(getenv("PACK_RECORDS")); strings.ToLower(v) {
	case "", "false":
		c.Pack = false
	case "true":
		c.Pack = true
	default:
		return Config{}, &ConfigError{"PACK_RECORDS", v, `"true" or "false" (default)`}
	}
	if c.Concurrency, err = intVar(getenv, "MAX_CONCURRENCY", DefaultConcurrency, 1, MaxConcurrency); err != nil {
		return Config{}, err
	}
	return c, nil
}

func intVar(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &ConfigError{name, v, fmt.Sprintf("a whole number from %d to %d (default %d)", lo, hi, def)}
	}
	return n, nil
}

// check validates a Config built in code rather than from the environment.
func (c Config) check() error {
	if !validStreamName(c.StreamName) {
		return &ConfigError{"StreamName", c.StreamName, "a Firehose stream name: 1 to 64 of a-z A-Z 0-9 _ . -"}
	}
	if c.BatchSize < 1 || c.BatchSize > MaxRecordsPerCall {
		return &ConfigError{"BatchSize", strconv.Itoa(c.BatchSize), "1 to 500"}
	}
	if c.Format > FormatDynamoDBJSON {
		return &ConfigError{"Format", strconv.Itoa(int(c.Format)), "FormatJSON or FormatDynamoDBJSON"}
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		return &ConfigError{"Concurrency", strconv.Itoa(c.Concurrency), "1 to 64"}
	}
	return nil
}
