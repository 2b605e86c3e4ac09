package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Options say how much to measure and where to write.
type Options struct {
	Out  string // the report, e.g. BENCHMARKS.md
	Docs string // folder for the plots, linked from the report relative to Out
	// GoBench, when set, is a file with `go test -bench` output to include.
	GoBench string
	// Command is the command line the report names as the one that made it.
	Command string
	// Quick measures less (fewer repetitions, 100,000 items for the
	// bill): a smoke run, not figures to quote.
	Quick bool
	// Exe runs this program again as a child: with ServeFlag and a file,
	// it must call Serve; with ProbeFlag, ProbeSetup.
	Exe, ServeFlag, ProbeFlag string
	// Log receives progress lines.
	Log io.Writer
}

// Report is every measurement of one run.
type Report struct {
	Started  time.Time
	Elapsed  time.Duration
	Machine  Machine
	Opts     Options
	Handlers HandlerCosts   // target 1, the 9,000-record batch
	Sweep    []HandlerCosts // CPU per batch against batch size
	Function []FunctionCPU  // target 2: the bench batch, small and large items
	Profile  Profile        // target 2: where the CPU goes
	// GCSweep is the bootstrap's CPU and peak memory on target 1's batch
	// with the garbage collector's GOGC at its default and raised, and
	// with GOMAXPROCS=2.
	GCSweep []MemoryVariant
	Latency []LatencyPoint // target 3, by MAX_CONCURRENCY
	Memory  []MemoryPoint  // target 4
	// MemoryFloor is, shape by shape, the peak of a function that only
	// takes the batches (aws-lambda-go and a handler that ignores them).
	MemoryFloor []MemoryPoint
	// MemoryVariants are the worst shape's peak under settings that
	// lower it, with the CPU each costs.
	MemoryVariants []MemoryVariant
	Startup        Startup // target 5
	Setup          map[string]Sample
	Init           InitTrace
	Bill           BillPoint      // target 6: a million items of about 1 KB
	BillSize       []BillPoint    // billed bytes against item size
	CostBill       []BillPoint    // small and large items, for the cost table
	Read           ReadResult     // target 7: verify reading the archive
	Backfill       BackfillResult // target 8: backfill from exports
}

// Latencies and sizes the run uses.
const (
	TargetLatency = 30 * time.Millisecond
)

// SweepSizes are the batch sizes of the CPU plot.
var SweepSizes = []int{100, 200, 500, 1000, 2000, 5000, 10000}

// Concurrencies are the MAX_CONCURRENCY values of the latency sweep.
var Concurrencies = []int{1, 2, 4, 8, 16, 32, 64}

// ItemSizes are the item sizes (DynamoDB JSON bytes) of the bill plot.
var ItemSizes = []int{100, 200, 400, 700, 1000, 1500, 2000, 3000, 4000, 4800, 5500, 7000, 9000, 10500, 12000, 16000, 25000, 50000}

