package doctor

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// DynamoDBAPI is what the checks call of DynamoDB.
type DynamoDBAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
}

// LambdaAPI is what the checks call of Lambda. It is also the SDK's
// lambda.ListEventSourceMappingsAPIClient, for its paginator.
type LambdaAPI interface {
	ListEventSourceMappings(context.Context, *lambda.ListEventSourceMappingsInput, ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
}

// FirehoseAPI is what the checks call of Firehose.
type FirehoseAPI interface {
	DescribeDeliveryStream(context.Context, *firehose.DescribeDeliveryStreamInput, ...func(*firehose.Options)) (*firehose.DescribeDeliveryStreamOutput, error)
}

// S3API is what the checks call of S3.
type S3API interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// SNSAPI is what the checks call of SNS. It is also the SDK's
// sns.ListSubscriptionsByTopicAPIClient, for its paginator.
type SNSAPI interface {
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

// CloudFormationAPI is what the checks call of CloudFormation.
type CloudFormationAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

var (
	_ DynamoDBAPI       = (*dynamodb.Client)(nil)
	_ LambdaAPI         = (*lambda.Client)(nil)
	_ FirehoseAPI       = (*firehose.Client)(nil)
	_ S3API             = (*s3.Client)(nil)
	_ SNSAPI            = (*sns.Client)(nil)
	_ CloudFormationAPI = (*cloudformation.Client)(nil)

	_ lambda.ListEventSourceMappingsAPIClient = LambdaAPI(nil)
	_ sns.ListSubscriptionsByTopicAPIClient   = SNSAPI(nil)
)

// Clients are the clients of one region.
type Clients struct {
	DynamoDB       DynamoDBAPI
	Lambda         LambdaAPI
	Firehose       FirehoseAPI
	S3             S3API
	SNS            SNSAPI
	CloudFormation CloudFormationAPI
}
