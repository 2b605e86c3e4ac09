package backfill

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// DefaultTolerance is how far apart an archived line's deleted_at and an
// export's write time may be for the same deletion. A stream-archived
// line has the stream record's ApproximateCreationDateTime (whole
// seconds, when DynamoDB wrote the REMOVE); the export has the write
// time of the delete (microseconds). Both are the delete's own time and
// differ by about a second; the margin covers clock skew between the
// two and is still far shorter than any item's life between being
// written again and expiring again.
const DefaultTolerance = 15 * time.Minute

// DefaultLinesPerObject is the most lines in one object written.
const DefaultLinesPerObject = 100_000

// ErrRefused is wrapped by the error of an export or an archive location
// backfill cannot use: a full export, a NEW_IMAGE export, an export of
// another table, a folder that is not an export.
var ErrRefused = errors.New("refused")

// ErrIncomplete is wrapped by the error of a run that went through but
// did not read everything or could not recover an item: a data file the
// manifest names is missing, counts disagree, a line could not be read
// or converted, or the archive could not be read whole (then nothing is
// written).
var ErrIncomplete = errors.New("incomplete")

// TTLAPI is the part of the DynamoDB client that finds the TTL attribute.
type TTLAPI interface {
	DescribeTimeToLive(ctx context.Context, params *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

var _ TTLAPI = (*dynamodb.Client)(nil)

// Options configure a backfill.
type Options struct {
	// Exports are the folders of the exports (PREFIX/AWSDynamoDB/ID/), in
	// S3 or local copies.
	Exports []archivefs.Location
	// Archive is the archive to check against and write into: the prefix
	// or folder that holds the table= partitions.
	Archive archivefs.Location
	// OtherArchives are only checked against: each other region's
	// archive of a global table.
	OtherArchives []archivefs.Location
	// S3 reads and writes S3 locations; nil when all are local.
	S3 S3API
	// Table is the source table; every export must be of it.
	Table string
	// TTLAttribute is the table's TTL attribute; when empty it is asked
	// of TTL (DescribeTimeToLive) in the first export's region.
	TTLAttribute string
	TTL          func(region string) TTLAPI
	// AllDeletes recovers every deletion, marked "delete":"any", instead
	// of those whose TTL attribute was at or before the write time.
	AllDeletes bool
	// Format of the lines written; nil: the format of the archive's
	// newest line of the table, else json.
	Format *archive.Format
	// DryRun writes nothing; the lines are written to Out.
	DryRun bool
	Out    io.Writer
	// Tolerance is DefaultTolerance when 0.
	Tolerance time.Duration
	// Workers is how many objects are read at once (default one per CPU).
	Workers int
	// LinesPerObject is DefaultLinesPerObject when 0.
	LinesPerObject int
	// Progress, when set, is called about five times a second from one
	// goroutine, and once at the end of each phase.
	Progress func(Progress)
}

// Progress is how far a run got.
type Progress struct {
	Phase     string // "archive" (reading what is archived) or "export"
	Lines     int64  // lines read in the phase
	Recovered int64
}

// ExportSummary is one export read.
type ExportSummary struct {
	ARN    string    `json:"export_arn"`
	Region string    `json:"region"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Files  int       `json:"data_files"`
	Lines  int64     `json:"lines"`
}

// WrittenObject is one object written.
type WrittenObject struct {
	Object string `json:"object"`
	Lines  int    `json:"lines"`
}

// Report is what a backfill did. Every deletion selected is counted in
// exactly one of AlreadyArchived, Recovered, Duplicates and
// Unconvertible.
type Report struct {
	Table        string          `json:"table"`
	TTLAttribute string          `json:"ttl_attribute"`
	Format       string          `json:"format"`
	Tolerance    string          `json:"tolerance"`
	DryRun       bool            `json:"dry_run"`
	Exports      []ExportSummary `json:"exports"`
	ArchiveLines int             `json:"archive_lines"` // the table's archived lines in the windows ± tolerance
	// ExportLines are the lines read; Deletions those without NewImage;
	// TTLDeletions the deletions whose TTL attribute was at or before
	// the write time; Selected what was taken (TTLDeletions, or every
	// deletion with AllDeletes).
	ExportLines     int64 `json:"export_lines"`
	Deletions       int64 `json:"deletions"`
	TTLDeletions    int64 `json:"ttl_deletions"`
	Selected        int64 `json:"selected"`
	AlreadyArchived int64 `json:"already_archived"`
	Recovered       int64 `json:"recovered"`
	// Duplicates are deletions read twice in this run (exports whose
	// windows overlap): recovered once.
	Duplicates    int64 `json:"duplicates"`
	Unconvertible int64 `json:"unconvertible"`
	// CompactedOldImages counts the recovered items that were still live
	// when their export's window began (no TTL attribute, or one after
	// the window's start): the export's old image is the item as it was
	// then, so a change made to it inside the window, before the delete,
	// is not in it.
	CompactedOldImages int64           `json:"compacted_old_images"`
	Objects            []WrittenObject `json:"objects"`
	Problems           []Problem       `json:"problems,omitempty"`
	// FailedObject names an object that could not be written (the run
	// then stopped with an error).
	FailedObject string `json:"failed_object,omitempty"`
}

// Run reads the exports, finds the deletions the archive lacks and
// writes them into it. Refusals wrap ErrRefused and come before anything
// is read; a run that went through with problems returns its report and
// an error wrapping ErrIncomplete; an object that could not be written
// stops the run with an error that names it.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.LinesPerObject <= 0 {
		o.LinesPerObject = DefaultLinesPerObject
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Table == "" {
		return nil, fmt.Errorf("%w: no source table", ErrRefused)
	}
	if len(o.Exports) == 0 {
		return nil, fmt.Errorf("%w: no export", ErrRefused)
	}
	if err := checkArchiveLocation(o.Archive); err != nil {
		return nil, err
	}
	for _, l := range o.OtherArchives {
		if err := checkArchiveLocation(l); err != nil {
			return nil, err
		}
	}
	var s3c archivefs.S3API
	if o.S3 != nil {
		s3c = o.S3
	}
	rep := &Report{Table: o.Table, Tolerance: o.Tolerance.String(), DryRun: o.DryRun, Objects: []WrittenObject{}}

	// The exports: refusals first, before anything is read.
	var exports []*export
	seen := map[string]bool{}
	for _, loc := range o.Exports {
		e, err := readExport(ctx, loc, s3c, o.Table)
		if err != nil {
			return nil, err
		}
		if seen[e.arn] {
			continue
		}
		seen[e.arn] = true
		exports = append(exports, e)
	}
	for _, e := range exports {
		for _, m := range e.missing() {
			rep.Problems = append(rep.Problems, Problem{Object: m, Error: "named by " + join(e.loc, filesFile).String() + " but not there"})
		}
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%w: %d data files of the exports are missing, first %s: nothing was written", ErrIncomplete, len(rep.Problems), rep.Problems[0].Object)
	}
	slices.SortFunc(exports, func(a, b *export) int { return a.from.Compare(b.from) })
	since, until := exports[0].from, exports[0].to
	for _, e := range exports {
		since, until = minTime(since, e.from), maxTime(until, e.to)
	}

	attr := o.TTLAttribute
	if attr == "" {
		if o.TTL == nil {
			return nil, errors.New("no TTL attribute: give --ttl-attribute")
		}
		var err error
		if attr, err = describeTTL(ctx, o.TTL(exports[0].region), o.Table); err != nil {
			return nil, err
		}
	}
	rep.TTLAttribute = attr

	progress := newTicker(o.Progress)
	defer progress.stop()

	// What is archived.
	var archiveLines atomic.Int64
	progress.watch("archive", &archiveLines, nil)
	x, probs, err := buildIndex(ctx, append([]archivefs.Location{o.Archive}, o.OtherArchives...), s3c, o.Table,
		since.Add(-o.Tolerance), until.Add(o.Tolerance), o.Workers, &archiveLines)
	progress.done()
	if err != nil {
		return nil, err
	}
	rep.ArchiveLines = x.lines
	if len(probs) > 0 {
		rep.Problems = probs
		return rep, fmt.Errorf("%w: %d objects or lines of the archive could not be read, first %s: %s; what is archived is not known, so nothing was written", ErrIncomplete, len(probs), probs[0].Object, probs[0].Error)
	}
	format := archive.FormatJSON
	rep.Format = format.String()
	switch {
	case o.Format != nil:
		format = *o.Format
		rep.Format = format.String()
	case x.formatSeen:
		format = x.format
		rep.Format = format.String()
	default:
		rep.Format = format.String() + " (no line of the table in the archive to tell the format by)"
	}

	// The exports' deletions.
	r := &run{o: o, rep: rep, x: x, format: format, attr: attr, store: objectStore{loc: o.Archive, client: o.S3},
		ids: map[[16]byte]struct{}{}, next: map[string]int{}}
	for id, n := range x.backfilled {
		r.next[id] = n
	}
	var exportLines atomic.Int64
	progress.watch("export", &exportLines, &r.recovered)
	err = r.readExports(ctx, exports, &exportLines)
	progress.done()
	rep.Recovered = r.recovered.Load()
	slices.SortFunc(rep.Objects, func(a, b WrittenObject) int { return strings.Compare(a.Object, b.Object) })
	slices.SortFunc(rep.Problems, func(a, b Problem) int {
		if c := strings.Compare(a.Object, b.Object); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	if err != nil {
		return rep, err
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("%w: %d problems, first %s: %s", ErrIncomplete, len(rep.Problems), rep.Problems[0].Object, rep.Problems[0].Error)
	}
	return rep, nil
}

// checkArchiveLocation refuses an archive location inside a partition:
// backfill writes under LOCATION/table=T/dt=DAY/ itself.
func checkArchiveLocation(l archivefs.Location) error {
	p := l.Prefix
	if !l.IsS3() {
		p = strings.ReplaceAll(l.Path, "\\", "/")
	}
	for dir := range strings.SplitSeq(strings.TrimSuffix(p, "/"), "/") {
		if strings.HasPrefix(dir, "table=") || strings.HasPrefix(dir, "dt=") {
			return fmt.Errorf("%w: archive %s is inside a partition (%s): give the prefix that holds the table= folders, such as the stack's ArchiveLocation output s3://BUCKET/archive/", ErrRefused, l, dir)
		}
	}
	if !l.IsS3() && l.Path == "" {
		return fmt.Errorf("%w: no archive location", ErrRefused)
	}
	return nil
}

func describeTTL(ctx context.Context, c TTLAPI, table string) (string, error) {
	out, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("describe the TTL of table %s (or give --ttl-attribute): %w", table, err)
	}
	if out.TimeToLiveDescription == nil || aws.ToString(out.TimeToLiveDescription.AttributeName) == "" {
		return "", fmt.Errorf("table %s has no TTL attribute (TTL is %s): give --ttl-attribute", table, ttlStatus(out))
	}
	return aws.ToString(out.TimeToLiveDescription.AttributeName), nil
}

func ttlStatus(out *dynamodb.DescribeTimeToLiveOutput) string {
	if out.TimeToLiveDescription == nil || out.TimeToLiveDescription.TimeToLiveStatus == "" {
		return "not set"
	}
	return string(out.TimeToLiveDescription.TimeToLiveStatus)
}

// run is the state of reading the exports.
type run struct {
	o      Options
	rep    *Report
	x      *index
	format archive.Format
	attr   string
	store  objectStore

	mu        sync.Mutex // guards rep's counts, ids, next and Out
	ids       map[[16]byte]struct{}
	next      map[string]int // the next object number of each export
	recovered atomic.Int64
}

type fileJob struct {
	e *export
	f dataFile
}

// readExports reads every data file, o.Workers at a time.
func (r *run) readExports(ctx context.Context, exports []*export, lines *atomic.Int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan fileJob)
	go func() {
		defer close(jobs)
		for _, e := range exports {
			for _, f := range e.files {
				select {
				case jobs <- fileJob{e, f}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	perExport := make([]atomic.Int64, len(exports))
	exportIndex := map[*export]int{}
	for i, e := range exports {
		exportIndex[e] = i
	}
	var wg sync.WaitGroup
	for range r.o.Workers {
		wg.Go(func() {
			w := &fileWorker{r: r, lw: archive.NewLineWriter(r.format), days: map[string]*pending{}}
			for j := range jobs {
				n, err := w.file(ctx, j.e, j.f, lines)
				perExport[exportIndex[j.e]].Add(n)
				if err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	for i, e := range exports {
		n := perExport[i].Load()
		r.rep.Exports = append(r.rep.Exports, ExportSummary{ARN: e.arn, Region: e.region, From: e.from, To: e.to, Files: len(e.files), Lines: n})
		if n != e.items {
			r.rep.Problems = append(r.rep.Problems, Problem{Object: join(e.loc, summaryFile).String(),
				Error: fmt.Sprintf("itemCount is %d, but %d lines were read from the data files", e.items, n)})
		}
	}
	return nil
}

// fileWorker reads data files and writes their recovered lines.
type fileWorker struct {
	r     *run
	lw    *archive.LineWriter
	canon archive.KeyCanonicalizer
	ckeys []byte
	line  []byte
	days  map[string]*pending
	c     Report // counts of the file being read
	probs []Problem
}

// pending is the lines of one day waiting to be written as an object.
type pending struct {
	raw   bytes.Buffer // dry run
	gz    bytes.Buffer
	zw    *gzip.Writer
	lines int
}

// file reads one data file; it returns the lines read and an error that
// stops the run (a write that failed).
func (w *fileWorker) file(ctx context.Context, e *export, f dataFile, lines *atomic.Int64) (int64, error) {
	w.c = Report{}
	w.probs = w.probs[:0]
	var n int64
	complete := true
	for l, err := range f.src.ObjectLines(ctx, f.obj, 0) {
		if err != nil {
			if ctx.Err() != nil {
				return n, context.Cause(ctx)
			}
			p := lineProblem(f.name, err)
			if p.Line == 0 {
				complete = false
			} else {
				n++ // a line too long is still a line of the file
			}
			w.probs = append(w.probs, p)
			continue
		}
		n++
		lines.Add(1)
		if err := w.exportLine(ctx, e, l); err != nil {
			return n, err
		}
	}
	if complete && n != f.items {
		w.probs = append(w.probs, Problem{Object: f.name, Error: fmt.Sprintf("manifest-files.json says %d items, but %d lines were read", f.items, n)})
	}
	err := w.flushAll(ctx, e)
	r := w.r
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.ExportLines += n
	r.rep.Deletions += w.c.Deletions
	r.rep.TTLDeletions += w.c.TTLDeletions
	r.rep.Selected += w.c.Selected
	r.rep.AlreadyArchived += w.c.AlreadyArchived
	r.rep.Duplicates += w.c.Duplicates
	r.rep.Unconvertible += w.c.Unconvertible
	r.rep.CompactedOldImages += w.c.CompactedOldImages
	r.rep.Problems = append(r.rep.Problems, w.probs...)
	return n, err
}

// exportLine handles one line of a data file.
func (w *fileWorker) exportLine(ctx context.Context, e *export, l archivefs.Line) error {
	el, err := archive.ParseExportLine(l.Data)
	if err != nil {
		w.probs = append(w.probs, Problem{Object: l.Object, Line: l.Number, Error: err.Error()})
		return nil
	}
	if el.NewImage != nil {
		return nil // an insert or an update
	}
	w.c.Deletions++
	if el.OldImage == nil {
		w.c.Unconvertible++
		w.probs = append(w.probs, Problem{Object: l.Object, Line: l.Number, Error: "a deleted item without OldImage"})
		return nil
	}
	ttl, hasTTL, err := ttlOf(el.OldImage, w.r.attr)
	if err != nil {
		w.c.Unconvertible++
		w.probs = append(w.probs, Problem{Object: l.Object, Line: l.Number, Error: "OldImage: " + err.Error()})
		return nil
	}
	expired := hasTTL && ttl <= float64(el.WriteTime.UnixMicro())/1e6
	if expired {
		w.c.TTLDeletions++
	}
	if !expired && !w.r.o.AllDeletes {
		return nil
	}
	w.c.Selected++
	if w.ckeys, err = w.canon.Append(w.ckeys[:0], el.Keys, true); err != nil {
		w.c.Unconvertible++
		w.probs = append(w.probs, Problem{Object: l.Object, Line: l.Number, Error: "Keys: " + err.Error()})
		return nil
	}
	if w.r.x.archived(hashKeys(w.ckeys), el.WriteTime, w.r.o.Tolerance) {
		w.c.AlreadyArchived++
		return nil
	}
	id := archive.RecoveredEventID(e.table, w.ckeys, el.WriteTime)
	rec := archive.Recovered{Table: e.table, Region: e.region, EventID: id, DeletedAt: el.WriteTime, From: e.arn, AnyDelete: w.r.o.AllDeletes}
	if w.line, err = w.lw.Append(w.line[:0], rec, el.Keys, el.OldImage); err != nil {
		w.c.Unconvertible++
		w.probs = append(w.probs, Problem{Object: l.Object, Line: l.Number, Error: err.Error()})
		return nil
	}
	if !w.r.claim(idKey(id)) {
		w.c.Duplicates++
		return nil
	}
	if !hasTTL || ttl > float64(e.from.Unix()) {
		w.c.CompactedOldImages++
	}
	w.r.recovered.Add(1)
	return w.add(ctx, e, el.WriteTime.Format(time.DateOnly), w.line)
}

// ttlOf reads the TTL attribute of an old image: epoch seconds. An
// attribute that is absent or not a number is no TTL (DynamoDB's TTL
// ignores such items).
func ttlOf(image []byte, attr string) (float64, bool, error) {
	n, ok, err := archive.ImageNumber(image, attr)
	if err != nil || !ok {
		return 0, false, err
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, false, nil
	}
	return v, true, nil
}

// idKey is an event id's 16 bytes (RecoveredEventID's 32 hex digits).
func idKey(id string) [16]byte {
	var k [16]byte
	_, _ = hex.Decode(k[:], []byte(id))
	return k
}

// claim reports whether the event id is new in this run.
func (r *run) claim(k [16]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.ids[k]; dup {
		return false
	}
	r.ids[k] = struct{}{}
	return true
}

// add queues one line for its day's object, writing the object when it
// is full.
func (w *fileWorker) add(ctx context.Context, e *export, day string, line []byte) error {
	p := w.days[day]
	if p == nil {
		p = &pending{}
		w.days[day] = p
	}
	if w.r.o.DryRun {
		p.raw.Write(line)
	} else {
		if p.zw == nil {
			p.zw, _ = gzip.NewWriterLevel(&p.gz, gzip.BestSpeed) // the level is valid
		}
		_, _ = p.zw.Write(line) // a bytes.Buffer takes every write
	}
	p.lines++
	if p.lines >= w.r.o.LinesPerObject {
		return w.flush(ctx, e, day, p)
	}
	return nil
}

func (w *fileWorker) flushAll(ctx context.Context, e *export) error {
	days := make([]string, 0, len(w.days))
	for d := range w.days {
		days = append(days, d)
	}
	slices.Sort(days)
	for _, d := range days {
		if err := w.flush(ctx, e, d, w.days[d]); err != nil {
			return err
		}
	}
	return nil
}

// flush writes a day's pending lines: an object, or Out in a dry run.
func (w *fileWorker) flush(ctx context.Context, e *export, day string, p *pending) error {
	if p.lines == 0 {
		return nil
	}
	r := w.r
	n := p.lines
	p.lines = 0
	if r.o.DryRun {
		r.mu.Lock()
		_, err := r.o.Out.Write(p.raw.Bytes())
		r.mu.Unlock()
		p.raw.Reset()
		if err != nil {
			return fmt.Errorf("write the lines: %w", err)
		}
		return nil
	}
	_ = p.zw.Close()
	data := bytes.Clone(p.gz.Bytes())
	p.gz.Reset()
	p.zw.Reset(&p.gz)
	r.mu.Lock()
	seq := r.next[e.id]
	r.next[e.id] = seq + 1
	r.mu.Unlock()
	rel := "table=" + e.table + "/dt=" + day + "/" + objectName(e.id, seq)
	if err := r.store.put(ctx, rel, data); err != nil {
		r.mu.Lock()
		r.rep.FailedObject = r.store.name(rel)
		r.mu.Unlock()
		return fmt.Errorf("write %d recovered lines: %w (what was written is listed; run the same backfill again to write the rest)", n, err)
	}
	r.mu.Lock()
	r.rep.Objects = append(r.rep.Objects, WrittenObject{Object: r.store.name(rel), Lines: n})
	r.mu.Unlock()
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ticker calls a Progress function from one goroutine.
type ticker struct {
	fn    func(Progress)
	quit  chan struct{}
	wg    sync.WaitGroup
	phase string
	lines *atomic.Int64
	rec   *atomic.Int64
}

func newTicker(fn func(Progress)) *ticker { return &ticker{fn: fn} }

func (t *ticker) report() {
	p := Progress{Phase: t.phase, Lines: t.lines.Load()}
	if t.rec != nil {
		p.Recovered = t.rec.Load()
	}
	t.fn(p)
}

// watch starts reporting a phase.
func (t *ticker) watch(phase string, lines, rec *atomic.Int64) {
	if t.fn == nil {
		return
	}
	t.phase, t.lines, t.rec = phase, lines, rec
	t.quit = make(chan struct{})
	t.wg.Go(func() {
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-t.quit:
				return
			case <-tk.C:
				t.report()
			}
		}
	})
}

// done ends the phase with a last report.
func (t *ticker) done() {
	if t.fn == nil || t.quit == nil {
		return
	}
	close(t.quit)
	t.wg.Wait()
	t.quit = nil
	t.report()
}

func (t *ticker) stop() {
	if t.quit != nil {
		close(t.quit)
		t.wg.Wait()
		t.quit = nil
	}
}