// Run measures everything and writes the report and the plots.
func Run(ctx context.Context, o Options) (*Report, error) {
	r := &Report{Started: time.Now(), Opts: o}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "%s  "+format+"\n", append([]any{time.Since(r.Started).Round(time.Second)}, args...)...)
		}
	}
	reps, sweepReps, minCPU := 9, 3, 400*time.Millisecond
	billItems, billSweepItems := 1_000_000, 20_000
	memInvocations := 20
	if o.Quick {
		reps, sweepReps, minCPU = 3, 1, 100*time.Millisecond
		billItems, billSweepItems = 100_000, 3_000
		memInvocations = 2
	}
	var err error
	r.Machine = ReadMachine()

	// Target 1: the handler's CPU, side by side with the baseline.
	logf("target 1: handler CPU on %d records (%d repetitions)", BenchRecords, reps)
	hs, err := Handlers(Baseline, Fast, FastDynamoDB, FastPacked, ReferencePath)
	if err != nil {
		return nil, err
	}
	payload := BenchBatch(BenchRecords)
	if r.Handlers, err = MeasureHandlers(hs, payload, BenchRecords, reps, minCPU); err != nil {
		return nil, err
	}
	logf("  archiver/json.Unmarshal = %.2f×", r.Handlers.RatioTo(Fast, Baseline).Median())

	logf("CPU against batch size %v", SweepSizes)
	sweepHs, err := Handlers(Baseline, Fast, ReferencePath)
	if err != nil {
		return nil, err
	}
	for _, n := range SweepSizes {
		hc, err := MeasureHandlers(sweepHs, BenchBatch(n), n, sweepReps, minCPU/4)
		if err != nil {
			return nil, err
		}
		r.Sweep = append(r.Sweep, hc)
	}

	// The function's bootstrap, built with the flags of Lambda's build (BuildFlags).
	dir, err := os.MkdirTemp("", "ttl-archiver-bench-bin")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	logf("building the bootstrap and the start floor")
	bootstrap, err := BuildBootstrap(ctx, dir)
	if err != nil {
		return nil, err
	}
	floor, err := BuildStartFloor(ctx, dir)
	if err != nil {
		return nil, err
	}
	memFloor, err := BuildMemoryFloor(ctx, dir)
	if err != nil {
		return nil, err
	}

	// Target 2: the whole function's CPU, and where it goes.
	blocks := 10
	if o.Quick {
		blocks = 2
	}
	shapes := []struct {
		name             string
		payload          []byte
		records, perBlk  int
		itemBytes, items int
	}{
		{name: fmt.Sprintf("%s records, ~%d B each (target 1's batch)", thousands(BenchRecords), len(payload)/BenchRecords), payload: payload, records: BenchRecords, perBlk: 8},
		{name: "1,000 records, items of ~200 B", itemBytes: 200, records: 1000, perBlk: 40},
		{name: "1,000 records, items of ~4 KB", itemBytes: 4000, records: 1000, perBlk: 12},
	}
	for _, s := range shapes {
		if s.payload == nil {
			s.payload = BatchOf(s.records, s.itemBytes, 0, 11)
		}
		logf("target 2: function CPU, %s", s.name)
		var pair []Handler
		if s.records == BenchRecords {
			// Targets 2a and 2b are ratios to these, taken block by block.
			if pair, err = Handlers(Baseline, ReferencePath); err != nil {
				return nil, err
			}
		}
		fc, err := MeasureFunctionCPU(ctx, bootstrap, s.name, s.payload, s.records, blocks, s.perBlk, pair)
		if err != nil {
			return nil, fmt.Errorf("function CPU, %s: %w", s.name, err)
		}
		r.Function = append(r.Function, fc)
	}
	logf("target 2: profile in process with the real SDK client")
	if r.Profile, err = ProfileFunction(ctx, o.Exe, o.ServeFlag, payload, map[bool]int{false: 100, true: 10}[o.Quick], blocks); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}

	logf("target 2: CPU with %v, side by side", GCSweepEnvs)
	sweep, err := MeasureFunctionCPUSideBySide(ctx, bootstrap, r.Function[0].Name, payload, BenchRecords, blocks, 8, nil, GCSweepEnvs)
	if err != nil {
		return nil, err
	}
	for i, env := range GCSweepEnvs {
		logf("target 2: memory with %v", env)
		mv := MemoryVariant{Env: env, CPU: sweep[i]}
		if mv.Memory, err = MeasureMemory(ctx, bootstrap, r.Function[0].Name, payload, BenchRecords, memInvocations, env...); err != nil {
			return nil, err
		}
		r.GCSweep = append(r.GCSweep, mv)
	}

	// Target 3: latency with 30 ms on every Firehose call.
	for _, c := range Concurrencies {
		n := 8
		if o.Quick {
			n = 2
		}
		logf("target 3: latency, MAX_CONCURRENCY=%d", c)
		lp, err := MeasureLatency(ctx, bootstrap, payload, c, TargetLatency, n)
		if err != nil {
			return nil, fmt.Errorf("latency at %d: %w", c, err)
		}
		r.Latency = append(r.Latency, lp)
	}

	// Target 4: peak memory on the largest payloads. The peak creeps up
	// over the first invocations (BENCHMARKS.md, section 4).
	memShapes := []struct {
		name         string
		itemBytes    int
		maxItemBytes int
		maxRecords   int
		env          []string
	}{
		{name: "10,000 records of ~620 B, the most a batch holds", itemBytes: BenchItemBytes, maxRecords: 10000},
		{name: "items of ~4 KB", itemBytes: 4000, maxRecords: 10000},
		{name: "items of 300–400 KB, near DynamoDB's largest", itemBytes: 300_000, maxItemBytes: 390_000, maxRecords: 30},
		{name: "items of ~4 KB, PACK_RECORDS=true", itemBytes: 4000, maxRecords: 10000, env: []string{"PACK_RECORDS=true"}},
	}
	for _, s := range memShapes {
		p, n := BatchUnder(MaxPayload, s.itemBytes, s.maxItemBytes, s.maxRecords, 5)
		logf("target 4: memory, %s: %d records, %.2f MB", s.name, n, float64(len(p))/1e6)
		mp, err := MeasureMemory(ctx, bootstrap, s.name, p, n, memInvocations, s.env...)
		if err != nil {
			return nil, fmt.Errorf("memory, %s: %w", s.name, err)
		}
		r.Memory = append(r.Memory, mp)
		fp, err := MeasureMemory(ctx, memFloor, s.name, p, n, memInvocations)
		if err != nil {
			return nil, fmt.Errorf("memory floor, %s: %w", s.name, err)
		}
		r.MemoryFloor = append(r.MemoryFloor, fp)
	}

	worst := -1
	for i, ws := range memShapes {
		if ws.env == nil && (worst < 0 || r.Memory[i].Peak > r.Memory[worst].Peak) {
			worst = i
		}
	}
	for _, ws := range memShapes[worst : worst+1] {
		p, n := BatchUnder(MaxPayload, ws.itemBytes, ws.maxItemBytes, ws.maxRecords, 5)
		for _, env := range MemoryVariantEnvs {
			logf("target 4: memory and CPU, %s, %v", ws.name, env)
			mv := MemoryVariant{Env: env}
			if mv.Memory, err = MeasureMemory(ctx, bootstrap, ws.name, p, n, memInvocations, env...); err != nil {
				return nil, err
			}
			if mv.CPU, err = MeasureFunctionCPU(ctx, bootstrap, ws.name, p, n, blocks, 6, nil, env...); err != nil {
				return nil, err
			}
			r.MemoryVariants = append(r.MemoryVariants, mv)
		}
	}

	// Target 5: start-up.
	starts := 30
	if o.Quick {
		starts = 5
	}
	logf("target 5: start-up, %d starts each", starts)
	if r.Startup, err = MeasureStartup(ctx, bootstrap, floor, starts); err != nil {
		return nil, fmt.Errorf("start-up: %w", err)
	}
	if r.Setup, err = MeasureSetup(ctx, bootstrap, o.Exe, o.ProbeFlag, map[bool]int{false: 15, true: 3}[o.Quick]); err != nil {
		return nil, fmt.Errorf("setup phases: %w", err)
	}
	if r.Init, err = TraceInit(ctx, bootstrap, map[bool]int{false: 9, true: 3}[o.Quick]); err != nil {
		return nil, fmt.Errorf("init trace: %w", err)
	}

	// Target 6: the Firehose bill.
	logf("target 6: Firehose bill, %d items of ~1 KB", billItems)
	if r.Bill, err = MeasureBill(900, 1100, billItems, 1000, 6); err != nil {
		return nil, fmt.Errorf("bill: %w", err)
	}
	logf("bill against item size %v", ItemSizes)
	for _, size := range ItemSizes {
		items := billSweepItems
		if size >= 8000 {
			items = max(500, items*1000/size)
		}
		bp, err := MeasureBill(size, 0, items, 1000, 7)
		if err != nil {
			return nil, fmt.Errorf("bill at %d B: %w", size, err)
		}
		r.BillSize = append(r.BillSize, bp)
	}
	for _, size := range []int{200, 4000} {
		bp, err := MeasureBill(size, 0, billSweepItems, 1000, 8)
		if err != nil {
			return nil, err
		}
		r.CostBill = append(r.CostBill, bp)
	}

	readLines, reps := ReadLines, readReps
	if o.Quick {
		readLines, reps = readQuickLines, readQuick
	}
	logf("target 7: verify reading %d archive lines beside gzip -dc | wc -l (%d repetitions)", readLines, reps)
	if r.Read, err = MeasureRead(ctx, readLines, reps, logf); err != nil {
		return nil, err
	}
	bfLines, bfReps := BackfillLines, backfillReps
	if o.Quick {
		bfLines, bfReps = backfillQuickLines, backfillQuickReps
	}
	logf("target 8: backfill of %d export lines against an archive of as many (%d repetitions)", bfLines, bfReps)
	if r.Backfill, err = MeasureBackfill(ctx, bfLines, bfReps, logf); err != nil {
		return nil, err
	}

	r.Elapsed = time.Since(r.Started)
	logf("writing %s and the plots in %s", o.Out, o.Docs)
	if err := os.MkdirAll(o.Docs, 0o755); err != nil {
		return nil, err
	}
	if err := r.Plot(); err != nil {
		return nil, err
	}
	return r, r.Write()
}

