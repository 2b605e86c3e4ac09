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

// TestSetMemoryLimitGC: in Lambda (a memory size, no GOGC) the collector's
// target becomes gcPercent; with GOGC set, or outside Lambda, it stays.
func TestSetMemoryLimitGC(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"in Lambda", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, gcPercent},
		{"GOGC set", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOGC": "100"}, 100},
		{"outside Lambda", map[string]string{}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			defer debug.SetMemoryLimit(math.MaxInt64)
			defer debug.SetGCPercent(100)
			SetMemoryLimit(func(k string) string { return tt.env[k] })
			if got := debug.SetGCPercent(100); got != tt.want {
				t.Errorf("GC percent after SetMemoryLimit(%v) = %d, want %d", tt.env, got, tt.want)
			}
		})
	}
}
