package soak

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/procstat"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// Scenario is one set of faults a run goes through.
type Scenario struct {
	Name string
	// Firehose plans the faults of the Firehose stand-in.
	Firehose FaultPlan
	// Kill kills function processes mid-invocation.
	Kill KillFunc
	// Timeout is the function's timeout (the invocation deadline); zero
	// keeps the template's.
	Timeout time.Duration
	// Params override template parameters for this scenario (the mapping,
	// the function's settings and the stream's delivery all follow them).
	Params map[string]string
}

// Options configure Run.
type Options struct {
	// Bootstrap is the function built for this machine
	// (local.BuildBootstrap).
	Bootstrap string
	// Dir holds the local S3 data (DIR/buckets, DIR/metadata) and, while
	// the run lasts, the generated stream (DIR/stream, one file of record
	// JSON per shard, removed at the end).
	Dir string
	// Template is the SAM template's text; nil for the built-in one.
	Template []byte
	Scenario Scenario
	Workload Workload
	// Processes is the number of function processes, the most invocations
	// in flight at once; 0 means one per shard, as Lambda runs one
	// invocation per shard at a time with ParallelizationFactor 1.
	Processes int
	// ApplyFilter drops the records the mappings' FilterCriteria rejects
	// before they reach the function, as Lambda does. Off, every record
	// reaches the function, which must skip those that are not TTL
	// deletions itself (as it must under sam local invoke or a mapping
	// without the filter).
	ApplyFilter bool
	// CheckContentEvery compares the archived keys and item of every n-th
	// TTL deletion, and of every large one, in full with
	// package reference (default 1: all).
	CheckContentEvery int
	// Progress, when set, receives a line every ProgressEvery (default
	// 10 s) while the mapping runs.
	Progress      io.Writer
	ProgressEvery time.Duration
	// FunctionOutput receives the function processes' stdout and stderr.
	FunctionOutput io.Writer
}

// Verdict is the outcome of a run: what was generated, what the buckets
// hold, and how the invocations went. Its JSON form is the soak report.
type Verdict struct {
	Scenario string `json:"scenario"`
	// Setup.
	Shards         int      `json:"shards"`
	Records        int      `json:"records"`
	PayloadMB      float64  `json:"payload_mb"`
	LargeItems     int      `json:"large_items"`
	BatchSize      int      `json:"stream_batch_size"`
	MaxRetries     int      `json:"max_retry_attempts"`
	MaxRecordAge   int      `json:"max_record_age_seconds"`
	Bisect         bool     `json:"bisect_batch_on_function_error"`
	ReportFailures bool     `json:"report_batch_item_failures"`
	TimeoutMS      float64  `json:"function_timeout_ms"`
	FilterApplied  bool     `json:"filter_applied"`
	FunctionEnv    []string `json:"function_env"`
	Processes      int      `json:"function_processes"`
	// The figures.
	TTLGenerated int `json:"ttl_generated"`
	// Archived: TTL items found at least once in the archive.
	Archived int `json:"ttl_archived"`
	// InOnFailure: TTL items in an on-failure payload; OnFailureOnly: of
	// those, the ones never archived (the destination is their only copy).
	InOnFailure   int `json:"ttl_in_on_failure"`
	OnFailureOnly int `json:"ttl_on_failure_only"`
	// Lost: TTL items neither archived nor in an on-failure payload.
	Lost int `json:"lost"`
	// DuplicateLines are archive lines beyond the first of their item;
	// DuplicateShare is their share of Archived.
	DuplicateLines int     `json:"duplicate_lines"`
	DuplicateShare float64 `json:"duplicate_share"`
	// DuplicatesBy attributes the duplicate lines to what made the
	// mapping send their records again: the outcome of the first
	// invocation that carried the record and did not get it checkpointed
	// (killed, timeout, function_error, partial_response).
	DuplicatesBy map[string]int `json:"duplicates_by"`
	// NonTTLArchived counts lines of records that are not TTL deletions.
	NonTTLArchived int `json:"non_ttl_archived"`
	// PastDeadline counts invocations answered after their deadline (or
	// not at all).
	PastDeadline int64   `json:"past_deadline"`
	P50MS        float64 `json:"invocation_p50_ms"`
	P99MS        float64 `json:"invocation_p99_ms"`
	MaxMS        float64 `json:"invocation_max_ms"`
	WallSeconds  float64 `json:"wall_seconds"`
	// The phases: generating the stream, starting the stack and the
	// function processes, the mapping's run, flushing Firehose's buffers,
	// and reading both buckets back.
	GenerateSeconds float64 `json:"generate_seconds"`
	StartSeconds    float64 `json:"start_seconds"`
	RunSeconds      float64 `json:"mapping_seconds"`
	FlushSeconds    float64 `json:"flush_seconds"`
	VerifySeconds   float64 `json:"verify_seconds"`

	Found     Found         `json:"found"`
	Mapping   MappingStats  `json:"mapping"`
	Functions FunctionStats `json:"functions"`
	Firehose  FirehoseStats `json:"firehose"`
	// Harness is the soak process's own stalls and memory, to tell a late
	// answer the function sent late from one the harness recorded late.
	// Diagnostics only: late answers count whatever it shows.
	Harness HarnessStats `json:"harness"`

	Examples []string `json:"examples,omitempty"`
}

