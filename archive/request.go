package archive

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// streamedBody is the body of one PutRecordBatch request, written as it is
// read instead of held in memory: the SDK's own body up to its Records
// member, then each record's data in base64 as {"Data":"..."}, then "]}".
// Its apply method is a per-call option of the Firehose client.
//
// The SDK's JSON serializer (smithy-go's ShapeSerializer) appends each
// record's base64 to a buffer that starts empty and grows step by step,
// then copies the result into the request: a call of 4 MB of records
// allocated about 40 MB for a body of 5.3 MB, and held up to twice the
// body at once. A streamed body allocates none of it
// (TestStreamedBodyAllocatesLittle); the SDK reads it twice, once for the
// SHA-256 of SigV4 and once to send it, and each read encodes the records
// again from the batch's lines, which costs far less than the memory it
// saves (BENCHMARKS.md, target 4). It is the same bytes as the SDK's body
// (TestStreamedBodyMatchesSDK).
//
// The records' data are the batch's lines, which the next invocation
// overwrites; net/http may still read a request body after its call has
// returned (when the call is cancelled mid-write). So the caller ends the
// body when the call returns, and reads after that fail instead of
// touching the lines.
type streamedBody struct {
	mu      sync.Mutex
	ended   bool
	prefix  []byte // the SDK's body up to and including `"Records":[`
	records []types.Record
	ends    []int64 // ends[i]: offset just past record i's element
	size    int64
	pos     int64
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

// apply makes the client send PutRecordBatch inputs with body b.
func (b *streamedBody) apply(o *firehose.Options) {
	if o.Protocol != nil {
		o.Protocol = streamedBodyProtocol{o.Protocol, b}
	}
}

// end makes every later read fail; call it when the call has returned.
func (b *streamedBody) end() {
	b.mu.Lock()
	b.ended = true
	b.mu.Unlock()
}

// set lays out the body for prefix and records.
func (b *streamedBody) set(prefix []byte, records []types.Record) {
	b.prefix, b.records, b.pos = prefix, records, 0
	b.ends = slices.Grow(b.ends[:0], len(records))
	off := int64(len(prefix))
	for i, r := range records {
		off += int64(elementLen(i, len(r.Data)))
		b.ends = append(b.ends, off)
	}
	b.size = off + int64(len(bodyClose))
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
func (b *streamedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return 0, errBodyEnded
	}
	if b.pos >= b.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && b.pos < b.size {
		m := b.readAt(p[n:], b.pos)
		n += m
		b.pos += int64(m)
	}
	return n, nil
}

// readAt writes at least one byte of the body at off (< b.size) into p,
// from the one piece that holds off.
func (b *streamedBody) readAt(p []byte, off int64) int {
	if off < int64(len(b.prefix)) {
		return copy(p, b.prefix[off:])
	}
	if len(b.records) == 0 || off >= b.ends[len(b.ends)-1] {
		return copy(p, bodyClose[off-(b.size-int64(len(bodyClose))):])
	}
	i := sort.Search(len(b.ends), func(i int) bool { return b.ends[i] > off })
	start := int64(len(b.prefix))
	if i > 0 {
		start = b.ends[i-1]
	}
	o := int(off - start)
	open := recordOpen
	if i == 0 {
		open = open[1:]
	}
	if o < len(open) {
		return copy(p, open[o:])
	}
	o -= len(open)
	data := b.records[i].Data
	if enc := base64.StdEncoding.EncodedLen(len(data)); o >= enc {
		return copy(p, recordClose[o-enc:])
	}
	// Base64 turns each 3 bytes into 4: encode whole groups straight into
	// p, or one group aside when off is inside a group or p is short.
	src := data[o/4*3:]
	if o%4 == 0 && len(p) >= 4 {
		src = src[:min(len(src), len(p)/4*3)]
		base64.StdEncoding.Encode(p, src)
		return base64.StdEncoding.EncodedLen(len(src))
	}
	var group [4]byte
	base64.StdEncoding.Encode(group[:], src[:min(len(src), 3)])
	return copy(p, group[o%4:base64.StdEncoding.EncodedLen(min(len(src), 3))])
}

// Seek sets the offset of the next Read; the SDK seeks to find the length
// and to read the body again.
func (b *streamedBody) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, errors.New("archive: PutRecordBatch body: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("archive: PutRecordBatch body: negative position")
	}
	b.pos = offset
	return offset, nil
}

// streamedBodyProtocol is the SDK's protocol (awsJson 1.1 for Firehose)
// with PutRecordBatch's body streamed; every other call, and every part of
// the request but the body, is the SDK's.
type streamedBodyProtocol struct {
	smithyhttp.ClientProtocol
	body *streamedBody
}

// SerializeRequest lets the SDK write the request with no records (the
// method, path, headers and every other member of the input), then makes
// the body that request's body followed by the records, base64-encoded as
// the SDK encodes blobs. Inputs it does not expect go to the SDK whole.
func (p streamedBodyProtocol) SerializeRequest(ctx context.Context, op *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
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
