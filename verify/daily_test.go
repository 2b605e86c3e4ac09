package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/verify"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// dailyNow is when the daily checks of these tests run: 06:00 UTC, as the
// stack's schedule does, so that yesterday is settled.
var dailyNow = time.Date(2025, 11, 25, 6, 0, 0, 0, time.UTC)

// dailyS3 is an S3 bucket in memory: ListObjectsV2 by prefix, in key
// order, and GetObject. It records the prefixes listed.
type dailyS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	listed  []string
	gets    int
}

func newDailyS3(objs []verifytest.Object) *dailyS3 {
	s := &dailyS3{objects: map[string][]byte{}}
	for _, o := range objs {
		s.objects[o.Key] = o.Data
	}
	return s
}

func (s *dailyS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listed = append(s.listed, aws.ToString(in.Prefix))
	out := &s3.ListObjectsV2Output{}
	for k, v := range s.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(v)))})
		}
	}
	slices.SortFunc(out.Contents, func(a, b s3types.Object) int { return strings.Compare(*a.Key, *b.Key) })
	return out, nil
}

func (s *dailyS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	data, ok := s.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data)))}, nil
}

// dailyAthena answers the AthenaCounter's query from the lines it holds:
// the distinct event_ids per table, region, day and hour, as Athena would
// count them through the Glue table.
type dailyAthena struct {
	lines   []verifytest.Deletion
	queries []string
}

func (a *dailyAthena) StartQueryExecution(_ context.Context, in *athena.StartQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	a.queries = append(a.queries, aws.ToString(in.WorkGroup)+": "+aws.ToString(in.QueryString))
	return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String("q1")}, nil
}

func (a *dailyAthena) GetQueryExecution(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	return &athena.GetQueryExecutionOutput{QueryExecution: &athenatypes.QueryExecution{
		Status: &athenatypes.QueryExecutionStatus{State: athenatypes.QueryExecutionStateSucceeded},
	}}, nil
}

func (a *dailyAthena) GetQueryResults(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
	type group struct {
		table, region, dt string
		hour              int
	}
	ids := map[group]map[string]bool{}
	for _, d := range a.lines {
		g := group{d.Table, d.Region, d.At.Format(time.DateOnly), d.At.Hour()}
		if ids[g] == nil {
			ids[g] = map[string]bool{}
		}
		ids[g][d.EventID] = true
	}
	row := func(cols ...string) athenatypes.Row {
		var r athenatypes.Row
		for _, c := range cols {
			r.Data = append(r.Data, athenatypes.Datum{VarCharValue: aws.String(c)})
		}
		return r
	}
	rs := &athenatypes.ResultSet{Rows: []athenatypes.Row{row("table_name", "region", "dt", "hour", "archived", "unreadable")}}
	for g, set := range ids {
		rs.Rows = append(rs.Rows, row(g.table, g.region, g.dt, fmt.Sprint(g.hour), fmt.Sprint(len(set)), "0"))
	}
	return &athena.GetQueryResultsOutput{ResultSet: rs}, nil
}

// dailyFixture is an archive of two tables over the days the check reads:
// Orders with a gap of gap items on 2025-11-23, Carts complete, and
// deletions today that are not archived yet (pending, never missing).
type dailyFixture struct {
	metric, lines []verifytest.Deletion
	objects       []verifytest.Object
}

func newDailyFixture(gap int) dailyFixture {
	since := dailyNow.AddDate(0, 0, -4).Truncate(24 * time.Hour) // 2025-11-21, the day before the range
	orders := verifytest.Deletions(7, "Orders", []string{"eu-west-1"}, since, 4, 4000)
	carts := verifytest.Deletions(8, "Carts", []string{"eu-west-1"}, since, 4, 1500)
	var today []verifytest.Deletion
	for i := range 30 { // TTL deleted this morning, still in the stream
		d := orders[i]
		d.EventID = fmt.Sprintf("%032x", 1_000_000+i)
		d.At = dailyNow.Add(-time.Duration(i+1) * time.Minute)
		today = append(today, d)
	}
	f := dailyFixture{metric: slices.Concat(orders, carts, today)}
	for _, d := range slices.Concat(orders, carts) {
		if d.Table == "Orders" && d.At.Format(time.DateOnly) == "2025-11-23" && d.At.Hour() >= 2 && d.At.Hour() < 22 && gap > 0 {
			gap--
			continue
		}
		f.lines = append(f.lines, d)
	}
	slices.SortFunc(f.lines, func(a, b verifytest.Deletion) int {
		return strings.Compare(a.Table+a.At.Format(time.RFC3339Nano), b.Table+b.At.Format(time.RFC3339Nano))
	})
	f.objects = verifytest.Objects("archive/", "eu-west-1", f.lines, 500)
	return f
}

