package doctor

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// fake is one region of AWS as the checks see it: every client at once,
// answering from its fields. A nil pointer answer with no error is what
// the SDK gives for an empty body.
type fake struct {
	table    *dbtypes.TableDescription
	tableErr error
	ttl      *dbtypes.TimeToLiveDescription
	ttlErr   error
	pitr     dbtypes.PointInTimeRecoveryStatus
	pitrErr  error

	// mappings are filtered by EventSourceArn and FunctionName (name or
	// ARN) as Lambda does; pageSize > 0 answers in pages of that size.
	mappings    []mapping
	mappingsErr error
	pageSize    int

	delivery    fhtypes.DeliveryStreamStatus
	deliveryErr error
	headErr     error

	subs    map[string][]snstypes.Subscription
	subsErr error

	stacks   map[string]cftypes.Stack
	stackErr error
}

var (
	_ DynamoDBAPI       = (*fake)(nil)
	_ LambdaAPI         = (*fake)(nil)
	_ FirehoseAPI       = (*fake)(nil)
	_ S3API             = (*fake)(nil)
	_ SNSAPI            = (*fake)(nil)
	_ CloudFormationAPI = (*fake)(nil)
)

func (f *fake) clients() Clients {
	return Clients{DynamoDB: f, Lambda: f, Firehose: f, S3: f, SNS: f, CloudFormation: f}
}

func (f *fake) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if f.tableErr != nil {
		return nil, f.tableErr
	}
	if f.table == nil || aws.ToString(f.table.TableName) != aws.ToString(in.TableName) {
		return nil, &dbtypes.ResourceNotFoundException{Message: aws.String("Requested resource not found: Table: " + aws.ToString(in.TableName) + " not found")}
	}
	return &dynamodb.DescribeTableOutput{Table: f.table}, nil
}

func (f *fake) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	if f.ttlErr != nil {
		return nil, f.ttlErr
	}
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: f.ttl}, nil
}

func (f *fake) DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	if f.pitrErr != nil {
		return nil, f.pitrErr
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &dbtypes.ContinuousBackupsDescription{
		ContinuousBackupsStatus:        dbtypes.ContinuousBackupsStatusEnabled,
		PointInTimeRecoveryDescription: &dbtypes.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: f.pitr},
	}}, nil
}

func (f *fake) ListEventSourceMappings(_ context.Context, in *lambda.ListEventSourceMappingsInput, _ ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	if f.mappingsErr != nil {
		return nil, f.mappingsErr
	}
	var ms []mapping
	for _, m := range f.mappings {
		if in.EventSourceArn != nil && aws.ToString(m.EventSourceArn) != aws.ToString(in.EventSourceArn) {
			continue
		}
		if in.FunctionName != nil && functionName(aws.ToString(m.FunctionArn)) != functionName(aws.ToString(in.FunctionName)) {
			continue
		}
		ms = append(ms, m)
	}
	if f.pageSize == 0 {
		return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: ms}, nil
	}
	start := 0
	if in.Marker != nil {
		_, _ = fmt.Sscan(*in.Marker, &start)
	}
	end := min(start+f.pageSize, len(ms))
	out := &lambda.ListEventSourceMappingsOutput{EventSourceMappings: ms[start:end]}
	if end < len(ms) {
		out.NextMarker = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func (f *fake) DescribeDeliveryStream(_ context.Context, in *firehose.DescribeDeliveryStreamInput, _ ...func(*firehose.Options)) (*firehose.DescribeDeliveryStreamOutput, error) {
	if f.deliveryErr != nil {
		return nil, f.deliveryErr
	}
	return &firehose.DescribeDeliveryStreamOutput{DeliveryStreamDescription: &fhtypes.DeliveryStreamDescription{
		DeliveryStreamName: in.DeliveryStreamName, DeliveryStreamStatus: f.delivery,
	}}, nil
}

func (f *fake) HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	if f.headErr != nil {
		return nil, f.headErr
	}
	return &s3.HeadBucketOutput{}, nil
}

func (f *fake) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	if f.subsErr != nil {
		return nil, f.subsErr
	}
	subs, ok := f.subs[aws.ToString(in.TopicArn)]
	if !ok {
		return nil, &snstypes.NotFoundException{Message: aws.String("Topic does not exist")}
	}
	return &sns.ListSubscriptionsByTopicOutput{Subscriptions: subs}, nil
}

func (f *fake) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	if f.stackErr != nil {
		return nil, f.stackErr
	}
	s, ok := f.stacks[aws.ToString(in.StackName)]
	if !ok {
		// CloudFormation's answer for a stack it does not know.
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + aws.ToString(in.StackName) + " does not exist"}
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cftypes.Stack{s}}, nil
}

