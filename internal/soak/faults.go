package soak

import (
	"math/rand/v2"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// FaultPlan builds the Firehose faults of a run once it starts, so that
// outages can be placed in time relative to the start.
type FaultPlan func(start time.Time) firehoselocal.FaultFunc

// CallFaults are whole-call faults drawn per PutRecordBatch call, each with
// its own probability: a 500 InternalFailure, a 503 "Slow down."
// (throttling of the whole call), a connection reset, and a latency spike of
// SpikeLatency (longer than the time an invocation has left, the call is
// cancelled by the function and delivers nothing).
type CallFaults struct {
	Fail, Throttle, Reset, Spike float64
	SpikeLatency                 time.Duration
	Seed                         uint64
}

// Func returns the fault function. The draws are a pseudo-random function
// of Seed and the call's number.
func (c CallFaults) Func() firehoselocal.FaultFunc {
	return func(call firehoselocal.Call) firehoselocal.Fault {
		r := rand.New(rand.NewPCG(c.Seed, uint64(call.Number)))
		var f firehoselocal.Fault
		if r.Float64() < c.Spike {
			f.Latency = c.SpikeLatency
		}
		switch p := r.Float64(); {
		case p < c.Reset:
			f.Reset = true
		case p < c.Reset+c.Fail:
			f.Fail = firehoselocal.InternalFailure()
		case p < c.Reset+c.Fail+c.Throttle:
			f.Fail = firehoselocal.SlowDown()
		}
		return f
	}
}

// Outage fails every call with ServiceUnavailableException from after to
// after+length past the start of the run.
func Outage(after, length time.Duration) FaultPlan {
	return func(start time.Time) firehoselocal.FaultFunc {
		from, until := start.Add(after), start.Add(after+length)
		return func(firehoselocal.Call) firehoselocal.Fault {
			if now := time.Now(); !now.Before(from) && now.Before(until) {
				return firehoselocal.Fault{Fail: firehoselocal.Unavailable()}
			}
			return firehoselocal.Fault{}
		}
	}
}

// Always is a plan of the same faults all run long.
func Always(f firehoselocal.FaultFunc) FaultPlan {
	return func(time.Time) firehoselocal.FaultFunc { return f }
}

// Plan combines plans: every call gets the faults of all of them, merged
// as firehoselocal.Compose merges them.
func Plan(plans ...FaultPlan) FaultPlan {
	return func(start time.Time) firehoselocal.FaultFunc {
		var all []firehoselocal.FaultFunc
		for _, p := range plans {
			if p != nil {
				all = append(all, p(start))
			}
		}
		return firehoselocal.Compose(all...)
	}
}
