package archive_test

import (
	"errors"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func TestCheckNumber(t *testing.T) {
	ok := []string{"0", "-0", "0.000", "0e999999", "1", "-1", "+1", "100", "1E+2", "12345678901234567890123456789012345678",
		"0.12345678901234567890123456789012345678", "1234567890123456789012345678901234567800000", "1E-130", "-1E-130",
		"0.0001e-126", "9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999e88", "1.5", ".5", "5."}
	bad := []string{"", "-", "abc", "1e", "1e+", "1x", "1.2.3", "1E+126", "10E+125", "1E-131", "0.1E-130", "1e999999", "-1e-999999",
		"123456789012345678901234567890123456789", "1.23456789012345678901234567890123456789", "--1", "1e5.5"}
	for _, s := range ok {
		if err := archive.CheckNumber(s); err != nil {
			t.Errorf("CheckNumber(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if err := archive.CheckNumber(s); !errors.Is(err, archive.ErrNumber) {
			t.Errorf("CheckNumber(%q) = %v, want ErrNumber", s, err)
		}
	}
}
