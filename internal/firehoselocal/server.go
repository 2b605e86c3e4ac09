package firehoselocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAccountID is the account id in the stand-in's messages.
const DefaultAccountID = "123456789012"

// Server is the Firehose stand-in. Create it with [New], add streams with
// [Server.AddStream] and either [Server.Start] it on the loopback interface
// or mount it as an [http.Handler]. All methods are safe for concurrent use,
// also while calls are served.
type Server struct {
	account  string
	maxBody  int64
	creds    *Credentials  // nil: check the signature's shape only
	slots    chan struct{} // one per call served at once
	bodyWait time.Duration
	now      func() time.Time
	salt     uint64 // makes request and record ids unique across servers
	faults   atomic.Pointer[FaultFunc]
	streamMu sync.RWMutex
	streams  map[string]Sink

	calls           atomic.Int64
	callsFailed     atomic.Int64
	resets          atomic.Int64
	recordsAccepted atomic.Int64
	recordsFailed   atomic.Int64
	bytesAccepted   atomic.Int64
	requestSeq      atomic.Uint64
	recordSeq       atomic.Uint64

	addr string // where Start listens; see [WithAddr]

	mu  sync.Mutex // guards srv and url
	srv *http.Server
	url string
}

// Option configures a [Server].
type Option func(*Server)

// WithStream adds a stream at creation, as [Server.AddStream] does.
func WithStream(name string, sink Sink) Option {
	return func(s *Server) { s.streams[name] = orDiscard(sink) }
}

// WithFaults sets the fault function at creation, as [Server.SetFaults]
// does.
func WithFaults(f FaultFunc) Option {
	return func(s *Server) { s.SetFaults(f) }
}

// WithAccountID sets the account id used in messages (default
// [DefaultAccountID]).
func WithAccountID(id string) Option {
	return func(s *Server) { s.account = id }
}

// WithMaxRequestBytes sets the largest request body the server reads
// (default [DefaultMaxRequestBytes]); a larger one is answered with HTTP
// 413 and RequestEntityTooLargeException.
func WithMaxRequestBytes(n int64) Option {
	return func(s *Server) { s.maxBody = n }
}

// WithCredentials makes the server verify each call's SigV4 signature
// against c (see [VerifySignature]); a call signed with other keys, or not
// signed, is refused before its body is read. Without it the server checks
// only the signature's shape.
func WithCredentials(c Credentials) Option {
	return func(s *Server) { s.creds = &c }
}

// WithMaxConcurrentCalls sets how many calls are read and answered at once
// (default [DefaultMaxConcurrentCalls]); further calls wait, unread, for a
// free slot.
func WithMaxConcurrentCalls(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.slots = make(chan struct{}, n)
		}
	}
}

// WithBodyTimeout sets how long a call's body may take to arrive once the
// call is taken up (default [DefaultBodyTimeout]); a slower body ends the
// call without an answer.
func WithBodyTimeout(d time.Duration) Option {
	return func(s *Server) { s.bodyWait = d }
}

// WithAddr sets the address [Server.Start] listens on, such as
// "0.0.0.0:9573" for a server a container must reach (default
// "127.0.0.1:0": loopback, a free port).
func WithAddr(addr string) Option {
	return func(s *Server) { s.addr = addr }
}

