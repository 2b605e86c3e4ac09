package soak

import (
	"strings"
	"testing"
	"time"
)

// meterWith returns a stopped meter holding a wake-up every 5 ms from
// base, each late by 1 ms except those in late (index: lateness).
func meterWith(base time.Time, n int, late map[int]time.Duration) *stallMeter {
	m := newStallMeter(5 * time.Millisecond)
	m.started = base
	m.end = base.Add(time.Duration(n) * 5 * time.Millisecond)
	due := base
	for i := range n {
		l, ok := late[i]
		if !ok {
			l = time.Millisecond
		}
		due = due.Add(5 * time.Millisecond)
		m.samples = append(m.samples, stallSample{due: due.UnixNano(), late: int64(l), gc: uint32(i / 50)})
		due = due.Add(l)
	}
	return m
}

func TestStallMeterStats(t *testing.T) {
	base := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	m := meterWith(base, 100, map[int]time.Duration{40: 800 * time.Millisecond, 70: 120 * time.Millisecond})
	got := m.stats()
	// Sample 40 is due 41 wake-ups of 5 ms and 40 stalls of 1 ms in.
	want := HarnessStats{
		Samples: 100, PeriodMS: 5, StallMaxMS: 800, StallP99MS: 120,
		StallMaxAtS: (41*5*time.Millisecond + 40*time.Millisecond).Seconds(), StallsOver100ms: 2,
	}
	if got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	if got := newStallMeter(time.Millisecond).stats(); got.Samples != 0 || got.StallMaxMS != 0 {
		t.Errorf("stats of no samples: got %+v, want zeros", got)
	}
}

func TestStallMeterBetween(t *testing.T) {
	base := time.Date(2025, 11, 23, 12, 0, 0, 0, time.UTC)
	m := meterWith(base, 200, map[int]time.Duration{40: 800 * time.Millisecond, 150: 30 * time.Millisecond})
	stall := time.Unix(0, m.samples[40].due)
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{
			name: "window holding the stall",
			from: stall.Add(-100 * time.Millisecond), to: stall.Add(900 * time.Millisecond),
			want: []string{"stalled 800 ms at most (from 12:00:00.245Z)", "over 1 wake-ups late by 5 ms or more"},
		},
		{
			name: "window ending inside the stall",
			from: stall.Add(-100 * time.Millisecond), to: stall.Add(300 * time.Millisecond),
			want: []string{"stalled 800 ms at most", "1 wake-ups late"},
		},
		{
			name: "window starting inside the stall",
			from: stall.Add(500 * time.Millisecond), to: stall.Add(600 * time.Millisecond),
			want: []string{"stalled 800 ms at most", "100 ms in all"},
		},
		{
			name: "window without a stall",
			from: stall.Add(time.Second), to: stall.Add(1100 * time.Millisecond),
			want: []string{"stalled 1 ms at most", "over 0 wake-ups"},
		},
		{
			name: "window over both stalls and a GC cycle",
			from: base, to: base.Add(2 * time.Second),
			want: []string{"stalled 800 ms at most", "over 2 wake-ups", "about 3 GC cycles"},
		},
		{
			name: "window before the meter",
			from: base.Add(-time.Hour), to: base.Add(-time.Minute),
			want: []string{"not measured"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.between(tt.from, tt.to)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("between: got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

// TestStallMeterRuns: a started meter wakes about every period and stops.
func TestStallMeterRuns(t *testing.T) {
	m := newStallMeter(2 * time.Millisecond)
	m.start()
	time.Sleep(100 * time.Millisecond)
	m.stopStalls()
	got := m.stats()
	if got.Samples < 5 || got.Samples > 50 {
		t.Errorf("samples in 100 ms of 2 ms periods: got %d, want about 40", got.Samples)
	}
	if got.StallMaxMS < 0 || got.StallP99MS > got.StallMaxMS {
		t.Errorf("stats: got max %v ms, p99 %v ms", got.StallMaxMS, got.StallP99MS)
	}
	n := got.Samples
	time.Sleep(10 * time.Millisecond)
	if got := m.stats().Samples; got != n {
		t.Errorf("samples after stopStalls: got %d, want %d", got, n)
	}
}

// TestLateExampleShowsStalls: each late example ends with the harness's
// stalls from the invocation's hand-over to its answer.
func TestLateExampleShowsStalls(t *testing.T) {
	deadline := time.Date(2025, 11, 23, 12, 0, 5, 0, time.UTC)
	taken := deadline.Add(-5 * time.Second)
	var windows [][2]time.Time
	f := &Functions{stalls: func(from, to time.Time) string {
		windows = append(windows, [2]time.Time{from, to})
		return "harness stalled 840 ms"
	}}
	f.noteLate(340*time.Millisecond, lateAnswer{
		requestID: "r1", bytes: 10, queued: taken, taken: taken, answered: deadline.Add(340 * time.Millisecond), deadline: deadline,
	})
	f.noteLate(2*time.Second, lateAnswer{
		requestID: "r2", bytes: 10, queued: taken, answered: deadline.Add(2 * time.Second), deadline: deadline, hung: true,
	})
	st := f.Stats()
	if st.PastDeadline != 2 || st.Hung != 1 || st.MaxLateMS != 2000 || len(st.LateExamples) != 2 {
		t.Fatalf("Stats: got %d late, %d hung, max %v ms, examples %q; want 2, 1, 2000, two", st.PastDeadline, st.Hung, st.MaxLateMS, st.LateExamples)
	}
	for i, want := range []string{
		"request r1, 10 bytes: queued 2025-11-23T12:00:00Z, taken 0s later, answered 5.34s after taken, 340ms past the deadline 2025-11-23T12:00:05Z; harness stalled 840 ms",
		"request r2, 10 bytes: queued 2025-11-23T12:00:00Z, never taken, no answer by 2s past the deadline 2025-11-23T12:00:05Z; harness stalled 840 ms",
	} {
		if st.LateExamples[i] != want {
			t.Errorf("late example %d:\n got %s\nwant %s", i, st.LateExamples[i], want)
		}
	}
	if len(windows) != 2 || !windows[0][0].Equal(taken) || !windows[0][1].Equal(deadline.Add(340*time.Millisecond)) {
		t.Errorf("stall windows asked: got %v, want from taken to answered", windows)
	}
}
