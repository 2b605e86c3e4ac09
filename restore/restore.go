package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// Options configure a restore.
type Options struct {
	Source *archivefs.Source
	Filter archivefs.Filter
	// Table is the table written to, in Region (for messages).
	Table  string
	Region string
	Client DynamoDBAPI
	// DryRun writes nothing: each item is printed to Out in DynamoDB JSON,
	// one per line. The table is described when it can be, to check keys.
	DryRun bool
	// NoOverwrite never replaces an existing item: items are put one by
	// one with a condition that no item has their key, and those that
	// exist are counted in Report.Existing.
	NoOverwrite bool
	// Rate caps the items written per second (0: no cap).
	Rate float64
	// Concurrency is the most write calls in flight (default 4).
	Concurrency int
	// Hints give the types of attributes in json-format archives.
	Hints TypeHints
	// Checkpoint is a file where the restore records how far it got, every
	// CheckpointEvery items (default 10,000) or CheckpointInterval
	// (default 10 s), and from which a later run goes on. It is removed
	// when the restore completes.
	Checkpoint         string
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// Rejects is the file (appended to) that receives the lines whose
	// items were not written: refused by DynamoDB, over 400 KB, or not
	// convertible (see rejects.go). Empty: they are only counted.
	Rejects string
	// Out receives dry-run items; Warn receives notices (lines left out,
	// throttling).
	Out, Warn io.Writer
	// Progress, when not nil, is called about twice a second and at the
	// end of each pass.
	Progress func(Progress)
	Backoff  Backoff
}

// Progress is how far a run got, for progress bars.
type Progress struct {
	Pass  string // "index" (finding each key's newest version) or "write"
	Lines int    // lines read in this pass
	Items int    // items selected (write pass)
	// Written, Existing and Rejected count items by what DynamoDB did.
	Written, Existing, Rejected int
}

// ErrIncomplete is wrapped by the error of a run that went through the
// archive but did not read every line or write every selected item:
// objects that could not be read, lines that are not archive lines,
// items that could not be converted or that DynamoDB refused.
var ErrIncomplete = errors.New("incomplete")

// Report is what a restore did.
type Report struct {
	Counts
	Written  int // items put
	Existing int // items not put because they exist (NoOverwrite)
	// Rejected counts items not written because DynamoDB refused them or
	// they are over 400 KB; they are in RejectsFile with the reason (as
	// are the Unconvertible lines).
	Rejected    int
	RejectsFile string // the rejects file, when a line was written to it
	// Resumed is set when a checkpoint was read; SkippedObjects is the
	// number of objects it marked finished.
	Resumed        bool
	SkippedObjects int
	// CheckpointRemoved is set when the restore completed and removed
	// its checkpoint file.
	CheckpointRemoved bool
	// CheckpointSaved is set when the last write of the checkpoint file
	// succeeded; CheckpointWritten when one did in this run.
	CheckpointSaved, CheckpointWritten bool
	// Seen holds the tables and days of the lines the filter left out.
	Seen *archivefs.Seen
}

// position is how far a restore got: doneN objects of its done list
// finished, and in object, every line up to line.
type position struct {
	doneN  int
	object string
	line   int
}

type pendingBatch struct {
	seq   int
	start position // everything before the batch's first item is finished once earlier batches are
	done  bool
	n     int
}

type job struct {
	seq   int
	items []entry
}

type jobResult struct {
	seq int
	res batchResult
	err error
}

