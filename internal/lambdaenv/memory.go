package lambdaenv

import (
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// The Go runtime's soft memory limit is memoryLimitShare of the function's
// memory less memoryLimitReserve: 56 MiB at Lambda's smallest size,
// 128 MB.
//
// Half, because Lambda ends an invocation that goes over the function's
// memory and a soft limit can be overshot for a moment; the reserve,
// because the limit counts only what the runtime maps (the heap, stacks,
// its own metadata) and the process also holds the binary's pages, about
// 5 MiB resident.
const (
	memoryLimitShare   = 0.5
	memoryLimitReserve = 8 << 20
)

// MemoryLimit returns the soft memory limit for the Go runtime in bytes,
// from AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB, set by Lambda), or 0 (leave the
// runtime's default) when GOMEMLIMIT is set, which the runtime reads itself
// and which wins, or when the size is missing, not a positive number or
// too small to leave a limit, as outside Lambda.
//
// Without a limit the collector lets the heap grow to twice what is live
// (GOGC=100) whatever the function's memory. What is live while a batch
// is archived is bounded (the payload, at most 6 MB, in the Lambda
// client's buffer; its lines; the calls in flight) and well under the
// limit, so the collector paces by GOGC for most of a batch and only
// collects sooner when the heap nears the limit: the peak of the largest
// batches stays under half of 128 MB, for little CPU (BENCHMARKS.md,
// section 4, measures both, and what other limits do).
func MemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb, err := strconv.ParseInt(strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 10, 64)
	if err != nil || mb <= 0 || mb > math.MaxInt64>>20 {
		return 0
	}
	limit := int64(float64(mb<<20)*memoryLimitShare) - memoryLimitReserve
	if limit <= 0 {
		return 0
	}
	return limit
}

// SetMemoryLimit applies MemoryLimit; call it before anything is
// allocated for a batch. The collector's target stays Go's (GOGC=100):
// with one thread running Go code (Procs), 200 cost between 8% more and
// 6% less CPU in three runs of the bench, within its noise, and raised
// the peak by about 10 MiB (BENCHMARKS.md, section 2).
func SetMemoryLimit(getenv func(string) string) {
	if n := MemoryLimit(getenv); n > 0 {
		debug.SetMemoryLimit(n)
	}
}
