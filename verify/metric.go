package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// MetricsAPI is the part of the CloudWatch client verify uses.
type MetricsAPI interface {
	GetMetricData(ctx context.Context, params *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// TableAPI is the part of the DynamoDB client verify uses: a table's
// replicas.
type TableAPI interface {
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var (
	_ MetricsAPI = (*cloudwatch.Client)(nil)
	_ TableAPI   = (*dynamodb.Client)(nil)
)

// The metric DynamoDB publishes for TTL deletions.
const (
	metricNamespace = "AWS/DynamoDB"
	metricName      = "TimeToLiveDeletedItemCount"
	metricDimension = "TableName"
)

// metricRetention is how long CloudWatch keeps datapoints of one hour:
// 455 days (15 months).
const metricRetention = 455 * 24 * time.Hour

// maxQueries is GetMetricData's limit of queries per call.
const maxQueries = 500

// deletedCounts reads TimeToLiveDeletedItemCount for each table in one
// region, hour by hour, from since to the end of until's day. Hours
// without a datapoint are absent: a day none of whose hours has one has
// no metric data.
func deletedCounts(ctx context.Context, api MetricsAPI, region string, tables []string, since, until time.Time) (Counts, error) {
	out := Counts{}
	end := until.AddDate(0, 0, 1)
	for start := 0; start < len(tables); start += maxQueries {
		batch := tables[start:min(start+maxQueries, len(tables))]
		in := &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(since),
			EndTime:   aws.Time(end),
			ScanBy:    cwtypes.ScanByTimestampAscending,
		}
		for i, t := range batch {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("t%d", i)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace:  aws.String(metricNamespace),
						MetricName: aws.String(metricName),
						Dimensions: []cwtypes.Dimension{{Name: aws.String(metricDimension), Value: aws.String(t)}},
					},
					Period: aws.Int32(3600),
					Stat:   aws.String("Sum"),
				},
				ReturnData: aws.Bool(true),
			})
		}
		p := cloudwatch.NewGetMetricDataPaginator(api, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("cloudwatch:GetMetricData %s in %s: %w", metricName, region, err)
			}
			for _, r := range page.MetricDataResults {
				var i int
				if _, err := fmt.Sscanf(aws.ToString(r.Id), "t%d", &i); err != nil || i < 0 || i >= len(batch) {
					return nil, fmt.Errorf("cloudwatch:GetMetricData in %s: unexpected result id %q", region, aws.ToString(r.Id))
				}
				if r.StatusCode == cwtypes.StatusCodeForbidden || r.StatusCode == cwtypes.StatusCodeInternalError {
					return nil, fmt.Errorf("cloudwatch:GetMetricData %s of %s in %s: %s %s", metricName, batch[i], region, r.StatusCode, messages(r.Messages))
				}
				if len(r.Timestamps) != len(r.Values) {
					return nil, fmt.Errorf("cloudwatch:GetMetricData %s of %s in %s: %d timestamps for %d values", metricName, batch[i], region, len(r.Timestamps), len(r.Values))
				}
				for j, ts := range r.Timestamps {
					ts = ts.UTC()
					if ts.Before(since) || !ts.Before(end) {
						continue
					}
					k := Key{Table: batch[i], Region: region, Day: ts.Format(time.DateOnly)}
					c := out[k]
					if c == nil {
						c = &Count{}
						out[k] = c
					}
					n := int64(r.Values[j] + 0.5)
					c.Total += n
					c.Hours[ts.Hour()] += n
				}
			}
		}
	}
	return out, nil
}

func messages(ms []cwtypes.MessageData) string {
	var s string
	for _, m := range ms {
		s += aws.ToString(m.Code) + ": " + aws.ToString(m.Value) + "; "
	}
	return s
}

// replicaRegions returns the regions of a table's replicas as
// DescribeTable in region reports them, region included.
func replicaRegions(ctx context.Context, api TableAPI, region, table string) ([]string, error) {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("dynamodb:DescribeTable %s in %s (for its replica regions; or give --regions): %w", table, region, err)
	}
	regions := []string{region}
	for _, r := range out.Table.Replicas {
		if name := aws.ToString(r.RegionName); name != "" && name != region {
			regions = append(regions, name)
		}
	}
	return regions, nil
}
