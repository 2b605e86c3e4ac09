package bench

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// Sample is repeated measurements of one quantity.
type Sample []float64

// Median returns the middle value (the mean of the two middle values for
// an even count), NaN when empty.
func (s Sample) Median() float64 { return s.quantile(0.5) }

// Mean returns the arithmetic mean (0 for no values).
func (s Sample) Mean() float64 {
	if len(s) == 0 {
		return 0
	}
	t := 0.0
	for _, v := range s {
		t += v
	}
	return t / float64(len(s))
}

// Min returns the smallest value.
func (s Sample) Min() float64 { return s.quantile(0) }

// Max returns the largest value.
func (s Sample) Max() float64 { return s.quantile(1) }

func (s Sample) quantile(q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	pos := q * float64(len(c)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return c[lo] + (c[hi]-c[lo])*(pos-float64(lo))
}

// Spread returns (max-min)/median, the relative range of the sample.
func (s Sample) Spread() float64 {
	m := s.Median()
	if m == 0 {
		return 0
	}
	return (s.Max() - s.Min()) / m
}

// Format writes the median with the range, e.g. "14.2 (13.9–15.0)", each
// value through f.
func (s Sample) Format(f func(float64) string) string {
	if len(s) == 0 {
		return "–"
	}
	if len(s) == 1 {
		return f(s[0])
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median()), f(s.Min()), f(s.Max()))
}

// Map returns f of each value.
func (s Sample) Map(f func(float64) float64) Sample {
	out := make(Sample, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// Ratio returns a[i]/b[i] for each pair: ratios of measurements taken side
// by side in the same repetition.
func Ratio(a, b Sample) Sample {
	out := make(Sample, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] / b[i]
	}
	return out
}

// ProcessCPU returns the CPU time (user + system) this process has used:
// every goroutine's, the garbage collector's included.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Cost is what one call of a measured function cost, averaged over a run
// of calls.
type Cost struct {
	CPU    time.Duration // process CPU per call (all threads, GC included)
	Wall   time.Duration // elapsed time per call
	Bytes  float64       // heap bytes allocated per call
	Allocs float64       // heap allocations per call
	Calls  int           // calls in the run
}

// MeasureCost calls fn at least minCalls times and until the process has
// used at least minCPU, after a garbage collection, and returns the cost
// per call.
func MeasureCost(fn func(), minCalls int, minCPU time.Duration) Cost {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0, w0 := ProcessCPU(), time.Now()
	n := 0
	for n < minCalls || ProcessCPU()-c0 < minCPU {
		fn()
		n++
	}
	cpu, wall := ProcessCPU()-c0, time.Since(w0)
	runtime.ReadMemStats(&m1)
	return Cost{
		CPU:    cpu / time.Duration(n),
		Wall:   wall / time.Duration(n),
		Bytes:  float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n),
		Allocs: float64(m1.Mallocs-m0.Mallocs) / float64(n),
		Calls:  n,
	}
}

// Costs is one cost per repetition.
type Costs []Cost

// CPU returns the CPU per call of each repetition, in milliseconds.
func (cs Costs) CPU() Sample {
	s := make(Sample, len(cs))
	for i, c := range cs {
		s[i] = ms(c.CPU)
	}
	return s
}

// Wall returns the elapsed time per call of each repetition, in milliseconds.
func (cs Costs) Wall() Sample {
	s := make(Sample, len(cs))
	for i, c := range cs {
		s[i] = ms(c.Wall)
	}
	return s
}

// Bytes returns the bytes allocated per call of each repetition.
func (cs Costs) Bytes() Sample {
	s := make(Sample, len(cs))
	for i, c := range cs {
		s[i] = c.Bytes
	}
	return s
}

// Allocs returns the allocations per call of each repetition.
func (cs Costs) Allocs() Sample {
	s := make(Sample, len(cs))
	for i, c := range cs {
		s[i] = c.Allocs
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