// MemoryVariant is the bootstrap's peak memory and CPU with settings
// (environment variables) that may lower the peak.
type MemoryVariant struct {
	Env    []string
	Memory MemoryPoint
	CPU    FunctionCPU
}

// GCSweepEnvs are the runtime settings of section 2: the defaults, the
// collector's targets, then the runtime's own GOMAXPROCS for the 2 vCPUs
// Lambda shows (the function sets 1 at 128 MB, lambdaenv.Procs).
var GCSweepEnvs = [][]string{nil, {"GOGC=200"}, {"GOGC=400"}, {"GOMAXPROCS=2"}}

// MemoryVariantEnvs are the settings tried on the worst shape: the
// defaults first.
var MemoryVariantEnvs = [][]string{nil, {"GOMEMLIMIT=96MiB"}, {"MAX_CONCURRENCY=1"}, {"GOGC=50"}, {"GOMEMLIMIT=48MiB"}}

// Plot names, under Options.Docs.
const (
	PlotCPU  = "bench-cpu-per-batch.png"
	PlotBill = "bench-firehose-bill.png"
)

// plotPath returns a plot's file and its link from the report.
func (r *Report) plotPath(name string) (file, link string) {
	file = filepath.Join(r.Opts.Docs, name)
	link, err := filepath.Rel(filepath.Dir(r.Opts.Out), file)
	if err != nil {
		link = file
	}
	return file, filepath.ToSlash(link)
}

