package firehoselocal

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCompose(t *testing.T) {
	first := &CallError{Status: 500, Code: "First"}
	second := &CallError{Status: 503, Code: "Second"}
	f := Compose(
		Latency(10*time.Millisecond),
		nil,
		func(Call) Fault {
			return Fault{Fail: first, FailRecords: []RecordFailure{{Index: 1, Code: "A"}}}
		},
		func(Call) Fault {
			return Fault{Latency: 5 * time.Millisecond, Reset: true, Fail: second, FailRecords: []RecordFailure{{Index: 1, Code: "B"}, {Index: 2, Code: "C"}}}
		},
	)
	got := f(Call{Number: 1, Records: 3})
	if got.Latency != 15*time.Millisecond {
		t.Errorf("Compose Latency: got %v, want 15ms", got.Latency)
	}
	if !got.Reset {
		t.Errorf("Compose Reset: got false, want true")
	}
	if got.Fail != first {
		t.Errorf("Compose Fail: got %v, want the first %v", got.Fail, first)
	}
	want := []RecordFailure{{Index: 1, Code: "A"}, {Index: 2, Code: "C"}}
	if len(got.FailRecords) != len(want) {
		t.Fatalf("Compose FailRecords: got %v, want %v", got.FailRecords, want)
	}
	for i := range want {
		if got.FailRecords[i] != want[i] {
			t.Errorf("Compose FailRecords[%d]: got %v, want %v", i, got.FailRecords[i], want[i])
		}
	}
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name  string
		f     FaultFunc
		check func(Fault) bool
	}{
		{"FailCalls", FailCalls(5), func(f Fault) bool { return f.Fail != nil && f.Fail.Status == 500 && f.Fail.Code == CodeInternalFailure }},
		{"ThrottleCalls", ThrottleCalls(5), func(f Fault) bool {
			return f.Fail != nil && f.Fail.Status == 503 && f.Fail.Code == CodeServiceUnavailable && f.Fail.Message == MessageSlowDown
		}},
		{"ResetCalls", ResetCalls(5), func(f Fault) bool { return f.Reset }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 64 concurrent calls: exactly 5 must get the fault.
			var hits atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < 64; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if f := tt.f(Call{}); tt.check(f) {
						hits.Add(1)
					} else if f.Fail != nil || f.Reset {
						t.Errorf("%s: got an unexpected fault %+v", tt.name, f)
					}
				}()
			}
			wg.Wait()
			if got := hits.Load(); got != 5 {
				t.Errorf("%s(5) over 64 calls: got %d faults, want 5", tt.name, got)
			}
		})
	}
}

func TestDown(t *testing.T) {
	tests := []struct {
		name     string
		until    time.Time
		wantFail bool
	}{
		{"until later", time.Now().Add(time.Hour), true},
		{"until earlier", time.Now().Add(-time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Down(tt.until)(Call{})
			if got := f.Fail != nil && f.Fail.Status == 503 && f.Fail.Code == CodeServiceUnavailable; got != tt.wantFail {
				t.Errorf("Down: got fault %+v, want failing %v", f, tt.wantFail)
			}
		})
	}
}

func TestFailRecordsRate(t *testing.T) {
	t.Run("rate", func(t *testing.T) {
		for _, rate := range []float64{0, 0.01, 0.25, 0.5, 1} {
			f := FailRecordsRate(rate, 42)
			failed, total := 0, 0
			for n := int64(1); n <= 400; n++ {
				fault := f(Call{Number: n, Records: 500})
				for _, rf := range fault.FailRecords {
					if rf.Code != CodeServiceUnavailable || rf.Message != MessageSlowDown {
						t.Fatalf("FailRecordsRate record failure: got %+v, want ServiceUnavailableException Slow down.", rf)
					}
				}
				failed += len(fault.FailRecords)
				total += 500
			}
			got := float64(failed) / float64(total)
			if math.Abs(got-rate) > 0.01 {
				t.Errorf("FailRecordsRate(%v): got a failure rate of %.4f, want within 0.01", rate, got)
			}
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		a, b, other := FailRecordsRate(0.3, 1), FailRecordsRate(0.3, 1), FailRecordsRate(0.3, 2)
		same, differs := true, false
		for n := int64(1); n <= 50; n++ {
			fa, fb, fo := a(Call{Number: n, Records: 100}), b(Call{Number: n, Records: 100}), other(Call{Number: n, Records: 100})
			if indices(fa) != indices(fb) {
				same = false
			}
			if indices(fa) != indices(fo) {
				differs = true
			}
		}
		if !same {
			t.Errorf("FailRecordsRate with one seed: got different failures, want the same")
		}
		if !differs {
			t.Errorf("FailRecordsRate with two seeds: got the same failures, want different")
		}
	})
}

func indices(f Fault) string {
	b := make([]byte, 0, 64)
	for _, rf := range f.FailRecords {
		b = append(b, byte(rf.Index), ',')
	}
	return string(b)
}

func TestRecordFailures(t *testing.T) {
	got := recordFailures([]RecordFailure{{Index: -1}, {Index: 0}, {Index: 0, Code: "X"}, {Index: 2, Code: CodeInternalFailure}, {Index: 3}}, 3)
	want := []RecordFailure{
		{Index: 0, Code: CodeServiceUnavailable, Message: MessageSlowDown},
		{},
		{Index: 2, Code: CodeInternalFailure, Message: "Internal service failure."},
	}
	if len(got) != len(want) {
		t.Fatalf("recordFailures: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("recordFailures[%d]: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := recordFailures([]RecordFailure{{Index: 5}}, 3); got != nil {
		t.Errorf("recordFailures with only out-of-range indices: got %v, want nil", got)
	}
}
