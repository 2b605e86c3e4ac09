package firehoselocal

import (
	"sync/atomic"
	"time"
)

// Call describes one valid call to the stand-in, for a [FaultFunc] to decide
// its fate. The call has passed the protocol, signature-shape and limit
// checks and names a known stream.
type Call struct {
	// Number counts the calls the server received, from 1, in arrival order.
	Number int64
	// Operation is OperationPutRecordBatch or OperationPutRecord.
	Operation string
	// Stream is the delivery stream name.
	Stream string
	// Records is the number of records in the call.
	Records int
	// Bytes is the decoded data in the call.
	Bytes int
	// Data holds the records' decoded data, in request order. It is only
	// valid during the FaultFunc call: do not modify or retain it.
	Data [][]byte
}

// RecordFailure fails one record of a PutRecordBatch call: its entry in
// RequestResponses carries ErrorCode and ErrorMessage instead of a RecordId,
// and the record is not delivered.
type RecordFailure struct {
	// Index is the record's position in the call, from 0.
	Index int
	// Code is the ErrorCode; empty means ServiceUnavailableException.
	Code string
	// Message is the ErrorMessage; empty means "Slow down." for
	// ServiceUnavailableException and a generic text otherwise.
	Message string
}

// Fault is what happens to one call. The zero Fault lets the call through.
// The parts apply in this order: Latency, then Reset, then Fail, then
// FailRecords.
type Fault struct {
	// Latency delays the answer. The delay ends early, with no answer and
	// nothing delivered, when the client cancels the request.
	Latency time.Duration
	// Reset closes the connection without an answer (a TCP reset where the
	// connection allows it). Nothing is delivered.
	Reset bool
	// Fail answers the whole call with this error. Nothing is delivered.
	Fail *CallError
	// FailRecords fails these records of the call; the others are delivered.
	// Indices out of range are ignored. For PutRecord, a failure of record 0
	// becomes a whole-call error, as the operation has no per-record
	// results: HTTP 503 for ServiceUnavailableException, 500 otherwise.
	FailRecords []RecordFailure
}

// FaultFunc decides the fault for each call. The server calls it
// concurrently from the goroutines serving requests, so it must be safe for
// concurrent use; the helpers of this package are.
type FaultFunc func(c Call) Fault

// Compose applies every f to each call and merges the faults: latencies
// add up, Reset if any says so, the first Fail wins, and record failures
// are joined (the first failure given for an index wins). Nil funcs are
// skipped.
func Compose(fs ...FaultFunc) FaultFunc {
	return func(c Call) Fault {
		var out Fault
		seen := map[int]bool(nil)
		for _, f := range fs {
			if f == nil {
				continue
			}
			x := f(c)
			out.Latency += x.Latency
			out.Reset = out.Reset || x.Reset
			if out.Fail == nil {
				out.Fail = x.Fail
			}
			for _, rf := range x.FailRecords {
				if seen == nil {
					seen = make(map[int]bool)
				}
				if !seen[rf.Index] {
					seen[rf.Index] = true
					out.FailRecords = append(out.FailRecords, rf)
				}
			}
		}
		return out
	}
}

// Latency delays every call by d.
func Latency(d time.Duration) FaultFunc {
	return func(Call) Fault { return Fault{Latency: d} }
}

// FailCalls fails the next n calls that reach it with InternalFailure
// (HTTP 500), then lets calls through.
func FailCalls(n int) FaultFunc {
	return failNext(n, Fault{Fail: InternalFailure()})
}

// ThrottleCalls fails the next n calls that reach it with
// ServiceUnavailableException "Slow down." (HTTP 503), then lets calls
// through.
func ThrottleCalls(n int) FaultFunc {
	return failNext(n, Fault{Fail: SlowDown()})
}

// ResetCalls resets the connection of the next n calls that reach it, then
// lets calls through.
func ResetCalls(n int) FaultFunc {
	return failNext(n, Fault{Reset: true})
}

func failNext(n int, f Fault) FaultFunc {
	var left atomic.Int64
	left.Store(int64(n))
	return func(Call) Fault {
		if left.Add(-1) >= 0 {
			return f
		}
		return Fault{}
	}
}

// Down fails every call with ServiceUnavailableException (HTTP 503) until
// the clock reaches until.
func Down(until time.Time) FaultFunc {
	return func(Call) Fault {
		if time.Now().Before(until) {
			return Fault{Fail: Unavailable()}
		}
		return Fault{}
	}
}

// FailRecordsRate fails each record with probability rate, with
// ServiceUnavailableException "Slow down." as Firehose reports throttled
// records. The choice is a pseudo-random function of seed, the call number
// and the record's index, so a run with the same calls fails the same
// records, and a record sent again in a later call gets a new draw.
func FailRecordsRate(rate float64, seed int64) FaultFunc {
	return func(c Call) Fault {
		if rate <= 0 {
			return Fault{}
		}
		var out Fault
		for i := 0; i < c.Records; i++ {
			if rate >= 1 || unitFloat(uint64(seed), uint64(c.Number), uint64(i)) < rate {
				out.FailRecords = append(out.FailRecords, RecordFailure{Index: i, Code: CodeServiceUnavailable, Message: MessageSlowDown})
			}
		}
		return out
	}
}

// unitFloat maps its inputs to a float64 in [0, 1) with the splitmix64
// finalizer.
func unitFloat(a, b, c uint64) float64 {
	x := a ^ b*0x9e3779b97f4a7c15 ^ c*0xc2b2ae3d27d4eb4f
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}
