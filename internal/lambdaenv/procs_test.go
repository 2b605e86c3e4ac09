package lambdaenv

import (
	"runtime"
	"testing"
)

func TestProcs(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"128 MB function", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 1},
		{"one vCPU's worth", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"}, 1},
		{"just over one vCPU", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1770"}, 2},
		{"10,240 MB function", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, 6},
		{"GOMAXPROCS set wins", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMAXPROCS": "4"}, 0},
		{"outside Lambda", map[string]string{}, 0},
		{"not a number", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}, 0},
		{"zero", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}, 0},
		{"huge", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "9223372036854775807"}, 1 << 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Procs(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("Procs(%v) = %d, want %d", tt.env, got, tt.want)
			}
		})
	}
}

// TestSetProcs: SetProcs lowers GOMAXPROCS for a small function and never
// raises it.
func TestSetProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	SetProcs(func(k string) string { return map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}[k] })
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS after SetProcs at 128 MB = %d, want 1", got)
	}
	runtime.GOMAXPROCS(2)
	SetProcs(func(k string) string { return map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}[k] })
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS after SetProcs at 10,240 MB with 2 = %d, want 2 (never raised)", got)
	}
}
