package lambdaenv

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int64
	}{
		{"128 MB function", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 56 << 20},
		{"256 MB function", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}, 120 << 20},
		{"10,240 MB function", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, 5112 << 20},
		{"too small to leave a limit", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "16"}, 0},
		{"GOMEMLIMIT set wins", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "50MiB"}, 0},
		{"outside Lambda", map[string]string{}, 0},
		{"not a number", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}, 0},
		{"zero", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}, 0},
		{"too large to hold in bytes", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "9223372036854775807"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MemoryLimit(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("MemoryLimit(%v) = %d, want %d", tt.env, got, tt.want)
			}
		})
	}
}

// TestSetMemoryLimit: in Lambda the runtime's soft limit becomes
// MemoryLimit, and the collector's target stays Go's; outside Lambda
// nothing changes.
func TestSetMemoryLimit(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantLimit int64
	}{
		{"in Lambda", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 56 << 20},
		{"outside Lambda", map[string]string{}, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer debug.SetMemoryLimit(math.MaxInt64)
			defer debug.SetGCPercent(debug.SetGCPercent(100))
			debug.SetMemoryLimit(math.MaxInt64)
			SetMemoryLimit(func(k string) string { return tt.env[k] })
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit after SetMemoryLimit(%v) = %d, want %d", tt.env, got, tt.wantLimit)
			}
			if got := debug.SetGCPercent(100); got != 100 {
				t.Errorf("GC percent after SetMemoryLimit(%v) = %d, want 100", tt.env, got)
			}
		})
	}
}
