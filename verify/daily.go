package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// The readers of DailyOptions.Reader.
const (
	// ReaderAuto streams the archive from S3 when the objects of the
	// checked days total at most DailyOptions.StreamLimitBytes, and counts
	// through Athena otherwise.
	ReaderAuto = "auto"
	// ReaderS3 always streams the objects (ArchiveCounter).
	ReaderS3 = "s3"
	// ReaderAthena always counts through the Glue table (AthenaCounter).
	ReaderAthena = "athena"
)

// DefaultDailyDays is DailyOptions.Days' default: yesterday and the two
// days before it. A day whose lines or metric arrive late (a stream
// catching up, a batch redriven from the failed-batches bucket) is judged
// again on the next two runs; today is pending anyway.
const DefaultDailyDays = 3

// DefaultStreamLimitBytes is DailyOptions.StreamLimitBytes' default:
// 1 GiB of gzipped objects, for the check's function at 1,769 MB (one
// vCPU) and 900 s.
//
// Time: at the ~8x that JSON lines gzip to, 1 GiB is 8.6 GB of lines; at
// 100 MB/s of lines on one vCPU (the counter measures 200 to 230 MB/s on
// one x86 core from local files; Lambda's arm64 core reading from S3 is
// taken at half) that is 86 s, a tenth of the timeout.
//
// Memory: the counter keeps every distinct event_id of the days it reads
// (51 bytes of heap each, measured). 8.6 GB of the smallest lines the
// cost tables use (341 bytes, items of ~200 B) is 25 million ids, 1.3 GB,
// under the function's GOMEMLIMIT of 1,536 MiB; lines of items of 4 KB
// need a tenth of it. Beyond the limit, Athena's $5 per TB costs half a
// cent per GiB scanned.
const DefaultStreamLimitBytes int64 = 1 << 30

// DefaultDailyWorkers is how many objects the daily check reads at once:
// with one vCPU, one object is gunzipped while the next is fetched.
const DefaultDailyWorkers = 2

// The daily check's metrics, in archive.MetricsNamespace with the
// dimension TableName (as TimeToLiveDeletedItemCount has it).
const (
	// MetricMissingItems is, per table, the items TTL deleted and not
	// archived on the settled days checked (0 when none, so that an alarm
	// can take no datapoint as the check not having run).
	MetricMissingItems = "MissingItems"
	// MetricUnknownDays is, per table, the days checked with archived
	// lines but no TimeToLiveDeletedItemCount data.
	MetricUnknownDays = "UnknownDays"
	// MetricUnreadableObjects is the objects (or Athena partitions) with
	// lines that could not be read or counted; no TableName dimension.
	MetricUnreadableObjects = "UnreadableObjects"
)

// ErrUnreadable is wrapped by Daily's error when objects or lines could
// not be read: the counts are a lower bound, and the check must fail
// (the function's Errors alarm) as well as report.
var ErrUnreadable = errors.New("archive objects or lines could not be read")