func (f dailyFixture) size() int64 {
	var n int64
	for _, o := range f.objects {
		n += int64(len(o.Data))
	}
	return n
}

func (f dailyFixture) options(s3c *dailyS3, ath *dailyAthena, out io.Writer) verify.DailyOptions {
	hourly := verifytest.HourlyCounts(f.metric)
	return verify.DailyOptions{
		Tables: []string{"Orders", "Carts", "Quiet"},
		Bucket: "archive-bucket", Prefix: "archive/",
		Region:  "eu-west-1",
		Metrics: func(r string) verify.MetricsAPI { return &fakeMetrics{counts: hourly[r]} },
		S3:      s3c,
		Athena:  ath, WorkGroup: "ttl-archiver", Database: "ttl_archive", Table: "expired_items",
		Out: out,
		Now: func() time.Time { return dailyNow },
	}
}

// dailyLine is one EMF line as CloudWatch reads it.
type dailyLine struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	TableName                                    string
	MissingItems, UnknownDays, UnreadableObjects *int64
}

func parseDailyEMF(t *testing.T, b []byte) []dailyLine {
	t.Helper()
	var out []dailyLine
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			t.Errorf("EMF line %q does not end in a newline", l)
		}
		var d dailyLine
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("EMF line %q: %v", l, err)
		}
		out = append(out, d)
	}
	return out
}

func TestDailyReaderChoice(t *testing.T) {
	f := newDailyFixture(0)
	size := f.size()
	tests := []struct {
		name, reader string
		limit        int64
		want         string
		measured     bool
	}{
		{"auto at the limit streams", verify.ReaderAuto, size, verify.ReaderS3, true},
		{"auto one byte over the limit asks Athena", verify.ReaderAuto, size - 1, verify.ReaderAthena, true},
		{"auto by default streams a small archive", "", 0, verify.ReaderS3, true},
		{"s3 streams whatever the size", verify.ReaderS3, 1, verify.ReaderS3, false},
		{"athena queries whatever the size", verify.ReaderAthena, 1 << 40, verify.ReaderAthena, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s3c, ath := newDailyS3(f.objects), &dailyAthena{lines: f.lines}
			opts := f.options(s3c, ath, io.Discard)
			opts.Reader, opts.StreamLimitBytes = tt.reader, tt.limit
			res, err := verify.Daily(context.Background(), opts)
			if err != nil {
				t.Fatalf("Daily: %v", err)
			}
			if res.Reader != tt.want {
				t.Errorf("Daily read with %s, want %s", res.Reader, tt.want)
			}
			if wantBytes := map[bool]int64{true: size, false: -1}[tt.measured]; res.ArchiveBytes != wantBytes {
				t.Errorf("Daily measured %d bytes, want %d", res.ArchiveBytes, wantBytes)
			}
			if queried := len(ath.queries) > 0; queried != (tt.want == verify.ReaderAthena) {
				t.Errorf("Daily ran %d Athena queries with reader %s", len(ath.queries), tt.want)
			}
			if read := s3c.gets > 0; read != (tt.want == verify.ReaderS3) {
				t.Errorf("Daily read %d objects with reader %s", s3c.gets, tt.want)
			}
			for _, q := range ath.queries {
				if !strings.HasPrefix(q, "ttl-archiver: ") || !strings.Contains(q, `"ttl_archive"."expired_items"`) {
					t.Errorf("Athena query %q, want it in the stack's workgroup on its Glue table", q)
				}
			}
			// Either reader gives the same verdict.
			if got := res.Tables; !slices.Equal(got, []verify.DailyTable{{Table: "Orders"}, {Table: "Carts"}, {Table: "Quiet"}}) {
				t.Errorf("Daily tables %+v, want nothing missing", got)
			}
		})
	}
}

