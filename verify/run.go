package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ErrBadOptions is wrapped by Run's errors about its Options.
var ErrBadOptions = errors.New("bad verify options")

// boundaryWindow is how far from midnight a deletion may be and still be
// matched with the other side of it: the last hour of one day and the
// first of the next. The metric and deleted_at differ by seconds to
// minutes (CloudWatch's timestamp against the stream record's
// ApproximateCreationDateTime); an hour is the metric's resolution.
const boundaryWindow = time.Hour

// day is one UTC day of one series: a table in one region, or a global
// table's sum over its regions.
type day struct {
	start    time.Time
	deleted  *Count // nil: no metric data
	archived Count  // as counted
	adjusted int64  // archived after matching across midnight
	head     int64  // archived in the first hour, after matching
	// pending: the day is not settled; headSettled: its first hour is.
	pending, headSettled bool
	shifted              int64 // deletions matched across midnight
}

func (d *day) deletedTotal() int64 {
	if d.deleted == nil {
		return 0
	}
	return d.deleted.Total
}

func (d *day) deletedHour(h int) int64 {
	if d.deleted == nil {
		return 0
	}
	return d.deleted.Hours[h]
}

// boundary returns how many more (positive) or fewer (negative) lines
// than deletions the day has, as far as it is settled: the whole day, or
// only its first hour while the day is pending, or nothing.
func (d *day) boundary() (int64, bool) {
	switch {
	case !d.pending:
		return d.adjusted - d.deletedTotal(), true
	case d.headSettled:
		return d.head - d.deletedHour(0), true
	}
	return 0, false
}

// reconcile matches a deficit on one day with a surplus on the next, or a
// surplus with a deficit, for deletions within boundaryWindow of the
// midnight between them: at most the lines of the later day's first hour
// and the deletions of the earlier day's last hour (or the other way
// round). What it cannot match stays: a real gap is reported exactly.
func reconcile(days []day) {
	for i := 0; i+1 < len(days); i++ {
		d, e := &days[i], &days[i+1]
		if d.pending {
			return
		}
		diff := d.adjusted - d.deletedTotal()
		next, ok := e.boundary()
		if !ok || diff == 0 {
			continue
		}
		var k int64
		if diff < 0 { // deletions counted on d, lines on e
			k = min(-diff, next, e.head, d.deletedHour(23))
			if k > 0 {
				d.adjusted += k
				e.adjusted -= k
				e.head -= k
			}
		} else { // lines on d, deletions counted on e
			k = min(diff, -next, d.archived.Hours[23], e.deletedHour(0))
			if k > 0 {
				d.adjusted -= k
				e.adjusted += k
				e.head += k
			}
		}
		if k > 0 {
			d.shifted += k
			e.shifted += k
		}
	}
}

func run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Counter == nil || opts.Metrics == nil {
		return nil, fmt.Errorf("%w: a Counter and Metrics are required", ErrBadOptions)
	}
	since, until := opts.Since.UTC().Truncate(24*time.Hour), opts.Until.UTC().Truncate(24*time.Hour)
	if since.IsZero() || until.Before(since) {
		return nil, fmt.Errorf("%w: since %s is after until %s", ErrBadOptions, since.Format(time.DateOnly), until.Format(time.DateOnly))
	}
	if len(opts.Regions) == 0 && (opts.Describe == nil || opts.DefaultRegion == "") {
		return nil, fmt.Errorf("%w: no regions, and no DefaultRegion and Describe to find the tables' replicas", ErrBadOptions)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	settle := opts.Settle
	if settle <= 0 {
		settle = DefaultSettle
	}
	// A day on each side, to match deletions across the range's midnights.
	q := Query{Tables: opts.Tables, Since: since.AddDate(0, 0, -1), Until: until.AddDate(0, 0, 1)}
	counts, problems, err := opts.Counter.Count(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("count the archive: %w", err)
	}

	tables := slices.Clone(opts.Tables)
	if len(tables) == 0 {
		for k := range counts {
			tables = append(tables, k.Table)
		}
	}
	slices.Sort(tables)
	tables = slices.Compact(tables)

	regionsOf := map[string][]string{}
	byRegion := map[string][]string{}
	for _, t := range tables {
		regions := slices.Clone(opts.Regions)
		if len(regions) == 0 {
			if regions, err = replicaRegions(ctx, opts.Describe, opts.DefaultRegion, t); err != nil {
				return nil, err
			}
		}
		for k := range counts { // never leave out lines of another region
			if k.Table == t {
				regions = append(regions, k.Region)
			}
		}
		slices.Sort(regions)
		regions = slices.Compact(regions)
		regionsOf[t] = regions
		for _, r := range regions {
			byRegion[r] = append(byRegion[r], t)
		}
	}
	deleted := Counts{}
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		api := opts.Metrics(region)
		if api == nil {
			return nil, fmt.Errorf("%w: no CloudWatch client for %s", ErrBadOptions, region)
		}
		c, err := deletedCounts(ctx, api, region, byRegion[region], q.Since, q.Until)
		if err != nil {
			return nil, err
		}
		maps.Copy(deleted, c)
	}

	rep := &Report{Problems: problems, Rows: []Row{}}
	t0 := now()
	for _, t := range tables {
		regions := regionsOf[t]
		global := len(regions) > 1
		series := make([][]day, 0, len(regions)+1)
		for _, r := range regions {
			series = append(series, newSeries(q, t0, settle, func(k string) (*Count, *Count) {
				key := Key{Table: t, Region: r, Day: k}
				return deleted[key], counts[key]
			}))
		}
		if global {
			series = append(series, sumSeries(series))
		}
		for _, s := range series {
			reconcile(s)
		}
		for i := 1; i+1 < len(series[0]); i++ { // the days asked for
			for j, s := range series {
				region := AllRegions
				if j < len(regions) {
					region = regions[j]
				}
				detail := global && region != AllRegions
				row := verdict(t, region, &s[i], t0)
				row.Detail = detail
				rep.Rows = append(rep.Rows, row)
				if !detail {
					rep.Totals.TTLDeleted += row.TTLDeleted
					rep.Totals.Archived += row.Archived
					rep.Totals.Missing += row.Missing
					rep.Totals.Extra += row.Extra
				}
			}
		}
	}
	rep.Complete = len(rep.Problems) == 0
	for _, r := range rep.Rows {
		if !r.Detail && r.Status != Complete && r.Status != Pending {
			rep.Complete = false
		}
	}
	return rep, nil
}