// New returns a server with no streams and no faults.
func New(opts ...Option) *Server {
	var salt [8]byte
	_, _ = rand.Read(salt[:]) // crypto/rand.Read never fails (Go 1.24+)
	s := &Server{
		account:  DefaultAccountID,
		maxBody:  DefaultMaxRequestBytes,
		slots:    make(chan struct{}, DefaultMaxConcurrentCalls),
		bodyWait: DefaultBodyTimeout,
		now:      time.Now,
		addr:     "127.0.0.1:0",
		salt:     binary.LittleEndian.Uint64(salt[:]),
		streams:  make(map[string]Sink),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func orDiscard(sink Sink) Sink {
	if sink == nil {
		return Discard
	}
	return sink
}

// AddStream adds a stream, or replaces the sink of an existing one. A nil
// sink discards the records.
func (s *Server) AddStream(name string, sink Sink) {
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	s.streams[name] = orDiscard(sink)
}

// RemoveStream removes a stream; later calls naming it get
// ResourceNotFoundException.
func (s *Server) RemoveStream(name string) {
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	delete(s.streams, name)
}

func (s *Server) stream(name string) (Sink, bool) {
	s.streamMu.RLock()
	defer s.streamMu.RUnlock()
	sink, ok := s.streams[name]
	return sink, ok
}

// SetFaults sets the function that decides the fault of each call, from
// the next call on. Nil removes faults.
func (s *Server) SetFaults(f FaultFunc) {
	if f == nil {
		s.faults.Store(nil)
		return
	}
	s.faults.Store(&f)
}

// Stats are the server's counters.
type Stats struct {
	// Calls is every request for PutRecordBatch or PutRecord, answered or
	// not.
	Calls int64
	// CallsFailed is the calls that delivered nothing because of an error
	// response, a reset, or a client that went away.
	CallsFailed int64
	// Resets is the calls whose connection was reset by a fault.
	Resets int64
	// RecordsAccepted is the records delivered to sinks.
	RecordsAccepted int64
	// RecordsFailed is the records failed one by one (ErrorCode entries).
	RecordsFailed int64
	// BytesAccepted is the decoded data of the records delivered.
	BytesAccepted int64
}

// Stats returns a snapshot of the counters. Each counter is read
// atomically; the snapshot as a whole is not taken at one instant while
// calls are in flight.
func (s *Server) Stats() Stats {
	return Stats{
		Calls:           s.calls.Load(),
		CallsFailed:     s.callsFailed.Load(),
		Resets:          s.resets.Load(),
		RecordsAccepted: s.recordsAccepted.Load(),
		RecordsFailed:   s.recordsFailed.Load(),
		BytesAccepted:   s.bytesAccepted.Load(),
	}
}

// Start serves in the background on the address given [WithAddr], by
// default 127.0.0.1 on a free port.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("start firehose stand-in: already started")
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("start firehose stand-in: %w", err)
	}
	// The body has its own deadline (see serve); headers that do not
	// arrive, and idle connections, are cut here.
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: DefaultBodyTimeout, IdleTimeout: DefaultIdleTimeout}
	s.url = "http://" + dialAddr(ln.Addr().(*net.TCPAddr))
	go func() { _ = s.srv.Serve(ln) }() // returns ErrServerClosed on Close
	return nil
}

// dialAddr is the address a client on this machine dials to reach a
// listener: the listener's own, or loopback when it listens on every
// interface (0.0.0.0 or ::).
func dialAddr(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	return a.String()
}

// URL returns the base URL to use as the SDK's BaseEndpoint, "" before
// Start; for a server listening on every interface it names 127.0.0.1.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops serving and closes every connection; calls in flight end
// without an answer. It is a no-op before Start.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("close firehose stand-in: %w", err)
	}
	return nil
}

// Shutdown stops taking calls and waits, until ctx ends, for the calls in
// flight to be answered: every record a caller saw accepted has reached its
// sink when it returns nil. It is a no-op before Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down firehose stand-in: %w", err)
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer kept for reuse.
const maxPooled = 8 << 20

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		bufPool.Put(b)
	}
}

// ServeHTTP serves one Firehose API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.newRequestID()
	if s.bodyWait > 0 {
		// A body that does not arrive in time, read here or discarded by
		// net/http after a refusal, ends the request; serve sets the
		// deadline again once a call has its slot.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.bodyWait))
	}
	if r.Method != http.MethodPost {
		writeError(w, reqID, &CallError{Status: http.StatusMethodNotAllowed, Code: CodeUnknownOperation,
			Message: "Firehose takes POST requests, not " + r.Method})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if ok && op == OperationDescribeDeliveryStream {
		if ce := s.describe(w, r, reqID); ce != nil {
			writeError(w, reqID, ce)
		}
		return
	}
	if !ok || (op != OperationPutRecordBatch && op != OperationPutRecord) {
		writeError(w, reqID, badRequest(CodeUnknownOperation, "Unknown operation "+strconv.Quote(r.Header.Get("X-Amz-Target"))))
		return
	}
	number := s.calls.Add(1)
	if ce := s.serve(w, r, reqID, op, number); ce != nil {
		s.callsFailed.Add(1)
		writeError(w, reqID, ce)
	}
}

