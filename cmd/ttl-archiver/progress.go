package main

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressAfter is how long a run goes before it shows progress.
const progressAfter = 2 * time.Second

// meter draws a progress bar (count and rate) on stderr for runs longer
// than progressAfter, and only when stderr is a terminal, so that logs
// and pipes get no control characters.
type meter struct {
	e     *env
	unit  string
	start time.Time
	bar   *progressbar.ProgressBar
}

func newMeter(e *env, unit string) *meter {
	return &meter{e: e, unit: unit, start: e.now()}
}

// set shows n units done, with a description of the other counts.
func (m *meter) set(n int, desc string) {
	if m == nil || !m.e.stderrTerminal {
		return
	}
	if m.bar == nil {
		if m.e.now().Sub(m.start) < progressAfter {
			return
		}
		m.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(m.e.stderr),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(m.unit),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetSpinnerChangeInterval(0), // no goroutine: drawn on set only
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	}
	m.bar.Describe(desc)
	_ = m.bar.Set64(int64(n))
}

// finish ends the bar's line, if one was drawn.
func (m *meter) finish() {
	if m == nil || m.bar == nil {
		return
	}
	_ = m.bar.Finish()
	fmt.Fprintln(m.e.stderr)
	m.bar = nil
}
