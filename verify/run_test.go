package verify_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/verify"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// fakeMetrics answers GetMetricData from hourly counts, as CloudWatch
// does: one value per hour that has a datapoint, within the time range;
// or fails with err.
type fakeMetrics struct {
	counts verifytest.Hourly
	err    error
}

func (f *fakeMetrics) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		table := aws.ToString(q.MetricStat.Metric.Dimensions[0].Value)
		r := cwtypes.MetricDataResult{Id: q.Id, StatusCode: cwtypes.StatusCodeComplete}
		var hours []time.Time
		for h := range f.counts[table] {
			if !h.Before(*in.StartTime) && h.Before(*in.EndTime) {
				hours = append(hours, h)
			}
		}
		slices.SortFunc(hours, time.Time.Compare)
		for _, h := range hours {
			r.Timestamps = append(r.Timestamps, h)
			r.Values = append(r.Values, float64(f.counts[table][h]))
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

type fakeTables map[string][]string // table: replica regions

func (f fakeTables) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	t := &ddbtypes.TableDescription{TableName: in.TableName}
	for _, r := range f[aws.ToString(in.TableName)] {
		t.Replicas = append(t.Replicas, ddbtypes.ReplicaDescription{RegionName: aws.String(r)})
	}
	return &dynamodb.DescribeTableOutput{Table: t}, nil
}

