package restore

import (
	"strings"
	"testing"
)

// numberSizeReference is numberSize as first written, for comparison.
func numberSizeReference(s string) int {
	mant, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := strings.Trim(strings.NewReplacer("-", "", "+", "", ".", "").Replace(mant), "0")
	return (len(digits)+1)/2 + 1
}

func TestNumberSize(t *testing.T) {
	for _, s := range []string{"0", "-0", "0.000", "1", "-1", "100", "100.5", "0.001", "1E+2", "1e-130", "-9.9999999999999999999999999999999999999E+125",
		"12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678", "10203", "+7", ".5", "5.", "00012300"} {
		if got, want := numberSize(s), numberSizeReference(s); got != want {
			t.Errorf("numberSize(%q) = %d, want %d", s, got, want)
		}
	}
}
