package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/internal/procstat"
	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// Targets of issue 21 for reading the archive (verify).
const (
	TargetReadMBps      = 100 // MB/s of uncompressed lines per core, at least
	TargetReadVsGzip    = 1.5 // verify's wall time over gzip -dc FILES | wc -l's
	TargetReadPeakMiB   = 512 // peak RSS of verify over ReadLines lines
	ReadLines           = 2_000_000
	readLinesPerObject  = 5_000
	readDays            = 3
	readQuickLines      = 200_000
	readReps, readQuick = 5, 2
)

// ReadResult is ttl-archiver verify reading a local gzipped archive, side
// by side with `gzip -dc FILES | wc -l` on the same files, repetition by
// repetition.
type ReadResult struct {
	Lines, Objects    int
	RawBytes, GzBytes int64
	// Wall and CPU seconds (user + system, children included) of each
	// repetition.
	GzipWall, GzipCPU     Sample
	VerifyWall, VerifyCPU Sample
	// VerifyOneWall is verify with --concurrency 1.
	VerifyOneWall Sample
	// Ratio is VerifyWall over GzipWall within each repetition.
	Ratio Sample
	// PeakRSS is the largest maximum resident set size of verify (bytes).
	PeakRSS int64
	Cores   int
}

// MBpsPerCore is the uncompressed lines verify reads per CPU second.
func (r ReadResult) MBpsPerCore() Sample {
	return r.VerifyCPU.Map(func(cpu float64) float64 { return float64(r.RawBytes) / 1e6 / cpu })
}

// MeasureRead writes an archive of lines deletions (three days, one
// table, Firehose's layout, gzipped), publishes their TTL metric to
// moto_server, and runs the built ttl-archiver verify on it reps times,
// each time beside gzip -dc | wc -l.
func MeasureRead(ctx context.Context, lines, reps int, logf func(string, ...any)) (ReadResult, error) {
	r := ReadResult{Lines: lines, Cores: runtime.NumCPU()}
	dir, err := os.MkdirTemp("", "ttl-archiver-bench-read")
	if err != nil {
		return r, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	day0 := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	ds := verifytest.Deletions(5, "Orders", []string{"us-east-1"}, day0, readDays, lines)
	for _, d := range ds {
		r.RawBytes += int64(len(verifytest.Line(d)))
	}
	objs := verifytest.Objects("archive/", "bench", ds, readLinesPerObject)
	var files []string
	for _, o := range objs {
		r.GzBytes += int64(len(o.Data))
		files = append(files, filepath.Join(dir, "archive", filepath.FromSlash(strings.TrimPrefix(o.Key, "archive/"))))
	}
	r.Objects = len(objs)
	if err := verifytest.WriteDir(dir, objs); err != nil {
		return r, err
	}
	logf("  %d lines, %d objects: %.0f MB of lines, %.0f MB gzipped", lines, len(objs), float64(r.RawBytes)/1e6, float64(r.GzBytes)/1e6)

	srv, err := motoserver.Start(ctx)
	if err != nil {
		return r, err
	}
	defer srv.Close()
	if err := verifytest.PutMetrics(ctx, cloudwatch.NewFromConfig(srv.Config()), verifytest.HourlyCounts(ds)["us-east-1"]); err != nil {
		return r, err
	}
	cli, err := build(ctx, filepath.Join(dir, "ttl-archiver"), "./cmd/ttl-archiver", "-trimpath")
	if err != nil {
		return r, err
	}
	env := append(os.Environ(), srv.Env()...)
	verifyArgs := []string{"verify", "--from", filepath.Join(dir, "archive"), "--since", day0.Format(time.DateOnly),
		"--until", day0.AddDate(0, 0, readDays-1).Format(time.DateOnly), "--regions", "us-east-1", "--output", "json"}
	for i := range reps {
		// gzip -dc | wc -l: the floor of reading the same bytes.
		wall, cpu, _, out, err := runMeasured(ctx, env, "bash", append([]string{"-c", `gzip -dc "$@" | wc -l`, "gzip"}, files...)...)
		if err != nil {
			return r, fmt.Errorf("gzip -dc | wc -l: %w", err)
		}
		if n, _ := strconv.Atoi(strings.TrimSpace(out)); n != lines {
			return r, fmt.Errorf("gzip -dc | wc -l: %q lines, want %d", out, lines)
		}
		vw, vc, rss, out, err := runMeasured(ctx, env, cli, verifyArgs...)
		if err != nil {
			return r, fmt.Errorf("ttl-archiver verify: %w: %s", err, out)
		}
		var rep struct {
			Complete bool
			Totals   struct{ Archived int }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Complete || rep.Totals.Archived != lines {
			return r, fmt.Errorf("ttl-archiver verify: %v: want complete with %d archived: %.300s", err, lines, out)
		}
		ow, _, _, _, err := runMeasured(ctx, env, cli, append(verifyArgs, "--concurrency", "1")...)
		if err != nil {
			return r, fmt.Errorf("ttl-archiver verify --concurrency 1: %w", err)
		}
		r.GzipWall, r.GzipCPU = append(r.GzipWall, wall), append(r.GzipCPU, cpu)
		r.VerifyWall, r.VerifyCPU = append(r.VerifyWall, vw), append(r.VerifyCPU, vc)
		r.VerifyOneWall = append(r.VerifyOneWall, ow)
		r.Ratio = append(r.Ratio, vw/wall)
		r.PeakRSS = max(r.PeakRSS, rss)
		logf("  repetition %d: gzip -dc | wc -l %.2f s, verify %.2f s (CPU %.2f s, %.0f MiB), --concurrency 1 %.2f s", i+1, wall, vw, vc, float64(rss)/(1<<20), ow)
	}
	return r, nil
}

// runMeasured runs a command and returns its wall time, its CPU time
// (user and system, with its children's) in seconds, its peak RSS in
// bytes and its standard output. The peak is VmHWM read every 10 ms while
// it runs: wait4's ru_maxrss would also count this process's own memory,
// which a child started with vfork and exec inherits.
func runMeasured(ctx context.Context, env []string, name string, args ...string) (wall, cpu float64, rss int64, stdout string, err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, "", err
	}
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var hwm int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if h, _, err := procstat.Memory(cmd.Process.Pid); err == nil {
				hwm = max(hwm, h)
			}
			select {
			case <-done:
				peak <- hwm
				return
			case <-t.C:
			}
		}
	}()
	err = cmd.Wait()
	wall = time.Since(start).Seconds()
	close(done)
	rss = <-peak
	if err != nil {
		return 0, 0, 0, out.String(), fmt.Errorf("%v: %s", err, errOut.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return wall, cpu, rss, out.String(), nil
}

// writeRead writes section 7.
func (r *Report) writeRead(p func(string, ...any)) {
	rd := r.Read
	p("## 7. Reading the archive (verify)")
	p("")
	p("`ttl-archiver verify` over a local archive of %s lines (one table, %d days, %d gzipped objects of %s lines, Firehose's",
		thousands(int64(rd.Lines)), readDays, rd.Objects, thousands(readLinesPerObject))
	p("`table=…/dt=…/` layout): %s MB of lines, %s MB gzipped, against moto_server's CloudWatch holding the TTL metric.",
		f0(float64(rd.RawBytes)/1e6), f0(float64(rd.GzBytes)/1e6))
	p("Each of %d repetitions runs `gzip -dc FILES | wc -l` on the same files, then the built `ttl-archiver verify --output json`", len(rd.Ratio))
	p("(checked complete, every line counted), then the same with `--concurrency 1`. Wall time is the process's; CPU is its user +")
	p("system time with its children's (`wait4`), and peak memory its VmHWM, read every 10 ms while it runs.")
	p("")
	p("| | gzip -dc \\| wc -l | verify | verify --concurrency 1 |")
	p("| --- | --- | --- | --- |")
	p("| wall time (s) | %s | %s | %s |", rd.GzipWall.Format(f2), rd.VerifyWall.Format(f2), rd.VerifyOneWall.Format(f2))
	p("| CPU time (s) | %s | %s | |", rd.GzipCPU.Format(f2), rd.VerifyCPU.Format(f2))
	p("| MB/s of lines per CPU second | %s | %s | |",
		rd.GzipCPU.Map(func(c float64) float64 { return float64(rd.RawBytes) / 1e6 / c }).Format(f0), rd.MBpsPerCore().Format(f0))
	p("| cores busy (CPU / wall) | | %s of %d | |", Sample(zipDiv(rd.VerifyCPU, rd.VerifyWall)).Format(f2), rd.Cores)
	p("| peak RSS | | %s MiB | |", mib(rd.PeakRSS))
	p("")
}

func zipDiv(a, b Sample) []float64 {
	out := make([]float64, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] / b[i]
	}
	return out
}

