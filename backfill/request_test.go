package backfill_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ttl-archiver/ttl-archiver/backfill"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
)

func TestWindows(t *testing.T) {
	t0 := time.Date(2025, 11, 21, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		n    int
		fail bool
	}{
		{14*time.Minute + 59*time.Second, 0, true},
		{15 * time.Minute, 1, false},
		{6 * time.Hour, 1, false},
		{24 * time.Hour, 1, false},
		{24*time.Hour + time.Second, 2, false},
		{72 * time.Hour, 3, false},
		{72*time.Hour + 10*time.Minute, 4, false},
	}
	for _, tt := range tests {
		ws, err := backfill.Windows(t0, t0.Add(tt.d))
		if tt.fail {
			if !errors.Is(err, backfill.ErrRefused) {
				t.Errorf("Windows(%s): %v, want ErrRefused", tt.d, err)
			}
			continue
		}
		if err != nil || len(ws) != tt.n {
			t.Fatalf("Windows(%s): %d windows, %v; want %d", tt.d, len(ws), err, tt.n)
		}
		for i, w := range ws {
			l := w[1].Sub(w[0])
			if l < backfill.MinExportWindow || l > backfill.MaxExportWindow || i > 0 && !w[0].Equal(ws[i-1][1]) {
				t.Errorf("Windows(%s)[%d] = %v: %s long; want 15 min to 24 h, in a row", tt.d, i, w, l)
			}
		}
		if !ws[0][0].Equal(t0) || !ws[len(ws)-1][1].Equal(t0.Add(tt.d)) {
			t.Errorf("Windows(%s) = %v, want from %v to %v", tt.d, ws, t0, t0.Add(tt.d))
		}
	}
}

// fakeExports answers DescribeContinuousBackups with pitr and records the
// exports started; DescribeTable and ExportTableToPointInTime go to next
// when it is set (moto), else are answered here.
type fakeExports struct {
	pitr    *types.PointInTimeRecoveryDescription
	next    backfill.ExportAPI
	started []*dynamodb.ExportTableToPointInTimeInput
}

func (f *fakeExports) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if f.next != nil {
		return f.next.DescribeTable(ctx, in, o...)
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/" + aws.ToString(in.TableName))}}, nil
}

func (f *fakeExports) DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	if f.pitr == nil && f.next != nil {
		return f.next.DescribeContinuousBackups(ctx, in, o...)
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{PointInTimeRecoveryDescription: f.pitr}}, nil
}

func (f *fakeExports) ExportTableToPointInTime(ctx context.Context, in *dynamodb.ExportTableToPointInTimeInput, o ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error) {
	f.started = append(f.started, in)
	if f.next != nil {
		return f.next.ExportTableToPointInTime(ctx, in, o...)
	}
	return &dynamodb.ExportTableToPointInTimeOutput{ExportDescription: &types.ExportDescription{
		ExportArn: aws.String(aws.ToString(in.TableArn) + "/export/0176370000000" + string(rune('0'+len(f.started))) + "-abcdef12"), ExportStatus: types.ExportStatusInProgress}}, nil
}

