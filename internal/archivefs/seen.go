package archivefs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// Seen records the source tables and deletion days of the lines a
// filter left out, so that a run that selected nothing can say what the
// archive holds instead of printing nothing. The zero Seen is ready to
// use.
type Seen struct {
	tables map[string]*dayRange
}

type dayRange struct {
	first, last time.Time // zero: no line of the table had a deleted_at
	lines       int
}

// Add records a line.
func (s *Seen) Add(l archive.Line) {
	if s.tables == nil {
		s.tables = map[string]*dayRange{}
	}
	r := s.tables[l.Table]
	if r == nil {
		r = &dayRange{}
		s.tables[l.Table] = r
	}
	r.lines++
	if l.DeletedAt == nil {
		return
	}
	d := l.DeletedAt.UTC().Truncate(24 * time.Hour)
	if r.first.IsZero() || d.Before(r.first) {
		r.first = d
	}
	if d.After(r.last) {
		r.last = d
	}
}

// Tables returns the tables seen, sorted.
func (s *Seen) Tables() []string {
	return slices.Sorted(maps.Keys(s.tables))
}

// String lists the tables seen with their lines and UTC days of
// deletion: "Orders (3 lines, 2025-11-23 to 2025-11-24), Sessions (2
// lines, 2025-11-23)".
func (s *Seen) String() string {
	var parts []string
	for _, t := range s.Tables() {
		r := s.tables[t]
		name := t
		if name == "" {
			name = `"" (no table)`
		}
		days := ""
		switch {
		case r.first.IsZero():
		case r.first.Equal(r.last):
			days = ", " + r.first.Format(time.DateOnly)
		default:
			days = ", " + r.first.Format(time.DateOnly) + " to " + r.last.Format(time.DateOnly)
		}
		parts = append(parts, fmt.Sprintf("%s (%d lines%s)", name, r.lines, days))
	}
	return strings.Join(parts, ", ")
}

// NoMatch describes a filter that selected none of the lines seen: what
// it asked for, what the archive holds, and, for a --source-table that
// differs only in case from a table seen, that table.
func NoMatch(f Filter, s *Seen) string {
	msg := fmt.Sprintf("no line matches %s; the archive holds %s", f, s)
	if f.Table == "" {
		return msg
	}
	if _, ok := s.tables[f.Table]; ok {
		return msg
	}
	for _, t := range s.Tables() {
		if strings.EqualFold(t, f.Table) {
			return msg + fmt.Sprintf("; did you mean --source-table %s? (table names are case-sensitive)", t)
		}
	}
	return msg
}
