package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of a check.
type Status string

// The outcomes, from best to worst.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// worse returns the worse of a and b.
func worse(a, b Status) Status {
	rank := map[Status]int{OK: 0, Warn: 1, Fail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Check is the outcome of one check: what was found and, for warn and
// fail, the fix (a command to run or a parameter to change).
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// Report is the outcome of every check, in the order they were made.
type Report struct {
	Checks []Check
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

// Failed reports whether any check failed (warnings do not count).
func (r Report) Failed() bool { return len(r.names(Fail)) > 0 }

// names returns the names of the checks with status s.
func (r Report) names(s Status) []string {
	var n []string
	for _, c := range r.Checks {
		if c.Status == s {
			n = append(n, c.Name)
		}
	}
	return n
}

// Summary says in one line how the checks went: "2 checks failed:
// mapping, ttl", "10 checks ok, 1 warning: pitr" or "10 checks ok".
func (r Report) Summary() string {
	if failed := r.names(Fail); len(failed) > 0 {
		return fmt.Sprintf("%d %s failed: %s", len(failed), plural(len(failed), "check"), strings.Join(failed, ", "))
	}
	s := fmt.Sprintf("%d %s ok", len(r.Checks), plural(len(r.Checks), "check"))
	if warned := r.names(Warn); len(warned) > 0 {
		s += fmt.Sprintf(", %d %s: %s", len(warned), plural(len(warned), "warning"), strings.Join(warned, ", "))
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// WriteText writes one line per check: the status, the name, what was
// found and, for warn and fail, "; fix: " and the fix.
func (r Report) WriteText(w io.Writer) error {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s", c.Status, width, c.Name, c.Detail)
		if c.Status != OK && c.Fix != "" {
			fmt.Fprintf(&b, "; fix: %s", c.Fix)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonReport is the stable JSON form of a Report (see WriteJSON).
type jsonReport struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// WriteJSON writes the report as one JSON object and a newline:
// {"ok": bool, "checks": [{"name", "status", "detail", "fix"}]}, ok being
// false when any check failed. The fields are always present; fix is ""
// for a check that passed.
func (r Report) WriteJSON(w io.Writer) error {
	checks := r.Checks
	if checks == nil {
		checks = []Check{}
	}
	b, err := json.Marshal(jsonReport{OK: !r.Failed(), Checks: checks})
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
