package firehoselocal

import (
	"context"
	"sync"
)

// Sink receives the records a stream accepts.
//
// The server calls Deliver once per call that accepts at least one record,
// with the accepted records in request order, before it answers the call.
// Calls run concurrently, so Deliver must be safe for concurrent use. The
// server never reuses the memory of records after Deliver returns: a sink
// may keep the slices (a buffering sink can hold them until it flushes).
//
// An error from Deliver fails the whole call with InternalFailure (HTTP 500)
// and the caller sends the records again, so a sink that keeps some records
// of a failed call delivers them twice, as Firehose may.
type Sink interface {
	Deliver(ctx context.Context, stream string, records [][]byte) error
}

// SinkFunc adapts a function to [Sink].
type SinkFunc func(ctx context.Context, stream string, records [][]byte) error

// Deliver calls f.
func (f SinkFunc) Deliver(ctx context.Context, stream string, records [][]byte) error {
	return f(ctx, stream, records)
}

// Discard is a sink that drops every record; the server's [Stats] still
// count them.
var Discard Sink = SinkFunc(func(context.Context, string, [][]byte) error { return nil })

// MemorySink keeps every record it receives, in delivery order, as copies of
// its own. It is safe for concurrent use; the zero value is ready to use.
type MemorySink struct {
	mu      sync.Mutex
	records [][]byte
	bytes   int64
}

// Deliver copies records and keeps the copies.
func (m *MemorySink) Deliver(_ context.Context, _ string, records [][]byte) error {
	n := 0
	for _, r := range records {
		n += len(r)
	}
	// One block per call; each record is a slice of it capped at its own
	// length, so appending to one cannot overwrite the next.
	block := make([]byte, n)
	copies := make([][]byte, len(records))
	off := 0
	for i, r := range records {
		copy(block[off:], r)
		copies[i] = block[off : off+len(r) : off+len(r)]
		off += len(r)
	}
	m.mu.Lock()
	m.records = append(m.records, copies...)
	m.bytes += int64(n)
	m.mu.Unlock()
	return nil
}

// Records returns copies of the records kept, in delivery order.
func (m *MemorySink) Records() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	block := make([]byte, m.bytes)
	out := make([][]byte, len(m.records))
	off := 0
	for i, r := range m.records {
		copy(block[off:], r)
		out[i] = block[off : off+len(r) : off+len(r)]
		off += len(r)
	}
	return out
}

// Len returns the number of records kept.
func (m *MemorySink) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records)
}

// Bytes returns the total size of the records kept.
func (m *MemorySink) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Reset drops every record kept.
func (m *MemorySink) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records, m.bytes = nil, 0
}