// Run restores the newest version of each selected item of o.Source into
// o.Table. It returns the report and the first error that stopped it.
// Lines and items it could not restore for reasons of their own (an
// unreadable object, a malformed line, an item that cannot be converted
// or that DynamoDB refuses) do not stop it: they are counted, described
// on o.Warn, the items written to o.Rejects, and the error returned at
// the end wraps ErrIncomplete. Lines without an item (the stream had no
// old image) are counted only.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 10000
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 10 * time.Second
	}
	if o.Backoff == (Backoff{}) {
		o.Backoff = DefaultBackoff
	}
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if err := o.Filter.Check(); err != nil {
		return Report{}, err
	}
	if o.Rejects != "" && !o.DryRun {
		if err := checkWritable(o.Rejects); err != nil {
			return Report{}, fmt.Errorf("rejects file: %w", err)
		}
	}
	var keys []KeyAttr
	switch {
	case o.Client != nil:
		var err error
		keys, err = describeKeys(ctx, o.Client, o.Table, o.Region)
		if err != nil {
			if !o.DryRun {
				return Report{}, err
			}
			fmt.Fprintf(o.Warn, "warning: %v: keys are not checked\n", err)
		}
	case !o.DryRun:
		return Report{}, errors.New("restore: no DynamoDB client")
	}
	r := &run{o: o, keys: keys, sel: newSelector(o.Filter, newItemDecoder(o.Hints, keys), o.Warn), rejects: &rejectsFile{path: o.Rejects}}
	r.sel.reject = func(l archivefs.Line, reason string) { r.reject(l.Data, l.Object, l.Number, reason) }
	r.w = &writer{client: o.Client, table: o.Table, region: o.Region, keys: keys, noOverwrite: o.NoOverwrite,
		limit: newLimiter(o.Rate), backoff: o.Backoff, sleep: sleepCtx,
		warnf: func(f string, a ...any) { fmt.Fprintf(o.Warn, "notice: "+f+"\n", a...) }}
	return r.run(ctx)
}

// run is the state of one restore. Its fields are used by the goroutine
// of Run only; workers get jobs and answer on a channel.
type run struct {
	o    Options
	keys []KeyAttr
	sel  *selector
	w    *writer
	rep  Report

	rejects   *rejectsFile
	rejectErr error
	cp        *Checkpoint
	prevDone  map[string]bool
	doneKeys  []string // objects finished in this run, in order

	cur      position
	buf      []entry
	bufKeys  map[string]int
	bufStart position
	seq      int
	pending  []pendingBatch
	inflight int
	jobs     chan job
	results  chan jobResult
	firstErr error

	savedAt      time.Time
	writtenSaved int
	progressAt   time.Time
	started      time.Time
}

func (r *run) run(ctx context.Context) (Report, error) {
	r.started = time.Now()
	r.prevDone = map[string]bool{}
	if r.o.Checkpoint != "" && !r.o.DryRun {
		cp, resumed, err := loadCheckpoint(r.o.Checkpoint, r.o.Source.String(), r.o.Table, r.o.Filter.String())
		if err != nil {
			return r.rep, err
		}
		r.cp, r.rep.Resumed = cp, resumed
		for _, k := range cp.Done {
			r.prevDone[k] = true
		}
		if resumed {
			fmt.Fprintf(r.o.Warn, "resuming from checkpoint %s: %d objects finished, %s\n", r.o.Checkpoint, len(cp.Done), cpWhere(cp))
		}
	}
	finished := func(object string, line int) bool {
		return r.prevDone[object] || r.cp != nil && r.cp.Object == object && line <= r.cp.Line
	}
	idx, err := buildIndex(ctx, r.o.Source, r.o.Filter, finished, func(lines int) {
		if r.o.Progress != nil {
			r.o.Progress(Progress{Pass: "index", Lines: lines})
		}
	})
	if err != nil {
		return r.rep, err
	}
	r.sel.newest = idx
	r.savedAt = time.Now()
	r.bufKeys = map[string]int{}
	if r.cp != nil {
		// Before the first write: a checkpoint that can't be written is
		// known now, not after items were written that it can't record.
		if err := r.save(); err != nil {
			return r.rep, err
		}
	}

	if !r.o.DryRun {
		r.jobs = make(chan job)
		r.results = make(chan jobResult, r.o.Concurrency)
		for range r.o.Concurrency {
			go func() {
				for j := range r.jobs {
					res, err := r.w.write(ctx, j.items)
					r.results <- jobResult{seq: j.seq, res: res, err: err}
				}
			}()
		}
	}

	readErr := r.read(ctx)
	if readErr == nil && r.firstErr == nil && ctx.Err() == nil {
		r.flush(ctx)
	}
	for r.inflight > 0 {
		r.handle(<-r.results)
	}
	if r.jobs != nil {
		close(r.jobs)
	}
	r.progress(true)

	err = r.firstErr
	if err == nil {
		err = readErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = r.rejectErr
	}
	if cerr := r.rejects.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	r.rep.Counts, r.rep.Seen = r.sel.counts, &r.sel.filtered
	if r.rejects.n > 0 {
		r.rep.RejectsFile = r.o.Rejects
	}
	// Problems of lines that are finished stay: running again does not
	// read them again. The checkpoint carries them to later runs.
	var lasting []string
	if r.cp != nil {
		lasting = r.cp.Incomplete
	}
	if p := r.leftOut(); p != "" {
		lasting = append(lasting, p)
	}
	complete := err == nil && r.rep.Unreadable == 0 && len(lasting) == 0
	if r.cp != nil {
		if complete {
			if rmErr := os.Remove(r.o.Checkpoint); rmErr == nil || errors.Is(rmErr, os.ErrNotExist) {
				r.rep.CheckpointRemoved = true
			}
		} else {
			r.cp.Incomplete = lasting
			if saveErr := r.save(); saveErr != nil {
				err = errors.Join(err, saveErr)
			}
		}
	}
	if err == nil && !complete {
		var why []string
		if r.rep.Unreadable > 0 {
			u := fmt.Sprintf("%d objects could not be read to their end (see above)", r.rep.Unreadable)
			if r.cp != nil {
				u += fmt.Sprintf("; run again with --checkpoint %s to retry them", r.o.Checkpoint)
			}
			why = append(why, u)
		}
		why = append(why, lasting...)
		err = fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(why, "; "))
	}
	return r.rep, err
}

