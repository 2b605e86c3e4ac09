package verify

import (
	"context"
	"time"
)

// Status is the verdict on one row.
type Status string

// The verdicts.
const (
	// Complete: as many distinct event_ids archived as TTL deleted (a day
	// with neither lines nor metric data is complete, with 0).
	Complete Status = "complete"
	// Missing: fewer archived than TTL deleted; Row.Missing says how many.
	Missing Status = "missing"
	// Extra: more archived than TTL deleted (Row.Extra): a bug, or a delete
	// that was not TTL's archived as one (a backfilled user delete of an
	// expired item), or, for a region row of a global table, a deletion
	// that the metric counted in another region.
	Extra Status = "extra"
	// Pending: the day is not over, or is less than Options.Settle old.
	Pending Status = "pending"
	// Unknown: archived lines but no metric data for the day: beyond
	// CloudWatch's retention (455 days for hourly data), or the metric is
	// absent (another region, or a table TTL never ran on).
	Unknown Status = "unknown"
)

// AllRegions is the Region of a global table's verdict rows, which hold
// the sum over its regions.
const AllRegions = "*"

// Row is one table, region and UTC day.
type Row struct {
	Table      string `json:"table"`
	Region     string `json:"region"`
	Day        string `json:"day"` // yyyy-mm-dd, UTC
	TTLDeleted int64  `json:"ttl_deleted"`
	Archived   int64  `json:"archived"`
	Missing    int64  `json:"missing"`
	Extra      int64  `json:"extra"`
	Status     Status `json:"status"`
	// Note says why a row is unknown or extra, and how many deletions
	// were matched across midnight; empty otherwise.
	Note string `json:"note,omitempty"`
	// Detail is set on the per-region rows of a global table: the verdict
	// is on its AllRegions rows.
	Detail bool `json:"detail,omitempty"`
}

// Totals sum the rows the verdict is on (not the detail rows).
type Totals struct {
	TTLDeleted int64 `json:"ttl_deleted"`
	Archived   int64 `json:"archived"`
	Missing    int64 `json:"missing"`
	Extra      int64 `json:"extra"`
}

// Report is the outcome of a verification.
type Report struct {
	// Complete is true when every verdict row is complete or pending and
	// every object and line was read.
	Complete bool   `json:"complete"`
	Rows     []Row  `json:"rows"`
	Totals   Totals `json:"totals"`
	// Problems are the objects and lines that could not be read or
	// counted. Any problem makes the report incomplete.
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is an object or a line that could not be read or counted.
type Problem struct {
	Object string `json:"object"`
	Line   int    `json:"line,omitempty"` // 0: the object as a whole
	Error  string `json:"error"`
}

// Options say what to verify and with what.
type Options struct {
	// Counter counts the archive (required).
	Counter Counter
	// Tables are the source tables to verify; empty: every table the
	// Counter saw (an AthenaCounter needs them named).
	Tables []string
	// Since and Until are UTC days (midnight), both included.
	Since, Until time.Time
	// Regions are the regions of every table; empty: each table's
	// replicas (DescribeTable in DefaultRegion) plus DefaultRegion. A
	// region that the archive holds lines of is always added.
	Regions       []string
	DefaultRegion string
	// Describe reads a table's replicas in DefaultRegion; needed when
	// Regions is empty.
	Describe TableAPI
	// Metrics returns the CloudWatch client of a region (required).
	Metrics func(region string) MetricsAPI
	// Settle is how long after a day (or hour) ends its metric and its
	// lines are taken as final; 0 means DefaultSettle.
	Settle time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DefaultSettle is Options.Settle's default: Firehose buffers up to 15
// minutes, a stream can lag, and CloudWatch takes minutes to aggregate.
const DefaultSettle = 3 * time.Hour

// Run verifies the archive as opts say. It returns an error when it could
// not verify at all (a metric or a table that cannot be read); objects or
// lines that cannot be read are Report.Problems.
func Run(ctx context.Context, opts Options) (*Report, error) {
	return run(ctx, opts)
}
