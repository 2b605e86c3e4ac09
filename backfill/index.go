package backfill

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// keyHash identifies a key of the table: two 64-bit hashes of its
// canonical keys (archive.KeyCanonicalizer). It lives in one process
// only, so maphash's random seeds are fine; two keys meet by chance with
// odds of about n²/2¹²⁹.
type keyHash [2]uint64

var seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func hashKeys(canon []byte) keyHash {
	return keyHash{maphash.Bytes(seeds[0], canon), maphash.Bytes(seeds[1], canon)}
}

// index is when each key of the table was deleted, by the archive's
// lines: deleted_at in Unix seconds. Most keys are deleted once in a
// window; the others keep their further times in more. About 40 bytes a
// key.
type index struct {
	first map[keyHash]int64
	more  map[keyHash][]int64
	// format is the format of the newest line of the table read, and
	// formatSeen whether there was one.
	format     archive.Format
	formatAt   time.Time
	formatSeen bool
	lines      int // the table's lines in the window
	// backfilled is the highest NNNN of each export's objects seen.
	backfilled map[string]int
}

func newIndex() *index {
	return &index{first: map[keyHash]int64{}, more: map[keyHash][]int64{}, backfilled: map[string]int{}}
}

func (x *index) add(k keyHash, at int64) {
	t, ok := x.first[k]
	switch {
	case !ok:
		x.first[k] = at
	case t != at:
		if !slices.Contains(x.more[k], at) {
			x.more[k] = append(x.more[k], at)
		}
	}
}

// archived reports whether the key was deleted within tol of at.
func (x *index) archived(k keyHash, at time.Time, tol time.Duration) bool {
	near := func(sec int64) bool {
		d := at.Sub(time.Unix(sec, 0))
		// deleted_at has whole seconds (the stream's
		// ApproximateCreationDateTime) or microseconds (a recovered
		// line): one more second of slack for the truncation.
		return d <= tol+time.Second && d >= -tol-time.Second
	}
	t, ok := x.first[k]
	if !ok {
		return false
	}
	if near(t) {
		return true
	}
	return slices.ContainsFunc(x.more[k], near)
}

// Problem is an object or a line that could not be read, or an export
// whose counts disagree with what was read.
type Problem struct {
	Object string `json:"object"`
	Line   int    `json:"line,omitempty"`
	Error  string `json:"error"`
}

// partitions returns the locations of the table's Firehose partitions
// (table=T/dt=DAY/) in archive for each day from since to until: the
// only places a line of the table deleted on that day can be. A local
// partition that does not exist is left out.
func partitions(archiveLoc archivefs.Location, table string, since, until time.Time) []archivefs.Location {
	var out []archivefs.Location
	for d := since.UTC().Truncate(24 * time.Hour); !d.After(until); d = d.AddDate(0, 0, 1) {
		rel := "table=" + table + "/dt=" + d.Format(time.DateOnly) + "/"
		if archiveLoc.IsS3() {
			out = append(out, archivefs.Location{Bucket: archiveLoc.Bucket, Prefix: prefixDir(archiveLoc.Prefix) + rel})
			continue
		}
		p := filepath.Join(archiveLoc.Path, filepath.FromSlash(rel))
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			out = append(out, archivefs.Location{Path: p})
		}
	}
	return out
}

// prefixDir returns an S3 prefix as a folder: "" or ending in "/".
func prefixDir(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}