// leftOut describes the lines and items of this run that were read but
// not written, or "" when there are none.
func (r *run) leftOut() string {
	var parts []string
	c := r.sel.counts
	if c.Invalid > 0 {
		parts = append(parts, fmt.Sprintf("%d lines are not archive lines", c.Invalid))
	}
	if c.Unconvertible > 0 {
		parts = append(parts, fmt.Sprintf("%d items could not be converted", c.Unconvertible))
	}
	if r.rep.Rejected > 0 {
		verb := "were refused"
		if r.o.DryRun {
			verb = "would be refused"
		}
		parts = append(parts, fmt.Sprintf("%d items %s", r.rep.Rejected, verb))
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, ", ")
	if r.rejects.n > 0 {
		s += fmt.Sprintf(" (the items are in %s with the reasons)", r.o.Rejects)
	}
	return s
}

// reject writes a line whose item is not written to the rejects file.
func (r *run) reject(data []byte, object string, line int, reason string) {
	if err := r.rejects.add(data, object, line, reason); err != nil && r.rejectErr == nil {
		r.rejectErr = err
	}
}

func cpWhere(cp *Checkpoint) string {
	if cp.Object == "" {
		return "none started"
	}
	return fmt.Sprintf("%s finished up to line %d", cp.Object, cp.Line)
}