// describe answers DescribeDeliveryStream for a stream the server has, so
// that a client checking the stream before it sends (ttl-archiver invoke
// --stream, redrive) finds it: a DirectPut stream, ACTIVE. It is not
// counted among the calls, which are the data calls.
func (s *Server) describe(w http.ResponseWriter, r *http.Request, reqID string) *CallError {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		return badRequest(CodeSerialization, "Content-Type must be "+contentType)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return badRequest(CodeSerialization, err.Error())
	}
	if ce := s.authenticate(r, body); ce != nil {
		return ce
	}
	var in struct{ DeliveryStreamName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return badRequest(CodeSerialization, err.Error())
	}
	if in.DeliveryStreamName == "" {
		return badRequest(CodeValidation, "1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null")
	}
	if _, ok := s.stream(in.DeliveryStreamName); !ok {
		return badRequest(CodeResourceNotFound, "Firehose "+in.DeliveryStreamName+" under account "+s.account+" not found.")
	}
	// The region is the one the client signed for.
	region := "us-east-1"
	if _, scope, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		if parts := strings.Split(scope, "/"); len(parts) > 2 {
			region = parts[2]
		}
	}
	body, err = json.Marshal(map[string]any{"DeliveryStreamDescription": map[string]any{
		"DeliveryStreamName":   in.DeliveryStreamName,
		"DeliveryStreamARN":    "arn:aws:firehose:" + region + ":" + s.account + ":deliverystream/" + in.DeliveryStreamName,
		"DeliveryStreamStatus": "ACTIVE",
		"DeliveryStreamType":   "DirectPut",
		"VersionId":            "1",
		"Destinations":         []any{},
		"HasMoreDestinations":  false,
	}})
	if err != nil {
		return &CallError{Status: http.StatusInternalServerError, Code: CodeInternalFailure, Message: err.Error()}
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// serve runs a call after its operation is known. It returns the error to
// answer with, or nil once it has answered (or chosen not to).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, reqID, op string, number int64) *CallError {
	// Not confirmed: which error Firehose gives for a wrong Content-Type.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		return badRequest(CodeSerialization, "Content-Type must be "+contentType)
	}
	if ce := checkAuth(r); ce != nil {
		return ce // refused before the body is read
	}
	if r.ContentLength > s.maxBody {
		return tooLarge(s.maxBody)
	}
	// Memory is bounded by the slots: a call waits, its body unread,
	// until one is free.
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		s.callsFailed.Add(1)
		return nil
	}
	if s.bodyWait > 0 {
		// Errors only where the connection has no deadlines (HTTP/2 over
		// some transports); the body is still capped in size.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.bodyWait))
	}

	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer putBuf(buf)
	if r.ContentLength > 0 && r.ContentLength <= s.maxBody {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, s.maxBody+1)); err != nil {
		// The client went away mid-body, or its body did not arrive in
		// time: end the connection without an answer (an empty 200 would
		// read as a call with no failures).
		// The deferred releases run as the panic unwinds.
		s.callsFailed.Add(1)
		panic(http.ErrAbortHandler)
	}
	if int64(buf.Len()) > s.maxBody {
		return tooLarge(s.maxBody)
	}
	if ce := s.authenticate(r, buf.Bytes()); ce != nil {
		return ce
	}

	in, err := decodeInput(op, buf.Bytes())
	if err != nil {
		return badRequest(CodeSerialization, err.Error())
	}
	if ce := validate(op, in); ce != nil {
		return ce
	}
	total := 0
	for _, rec := range in.records {
		total += len(rec)
	}
	// Confirmed (boto3 against the service): "InvalidArgumentException ...
	// PutRecordBatch operation: Records size exceeds 4 MB limit", after the
	// model validation (a call over both 500 records and 4 MiB gets the
	// ValidationException). Not confirmed: that it comes before the stream
	// lookup.
	if op == OperationPutRecordBatch && total > MaxBytesPerCall {
		return badRequest(CodeInvalidArgument, "Records size exceeds 4 MB limit")
	}
	sink, ok := s.stream(in.stream)
	if !ok {
		// The service's text, e.g. "Firehose turbottest64101 under account
		// 632902152528 not found."
		return badRequest(CodeResourceNotFound, "Firehose "+in.stream+" under account "+s.account+" not found.")
	}

	var fault Fault
	if f := s.faults.Load(); f != nil {
		fault = (*f)(Call{Number: number, Operation: op, Stream: in.stream, Records: len(in.records), Bytes: total, Data: in.records})
	}
	if fault.Latency > 0 {
		t := time.NewTimer(fault.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.callsFailed.Add(1)
			return nil
		}
	}
	if fault.Reset {
		s.resets.Add(1)
		s.callsFailed.Add(1)
		resetConnection(w)
		return nil
	}
	if fault.Fail != nil {
		return fault.Fail
	}

	failed := recordFailures(fault.FailRecords, len(in.records))
	if op == OperationPutRecord && failed != nil {
		rf := failed[0]
		status := http.StatusInternalServerError
		if rf.Code == CodeServiceUnavailable {
			status = http.StatusServiceUnavailable
		}
		return &CallError{Status: status, Code: rf.Code, Message: rf.Message}
	}
	accepted, acceptedBytes := in.records, total
	if failed != nil {
		accepted = make([][]byte, 0, len(in.records))
		acceptedBytes = 0
		for i, rec := range in.records {
			if failed[i].Code == "" {
				accepted = append(accepted, rec)
				acceptedBytes += len(rec)
			}
		}
	}
	if len(accepted) > 0 {
		if err := sink.Deliver(r.Context(), in.stream, accepted); err != nil {
			ce := InternalFailure()
			ce.Message = "Deliver to " + in.stream + ": " + err.Error()
			return ce
		}
	}
	s.recordsAccepted.Add(int64(len(accepted)))
	s.bytesAccepted.Add(int64(acceptedBytes))
	s.recordsFailed.Add(int64(len(in.records) - len(accepted)))

	out := bufPool.Get().(*bytes.Buffer)
	out.Reset()
	defer putBuf(out)
	if op == OperationPutRecord {
		out.WriteString(`{"RecordId":"`)
		out.Write(s.appendRecordID(out.AvailableBuffer()))
		out.WriteString(`","Encrypted":false}`)
	} else {
		s.writeBatchResponse(out, failed, len(in.records))
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
	return nil
}

