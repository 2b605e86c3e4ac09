package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"sync"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// requestBody is the body of one PutRecordBatch request: the SDK's own
// body up to its Records member, then each record's data in base64 as
// {"Data":"..."}, then "]}", encoded once into a buffer kept between calls
// (bodyBuffers), with its SHA-256 computed as it is encoded. Its apply
// method is a per-call option of the Firehose client: the client sends
// the buffer, and SigV4 signs with the hash given (v4.SetPayloadHash)
// instead of reading the body again to hash it.
//
// The SDK's JSON serializer (smithy-go's ShapeSerializer) appends each
// record's base64 to a buffer that starts empty and grows step by step,
// then copies the result into the request: a call of 4 MB of records
// allocated about 40 MB for a body of 5.3 MB. A requestBody allocates
// nothing once its buffer has grown (TestRequestBodyAllocatesLittle), and
// each record is encoded once, where a body streamed from the lines was
// encoded twice (once for the hash, once to send). It is the same bytes
// as the SDK's body (TestRequestBodyMatchesSDK), and the signature is the
// SDK's over them (TestRequestBodySignature).
//
// net/http may still read a request body after its call has returned
// (when the call is cancelled mid-write), and the buffer goes to the next
// call. So the caller ends the body when the call returns; reads after
// that fail instead of touching the buffer.
type requestBody struct {
	mu    sync.Mutex
	ended bool
	bufs  *bodyBuffers // where buf comes from and goes back to
	buf   []byte       // the whole body
	hash  string       // hex SHA-256 of buf
	pos   int64
}

// errBodyEnded is what reading a body after its call returned gets.
var errBodyEnded = errors.New("archive: PutRecordBatch body read after its call returned")

// The pieces of a record's element in the body: a comma before every
// record but the first, then recordOpen, the data in base64, recordClose.
const (
	recordOpen    = `,{"Data":"`
	recordClose   = `"}`
	recordsSuffix = `"Records":[]}` // ends the SDK's body of an input whose Records are empty
	bodyClose     = `]}`
)

// newRequestBody returns a body whose buffer comes from bufs (nil: a new
// buffer for each body).
func newRequestBody(bufs *bodyBuffers) *requestBody { return &requestBody{bufs: bufs} }

// apply makes the client send PutRecordBatch inputs with body b, and sign
// them with its hash.
func (b *requestBody) apply(o *firehose.Options) {
	if o.Protocol == nil {
		return
	}
	o.Protocol = requestBodyProtocol{o.Protocol, b}
	o.APIOptions = append(o.APIOptions, b.addPayloadHash)
}

// addPayloadHash puts the body's hash where SigV4's ComputePayloadHash
// step looks first: that step then skips hashing the body itself.
func (b *requestBody) addPayloadHash(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ttlArchiverPayloadHash",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			b.mu.Lock()
			hash := b.hash
			b.mu.Unlock()
			if hash != "" {
				ctx = v4.SetPayloadHash(ctx, hash)
			}
			return next.HandleFinalize(ctx, in)
		}), "ComputePayloadHash", middleware.Before)
}

// end makes every later read fail and hands the buffer back; call it when
// the call has returned.
func (b *requestBody) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.ended = true
	if b.bufs != nil && b.buf != nil {
		b.bufs.put(b.buf)
	}
	b.buf = nil
}

// set encodes the body for prefix and records, and its hash.
func (b *requestBody) set(prefix []byte, records []types.Record) {
	size := len(prefix) + len(bodyClose)
	for i, r := range records {
		size += elementLen(i, len(r.Data))
	}
	buf := b.bufs.get(size)
	h := sha256.New()
	buf = append(buf, prefix...)
	_, _ = h.Write(buf)
	for i, r := range records {
		open := recordOpen
		if i == 0 {
			open = open[1:]
		}
		start := len(buf)
		buf = append(buf, open...)
		buf = appendBase64(buf, r.Data)
		buf = append(buf, recordClose...)
		_, _ = h.Write(buf[start:]) // hashed while the element is in cache
	}
	buf = append(buf, bodyClose...)
	_, _ = h.Write(buf[len(buf)-len(bodyClose):])
	b.buf, b.pos = buf, 0
	b.hash = hex.EncodeToString(h.Sum(nil))
}