// DailyOptions say what the stack's daily check checks and with what.
type DailyOptions struct {
	// Tables are the names of the tables the stack archives (required).
	Tables []string
	// Bucket and Prefix are where the archive is: the stack's
	// ArchiveBucket and ArchivePrefix (Firehose's partitions
	// Prefix+"table=NAME/dt=DAY/" under it).
	Bucket, Prefix string
	// Region is the stack's region (required): its tables' metric is read
	// there, and the archive holds the TTL deletions that region ran. A
	// global table's other regions are checked by their own stacks.
	Region string
	// Metrics returns the CloudWatch client of a region (required); only
	// Region's is asked for unless the archive holds lines of another.
	Metrics func(region string) MetricsAPI
	// S3 reads the archive's objects (required for ReaderS3 and
	// ReaderAuto).
	S3 archivefs.S3API
	// Athena, WorkGroup, Database and Table count through the stack's
	// Glue table (required for ReaderAthena and ReaderAuto).
	Athena                     AthenaAPI
	WorkGroup, Database, Table string
	// Reader is ReaderAuto (when empty), ReaderS3 or ReaderAthena.
	Reader string
	// StreamLimitBytes is the most gzipped bytes ReaderAuto streams; 0
	// means DefaultStreamLimitBytes.
	StreamLimitBytes int64
	// Days is how many days back from yesterday to check; 0 means
	// DefaultDailyDays.
	Days int
	// Workers is how many objects are read at once; 0 means
	// DefaultDailyWorkers.
	Workers int
	// Out receives the metrics as CloudWatch Embedded Metric Format lines
	// (required; the function's stdout).
	Out io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DailyResult is what a daily check found.
type DailyResult struct {
	// Since and Until are the days checked (UTC midnights, both included).
	Since, Until time.Time
	// Reader is the reader used, ReaderS3 or ReaderAthena.
	Reader string
	// ArchiveBytes is the size of the objects ReaderAuto measured; -1 when
	// it was not measured.
	ArchiveBytes int64
	// Tables has one entry per table of DailyOptions.Tables, in order.
	Tables []DailyTable
	// UnreadableObjects is how many objects had problems.
	UnreadableObjects int
	// Report is verify's report on the days.
	Report *Report
}

// DailyTable is one table's outcome.
type DailyTable struct {
	Table string `json:"table"`
	// Missing is the sum of Missing over the table's settled verdict
	// rows: what the check found TTL deleted and not archived.
	Missing int64 `json:"missing"`
	// UnknownDays is how many of its rows are Unknown.
	UnknownDays int `json:"unknown_days"`
}

// Daily runs the stack's daily check: verify.Run over the days from
// today-Days to yesterday for every table, in the stack's region, with the
// reader opts say. It writes MissingItems and UnknownDays for every table
// (0 included) and UnreadableObjects to opts.Out, then returns an error
// wrapping ErrUnreadable if any object or line could not be read. When the
// check cannot run at all (bad options, an S3 listing, the metric or
// Athena failing) it returns the error and writes no metric: the alarm on
// MissingItems takes the missing datapoint as the check not having run.
// Missing items are a result, not an error.
func Daily(ctx context.Context, opts DailyOptions) (*DailyResult, error) {
	if err := checkDaily(&opts); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	t := now().UTC()
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	res := &DailyResult{Since: today.AddDate(0, 0, -opts.Days), Until: today.AddDate(0, 0, -1), ArchiveBytes: -1}

	counter, err := dailyCounter(ctx, opts, res)
	if err != nil {
		return nil, err
	}
	rep, err := Run(ctx, Options{
		Counter:       counter,
		Tables:        opts.Tables,
		Since:         res.Since,
		Until:         res.Until,
		Regions:       []string{opts.Region},
		DefaultRegion: opts.Region,
		Metrics:       opts.Metrics,
		Now:           now,
	})
	if err != nil {
		return nil, fmt.Errorf("daily check of %s to %s: %w", res.Since.Format(time.DateOnly), res.Until.Format(time.DateOnly), err)
	}
	res.Report = rep
	for _, name := range opts.Tables {
		dt := DailyTable{Table: name}
		for _, r := range rep.Rows {
			if r.Table != name || r.Detail || r.Status == Pending {
				continue
			}
			dt.Missing += r.Missing
			if r.Status == Unknown {
				dt.UnknownDays++
			}
		}
		res.Tables = append(res.Tables, dt)
	}
	var objects []string
	for _, p := range rep.Problems {
		objects = append(objects, p.Object)
	}
	slices.Sort(objects)
	res.UnreadableObjects = len(slices.Compact(objects))

	if _, err := opts.Out.Write(res.EMF(now())); err != nil {
		return res, fmt.Errorf("write the daily check's metrics: %w", err)
	}
	if len(rep.Problems) > 0 {
		p := rep.Problems[0]
		return res, fmt.Errorf("%w: %d objects, the first %s (line %d): %s", ErrUnreadable, res.UnreadableObjects, p.Object, p.Line, p.Error)
	}
	return res, nil
}

// checkDaily checks opts and fills in the defaults.
func checkDaily(opts *DailyOptions) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: daily check: %s", ErrBadOptions, fmt.Sprintf(format, a...))
	}
	switch {
	case len(opts.Tables) == 0 || slices.Contains(opts.Tables, ""):
		return bad("no tables, or an empty table name")
	case opts.Region == "" || opts.Metrics == nil || opts.Out == nil:
		return bad("Region, Metrics and Out are required")
	case opts.Days < 0:
		return bad("days %d: want 1 or more", opts.Days)
	case opts.StreamLimitBytes < 0:
		return bad("stream limit %d bytes: want 0 (the default) or more", opts.StreamLimitBytes)
	}
	if opts.Reader == "" {
		opts.Reader = ReaderAuto
	}
	streams := opts.Reader == ReaderS3 || opts.Reader == ReaderAuto
	queries := opts.Reader == ReaderAthena || opts.Reader == ReaderAuto
	switch {
	case !streams && !queries:
		return bad("reader %q: want %q, %q or %q", opts.Reader, ReaderAuto, ReaderS3, ReaderAthena)
	case streams && (opts.S3 == nil || opts.Bucket == ""):
		return bad("reader %s needs S3 and Bucket", opts.Reader)
	case queries && (opts.Athena == nil || opts.WorkGroup == "" || opts.Database == "" || opts.Table == ""):
		return bad("reader %s needs Athena, WorkGroup, Database and Table", opts.Reader)
	}
	if opts.Days == 0 {
		opts.Days = DefaultDailyDays
	}
	if opts.StreamLimitBytes == 0 {
		opts.StreamLimitBytes = DefaultStreamLimitBytes
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultDailyWorkers
	}
	return nil
}