func tooLarge(limit int64) *CallError {
	return &CallError{Status: http.StatusRequestEntityTooLarge, Code: CodeRequestEntityTooLarge,
		Message: "Request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"}
}

// authenticate verifies the call's signature over body against the
// server's credentials, when it has any. The codes are those AWS JSON
// services answer with (HTTP 400; UnrecognizedClientException for an
// unknown key, as Firehose answers it: "The security token included in
// the request is invalid.").
func (s *Server) authenticate(r *http.Request, body []byte) *CallError {
	if s.creds == nil {
		return checkAuth(r)
	}
	sum := sha256.Sum256(body)
	se := VerifySignature(r, signingName, *s.creds, hex.EncodeToString(sum[:]), s.now())
	if se == nil {
		return nil
	}
	code := map[SignatureFault]string{
		FaultMissing:      CodeMissingAuthenticationToken,
		FaultMalformed:    CodeIncompleteSignature,
		FaultUnknownKey:   CodeUnrecognizedClient,
		FaultMismatch:     CodeInvalidSignature,
		FaultSkewed:       CodeInvalidSignature,
		FaultWrongService: CodeInvalidSignature,
	}[se.Fault]
	return badRequest(code, se.Message)
}

// recordFailures turns the faults' record failures into one entry per
// record (empty Code for records that pass), or nil when none fails.
func recordFailures(fs []RecordFailure, n int) []RecordFailure {
	var out []RecordFailure
	for _, f := range fs {
		if f.Index < 0 || f.Index >= n {
			continue
		}
		if out == nil {
			out = make([]RecordFailure, n)
		}
		if out[f.Index].Code != "" {
			continue // the first failure given for an index wins
		}
		if f.Code == "" {
			f.Code = CodeServiceUnavailable
		}
		if f.Message == "" {
			f.Message = "Internal service failure."
			if f.Code == CodeServiceUnavailable {
				f.Message = MessageSlowDown
			}
		}
		out[f.Index] = f
	}
	return out
}

// writeBatchResponse writes the PutRecordBatch output: one RequestResponses
// entry per record, in request order.
func (s *Server) writeBatchResponse(out *bytes.Buffer, failed []RecordFailure, n int) {
	failedCount := 0
	for _, f := range failed {
		if f.Code != "" {
			failedCount++
		}
	}
	out.Grow(64 + n*48)
	b := out.AvailableBuffer()
	b = append(b, `{"Encrypted":false,"FailedPutCount":`...)
	b = strconv.AppendInt(b, int64(failedCount), 10)
	b = append(b, `,"RequestResponses":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if failed != nil && failed[i].Code != "" {
			b = append(b, `{"ErrorCode":`...)
			b = appendJSONString(b, failed[i].Code)
			b = append(b, `,"ErrorMessage":`...)
			b = appendJSONString(b, failed[i].Message)
			b = append(b, '}')
			continue
		}
		b = append(b, `{"RecordId":"`...)
		b = s.appendRecordID(b)
		b = append(b, `"}`...)
	}
	b = append(b, "]}"...)
	out.Write(b)
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return b
}

// appendRecordID appends a record id unique to this server and record.
func (s *Server) appendRecordID(b []byte) []byte {
	b = appendHex(b, s.salt, 16)
	return appendHex(b, s.recordSeq.Add(1), 16)
}

// newRequestID returns a request id in the form of a UUID.
func (s *Server) newRequestID() string {
	n := s.requestSeq.Add(1)
	b := make([]byte, 0, 36)
	b = appendHex(b, s.salt>>32, 8)
	b = append(b, '-')
	b = appendHex(b, s.salt>>16, 4)
	b = append(b, '-')
	b = appendHex(b, s.salt, 4)
	b = append(b, '-')
	b = appendHex(b, n>>48, 4)
	b = append(b, '-')
	b = appendHex(b, n, 12)
	return string(b)
}

// appendJSONString appends v as a JSON string.
func appendJSONString(b []byte, v string) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		default:
			// Bytes from 0x80 pass through: the codes and messages come
			// from the caller's Go strings, which are UTF-8 in practice.
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// resetConnection closes the connection under w without an answer: with a
// TCP reset when the connection can be taken over (HTTP/1), else by
// aborting the handler, which the http package turns into a closed
// connection or a reset stream.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the documented way to abort a response
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close sends RST, not FIN
	}
	_ = conn.Close()
}
