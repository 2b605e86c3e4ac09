package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// ArchiveCounter counts the archive by reading its objects: every object
// under every source, in one streaming pass, Workers objects at a time.
// Objects under a Firehose partition (table=NAME/dt=DAY/) of a table or a
// day the query does not ask for are not read.
type ArchiveCounter struct {
	Sources []*archivefs.Source
	// Workers is how many objects are read at once; 0 means one per CPU.
	Workers int
}

// eventKey is an event_id as a map key: the 16 bytes of a 32-digit hex
// id (as DynamoDB streams write them), else the first 16 bytes of the
// id's SHA-256.
type eventKey [16]byte

func makeEventKey(id []byte) eventKey {
	var k eventKey
	if len(id) == 32 {
		if _, err := hex.Decode(k[:], id); err == nil {
			return k
		}
	}
	sum := sha256.Sum256(id)
	copy(k[:], sum[:16])
	return k
}

// Size returns the total size of the objects that Count would read for q.
func (c *ArchiveCounter) Size(ctx context.Context, q Query) (int64, error) {
	var n int64
	for _, src := range c.Sources {
		for obj, err := range src.Objects(ctx) {
			if err != nil {
				return 0, err
			}
			if wanted(obj.Key, q) {
				n += obj.Size
			}
		}
	}
	return n, nil
}

// wanted reports whether an object may hold lines that q counts, from the
// Firehose partition folders in its key: table=NAME/ and dt=yyyy-mm-dd/.
// An object outside such folders is read.
func wanted(key string, q Query) bool {
	if len(q.Tables) > 0 {
		if t, ok := partition(key, "table="); ok && !slices.Contains(q.Tables, t) {
			return false
		}
	}
	if d, ok := partition(key, "dt="); ok {
		day, err := time.Parse(time.DateOnly, d)
		if err == nil && (day.Before(q.Since) || day.After(q.Until)) {
			return false
		}
	}
	return true
}

// partition returns the value of the last folder of key named NAME=value
// for name "NAME=".
func partition(key, name string) (string, bool) {
	var val string
	var found bool
	for dir := range strings.SplitSeq(key, "/") {
		if v, ok := strings.CutPrefix(dir, name); ok {
			val, found = v, true
		}
	}
	// The last element is the object's name, not a folder.
	if found && strings.HasSuffix(key, "/"+name+val) {
		return "", false
	}
	return val, found
}

// objectCount is what one object holds: its lines' groups and ids.
type objectCount struct {
	keys   []Key
	events []counted
}

type counted struct {
	key  int32 // index in keys
	hour uint8
	id   eventKey
}

// Count reads every wanted object and counts the distinct event_ids per
// table, region, deleted_at day and hour. An object that cannot be read
// to its end, and a line that is not an archive line or lacks an event_id
// or a deleted_at, is a Problem; the lines of an object read before it
// failed are counted.
func (c *ArchiveCounter) Count(ctx context.Context, q Query) (Counts, []Problem, error) {
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type job struct {
		src *archivefs.Source
		obj archivefs.Object
	}
	jobs := make(chan job, workers)
	var listErr error
	go func() {
		defer close(jobs)
		for _, src := range c.Sources {
			for obj, err := range src.Objects(ctx) {
				if err != nil {
					listErr = err
					cancel(err)
					return
				}
				if !wanted(obj.Key, q) {
					continue
				}
				select {
				case jobs <- job{src, obj}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	var (
		mu       sync.Mutex
		sets     = map[Key]map[eventKey]struct{}{}
		counts   = Counts{}
		problems []Problem
	)
	merge := func(oc *objectCount, probs []Problem) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, probs...)
		sets0 := make([]map[eventKey]struct{}, len(oc.keys))
		cs := make([]*Count, len(oc.keys))
		for i, k := range oc.keys {
			if sets[k] == nil {
				sets[k] = map[eventKey]struct{}{}
				counts[k] = &Count{}
			}
			sets0[i], cs[i] = sets[k], counts[k]
		}
		for _, e := range oc.events {
			set := sets0[e.key]
			if _, dup := set[e.id]; dup {
				continue
			}
			set[e.id] = struct{}{}
			cs[e.key].Total++
			cs[e.key].Hours[e.hour]++
		}
	}

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var oc objectCount
			for j := range jobs {
				probs := countObject(ctx, j.src, j.obj, q, &oc)
				merge(&oc, probs)
			}
		})
	}
	wg.Wait()
	if listErr != nil {
		return nil, nil, listErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(problems, func(a, b Problem) int {
		if c := strings.Compare(a.Object, b.Object); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return counts, problems, nil
}

// countObject reads one object into oc (reset first) and returns its
// problems.
func countObject(ctx context.Context, src *archivefs.Source, obj archivefs.Object, q Query, oc *objectCount) []Problem {
	oc.keys, oc.events = oc.keys[:0], oc.events[:0]
	var probs []Problem
	// The last key looked up: an object's lines nearly always share it.
	last := -1
	var lastTable, lastRegion []byte
	var lastDay time.Time
	until := q.Until.AddDate(0, 0, 1)
	for l, err := range src.ObjectLines(ctx, obj, 0) {
		if err != nil {
			if ctx.Err() != nil {
				return probs
			}
			p := Problem{Object: obj.Key, Error: err.Error()}
			var le *archivefs.LineError
			if errors.As(err, &le) {
				p.Line, p.Error = le.Line, le.Err.Error()
				if !errors.Is(err, archivefs.ErrLineTooLong) {
					p.Line = 0
					p.Error = fmt.Sprintf("could not be read to its end (after line %d): %v", le.Line-1, le.Err)
				}
			}
			probs = append(probs, p)
			continue
		}
		h, err := archive.ParseLineHeader(l.Data)
		switch {
		case err != nil:
		case len(h.EventID) == 0:
			err = errors.New("line has no event_id")
		case len(h.Table) == 0:
			err = errors.New("line has no table")
		case h.DeletedAt.IsZero():
			err = errors.New("line has no deleted_at: it counts toward no day")
		}
		if err != nil {
			probs = append(probs, Problem{Object: obj.Key, Line: l.Number, Error: err.Error()})
			continue
		}
		t := h.DeletedAt.UTC()
		if t.Before(q.Since) || !t.Before(until) {
			continue
		}
		day := t.Truncate(24 * time.Hour)
		if last < 0 || !day.Equal(lastDay) || string(h.Table) != string(lastTable) || string(h.Region) != string(lastRegion) {
			if len(q.Tables) > 0 && !slices.Contains(q.Tables, string(h.Table)) {
				continue
			}
			k := Key{Table: string(h.Table), Region: string(h.Region), Day: day.Format(time.DateOnly)}
			last = slices.Index(oc.keys, k)
			if last < 0 {
				last = len(oc.keys)
				oc.keys = append(oc.keys, k)
			}
			lastTable, lastRegion, lastDay = append(lastTable[:0], h.Table...), append(lastRegion[:0], h.Region...), day
		}
		oc.events = append(oc.events, counted{key: int32(last), hour: uint8(t.Hour()), id: makeEventKey(h.EventID)})
	}
	return probs
}
