package procstat

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestProcReadsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cpu0, err := CPU(os.Getpid())
	if err != nil {
		t.Fatalf("CPU: %v", err)
	}
	// Spin for 50 ms of this process's CPU, by the clock of getrusage.
	start := rusageCPU(t)
	for rusageCPU(t)-start < 50*time.Millisecond {
	}
	cpu1, err := CPU(os.Getpid())
	if err != nil {
		t.Fatalf("CPU: %v", err)
	}
	if d := cpu1 - cpu0; d < 40*time.Millisecond {
		t.Errorf("CPU went from %v to %v over 50 ms of spinning, want at least 40 ms more", cpu0, cpu1)
	}
	hwm, rss, err := Memory(os.Getpid())
	if err != nil {
		t.Fatalf("Memory: %v", err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("Memory = hwm %d, rss %d; want 0 < rss <= hwm", hwm, rss)
	}
}