func TestDailyDays(t *testing.T) {
	f := newDailyFixture(0)
	for _, tt := range []struct {
		days        int
		since, last string
	}{
		{0, "2025-11-22", "2025-11-24"}, // the default, 3
		{1, "2025-11-24", "2025-11-24"},
		{14, "2025-11-11", "2025-11-24"},
	} {
		t.Run(fmt.Sprint(tt.days), func(t *testing.T) {
			s3c := newDailyS3(f.objects)
			opts := f.options(s3c, &dailyAthena{}, io.Discard)
			opts.Days, opts.Reader = tt.days, verify.ReaderS3
			res, err := verify.Daily(context.Background(), opts)
			if err != nil {
				t.Fatalf("Daily: %v", err)
			}
			if got := res.Since.Format(time.DateOnly) + ".." + res.Until.Format(time.DateOnly); got != tt.since+".."+tt.last {
				t.Errorf("Daily checked %s, want %s..%s", got, tt.since, tt.last)
			}
			days := map[string]bool{}
			for _, r := range res.Report.Rows {
				days[r.Day] = true
				if r.Status == verify.Pending {
					t.Errorf("row %+v is pending: the days checked end yesterday, settled at 06:00", r)
				}
			}
			n := tt.days
			if n == 0 {
				n = verify.DefaultDailyDays
			}
			if len(days) != n {
				t.Errorf("Daily reported the days %v, want %d", days, n)
			}
			// Only the partitions of the range and a day each side are
			// listed: 3 tables x (days + 2).
			if want := 3 * (n + 2); len(s3c.listed) != want {
				t.Errorf("Daily listed %d prefixes, want %d", len(s3c.listed), want)
			}
			for _, p := range s3c.listed {
				if !strings.HasPrefix(p, "archive/table=") || !strings.Contains(p, "/dt=") || !strings.HasSuffix(p, "/") {
					t.Errorf("Daily listed %q, want a table=/dt= partition under the prefix", p)
				}
			}
		})
	}
}

func TestDailyMetricLines(t *testing.T) {
	const gap = 17
	f := newDailyFixture(gap)
	for _, reader := range []string{verify.ReaderS3, verify.ReaderAthena} {
		t.Run(reader, func(t *testing.T) {
			var out bytes.Buffer
			opts := f.options(newDailyS3(f.objects), &dailyAthena{lines: f.lines}, &out)
			opts.Reader = reader
			res, err := verify.Daily(context.Background(), opts)
			if err != nil {
				t.Fatalf("Daily: %v", err)
			}
			want := []verify.DailyTable{{Table: "Orders", Missing: gap}, {Table: "Carts"}, {Table: "Quiet"}}
			if !slices.Equal(res.Tables, want) {
				t.Errorf("Daily tables %+v, want %+v (today's unarchived deletions are pending, not missing)", res.Tables, want)
			}
			lines := parseDailyEMF(t, out.Bytes())
			if len(lines) != 4 {
				t.Fatalf("Daily wrote %d EMF lines, want one per table and one of UnreadableObjects:\n%s", len(lines), out.String())
			}
			for i, l := range lines {
				if l.AWS.Timestamp != dailyNow.UnixMilli() || len(l.AWS.CloudWatchMetrics) != 1 || l.AWS.CloudWatchMetrics[0].Namespace != archive.MetricsNamespace {
					t.Errorf("line %d metadata %+v, want namespace %s at %d", i, l.AWS, archive.MetricsNamespace, dailyNow.UnixMilli())
					continue
				}
				d := l.AWS.CloudWatchMetrics[0]
				if i == 3 {
					if l.UnreadableObjects == nil || *l.UnreadableObjects != 0 || !slices.EqualFunc(d.Dimensions, [][]string{{}}, slices.Equal) {
						t.Errorf("last line %+v, want UnreadableObjects 0 with no dimension", l)
					}
					continue
				}
				if l.TableName != want[i].Table || l.MissingItems == nil || *l.MissingItems != want[i].Missing || l.UnknownDays == nil || *l.UnknownDays != 0 {
					t.Errorf("line %d: table %s MissingItems %v UnknownDays %v, want %s %d 0", i, l.TableName, l.MissingItems, l.UnknownDays, want[i].Table, want[i].Missing)
				}
				if !slices.EqualFunc(d.Dimensions, [][]string{{"TableName"}}, slices.Equal) {
					t.Errorf("line %d dimensions %v, want [[TableName]] (the alarm's dimension)", i, d.Dimensions)
				}
				var names []string
				for _, m := range d.Metrics {
					names = append(names, m.Name+"/"+m.Unit)
				}
				if !slices.Equal(names, []string{"MissingItems/Count", "UnknownDays/Count"}) {
					t.Errorf("line %d metrics %v", i, names)
				}
			}
		})
	}
}