// Plot draws the two plots.
func (r *Report) Plot() error {
	var series []Series
	for _, c := range []Series{
		{Name: "archiver (fast path)", Color: colorFast},
		{Name: "reference: events + attributevalue + encoding/json", Color: colorReference},
		{Name: "json.Unmarshal of the batch (baseline)", Color: colorBaseline},
	} {
		name := map[string]string{"archiver (fast path)": Fast, "reference: events + attributevalue + encoding/json": ReferencePath}[c.Name]
		if name == "" {
			name = Baseline
		}
		for _, hc := range r.Sweep {
			cs := hc.Costs[name].CPU()
			c.X = append(c.X, float64(hc.Records))
			c.Y = append(c.Y, cs.Median())
			c.Lo = append(c.Lo, cs.Min())
			c.Hi = append(c.Hi, cs.Max())
		}
		series = append(series, c)
	}
	target := Series{Name: "target: 1.5 × json.Unmarshal", Color: colorTarget, Dashed: true}
	for _, hc := range r.Sweep {
		target.X = append(target.X, float64(hc.Records))
		target.Y = append(target.Y, 1.5*hc.Costs[Baseline].CPU().Median())
	}
	series = append(series, target)
	file, _ := r.plotPath(PlotCPU)
	if err := LogPlot(file, "Handler CPU per batch (TTL deletions of ~620 B, Firehose fake)", "records per batch", "CPU per batch (ms)", series); err != nil {
		return err
	}

	bill := []Series{
		{Name: "unpacked: one Firehose record per item", Color: colorReference},
		{Name: "PACK_RECORDS=true", Color: colorFast},
		{Name: "EventBridge Pipes route: one record per stream record", Color: colorPipes, Dashed: true},
		{Name: "the archive lines themselves (raw bytes)", Color: colorBaseline, Dashed: true},
	}
	for _, bp := range r.BillSize {
		x := bp.LinePerItem()
		for i, b := range []int64{bp.Unpacked.Billed, bp.Packed.Billed, bp.PipesBilled, bp.LineBytes} {
			bill[i].X = append(bill[i].X, x)
			bill[i].Y = append(bill[i].Y, bp.PerMillion(b)/GB)
		}
	}
	file, _ = r.plotPath(PlotBill)
	return LogPlot(file, "Firehose ingestion billed per million items (5 KB = 5,120 B increments)", "archive line per item (bytes)", "billed GB per million items", bill)
}