func TestRequestExports(t *testing.T) {
	t0 := time.Date(2025, 11, 21, 6, 0, 0, 0, time.UTC)
	enabled := &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusEnabled,
		EarliestRestorableDateTime: aws.Time(t0.AddDate(0, 0, -30)), LatestRestorableDateTime: aws.Time(t0.AddDate(0, 0, 3))}
	opts := backfill.RequestOptions{Table: "Orders", From: t0, To: t0.Add(48*time.Hour + time.Hour), Bucket: "exports", Prefix: "ddb/"}
	tests := []struct {
		name string
		pitr *types.PointInTimeRecoveryDescription
		o    backfill.RequestOptions
		says string
	}{
		{"PITR disabled", &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusDisabled}, opts, "is DISABLED"},
		{"PITR never set", nil, opts, "is DISABLED"},
		{"before the PITR window", enabled, backfill.RequestOptions{Table: "Orders", From: t0.AddDate(0, 0, -31), To: t0, Bucket: "b"}, "can be exported from"},
		{"after it", enabled, backfill.RequestOptions{Table: "Orders", From: t0.AddDate(0, 0, 2), To: t0.AddDate(0, 0, 4), Bucket: "b"}, "can be exported from"},
		{"too short", enabled, backfill.RequestOptions{Table: "Orders", From: t0, To: t0.Add(time.Minute), Bucket: "b"}, "an incremental export covers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeExports{pitr: tt.pitr}
			if tt.pitr == nil {
				f.pitr = &types.PointInTimeRecoveryDescription{}
			}
			_, err := backfill.RequestExports(context.Background(), f, tt.o)
			if !errors.Is(err, backfill.ErrRefused) || !strings.Contains(err.Error(), tt.says) || len(f.started) != 0 {
				t.Errorf("RequestExports: %v, %d started; want ErrRefused saying %q, none started", err, len(f.started), tt.says)
			}
		})
	}
	f := &fakeExports{pitr: enabled}
	got, err := backfill.RequestExports(context.Background(), f, opts)
	if err != nil || len(got) != 3 || len(f.started) != 3 {
		t.Fatalf("RequestExports: %v, %v; want 3 exports", got, err)
	}
	tokens := map[string]bool{}
	for i, in := range f.started {
		s := in.IncrementalExportSpecification
		if in.ExportType != types.ExportTypeIncrementalExport || in.ExportFormat != types.ExportFormatDynamodbJson || s == nil ||
			s.ExportViewType != types.ExportViewTypeNewAndOldImages || aws.ToString(in.S3Bucket) != "exports" || aws.ToString(in.S3Prefix) != "ddb" ||
			aws.ToString(in.TableArn) != "arn:aws:dynamodb:us-east-1:123456789012:table/Orders" || !s.ExportFromTime.Equal(got[i].From) || !s.ExportToTime.Equal(got[i].To) {
			t.Errorf("export %d: %+v %+v; want an incremental export of NEW_AND_OLD_IMAGES in DYNAMODB_JSON of the window", i, in, s)
		}
		tokens[aws.ToString(in.ClientToken)] = true
		if want := "s3://exports/ddb/AWSDynamoDB/0176370000000" + string(rune('1'+i)) + "-abcdef12/"; got[i].Folder != want {
			t.Errorf("export %d folder %s, want %s", i, got[i].Folder, want)
		}
	}
	if len(tokens) != 3 {
		t.Errorf("client tokens %v, want 3 different", tokens)
	}
	again := &fakeExports{pitr: enabled}
	if _, err := backfill.RequestExports(context.Background(), again, opts); err != nil || aws.ToString(again.started[0].ClientToken) != aws.ToString(f.started[0].ClientToken) {
		t.Errorf("RequestExports again: token %s, want the first run's %s (%v)", aws.ToString(again.started[0].ClientToken), aws.ToString(f.started[0].ClientToken), err)
	}
}

// Against moto 5.2.1: DescribeContinuousBackups, UpdateContinuousBackups,
// DescribeTable and ExportTableToPointInTime answer. moto sets PITR's
// earliest and latest restorable times both to the moment it was turned
// on, so a range of 15 minutes is never inside its window: the window
// check is run against moto's answer, and the exports are started (on
// moto) with the PITR description of a fake.
func TestMotoRequestExports(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	c := dynamodb.NewFromConfig(srv.Config())
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Orders"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	// moto needs S3Prefix (a KeyError, answered 500, without it).
	o := backfill.RequestOptions{Table: "Orders", From: now.Add(-2 * time.Hour), To: now.Add(-time.Hour), Bucket: "exports", Prefix: "ddb"}
	if _, err := backfill.RequestExports(ctx, c, o); !errors.Is(err, backfill.ErrRefused) || !strings.Contains(err.Error(), "DISABLED") {
		t.Errorf("RequestExports with PITR off (moto): %v, want refused, DISABLED", err)
	}
	if _, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("Orders"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := backfill.RequestExports(ctx, c, o); !errors.Is(err, backfill.ErrRefused) || !strings.Contains(err.Error(), "can be exported from") {
		t.Errorf("RequestExports before PITR was on (moto): %v, want refused, outside the window", err)
	}
	f := &fakeExports{next: c, pitr: &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusEnabled,
		EarliestRestorableDateTime: aws.Time(now.AddDate(0, 0, -1)), LatestRestorableDateTime: aws.Time(now)}}
	got, err := backfill.RequestExports(ctx, f, o)
	if err != nil || len(got) != 1 || got[0].ARN == "" || !strings.HasPrefix(got[0].Folder, "s3://exports/ddb/AWSDynamoDB/") {
		t.Errorf("RequestExports on moto: %+v, %v; want one export with an ARN", got, err)
	}
}