// newSeries returns the days of q for one table and region, with the
// counts that get returns for a day.
func newSeries(q Query, now time.Time, settle time.Duration, get func(day string) (deleted, archived *Count)) []day {
	var s []day
	for d := q.Since; !d.After(q.Until); d = d.AddDate(0, 0, 1) {
		del, arc := get(d.Format(time.DateOnly))
		x := day{start: d, pending: now.Before(d.Add(24*time.Hour + settle)), headSettled: !now.Before(d.Add(boundaryWindow + settle))}
		if del != nil {
			c := *del
			x.deleted = &c
		}
		if arc != nil {
			x.archived = *arc
		}
		x.adjusted, x.head = x.archived.Total, x.archived.Hours[0]
		s = append(s, x)
	}
	return s
}

// sumSeries adds up the regions of a global table, day by day.
func sumSeries(series [][]day) []day {
	sum := make([]day, len(series[0]))
	for i := range sum {
		d := series[0][i]
		sum[i] = day{start: d.start, pending: d.pending, headSettled: d.headSettled}
		for _, s := range series {
			x := s[i]
			if x.deleted != nil {
				if sum[i].deleted == nil {
					sum[i].deleted = &Count{}
				}
				add(sum[i].deleted, x.deleted)
			}
			add(&sum[i].archived, &x.archived)
		}
		sum[i].adjusted, sum[i].head = sum[i].archived.Total, sum[i].archived.Hours[0]
	}
	return sum
}

func add(dst, c *Count) {
	dst.Total += c.Total
	for h := range c.Hours {
		dst.Hours[h] += c.Hours[h]
	}
}

// verdict is the row of one day of one series.
func verdict(table, region string, d *day, now time.Time) Row {
	r := Row{Table: table, Region: region, Day: d.start.Format(time.DateOnly), TTLDeleted: d.deletedTotal(), Archived: d.archived.Total}
	if d.shifted > 0 {
		r.Note = fmt.Sprintf("%d matched across midnight", d.shifted)
	}
	switch {
	case d.pending:
		r.Status = Pending
		r.Note = "the day is not settled yet"
	case d.deleted == nil && d.adjusted == 0:
		r.Status = Complete
	case d.deleted == nil:
		r.Status = Unknown
		r.Note = "archived lines but no TimeToLiveDeletedItemCount data: the metric is absent in this region"
		if d.start.Add(24 * time.Hour).Before(now.Add(-metricRetention)) {
			r.Note = "archived lines but no TimeToLiveDeletedItemCount data: the day is beyond CloudWatch's 455 days"
		}
	case d.adjusted == d.deleted.Total:
		r.Status = Complete
	case d.adjusted < d.deleted.Total:
		r.Status = Missing
		r.Missing = d.deleted.Total - d.adjusted
	default:
		r.Status = Extra
		r.Extra = d.adjusted - d.deleted.Total
		r.Note = "more archived than TTL deleted: a delete that was not TTL's archived as one (a backfilled user delete), a bug"
		if region != AllRegions {
			r.Note += ", or a deletion the metric counted in another region"
		}
	}
	return r
}
