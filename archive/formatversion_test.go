package archive_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// TestFormatVersion: readers take lines without "v" (version 1, every
// line written so far) and with "v" up to FormatVersion, and refuse a
// newer one by name, with ParseLine and ParseLineHeader alike.
func TestFormatVersion(t *testing.T) {
	const rest = `"table":"Orders","region":"us-east-1","event_id":"e1","sequence_number":"1","deleted_at":"2025-11-23T00:00:01Z","keys":{"pk":"a"},"item":{"pk":"a"}}`
	tests := []struct {
		name    string
		line    string
		wantErr error
	}{
		{"absent: version 1", `{` + rest, nil},
		{"version 1", `{"v":1,` + rest, nil},
		{"version 2", `{"v":2,` + rest, archive.ErrNewerFormat},
		{"version 2 last", `{` + strings.TrimSuffix(rest, "}") + `,"v":2}`, archive.ErrNewerFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, lerr := archive.ParseLine([]byte(tt.line))
			_, herr := archive.ParseLineHeader([]byte(tt.line))
			for fn, err := range map[string]error{"ParseLine": lerr, "ParseLineHeader": herr} {
				if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("%s(%s): error %v, want %v", fn, tt.line, err, tt.wantErr)
				}
				if tt.wantErr != nil && err != nil && !strings.Contains(err.Error(), "upgrade ttl-archiver") {
					t.Errorf("%s(%s): error %q does not say to upgrade", fn, tt.line, err)
				}
			}
		})
	}
	if archive.FormatVersion != 1 {
		t.Errorf("FormatVersion = %d, want 1: a new version needs the docs' compatibility section and the golden files updated", archive.FormatVersion)
	}
}
