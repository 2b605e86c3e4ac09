package archivefs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

func TestNoMatch(t *testing.T) {
	at := func(s string) *time.Time { tm, _ := time.Parse(time.RFC3339, s); return &tm }
	var seen archivefs.Seen
	for _, l := range []archive.Line{
		{Table: "Orders", DeletedAt: at("2025-11-24T10:00:00Z")},
		{Table: "Orders", DeletedAt: at("2025-11-23T23:59:59Z")},
		{Table: "Sessions", DeletedAt: at("2025-11-23T01:00:00Z")},
		{Table: "Sessions"},
	} {
		seen.Add(l)
	}
	tests := []struct {
		name   string
		filter archivefs.Filter
		want   []string
		not    []string
	}{
		{"wrong case", archivefs.Filter{Table: "orders"},
			[]string{"no line matches table orders", "Orders (2 lines, 2025-11-23 to 2025-11-24)", "Sessions (2 lines, 2025-11-23)", "did you mean --source-table Orders?"}, nil},
		{"other table", archivefs.Filter{Table: "Users"}, []string{"no line matches table Users"}, []string{"did you mean"}},
		{"days", archivefs.Filter{Table: "Orders", Since: *at("2025-12-01T00:00:00Z")},
			[]string{"table Orders, deleted at or after 2025-12-01T00:00:00Z", "2025-11-23 to 2025-11-24"}, []string{"did you mean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := archivefs.NoMatch(tt.filter, &seen)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("NoMatch(%v) = %q, want it to contain %q", tt.filter, got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("NoMatch(%v) = %q, want no %q", tt.filter, got, w)
				}
			}
		})
	}
}
