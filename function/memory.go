package main

import (
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitShare is the part of the function's memory the Go runtime
// aims to stay under (its soft memory limit): the rest is the binary's own
// pages, goroutine stacks and what the runtime has freed but not yet
// returned. internal/bench reports it as FunctionMemoryLimitShare.
const memoryLimitShare = 0.75

// memoryLimit returns the soft memory limit for the Go runtime in bytes:
// memoryLimitShare of AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB, set by Lambda),
// or 0 (leave the runtime's default) when GOMEMLIMIT is set, which the
// runtime reads itself and which wins, or when the size is missing or not
// a positive number, as outside Lambda.
//
// Without a limit the collector lets the heap grow to twice what is live
// (GOGC=100) whatever the function's memory; with it, it collects sooner
// as the heap nears the limit, instead of Lambda ending the invocation for
// running out of memory. It leaves the peak of a batch that fits under
// the limit to the collector's pacing: a limit near what is live would
// make the collector run all the time (BENCHMARKS.md, section 4, measures
// what lower limits cost).
func memoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb, err := strconv.ParseInt(strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 10, 64)
	if err != nil || mb <= 0 || mb > math.MaxInt64>>20 {
		return 0
	}
	return int64(float64(mb<<20) * memoryLimitShare)
}

// setMemoryLimit applies memoryLimit.
func setMemoryLimit(getenv func(string) string) {
	if n := memoryLimit(getenv); n > 0 {
		debug.SetMemoryLimit(n)
	}
}
