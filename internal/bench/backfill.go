package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	bt "github.com/ttl-archiver/ttl-archiver/backfill/backfilltest"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// Targets of issue 22 for backfill.
const (
	TargetBackfillPeakMiB = 1024 // peak RSS of backfill over BackfillLines export lines against as many archive lines
	BackfillLines         = 1_000_000
	backfillQuickLines    = 100_000
	backfillPerFile       = 50_000
	backfillReps          = 3
	backfillQuickReps     = 1
)

// BackfillResult is ttl-archiver backfill reading local incremental
// exports of ExportLines lines against a local archive of ArchiveLines
// lines, repetition by repetition (each on the archive as it was before
// the first).
type BackfillResult struct {
	ExportLines, ArchiveLines int
	Recovered, Archived       int // what each repetition recovered and found archived
	ExportBytes, ArchiveBytes int64
	Wall, CPU                 Sample
	// RerunWall and RerunCPU are a second run on the archive the first
	// wrote into: it recovers nothing.
	RerunWall, RerunCPU Sample
	PeakRSS             int64
	Cores               int
}

// LinesPerCPUSecond is the export lines backfill reads per CPU second.
func (r BackfillResult) LinesPerCPUSecond() Sample {
	return r.CPU.Map(func(cpu float64) float64 { return float64(r.ExportLines) / cpu })
}

// backfillOldImage is the item of a deletion as the export has it: the
// attributes of verifytest's archive line, typed.
func backfillOldImage(b []byte, d verifytest.Deletion, status string) []byte {
	sec := d.At.Unix()
	b = append(b, `{"expires_at":{"N":"`...)
	b = strconv.AppendInt(b, sec-3600, 10)
	b = append(b, `"},"lines":{"L":[{"M":{"qty":{"N":"2"},"sku":{"S":"A-1"}}},{"M":{"qty":{"N":"1"},"sku":{"S":"B-7"}}}]},"note":{"S":"delivered to the front desk, signed by the recipient"},"pk":{"S":"customer#`...)
	b = append(b, d.EventID[:8]...)
	b = append(b, `"},"sk":{"S":"order#`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `"},"status":{"S":"`...)
	b = append(b, status...)
	return append(b, `"},"total":{"N":"123.45"}}`...)
}

func backfillExportLine(d verifytest.Deletion, update bool) []byte {
	b := []byte(`{"Metadata":{"WriteTimestampMicros":{"N":"`)
	b = strconv.AppendInt(b, d.At.Add(345678*time.Microsecond).UnixMicro(), 10)
	b = append(b, `"}},"Keys":{"pk":{"S":"customer#`...)
	b = append(b, d.EventID[:8]...)
	b = append(b, `"},"sk":{"S":"order#`...)
	b = strconv.AppendInt(b, d.At.Unix(), 10)
	b = append(b, `"}},"OldImage":`...)
	b = backfillOldImage(b, d, "shipped")
	if update {
		b = append(b, `,"NewImage":`...)
		b = backfillOldImage(b, d, "returned")
	}
	return append(b, '}')
}

