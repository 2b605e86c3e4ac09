package archive

import (
	"errors"
	"fmt"
	"strconv"
)

// FormatVersion is the version of the archive line this package writes
// and the newest it reads (docs/archive-format.md#format-version).
//
// Version 1 lines carry no version: a line without "v" is version 1, so
// that every archive written so far stays version 1 and the archiver's
// lines cost no byte more. A later version that a version-1 reader would
// misread (a member changing meaning or type, not one added) is written
// with "v" as the line's first member, and readers refuse a version newer
// than theirs instead of misreading it.
const FormatVersion = 1

// ErrNewerFormat is wrapped by the error of [ParseLine] and
// [ParseLineHeader] for a line of a format version newer than
// [FormatVersion].
var ErrNewerFormat = errors.New("archive line of a newer format version")

// checkFormatVersion checks a line's "v" (0 when absent: version 1).
func checkFormatVersion(v int) error {
	switch {
	case v > FormatVersion:
		return fmt.Errorf("%w: version %d, this ttl-archiver reads versions up to %d: upgrade ttl-archiver to read it", ErrNewerFormat, v, FormatVersion)
	case v < 0:
		return fmt.Errorf("format version %d is not a version", v)
	}
	return nil
}

// readFormatVersion reads and checks a line's "v" member (null: absent,
// as encoding/json has it).
func (s *scanner) readFormatVersion() error {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	n, err := s.number()
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(string(n))
	if err != nil {
		return s.errorf("format version %s is not a whole number", n)
	}
	return checkFormatVersion(v)
}