func TestDailyErrorOnProblems(t *testing.T) {
	f := newDailyFixture(0)
	// An object cut short (gzip truncated) and an object with a line that
	// is not an archive line.
	broken := slices.Clone(f.objects)
	broken[2].Data = broken[2].Data[:len(broken[2].Data)/2]
	broken = append(broken, verifytest.Object{Key: "archive/table=Carts/dt=2025-11-23/odd.gz", Data: gzipped(t, "{\"table\":\"Carts\"}\n")})
	var out bytes.Buffer
	opts := f.options(newDailyS3(broken), &dailyAthena{}, &out)
	opts.Reader = verify.ReaderS3
	res, err := verify.Daily(context.Background(), opts)
	if !errors.Is(err, verify.ErrUnreadable) {
		t.Fatalf("Daily with unreadable objects: error %v, want ErrUnreadable", err)
	}
	if res == nil || res.UnreadableObjects != 2 {
		t.Fatalf("Daily result %+v, want 2 unreadable objects", res)
	}
	lines := parseDailyEMF(t, out.Bytes())
	if len(lines) != 4 || lines[3].UnreadableObjects == nil || *lines[3].UnreadableObjects != 2 || lines[0].MissingItems == nil {
		t.Errorf("Daily wrote %s, want the metrics before the error, UnreadableObjects 2", out.String())
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDailyFailsWithoutMetrics(t *testing.T) {
	f := newDailyFixture(0)
	good := f.options(newDailyS3(f.objects), &dailyAthena{}, nil)
	tests := []struct {
		name   string
		change func(*verify.DailyOptions)
		bad    bool // ErrBadOptions
	}{
		{"no tables", func(o *verify.DailyOptions) { o.Tables = nil }, true},
		{"empty table name", func(o *verify.DailyOptions) { o.Tables = []string{"Orders", ""} }, true},
		{"unknown reader", func(o *verify.DailyOptions) { o.Reader = "glue" }, true},
		{"negative days", func(o *verify.DailyOptions) { o.Days = -1 }, true},
		{"auto without Athena", func(o *verify.DailyOptions) { o.WorkGroup = "" }, true},
		{"s3 without a bucket", func(o *verify.DailyOptions) { o.Reader, o.Bucket = verify.ReaderS3, "" }, true},
		{"no region", func(o *verify.DailyOptions) { o.Region = "" }, true},
		{"the metric cannot be read", func(o *verify.DailyOptions) {
			o.Metrics = func(string) verify.MetricsAPI { return &fakeMetrics{err: errors.New("AccessDenied")} }
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			opts := good
			opts.Out = &out
			tt.change(&opts)
			_, err := verify.Daily(context.Background(), opts)
			if err == nil || errors.Is(err, verify.ErrBadOptions) != tt.bad {
				t.Errorf("Daily = %v, want an error (ErrBadOptions %v)", err, tt.bad)
			}
			if out.Len() > 0 {
				t.Errorf("Daily wrote %q for a check that did not run; want no datapoint", out.String())
			}
		})
	}
}
