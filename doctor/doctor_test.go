package doctor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

const home = "us-east-1"

// want is what a check must say: its status, and a text its detail or
// fix must contain.
type want struct {
	status Status
	text   string
}

// replica makes the home table a global table with a replica in each
// region, and returns those regions' fakes, healthy.
func replica(f *fake, regions ...string) map[string]*fake {
	out := map[string]*fake{}
	f.table.Replicas = []dbtypes.ReplicaDescription{{RegionName: aws.String(home), ReplicaStatus: dbtypes.ReplicaStatusActive}}
	for _, r := range regions {
		f.table.Replicas = append(f.table.Replicas, dbtypes.ReplicaDescription{RegionName: aws.String(r), ReplicaStatus: dbtypes.ReplicaStatusActive})
		out[r] = healthy(r)
	}
	return out
}

func TestRun(t *testing.T) {
	mappingOf := func(f *fake) *mapping { return &f.mappings[0] }
	tests := []struct {
		name string
		// setup breaks the healthy deployment; it returns the fakes of
		// other regions (nil: none) and may change the options.
		setup func(f *fake, o *Options) map[string]*fake
		// want names the checks that must not be ok; every other check
		// must be.
		want map[string]want
	}{
		{name: "healthy", setup: func(*fake, *Options) map[string]*fake { return nil },
			want: map[string]want{}},

		// stack
		{name: "no stack", setup: func(f *fake, _ *Options) map[string]*fake { f.stacks = nil; return nil },
			want: map[string]want{
				"stack":    {Fail, "no stack ttl-archiver in us-east-1"},
				"mapping":  {Fail, "could not check: stack ttl-archiver: no such stack"},
				"firehose": {Fail, "could not check"},
				"bucket":   {Fail, "could not check"},
				"alarms":   {Fail, "could not check"},
			}},
		{name: "describe stacks refused", setup: func(f *fake, _ *Options) map[string]*fake { f.stackErr = errDenied; return nil },
			want: map[string]want{
				"stack":    {Fail, "could not check: describe stack ttl-archiver: AccessDeniedException"},
				"mapping":  {Fail, "AccessDeniedException"},
				"firehose": {Fail, "AccessDeniedException"},
				"bucket":   {Fail, "AccessDeniedException"},
				"alarms":   {Fail, "AccessDeniedException"},
			}},
		{name: "stack rolled back at creation", setup: func(f *fake, _ *Options) map[string]*fake {
			f.stacks[DefaultStack] = ourStack(cftypes.StackStatusRollbackComplete, true)
			return nil
		}, want: map[string]want{"stack": {Fail, "ROLLBACK_COMPLETE"}}},
		{name: "stack update rolled back", setup: func(f *fake, _ *Options) map[string]*fake {
			f.stacks[DefaultStack] = ourStack(cftypes.StackStatusUpdateRollbackComplete, true)
			return nil
		}, want: map[string]want{"stack": {Warn, "describe-stack-events"}}},
		{name: "other stack name", setup: func(f *fake, o *Options) map[string]*fake {
			f.stacks = map[string]cftypes.Stack{"archiver-prod": ourStack(cftypes.StackStatusUpdateComplete, true)}
			o.Stack = "archiver-prod"
			return nil
		}, want: map[string]want{}},
		{name: "output FunctionName missing", setup: func(f *fake, _ *Options) map[string]*fake {
			s := f.stacks[DefaultStack]
			s.Outputs = append(s.Outputs[:2:2], s.Outputs[3:]...)
			f.stacks[DefaultStack] = s
			return nil
		}, want: map[string]want{
			"mapping": {Fail, "could not check: stack ttl-archiver has no output FunctionName"},
			"bucket":  {OK, ""}, "firehose": {OK, ""},
		}},

		// stream
		{name: "no table", setup: func(f *fake, o *Options) map[string]*fake { o.Table = "Ordres"; return nil },
			want: map[string]want{
				"stream":  {Fail, "could not check: describe table Ordres: ResourceNotFoundException"},
				"mapping": {Fail, "could not check"},
				"readers": {Fail, "could not check"},
				"regions": {Fail, "could not check"},
			}},
		{name: "stream disabled", setup: func(f *fake, _ *Options) map[string]*fake {
			f.table.StreamSpecification, f.table.LatestStreamArn = nil, nil
			return nil
		}, want: map[string]want{
			"stream":  {Fail, "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"},
			"mapping": {Fail, "could not check: table Orders has no stream"},
			"readers": {Fail, "could not check"},
			"ttl":     {OK, ""},
		}},
		{name: "keys only", setup: func(f *fake, _ *Options) map[string]*fake {
			f.table.StreamSpecification.StreamViewType = dbtypes.StreamViewTypeKeysOnly
			return nil
		}, want: map[string]want{"stream": {Fail, `KEYS_ONLY: a TTL deletion carries its keys only`}}},
		{name: "new image", setup: func(f *fake, _ *Options) map[string]*fake {
			f.table.StreamSpecification.StreamViewType = dbtypes.StreamViewTypeNewImage
			return nil
		}, want: map[string]want{"stream": {Fail, "StreamEnabled=false"}}},
		{name: "old image", setup: func(f *fake, _ *Options) map[string]*fake {
			f.table.StreamSpecification.StreamViewType = dbtypes.StreamViewTypeOldImage
			return nil
		}, want: map[string]want{"stream": {Warn, "OLD_IMAGE"}}},

		// mapping
		{name: "mapping disabled", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).State = aws.String("Disabled")
			return nil
		}, want: map[string]want{
			"mapping": {Fail, "lambda update-event-source-mapping --uuid uuid-ours-us-east-1 --enabled --region us-east-1"},
			"readers": {OK, "0 mappings on the stream, and 1 disabled, not counted"},
		}},
		{name: "mapping enabling", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).State = aws.String("Enabling")
			return nil
		}, want: map[string]want{"mapping": {Warn, "Enabling (not reading yet)"}}},
		{name: "no filter", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).FilterCriteria = nil
			return nil
		}, want: map[string]want{"mapping": {Fail, `--filter-criteria '{"Filters":[{"Pattern":"{\"eventName\":[\"REMOVE\"]`}}},
		{name: "empty filter list", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).FilterCriteria = &ltypes.FilterCriteria{}
			return nil
		}, want: map[string]want{"mapping": {Fail, "no filter"}}},
		{name: "filter of every REMOVE", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).FilterCriteria.Filters[0].Pattern = aws.String(`{"eventName":["REMOVE"]}`)
			return nil
		}, want: map[string]want{"mapping": {Fail, `not the TTL filter: {"eventName":["REMOVE"]}`}}},
		{name: "filter with lower-case type", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).FilterCriteria.Filters[0].Pattern = aws.String(strings.Replace(TTLFilterPattern, "Service", "service", 1))
			return nil
		}, want: map[string]want{"mapping": {Fail, "not the TTL filter"}}},
		{name: "filter re-serialised", setup: func(f *fake, _ *Options) map[string]*fake {
			// As another tool may write it: spaces, keys in another order.
			mappingOf(f).FilterCriteria.Filters[0].Pattern = aws.String(`{"userIdentity": {"principalId": ["dynamodb.amazonaws.com"], "type": ["Service"]}, "eventName": ["REMOVE"]}`)
			return nil
		}, want: map[string]want{}},
		{name: "filter and another pattern", setup: func(f *fake, _ *Options) map[string]*fake {
			m := mappingOf(f)
			m.FilterCriteria.Filters = append(m.FilterCriteria.Filters, ltypes.Filter{Pattern: aws.String(`{"eventName":["INSERT"]}`)})
			return nil
		}, want: map[string]want{"mapping": {Warn, "2 filter patterns"}}},
		{name: "no ReportBatchItemFailures", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).FunctionResponseTypes = nil
			return nil
		}, want: map[string]want{"mapping": {Fail, "--function-response-types ReportBatchItemFailures"}}},
		{name: "starting at LATEST", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).StartingPosition = ltypes.EventSourcePositionLatest
			return nil
		}, want: map[string]want{"mapping": {Warn, "starting position LATEST, not TRIM_HORIZON"}}},
		{name: "mapping on the old stream only", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).EventSourceArn = aws.String(streamArn(home, oldLabel))
			return nil
		}, want: map[string]want{
			"mapping": {Fail, "reads an old stream of the table (" + streamArn(home, oldLabel) + ")"},
			"readers": {OK, "0 mappings"},
			"ttl":     {OK, ""},
		}},
		{name: "mapping on the old stream named in the fix", setup: func(f *fake, _ *Options) map[string]*fake {
			mappingOf(f).EventSourceArn = aws.String(streamArn(home, oldLabel))
			return nil
		}, want: map[string]want{
			"mapping": {Fail, "deploy with the new ARN in TableStreamArns: sam deploy --region us-east-1 --stack-name ttl-archiver --parameter-overrides TableStreamArns=" + streamArn(home, currentLabel)},
		}},
		{name: "mappings on the old and current streams", setup: func(f *fake, _ *Options) map[string]*fake {
			old := ourMapping(home)
			old.UUID, old.EventSourceArn = aws.String("uuid-old"), aws.String(streamArn(home, oldLabel))
			f.mappings = append(f.mappings, old)
			return nil
		}, want: map[string]want{"mapping": {Warn, "also reads an old stream"}}},
		{name: "no mapping", setup: func(f *fake, _ *Options) map[string]*fake { f.mappings = nil; return nil },
			want: map[string]want{"mapping": {Fail, "has no mapping on the table's stream"}}},
		{name: "only another function's mapping", setup: func(f *fake, _ *Options) map[string]*fake {
			f.mappings = []mapping{otherMapping(home, "audit")}
			return nil
		}, want: map[string]want{
			"mapping": {Fail, "function " + fnName + " has no mapping"},
			"readers": {OK, "1 mapping on the stream (audit)"},
		}},
		{name: "function output as an ARN", setup: func(f *fake, _ *Options) map[string]*fake {
			s := f.stacks[DefaultStack]
			s.Outputs[2].OutputValue = aws.String(fnArn(home, fnName))
			return nil
		}, want: map[string]want{}},
		{name: "mappings in pages", setup: func(f *fake, _ *Options) map[string]*fake {
			f.pageSize = 1
			f.mappings = []mapping{otherMapping(home, "audit"), ourMapping(home)}
			return nil
		}, want: map[string]want{"readers": {OK, "2 mappings on the stream (audit and " + fnName + ")"}}},
		{name: "list mappings refused", setup: func(f *fake, _ *Options) map[string]*fake { f.mappingsErr = errDenied; return nil },
			want: map[string]want{
				"mapping": {Fail, "could not check: list event source mappings of " + streamArn(home, currentLabel) + ": AccessDeniedException"},
				"readers": {Fail, "could not check"},
			}},

		// readers
		{name: "three readers", setup: func(f *fake, _ *Options) map[string]*fake {
			f.mappings = append(f.mappings, otherMapping(home, "audit"), otherMapping(home, "search"))
			return nil
		}, want: map[string]want{"readers": {Fail, "3 mappings on the stream"}}},
		{name: "two readers", setup: func(f *fake, _ *Options) map[string]*fake {
			f.mappings = append(f.mappings, otherMapping(home, "audit"))
			return nil
		}, want: map[string]want{}},
		{name: "two readers of a replica", setup: func(f *fake, _ *Options) map[string]*fake {
			f.mappings = append(f.mappings, otherMapping(home, "audit"))
			return replica(f, "eu-west-1")
		}, want: map[string]want{"readers": {Warn, "AWS advises one reader per shard for a global table's replica"}}},
		{name: "three readers of a replica", setup: func(f *fake, _ *Options) map[string]*fake {
			f.mappings = append(f.mappings, otherMapping(home, "audit"), otherMapping(home, "search"))
			return replica(f, "eu-west-1")
		}, want: map[string]want{"readers": {Fail, "3 mappings"}}},

		// firehose and bucket
		{name: "firehose creating", setup: func(f *fake, _ *Options) map[string]*fake {
			f.delivery = fhtypes.DeliveryStreamStatusCreating
			return nil
		}, want: map[string]want{"firehose": {Warn, "CREATING"}}},
		{name: "firehose deleting", setup: func(f *fake, _ *Options) map[string]*fake {
			f.delivery = fhtypes.DeliveryStreamStatusDeleting
			return nil
		}, want: map[string]want{"firehose": {Fail, "firehose describe-delivery-stream --delivery-stream-name ttl-archiver-ArchiveStream-1"}}},
		{name: "firehose gone", setup: func(f *fake, _ *Options) map[string]*fake {
			f.deliveryErr = &fhtypes.ResourceNotFoundException{Message: aws.String("Firehose ttl-archiver-ArchiveStream-1 under account 123456789012 not found.")}
			return nil
		}, want: map[string]want{"firehose": {Fail, "could not check: describe delivery stream ttl-archiver-ArchiveStream-1: ResourceNotFoundException"}}},
		{name: "bucket gone", setup: func(f *fake, _ *Options) map[string]*fake { f.headErr = &s3types.NotFound{}; return nil },
			want: map[string]want{"bucket": {Fail, "archive bucket ttl-archiver-archivebucket-1 is not reachable: NotFound"}}},

		// ttl
		{name: "ttl disabled", setup: func(f *fake, _ *Options) map[string]*fake {
			f.ttl = &dbtypes.TimeToLiveDescription{TimeToLiveStatus: dbtypes.TimeToLiveStatusDisabled}
			return nil
		}, want: map[string]want{"ttl": {Fail, "only turn TTL on after the stack's mapping is Enabled (README order: stream, then stack, then TTL): aws dynamodb update-time-to-live"}}},
		{name: "ttl never set", setup: func(f *fake, _ *Options) map[string]*fake { f.ttl = nil; return nil },
			want: map[string]want{"ttl": {Fail, "TTL is DISABLED"}}},
		{name: "ttl disabled and the mapping too", setup: func(f *fake, _ *Options) map[string]*fake {
			f.ttl = &dbtypes.TimeToLiveDescription{TimeToLiveStatus: dbtypes.TimeToLiveStatusDisabled}
			mappingOf(f).State = aws.String("Disabled")
			return nil
		}, want: map[string]want{
			"ttl":     {Fail, "first fix the mapping (see mapping)"},
			"mapping": {Fail, "Disabled"},
		}},
		{name: "ttl disabled, attribute given", setup: func(f *fake, o *Options) map[string]*fake {
			f.ttl = &dbtypes.TimeToLiveDescription{TimeToLiveStatus: dbtypes.TimeToLiveStatusDisabling, AttributeName: aws.String("expires_at")}
			o.TTLAttribute = "expires_at"
			return nil
		}, want: map[string]want{"ttl": {Fail, "Enabled=true,AttributeName=expires_at"}}},
		{name: "ttl on the attribute given", setup: func(_ *fake, o *Options) map[string]*fake { o.TTLAttribute = "expires_at"; return nil },
			want: map[string]want{}},
		{name: "ttl on another attribute", setup: func(_ *fake, o *Options) map[string]*fake { o.TTLAttribute = "ttl"; return nil },
			want: map[string]want{"ttl": {Fail, "TTL is on attribute expires_at, not ttl"}}},
		{name: "ttl enabling", setup: func(f *fake, _ *Options) map[string]*fake {
			f.ttl.TimeToLiveStatus = dbtypes.TimeToLiveStatusEnabling
			return nil
		}, want: map[string]want{"ttl": {Warn, "being enabled"}}},
		{name: "ttl refused", setup: func(f *fake, _ *Options) map[string]*fake { f.ttlErr = errDenied; return nil },
			want: map[string]want{"ttl": {Fail, "could not check: describe time to live of Orders: AccessDeniedException"}}},

		// pitr
		{name: "pitr off", setup: func(f *fake, _ *Options) map[string]*fake {
			f.pitr = dbtypes.PointInTimeRecoveryStatusDisabled
			return nil
		}, want: map[string]want{"pitr": {Warn, "backfill from incremental exports needs it"}}},
		{name: "pitr refused", setup: func(f *fake, _ *Options) map[string]*fake { f.pitrErr = errDenied; return nil },
			want: map[string]want{"pitr": {Fail, "could not check"}}},

		// alarms
		{name: "no alarm topic", setup: func(f *fake, _ *Options) map[string]*fake {
			f.stacks[DefaultStack] = ourStack(cftypes.StackStatusCreateComplete, false)
			return nil
		}, want: map[string]want{"alarms": {Warn, "alarms reach no one"}}},
		{name: "alarm topic from AlarmTopicArn", setup: func(f *fake, _ *Options) map[string]*fake {
			s := ourStack(cftypes.StackStatusCreateComplete, false)
			s.Parameters[0].ParameterValue = aws.String("arn:aws:sns:us-east-1:123456789012:ops")
			f.stacks[DefaultStack] = s
			f.subs["arn:aws:sns:us-east-1:123456789012:ops"] = []snstypes.Subscription{confirmed("arn:aws:sns:us-east-1:123456789012:ops", "pager")}
			return nil
		}, want: map[string]want{"alarms": {OK, "arn:aws:sns:us-east-1:123456789012:ops: 1 confirmed"}}},
		{name: "subscription pending", setup: func(f *fake, _ *Options) map[string]*fake {
			f.subs[topicArn] = []snstypes.Subscription{pending(topicArn, "ops@example.com")}
			return nil
		}, want: map[string]want{"alarms": {Fail, "confirm the subscription from the mail AWS sent to ops@example.com"}}},
		{name: "no subscription", setup: func(f *fake, _ *Options) map[string]*fake { f.subs[topicArn] = nil; return nil },
			want: map[string]want{"alarms": {Fail, "sns subscribe --topic-arn " + topicArn}}},
		{name: "one of two topics watched", setup: func(f *fake, _ *Options) map[string]*fake {
			s := f.stacks[DefaultStack]
			s.Parameters[0].ParameterValue = aws.String("arn:aws:sns:us-east-1:123456789012:ops")
			f.subs["arn:aws:sns:us-east-1:123456789012:ops"] = []snstypes.Subscription{pending("arn:aws:sns:us-east-1:123456789012:ops", "pager@example.com")}
			return nil
		}, want: map[string]want{"alarms": {Warn, "pager@example.com"}}},
		{name: "list subscriptions refused", setup: func(f *fake, _ *Options) map[string]*fake { f.subsErr = errDenied; return nil },
			want: map[string]want{"alarms": {Fail, "could not check: list subscriptions of " + topicArn + ": AccessDeniedException"}}},

		// regions
		{name: "replica with its stack", setup: func(f *fake, _ *Options) map[string]*fake { return replica(f, "eu-west-1") },
			want: map[string]want{"region eu-west-1": {OK, "mapping uuid-ours-eu-west-1 on " + streamArn("eu-west-1", currentLabel) + " is Enabled"}}},
		{name: "replica without a stack", setup: func(f *fake, _ *Options) map[string]*fake {
			rs := replica(f, "eu-west-1", "ap-south-1")
			rs["ap-south-1"].stacks = nil
			return rs
		}, want: map[string]want{"region ap-south-1": {Fail, "TTL deletions run in ap-south-1 are archived only by a stack in ap-south-1: sam deploy --region ap-south-1 --stack-name ttl-archiver --parameter-overrides TableStreamArns=" + streamArn("ap-south-1", currentLabel)}}},
		{name: "replica's stack deleted", setup: func(f *fake, _ *Options) map[string]*fake {
			rs := replica(f, "eu-west-1")
			rs["eu-west-1"].stacks[DefaultStack] = ourStack(cftypes.StackStatusDeleteComplete, true)
			return rs
		}, want: map[string]want{"region eu-west-1": {Fail, "DELETE_COMPLETE"}}},
		{name: "replica's stack without its mapping", setup: func(f *fake, _ *Options) map[string]*fake {
			rs := replica(f, "eu-west-1")
			rs["eu-west-1"].mappings = nil
			return rs
		}, want: map[string]want{"region eu-west-1": {Fail, "has no mapping on the replica's stream"}}},
		{name: "replica's mapping disabled", setup: func(f *fake, _ *Options) map[string]*fake {
			rs := replica(f, "eu-west-1")
			rs["eu-west-1"].mappings[0].State = aws.String("Disabled")
			return rs
		}, want: map[string]want{"region eu-west-1": {Fail, "--enabled --region eu-west-1"}}},
		{name: "replica's stack updating", setup: func(f *fake, _ *Options) map[string]*fake {
			rs := replica(f, "eu-west-1")
			rs["eu-west-1"].stacks[DefaultStack] = ourStack(cftypes.StackStatusUpdateInProgress, true)
			return rs
		}, want: map[string]want{"region eu-west-1": {Warn, "UPDATE_IN_PROGRESS"}}},
		{name: "replica region refused", setup: func(f *fake, _ *Options) map[string]*fake {
			rs := replica(f, "eu-west-1")
			rs["eu-west-1"].tableErr = errDenied
			return rs
		}, want: map[string]want{"region eu-west-1": {Fail, "could not check: describe table Orders in eu-west-1: AccessDeniedException"}}},
		{name: "no clients for other regions", setup: func(f *fake, o *Options) map[string]*fake {
			replica(f, "eu-west-1")
			o.ForRegion = nil
			return nil
		}, want: map[string]want{"region eu-west-1": {Fail, "could not check: no clients for other regions"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := healthy(home)
			o := Options{Table: table, Region: home, Clients: f.clients()}
			var regions map[string]*fake
			o.ForRegion = func(r string) Clients {
				if rf, ok := regions[r]; ok {
					return rf.clients()
				}
				return (&fake{}).clients()
			}
			regions = tt.setup(f, &o)
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatalf("Run: got error %v, want none", err)
			}
			seen := map[string]bool{}
			for _, c := range rep.Checks {
				seen[c.Name] = true
				w, named := tt.want[c.Name]
				if !named {
					w = want{status: OK}
				}
				if c.Status != w.status {
					t.Errorf("check %s: got status %v, want %v (detail %q, fix %q)", c.Name, c.Status, w.status, c.Detail, c.Fix)
				}
				if got := c.Detail + " | " + c.Fix; !strings.Contains(got, w.text) {
					t.Errorf("check %s: got %q, want it to contain %q", c.Name, got, w.text)
				}
				if c.Status != OK && c.Fix == "" {
					t.Errorf("check %s: got status %v with no fix, want a fix", c.Name, c.Status)
				}
				if c.Detail == "" {
					t.Errorf("check %s: got no detail, want what it found", c.Name)
				}
			}
			for name := range tt.want {
				if !seen[name] {
					t.Errorf("checks: got none named %q, want one; got %+v", name, rep.Checks)
				}
			}
			if got, wantFailed := rep.Failed(), anyFail(tt.want); got != wantFailed {
				t.Errorf("Failed: got %v, want %v", got, wantFailed)
			}
		})
	}
}

