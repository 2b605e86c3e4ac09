package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/procstat"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// FunctionTimeout is the invocation timeout the measurements give the
// function: the template's default Timeout.
const FunctionTimeout = 60 * time.Second

// BuildFlags are the go build flags of the function as Lambda runs it:
// those of the Makefile's build-ArchiverFunction target, which SAM uses
// (-s -w leave out the symbol table and DWARF: a smaller file to map at
// each start). Only GOOS and GOARCH differ: the measurements run the
// bootstrap on this machine.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// BuildBootstrap builds ./function for this machine into dir, with the
// flags Lambda's build uses (BuildFlags).
func BuildBootstrap(ctx context.Context, dir string) (string, error) {
	return build(ctx, filepath.Join(dir, "bootstrap"), "./function", BuildFlags...)
}

// build runs go build in the module root for this machine, statically
// linked (CGO_ENABLED=0) as Lambda's build is.
func build(ctx context.Context, out, pkg string, flags ...string) (string, error) {
	root, err := local.ModuleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"build"}, flags...), "-o", out, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// BuildStartFloor builds the smallest Go program that does what a Lambda
// runtime does first (ask the Runtime API for the next invocation), to
// measure start-up against, with the bootstrap's flags.
func BuildStartFloor(ctx context.Context, dir string) (string, error) {
	return build(ctx, filepath.Join(dir, "startfloor"), "./internal/bench/cmd/startfloor", BuildFlags...)
}

// Rig is the function under the local stack: the real bootstrap under a
// loopback Runtime API, sending with the real SDK client to the Firehose
// stand-in, which discards what it takes.
type Rig struct {
	Stack *local.Stack
	Fn    *local.Function
	dir   string
	calls atomic.Int64
}

// BuildMemoryFloor builds a Lambda function on aws-lambda-go whose
// handler ignores the payload (internal/bench/cmd/memfloor), with the
// bootstrap's flags, to measure peak memory against.
func BuildMemoryFloor(ctx context.Context, dir string) (string, error) {
	return build(ctx, filepath.Join(dir, "memfloor"), "./internal/bench/cmd/memfloor", BuildFlags...)
}

