package samtemplate_test

import (
	"fmt"
	"log"

	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

func ExampleFirehoseDelivery() {
	tpl, err := samtemplate.Parse([]byte(`
Parameters:
  ArchivePrefix: {Type: String, Default: archive/}
Resources:
  Stream:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration:
        BucketARN: !GetAtt Bucket.Arn
        RoleARN: arn:aws:iam::123456789012:role/firehose
        Prefix: !Sub '${ArchivePrefix}table=!{partitionKeyFromQuery:table}/'
        CompressionFormat: GZIP
        DynamicPartitioningConfiguration: {Enabled: true}
  Bucket:
    Type: AWS::S3::Bucket
`))
	if err != nil {
		log.Fatal(err)
	}
	d, err := samtemplate.FirehoseDelivery(tpl, map[string]string{"ArchivePrefix": "ttl/"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Prefix, d.CompressionFormat)
	// Output: ttl/table=!{partitionKeyFromQuery:table}/ GZIP
}

func ExampleParseFilterPattern() {
	p, err := samtemplate.ParseFilterPattern(`{"eventName":["REMOVE"],"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}`)
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range []string{
		`{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`,
		`{"eventName":"REMOVE"}`,
	} {
		ok, err := p.MatchJSON([]byte(rec))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ok)
	}
	// Output:
	// true
	// false
}

func ExampleResolver_ResolvePartial() {
	tpl, err := samtemplate.Parse([]byte(`
Parameters:
  Prefix: {Type: String, Default: archive/}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - {Key: objects, Value: !Sub '${Bucket.Arn}/${Prefix}*'}
`))
	if err != nil {
		log.Fatal(err)
	}
	r, err := samtemplate.NewResolver(tpl, nil)
	if err != nil {
		log.Fatal(err)
	}
	v, err := r.ResolvePartial(tpl.Resources["Bucket"].Properties)
	if err != nil {
		log.Fatal(err)
	}
	tag, _ := samtemplate.Lookup(v, "Tags", "0", "Value")
	fmt.Println(tag)
	// Output: map[Fn::Sub:${Bucket.Arn}/archive/*]
}
