package restore

import (
	"context"
	"errors"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// The newest version of a key wins.
//
// A key can be in the archive more than once: an item expires, is written
// again and expires again, and each deletion is archived. Restore and
// Export write only the newest archived version of each key, whatever the
// order of the objects and however many writes are in flight. Versions
// are ordered by deleted_at (a line without it is older than any line
// with it), then by sequence_number compared as a decimal number (the
// stream's order; a missing or non-numeric one is the oldest).
//
// To know which version is the newest before writing any, a run reads the
// archive twice: the first pass (index) records the newest version of
// every selected key, about 100 bytes of memory per key; the second
// writes a line only when it holds that version. A run resumed from a
// checkpoint indexes the finished objects again, so that an older version
// read after the resume does not replace a newer one written before it.

// version is where a line stands among the versions of its key.
type version struct {
	at  int64  // deleted_at in Unix nanoseconds; 0 when the line has none
	seq string // sequence_number without leading zeros; "" when not a number
}

func lineVersion(l *archive.Line) version {
	var v version
	if l.DeletedAt != nil {
		v.at = l.DeletedAt.UnixNano()
	}
	seq := l.SequenceNumber
	if seq == "" {
		if rec, err := archivefs.RawRecord(*l); err == nil && rec != nil {
			seq = rec.Dynamodb.SequenceNumber
		}
	}
	v.seq = seqVersion(seq)
	if l.RecoveredFrom != "" {
		v = v.recoveredAt()
	}
	return v
}

// recoveredAt puts a version recovered from a table export a second
// before the second of its time: its time is the export's write time in
// microseconds, a stream line's the record's creation time in whole
// seconds, so the same deletion archived both ways is the stream's, whose
// old image is the item just before the delete (the export's is the item
// at its window's start).
func (v version) recoveredAt() version {
	if v.at != 0 {
		v.at = time.Unix(0, v.at).Truncate(time.Second).Add(-time.Second).UnixNano()
	}
	return v
}

// compare orders versions: -1 when v is older than w, 0 when the same,
// +1 when newer. Sequence numbers are compared as numbers: a longer one
// (without leading zeros) is larger.
func (v version) compare(w version) int {
	switch {
	case v.at != w.at:
		if v.at < w.at {
			return -1
		}
		return 1
	case len(v.seq) != len(w.seq):
		if len(v.seq) < len(w.seq) {
			return -1
		}
		return 1
	}
	return strings.Compare(v.seq, w.seq)
}

// keyID identifies the key of a line: a 128-bit hash of its table and
// its keys in canonical form (archive.KeyCanonicalizer: attributes sorted,
// numbers in one form, so 100 and 1E+2 are the same key). A line archived
// raw without keys is keyed by its stream record's. ok is false when the
// line's keys cannot be read; such a line has no version to compare and
// is written as it is.
func (x *versionIndex) keyID(l *archive.Line) (id [16]byte, ok bool) {
	keys, typed := []byte(l.Keys), l.Format == archive.FormatDynamoDBJSONName
	if len(keys) == 0 || string(keys) == "null" {
		rec, err := archivefs.RawRecord(*l)
		if err != nil || rec == nil || len(rec.Dynamodb.Keys) == 0 {
			return id, false
		}
		keys, typed = rec.Dynamodb.Keys, true
	}
	return x.keyIDOf(l.Table, keys, typed)
}

// keyIDOf is keyID of a table's raw keys JSON (typed: DynamoDB JSON).
func (x *versionIndex) keyIDOf(table string, keys []byte, typed bool) (id [16]byte, ok bool) {
	var err error
	x.canon, err = x.canonKeys.Append(x.canon[:0], keys, typed)
	if err != nil || len(x.canon) == 0 {
		return id, false
	}
	h := fnv.New128a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write(x.canon)
	h.Sum(id[:0])
	return id, true
}

// seqVersion is the sequence number of a version: digits without leading
// zeros, "" when not a number.
func seqVersion(seq string) string {
	if seq == "" || strings.Trim(seq, "0123456789") != "" {
		return ""
	}
	if seq = strings.TrimLeft(seq, "0"); seq == "" {
		return "0"
	}
	return seq
}

// newestEntry is the newest version of one key and whether a line holding
// it was taken for writing.
type newestEntry struct {
	v     version
	taken bool
}

// versionIndex holds the newest version of every key selected by the
// filter.
type versionIndex struct {
	keys      map[[16]byte]*newestEntry
	canonKeys archive.KeyCanonicalizer
	canon     []byte
	tables    map[string]int    // selected lines per source table
	lost      map[string]lostAt // objects that could not be read to their end
}

// lostAt is where the first pass could not read an object further: the
// line it failed on (lines before it were read), and why.
type lostAt struct {
	line int
	err  error
}

// indexProgress is told, now and then, how many lines the index read.
type indexProgress func(lines int)

// buildIndex reads every object of src and records the newest version of
// each key the filter selects. finished, when not nil, tells the lines an
// earlier run handled (from a checkpoint): a newest version found there
// is marked taken, so that an older one read later is not written.
// Objects that cannot be read to their end are in lost: the second pass
// reads them only up to where the first stopped (the versions after are
// unknown) and counts them unreadable.
func buildIndex(ctx context.Context, src *archivefs.Source, f archivefs.Filter, finished func(object string, line int) bool, progress indexProgress) (*versionIndex, error) {
	x := &versionIndex{keys: map[[16]byte]*newestEntry{}, tables: map[string]int{}, lost: map[string]lostAt{}}
	lines := 0
	last := time.Now()
	for obj, err := range src.Objects(ctx) {
		if err != nil {
			return nil, err
		}
		for l, err := range src.ObjectLines(ctx, obj, 0) {
			if err != nil {
				if !errors.Is(err, archivefs.ErrLineTooLong) {
					at := 1
					if le := (*archivefs.LineError)(nil); errors.As(err, &le) && le.Line > 1 {
						at = le.Line
					}
					x.lost[obj.Key] = lostAt{line: at, err: err}
				}
				continue
			}
			lines++
			if progress != nil && time.Since(last) >= 200*time.Millisecond {
				progress(lines)
				last = time.Now()
			}
			var id [16]byte
			var v version
			var ok bool
			if lk, err := archive.ParseLineKeys(l.Data); err == nil && len(f.Keys) == 0 && len(lk.Keys) > 0 && len(lk.SequenceNumber) > 0 {
				// The fast path (a line with its keys and sequence number,
				// a filter on table and time only): the item is not
				// decoded, nor the keys into values.
				if !matchTableTime(f, lk.Table, lk.DeletedAt) {
					continue
				}
				x.tables[string(lk.Table)]++
				if id, ok = x.keyIDOf(string(lk.Table), lk.Keys, lk.Typed); !ok {
					continue
				}
				v = version{seq: seqVersion(string(lk.SequenceNumber))}
				if !lk.DeletedAt.IsZero() {
					v.at = lk.DeletedAt.UnixNano()
				}
				if lk.Recovered {
					v = v.recoveredAt()
				}
			} else {
				al, err := archive.ParseLine(l.Data)
				if err != nil || !f.Match(al) {
					continue
				}
				x.tables[al.Table]++
				if id, ok = x.keyID(&al); !ok {
					continue
				}
				v = lineVersion(&al)
			}
			done := finished != nil && finished(l.Object, l.Number)
			e := x.keys[id]
			switch {
			case e == nil:
				x.keys[id] = &newestEntry{v: v, taken: done}
			case v.compare(e.v) > 0:
				e.v, e.taken = v, done
			case v.compare(e.v) == 0 && done:
				e.taken = true
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if progress != nil {
		progress(lines)
	}
	return x, nil
}

// take reports whether the line holds the newest version of its key and
// no line with that version was taken before; it marks it taken.
func (x *versionIndex) take(al *archive.Line) bool {
	id, ok := x.keyID(al)
	if !ok {
		return true
	}
	e := x.keys[id]
	if e == nil {
		// Not indexed (the filter or the archive changed between the
		// passes): nothing newer is known.
		x.keys[id] = &newestEntry{v: lineVersion(al), taken: true}
		return true
	}
	v := lineVersion(al)
	switch c := v.compare(e.v); {
	case c < 0, c == 0 && e.taken:
		return false
	case c > 0:
		e.v = v
	}
	e.taken = true
	return true
}

// matchTableTime is Filter.Match for a filter without key conditions, on
// a line's table and deletion time (zero: none).
func matchTableTime(f archivefs.Filter, table []byte, at time.Time) bool {
	if f.Table != "" && string(table) != f.Table {
		return false
	}
	if f.Since.IsZero() && f.Until.IsZero() {
		return true
	}
	if at.IsZero() {
		return false
	}
	return (f.Since.IsZero() || !at.Before(f.Since)) && (f.Until.IsZero() || at.Before(f.Until))
}

// sortedTables lists the source tables the index selected lines of.
func (x *versionIndex) sortedTables() []string {
	return slices.Sorted(maps.Keys(x.tables))
}