// buildIndex reads the table's lines deleted from since to until (with a
// second of slack) in every archive location, workers objects at a time. Objects or lines it
// cannot read are problems: with them, what is archived is not known.
func buildIndex(ctx context.Context, locs []archivefs.Location, client archivefs.S3API, table string, since, until time.Time, workers int, lines *atomic.Int64) (*index, []Problem, error) {
	x := newIndex()
	var parts []archivefs.Location
	for _, loc := range locs {
		parts = append(parts, partitions(loc, table, since, until)...)
	}
	if len(parts) == 0 {
		return x, nil, nil
	}
	src, err := archivefs.NewSources(parts, client)
	if err != nil {
		return nil, nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan archivefs.Object, workers)
	var listErr error
	go func() {
		defer close(jobs)
		for obj, err := range src.Objects(ctx) {
			if err != nil {
				listErr = err
				cancel(err)
				return
			}
			select {
			case jobs <- obj:
			case <-ctx.Done():
				return
			}
		}
	}()
	type found struct {
		k  keyHash
		at int64
	}
	var (
		mu       sync.Mutex
		problems []Problem
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			var canon archive.KeyCanonicalizer
			var buf []byte
			var keys []found
			for obj := range jobs {
				keys = keys[:0]
				var probs []Problem
				var newest time.Time
				var newestFormat archive.Format
				n := 0
				for l, err := range src.ObjectLines(ctx, obj, 0) {
					if err != nil {
						if ctx.Err() != nil {
							break
						}
						probs = append(probs, lineProblem(obj.Key, err))
						continue
					}
					lines.Add(1)
					lk, err := archive.ParseLineKeys(l.Data)
					if err != nil {
						probs = append(probs, Problem{Object: obj.Key, Line: l.Number, Error: err.Error()})
						continue
					}
					if string(lk.Table) != table {
						continue
					}
					if lk.DeletedAt.After(newest) {
						newest, newestFormat = lk.DeletedAt, lk.Format
					}
					if lk.DeletedAt.IsZero() || lk.DeletedAt.Before(since.Add(-time.Second)) || lk.DeletedAt.After(until.Add(time.Second)) {
						continue
					}
					if lk.Keys == nil {
						probs = append(probs, Problem{Object: obj.Key, Line: l.Number, Error: "line has no keys: it cannot be matched with an export's deletion"})
						continue
					}
					if buf, err = canon.Append(buf[:0], lk.Keys, lk.Typed); err != nil {
						probs = append(probs, Problem{Object: obj.Key, Line: l.Number, Error: err.Error()})
						continue
					}
					keys = append(keys, found{hashKeys(buf), lk.DeletedAt.Unix()})
					n++
				}
				mu.Lock()
				problems = append(problems, probs...)
				for _, f := range keys {
					x.add(f.k, f.at)
				}
				x.lines += n
				if !newest.IsZero() && newest.After(x.formatAt) {
					x.format, x.formatAt, x.formatSeen = newestFormat, newest, true
				}
				if id, seq, ok := backfillObject(obj.Key); ok {
					x.backfilled[id] = max(x.backfilled[id], seq+1)
				}
				mu.Unlock()
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
	return x, problems, nil
}

// lineProblem describes an error of archivefs.Source.ObjectLines.
func lineProblem(object string, err error) Problem {
	p := Problem{Object: object, Error: err.Error()}
	var le *archivefs.LineError
	if errors.As(err, &le) {
		p.Line, p.Error = le.Line, le.Err.Error()
		if !errors.Is(err, archivefs.ErrLineTooLong) {
			p.Line = 0
			p.Error = fmt.Sprintf("could not be read to its end (after line %d): %v", max(le.Line-1, 0), le.Err)
		}
	}
	return p
}

// objectPrefix starts the names of the objects backfill writes. Firehose
// names its objects after the delivery stream
// (STREAM-VERSION-yyyy-MM-dd-HH-mm-ss-UUID), so a name that starts with
// this can not be Firehose's: the stack's stream is named after the
// stack, never "ttl-archiver-backfill-...".
const objectPrefix = "ttl-archiver-backfill-"

// objectName is the name of the seq-th object of an export.
func objectName(exportID string, seq int) string {
	return fmt.Sprintf("%s%s-%04d.gz", objectPrefix, exportID, seq)
}

// backfillObject reads the export id and number of an object backfill
// wrote, from its key.
func backfillObject(key string) (id string, seq int, ok bool) {
	name, found := strings.CutPrefix(path.Base(key), objectPrefix)
	if !found {
		return "", 0, false
	}
	name, found = strings.CutSuffix(name, ".gz")
	i := strings.LastIndex(name, "-")
	if !found || i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return name[:i], n, true
}
