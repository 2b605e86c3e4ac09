package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText writes the report as a table for people: one line per row
// (a global table's region rows indented under its "*" row's day), the
// totals, the problems, and the verdict last.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tREGION\tDAY\tTTL DELETED\tARCHIVED\tMISSING\tEXTRA\tSTATUS\t")
	for _, row := range r.Rows {
		region := row.Region
		if row.Detail {
			region = "  " + region
		}
		note := ""
		if row.Note != "" {
			note = "  (" + row.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", row.Table, region, row.Day, row.TTLDeleted, row.Archived, row.Missing, row.Extra, row.Status, note)
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t%d\t%d\t\t\n", r.Totals.TTLDeleted, r.Totals.Archived, r.Totals.Missing, r.Totals.Extra)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range r.Problems {
		if p.Line > 0 {
			fmt.Fprintf(w, "unreadable: %s line %d: %s\n", p.Object, p.Line, p.Error)
		} else {
			fmt.Fprintf(w, "unreadable: %s: %s\n", p.Object, p.Error)
		}
	}
	_, err := fmt.Fprintln(w, r.Verdict())
	return err
}

// Verdict is the report's conclusion in one line.
func (r *Report) Verdict() string {
	var missing, unknown, extra, pending int
	for _, row := range r.Rows {
		if row.Detail {
			continue
		}
		switch row.Status {
		case Missing:
			missing++
		case Unknown:
			unknown++
		case Extra:
			extra++
		case Pending:
			pending++
		}
	}
	switch {
	case len(r.Problems) > 0:
		return fmt.Sprintf("not verified: %d objects or lines could not be read or counted (listed above)", len(r.Problems))
	case !r.Complete:
		return fmt.Sprintf("incomplete: %d items missing (%s), %s unknown, %s with extra items", r.Totals.Missing, days(missing), days(unknown), days(extra))
	case pending > 0:
		return fmt.Sprintf("complete so far: %d items archived; %s pending", r.Totals.Archived, days(pending))
	}
	return fmt.Sprintf("complete: %d items TTL deleted, all archived", r.Totals.TTLDeleted)
}

// WriteJSON writes the report as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
