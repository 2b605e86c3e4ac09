package samtemplate_test

import (
	"errors"
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

func ExampleResolver_String() {
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
	tag, _ := samtemplate.Lookup(tpl.Resources["Bucket"].Properties, "Tags", "0", "Value")
	if _, err := r.String(tag); errors.Is(err, samtemplate.ErrUnresolved) {
		fmt.Println("unresolved until deployed")
	}
	// A local stand-in supplies what a deployment would.
	r.Attrs["Bucket.Arn"] = "arn:aws:s3:::my-bucket"
	s, err := r.String(tag)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	// Output:
	// unresolved until deployed
	// arn:aws:s3:::my-bucket/archive/*
}
