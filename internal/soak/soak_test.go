package soak

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// shortWorkload is the stream of each short soak: two shards of about
// 1,000 records, 1,400 of them TTL deletions, a few items near 400 KB.
func shortWorkload(seed uint64) Workload {
	return Workload{Seed: seed, Shards: 2, TTLItems: 1400, LargeShare: 0.003}
}

// shortParams cut the template's batches (StreamBatchSize, default 1,000)
// to 300 records, a value the template accepts, so that each short shard is
// several batches and a failure has batches after it.
var shortParams = map[string]string{"StreamBatchSize": "300"}

func withParams(extra map[string]string) map[string]string {
	p := map[string]string{}
	for k, v := range shortParams {
		p[k] = v
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// TestSoakShort runs every fault on its own and all of them mixed, each
// through the real function, and requires that nothing is lost, nothing
// but TTL deletions is archived and no invocation runs past its deadline;
// each case also checks that its fault did happen.
func TestSoakShort(t *testing.T) {
	tests := []struct {
		name     string
		scenario Scenario
		filter   bool
		check    func(t *testing.T, v *Verdict)
	}{
		{
			name:     "no faults",
			scenario: Scenario{Timeout: 3 * time.Second},
			check: func(t *testing.T, v *Verdict) {
				if v.Archived != v.TTLGenerated || v.DuplicateLines != 0 || v.InOnFailure != 0 {
					t.Errorf("archived %d of %d with %d duplicates and %d in the destination, want all once and none there",
						v.Archived, v.TTLGenerated, v.DuplicateLines, v.InOnFailure)
				}
			},
		},
		{
			name:     "template filter applied",
			scenario: Scenario{Timeout: 3 * time.Second},
			filter:   true,
			check: func(t *testing.T, v *Verdict) {
				if v.Records != v.TTLGenerated {
					t.Errorf("%d records reached the function, want only the %d TTL deletions", v.Records, v.TTLGenerated)
				}
				if v.Archived != v.TTLGenerated {
					t.Errorf("archived %d of %d", v.Archived, v.TTLGenerated)
				}
			},
		},
		{
			name:     "1% of records fail",
			scenario: Scenario{Timeout: 3 * time.Second, Firehose: Always(firehoselocal.FailRecordsRate(0.01, 1))},
			check:    wantFirehose(func(s FirehoseStats) bool { return s.RecordsFailed > 0 }, "records failed"),
		},
		{
			name:     "50% of records fail",
			scenario: Scenario{Timeout: 3 * time.Second, Firehose: Always(firehoselocal.FailRecordsRate(0.5, 2))},
			check:    wantFirehose(func(s FirehoseStats) bool { return s.RecordsFailed > 500 }, "many records failed"),
		},
		{
			name:     "whole calls fail with 500",
			scenario: Scenario{Timeout: 3 * time.Second, Firehose: Always(CallFaults{Fail: 0.3, Seed: 3}.Func())},
			check:    wantFirehose(func(s FirehoseStats) bool { return s.CallsFailed > 0 }, "calls failed"),
		},
		{
			name:     "whole calls throttled",
			scenario: Scenario{Timeout: 3 * time.Second, Firehose: Always(CallFaults{Throttle: 0.4, Seed: 4}.Func())},
			check:    wantFirehose(func(s FirehoseStats) bool { return s.CallsFailed > 0 }, "calls throttled"),
		},
		{
			name:     "connection resets",
			scenario: Scenario{Timeout: 3 * time.Second, Firehose: Always(CallFaults{Reset: 0.3, Seed: 5}.Func())},
			check:    wantFirehose(func(s FirehoseStats) bool { return s.Resets > 0 }, "connections reset"),
		},
		{
			name: "latency spikes past the deadline",
			scenario: Scenario{Timeout: 3 * time.Second,
				Firehose: Always(CallFaults{Spike: 0.15, SpikeLatency: 30 * time.Second, Seed: 6}.Func())},
			check: func(t *testing.T, v *Verdict) {
				if v.Mapping.PartialResponses == 0 {
					t.Errorf("no partial batch responses: the spikes did not outlast an invocation")
				}
			},
		},
		{
			name:     "function killed mid-invocation",
			scenario: Scenario{Timeout: 3 * time.Second, Kill: KillRate(0.3, 100*time.Millisecond, 7)},
			check: func(t *testing.T, v *Verdict) {
				if v.Functions.Killed == 0 || v.Mapping.FunctionErrors < int(v.Functions.Killed) {
					t.Errorf("killed %d invocations, mapping saw %d function errors: want kills, each a function error",
						v.Functions.Killed, v.Mapping.FunctionErrors)
				}
			},
		},
		{
			name: "deadline of two seconds under slow throttling Firehose",
			scenario: Scenario{Timeout: 2 * time.Second, Firehose: Always(firehoselocal.Compose(
				firehoselocal.Latency(200*time.Millisecond), firehoselocal.FailRecordsRate(0.25, 8)))},
			check: wantFirehose(func(s FirehoseStats) bool { return s.RecordsFailed > 0 }, "records failed"),
		},
		{
			// Firehose is down for longer than 1+MaximumRetryAttempts
			// invocations last: the first batch of each shard exhausts its
			// retries and goes to the on-failure destination; the rest is
			// archived once Firehose is back. MaxRetryAttempts is cut to 2
			// (a value the template accepts) to keep the case short.
			name: "Firehose down past all retries",
			scenario: Scenario{Timeout: 2 * time.Second, Firehose: Outage(0, 7*time.Second),
				Params: map[string]string{"MaxRetryAttempts": "2"}},
			check: checkDown,
		},
		{
			name: "all faults mixed",
			scenario: Scenario{
				Timeout: 3 * time.Second,
				Firehose: Plan(
					Always(firehoselocal.FailRecordsRate(0.2, 9)),
					Always(CallFaults{Fail: 0.05, Throttle: 0.05, Reset: 0.05, Spike: 0.03, SpikeLatency: 30 * time.Second, Seed: 9}.Func()),
					Outage(1500*time.Millisecond, 2*time.Second),
				),
				Kill: KillRate(0.1, 100*time.Millisecond, 9),
			},
			check: func(t *testing.T, v *Verdict) {
				fh := v.Firehose
				if fh.RecordsFailed == 0 || fh.CallsFailed == 0 || fh.Resets == 0 {
					t.Errorf("firehose %+v: want failed records, failed calls and resets", fh)
				}
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sc := tt.scenario
			sc.Name = tt.name
			sc.Params = withParams(sc.Params)
			v, err := Run(context.Background(), Options{
				Bootstrap:         bootstrap,
				Dir:               t.TempDir(),
				Scenario:          sc,
				Workload:          shortWorkload(uint64(100 + i)),
				ApplyFilter:       tt.filter,
				CheckContentEvery: 5,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var out strings.Builder
			v.Print(&out)
			t.Log("\n" + out.String())
			if err := v.Err(); err != nil {
				t.Error(err)
			}
			if v.TTLGenerated == 0 || v.Found.ContentChecked == 0 && v.Archived > 0 {
				t.Errorf("generated %d TTL items, checked %d in full: the soak checked nothing", v.TTLGenerated, v.Found.ContentChecked)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

func wantFirehose(ok func(FirehoseStats) bool, what string) func(*testing.T, *Verdict) {
	return func(t *testing.T, v *Verdict) {
		t.Helper()
		if !ok(v.Firehose) {
			t.Errorf("firehose %+v: want %s", v.Firehose, what)
		}
	}
}

// checkDown: every TTL item is archived or in the on-failure destination
// with the whole stream record (Verdict.Err checks each payload record
// byte for byte against the stream), and nowhere else; some are in the
// destination only.
func checkDown(t *testing.T, v *Verdict) {
	t.Helper()
	if v.OnFailureOnly == 0 || v.Mapping.OnFailureBatches == 0 {
		t.Errorf("no batch reached the on-failure destination (%d batches, %d items only there): the outage did not outlast the retries",
			v.Mapping.OnFailureBatches, v.OnFailureOnly)
	}
	if got := v.Archived + v.OnFailureOnly; got != v.TTLGenerated || v.Lost != 0 {
		t.Errorf("archived %d + only in the destination %d = %d, lost %d; want all %d", v.Archived, v.OnFailureOnly, got, v.Lost, v.TTLGenerated)
	}
	f := v.Found
	if f.PayloadMismatches != 0 || f.OnFailureBadLines != 0 || f.FirehoseErrorObjects != 0 || f.ForeignObjects != 0 {
		t.Errorf("found %+v: want every on-failure payload whole and nothing outside the archive and the destination", f)
	}
	if f.OnFailureRecords != v.Mapping.OnFailureRecords {
		t.Errorf("destination holds %d records, the mapping discarded %d", f.OnFailureRecords, v.Mapping.OnFailureRecords)
	}
}

var (
	soakItems     = flag.Int("soak.items", 0, "TestSoakLong: TTL items to generate (0 skips the long soak)")
	soakShards    = flag.Int("soak.shards", 8, "TestSoakLong: stream shards")
	soakProcesses = flag.Int("soak.processes", 0, "TestSoakLong: function processes (0: one per shard)")
	soakReport    = flag.String("soak.report", "", "TestSoakLong: write the JSON report to this file")
	soakDir       = flag.String("soak.dir", "", "TestSoakLong: keep the local S3 data in this folder (default: a temporary one)")
	soakFnLog     = flag.String("soak.fnlog", "", "TestSoakLong: write the function processes' log and metric lines to this file")
)

// longScenario mixes every fault over the whole run, with a deadline of
// five seconds: 5% of records failing (throttled), 1% of calls failing
// with 500, 2% throttled whole, 1% reset, 0.1% stalled past the deadline,
// a Firehose outage of 60 s (longer than 1+10 invocations of 5 s) 45 s
// into the run, and 0.5% of invocations killed mid-way.
func longScenario() Scenario {
	return Scenario{
		Name:    "long mixed faults",
		Timeout: 5 * time.Second,
		Firehose: Plan(
			Always(firehoselocal.FailRecordsRate(0.05, 11)),
			Always(CallFaults{Fail: 0.01, Throttle: 0.02, Reset: 0.01, Spike: 0.001, SpikeLatency: time.Minute, Seed: 11}.Func()),
			Outage(45*time.Second, 60*time.Second),
		),
		Kill: KillRate(0.005, 300*time.Millisecond, 11),
	}
}

// TestSoakLong is the long soak (make soak): -soak.items TTL deletions over
// -soak.shards shards with every fault mixed in. It fails on anything lost,
// non-TTL records archived, invocations past their deadline, or duplicates
// above 2%.
func TestSoakLong(t *testing.T) {
	if *soakItems == 0 {
		t.Skip("the long soak runs with -soak.items=N (make soak)")
	}
	dir := *soakDir
	if dir == "" {
		dir = t.TempDir()
	}
	var fnlog io.Writer
	if *soakFnLog != "" {
		f, err := os.Create(*soakFnLog)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		fnlog = f
	}
	v, err := Run(context.Background(), Options{
		Bootstrap:      bootstrap,
		Dir:            dir,
		FunctionOutput: fnlog,
		Scenario:       longScenario(),
		Workload: Workload{
			Seed: 2025, Shards: *soakShards, TTLItems: *soakItems, Tables: []string{"Orders", "Sessions"},
			Days: 3,
		},
		Processes:         *soakProcesses,
		CheckContentEvery: 100,
		Progress:          os.Stderr,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	v.Print(os.Stderr)
	if *soakReport != "" {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(*soakReport), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*soakReport, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Err(); err != nil {
		t.Error(err)
	}
	if v.DuplicateShare > 0.02 {
		t.Errorf("duplicates %.2f%% of archived items, want under 2%%", 100*v.DuplicateShare)
	}
	if v.InOnFailure == 0 || v.Functions.Killed == 0 || v.Firehose.Resets == 0 {
		t.Errorf("on-failure %d, killed %d, resets %d: a fault of the mix did not happen", v.InOnFailure, v.Functions.Killed, v.Firehose.Resets)
	}
}
