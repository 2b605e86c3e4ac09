package backfill_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/backfill"
	bt "github.com/ttl-archiver/ttl-archiver/backfill/backfilltest"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/restore"
	"github.com/ttl-archiver/ttl-archiver/restore/restoretest"
	"github.com/ttl-archiver/ttl-archiver/verify"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// gapItem is the item a verifytest deletion deleted, as the export has
// it: the keys and attributes of verifytest's archive line, typed.
func gapItem(d verifytest.Deletion) bt.Item {
	sec := d.At.Unix()
	return bt.Item{
		"pk":         bt.S("customer#" + d.EventID[:8]),
		"sk":         bt.S("order#" + itoa(sec)),
		"expires_at": bt.NInt(sec - 3600),
		"status":     bt.S("shipped"),
		"total":      bt.N("123.45"),
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestMotoBackfillGap is issue 22's end-to-end test: 20,000 TTL
// deletions over three days, their metric in moto's CloudWatch, their
// lines in moto's S3 but for a six-hour gap. Backfilling the exports of
// the gap (which reach an hour past it on each side) makes verify report
// complete; a second backfill writes nothing; the recovered items restore
// into dynalite equal to their old images.
func TestMotoBackfillGap(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	day0 := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	ds := verifytest.Deletions(22, "Orders", []string{"us-east-1"}, day0, 3, 20000)
	if err := verifytest.PutMetrics(ctx, cloudwatch.NewFromConfig(srv.Config()), verifytest.HourlyCounts(ds)["us-east-1"]); err != nil {
		t.Fatal(err)
	}
	s3c := archivefs.NewS3Client(srv.Config(), nil)
	for _, b := range []string{"archive", "exports"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	gapStart, gapEnd := day0.Add(30*time.Hour), day0.Add(36*time.Hour)
	var rest, gap []verifytest.Deletion
	h := bt.History{KeyNames: []string{"pk", "sk"}}
	for _, d := range ds {
		if !d.At.Before(gapStart) && d.At.Before(gapEnd) {
			gap = append(gap, d)
		} else {
			rest = append(rest, d)
		}
		it := gapItem(d)
		h.Put(day0.AddDate(0, 0, -2), it)
		// The export's write time: a little after the stream's second.
		h.Delete(d.At.Add(345678*time.Microsecond), bt.Item{"pk": it["pk"], "sk": it["sk"]}, true)
	}
	if err := verifytest.PutObjects(ctx, s3c, "archive", verifytest.Objects("archive/", "stream", rest, 700)); err != nil {
		t.Fatal(err)
	}
	// The table, for DescribeTimeToLive.
	ddb := dynamodb.NewFromConfig(srv.Config())
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Orders"), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("Orders"),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	var exports []archivefs.Location
	var inWindows int
	for from := gapStart.Add(-time.Hour); from.Before(gapEnd.Add(time.Hour)); from = from.Add(4 * time.Hour) {
		e := bt.Export{Table: "Orders", Region: "us-east-1", From: from, To: from.Add(4 * time.Hour), Bucket: "exports", Prefix: "ddb/",
			Changes: h.Changes(from, from.Add(4*time.Hour)), PerFile: 500}
		inWindows += len(e.Changes)
		if err := bt.PutObjects(ctx, s3c, "exports", e.Objects()); err != nil {
			t.Fatal(err)
		}
		exports = append(exports, archivefs.Location{Bucket: "exports", Prefix: e.Folder()})
	}
	verifyOpts := verify.Options{
		Counter: &verify.ArchiveCounter{Sources: []*archivefs.Source{mustSource(t, archivefs.Location{Bucket: "archive", Prefix: "archive/"}, s3c)}},
		Since:   day0, Until: day0.AddDate(0, 0, 2), Regions: []string{"us-east-1"},
		Metrics: func(string) verify.MetricsAPI { return cloudwatch.NewFromConfig(srv.Config()) },
		Now:     func() time.Time { return day0.AddDate(0, 0, 5) },
	}
	if rep, err := verify.Run(ctx, verifyOpts); err != nil || rep.Complete || rep.Totals.Missing != int64(len(gap)) {
		t.Fatalf("verify before the backfill: complete %v, totals %+v, %v; want %d missing", rep.Complete, rep.Totals, err, len(gap))
	}

	opts := backfill.Options{Exports: exports, Archive: archivefs.Location{Bucket: "archive", Prefix: "archive/"}, S3: s3c, Table: "Orders",
		TTL: func(region string) backfill.TTLAPI { return ddb }}
	rep, err := backfill.Run(ctx, opts)
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}
	if rep.TTLAttribute != "expires_at" || rep.ExportLines != int64(inWindows) || rep.Deletions != int64(inWindows) || rep.TTLDeletions != int64(inWindows) ||
		rep.Recovered != int64(len(gap)) || rep.AlreadyArchived != int64(inWindows-len(gap)) || len(rep.Objects) == 0 || rep.Format != "json" {
		t.Errorf("backfill: %+v; want %d export lines, all TTL deletions, %d recovered, %d already archived, objects", rep, inWindows, len(gap), inWindows-len(gap))
	}
	if r, err := verify.Run(ctx, verifyOpts); err != nil || !r.Complete || r.Totals.Missing != 0 || r.Totals.Extra != 0 || r.Totals.Archived != int64(len(ds)) {
		t.Errorf("verify after the backfill: complete %v, totals %+v, %v; want complete, %d archived", r.Complete, r.Totals, err, len(ds))
	}
	again, err := backfill.Run(ctx, opts)
	if err != nil || again.Recovered != 0 || len(again.Objects) != 0 || again.AlreadyArchived != int64(inWindows) {
		t.Errorf("second backfill: recovered %d, objects %v, already archived %d, %v; want 0, none, %d", again.Recovered, again.Objects, again.AlreadyArchived, err, inWindows)
	}

	// The recovered items restore equal to their old images.
	bin, err := restoretest.FindDynalite(".")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	dyn, err := restoretest.StartDynalite(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer dyn.Close()
	dc := dyn.Client()
	if err := restoretest.CreateTable(ctx, dc, "Orders", [2]string{"pk", "S"}, [2]string{"sk", "S"}); err != nil {
		t.Fatal(err)
	}
	rr, err := restore.Run(ctx, restore.Options{Source: mustSource(t, archivefs.Location{Bucket: "archive", Prefix: "archive/table=Orders/dt=2025-11-21/"}, s3c),
		Filter: archivefs.Filter{Since: gapStart, Until: gapEnd}, Table: "Orders", Region: restoretest.Region, Client: dc})
	if err != nil || rr.Written != len(gap) {
		t.Fatalf("restore: written %d, %v; want %d", rr.Written, err, len(gap))
	}
	for _, d := range gap {
		want := gapItem(d)
		out, err := dc.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Orders"), Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "customer#" + d.EventID[:8]}, "sk": &ddbtypes.AttributeValueMemberS{Value: "order#" + itoa(d.At.Unix())}}})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := attributevalue.UnmarshalMap(out.Item, &got); err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(plain(want))
		if string(gj) != string(wj) {
			t.Fatalf("restored %s, want its old image %s", gj, wj)
		}
	}
}

func mustSource(t *testing.T, loc archivefs.Location, c archivefs.S3API) *archivefs.Source {
	t.Helper()
	src, err := archivefs.NewSource(loc, c)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