// at is a time on day0 plus d days, h:m:s.
func at(d, h, m, s int) time.Time {
	return day0.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// dels returns n deletions of Orders in us-east-1 at t, with ids made
// from tag.
func dels(tag string, t time.Time, n int) []verifytest.Deletion {
	out := make([]verifytest.Deletion, n)
	for i := range out {
		id := []byte(strings.Repeat("0", 32))
		copy(id, tag)
		copy(id[24:], fmt.Sprintf("%08d", i))
		out[i] = verifytest.Deletion{Table: "Orders", Region: "us-east-1", EventID: string(id), At: t}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// moved returns the deletions with their times moved by d: the archive's
// view of deletions that the metric counted at their original time.
func moved(ds []verifytest.Deletion, d time.Duration) []verifytest.Deletion {
	out := slices.Clone(ds)
	for i := range out {
		out[i].At = out[i].At.Add(d)
	}
	return out
}

// check runs verify over days 0 to 2 with metric the deletions DynamoDB
// counted and lines those archived (local objects), at now.
func check(t *testing.T, metric, lines []verifytest.Deletion, now time.Time) *verify.Report {
	t.Helper()
	dir := t.TempDir()
	if err := verifytest.WriteDir(dir, verifytest.Objects("archive/", "x", lines, 1000)); err != nil {
		t.Fatal(err)
	}
	return runDir(t, dir, metric, now)
}

func runDir(t *testing.T, dir string, metric []verifytest.Deletion, now time.Time) *verify.Report {
	t.Helper()
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hourly := verifytest.HourlyCounts(metric)
	rep, err := verify.Run(context.Background(), verify.Options{
		Counter: &verify.ArchiveCounter{Sources: []*archivefs.Source{src}},
		Tables:  []string{"Orders"},
		Since:   day0, Until: day0.AddDate(0, 0, 2),
		Regions: []string{"us-east-1"},
		Metrics: func(r string) verify.MetricsAPI { return &fakeMetrics{counts: hourly[r]} },
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// statuses returns "status/missing/extra" of each row, day by day.
func statuses(rep *verify.Report) []string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, string(r.Status)+"/"+itoa(int(r.Missing))+"/"+itoa(int(r.Extra)))
	}
	return out
}

func TestRunVerdicts(t *testing.T) {
	late := at(10, 0, 0, 0)
	base := slices.Concat(dels("a", at(0, 12, 0, 0), 50), dels("b", at(1, 12, 0, 0), 60), dels("c", at(2, 12, 0, 0), 70))
	boundary := dels("d", at(0, 23, 59, 59), 7) // counted by the metric on day 0
	tests := []struct {
		name          string
		metric, lines []verifytest.Deletion
		now           time.Time
		want          []string
	}{
		{"complete", base, base, late, []string{"complete/0/0", "complete/0/0", "complete/0/0"}},
		// Deletions at 23:59:59 whose lines say 00:00:01 the next day.
		{"across midnight", slices.Concat(base, boundary), slices.Concat(base, moved(boundary, 2*time.Second)), late,
			[]string{"complete/0/0", "complete/0/0", "complete/0/0"}},
		// The metric a little later than the lines: 00:00:01 against 23:59:59.
		{"across midnight, other way", slices.Concat(base, moved(boundary, 2*time.Second)), slices.Concat(base, boundary), late,
			[]string{"complete/0/0", "complete/0/0", "complete/0/0"}},
		// A real gap just before midnight is not hidden by a complete next day.
		{"gap before midnight", slices.Concat(base, boundary), base, late,
			[]string{"missing/7/0", "complete/0/0", "complete/0/0"}},
		// A surplus on the next day beyond its first hour matches nothing.
		{"surplus later in the next day", slices.Concat(base, boundary), slices.Concat(base, moved(boundary, 2*time.Hour)), late,
			[]string{"missing/7/0", "extra/0/7", "complete/0/0"}},
		{"gap", base, slices.Concat(base[:50], base[80:]), late, []string{"complete/0/0", "missing/30/0", "complete/0/0"}},
		{"extra", base[:150], base, late, []string{"complete/0/0", "complete/0/0", "extra/0/30"}},
		{"no metric", base[:50], base, late, []string{"complete/0/0", "unknown/0/0", "unknown/0/0"}},
		{"neither metric nor lines", base[:50], base[:50], late, []string{"complete/0/0", "complete/0/0", "complete/0/0"}},
		// Day 2 ended at midnight; three hours later it is settled, not before.
		{"pending", base, base[:110], at(3, 2, 0, 0), []string{"complete/0/0", "complete/0/0", "pending/0/0"}},
		{"settled", base, base[:110], at(3, 3, 0, 0), []string{"complete/0/0", "complete/0/0", "missing/70/0"}},
		// The boundary is matched with a pending day's settled first hour.
		{"across midnight into a pending day", slices.Concat(base[:110], dels("e", at(1, 23, 59, 59), 4)),
			slices.Concat(base[:110], moved(dels("e", at(1, 23, 59, 59), 4), 2*time.Second)), at(2, 4, 0, 0),
			[]string{"complete/0/0", "complete/0/0", "pending/0/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := check(t, tt.metric, tt.lines, tt.now)
			if got := statuses(rep); !slices.Equal(got, tt.want) {
				t.Errorf("Run: rows %v, want %v\n%+v", got, tt.want, rep.Rows)
			}
			wantComplete := !slices.ContainsFunc(tt.want, func(s string) bool { return !strings.HasPrefix(s, "complete") && !strings.HasPrefix(s, "pending") })
			if rep.Complete != wantComplete {
				t.Errorf("Run: Complete %v, want %v", rep.Complete, wantComplete)
			}
		})
	}
}

// A global table is judged on the sum over its regions: a deletion the
// metric counted in one region and the archive in another is no gap. Its
// regions are the replicas DescribeTable names, the default region and
// any region the archive has lines of.
func TestRunGlobalTable(t *testing.T) {
	dir := t.TempDir()
	east := dels("a", at(0, 3, 0, 0), 10)
	west := moved(east[:4], 0)
	for i := range west {
		west[i].Region = "eu-west-1"
	}
	south := dels("s", at(1, 3, 0, 0), 2)
	for i := range south {
		south[i].Region = "ap-south-1"
	}
	// us-east-1 ran 10 deletions; 4 of its lines were archived in eu-west-1.
	archived := slices.Concat(east[4:], west, south)
	if err := verifytest.WriteDir(dir, verifytest.Objects("archive/", "x", archived, 1000)); err != nil {
		t.Fatal(err)
	}
	src, _ := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	metric := slices.Concat(east, south)
	hourly := verifytest.HourlyCounts(metric)
	rep, err := verify.Run(context.Background(), verify.Options{
		Counter: &verify.ArchiveCounter{Sources: []*archivefs.Source{src}},
		Since:   day0, Until: day0.AddDate(0, 0, 1),
		DefaultRegion: "us-east-1",
		Describe:      fakeTables{"Orders": {"us-east-1", "eu-west-1"}},
		Metrics:       func(r string) verify.MetricsAPI { return &fakeMetrics{counts: hourly[r]} },
		Now:           func() time.Time { return at(10, 0, 0, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Rows {
		got = append(got, r.Region+" "+r.Day[8:]+" "+string(r.Status))
	}
	want := []string{
		"ap-south-1 20 complete", "eu-west-1 20 unknown", "us-east-1 20 missing", "* 20 complete",
		"ap-south-1 21 complete", "eu-west-1 21 complete", "us-east-1 21 complete", "* 21 complete",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Run on a global table: rows %q, want %q", got, want)
	}
	if !rep.Complete || rep.Totals != (verify.Totals{TTLDeleted: 12, Archived: 12}) {
		t.Errorf("Run on a global table: complete %v, totals %+v; want complete, 12 deleted and archived (detail rows not counted)", rep.Complete, rep.Totals)
	}
}