// MeasureBackfill writes an archive of lines deletions over one day and
// incremental exports of its second half holding lines lines: every
// deletion of that half (of which 40% are missing from the archive) and
// updates of other items. It then runs the built ttl-archiver backfill
// on them reps times (removing what it wrote after each), and once more
// on what it wrote.
func MeasureBackfill(ctx context.Context, lines, reps int, logf func(string, ...any)) (BackfillResult, error) {
	r := BackfillResult{Cores: runtime.NumCPU()}
	dir, err := os.MkdirTemp("", "ttl-archiver-bench-backfill")
	if err != nil {
		return r, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	day0 := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	half := day0.Add(12 * time.Hour)
	// n deletions over the day; of the second half's (about n/2), 40%
	// missing: the archive holds n minus those, the exports the second
	// half's deletions plus updates up to lines.
	n := lines * 5 / 4
	ds := verifytest.Deletions(8, "Orders", []string{"us-east-1"}, day0, 1, n)
	type exportLine struct {
		at time.Time
		b  []byte
	}
	var archived []verifytest.Deletion
	var exportLines []exportLine
	missing := 0
	for i, d := range ds {
		if d.At.Before(half) {
			archived = append(archived, d)
			continue
		}
		exportLines = append(exportLines, exportLine{d.At, backfillExportLine(d, false)})
		if i%5 < 2 && missing < n-lines {
			missing++
			continue
		}
		archived = append(archived, d)
	}
	// Updates of items that were not deleted, to make up the export lines.
	ups := verifytest.Deletions(9, "Orders", []string{"us-east-1"}, half, 1, max(lines-len(exportLines), 0))
	for _, d := range ups {
		d.At = half.Add(d.At.Sub(half) / 2)
		exportLines = append(exportLines, exportLine{d.At, backfillExportLine(d, true)})
	}
	r.ExportLines, r.ArchiveLines = len(exportLines), len(archived)
	for _, d := range archived {
		r.ArchiveBytes += int64(len(verifytest.Line(d)))
	}
	for _, l := range exportLines {
		r.ExportBytes += int64(len(l.b) + 1)
	}
	if err := verifytest.WriteDir(filepath.Join(dir, "archive"), verifytest.Objects("", "bench", archived, readLinesPerObject)); err != nil {
		return r, err
	}
	// Two exports of six hours, their lines split by write time.
	var exports []string
	for w := range 2 {
		from := half.Add(time.Duration(w) * 6 * time.Hour)
		to := from.Add(6 * time.Hour)
		var part [][]byte
		for _, l := range exportLines {
			// The write time is the deletion's (whole seconds) plus 345 ms:
			// in the same window.
			if t := l.at.Add(345678 * time.Microsecond); !t.Before(from) && t.Before(to) {
				part = append(part, l.b)
			}
		}
		e := bt.Export{Table: "Orders", Region: "us-east-1", From: from, To: to, Bucket: "exports", Prefix: "ddb/", Lines: part, PerFile: backfillPerFile}
		if err := bt.WriteDir(filepath.Join(dir, "exports"), e.Objects()); err != nil {
			return r, err
		}
		exports = append(exports, "--export", filepath.Join(dir, "exports", filepath.FromSlash(e.Folder())))
	}
	logf("  %d export lines (%.0f MB), archive of %d lines (%.0f MB)", r.ExportLines, float64(r.ExportBytes)/1e6, r.ArchiveLines, float64(r.ArchiveBytes)/1e6)

	cli, err := build(ctx, filepath.Join(dir, "ttl-archiver"), "./cmd/ttl-archiver", "-trimpath")
	if err != nil {
		return r, err
	}
	env := append(os.Environ(), "HOME="+dir)
	args := append([]string{"backfill", "--archive", filepath.Join(dir, "archive"), "--source-table", "Orders", "--ttl-attribute", "expires_at", "--output", "json"}, exports...)
	type report struct {
		Recovered       int `json:"recovered"`
		AlreadyArchived int `json:"already_archived"`
		ExportLines     int `json:"export_lines"`
		Objects         []struct {
			Object string `json:"object"`
		} `json:"objects"`
	}
	for i := range reps {
		wall, cpu, rss, out, err := runMeasured(ctx, env, cli, args...)
		if err != nil {
			return r, fmt.Errorf("ttl-archiver backfill: %w: %.300s", err, out)
		}
		var rep report
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.ExportLines != r.ExportLines || rep.Recovered != missing {
			return r, fmt.Errorf("ttl-archiver backfill: %v: want %d export lines, %d recovered: %.300s", err, r.ExportLines, missing, out)
		}
		r.Recovered, r.Archived = rep.Recovered, rep.AlreadyArchived
		r.Wall, r.CPU = append(r.Wall, wall), append(r.CPU, cpu)
		r.PeakRSS = max(r.PeakRSS, rss)
		logf("  repetition %d: %.2f s (CPU %.2f s, %.0f MiB): %d recovered, %d already archived", i+1, wall, cpu, float64(rss)/(1<<20), rep.Recovered, rep.AlreadyArchived)
		if i == reps-1 {
			rw, rc, rrss, out, err := runMeasured(ctx, env, cli, args...)
			if err != nil {
				return r, fmt.Errorf("ttl-archiver backfill again: %w", err)
			}
			var again report
			if err := json.Unmarshal([]byte(out), &again); err != nil || again.Recovered != 0 || len(again.Objects) != 0 {
				return r, fmt.Errorf("ttl-archiver backfill again: %v: want nothing recovered: %.300s", err, out)
			}
			r.RerunWall, r.RerunCPU = append(r.RerunWall, rw), append(r.RerunCPU, rc)
			r.PeakRSS = max(r.PeakRSS, rrss)
			logf("  again: %.2f s (CPU %.2f s, %.0f MiB): nothing recovered", rw, rc, float64(rrss)/(1<<20))
		}
		for _, o := range rep.Objects {
			if err := os.Remove(o.Object); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// writeBackfill writes section 8.
func (r *Report) writeBackfill(p func(string, ...any)) {
	b := r.Backfill
	if len(b.CPU) == 0 {
		return
	}
	p("## 8. Backfilling from incremental exports")
	p("")
	p("`ttl-archiver backfill` over two local incremental exports of six hours (%s lines, %s MB, in gzipped data files of %s lines:",
		thousands(int64(b.ExportLines)), f0(float64(b.ExportBytes)/1e6), thousands(backfillPerFile))
	p("every deletion of the half day, %s of them missing from the archive, and updates of other items) against a local",
		thousands(int64(b.Recovered)))
	p("archive of %s lines (%s MB, the whole day, Firehose's layout), with `--ttl-attribute` and `--output json` (checked: every",
		thousands(int64(b.ArchiveLines)), f0(float64(b.ArchiveBytes)/1e6))
	p("export line read, %s recovered, %s found archived). Each of %d repetitions starts from the same archive; the last is",
		thousands(int64(b.Recovered)), thousands(int64(b.Archived)), len(b.CPU))
	p("followed by a run on the archive it wrote into, which recovers nothing. CPU is user + system time (`wait4`), peak memory")
	p("the process's VmHWM read every 10 ms.")
	p("")
	p("| | backfill | backfill again (writes nothing) |")
	p("| --- | --- | --- |")
	p("| wall time (s) | %s | %s |", b.Wall.Format(f2), b.RerunWall.Format(f2))
	p("| CPU time (s) | %s | %s |", b.CPU.Format(f2), b.RerunCPU.Format(f2))
	p("| export lines per CPU second | %s | %s |", b.LinesPerCPUSecond().Format(f0),
		b.RerunCPU.Map(func(c float64) float64 { return float64(b.ExportLines) / c }).Format(f0))
	p("| export and archive lines per CPU second | %s | |", b.CPU.Map(func(c float64) float64 { return float64(b.ExportLines+b.ArchiveLines) / c }).Format(f0))
	p("| cores busy (CPU / wall) | %s of %d | |", Sample(zipDiv(b.CPU, b.Wall)).Format(f2), b.Cores)
	p("| peak RSS (both runs) | %s MiB | |", mib(b.PeakRSS))
	p("")
}

// backfillTargets writes target rows 8a and 8b.
func (r *Report) backfillTargets(p func(string, ...any)) {
	b := r.Backfill
	if len(b.CPU) == 0 {
		return
	}
	p("| 8a | peak RSS of backfill: %s export lines against an archive of %s lines | %s MiB | %s | ≤ 1× of %d MiB | %s |",
		thousands(int64(b.ExportLines)), thousands(int64(b.ArchiveLines)), mib(b.PeakRSS), x2(float64(b.PeakRSS)/(TargetBackfillPeakMiB<<20)), TargetBackfillPeakMiB, verdict(b.PeakRSS <= TargetBackfillPeakMiB<<20))
	p("| 8b | the same run: export lines per CPU second (%s s wall on %d cores) | %s lines/s | | stated | – |",
		b.Wall.Format(f2), b.Cores, b.LinesPerCPUSecond().Format(f0))
}