// dailyCounter returns the Counter for the reader opts say, and sets
// res.Reader and, for ReaderAuto, res.ArchiveBytes.
func dailyCounter(ctx context.Context, opts DailyOptions, res *DailyResult) (Counter, error) {
	athena := &AthenaCounter{Client: opts.Athena, WorkGroup: opts.WorkGroup, Database: opts.Database, Table: opts.Table}
	if opts.Reader == ReaderAthena {
		res.Reader = ReaderAthena
		return athena, nil
	}
	// Run reads a day on each side of the range, to match deletions
	// across its midnights: the sources are those days' partitions, so
	// that nothing else is listed (nor the "unknown" partition of lines
	// without a table or a deletion time, which the RawArchived alarm
	// reports).
	q := Query{Tables: opts.Tables, Since: res.Since.AddDate(0, 0, -1), Until: res.Until.AddDate(0, 0, 1)}
	var sources []*archivefs.Source
	for _, table := range opts.Tables {
		for d := q.Since; !d.After(q.Until); d = d.AddDate(0, 0, 1) {
			loc := archivefs.Location{Bucket: opts.Bucket, Prefix: opts.Prefix + "table=" + table + "/dt=" + d.Format(time.DateOnly) + "/"}
			src, err := archivefs.NewSource(loc, opts.S3)
			if err != nil {
				return nil, fmt.Errorf("daily check: %w", err)
			}
			sources = append(sources, src)
		}
	}
	stream := &ArchiveCounter{Sources: sources, Workers: opts.Workers}
	res.Reader = ReaderS3
	if opts.Reader == ReaderS3 {
		return stream, nil
	}
	size, err := stream.Size(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("daily check: size of the archive's objects: %w", err)
	}
	res.ArchiveBytes = size
	if size > opts.StreamLimitBytes {
		res.Reader = ReaderAthena
		return athena, nil
	}
	return stream, nil
}

// EMF returns the result's metrics as CloudWatch Embedded Metric Format
// lines, each with its newline, timestamped now: one per table with
// MissingItems and UnknownDays (dimension TableName), then one with
// UnreadableObjects. The archiver writes its own metrics the same way
// (archive.Counts.EMF), in the same namespace.
func (r *DailyResult) EMF(now time.Time) []byte {
	var b []byte
	for _, t := range r.Tables {
		b = archive.AppendEMF(b, now, []archive.EMFDimension{{Name: "TableName", Value: t.Table}},
			archive.EMFValue{Name: MetricMissingItems, Unit: "Count", Value: t.Missing},
			archive.EMFValue{Name: MetricUnknownDays, Unit: "Count", Value: t.UnknownDays})
	}
	return archive.AppendEMF(b, now, nil, archive.EMFValue{Name: MetricUnreadableObjects, Unit: "Count", Value: r.UnreadableObjects})
}