// The names in the healthy fake.
const (
	table    = "Orders"
	account  = "123456789012"
	fnName   = "ttl-archiver-ArchiverFunction-AbC123"
	topicArn = "arn:aws:sns:us-east-1:123456789012:ttl-archiver-AlarmTopic-XyZ"
)

func tableArn(region string) string {
	return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + table
}

func streamArn(region, label string) string { return tableArn(region) + "/stream/" + label }

func fnArn(region, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

var (
	currentLabel = "2025-11-20T10:00:00.000"
	oldLabel     = "2025-01-02T03:04:05.678"
)

// ourMapping is the mapping template.yaml makes, in region.
func ourMapping(region string) mapping {
	return ltypes.EventSourceMappingConfiguration{
		UUID:                  aws.String("uuid-ours-" + region),
		EventSourceArn:        aws.String(streamArn(region, currentLabel)),
		FunctionArn:           aws.String(fnArn(region, fnName)),
		State:                 aws.String("Enabled"),
		StartingPosition:      ltypes.EventSourcePositionTrimHorizon,
		FilterCriteria:        &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(TTLFilterPattern)}}},
		FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
	}
}

// otherMapping is a mapping of another function on the current stream.
func otherMapping(region, fn string) mapping {
	return ltypes.EventSourceMappingConfiguration{
		UUID:             aws.String("uuid-" + fn),
		EventSourceArn:   aws.String(streamArn(region, currentLabel)),
		FunctionArn:      aws.String(fnArn(region, fn)),
		State:            aws.String("Enabled"),
		StartingPosition: ltypes.EventSourcePositionLatest,
	}
}

func ourStack(status cftypes.StackStatus, topic bool) cftypes.Stack {
	outputs := []cftypes.Output{
		{OutputKey: aws.String(outputBucket), OutputValue: aws.String("ttl-archiver-archivebucket-1")},
		{OutputKey: aws.String(outputStream), OutputValue: aws.String("ttl-archiver-ArchiveStream-1")},
		{OutputKey: aws.String(outputFunction), OutputValue: aws.String(fnName)},
		{OutputKey: aws.String("ArchiveLocation"), OutputValue: aws.String("s3://ttl-archiver-archivebucket-1/archive/")},
	}
	if topic {
		outputs = append(outputs, cftypes.Output{OutputKey: aws.String(outputTopic), OutputValue: aws.String(topicArn)})
	}
	return cftypes.Stack{StackName: aws.String(DefaultStack), StackStatus: status, Outputs: outputs,
		Parameters: []cftypes.Parameter{{ParameterKey: aws.String(paramTopic), ParameterValue: aws.String("")}}}
}

func confirmed(topic, endpoint string) snstypes.Subscription {
	return snstypes.Subscription{TopicArn: aws.String(topic), Protocol: aws.String("email"), Endpoint: aws.String(endpoint),
		SubscriptionArn: aws.String(topic + ":0f15a2cf-b8d1-467d-a451-1d4ac67663b0")}
}

func pending(topic, endpoint string) snstypes.Subscription {
	return snstypes.Subscription{TopicArn: aws.String(topic), Protocol: aws.String("email"), Endpoint: aws.String(endpoint),
		SubscriptionArn: aws.String(pendingConfirmation)}
}

// healthy returns a region of a deployment every check passes.
func healthy(region string) *fake {
	return &fake{
		table: &dbtypes.TableDescription{
			TableName:           aws.String(table),
			TableArn:            aws.String(tableArn(region)),
			StreamSpecification: &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dbtypes.StreamViewTypeNewAndOldImages},
			LatestStreamArn:     aws.String(streamArn(region, currentLabel)),
		},
		ttl:      &dbtypes.TimeToLiveDescription{TimeToLiveStatus: dbtypes.TimeToLiveStatusEnabled, AttributeName: aws.String("expires_at")},
		pitr:     dbtypes.PointInTimeRecoveryStatusEnabled,
		mappings: []mapping{ourMapping(region)},
		delivery: fhtypes.DeliveryStreamStatusActive,
		subs:     map[string][]snstypes.Subscription{topicArn: {confirmed(topicArn, "ops@example.com")}},
		stacks:   map[string]cftypes.Stack{DefaultStack: ourStack(cftypes.StackStatusCreateComplete, true)},
	}
}

// errDenied is an API error as AWS answers a call the credentials may
// not make.
var errDenied = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform this action"}
