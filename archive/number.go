package archive

import (
	"errors"
	"fmt"
)

// DynamoDB's numbers (the developer guide's "Data types"): at most 38
// significant digits, and a magnitude from 1E-130 to
// 9.9999999999999999999999999999999999999E+125, or zero.
const (
	maxNumberDigits   = 38
	minNumberExponent = -130 // of the first significant digit
	maxNumberExponent = 125
)

// ErrNumber is wrapped by CheckNumber's errors.
var ErrNumber = errors.New("not a DynamoDB number")

// CheckNumber reports whether s is a number DynamoDB stores: a decimal
// (sign, digits, a fraction, an exponent) of at most 38 significant
// digits whose magnitude is 1E-130 to 9.99…E+125, or zero. It reads s
// digit by digit, so that "1e999999" is refused at once rather than
// expanded by exact arithmetic.
func CheckNumber(s string) error {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	// first and last significant digit, and the exponent (of the first
	// significant digit) the digits alone give.
	digits, first, last, point := 0, -1, -1, -1
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if c != '0' {
				if first < 0 {
					first = digits
				}
				last = digits
			}
			digits++
		case c == '.' && point < 0:
			point = digits
		default:
			goto exponent
		}
	}
exponent:
	if digits == 0 {
		return fmt.Errorf("%w: %q has no digits", ErrNumber, s)
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' || i+1 == len(s) {
			return fmt.Errorf("%w: %q", ErrNumber, s)
		}
		i++
		neg := false
		if s[i] == '-' || s[i] == '+' {
			neg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return fmt.Errorf("%w: %q has an empty exponent", ErrNumber, s)
		}
		for ; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return fmt.Errorf("%w: %q", ErrNumber, s)
			}
			if exp < 1_000_000 { // far beyond the range: no overflow
				exp = exp*10 + int(s[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	if first < 0 {
		return nil // zero, however written
	}
	if n := last - first + 1; n > maxNumberDigits {
		return fmt.Errorf("%w: %q has %d significant digits, more than DynamoDB's %d", ErrNumber, s, n, maxNumberDigits)
	}
	if point < 0 {
		point = digits
	}
	e := exp + point - first - 1 // the power of ten of the first significant digit
	if e < minNumberExponent || e > maxNumberExponent {
		return fmt.Errorf("%w: %q is outside DynamoDB's range of 1E-130 to 9.99E+125", ErrNumber, s)
	}
	return nil
}
