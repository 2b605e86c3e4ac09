package samtemplate_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

const firehoseTemplate = `
Parameters:
  Prefix: {Type: String, Default: 'data/'}
  Split: {Type: String, Default: 'no', AllowedValues: ['yes', 'no']}
  Size: {Type: Number, Default: 64}
Conditions:
  SplitOn: !Equals [!Ref Split, 'yes']
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Stream:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration:
        BucketARN: !GetAtt Bucket.Arn
        RoleARN: !GetAtt Role.Arn
        Prefix: !Sub '${Prefix}k=!{partitionKeyFromQuery:k}/'
        ErrorOutputPrefix: 'err/!{firehose:error-output-type}/'
        CompressionFormat: GZIP
        BufferingHints: {SizeInMBs: !Ref Size, IntervalInSeconds: 60}
        DynamicPartitioningConfiguration: {Enabled: 'true'}
        ProcessingConfiguration:
          Enabled: true
          Processors:
            - !If [SplitOn, {Type: RecordDeAggregation, Parameters: [{ParameterName: SubRecordType, ParameterValue: JSON}]}, !Ref AWS::NoValue]
            - Type: MetadataExtraction
              Parameters:
                - {ParameterName: MetadataExtractionQuery, ParameterValue: '{k: .k}'}
                - {ParameterName: JsonParsingEngine, ParameterValue: JQ-1.6}
  Role:
    Type: AWS::IAM::Role
`

func TestFirehoseDelivery(t *testing.T) {
	tpl := mustParse(t, firehoseTemplate)
	d, err := samtemplate.FirehoseDelivery(tpl, map[string]string{"Split": "yes", "Size": "128"})
	if err != nil {
		t.Fatalf("FirehoseDelivery: %v", err)
	}
	want := samtemplate.DeliveryConfig{
		LogicalID:               "Stream",
		StreamType:              "DirectPut",
		Prefix:                  "data/k=!{partitionKeyFromQuery:k}/",
		ErrorOutputPrefix:       "err/!{firehose:error-output-type}/",
		CompressionFormat:       "GZIP",
		BufferSizeMiB:           128,
		BufferIntervalSeconds:   60,
		DynamicPartitioning:     true,
		MetadataExtractionQuery: "{k: .k}",
		JSONParsingEngine:       "JQ-1.6",
		RecordDeAggregation:     true,
		DeAggregationType:       "JSON",
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("FirehoseDelivery =\n%+v\nwant\n%+v", d, want)
	}
	d, err = samtemplate.FirehoseDelivery(tpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.RecordDeAggregation || d.MetadataExtractionQuery != "{k: .k}" || d.BufferSizeMiB != 64 {
		t.Errorf("defaults: %+v", d)
	}
}

func TestFirehoseDeliveryErrors(t *testing.T) {
	stream := "  S:\n    Type: AWS::KinesisFirehose::DeliveryStream\n    Properties:\n      ExtendedS3DestinationConfiguration: {BucketARN: x, RoleARN: y, Prefix: %s}\n"
	cases := map[string]struct {
		src    string
		params map[string]string
	}{
		"no stream":      {"Resources:\n  B:\n    Type: AWS::S3::Bucket\n", nil},
		"two streams":    {"Resources:\n" + strings.Replace(stream, "%s", "a/", 1) + strings.Replace(strings.Replace(stream, "%s", "b/", 1), "  S:", "  T:", 1), nil},
		"deployed value": {"Resources:\n" + strings.Replace(stream, "%s", "!GetAtt B.Arn", 1) + "  B:\n    Type: AWS::S3::Bucket\n", nil},
		"bad parameter":  {firehoseTemplate, map[string]string{"Split": "maybe"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tpl := mustParse(t, c.src)
			if _, err := samtemplate.FirehoseDelivery(tpl, c.params); err == nil {
				t.Error("FirehoseDelivery succeeded")
			}
		})
	}
	tpl := mustParse(t, "Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
	if _, err := samtemplate.FirehoseDelivery(tpl, nil); !errors.Is(err, samtemplate.ErrNoDeliveryStream) {
		t.Errorf("no stream: %v, want ErrNoDeliveryStream", err)
	}
}
