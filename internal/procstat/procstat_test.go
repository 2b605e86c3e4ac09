package procstat

import (
	"os"
	"testing"
)

func TestProcReadsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cpu, err := CPU(os.Getpid())
	if err != nil {
		t.Fatalf("CPU: %v", err)
	}
	if cpu < 0 {
		t.Errorf("CPU = %v, want >= 0", cpu)
	}
	hwm, rss, err := Memory(os.Getpid())
	if err != nil {
		t.Fatalf("Memory: %v", err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("Memory = hwm %d, rss %d; want 0 < rss <= hwm", hwm, rss)
	}
}
