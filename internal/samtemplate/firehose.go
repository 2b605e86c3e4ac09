package samtemplate

import (
	"errors"
	"fmt"
)

// ErrNoDeliveryStream is returned by [FirehoseDelivery] for a template
// without an S3 Firehose stream that exists under the parameters.
var ErrNoDeliveryStream = errors.New("no Firehose delivery stream to S3")

// DeliveryConfig is how a Firehose stream delivers to S3, with every value
// resolved for one set of parameters.
type DeliveryConfig struct {
	// LogicalID of the AWS::KinesisFirehose::DeliveryStream resource.
	LogicalID string
	// StreamType is DeliveryStreamType ("DirectPut" when not set).
	StreamType string
	// Prefix is the S3 key prefix with its Firehose expressions left in,
	// e.g. "archive/table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/",
	// and ErrorOutputPrefix the one for records Firehose could not deliver.
	Prefix, ErrorOutputPrefix string
	// CompressionFormat: "GZIP", "UNCOMPRESSED", ...
	CompressionFormat string
	// BufferSizeMiB and BufferIntervalSeconds are the buffering hints
	// (Firehose's defaults, 5 MiB and 300 s, when not set).
	BufferSizeMiB, BufferIntervalSeconds int
	// DynamicPartitioning is whether partitions come from the records.
	DynamicPartitioning bool
	// MetadataExtractionQuery is the JQ query of the MetadataExtraction
	// processor ("" when there is none), and JSONParsingEngine its engine.
	MetadataExtractionQuery, JSONParsingEngine string
	// RecordDeAggregation is whether records are split into several, and
	// DeAggregationType how ("JSON" or "DELIMITED").
	RecordDeAggregation bool
	DeAggregationType   string
	// AppendDelimiterToRecord is whether Firehose appends a newline to each
	// record.
	AppendDelimiterToRecord bool
}

// FirehoseDelivery reads the template's Firehose stream to S3 with the given
// parameter values (nil for all defaults). Prefixes may use !Sub of
// parameters; processors may be switched by Fn::If on conditions.
func FirehoseDelivery(t *Template, params map[string]string) (DeliveryConfig, error) {
	r, err := NewResolver(t, params)
	if err != nil {
		return DeliveryConfig{}, err
	}
	var found []Resource
	for _, res := range r.Template().ResourcesOfType("AWS::KinesisFirehose::DeliveryStream") {
		exists, err := r.Exists(res)
		if err != nil {
			return DeliveryConfig{}, fmt.Errorf("%s: %w", res.LogicalID, err)
		}
		if _, isS3 := res.Properties["ExtendedS3DestinationConfiguration"]; exists && isS3 {
			found = append(found, res)
		}
	}
	switch len(found) {
	case 0:
		return DeliveryConfig{}, ErrNoDeliveryStream
	case 1:
		return deliveryConfig(r, found[0])
	}
	return DeliveryConfig{}, fmt.Errorf("%d Firehose streams to S3 (%s, %s, ...): want one", len(found), found[0].LogicalID, found[1].LogicalID)
}

func deliveryConfig(r *Resolver, res Resource) (DeliveryConfig, error) {
	c := DeliveryConfig{LogicalID: res.LogicalID, StreamType: "DirectPut", CompressionFormat: "UNCOMPRESSED", BufferSizeMiB: 5, BufferIntervalSeconds: 300}
	props, err := r.ResolvePartial(res.Properties)
	dest := get(props, "ExtendedS3DestinationConfiguration")
	var processing bool
	// Each value the stand-in needs, at its path in the properties; a value
	// not written keeps Firehose's default.
	for _, f := range []struct {
		v   any
		dst any
	}{
		{get(props, "DeliveryStreamType"), &c.StreamType},
		{get(dest, "Prefix"), &c.Prefix},
		{get(dest, "ErrorOutputPrefix"), &c.ErrorOutputPrefix},
		{get(dest, "CompressionFormat"), &c.CompressionFormat},
		{get(dest, "BufferingHints", "SizeInMBs"), &c.BufferSizeMiB},
		{get(dest, "BufferingHints", "IntervalInSeconds"), &c.BufferIntervalSeconds},
		{get(dest, "DynamicPartitioningConfiguration", "Enabled"), &c.DynamicPartitioning},
		{get(dest, "ProcessingConfiguration", "Enabled"), &processing},
	} {
		if f.v == nil || err != nil {
			continue
		}
		switch dst := f.dst.(type) {
		case *string:
			*dst, err = literalString(f.v)
		case *int:
			var ok bool
			if *dst, ok = toInt(f.v); !ok {
				err = fmt.Errorf("%s is not a whole number", kindOf(f.v))
			}
		case *bool:
			*dst, err = literalBool(f.v)
		}
	}
	processors, _ := get(dest, "ProcessingConfiguration", "Processors").([]any)
	for i := 0; processing && err == nil && i < len(processors); i++ {
		var typ string
		var params map[string]string
		if typ, params, err = processor(processors[i]); err != nil {
			err = fmt.Errorf("processor %d: %w", i, err)
		}
		switch typ {
		case "MetadataExtraction":
			c.MetadataExtractionQuery = params["MetadataExtractionQuery"]
			c.JSONParsingEngine = params["JsonParsingEngine"]
		case "RecordDeAggregation":
			c.RecordDeAggregation = true
			c.DeAggregationType = params["SubRecordType"]
		case "AppendDelimiterToRecord":
			c.AppendDelimiterToRecord = true
		}
	}
	if err != nil {
		return DeliveryConfig{}, fmt.Errorf("%s: %w", res.LogicalID, err)
	}
	return c, nil
}

// processor returns a Firehose processor's type and parameters.
func processor(v any) (string, map[string]string, error) {
	typ, err := literalString(get(v, "Type"))
	if err != nil {
		return "", nil, fmt.Errorf("type: %w", err)
	}
	params := map[string]string{}
	list, _ := get(v, "Parameters").([]any)
	for i, e := range list {
		name, err := literalString(get(e, "ParameterName"))
		if err != nil {
			return "", nil, fmt.Errorf("parameter %d name: %w", i, err)
		}
		if params[name], err = literalString(get(e, "ParameterValue")); err != nil {
			return "", nil, fmt.Errorf("parameter %s: %w", name, err)
		}
	}
	return typ, params, nil
}

// get is [Lookup] with nil for a missing value.
func get(v any, path ...string) any {
	x, _ := Lookup(v, path...)
	return x
}

// literalString accepts a resolved scalar; a value still holding an
// intrinsic function is an error naming it.
func literalString(v any) (string, error) {
	if containsIntrinsic(v) {
		return "", fmt.Errorf("%s depends on a deployed resource; use a literal or !Sub of parameters", kindOf(v))
	}
	if v == nil {
		return "", errors.New("missing")
	}
	return scalarString(v)
}

func literalBool(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		if x == "true" || x == "false" {
			return x == "true", nil
		}
	}
	return false, fmt.Errorf("%v is not true or false", v)
}
