// Package doctortest deploys, in moto_server, what a healthy archiver
// deployment looks like to ttl-archiver doctor, for the tests of the
// doctor package and of the command.
package doctortest

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

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
)

// Deployment names what Deploy made.
type Deployment struct {
	Table, Stack, Function, DeliveryStream, Bucket, Topic string
	StreamArn, MappingUUID                                string
}

// TTLPattern is the TTL filter as template.yaml writes it.
const TTLPattern = `{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`

// template is the stack: the function's role and the alarm topic as
// resources, the other outputs literal names of what Deploy makes
// beside it (moto's CloudFormation makes neither a Firehose stream to S3
// nor a mapping as the real template does).
const template = `{
  "Resources": {
    "FunctionRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17",
      "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
    "AlarmTopic": {"Type": "AWS::SNS::Topic"}
  },
  "Outputs": {
    "ArchiveBucketName": {"Value": "%[1]s"},
    "ArchiveLocation": {"Value": "s3://%[1]s/archive/"},
    "DeliveryStreamName": {"Value": "%[2]s"},
    "FunctionName": {"Value": "%[3]s"},
    "AlarmTopic": {"Value": {"Ref": "AlarmTopic"}},
    "RoleArn": {"Value": {"Fn::GetAtt": ["FunctionRole", "Arn"]}}
  }
}`

// Deploy makes, with cfg (a moto_server's), a table Orders with a
// NEW_AND_OLD_IMAGES stream, TTL on expires_at and PITR; an archive
// bucket and a Firehose stream into it; a stack ttl-archiver whose
// outputs name them, with an alarm topic that has an email
// subscription; and the function with its mapping on the stream, as
// template.yaml sets it.
func Deploy(t testing.TB, cfg aws.Config) Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := Deployment{Table: "Orders", Stack: "ttl-archiver", Function: "ttl-archiver-ArchiverFunction-1",
		DeliveryStream: "ttl-archiver-ArchiveStream-1", Bucket: "ttl-archiver-archivebucket-1"}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("deploy: %s: %v", what, err)
		}
	}
	db := dynamodb.NewFromConfig(cfg)
	out, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(d.Table),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
		StreamSpecification:  &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dbtypes.StreamViewTypeNewAndOldImages},
	})
	must("create table", err)
	d.StreamArn = aws.ToString(out.TableDescription.LatestStreamArn)
	_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(d.Table),
		PointInTimeRecoverySpecification: &dbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	must("enable PITR", err)

	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(d.Bucket)})
	must("create bucket", err)
	_, err = firehose.NewFromConfig(cfg).CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(d.DeliveryStream),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::" + d.Bucket), RoleARN: aws.String("arn:aws:iam::123456789012:role/firehose"),
			Prefix: aws.String("archive/"),
		},
	})
	must("create delivery stream", err)

	cf := cloudformation.NewFromConfig(cfg)
	_, err = cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(d.Stack),
		TemplateBody: aws.String(fmt.Sprintf(template, d.Bucket, d.DeliveryStream, d.Function))})
	must("create stack", err)
	st, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(d.Stack)})
	must("describe stack", err)
	if len(st.Stacks) != 1 || st.Stacks[0].StackStatus != cftypes.StackStatusCreateComplete {
		t.Fatalf("deploy: stack: got %+v, want one, CREATE_COMPLETE", st.Stacks)
	}
	outputs := map[string]string{}
	for _, o := range st.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	d.Topic = outputs["AlarmTopic"]
	_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(d.Topic),
		Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com")})
	must("subscribe", err)

	// moto stores the function without running it (that needs Docker).
	lc := lambda.NewFromConfig(cfg)
	_, err = lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(d.Function),
		Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Role: aws.String(outputs["RoleArn"]),
		Architectures: []ltypes.Architecture{ltypes.ArchitectureArm64},
		Code:          &ltypes.FunctionCode{ZipFile: bootstrapZip(t)}})
	must("create function", err)
	m, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(d.Function), EventSourceArn: aws.String(d.StreamArn),
		StartingPosition:      ltypes.EventSourcePositionTrimHorizon,
		FilterCriteria:        &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(TTLPattern)}}},
		FunctionResponseTypes: []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures},
		Enabled:               aws.Bool(true),
	})
	must("create event source mapping", err)
	d.MappingUUID = aws.ToString(m.UUID)

	// TTL last, as the README orders it.
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(d.Table),
		TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expires_at")}})
	must("enable TTL", err)
	return d
}

// bootstrapZip is a function package: a zip holding a file bootstrap.
func bootstrapZip(t testing.TB) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create("bootstrap")
	if err == nil {
		_, err = w.Write([]byte("#!/bin/sh\n"))
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	return b.Bytes()
}