// StartRig starts the stack (every Firehose call delayed by latency) and
// the bootstrap with env on top of the stack's.
func StartRig(ctx context.Context, bootstrap string, latency time.Duration, env ...string) (*Rig, error) {
	dir, err := os.MkdirTemp("", "ttl-archiver-bench")
	if err != nil {
		return nil, err
	}
	r := &Rig{dir: dir}
	faults := []firehoselocal.FaultFunc{func(firehoselocal.Call) firehoselocal.Fault {
		r.calls.Add(1)
		return firehoselocal.Fault{}
	}}
	if latency > 0 {
		faults = append(faults, firehoselocal.Latency(latency))
	}
	r.Stack, err = local.Start(local.Options{Dir: dir, Sink: firehoselocal.Discard, Faults: firehoselocal.Compose(faults...)})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r.Fn, err = r.Stack.StartFunction(ctx, local.FunctionOptions{Bootstrap: bootstrap, Env: env})
	if err != nil {
		_ = r.Stack.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// Close stops the function and the stack.
func (r *Rig) Close() error {
	err := r.Fn.Close()
	if err2 := r.Stack.Close(); err == nil {
		err = err2
	}
	_ = os.RemoveAll(r.dir)
	return err
}

// Calls returns the Firehose calls the stand-in received so far.
func (r *Rig) Calls() int { return int(r.calls.Load()) }

// Pid is the bootstrap's process id.
func (r *Rig) Pid() int { return r.Fn.Process.Pid() }

// Invoke sends payload and checks that the function archived all of it;
// it returns the time from queueing the invocation to the answer and the
// Firehose calls the stand-in received meanwhile (retries included).
func (r *Rig) Invoke(ctx context.Context, payload []byte) (time.Duration, int, error) {
	c0 := r.Calls()
	res, err := r.Fn.Invoke(ctx, payload, FunctionTimeout)
	if err != nil {
		return 0, 0, fmt.Errorf("invoke: %w\nstderr: %s", err, r.Fn.Process.Stderr())
	}
	if res.Error != nil {
		return 0, 0, fmt.Errorf("invoke: function error %s: %s", res.Error.Type, res.Error.Message)
	}
	var resp archive.BatchResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		return 0, 0, fmt.Errorf("invoke: response %q: %w", res.Payload, err)
	}
	if len(resp.BatchItemFailures) != 0 {
		return 0, 0, fmt.Errorf("invoke: %d batch item failures, want none", len(resp.BatchItemFailures))
	}
	return res.Duration, r.Calls() - c0, nil
}

// callCounter tells invocations that needed more Firehose calls than the
// fewest any of them needed: calls the SDK or the archiver sent again.
type callCounter struct{ calls []int }

func (c *callCounter) add(n int) { c.calls = append(c.calls, n) }

// min is the fewest calls an invocation made.
func (c *callCounter) min() int { return slices.Min(c.calls) }

// resent counts the invocations that made more.
func (c *callCounter) resent() int {
	m, n := c.min(), 0
	for _, x := range c.calls {
		if x > m {
			n++
		}
	}
	return n
}

// FunctionCPU is the bootstrap's CPU per warm invocation of one batch.
type FunctionCPU struct {
	Name          string
	Records       int
	PayloadBytes  int
	Invocations   int    // measured, after the warm-up
	First         Sample // CPU of each of the first invocations of the fresh process (the warm-up), ms
	PerInvocation Sample // CPU per invocation in ms, one value per block of invocations
	Duration      Sample // each invocation's time to answer, ms
	Calls         int    // Firehose calls per invocation (the fewest)
	Resent        int    // invocations that made more calls: some were sent again
	// Paired is the CPU per call (ms) of in-process handlers on the same
	// payload, by name, each measured right after each block: one value
	// per block, to take ratios side by side (RatioTo) on a machine whose
	// speed drifts.
	Paired map[string]Sample
}

// RatioTo returns the CPU per invocation of each block over that of the
// paired handler name measured right after it.
func (fc FunctionCPU) RatioTo(name string) Sample {
	return Ratio(fc.PerInvocation, fc.Paired[name])
}

// pairMinCPU is how much CPU each paired handler runs for after a block.
const pairMinCPU = 200 * time.Millisecond

// MeasureFunctionCPU invokes the function with payload blocks × perBlock
// times after a warm-up, and reads the CPU time of the process's threads
// between blocks (procstat.CPU: the scheduler's nanosecond counters; the
// 10 ms clock tick of /proc/<pid>/stat would be a tenth of a 9,000-record
// block's CPU).
//
// Each handler of pair runs on payload in this process after each block
// (FunctionCPU.Paired).
func MeasureFunctionCPU(ctx context.Context, bootstrap, name string, payload []byte, records, blocks, perBlock int, pair []Handler, env ...string) (FunctionCPU, error) {
	out, err := MeasureFunctionCPUSideBySide(ctx, bootstrap, name, payload, records, blocks, perBlock, pair, [][]string{env})
	if err != nil {
		return FunctionCPU{}, err
	}
	return out[0], nil
}

// MeasureFunctionCPUSideBySide measures the function's CPU per invocation
// of payload as MeasureFunctionCPU does, once for each environment of
// envs, side by side: a process per environment, and every round of
// blocks runs one block on each, in an order that rotates, so that block
// i of every result was measured within the same few seconds of a machine
// whose speed drifts (compare them with Ratio). The handlers of pair run
// after each round.
func MeasureFunctionCPUSideBySide(ctx context.Context, bootstrap, name string, payload []byte, records, blocks, perBlock int, pair []Handler, envs [][]string) ([]FunctionCPU, error) {
	rigs := make([]*Rig, len(envs))
	defer func() {
		for _, r := range rigs {
			if r != nil {
				_ = r.Close()
			}
		}
	}()
	out := make([]FunctionCPU, len(envs))
	for i, env := range envs {
		r, err := StartRig(ctx, bootstrap, 0, env...)
		if err != nil {
			return nil, err
		}
		rigs[i] = r
		out[i] = FunctionCPU{Name: name, Records: records, PayloadBytes: len(payload), Paired: map[string]Sample{}}
		// The warm-up: the first invocations of a process, each timed
		// alone.
		for range FirstInvocations {
			c0, err := procstat.CPU(r.Pid())
			if err != nil {
				return nil, err
			}
			if _, _, err := r.Invoke(ctx, payload); err != nil {
				return nil, err
			}
			c1, err := procstat.CPU(r.Pid())
			if err != nil {
				return nil, err
			}
			out[i].First = append(out[i].First, ms(c1-c0))
		}
	}
	ccs := make([]callCounter, len(envs))
	for b := range blocks {
		for k := range envs {
			i := (b + k) % len(envs)
			cpu, err := rigs[i].invokeBlock(ctx, payload, perBlock, &out[i].Duration, &ccs[i])
			if err != nil {
				return nil, err
			}
			out[i].PerInvocation = append(out[i].PerInvocation, cpu)
			out[i].Invocations += perBlock
		}
		for _, h := range pair {
			var herr error
			c := MeasureCost(func() {
				if err := h.Handle(payload); err != nil && herr == nil {
					herr = err
				}
			}, 1, pairMinCPU)
			if herr != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, herr)
			}
			for i := range out {
				out[i].Paired[h.Name] = append(out[i].Paired[h.Name], ms(c.CPU))
			}
		}
	}
	for i := range out {
		out[i].Calls, out[i].Resent = ccs[i].min(), ccs[i].resent()
	}
	return out, nil
}

