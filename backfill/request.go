package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Incremental exports' windows (AWS-FACTS.md, "Table exports").
const (
	MinExportWindow = 15 * time.Minute
	MaxExportWindow = 24 * time.Hour
)

// ExportAPI is the part of the DynamoDB client RequestExports uses.
type ExportAPI interface {
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeContinuousBackups(ctx context.Context, params *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	ExportTableToPointInTime(ctx context.Context, params *dynamodb.ExportTableToPointInTimeInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error)
}

var _ ExportAPI = (*dynamodb.Client)(nil)

// RequestOptions say which exports to start.
type RequestOptions struct {
	Table    string
	From, To time.Time // From included, To excluded
	Bucket   string
	Prefix   string // without the trailing "/"; may be empty
}

// RequestedExport is one export started.
type RequestedExport struct {
	ARN      string    `json:"export_arn"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Status   string    `json:"status"`
	Folder   string    `json:"folder"` // where backfill reads it: s3://BUCKET/PREFIX/AWSDynamoDB/ID/
	Existing bool      `json:"-"`
}

// Windows cuts [from, to) into the fewest windows of at most
// MaxExportWindow, of equal length to the second, so that none is
// shorter than MinExportWindow. A range shorter than that is refused.
func Windows(from, to time.Time) ([][2]time.Time, error) {
	d := to.Sub(from)
	if d < MinExportWindow {
		return nil, fmt.Errorf("%w: from %s to %s is %s: an incremental export covers %s to %s", ErrRefused,
			from.Format(time.RFC3339), to.Format(time.RFC3339), d, MinExportWindow, MaxExportWindow)
	}
	n := int((d + MaxExportWindow - 1) / MaxExportWindow)
	var out [][2]time.Time
	start := from
	for i := 1; i <= n; i++ {
		end := to
		if i < n {
			end = from.Add(d * time.Duration(i) / time.Duration(n)).Truncate(time.Second)
		}
		out = append(out, [2]time.Time{start, end})
		start = end
	}
	return out, nil
}

// RequestExports checks that point-in-time recovery covers the range and
// starts one incremental export (NEW_AND_OLD_IMAGES, DYNAMODB_JSON) per
// window. Each request has a client token made from the table, window
// and destination, so running the same command again (within the 8
// hours DynamoDB keeps tokens) returns the same exports instead of
// starting new ones.
func RequestExports(ctx context.Context, c ExportAPI, o RequestOptions) ([]RequestedExport, error) {
	o.From, o.To = o.From.UTC(), o.To.UTC()
	o.Prefix = strings.Trim(o.Prefix, "/")
	windows, err := Windows(o.From, o.To)
	if err != nil {
		return nil, err
	}
	pitr, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(o.Table)})
	if err != nil {
		return nil, fmt.Errorf("describe the continuous backups of table %s: %w", o.Table, err)
	}
	var p *types.PointInTimeRecoveryDescription
	if d := pitr.ContinuousBackupsDescription; d != nil {
		p = d.PointInTimeRecoveryDescription
	}
	if p == nil || p.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		status := "DISABLED"
		if p != nil && p.PointInTimeRecoveryStatus != "" {
			status = string(p.PointInTimeRecoveryStatus)
		}
		return nil, fmt.Errorf("%w: point-in-time recovery of table %s is %s: exports need it ENABLED, and cover only the time since (aws dynamodb update-continuous-backups --table-name %s --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true)", ErrRefused, o.Table, status, o.Table)
	}
	earliest, latest := aws.ToTime(p.EarliestRestorableDateTime), aws.ToTime(p.LatestRestorableDateTime)
	if o.From.Before(earliest) || o.To.After(latest) {
		return nil, fmt.Errorf("%w: table %s can be exported from %s to %s (point-in-time recovery), not from %s to %s", ErrRefused, o.Table,
			earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339), o.From.Format(time.RFC3339), o.To.Format(time.RFC3339))
	}
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(o.Table)})
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", o.Table, err)
	}
	if desc.Table == nil || desc.Table.TableArn == nil {
		return nil, fmt.Errorf("describe table %s: no table ARN", o.Table)
	}
	arn := aws.ToString(desc.Table.TableArn)
	var out []RequestedExport
	for _, w := range windows {
		sum := sha256.Sum256([]byte(strings.Join([]string{arn, w[0].Format(time.RFC3339Nano), w[1].Format(time.RFC3339Nano), o.Bucket, o.Prefix}, "\x00")))
		in := &dynamodb.ExportTableToPointInTimeInput{
			TableArn:     aws.String(arn),
			S3Bucket:     aws.String(o.Bucket),
			ExportFormat: types.ExportFormatDynamodbJson,
			ExportType:   types.ExportTypeIncrementalExport,
			IncrementalExportSpecification: &types.IncrementalExportSpecification{
				ExportFromTime: aws.Time(w[0]),
				ExportToTime:   aws.Time(w[1]),
				ExportViewType: types.ExportViewTypeNewAndOldImages,
			},
			ClientToken: aws.String(hex.EncodeToString(sum[:16])),
		}
		if o.Prefix != "" {
			in.S3Prefix = aws.String(o.Prefix)
		}
		res, err := c.ExportTableToPointInTime(ctx, in)
		if err != nil {
			return out, fmt.Errorf("start the export of table %s from %s to %s: %w", o.Table, w[0].Format(time.RFC3339), w[1].Format(time.RFC3339), err)
		}
		r := RequestedExport{From: w[0], To: w[1]}
		if d := res.ExportDescription; d != nil {
			r.ARN, r.Status = aws.ToString(d.ExportArn), string(d.ExportStatus)
		}
		folder := "AWSDynamoDB/" + exportID(r.ARN) + "/"
		if o.Prefix != "" {
			folder = o.Prefix + "/" + folder
		}
		r.Folder = "s3://" + o.Bucket + "/" + folder
		out = append(out, r)
	}
	return out, nil
}