// readTargets writes target rows 7a to 7c.
func (r *Report) readTargets(p func(string, ...any)) {
	rd := r.Read
	if len(rd.Ratio) == 0 {
		return
	}
	mbps := rd.MBpsPerCore()
	p("| 7a | verify reading a local gzipped archive: MB of uncompressed lines per CPU second | %s MB/s | %s | ≥ 1× of %d MB/s | %s |",
		mbps.Format(f0), x2(mbps.Median()/TargetReadMBps), TargetReadMBps, verdict(mbps.Median() >= TargetReadMBps))
	p("| 7b | the same, wall time beside `gzip -dc FILES \\| wc -l` on the same files (%s s; verify uses %s cores, --concurrency 1 takes %s s) | %s s | %s | ≤ %s× | %s |",
		rd.GzipWall.Format(f2), f2(Sample(zipDiv(rd.VerifyCPU, rd.VerifyWall)).Median()), f2(rd.VerifyOneWall.Median()), rd.VerifyWall.Format(f2), rd.Ratio.Format(x2), f1(TargetReadVsGzip), verdict(rd.Ratio.Median() <= TargetReadVsGzip))
	p("| 7c | peak RSS of verify over %s lines | %s MiB | %s | ≤ 1× of %d MiB | %s |",
		thousands(int64(rd.Lines)), mib(rd.PeakRSS), x2(float64(rd.PeakRSS)/(TargetReadPeakMiB<<20)), TargetReadPeakMiB, verdict(rd.PeakRSS <= TargetReadPeakMiB<<20))
}