// FirstInvocations is how many of a fresh process's invocations are timed
// one by one, and left out of the steady state.
const FirstInvocations = 3

// LatencyPoint is the function's time to answer a batch with every
// Firehose call delayed, at one MAX_CONCURRENCY.
type LatencyPoint struct {
	Concurrency int
	Latency     time.Duration
	Calls       int     // PutRecordBatch calls per invocation (the fewest)
	Resent      int     // invocations that made more calls: some were sent again
	CPU         float64 // bootstrap CPU per invocation, ms (over all of them)
	Duration    Sample  // each invocation's time to answer, ms
}

// Rounds is ceil(calls / concurrency): the calls in a row a batch waits for.
func (p LatencyPoint) Rounds() int { return (p.Calls + p.Concurrency - 1) / p.Concurrency }

// Bound is the target's budget: rounds × latency plus the CPU, in ms.
func (p LatencyPoint) Bound() float64 { return float64(p.Rounds())*ms(p.Latency) + p.CPU }

// Ratio is each invocation's time over Bound.
func (p LatencyPoint) Ratio() Sample {
	return p.Duration.Map(func(v float64) float64 { return v / p.Bound() })
}

// MeasureLatency invokes the function n times (after one warm-up) with
// MAX_CONCURRENCY set to concurrency and every Firehose call delayed by
// latency.
func MeasureLatency(ctx context.Context, bootstrap string, payload []byte, concurrency int, latency time.Duration, n int) (LatencyPoint, error) {
	out := LatencyPoint{Concurrency: concurrency, Latency: latency}
	r, err := StartRig(ctx, bootstrap, latency, "MAX_CONCURRENCY="+strconv.Itoa(concurrency))
	if err != nil {
		return out, err
	}
	defer func() { _ = r.Close() }()
	if _, _, err := r.Invoke(ctx, payload); err != nil {
		return out, err
	}
	var cc callCounter
	if out.CPU, err = r.invokeBlock(ctx, payload, n, &out.Duration, &cc); err != nil {
		return out, err
	}
	out.Calls, out.Resent = cc.min(), cc.resent()
	return out, nil
}

// invokeBlock invokes the function n times with payload, appends each
// time to answer (ms) to durations and each invocation's calls to cc, and
// returns the CPU per invocation of the process's threads over the block,
// ms.
func (r *Rig) invokeBlock(ctx context.Context, payload []byte, n int, durations *Sample, cc *callCounter) (float64, error) {
	c0, err := procstat.CPU(r.Pid())
	if err != nil {
		return 0, err
	}
	for range n {
		d, calls, err := r.Invoke(ctx, payload)
		if err != nil {
			return 0, err
		}
		*durations = append(*durations, ms(d))
		cc.add(calls)
	}
	c1, err := procstat.CPU(r.Pid())
	if err != nil {
		return 0, err
	}
	return ms(c1-c0) / float64(n), nil
}

// MemoryPoint is the bootstrap's resident memory around batches of one
// shape.
type MemoryPoint struct {
	Name         string
	Records      int
	PayloadBytes int
	Invocations  int
	Ready        int64 // VmRSS when init is done, bytes
	First        int64 // VmHWM after the first invocation
	Peak         int64 // VmHWM after all of them
}

// MeasureMemory starts a fresh bootstrap, reads its VmRSS at init, and
// its VmHWM after the first of n invocations with payload and after the
// last.
func MeasureMemory(ctx context.Context, bootstrap, name string, payload []byte, records, n int, env ...string) (MemoryPoint, error) {
	out := MemoryPoint{Name: name, Records: records, PayloadBytes: len(payload), Invocations: n}
	r, err := StartRig(ctx, bootstrap, 0, env...)
	if err != nil {
		return out, err
	}
	defer func() { _ = r.Close() }()
	if _, out.Ready, err = procstat.Memory(r.Pid()); err != nil {
		return out, err
	}
	for i := range n {
		if _, _, err := r.Invoke(ctx, payload); err != nil {
			return out, err
		}
		hwm, _, err := procstat.Memory(r.Pid())
		if err != nil {
			return out, err
		}
		if i == 0 {
			out.First = hwm
		}
		out.Peak = hwm
	}
	return out, nil
}

// MaxPayload is the most a Lambda invocation can carry (6 MB, enforced
// as 6,291,456 bytes).
const MaxPayload = 6 << 20

