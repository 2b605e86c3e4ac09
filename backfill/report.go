package backfill

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	for _, e := range r.Exports {
		fmt.Fprintf(w, "export %s (%s, %s to %s): %d data files, %d lines\n", e.ARN, e.Region,
			e.From.Format(time.RFC3339), e.To.Format(time.RFC3339), e.Files, e.Lines)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name string, n any, note string) { fmt.Fprintf(tw, "%s\t%v\t%s\n", name, n, note) }
	row("export lines read", r.ExportLines, "")
	row("deletions", r.Deletions, "(lines without NewImage)")
	row("TTL deletions", r.TTLDeletions, fmt.Sprintf("(inferred: %s at or before the write time)", r.TTLAttribute))
	if r.Selected != r.TTLDeletions {
		row("selected", r.Selected, "(every deletion: --all-deletes)")
	}
	row("already archived", r.AlreadyArchived, fmt.Sprintf("(same keys, deleted_at within %s, any region; of %d archived lines in the windows)", r.Tolerance, r.ArchiveLines))
	verb := "recovered"
	if r.DryRun {
		verb = "to recover (dry run)"
	}
	row(verb, r.Recovered, "(format "+r.Format+")")
	if r.Duplicates > 0 {
		row("read twice", r.Duplicates, "(exports whose windows overlap: recovered once)")
	}
	if r.Unconvertible > 0 {
		row("not recovered", r.Unconvertible, "(could not be read or converted: see the problems)")
	}
	row("objects written", len(r.Objects), "")
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range r.Objects {
		fmt.Fprintf(w, "  %s  %d lines\n", o.Object, o.Lines)
	}
	if r.FailedObject != "" {
		fmt.Fprintf(w, "not written: %s\n", r.FailedObject)
	}
	if r.CompactedOldImages > 0 {
		fmt.Fprintf(w, "note: %d recovered items were live when their export's window began: each is the item as it was then (an export keeps one line per item and window), so a change made to it inside the window before the delete is not in it\n", r.CompactedOldImages)
	}
	for i, p := range r.Problems {
		if i == 20 {
			fmt.Fprintf(w, "problem: ... and %d more\n", len(r.Problems)-i)
			break
		}
		if p.Line > 0 {
			fmt.Fprintf(w, "problem: %s line %d: %s\n", p.Object, p.Line, p.Error)
		} else {
			fmt.Fprintf(w, "problem: %s: %s\n", p.Object, p.Error)
		}
	}
	return nil
}