func anyFail(w map[string]want) bool {
	for _, c := range w {
		if c.status == Fail {
			return true
		}
	}
	return false
}

// TestRunChecks: every check gives a line, in the order of the
// documentation, whatever fails.
func TestRunChecks(t *testing.T) {
	wantNames := []string{"stack", "stream", "mapping", "readers", "firehose", "bucket", "ttl", "pitr", "alarms", "regions"}
	for _, broken := range []bool{false, true} {
		f := healthy(home)
		if broken {
			f = &fake{tableErr: errDenied, mappingsErr: errDenied, deliveryErr: errDenied, headErr: errDenied,
				subsErr: errDenied, stackErr: errDenied, ttlErr: errDenied, pitrErr: errDenied}
		}
		rep, err := Run(context.Background(), Options{Table: table, Region: home, Clients: f.clients()})
		if err != nil {
			t.Fatalf("Run: got error %v, want none", err)
		}
		var got []string
		for _, c := range rep.Checks {
			got = append(got, c.Name)
			if broken && c.Status != Fail {
				t.Errorf("broken: check %s: got %v, want fail", c.Name, c.Status)
			}
		}
		if strings.Join(got, " ") != strings.Join(wantNames, " ") {
			t.Errorf("broken=%v: checks: got %v, want %v", broken, got, wantNames)
		}
	}
}

