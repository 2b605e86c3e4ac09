package verify

import (
	"context"
	"time"
)

// Key is one source table, region and UTC day of the archive.
type Key struct {
	Table, Region string
	Day           string // yyyy-mm-dd
}

// Count is the number of distinct event_ids of one Key, in all and per
// hour of the day (by deleted_at).
type Count struct {
	Total int64
	Hours [24]int64
}

// Counts are the archive's counts by Key.
type Counts map[Key]*Count

// Query says what a Counter counts: the lines of these tables (all when
// empty) deleted on the days from Since to Until, both included.
type Query struct {
	Tables       []string
	Since, Until time.Time
}

// Counter counts the distinct event_ids archived per table, region, day
// and hour. Lines or objects it cannot read are returned as problems,
// never left out in silence; an error stops the count.
type Counter interface {
	Count(ctx context.Context, q Query) (Counts, []Problem, error)
}
