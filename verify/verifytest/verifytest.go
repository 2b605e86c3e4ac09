// Package verifytest makes archives and TTL metrics for the tests and
// benchmarks of verify (and of what verify judges): deletions spread over
// days and regions, their archive lines in Firehose's partition layout,
// and the hourly TimeToLiveDeletedItemCount that DynamoDB would publish
// for them.
package verifytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Deletion is one TTL deletion: which table and region ran it, and when.
type Deletion struct {
	Table, Region string
	EventID       string
	At            time.Time
}

// Deletions returns n deletions of table from since over days days,
// spread at random (seeded) over the regions and the seconds.
func Deletions(seed uint64, table string, regions []string, since time.Time, days, n int) []Deletion {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Deletion, n)
	span := int64(days) * 86400
	for i := range out {
		var id [16]byte
		for j := range id {
			id[j] = byte(r.UintN(256))
		}
		out[i] = Deletion{
			Table:   table,
			Region:  regions[r.IntN(len(regions))],
			EventID: hex.EncodeToString(id[:]),
			At:      since.Add(time.Duration(r.Int64N(span)) * time.Second).UTC(),
		}
	}
	slices.SortFunc(out, func(a, b Deletion) int { return a.At.Compare(b.At) })
	return out
}

// Line returns the deletion's archive line, as the archiver writes it (an
// item of a few attributes), with its "\n". Table, region and event id
// must be plain ASCII with nothing JSON escapes (as tests make them).
func Line(d Deletion) []byte {
	return AppendLine(nil, d)
}

// AppendLine appends the deletion's line to b.
func AppendLine(b []byte, d Deletion) []byte {
	at := d.At.UTC()
	sec := at.Unix()
	b = append(b, `{"table":"`...)
	b = append(b, d.Table...)
	b = append(b, `","region":"`...)
	b = append(b, d.Region...)
	b = append(b, `","event_id":"`...)
	b = append(b, d.EventID...)
	b = append(b, `","sequence_number":"44215845`...)
	b = fmt.Appendf(b, "%020d", at.UnixNano())
	b = append(b, `","deleted_at":"`...)
	b = at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","keys":{"pk":"customer#`...)
	b = append(b, d.EventID[:8]...)
	b = append(b, `","sk":"order#`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `"},"item":{"expires_at":`...)
	b = strconv.AppendInt(b, sec-3600, 10)
	b = append(b, `,"pk":"customer#`...)
	b = append(b, d.EventID[:8]...)
	b = append(b, `","sk":"order#`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `","status":"shipped","total":123.45,"lines":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"delivered to the front desk, signed by the recipient"}}`...)
	return append(b, '\n')
}

// Object is one archive object: its key under the archive prefix and its
// gzipped content.
type Object struct {
	Key  string
	Data []byte
	// Lines is how many lines it holds.
	Lines int
}

// Objects groups the deletions' lines as Firehose would: by table and
// deleted_at day, at most perObject lines an object, gzipped, with keys
// prefix+"table=T/dt=DAY/NAME.gz". name tells objects apart (a region).
func Objects(prefix, name string, ds []Deletion, perObject int) []Object {
	var out []Object
	var raw [][]byte
	var buf []byte
	var table, day string
	n := 0
	flush := func() {
		if n > 0 {
			out = append(out, Object{Key: fmt.Sprintf("%stable=%s/dt=%s/%s-%05d.gz", prefix, table, day, name, len(out)), Lines: n})
			raw = append(raw, buf)
			buf = nil
		}
	}
	for _, d := range ds {
		dd := d.At.UTC().Format(time.DateOnly)
		if d.Table != table || dd != day || n == perObject {
			flush()
			table, day, n = d.Table, dd, 0
		}
		buf = AppendLine(buf, d)
		n++
	}
	flush()
	// Gzip the objects on every core.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range out {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, _ = zw.Write(raw[i])
			_ = zw.Close()
			out[i].Data = z.Bytes()
		})
	}
	wg.Wait()
	return out
}

// WriteDir writes the objects as files under dir.
func WriteDir(dir string, objs []Object) error {
	for _, o := range objs {
		p := filepath.Join(dir, filepath.FromSlash(o.Key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, o.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// PutObjects writes the objects to an S3 bucket.
func PutObjects(ctx context.Context, c *s3.Client, bucket string, objs []Object) error {
	for _, o := range objs {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key), Body: bytes.NewReader(o.Data)}); err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", bucket, o.Key, err)
		}
	}
	return nil
}

// Hourly is the TTL deletions per table and hour of one region: what
// TimeToLiveDeletedItemCount would hold.
type Hourly map[string]map[time.Time]int

// HourlyCounts counts the deletions per region, table and hour.
func HourlyCounts(ds []Deletion) map[string]Hourly {
	out := map[string]Hourly{}
	for _, d := range ds {
		if out[d.Region] == nil {
			out[d.Region] = Hourly{}
		}
		h := out[d.Region]
		if h[d.Table] == nil {
			h[d.Table] = map[time.Time]int{}
		}
		h[d.Table][d.At.Truncate(time.Hour)]++
	}
	return out
}

// PutMetrics publishes the counts as DynamoDB would: one datapoint per
// hour with deletions, TimeToLiveDeletedItemCount in AWS/DynamoDB with the
// dimension TableName.
func PutMetrics(ctx context.Context, c *cloudwatch.Client, counts Hourly) error {
	var data []cwtypes.MetricDatum
	for table, hours := range counts {
		for h, n := range hours {
			data = append(data, cwtypes.MetricDatum{
				MetricName: aws.String("TimeToLiveDeletedItemCount"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}},
				Timestamp:  aws.Time(h),
				Value:      aws.Float64(float64(n)),
				Unit:       cwtypes.StandardUnitCount,
			})
		}
	}
	for len(data) > 0 {
		n := min(len(data), 500)
		if _, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/DynamoDB"), MetricData: data[:n]}); err != nil {
			return fmt.Errorf("put TimeToLiveDeletedItemCount: %w", err)
		}
		data = data[n:]
	}
	return nil
}
