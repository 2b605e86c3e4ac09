package lambdaenv

import (
	"runtime"
	"strconv"
	"strings"
)

// mbPerVCPU is the memory at which a Lambda function has the CPU time of
// one vCPU: Lambda gives CPU in proportion to memory, while the function
// sees 2 vCPUs at every size up to 3,008 MB.
const mbPerVCPU = 1769

// Procs returns how many threads may run Go code at once (GOMAXPROCS) for
// the CPU time the function's memory buys: AWS_LAMBDA_FUNCTION_MEMORY_SIZE
// over 1,769 MB, rounded up. It returns 0 (leave the runtime's default)
// when GOMAXPROCS is set, which the runtime reads itself and which wins,
// or when the size is missing or not a positive number, as outside
// Lambda.
//
// At 128 MB the function has 7% of one vCPU's time but sees two: with two
// threads running Go code, the runtime hands goroutines between them
// (each Firehose call has three: the sender's and net/http's writer and
// reader) and keeps an idle one spinning for work, which costs CPU time
// that buys nothing within the same share. BENCHMARKS.md, section 2,
// measures the bootstrap both ways.
func Procs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") != "" {
		return 0
	}
	mb, err := strconv.ParseInt(strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 10, 64)
	if err != nil || mb <= 0 {
		return 0
	}
	n := mb / mbPerVCPU
	if mb%mbPerVCPU != 0 {
		n++
	}
	return int(min(n, 1<<16))
}

// SetProcs lowers GOMAXPROCS to Procs, never raising it above the
// runtime's default (the CPUs it sees).
func SetProcs(getenv func(string) string) {
	if n := Procs(getenv); n > 0 && n < runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(n)
	}
}