// elementLen is the length of record i's element, of n bytes of data.
func elementLen(i, n int) int {
	l := len(recordOpen) + base64.StdEncoding.EncodedLen(n) + len(recordClose)
	if i == 0 {
		l--
	}
	return l
}

// Read writes the body from the current offset.
func (b *requestBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return 0, errBodyEnded
	}
	if b.pos >= int64(len(b.buf)) {
		return 0, io.EOF
	}
	n := copy(p, b.buf[b.pos:])
	b.pos += int64(n)
	return n, nil
}

// Seek sets the offset of the next Read; the SDK seeks to find the length
// and to send the body again on a retry.
func (b *requestBody) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += int64(len(b.buf))
	default:
		return 0, errors.New("archive: PutRecordBatch body: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("archive: PutRecordBatch body: negative position")
	}
	b.pos = offset
	return offset, nil
}

// bodyBuffers keeps the buffers of bodies whose calls have returned, for
// the next calls: at most max, the largest. The byte budget
// (MaxBytesInFlight) bounds what is in flight, so the buffers kept are
// about one call's worth of the largest calls plus a few small ones.
type bodyBuffers struct {
	mu   sync.Mutex
	free [][]byte
	max  int
}

// get returns an empty buffer of capacity at least n: the smallest kept
// one that fits, or a new one.
func (p *bodyBuffers) get(n int) []byte {
	if p == nil {
		return make([]byte, 0, n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, f := range p.free {
		if cap(f) >= n && (best < 0 || cap(f) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]byte, 0, n)
	}
	buf := p.free[best]
	p.free = slices.Delete(p.free, best, best+1)
	return buf[:0]
}

// put keeps buf for a later call, dropping the smallest kept buffer when
// there are too many.
func (p *bodyBuffers) put(buf []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, buf)
	if len(p.free) > p.max {
		smallest := 0
		for i, f := range p.free {
			if cap(f) < cap(p.free[smallest]) {
				smallest = i
			}
		}
		p.free = slices.Delete(p.free, smallest, smallest+1)
	}
}

// requestBodyProtocol is the SDK's protocol (awsJson 1.1 for Firehose)
// with PutRecordBatch's body encoded by requestBody; every other call, and
// every part of the request but the body, is the SDK's.
type requestBodyProtocol struct {
	smithyhttp.ClientProtocol
	body *requestBody
}

// SerializeRequest lets the SDK write the request with no records (the
// method, path, headers and every other member of the input), then makes
// the body that request's body followed by the records, base64-encoded as
// the SDK encodes blobs. Inputs it does not expect go to the SDK whole.
func (p requestBodyProtocol) SerializeRequest(ctx context.Context, op *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
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
	p.body.mu.Lock()
	p.body.set(prefix, input.Records)
	p.body.mu.Unlock()
	sreq, err := req.SetStream(p.body)
	if err != nil {
		return err
	}
	*req = *sreq
	return nil
}

// DeserializeResponse decodes a successful PutRecordBatch answer with
// decodeBatchResponse; every other answer, errors among them, goes to the
// SDK.
func (p requestBodyProtocol) DeserializeResponse(ctx context.Context, op *smithy.OperationSchema, types *smithy.TypeRegistry, resp *smithyhttp.Response, out smithy.Deserializable) error {
	output, ok := out.(*firehose.PutRecordBatchOutput)
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return p.ClientProtocol.DeserializeResponse(ctx, op, types, resp, out)
	}
	buf := responseBuffers.Get().(*bytes.Buffer)
	defer responseBuffers.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	if err := decodeBatchResponse(buf.Bytes(), output); err != nil {
		return &smithy.DeserializationError{Err: err, Snapshot: bytes.Clone(buf.Bytes()[:min(buf.Len(), 1024)])}
	}
	return nil
}