// MappingStats are the event source mapping's counts (esm.Report).
type MappingStats struct {
	Invocations      int `json:"invocations"`
	FunctionErrors   int `json:"function_errors"`
	InvokeErrors     int `json:"harness_errors"`
	Timeouts         int `json:"timeouts"`
	PartialResponses int `json:"partial_responses"`
	InvalidResponses int `json:"invalid_responses"`
	Retries          int `json:"retries"`
	Bisections       int `json:"bisections"`
	OnFailureBatches int `json:"on_failure_batches"`
	OnFailureRecords int `json:"on_failure_records"`
	Trimmed          int `json:"trimmed"`
	Unfinished       int `json:"unfinished_shards"`
}

// FirehoseStats are the Firehose stand-in's counts.
type FirehoseStats struct {
	Calls           int64 `json:"calls"`
	CallsFailed     int64 `json:"calls_failed"`
	Resets          int64 `json:"resets"`
	RecordsAccepted int64 `json:"records_accepted"`
	RecordsFailed   int64 `json:"records_failed"`
	BytesAccepted   int64 `json:"bytes_accepted"`
}

// Problems lists what makes the run a failure: anything lost, misplaced,
// corrupted or late, and harness failures. Duplicates are not a problem
// (delivery is at least once); their share is reported.
func (v *Verdict) Problems() []string {
	var p []string
	add := func(n int64, what string) {
		if n != 0 {
			p = append(p, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(int64(v.Lost), "TTL items lost (neither archived nor in an on-failure payload)")
	add(int64(v.NonTTLArchived), "records that are not TTL deletions archived")
	add(v.PastDeadline, "invocations past their deadline")
	f := v.Found
	add(int64(f.UnknownLines), "archive lines of unknown records")
	add(int64(f.BadLines), "archive lines that do not parse")
	add(int64(f.FieldMismatches), "archive lines with wrong table, region, sequence number or deletion time")
	add(int64(f.MisplacedLines), "archive lines under the wrong table or date")
	add(int64(f.RawLines), "generated records archived raw")
	add(int64(f.ContentMismatches), "archived items that differ from the reference conversion")
	add(int64(f.FirehoseErrorObjects), "objects under Firehose's error prefix")
	add(int64(f.ForeignObjects), "objects outside the archive and error prefixes")
	add(int64(f.OnFailureBadLines), "on-failure objects without a readable payload")
	add(int64(f.PayloadMismatches), "on-failure payload records that differ from the stream's")
	add(v.Functions.Crashed, "function processes that exited on their own")
	add(int64(v.Mapping.InvokeErrors), "harness errors")
	add(int64(v.Mapping.Unfinished), "shards not processed to their end")
	return p
}

// Err returns the problems as an error, nil when there are none.
func (v *Verdict) Err() error {
	if p := v.Problems(); len(p) > 0 {
		return errors.New("soak " + v.Scenario + ": " + strings.Join(p, "; "))
	}
	return nil
}

// Print writes the figures for people.
func (v *Verdict) Print(w io.Writer) {
	pct := func(n, of int) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f%%", 100*float64(n)/float64(of))
	}
	fmt.Fprintf(w, "soak %s: %d shards, %d records (%.0f MB of payload, %d large items), batch %d, retries %d, timeout %v, %d function processes\n",
		v.Scenario, v.Shards, v.Records, v.PayloadMB, v.LargeItems, v.BatchSize, v.MaxRetries, time.Duration(v.TimeoutMS*1e6), v.Processes)
	fmt.Fprintf(w, "  TTL items generated          %d\n", v.TTLGenerated)
	fmt.Fprintf(w, "  archived at least once       %d (%s)\n", v.Archived, pct(v.Archived, v.TTLGenerated))
	fmt.Fprintf(w, "  in on-failure destination    %d, of which never archived %d\n", v.InOnFailure, v.OnFailureOnly)
	fmt.Fprintf(w, "  LOST                         %d\n", v.Lost)
	fmt.Fprintf(w, "  duplicate lines              %d (%s of archived)%s\n", v.DuplicateLines, pct(v.DuplicateLines, v.Archived), causes(v.DuplicatesBy))
	fmt.Fprintf(w, "  non-TTL items archived       %d\n", v.NonTTLArchived)
	fmt.Fprintf(w, "  invocations past deadline    %d (max late %.0f ms)\n", v.PastDeadline, v.Functions.MaxLateMS)
	fmt.Fprintf(w, "  invocation time p50 / p99    %.0f ms / %.0f ms (max %.0f ms)\n", v.P50MS, v.P99MS, v.MaxMS)
	h := v.Harness
	fmt.Fprintf(w, "  harness stall max / p99      %.0f ms / %.1f ms (max at %.0f s, %d over 100 ms, %d wake-ups every %.0f ms)\n",
		h.StallMaxMS, h.StallP99MS, h.StallMaxAtS, h.StallsOver100ms, h.Samples, h.PeriodMS)
	fmt.Fprintf(w, "  harness memory               live heap %.0f MB at most, peak RSS %.0f MB; %d GCs during the mapping, %.1f s of CPU\n",
		h.HeapLiveMB, h.PeakRSSMB, h.GCCycles, h.GCCPUSeconds)
	m := v.Mapping
	fmt.Fprintf(w, "  mapping: %d invocations, %d function errors (%d killed, %d timeouts), %d partial responses, %d retries, %d bisections, %d batches (%d records) to the destination\n",
		m.Invocations, m.FunctionErrors, v.Functions.Killed, m.Timeouts, m.PartialResponses, m.Retries, m.Bisections, m.OnFailureBatches, m.OnFailureRecords)
	fh := v.Firehose
	fmt.Fprintf(w, "  firehose: %d calls, %d failed whole (%d resets), %d records accepted, %d failed one by one, %.0f MB\n",
		fh.Calls, fh.CallsFailed, fh.Resets, fh.RecordsAccepted, fh.RecordsFailed, float64(fh.BytesAccepted)/1e6)
	fmt.Fprintf(w, "  archive: %d objects, %d lines; %d items checked in full; on-failure: %d objects, %d records\n",
		v.Found.ArchiveObjects, v.Found.ArchiveLines, v.Found.ContentChecked, v.Found.OnFailureObjects, v.Found.OnFailureRecords)
	fmt.Fprintf(w, "  wall time %.1f s: generate %.1f s, start %.1f s, mapping %.1f s, flush %.1f s, verify %.1f s\n",
		v.WallSeconds, v.GenerateSeconds, v.StartSeconds, v.RunSeconds, v.FlushSeconds, v.VerifySeconds)
	for _, p := range v.Problems() {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
	for _, e := range v.Functions.LateExamples {
		fmt.Fprintf(w, "  late: %s\n", e)
	}
	for _, e := range v.Examples {
		fmt.Fprintf(w, "  example: %s\n", e)
	}
}

// Run generates the workload, drives it through the event source mapping
// model into the real function, with the scenario's faults, and checks what
// reached the buckets. The returned error is for a run that could not be
// done; what the run found, problems included, is in the Verdict.
func Run(ctx context.Context, o Options) (*Verdict, error) {
	began := time.Now()
	sc := o.Scenario
	dep, err := ReadDeployment(o.Template, sc.Params)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	var filters = dep.Filters
	if !o.ApplyFilter {
		filters = nil
	}
	checkEvery := o.CheckContentEvery
	if checkEvery == 0 {
		checkEvery = 1
	}
	if o.Dir == "" {
		return nil, errors.New("soak: no Options.Dir for the local S3 data and the stream")
	}
	s, err := generate(o.Workload, filters, checkEvery, filepath.Join(o.Dir, "stream"))
	if err != nil {
		return nil, fmt.Errorf("soak: generate: %w", err)
	}
	defer func() { _ = s.close() }()
	generated := time.Now()
	m := dep.Mapping
	if sc.Timeout > 0 {
		m.FunctionTimeout = sc.Timeout
	}
	format := archive.FormatJSON
	for _, kv := range dep.Env {
		if kv == "ARCHIVE_FORMAT="+archive.FormatDynamoDBJSONName {
			format = archive.FormatDynamoDBJSON
		}
	}

	stack, err := startStack(o.Dir, o.Template, sc.Params)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	defer func() { _ = stack.close() }()
	client := stack.s3.Client()
	processes := o.Processes
	if processes == 0 {
		processes = s.w.Shards
	}
	invs := &invocations{s: s, byShrd: map[int32][]invocation{}}
	meter := newStallMeter(stallPeriod)
	fns, err := StartFunctions(ctx, stack.Stack, FunctionsOptions{
		Bootstrap: o.Bootstrap, Env: dep.Env, Processes: processes, Kill: sc.Kill, Output: o.FunctionOutput,
		Observe: invs.observe, Stalls: meter.between,
	})
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	defer func() { _ = fns.Close() }()
	var dest *S3Destination
	if dep.OnFailure {
		dest = &S3Destination{Client: client, Bucket: FailedBucket, UUID: MappingUUID}
	}

	// Run every table's mapping at once, as Lambda runs the template's
	// mappings side by side on the one function.
	start := time.Now()
	if sc.Firehose != nil {
		stack.Firehose.SetFaults(sc.Firehose(start))
	}
	meter.start()
	stopProgress := progress(o, start, fns, stack.Stack, meter)
	reports := make([]esm.Report, len(s.tables))
	errs := make([]error, len(s.tables))
	var wg sync.WaitGroup
	for i, t := range s.tables {
		mm := m
		if dest != nil {
			mm.Destination = dest
		}
		mm.StreamARN = t.arn
		mm.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:ttl-archiver-local"
		mm.Concurrency = len(t.shards)
		wg.Go(func() { reports[i], errs[i] = mm.Run(ctx, t.shards, fns) })
	}
	wg.Wait()
	stopProgress()
	meter.stopStalls()
	runTime := time.Since(start)
	stack.Firehose.SetFaults(nil)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	flushStart := time.Now()
	if err := stack.flush(ctx); err != nil {
		return nil, fmt.Errorf("soak: flush the Firehose buffers: %w", err)
	}
	fstats := fns.Stats()
	verifyStart := time.Now()

	v := &verifier{
		s: s, client: client, bucket: local.Bucket, format: format,
		prefix:   fixedDir(stack.Config.Prefix),
		errorDir: fixedDir(stack.Config.ErrorOutputPrefix),
		workers:  max(2, runtime.GOMAXPROCS(0)),
	}
	if err := v.readAll(ctx); err != nil {
		return nil, fmt.Errorf("soak: read the buckets: %w", err)
	}

	verdict := &Verdict{
		Scenario:        sc.Name,
		Shards:          s.w.Shards,
		PayloadMB:       float64(s.bytes) / 1e6,
		LargeItems:      s.large,
		BatchSize:       m.BatchSize,
		MaxRetries:      m.MaximumRetryAttempts,
		MaxRecordAge:    m.MaximumRecordAgeInSeconds,
		Bisect:          m.BisectBatchOnFunctionError,
		ReportFailures:  m.ReportBatchItemFailures,
		TimeoutMS:       float64(m.FunctionTimeout) / 1e6,
		FilterApplied:   o.ApplyFilter,
		FunctionEnv:     dep.Env,
		Processes:       processes,
		TTLGenerated:    s.ttl,
		PastDeadline:    fstats.PastDeadline,
		GenerateSeconds: generated.Sub(began).Seconds(),
		StartSeconds:    start.Sub(generated).Seconds(),
		RunSeconds:      runTime.Seconds(),
		FlushSeconds:    verifyStart.Sub(flushStart).Seconds(),
		VerifySeconds:   time.Since(verifyStart).Seconds(),
		Found:           v.found,
		Functions:       fstats,
		Examples:        v.found.examples,
	}
	for _, t := range s.tables {
		for _, sh := range t.shards {
			verdict.Records += len(sh.Records)
		}
	}
	for _, it := range s.items {
		if it.kind != streamgen.TTLRemove {
			continue
		}
		switch {
		case it.archived > 0:
			verdict.Archived++
			verdict.DuplicateLines += int(it.archived - 1)
		case it.inFailure > 0:
			verdict.OnFailureOnly++
		default:
			verdict.Lost++
		}
		if it.inFailure > 0 {
			verdict.InOnFailure++
		}
	}
	verdict.NonTTLArchived = v.found.NonTTLLines
	var within []string
	verdict.DuplicatesBy, within = invs.duplicateCauses()
	for _, w := range within {
		verdict.Examples = append(verdict.Examples, "duplicate within one invocation: "+w)
	}
	if verdict.Archived > 0 {
		verdict.DuplicateShare = float64(verdict.DuplicateLines) / float64(verdict.Archived)
	}
	var all esm.Report
	unfinished := 0
	for _, r := range reports {
		mergeReport(&all, r)
		for _, sh := range r.Shards {
			if sh.Checkpointed != sh.Records {
				unfinished++
			}
		}
	}
	verdict.Mapping = MappingStats{
		Invocations: all.Invocations, FunctionErrors: all.FunctionErrors, InvokeErrors: all.InvokeErrors,
		Timeouts: all.Timeouts, PartialResponses: all.PartialResponses, InvalidResponses: all.InvalidResponses,
		Retries: all.Retries, Bisections: all.Bisections, OnFailureBatches: len(all.OnFailure),
		OnFailureRecords: all.OnFailureRecords, Trimmed: all.Trimmed, Unfinished: unfinished,
	}
	verdict.P50MS = ms(all.Percentile(50))
	verdict.P99MS = ms(all.Percentile(99))
	verdict.MaxMS = ms(all.Percentile(100))
	st := stack.Firehose.Stats()
	verdict.Firehose = FirehoseStats{
		Calls: st.Calls, CallsFailed: st.CallsFailed, Resets: st.Resets,
		RecordsAccepted: st.RecordsAccepted, RecordsFailed: st.RecordsFailed, BytesAccepted: st.BytesAccepted,
	}
	verdict.Harness = meter.stats()
	if hwm, _, err := procstat.Memory(os.Getpid()); err == nil {
		verdict.Harness.PeakRSSMB = float64(hwm) / 1e6
	}
	verdict.WallSeconds = time.Since(began).Seconds()
	return verdict, nil
}

// fixedDir is the folder part of a Firehose prefix before its first
// expression: "archive/" of "archive/table=!{partitionKeyFromQuery:table}/".
func fixedDir(prefix string) string {
	fixed, _, _ := strings.Cut(prefix, "!{")
	return fixed[:strings.LastIndexByte(fixed, '/')+1]
}

// causes lists duplicate causes, largest first.
func causes(by map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range by {
		list = append(list, kv{k, v})
	}
	slices.SortFunc(list, func(a, b kv) int { return cmp.Or(cmp.Compare(b.v, a.v), strings.Compare(a.k, b.k)) })
	var b strings.Builder
	for i, e := range list {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d after %s", e.v, e.k)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func mergeReport(dst *esm.Report, r esm.Report) {
	dst.Invocations += r.Invocations
	dst.FunctionErrors += r.FunctionErrors
	dst.InvokeErrors += r.InvokeErrors
	dst.Timeouts += r.Timeouts
	dst.TimeoutExceeded = dst.TimeoutExceeded || r.TimeoutExceeded
	dst.PartialResponses += r.PartialResponses
	dst.InvalidResponses += r.InvalidResponses
	dst.Retries += r.Retries
	dst.Bisections += r.Bisections
	dst.OnFailure = append(dst.OnFailure, r.OnFailure...)
	dst.OnFailureRecords += r.OnFailureRecords
	dst.Trimmed += r.Trimmed
	dst.Durations = append(dst.Durations, r.Durations...)
	dst.Shards = append(dst.Shards, r.Shards...)
}

// progress writes a line now and then while the mapping runs; the returned
// func stops it.
func progress(o Options, start time.Time, fns *Functions, stack *local.Stack, meter *stallMeter) func() {
	if o.Progress == nil {
		return func() {}
	}
	every := o.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fs, st, h := fns.Stats(), stack.Firehose.Stats(), meter.stats()
				fmt.Fprintf(o.Progress, "  %4.0fs: %d invocations (%d killed, %d late), firehose %d calls (%d failed), %d records accepted, %.0f MB; harness stall max %.0f ms\n",
					time.Since(start).Seconds(), fs.Invocations, fs.Killed, fs.PastDeadline, st.Calls, st.CallsFailed, st.RecordsAccepted, float64(st.BytesAccepted)/1e6, h.StallMaxMS)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
