package soak

import (
	"fmt"
	"runtime/metrics"
	"slices"
	"sync"
	"time"
)

// stallMeter measures the harness's own scheduling stalls while the
// mapping runs: one goroutine sleeps a short period at a time and records
// how much later than asked it wakes up. A wake-up late by 800 ms means
// that for 800 ms this process ran none of its goroutines that were ready:
// the garbage collector's workers had the CPUs, or the operating system
// gave them to the function processes. The Runtime API server, which
// times each answer when it arrives, was then stalled as well, so an
// answer the function sent in time can be recorded late.
//
// It sees what stalls the whole process, not one goroutine: a goroutine
// made to assist the garbage collector while it allocates, or one waiting
// on a lock, is slowed without the meter noticing. It is a diagnostic
// only; late answers are counted whatever it shows.
type stallMeter struct {
	period time.Duration
	stop   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	samples []stallSample
	// heapPeak is the largest live heap seen (runtime/metrics
	// /gc/heap/live:bytes); gcStart and gcCPUStart are the GC cycles and GC
	// CPU time when the meter started, gcEnd and gcCPUEnd when it stopped.
	heapPeak     uint64
	gcStart      uint64
	gcCPUStart   float64
	gcEnd        uint64
	gcCPUEnd     float64
	started, end time.Time
}

// stallSample is one wake-up: the meter asked to wake at due and woke late
// after it. Pointer-free and small: a run of minutes keeps every one.
type stallSample struct {
	due  int64 // Unix nanoseconds
	late int64 // nanoseconds
	gc   uint32
}

// stallPeriod is how long the meter sleeps between wake-ups: short enough
// to see stalls of a few milliseconds, long enough to cost nothing.
const stallPeriod = 5 * time.Millisecond

const (
	metricHeapLive = "/gc/heap/live:bytes"
	metricGCCycles = "/gc/cycles/total:gc-cycles"
	metricGCCPU    = "/cpu/classes/gc/total:cpu-seconds"
)

// newStallMeter returns a meter that wakes every period once started.
func newStallMeter(period time.Duration) *stallMeter {
	return &stallMeter{
		period:  period,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		samples: make([]stallSample, 0, 1<<16),
	}
}

// start begins measuring; stopStalls ends it. A meter starts once.
func (m *stallMeter) start() {
	gm := gcMetrics()
	m.mu.Lock()
	m.started = time.Now()
	m.gcStart, m.gcCPUStart, m.heapPeak = gm.cycles, gm.cpu, gm.heapLive
	m.mu.Unlock()
	go m.loop()
}

func (m *stallMeter) loop() {
	defer close(m.done)
	t := time.NewTimer(m.period)
	defer t.Stop()
	due := time.Now().Add(m.period)
	for n := 1; ; n++ {
		select {
		case <-m.stop:
			return
		case <-t.C:
			// The time this goroutine runs, not the time the timer fired
			// (the value t.C carries): the gap is the stall.
			late := max(time.Since(due), 0)
			var gm gcFigures
			// The heap and GC figures are read every 200 wake-ups (a
			// second at 5 ms); the cycle count of the last read goes with
			// each sample, so that a stall can be set beside GC cycles.
			if n%200 == 0 {
				gm = gcMetrics()
			}
			m.mu.Lock()
			gc := uint32(0)
			if len(m.samples) > 0 {
				gc = m.samples[len(m.samples)-1].gc
			}
			if gm.cycles > 0 {
				gc = uint32(gm.cycles - m.gcStart)
				m.heapPeak = max(m.heapPeak, gm.heapLive)
			}
			m.samples = append(m.samples, stallSample{due: due.UnixNano(), late: int64(late), gc: gc})
			m.mu.Unlock()
			due = time.Now().Add(m.period)
			t.Reset(m.period)
		}
	}
}

// stopStalls ends the measurement of a started meter; the figures stay
// readable.
func (m *stallMeter) stopStalls() {
	close(m.stop)
	<-m.done
	gm := gcMetrics()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.end = time.Now()
	m.gcEnd, m.gcCPUEnd = gm.cycles, gm.cpu
	m.heapPeak = max(m.heapPeak, gm.heapLive)
}