// read reads every object and dispatches the selected items.
func (r *run) read(ctx context.Context) error {
	for obj, err := range r.o.Source.Objects(ctx) {
		if err != nil {
			return err
		}
		if r.prevDone[obj.Key] {
			r.rep.SkippedObjects++
			continue
		}
		after := 0
		if r.cp != nil && r.cp.Object == obj.Key {
			after = r.cp.Line
		}
		r.cur = position{doneN: len(r.doneKeys), object: obj.Key, line: after}
		lost := false
		stop, stopErr := r.sel.stopAt(obj.Key)
		for l, err := range r.o.Source.ObjectLines(ctx, obj, after) {
			if stop > 0 && (err != nil || l.Number >= stop) {
				// The index could not read further: later versions are unknown.
				r.sel.unreadable(stopErr)
				lost = true
				break
			}
			if err != nil {
				if r.sel.lineErr(err) {
					lost = true
					break
				}
				continue
			}
			if err := r.line(ctx, l); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.firstErr != nil {
			return nil
		}
		if !lost {
			r.sel.counts.Objects++
			r.doneKeys = append(r.doneKeys, obj.Key)
		}
		r.cur = position{doneN: len(r.doneKeys)}
	}
	return nil
}

// line handles one line: its item joins the batch being filled.
func (r *run) line(ctx context.Context, l archivefs.Line) error {
	r.poll()
	if r.firstErr != nil {
		return r.firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	before := r.cur
	if before.line == l.Number && before.line > 0 {
		// Another line of one Firehose error record (they share its line
		// number): a resume must start at the record again, not after it.
		before.line--
	}
	r.cur.line = l.Number
	it, _ := r.sel.lineItem(l)
	if it == nil {
		return nil
	}
	if len(r.keys) > 0 {
		if err := checkKeys(it, r.keys, r.o.Table); err != nil {
			return fmt.Errorf("%s line %d: %w", l.Object, l.Number, err)
		}
	}
	if n := itemSize(it); n > MaxItemBytes {
		r.rep.Rejected++
		reason := fmt.Sprintf("the item is %d bytes, over DynamoDB's item size limit of %d", n, MaxItemBytes)
		fmt.Fprintf(r.o.Warn, "refused: %s line %d: %s\n", l.Object, l.Number, reason)
		r.reject(l.Data, l.Object, l.Number, reason)
		return nil
	}
	if r.o.DryRun {
		b := AppendTypedJSON(nil, it)
		_, err := r.o.Out.Write(append(b, '\n'))
		return err
	}
	if len(r.buf) == 0 {
		r.bufStart = before
	}
	// One BatchWriteItem call cannot put the same key twice: the item
	// read last replaces the earlier one.
	e := entry{item: it, data: bytes.Clone(l.Data), object: l.Object, line: l.Number}
	k := keyString(it, r.keys)
	if i, dup := r.bufKeys[k]; dup && k != "" {
		r.buf[i] = e
		return nil
	}
	r.bufKeys[k] = len(r.buf)
	r.buf = append(r.buf, e)
	if len(r.buf) == MaxBatchItems {
		r.flush(ctx)
	}
	return nil
}

// keyString identifies an item's key within a batch.
func keyString(it Item, keys []KeyAttr) string {
	if len(keys) == 0 {
		return ""
	}
	k := Item{}
	for _, ka := range keys {
		k[ka.Name] = it[ka.Name]
	}
	return string(AppendTypedJSON(nil, k))
}

// flush dispatches the batch being filled, waiting for a free worker.
func (r *run) flush(ctx context.Context) {
	if len(r.buf) == 0 {
		return
	}
	for r.inflight >= r.o.Concurrency {
		r.handle(<-r.results)
	}
	if r.firstErr != nil || ctx.Err() != nil {
		return
	}
	r.seq++
	r.pending = append(r.pending, pendingBatch{seq: r.seq, start: r.bufStart, n: len(r.buf)})
	r.inflight++
	r.jobs <- job{seq: r.seq, items: r.buf}
	r.buf = nil
	clear(r.bufKeys)
}

// poll handles the results that are in without waiting.
func (r *run) poll() {
	for r.inflight > 0 {
		select {
		case res := <-r.results:
			r.handle(res)
		default:
			r.progress(false)
			return
		}
	}
	r.progress(false)
}

// handle records a finished batch and saves the checkpoint when due.
func (r *run) handle(res jobResult) {
	r.inflight--
	r.rep.Written += res.res.written
	r.rep.Existing += res.res.existing
	for _, rj := range res.res.rejected {
		r.rep.Rejected++
		fmt.Fprintf(r.o.Warn, "refused: %s line %d: %s\n", rj.object, rj.line, rj.reason)
		r.reject(rj.data, rj.object, rj.line, rj.reason)
	}
	if res.err != nil {
		if r.firstErr == nil && !errors.Is(res.err, context.Canceled) {
			r.firstErr = res.err
		}
		return // the batch stays pending: the checkpoint stops before it
	}
	for i := range r.pending {
		if r.pending[i].seq == res.seq {
			r.pending[i].done = true
		}
	}
	for len(r.pending) > 0 && r.pending[0].done {
		r.pending = r.pending[1:]
	}
	if r.cp != nil && (r.rep.Written+r.rep.Existing+r.rep.Rejected-r.writtenSaved >= r.o.CheckpointEvery || time.Since(r.savedAt) >= r.o.CheckpointInterval) {
		if err := r.save(); err != nil && r.firstErr == nil {
			r.firstErr = err
		}
	}
}

// safe returns the position up to which everything is finished.
func (r *run) safe() position {
	if len(r.pending) > 0 {
		return r.pending[0].start
	}
	if len(r.buf) > 0 {
		return r.bufStart
	}
	return r.cur
}

// save writes the checkpoint at the safe position.
func (r *run) save() error {
	p := r.safe()
	done := make([]string, 0, len(r.prevDone)+p.doneN)
	for k := range r.prevDone {
		done = append(done, k)
	}
	done = append(done, r.doneKeys[:p.doneN]...)
	slices.Sort(done)
	r.cp.Done, r.cp.Object, r.cp.Line = done, p.object, p.line
	r.savedAt, r.writtenSaved = time.Now(), r.rep.Written+r.rep.Existing+r.rep.Rejected
	// The rejected lines before the position must be on disk first.
	err := r.rejects.sync()
	if err == nil {
		err = r.cp.save(r.o.Checkpoint)
	}
	r.rep.CheckpointSaved = err == nil
	r.rep.CheckpointWritten = r.rep.CheckpointWritten || err == nil
	return err
}

// progress reports how far the run got, at most twice a second.
func (r *run) progress(final bool) {
	if r.o.Progress == nil || !final && time.Since(r.progressAt) < 500*time.Millisecond {
		return
	}
	r.progressAt = time.Now()
	r.o.Progress(Progress{Pass: "write", Lines: r.sel.counts.Lines, Items: r.sel.counts.Items,
		Written: r.rep.Written, Existing: r.rep.Existing, Rejected: r.rep.Rejected})
}

// WriteSummary writes what the restore did, for people.
func (rep Report) WriteSummary(w io.Writer, dryRun bool) {
	if rep.Resumed {
		fmt.Fprintf(w, "resumed: %d objects finished by earlier runs were skipped\n", rep.SkippedObjects)
	}
	fmt.Fprintf(w, "read %d objects, %d lines: %d items selected", rep.Objects, rep.Lines, rep.Items)
	if rep.FromRaw > 0 {
		fmt.Fprintf(w, " (%d converted from raw stream records)", rep.FromRaw)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "left out: %d by the filter, %d duplicates, %d older versions of a key, %d without an item, %d unconvertible, %d invalid lines\n",
		rep.Filtered, rep.Duplicates, rep.Superseded, rep.NoItem, rep.Unconvertible, rep.Invalid)
	if rep.Unreadable > 0 {
		fmt.Fprintf(w, "objects that could not be read: %d\n", rep.Unreadable)
	}
	if dryRun {
		fmt.Fprintf(w, "dry run: %d items would be written", rep.Items-rep.Rejected)
		if rep.Rejected > 0 {
			fmt.Fprintf(w, "; %d items would be refused", rep.Rejected)
		}
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "written: %d items", rep.Written)
	if rep.Existing > 0 {
		fmt.Fprintf(w, "; %d items already existed and were left as they are", rep.Existing)
	}
	if rep.Rejected > 0 {
		fmt.Fprintf(w, "; %d items refused", rep.Rejected)
	}
	fmt.Fprintln(w)
	if rep.RejectsFile != "" {
		fmt.Fprintf(w, "items not written, with the reasons: %s (restore it with --from once the cause is fixed)\n", rep.RejectsFile)
	}
	if rep.CheckpointRemoved {
		fmt.Fprintln(w, "the restore is complete: checkpoint removed")
	}
}
