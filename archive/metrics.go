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
		dims := []string{"TableName"}
		doc := map[string]any{"TableName": t.Table, "Archived": t.Archived}
		if functionName != "" {
			dims = []string{"FunctionName", "TableName"}
			doc["FunctionName"] = functionName
		}
		doc["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{{
			Namespace:  MetricsNamespace,
			Dimensions: [][]string{dims},
			Metrics:    []emfMetric{{Name: "Archived", Unit: "Count"}},
		}}}
		line, _ := json.Marshal(doc) // strings and numbers always marshal
		b = append(append(b, line...), '\n')
	}
	return b
}

func (c Counts) emfTotals(now time.Time, functionName string) []byte {
	values := []struct {
		name  string
		value int
	}{
		{"Received", c.Received},
		{"Archived", c.Archived},
		{"Skipped", c.SkippedTotal()},
		{"RawArchived", c.RawArchived},
		{"NoOldImage", c.NoOldImage},
		{"Oversize", c.Oversize},
		{"Retried", c.Retried},
		{"Failed", c.Failed},
		{"FirehoseCalls", c.Calls},
	}
	doc := make(map[string]any, len(values)+2)
	d := emfDirective{Namespace: MetricsNamespace, Dimensions: [][]string{{}}}
	if functionName != "" {
		d.Dimensions = [][]string{{"FunctionName"}}
		doc["FunctionName"] = functionName
	}
	for _, v := range values {
		d.Metrics = append(d.Metrics, emfMetric{Name: v.name, Unit: "Count"})
		doc[v.name] = v.value
	}
	d.Metrics = append(d.Metrics, emfMetric{Name: "Duration", Unit: "Milliseconds"})
	doc["Duration"] = float64(c.Duration.Microseconds()) / 1000
	doc["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{d}}
	b, _ := json.Marshal(doc) // maps of strings and numbers always marshal
	return append(b, '\n')
}
