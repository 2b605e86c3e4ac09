package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/verify"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

var day0 = time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)

// TestMotoGlobalTableGap is issue 21's end-to-end test: moto's CloudWatch
// holds the TTL metric of one table over three days in two regions, moto's
// S3 the two regions' archives (20,000 deletions). Six hours of one
// region's lines are taken out of its archive: verify reports exactly that
// many missing on that day and region, and complete once they are back.
func TestMotoGlobalTableGap(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	regions := []string{"eu-west-1", "us-east-1"}
	ds := verifytest.Deletions(21, "Orders", regions, day0, 3, 20000)
	for region, counts := range verifytest.HourlyCounts(ds) {
		cfg := srv.Config()
		cfg.Region = region
		if err := verifytest.PutMetrics(ctx, cloudwatch.NewFromConfig(cfg), counts); err != nil {
			t.Fatal(err)
		}
	}
	s3c := archivefs.NewS3Client(srv.Config(), nil)
	gapStart, gapEnd := day0.Add(30*time.Hour), day0.Add(36*time.Hour) // day 2, 06:00 to 12:00
	var gap, rest []verifytest.Deletion
	var wantMissing int64
	byRegion := map[string][]verifytest.Deletion{}
	for _, d := range ds {
		if d.Region == "eu-west-1" && !d.At.Before(gapStart) && d.At.Before(gapEnd) {
			gap = append(gap, d)
			wantMissing++
			continue
		}
		byRegion[d.Region] = append(byRegion[d.Region], d)
	}
	var sources []*archivefs.Source
	for _, region := range regions {
		bucket := "archive-" + region
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		rest = byRegion[region]
		if err := verifytest.PutObjects(ctx, s3c, bucket, verifytest.Objects("archive/", region, rest, 700)); err != nil {
			t.Fatal(err)
		}
		src, err := archivefs.NewSource(archivefs.Location{Bucket: bucket, Prefix: "archive/"}, s3c)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, src)
	}
	opts := verify.Options{
		Counter: &verify.ArchiveCounter{Sources: sources},
		Since:   day0, Until: day0.AddDate(0, 0, 2),
		Regions: regions,
		Metrics: func(region string) verify.MetricsAPI {
			cfg := srv.Config()
			cfg.Region = region
			return cloudwatch.NewFromConfig(cfg)
		},
		Now: func() time.Time { return day0.AddDate(0, 0, 5) },
	}
	rep, err := verify.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete {
		t.Errorf("Run with a gap: Complete true, want false")
	}
	for _, r := range rep.Rows {
		wantM := int64(0)
		if r.Day == "2025-11-21" && (r.Region == "eu-west-1" || r.Region == verify.AllRegions) {
			wantM = wantMissing
		}
		if r.Missing != wantM || r.Extra != 0 {
			t.Errorf("row %s %s %s: missing %d, extra %d, want %d and 0 (%+v)", r.Table, r.Region, r.Day, r.Missing, r.Extra, wantM, r)
		}
		if r.Detail != (r.Region != verify.AllRegions) {
			t.Errorf("row %s %s: Detail %v, want %v", r.Region, r.Day, r.Detail, r.Region != verify.AllRegions)
		}
	}
	if len(rep.Rows) != 9 {
		t.Errorf("Run: %d rows, want 9 (3 days, 2 regions and their sum)", len(rep.Rows))
	}
	if rep.Totals.TTLDeleted != int64(len(ds)) || rep.Totals.Missing != wantMissing {
		t.Errorf("Run: totals %+v, want ttl_deleted %d, missing %d", rep.Totals, len(ds), wantMissing)
	}

	// The CLI on the same archive: exit 3, the gap named in its output.
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"}
	args := []string{"verify", "--from", "s3://archive-eu-west-1/archive/", "--from", "s3://archive-us-east-1/archive/",
		"--since", "2025-11-20", "--until", "2025-11-22", "--regions", "us-east-1,eu-west-1", "--endpoint-url", srv.URL}
	code, out, errOut := runVerifyCLI(t, env, day0.AddDate(0, 0, 5), args...)
	if code != 3 || !strings.Contains(out, "missing") {
		t.Errorf("ttl-archiver verify with a gap: exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// The gap's lines come back (in objects of their own): complete.
	if err := verifytest.PutObjects(ctx, s3c, "archive-eu-west-1", verifytest.Objects("archive/", "refill", gap, 700)); err != nil {
		t.Fatal(err)
	}
	if rep, err = verify.Run(ctx, opts); err != nil || !rep.Complete || rep.Totals.Missing != 0 || rep.Totals.Archived != int64(len(ds)) {
		t.Errorf("Run after the gap is filled: complete %v, totals %+v, err %v; want complete with %d archived", rep.Complete, rep.Totals, err, len(ds))
	}
	code, out, errOut = runVerifyCLI(t, env, day0.AddDate(0, 0, 5), append(args, "--output", "json")...)
	if code != 0 || !strings.HasPrefix(out, `{"complete":true,`) {
		t.Errorf("ttl-archiver verify after the gap is filled: exit %d, want 0 and a complete JSON report\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
