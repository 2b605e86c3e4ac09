package samtemplate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DeliveryStreamType is the CloudFormation type of a Firehose stream.
const DeliveryStreamType = "AWS::KinesisFirehose::DeliveryStream"

// Firehose processor types and parameters the archive stream uses.
const (
	ProcessorMetadataExtraction      = "MetadataExtraction"
	ProcessorRecordDeAggregation     = "RecordDeAggregation"
	ProcessorAppendDelimiterToRecord = "AppendDelimiterToRecord"

	ParamMetadataExtractionQuery = "MetadataExtractionQuery"
	ParamJSONParsingEngine       = "JsonParsingEngine"
	ParamSubRecordType           = "SubRecordType"
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
	// e.g. "archive/table=!{partitionKeyFromQuery:table}/dt=!{partitionKeyFromQuery:dt}/".
	Prefix string
	// ErrorOutputPrefix, e.g. "firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/".
	ErrorOutputPrefix string
	// CompressionFormat: "GZIP", "UNCOMPRESSED", ...
	CompressionFormat string
	// BufferSizeMiB and BufferIntervalSeconds are the buffering hints
	// (Firehose's defaults, 5 MiB and 300 s, when not set).
	BufferSizeMiB         int
	BufferIntervalSeconds int
	// DynamicPartitioning is whether partitions come from the records.
	DynamicPartitioning bool
	// ProcessingEnabled is ProcessingConfiguration.Enabled; the processors
	// below are listed only when it is true.
	ProcessingEnabled bool
	// Processors in the order they are declared.
	Processors []Processor
	// MetadataExtractionQuery is the JQ query of the MetadataExtraction
	// processor ("" when there is none), and JSONParsingEngine its engine
	// ("JQ-1.6").
	MetadataExtractionQuery string
	JSONParsingEngine       string
	// RecordDeAggregation is whether records are split into several
	// (multi-record de-aggregation), and DeAggregationType how ("JSON" or
	// "DELIMITED").
	RecordDeAggregation bool
	DeAggregationType   string
	// AppendDelimiterToRecord is whether Firehose appends a newline to each
	// record.
	AppendDelimiterToRecord bool
}

// Processor is one Firehose data processor.
type Processor struct {
	Type       string
	Parameters map[string]string
}

// Firehose's defaults for the buffering hints of an S3 destination.
const (
	defaultBufferSizeMiB   = 5
	defaultBufferIntervalS = 300
)

// FirehoseDelivery reads the template's Firehose stream to S3 with the given
// parameter values (nil for all defaults). Prefixes may use !Sub of
// parameters; processors may be switched by Fn::If on conditions.
func FirehoseDelivery(t *Template, params map[string]string) (DeliveryConfig, error) {
	r, err := NewResolver(t, params)
	if err != nil {
		return DeliveryConfig{}, err
	}
	var found []Resource
	for _, res := range t.ResourcesOfType(DeliveryStreamType) {
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
	default:
		return DeliveryConfig{}, fmt.Errorf("%d Firehose streams to S3 (%s, %s, ...): want one", len(found), found[0].LogicalID, found[1].LogicalID)
	}
	return deliveryConfig(r, found[0])
}

func deliveryConfig(r *Resolver, res Resource) (DeliveryConfig, error) {
	fail := func(format string, a ...any) (DeliveryConfig, error) {
		return DeliveryConfig{}, fmt.Errorf("%s: %s", res.LogicalID, fmt.Sprintf(format, a...))
	}
	props, err := r.ResolvePartial(res.Properties)
	if err != nil {
		return fail("%v", err)
	}
	pm, _ := props.(map[string]any)
	c := DeliveryConfig{
		LogicalID:             res.LogicalID,
		StreamType:            "DirectPut",
		CompressionFormat:     "UNCOMPRESSED",
		BufferSizeMiB:         defaultBufferSizeMiB,
		BufferIntervalSeconds: defaultBufferIntervalS,
	}
	if v, ok := pm["DeliveryStreamType"]; ok {
		if c.StreamType, err = literalString(v); err != nil {
			return fail("DeliveryStreamType: %v", err)
		}
	}
	dest, ok := pm["ExtendedS3DestinationConfiguration"].(map[string]any)
	if !ok {
		return fail("ExtendedS3DestinationConfiguration is %s", kindOf(pm["ExtendedS3DestinationConfiguration"]))
	}
	for key, dst := range map[string]*string{"Prefix": &c.Prefix, "ErrorOutputPrefix": &c.ErrorOutputPrefix, "CompressionFormat": &c.CompressionFormat} {
		if v, ok := dest[key]; ok {
			if *dst, err = literalString(v); err != nil {
				return fail("%s: %v", key, err)
			}
		}
	}
	if hints, ok := dest["BufferingHints"].(map[string]any); ok {
		for key, dst := range map[string]*int{"SizeInMBs": &c.BufferSizeMiB, "IntervalInSeconds": &c.BufferIntervalSeconds} {
			if v, ok := hints[key]; ok {
				n, ok := toInt(v)
				if !ok {
					return fail("BufferingHints.%s is %s, want a whole number", key, kindOf(v))
				}
				*dst = n
			}
		}
	}
	if dp, ok := dest["DynamicPartitioningConfiguration"].(map[string]any); ok {
		if c.DynamicPartitioning, err = literalBool(dp["Enabled"]); err != nil {
			return fail("DynamicPartitioningConfiguration.Enabled: %v", err)
		}
	}
	pc, ok := dest["ProcessingConfiguration"].(map[string]any)
	if !ok {
		return c, nil
	}
	if c.ProcessingEnabled, err = literalBool(pc["Enabled"]); err != nil {
		return fail("ProcessingConfiguration.Enabled: %v", err)
	}
	if !c.ProcessingEnabled {
		return c, nil
	}
	list, _ := pc["Processors"].([]any)
	for i, pv := range list {
		p, err := processor(pv)
		if err != nil {
			return fail("Processors[%d]: %v", i, err)
		}
		c.Processors = append(c.Processors, p)
		switch p.Type {
		case ProcessorMetadataExtraction:
			c.MetadataExtractionQuery = p.Parameters[ParamMetadataExtractionQuery]
			c.JSONParsingEngine = p.Parameters[ParamJSONParsingEngine]
		case ProcessorRecordDeAggregation:
			c.RecordDeAggregation = true
			c.DeAggregationType = p.Parameters[ParamSubRecordType]
		case ProcessorAppendDelimiterToRecord:
			c.AppendDelimiterToRecord = true
		}
	}
	return c, nil
}

func processor(v any) (Processor, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Processor{}, fmt.Errorf("is %s, want a mapping", kindOf(v))
	}
	typ, err := literalString(m["Type"])
	if err != nil {
		return Processor{}, fmt.Errorf("processor type: %w", err)
	}
	p := Processor{Type: typ, Parameters: map[string]string{}}
	params, _ := m["Parameters"].([]any)
	for i, e := range params {
		pm, ok := e.(map[string]any)
		if !ok {
			return Processor{}, fmt.Errorf("parameter %d is %s", i, kindOf(e))
		}
		name, err := literalString(pm["ParameterName"])
		if err != nil {
			return Processor{}, fmt.Errorf("parameter %d name: %w", i, err)
		}
		value, err := literalString(pm["ParameterValue"])
		if err != nil {
			return Processor{}, fmt.Errorf("parameter %d value: %w", i, err)
		}
		p.Parameters[name] = value
	}
	return p, nil
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
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("%q is not true or false", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("is %s, want true or false", kindOf(v))
}
