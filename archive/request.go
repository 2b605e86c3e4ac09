package archive

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// withExactBody is a per-call option of the Firehose client that writes
// the PutRecordBatch request body in one allocation of its final size.
//
// The SDK's JSON serializer (smithy-go's ShapeSerializer) appends each
// record's base64 to a buffer that starts empty and grows step by step,
// then copies the result into the request: a call of 4 MB of records
// allocates about 40 MB for a body of 5.3 MB (TestExactBodyAllocatesOnce),
// and holds up to twice the body at once. That was most of what the
// function allocated, and half of its CPU went to it and to collecting
// it. The body written here is the same bytes (TestExactBodyMatchesSDK
// checks it against the SDK's own).
func withExactBody(o *firehose.Options) {
	if o.Protocol != nil {
		o.Protocol = exactBodyProtocol{o.Protocol}
	}
}

// exactBodyProtocol is the SDK's protocol (awsJson 1.1 for Firehose) with
// PutRecordBatch's body written in one piece; every other call, and every
// part of the request but the body, is the SDK's.
type exactBodyProtocol struct{ smithyhttp.ClientProtocol }

// recordsSuffix ends the SDK's body of a PutRecordBatch input whose
// Records are empty: Records is the last member it writes.
const recordsSuffix = `"Records":[]}`

// SerializeRequest lets the SDK write the request with no records (the
// method, path, headers and every other member of the input), then puts
// the records into that body, base64-encoded as the SDK encodes blobs.
// Inputs it does not expect go to the SDK whole.
func (p exactBodyProtocol) SerializeRequest(ctx context.Context, op *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	input, ok := in.(*firehose.PutRecordBatchInput)
	if !ok || len(input.Records) == 0 || slices.ContainsFunc(input.Records, func(r types.Record) bool { return r.Data == nil }) {
		return p.ClientProtocol.SerializeRequest(ctx, op, in, req)
	}
	head := *input
	head.Records = []types.Record{}
	if err := p.ClientProtocol.SerializeRequest(ctx, op, &head, req); err != nil {
		return err
	}
	var prefix []byte
	if s := req.GetStream(); s != nil {
		var err error
		if prefix, err = io.ReadAll(s); err != nil {
			return err
		}
	}
	prefix, ok = bytes.CutSuffix(prefix, []byte(recordsSuffix))
	if !ok {
		return p.ClientProtocol.SerializeRequest(ctx, op, in, req)
	}
	prefix = append(prefix, recordsSuffix[:len(recordsSuffix)-2]...) // `"Records":[`
	const recordOpen, recordClose = `{"Data":"`, `"}`
	size := len(prefix) + len("]}")
	for _, r := range input.Records {
		size += len(recordOpen) + base64.StdEncoding.EncodedLen(len(r.Data)) + len(recordClose) + len(",")
	}
	body := make([]byte, 0, size)
	body = append(body, prefix...)
	for i, r := range input.Records {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, recordOpen...)
		body = base64.StdEncoding.AppendEncode(body, r.Data)
		body = append(body, recordClose...)
	}
	body = append(body, ']', '}')
	sreq, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return err
	}
	*req = *sreq
	return nil
}
