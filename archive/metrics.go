package archive

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Counts are one invocation's figures. They go to the log line and, as
// CloudWatch Embedded Metric Format, to the metrics writer.
type Counts struct {
	Received    int                 // records in the batch
	Archived    int                 // TTL records whose line reached Firehose (RawArchived included)
	Skipped     [numSkipReasons]int // records that are not TTL deletions, by reason
	RawArchived int                 // records archived raw, with an error, because they could not be converted
	NoOldImage  int                 // TTL records without an old image, archived with item null
	Oversize    int                 // records too large to archive even gzipped; reported failed
	Retried     int                 // Firehose records sent again after a failure
	Failed      int                 // TTL records not delivered, reported in the batch response
	Calls       int                 // PutRecordBatch calls made, retries included
	Records     int                 // Firehose records built (several lines each when packing)
	Bytes       int                 // bytes of archive lines
	Duration    time.Duration       // time spent in Archive
	// Tables has, for each table the batch's TTL records came from (by
	// their eventSourceARN), the records archived. A batch from an event
	// source mapping holds one table.
	Tables []TableCount
}

// TableCount is one table's share of an invocation's counts.
type TableCount struct {
	Table    string // the table's name, from the stream ARN
	Archived int    // as Counts.Archived
}

// SkippedTotal returns the number of records skipped for any reason.
func (c Counts) SkippedTotal() int {
	n := 0
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// SkippedBy returns the count of records skipped for the reason.
func (c Counts) SkippedBy(r SkipReason) int { return c.Skipped[r] }

// LogAttrs returns the counts as slog attributes, for the one log line
// per invocation.
func (c Counts) LogAttrs() []slog.Attr {
	skipped := make([]any, 0, 2*int(numSkipReasons))
	for r := SkipReason(1); r < numSkipReasons; r++ {
		skipped = append(skipped, slog.Int(r.String(), c.Skipped[r]))
	}
	return []slog.Attr{
		slog.Int("received", c.Received),
		slog.Int("archived", c.Archived),
		slog.Int("skipped", c.SkippedTotal()),
		slog.Group("skipped_by", skipped...),
		slog.Int("raw_archived", c.RawArchived),
		slog.Int("no_old_image", c.NoOldImage),
		slog.Int("oversize", c.Oversize),
		slog.Int("retried", c.Retried),
		slog.Int("failed", c.Failed),
		slog.Int("firehose_calls", c.Calls),
		slog.Int("firehose_records", c.Records),
		slog.Int("bytes", c.Bytes),
		slog.Float64("duration_ms", float64(c.Duration.Microseconds())/1000),
	}
}

// MetricsNamespace is the CloudWatch namespace of the archiver's metrics.
const MetricsNamespace = "TTLArchiver"

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// EMF returns the counts as CloudWatch Embedded Metric Format lines (each
// with its newline): one with every count, dimensioned by function name
// when it is not empty, then one per table with its Archived count,
// dimensioned by function and table name (TableName, as DynamoDB's own
// TimeToLiveDeletedItemCount is, so that an alarm can compare the two).
// Lambda sends whatever the function writes to stdout to CloudWatch Logs,
// which turns such lines into metrics without any API call.
func (c Counts) EMF(now time.Time, functionName string) []byte {
	b := c.emfTotals(now, functionName)
	for _, t := range c.Tables {
		dims := []EMFDimension{{"TableName", t.Table}}
		if functionName != "" {
			dims = []EMFDimension{{"FunctionName", functionName}, {"TableName", t.Table}}
		}
		b = AppendEMF(b, now, dims, EMFValue{"Archived", "Count", t.Archived})
	}
	return b
}

func (c Counts) emfTotals(now time.Time, functionName string) []byte {
	values := []EMFValue{
		{"Received", "Count", c.Received},
		{"Archived", "Count", c.Archived},
		{"Skipped", "Count", c.SkippedTotal()},
		{"RawArchived", "Count", c.RawArchived},
		{"NoOldImage", "Count", c.NoOldImage},
		{"Oversize", "Count", c.Oversize},
		{"Retried", "Count", c.Retried},
		{"Failed", "Count", c.Failed},
		{"FirehoseCalls", "Count", c.Calls},
		{"Duration", "Milliseconds", float64(c.Duration.Microseconds()) / 1000},
	}
	var dims []EMFDimension
	if functionName != "" {
		dims = []EMFDimension{{"FunctionName", functionName}}
	}
	return AppendEMF(nil, now, dims, values...)
}

// EMFDimension is a dimension of an Embedded Metric Format line: its name
// and value.
type EMFDimension struct{ Name, Value string }

// EMFValue is one metric of an Embedded Metric Format line: its name,
// unit ("Count", "Milliseconds") and value (a number).
type EMFValue struct {
	Name, Unit string
	Value      any
}

// AppendEMF appends one CloudWatch Embedded Metric Format line, with its
// newline, to dst: the values in MetricsNamespace under the dimensions
// (none: the namespace alone), timestamped now. The daily check writes
// its metrics with it too.
func AppendEMF(dst []byte, now time.Time, dims []EMFDimension, values ...EMFValue) []byte {
	doc := make(map[string]any, len(dims)+len(values)+1)
	names := make([]string, 0, len(dims))
	for _, d := range dims {
		names = append(names, d.Name)
		doc[d.Name] = d.Value
	}
	dir := emfDirective{Namespace: MetricsNamespace, Dimensions: [][]string{names}}
	for _, v := range values {
		dir.Metrics = append(dir.Metrics, emfMetric{Name: v.Name, Unit: v.Unit})
		doc[v.Name] = v.Value
	}
	doc["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{dir}}
	line, _ := json.Marshal(doc) // strings and numbers always marshal
	return append(append(dst, line...), '\n')
}