func TestRunOptions(t *testing.T) {
	f := healthy(home)
	tests := []struct {
		name string
		o    Options
	}{
		{"no table", Options{Clients: f.clients()}},
		{"no clients", Options{Table: table}},
		{"one client missing", Options{Table: table, Clients: Clients{DynamoDB: f, Lambda: f, Firehose: f, S3: f, SNS: f}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.o); err == nil {
				t.Errorf("Run: got no error, want one")
			}
		})
	}
}

func TestSameJSON(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{TTLFilterPattern, TTLFilterPattern, true},
		{TTLFilterPattern, `{ "userIdentity" : { "type" : [ "Service" ], "principalId" : [ "dynamodb.amazonaws.com" ] }, "eventName" : [ "REMOVE" ] }`, true},
		{`{"a":["x","y"]}`, `{"a":["y","x"]}`, true},
		{`{"a":["x","y"]}`, `{"a":["x"]}`, false},
		{TTLFilterPattern, `{"eventName":["REMOVE"]}`, false},
		{TTLFilterPattern, strings.Replace(TTLFilterPattern, "Service", "service", 1), false},
		{TTLFilterPattern, `not json`, false},
		{`{"a":1}`, `{"a":"1"}`, false},
	}
	for _, tt := range tests {
		if got := sameJSON(tt.a, tt.b); got != tt.want {
			t.Errorf("sameJSON(%s, %s): got %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestStackHealth(t *testing.T) {
	tests := []struct {
		status string
		want   Status
	}{
		{"CREATE_COMPLETE", OK}, {"UPDATE_COMPLETE", OK}, {"IMPORT_COMPLETE", OK},
		{"UPDATE_ROLLBACK_COMPLETE", Warn}, {"IMPORT_ROLLBACK_COMPLETE", Warn},
		{"UPDATE_IN_PROGRESS", Warn}, {"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Warn}, {"CREATE_IN_PROGRESS", Warn},
		{"DELETE_COMPLETE", Fail}, {"DELETE_IN_PROGRESS", Fail}, {"ROLLBACK_COMPLETE", Fail}, {"ROLLBACK_IN_PROGRESS", Fail},
		{"CREATE_FAILED", Fail}, {"UPDATE_ROLLBACK_FAILED", Fail}, {"", Fail},
	}
	for _, tt := range tests {
		if got := stackHealth(tt.status); got != tt.want {
			t.Errorf("stackHealth(%q): got %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestShort(t *testing.T) {
	wrapped := errors.Join(errors.New("operation error DynamoDB: DescribeTable, https response error StatusCode: 400"), errDenied)
	err := short(wrapped)
	if got, want := err.Error(), "AccessDeniedException: User is not authorized to perform this action"; got != want {
		t.Errorf("short: got %q, want %q", got, want)
	}
	if !errors.Is(err, errDenied) {
		t.Errorf("short: got %v not wrapping the API error, want it wrapped", err)
	}
	plain := errors.New("dial tcp: connection refused")
	if got := short(plain); got != plain {
		t.Errorf("short(plain): got %v, want it unchanged", got)
	}
}