// HarnessStats are the soak process's own figures while the mapping ran:
// how late its goroutines got to run, and its garbage collection. They are
// diagnostics: a late answer is counted whatever they show.
type HarnessStats struct {
	// Samples is the number of wake-ups measured, PeriodMS the sleep
	// between them.
	Samples  int     `json:"stall_samples"`
	PeriodMS float64 `json:"stall_period_ms"`
	// StallMaxMS and StallP99MS are how late the wake-ups were: the
	// longest stretch the harness ran none of its ready goroutines.
	// StallMaxAtS is when the longest began, in seconds from the start of
	// the mapping's run; StallsOver100ms counts wake-ups 100 ms late or
	// more.
	StallMaxMS      float64 `json:"stall_max_ms"`
	StallP99MS      float64 `json:"stall_p99_ms"`
	StallMaxAtS     float64 `json:"stall_max_at_s"`
	StallsOver100ms int     `json:"stalls_over_100ms"`
	// GCCycles and GCCPUSeconds are the garbage collections during the
	// run and the CPU time they took; HeapLiveMB is the largest live heap
	// after one.
	GCCycles     uint64  `json:"gc_cycles"`
	GCCPUSeconds float64 `json:"gc_cpu_seconds"`
	HeapLiveMB   float64 `json:"heap_live_mb"`
	// PeakRSSMB is the largest resident set of the whole test process
	// (VmHWM) when the run ended: generation and verification included,
	// and the other runs of the process too (the short soaks run side by
	// side). Zero where /proc/self/status does not exist.
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// stats returns the figures so far; GCCycles and GCCPUSeconds once
// stopped.
func (m *stallMeter) stats() HarnessStats {
	m.mu.Lock()
	// Copy, and sort outside the lock: the meter's loop waits on it.
	samples := slices.Clone(m.samples)
	st := HarnessStats{
		Samples: len(m.samples), PeriodMS: ms(m.period),
		HeapLiveMB: float64(m.heapPeak) / 1e6,
	}
	if !m.end.IsZero() {
		st.GCCycles, st.GCCPUSeconds = m.gcEnd-m.gcStart, m.gcCPUEnd-m.gcCPUStart
	}
	started := m.started
	m.mu.Unlock()
	if len(samples) == 0 {
		return st
	}
	lates := make([]int64, len(samples))
	worst := samples[0]
	for i, s := range samples {
		lates[i] = s.late
		if s.late > worst.late {
			worst = s
		}
		if s.late >= int64(100*time.Millisecond) {
			st.StallsOver100ms++
		}
	}
	slices.Sort(lates)
	st.StallMaxMS = ms(time.Duration(worst.late))
	st.StallP99MS = ms(time.Duration(lates[(len(lates)*99+99)/100-1]))
	st.StallMaxAtS = time.Unix(0, worst.due).Sub(started).Seconds()
	return st
}

// between describes the stalls that overlap [from, to]: the longest, how
// much stalled time overlaps it in all, and the GC cycles that began
// meanwhile, e.g. "harness stalled 812 ms at most (from
// 12:00:01.234Z), 845 ms in all, over 3 wake-ups late by 5 ms or more; 1
// GC cycle". A stall ending after to counts if it began before.
func (m *stallMeter) between(from, to time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	lo, hi := from.UnixNano(), to.UnixNano()
	i, _ := slices.BinarySearchFunc(m.samples, lo-int64(time.Minute), func(s stallSample, t int64) int {
		switch {
		case s.due < t:
			return -1
		case s.due > t:
			return 1
		}
		return 0
	})
	var worst stallSample
	var total int64
	stalls := 0
	gcFirst, gcLast := uint32(0), uint32(0)
	seen := false
	for ; i < len(m.samples) && m.samples[i].due <= hi; i++ {
		s := m.samples[i]
		if s.due+s.late < lo {
			continue
		}
		if !seen {
			gcFirst, seen = s.gc, true
		}
		gcLast = s.gc
		overlap := min(s.due+s.late, hi) - max(s.due, lo)
		if overlap > 0 {
			total += overlap
		}
		if s.late >= int64(5*time.Millisecond) {
			stalls++
		}
		if s.late > worst.late {
			worst = s
		}
	}
	if !seen {
		return "harness stalls: not measured then"
	}
	return fmt.Sprintf("harness stalled %.0f ms at most (from %s), %.0f ms in all, over %d wake-ups late by 5 ms or more; about %d GC cycles",
		ms(time.Duration(worst.late)), time.Unix(0, worst.due).UTC().Format("15:04:05.000Z"),
		ms(time.Duration(total)), stalls, gcLast-gcFirst)
}

// gcFigures are the runtime's figures the meter follows.
type gcFigures struct {
	cycles   uint64
	cpu      float64
	heapLive uint64
}

func gcMetrics() gcFigures {
	s := []metrics.Sample{{Name: metricGCCycles}, {Name: metricGCCPU}, {Name: metricHeapLive}}
	metrics.Read(s)
	var f gcFigures
	if s[0].Value.Kind() == metrics.KindUint64 {
		f.cycles = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64 {
		f.cpu = s[1].Value.Float64()
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		f.heapLive = s[2].Value.Uint64()
	}
	return f
}
