package restore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// Counts are what reading the archive found. Every line is counted in
// exactly one of Invalid, Filtered, Duplicates, Superseded, NoItem,
// Unconvertible or Items.
type Counts struct {
	Objects       int // objects read to their end
	Lines         int // non-empty lines read
	Invalid       int // lines that are not archive lines (not JSON, too long)
	Filtered      int // archive lines the filter left out
	Duplicates    int // lines whose event_id was already read (Firehose delivers at least once)
	Superseded    int // lines holding an older version of a key than another line (see version.go)
	NoItem        int // lines without an item (the stream had no old image)
	Unconvertible int // lines whose item could not be read (a damaged raw record, a bad type hint)
	Items         int // items selected for writing
	FromRaw       int // of Items: converted from the stream record of a line archived raw
	Unreadable    int // objects that could not be read to their end
}

// maxProblems is how many problems a run describes one by one.
const maxProblems = 20

// selector reads lines and turns the selected ones into items, counting
// and describing what it leaves out.
type selector struct {
	filter  archivefs.Filter
	decoder *itemDecoder
	seen    map[[16]byte]struct{} // event ids read
	counts  Counts
	// filtered holds the tables and days of the Filtered lines.
	filtered archivefs.Seen
	warn     io.Writer
	nProb    int
	// newest, when set, selects only the newest version of each key.
	newest *versionIndex
	// reject, when set, is given each line whose item cannot be
	// converted, with the reason.
	reject func(l archivefs.Line, reason string)
}

func newSelector(f archivefs.Filter, d *itemDecoder, warn io.Writer) *selector {
	if warn == nil {
		warn = io.Discard
	}
	return &selector{filter: f, decoder: d, seen: map[[16]byte]struct{}{}, warn: warn}
}

// problem describes a line or object left out, up to maxProblems of them.
func (s *selector) problem(format string, args ...any) {
	s.nProb++
	if s.nProb <= maxProblems {
		fmt.Fprintf(s.warn, "skipped: "+format+"\n", args...)
	} else if s.nProb == maxProblems+1 {
		fmt.Fprintf(s.warn, "(more skipped lines are counted in the summary only)\n")
	}
}

// lineItem returns the item of one line, or nil when the line is left
// out (counted and, for problems, described).
func (s *selector) lineItem(l archivefs.Line) (Item, *archive.Line) {
	s.counts.Lines++
	al, err := archive.ParseLine(l.Data)
	if err != nil {
		s.counts.Invalid++
		s.problem("%s line %d: %v", l.Object, l.Number, err)
		return nil, nil
	}
	if !s.filter.Match(al) {
		s.counts.Filtered++
		s.filtered.Add(al)
		return nil, nil
	}
	if al.EventID != "" {
		h := fnv.New128a()
		h.Write([]byte(al.EventID))
		var id [16]byte
		h.Sum(id[:0])
		if _, dup := s.seen[id]; dup {
			s.counts.Duplicates++
			return nil, nil
		}
		s.seen[id] = struct{}{}
	}
	if s.newest != nil && !s.newest.take(&al) {
		s.counts.Superseded++
		return nil, nil
	}
	it, fromRaw, err := s.decoder.item(al)
	switch {
	case errors.Is(err, ErrNoItem):
		s.counts.NoItem++
		s.problem("%s line %d (event %s): %v", l.Object, l.Number, al.EventID, err)
		return nil, nil
	case err != nil:
		s.counts.Unconvertible++
		s.problem("%s line %d (event %s): %v", l.Object, l.Number, al.EventID, err)
		if s.reject != nil {
			s.reject(l, "the item cannot be converted: "+err.Error())
		}
		return nil, nil
	}
	s.counts.Items++
	if fromRaw {
		s.counts.FromRaw++
	}
	return it, &al
}

// lineErr counts an error the source yielded instead of a line. It
// returns true when the object cannot be read further.
func (s *selector) lineErr(err error) (objectLost bool) {
	var le *archivefs.LineError
	if errors.As(err, &le) && errors.Is(err, archivefs.ErrLineTooLong) {
		s.counts.Lines++
		s.counts.Invalid++
		s.problem("%v", err)
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	s.unreadable(err)
	return true
}

// unreadable counts an object that could not be read to its end.
func (s *selector) unreadable(err error) {
	s.counts.Unreadable++
	fmt.Fprintf(s.warn, "error: %v\n", err)
}

// stopAt returns the line number at which the second pass stops reading
// an object the first pass could not read to its end (0: no stop).
func (s *selector) stopAt(object string) (int, error) {
	if s.newest == nil {
		return 0, nil
	}
	lo, ok := s.newest.lost[object]
	if !ok {
		return 0, nil
	}
	return lo.line, lo.err
}