// BatchUnder returns the largest batch of items of about itemBytes (up
// to maxItemBytes when larger; at most maxRecords, and Lambda's stream
// batch limit is 10,000) whose event stays under limit bytes, and its
// record count.
func BatchUnder(limit, itemBytes, maxItemBytes, maxRecords int, seed uint64) ([]byte, int) {
	recs := streamgen.New(streamgen.Options{Seed: seed, ItemBytes: itemBytes, MaxItemBytes: maxItemBytes}).Batch(maxRecords)
	n, size := 0, 16
	for n < len(recs) && size+len(recs[n].JSON)+1 <= limit {
		size += len(recs[n].JSON) + 1
		n++
	}
	return streamgen.Event(recs[:n]), n
}

// BatchOf returns an event of n TTL deletions of items of about itemBytes
// (up to maxItemBytes when larger).
func BatchOf(n, itemBytes, maxItemBytes int, seed uint64) []byte {
	return streamgen.Event(streamgen.New(streamgen.Options{Seed: seed, ItemBytes: itemBytes, MaxItemBytes: maxItemBytes}).Batch(n))
}

// Startup is the time from starting the bootstrap to its first request to
// the Runtime API.
type Startup struct {
	Bootstrap Sample // ms, one per start
	Floor     Sample // the same for the start floor program
}

// MeasureStartup starts each program n times, alternating, and reads
// Process.StartupLatency.
func MeasureStartup(ctx context.Context, bootstrap, floor string, n int) (Startup, error) {
	var out Startup
	stack, err := local.Start(local.Options{Sink: firehoselocal.Discard})
	if err != nil {
		return out, err
	}
	defer func() { _ = stack.Close() }()
	start := func(path string) (float64, error) {
		fn, err := stack.StartFunction(ctx, local.FunctionOptions{Bootstrap: path})
		if err != nil {
			return 0, err
		}
		d := fn.Process.StartupLatency()
		return ms(d), fn.Close()
	}
	for range n {
		b, err := start(bootstrap)
		if err != nil {
			return out, err
		}
		f, err := start(floor)
		if err != nil {
			return out, err
		}
		out.Bootstrap = append(out.Bootstrap, b)
		out.Floor = append(out.Floor, f)
	}
	return out, nil
}

// InitTrace is the package initialisation of one bootstrap start, from
// GODEBUG=inittrace=1.
type InitTrace struct {
	Total    float64 // ms of clock time in package inits
	Done     float64 // ms from process start to the end of the last init
	Packages []PackageInit
}

// PackageInit is one package's init.
type PackageInit struct {
	Package string
	Clock   float64 // ms
	Bytes   int64
}

// TraceInit starts the bootstrap n times with GODEBUG=inittrace=1 and
// returns the start with the median total.
func TraceInit(ctx context.Context, bootstrap string, n int) (InitTrace, error) {
	stack, err := local.Start(local.Options{Sink: firehoselocal.Discard})
	if err != nil {
		return InitTrace{}, err
	}
	defer func() { _ = stack.Close() }()
	var traces []InitTrace
	for range n {
		var stderr bytes.Buffer
		fn, err := stack.StartFunction(ctx, local.FunctionOptions{Bootstrap: bootstrap, Env: []string{"GODEBUG=inittrace=1"}, Stderr: &stderr})
		if err != nil {
			return InitTrace{}, err
		}
		_ = fn.Close()
		traces = append(traces, parseInitTrace(stderr.String()))
	}
	totals := make(Sample, len(traces))
	for i, t := range traces {
		totals[i] = t.Total
	}
	med := totals.Median()
	best := traces[0]
	for _, t := range traces {
		if math.Abs(t.Total-med) < math.Abs(best.Total-med) {
			best = t
		}
	}
	return best, nil
}

// parseInitTrace reads lines such as
// "init github.com/aws/smithy-go @1.2 ms, 0.035 ms clock, 1234 bytes, 12 allocs".
func parseInitTrace(s string) InitTrace {
	var t InitTrace
	for _, line := range strings.Split(s, "\n") {
		rest, ok := strings.CutPrefix(line, "init ")
		if !ok {
			continue
		}
		pkg, rest, ok := strings.Cut(rest, " @")
		if !ok {
			continue
		}
		var at, clock float64
		var bytes, allocs int64
		if _, err := fmt.Sscanf(rest, "%g ms, %g ms clock, %d bytes, %d allocs", &at, &clock, &bytes, &allocs); err != nil {
			continue
		}
		t.Total += clock
		t.Done = max(t.Done, at+clock)
		t.Packages = append(t.Packages, PackageInit{Package: pkg, Clock: clock, Bytes: bytes})
	}
	return t
}
