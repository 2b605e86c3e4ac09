package doctor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ttl-archiver/ttl-archiver/doctor"
	"github.com/ttl-archiver/ttl-archiver/doctor/doctortest"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
)

func clients(cfg aws.Config) doctor.Clients {
	return doctor.Clients{
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		Lambda:         lambda.NewFromConfig(cfg),
		Firehose:       firehose.NewFromConfig(cfg),
		S3:             s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		SNS:            sns.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
	}
}

// TestMoto runs the checks against a deployment in moto_server: every
// check passes, then each is broken in turn (and mended after) and must
// be the one that says so.
func TestMoto(t *testing.T) {
	srv := motoserver.ForTest(t)
	cfg := srv.Config()
	d := doctortest.Deploy(t, cfg)
	ctx := context.Background()
	db, lc, sc := dynamodb.NewFromConfig(cfg), lambda.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	must := func(t *testing.T, what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	setMapping := func(t *testing.T, in *lambda.UpdateEventSourceMappingInput) {
		in.UUID = aws.String(d.MappingUUID)
		_, err := lc.UpdateEventSourceMapping(ctx, in)
		must(t, "update event source mapping", err)
	}
	setTTL := func(t *testing.T, on bool) {
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(d.Table),
			TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{Enabled: aws.Bool(on), AttributeName: aws.String("expires_at")}})
		must(t, "update time to live", err)
	}
	setPITR := func(t *testing.T, on bool) {
		_, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(d.Table),
			PointInTimeRecoverySpecification: &dbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(on)}})
		must(t, "update continuous backups", err)
	}
	ttlFilter := &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(doctortest.TTLPattern)}}}
	var extra []string // UUIDs of the mappings "three readers" adds

	tests := []struct {
		name         string
		breakIt, fix func(t *testing.T)
		opts         func(o *doctor.Options)
		// check is the check that must not be ok, with status and a text
		// of its detail or fix; every other check must be ok.
		check, text string
		status      doctor.Status
	}{
		{name: "healthy"},
		{name: "ttl attribute named", opts: func(o *doctor.Options) { o.TTLAttribute = "expires_at" }},
		{name: "mapping disabled",
			breakIt: func(t *testing.T) { setMapping(t, &lambda.UpdateEventSourceMappingInput{Enabled: aws.Bool(false)}) },
			fix:     func(t *testing.T) { setMapping(t, &lambda.UpdateEventSourceMappingInput{Enabled: aws.Bool(true)}) },
			check:   "mapping", status: doctor.Fail, text: "Disabled: TTL deletions are not archived"},
		{name: "filter dropped",
			breakIt: func(t *testing.T) {
				setMapping(t, &lambda.UpdateEventSourceMappingInput{FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{}}})
			},
			fix:   func(t *testing.T) { setMapping(t, &lambda.UpdateEventSourceMappingInput{FilterCriteria: ttlFilter}) },
			check: "mapping", status: doctor.Fail, text: "no filter"},
		{name: "filter spaced and reordered",
			breakIt: func(t *testing.T) {
				p := `{ "userIdentity": { "principalId": ["dynamodb.amazonaws.com"], "type": ["Service"] }, "eventName": ["REMOVE"] }`
				setMapping(t, &lambda.UpdateEventSourceMappingInput{FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(p)}}}})
			},
			fix: func(t *testing.T) { setMapping(t, &lambda.UpdateEventSourceMappingInput{FilterCriteria: ttlFilter}) }},
		{name: "filter of every REMOVE",
			breakIt: func(t *testing.T) {
				setMapping(t, &lambda.UpdateEventSourceMappingInput{FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(`{"eventName":["REMOVE"]}`)}}}})
			},
			fix:   func(t *testing.T) { setMapping(t, &lambda.UpdateEventSourceMappingInput{FilterCriteria: ttlFilter}) },
			check: "mapping", status: doctor.Fail, text: "not the TTL filter"},
		{name: "ttl off",
			breakIt: func(t *testing.T) { setTTL(t, false) }, fix: func(t *testing.T) { setTTL(t, true) },
			check: "ttl", status: doctor.Fail, text: "only turn TTL on after the stack's mapping is Enabled"},
		{name: "ttl on another attribute", opts: func(o *doctor.Options) { o.TTLAttribute = "ttl" },
			check: "ttl", status: doctor.Fail, text: "TTL is on attribute expires_at, not ttl"},
		{name: "pitr off",
			breakIt: func(t *testing.T) { setPITR(t, false) }, fix: func(t *testing.T) { setPITR(t, true) },
			check: "pitr", status: doctor.Warn, text: "backfill from incremental exports needs it"},
		{name: "three readers",
			breakIt: func(t *testing.T) {
				for range 2 {
					m, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(d.Function),
						EventSourceArn: aws.String(d.StreamArn), StartingPosition: ltypes.EventSourcePositionLatest})
					must(t, "create event source mapping", err)
					extra = append(extra, aws.ToString(m.UUID))
				}
			},
			fix: func(t *testing.T) {
				for _, u := range extra {
					_, err := lc.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(u)})
					must(t, "delete event source mapping", err)
				}
			},
			check: "readers", status: doctor.Fail, text: "3 mappings on the stream"},
		{name: "no confirmed subscription",
			breakIt: func(t *testing.T) {
				out, err := sc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(d.Topic)})
				must(t, "list subscriptions", err)
				for _, s := range out.Subscriptions {
					_, err := sc.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn})
					must(t, "unsubscribe", err)
				}
			},
			fix: func(t *testing.T) {
				_, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(d.Topic), Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com")})
				must(t, "subscribe", err)
			},
			check: "alarms", status: doctor.Fail, text: "alarms reach no one"},
		{name: "bucket gone",
			breakIt: func(t *testing.T) {
				_, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(d.Bucket)})
				must(t, "delete bucket", err)
			},
			fix: func(t *testing.T) {
				_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(d.Bucket)})
				must(t, "create bucket", err)
			},
			check: "bucket", status: doctor.Fail, text: "is not reachable"},
		{name: "no such stack", opts: func(o *doctor.Options) { o.Stack = "ttl-archiver-prod" },
			check: "stack", status: doctor.Fail, text: "no stack ttl-archiver-prod in us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.breakIt != nil {
				tt.breakIt(t)
			}
			if tt.fix != nil {
				defer tt.fix(t)
			}
			o := doctor.Options{Table: d.Table, Region: cfg.Region, Clients: clients(cfg),
				ForRegion: func(r string) doctor.Clients { c := cfg.Copy(); c.Region = r; return clients(c) }}
			if tt.opts != nil {
				tt.opts(&o)
			}
			rep, err := doctor.Run(ctx, o)
			if err != nil {
				t.Fatalf("Run: got error %v, want none", err)
			}
			found := false
			for _, c := range rep.Checks {
				switch {
				case c.Name == tt.check:
					found = true
					if c.Status != tt.status || !strings.Contains(c.Detail+" "+c.Fix, tt.text) {
						t.Errorf("check %s: got %s %q (fix %q), want %s with %q", c.Name, c.Status, c.Detail, c.Fix, tt.status, tt.text)
					}
				case tt.check == "stack" && c.Status == doctor.Fail && strings.Contains(c.Detail, "could not check"):
					// Without the stack, the checks of its outputs cannot be made.
				case c.Status != doctor.OK:
					t.Errorf("check %s: got %s %q (fix %q), want ok", c.Name, c.Status, c.Detail, c.Fix)
				}
			}
			if tt.check != "" && !found {
				t.Errorf("checks: got none named %s, want one: %+v", tt.check, rep.Checks)
			}
			if got, want := rep.Failed(), tt.status == doctor.Fail; got != want {
				t.Errorf("Failed: got %v, want %v: %s", got, want, rep.Summary())
			}
			if t.Failed() {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Logf("report:\n%s", b.String())
			}
		})
	}
}
