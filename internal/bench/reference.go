package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/archive/reference"
)

// ReferenceHandler is the handler a careful engineer would write first,
// with the libraries everyone uses: decode the event into aws-lambda-go's
// events.DynamoDBEvent, keep the TTL deletions, turn each image into Go
// values with the SDK's attributevalue package (numbers kept as
// attributevalue.Number, so no digit is lost), write each line with
// encoding/json and send the lines with PutRecordBatch, 500 records or
// 4 MiB at a time, reporting the records of a failed call as batch item
// failures.
//
// It writes the same lines as archive.Archiver in FormatJSON (a test holds
// it to that), so the two do the same work and their CPU can be compared.
// It does not retry, pack, gzip oversize items or archive broken records
// raw: those are what the archiver adds, not what it costs.
type ReferenceHandler struct {
	Client archive.FirehoseAPI
	Stream string
}

// Invoke has the signature of lambda.Handler, like archive.Archiver.Invoke.
func (h *ReferenceHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode stream event: %w", err)
	}
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	var (
		lines [][]byte
		seqs  []string
		buf   bytes.Buffer
	)
	for _, r := range ev.Records {
		if !isTTLDelete(r) {
			continue
		}
		line, err := referenceLine(&buf, r)
		if err != nil {
			// The straightforward handler has nowhere better to put it.
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			continue
		}
		lines = append(lines, line)
		seqs = append(seqs, r.Change.SequenceNumber)
	}
	for first := 0; first < len(lines); {
		last, size := first, 0
		for last < len(lines) && last-first < archive.MaxRecordsPerCall && size+len(lines[last]) <= archive.MaxBytesPerCall {
			size += len(lines[last])
			last++
		}
		recs := make([]fhtypes.Record, 0, last-first)
		for _, l := range lines[first:last] {
			recs = append(recs, fhtypes.Record{Data: l})
		}
		out, err := h.Client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(h.Stream), Records: recs})
		for i := first; i < last; i++ {
			failed := err != nil
			if !failed && aws.ToInt32(out.FailedPutCount) > 0 && i-first < len(out.RequestResponses) {
				failed = aws.ToString(out.RequestResponses[i-first].ErrorCode) != ""
			}
			if failed {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seqs[i]})
			}
		}
		first = last
	}
	return json.Marshal(resp)
}

func isTTLDelete(r events.DynamoDBEventRecord) bool {
	return r.EventName == "REMOVE" && r.UserIdentity != nil &&
		r.UserIdentity.Type == "Service" && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com"
}

// referenceLine writes one archive line, newline included.
func referenceLine(buf *bytes.Buffer, r events.DynamoDBEventRecord) ([]byte, error) {
	keys, err := referenceImage(r.Change.Keys)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	item := json.RawMessage("null")
	if r.Change.OldImage != nil {
		if item, err = referenceImage(r.Change.OldImage); err != nil {
			return nil, fmt.Errorf("old image: %w", err)
		}
	}
	table, region := tableAndRegion(r.EventSourceArn)
	// events.SecondsEpochTime parses the seconds as a float64, so
	// 1763856000.123 comes back as .122999906; rounding to the microsecond
	// gives back the digits the stream sent.
	deleted := r.Change.ApproximateCreationDateTime.UTC().Round(time.Microsecond)
	l := archive.Line{
		Table:          table,
		Region:         region,
		EventID:        r.EventID,
		SequenceNumber: r.Change.SequenceNumber,
		DeletedAt:      &deleted,
		Keys:           keys,
		Item:           item,
	}
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil { // Encode ends the line with "\n"
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// referenceImage converts an image the attributevalue way: into the SDK's
// types.AttributeValue, then Go values, then JSON.
func referenceImage(image map[string]events.DynamoDBAttributeValue) (json.RawMessage, error) {
	m := make(map[string]types.AttributeValue, len(image))
	for k, v := range image {
		av, err := sdkValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = av
	}
	var out map[string]any
	dec := attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) { o.UseNumber = true })
	if err := dec.Decode(&types.AttributeValueMemberM{Value: m}, &out); err != nil {
		return nil, fmt.Errorf("attributevalue: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reference.NumbersAsJSON(out)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sdkValue turns aws-lambda-go's attribute value into the SDK's.
func sdkValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := make([]types.AttributeValue, 0, len(v.List()))
		for _, e := range v.List() {
			av, err := sdkValue(e)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m := make(map[string]types.AttributeValue, len(v.Map()))
		for k, e := range v.Map() {
			av, err := sdkValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = av
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, errors.New("unknown attribute type")
}

// tableAndRegion reads arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL.
func tableAndRegion(arn string) (table, region string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	name, _ := strings.CutPrefix(parts[5], "table/")
	name, _, _ = strings.Cut(name, "/")
	return name, parts[3]
}
