package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/archive/reference"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// bootstrap is the function built once for these tests, for this machine.
var bootstrap string

func TestMain(m *testing.M) {
	if os.Getenv("TTL_ARCHIVER_PRINT_LINES") != "" {
		os.Exit(m.Run()) // a child of TestMetricsSurviveAllowedLogLevels needs no bootstrap
	}
	os.Exit(local.RunWithBootstrap(m, &bootstrap))
}

// startStack starts the local stack and the function sending to it.
func startStack(t *testing.T, params map[string]string, env ...string) (*local.Stack, *local.Function) {
	t.Helper()
	stack, err := local.Start(local.Options{Dir: t.TempDir(), Params: params})
	if err != nil {
		t.Fatalf("local.Start: %v", err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	fn, err := stack.StartFunction(context.Background(), local.FunctionOptions{Bootstrap: bootstrap, Env: env})
	if err != nil {
		t.Fatalf("StartFunction: %v", err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	return stack, fn
}

func invoke(t *testing.T, fn *local.Function, payload []byte, timeout time.Duration) archive.BatchResponse {
	t.Helper()
	res, err := fn.Invoke(context.Background(), payload, timeout)
	if err != nil {
		t.Fatalf("Invoke: %v\nstderr: %s", err, fn.Process.Stderr())
	}
	if res.Error != nil {
		t.Fatalf("Invoke: function error %s: %s", res.Error.Type, res.Error.Message)
	}
	if res.Late {
		t.Errorf("Invoke answered after its deadline (%v)", res.Duration)
	}
	var resp archive.BatchResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatalf("response %q: %v", res.Payload, err)
	}
	return resp
}

// archived flushes the stack and returns every archive line in S3, with
// the folder (prefix) of the object it is in.
func archived(t *testing.T, stack *local.Stack) (lines []string, dirs []string) {
	t.Helper()
	ctx := context.Background()
	if err := stack.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	client := stack.S3.Client()
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(local.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(local.Bucket), Key: o.Key})
			if err != nil {
				t.Fatalf("GetObject %s: %v", key, err)
			}
			zr, err := gzip.NewReader(obj.Body)
			if err != nil {
				t.Fatalf("object %s is not gzipped: %v", key, err)
			}
			sc := bufio.NewScanner(zr)
			sc.Buffer(nil, 2<<20)
			for sc.Scan() {
				lines = append(lines, sc.Text())
				dirs = append(dirs, key[:strings.LastIndexByte(key, '/')+1])
			}
			if err := sc.Err(); err != nil {
				t.Fatalf("read %s: %v", key, err)
			}
			_ = obj.Body.Close()
		}
	}
	return lines, dirs
}

// wantDir is the folder a line belongs in: the stack's prefix with the
// table and the deletion date.
func wantDir(l archive.Line) string {
	dt := "unknown"
	if l.DeletedAt != nil {
		dt = l.DeletedAt.UTC().Format("2006-01-02")
	}
	table := l.Table
	if table == "" {
		table = "unknown"
	}
	return "archive/table=" + table + "/dt=" + dt + "/"
}

// TestSampleEventsEndToEnd sends every sample event through the built
// bootstrap, the Runtime API, the Firehose stand-in and S3, and finds in
// the objects exactly the golden lines, each once, under the right table
// and date prefixes.
func TestSampleEventsEndToEnd(t *testing.T) {
	for _, format := range []string{"json", "dynamodb-json"} {
		t.Run(format, func(t *testing.T) {
			stack, fn := startStack(t, nil, "ARCHIVE_FORMAT="+format)
			events := sampleEvents(t)
			var want []string
			for _, ev := range events {
				payload, err := os.ReadFile(ev)
				if err != nil {
					t.Fatal(err)
				}
				if resp := invoke(t, fn, payload, 10*time.Second); len(resp.BatchItemFailures) != 0 {
					t.Errorf("%s: BatchItemFailures = %v, want none", ev, resp.BatchItemFailures)
				}
				golden, err := os.ReadFile(filepath.Join("..", "archive", "testdata", "golden", strings.TrimSuffix(filepath.Base(ev), ".json")+"."+format+".jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Split(strings.TrimSuffix(string(golden), "\n"), "\n") {
					if l != "" {
						want = append(want, l)
					}
				}
			}
			lines, dirs := archived(t, stack)
			sort.Strings(want)
			got := append([]string(nil), lines...)
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("archived lines differ from the golden lines:\ngot %d:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
			}
			for i, l := range lines {
				parsed, err := archive.ParseLine([]byte(l))
				if err != nil {
					t.Fatalf("ParseLine: %v", err)
				}
				if dirs[i] != wantDir(parsed) {
					t.Errorf("line %s is under %s, want %s", parsed.EventID, dirs[i], wantDir(parsed))
				}
			}
			// One log line and one metrics line of totals per invocation
			// on stdout (besides a metrics line per table).
			// They come through a pipe that os/exec copies on its own
			// goroutine, so the last may arrive after the last answer:
			// wait for them (more than expected still fails below).
			var out string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if out = fn.Process.Stdout(); strings.Count(out, totalsMetric) >= len(events) && strings.Count(out, `"message":"archived batch"`) >= len(events) {
					break
				}
			}
			if n := strings.Count(out, `"message":"archived batch"`); n != len(events) {
				t.Errorf("stdout has %d 'archived batch' log lines, want %d:\n%s", n, len(events), out)
			}
			if n := strings.Count(out, totalsMetric); n != len(events) {
				t.Errorf("stdout has %d metrics lines with the invocation's totals, want %d", n, len(events))
			}
		})
	}
}

// checkGenerated checks that the archive holds each TTL record of recs
// exactly once (at least once when dupsOK), with the item the reference
// conversion gives, and nothing else.
func checkGenerated(t *testing.T, recs []streamgen.Record, lines []string, dupsOK bool) {
	t.Helper()
	byEvent := map[string]streamgen.Record{}
	for _, r := range recs {
		byEvent[r.EventID] = r
	}
	seen := map[string]int{}
	for _, l := range lines {
		parsed, err := archive.ParseLine([]byte(l))
		if err != nil {
			t.Fatalf("ParseLine: %v", err)
		}
		r, ok := byEvent[parsed.EventID]
		if !ok || r.Kind != streamgen.TTLRemove {
			t.Errorf("archived %s, which is not a TTL deletion of the batch", parsed.EventID)
			continue
		}
		seen[parsed.EventID]++
		if seen[parsed.EventID] > 1 {
			continue
		}
		want, err := reference.PlainJSON(r.OldImage)
		if err != nil {
			t.Fatalf("reference.PlainJSON: %v", err)
		}
		if !bytes.Equal(parsed.Item, want) {
			t.Errorf("item of %s = %s, want %s", parsed.EventID, parsed.Item, want)
		}
	}
	for _, r := range recs {
		if r.Kind != streamgen.TTLRemove {
			continue
		}
		if n := seen[r.EventID]; n == 0 || (n > 1 && !dupsOK) {
			t.Errorf("record %s archived %d times, want 1", r.Seq, n)
		}
	}
}

func TestGeneratedBatchesEndToEnd(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		env    []string
	}{
		{"unpacked", nil, nil},
		{"packed", map[string]string{"PackRecords": "true"}, []string{"PACK_RECORDS=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, fn := startStack(t, tt.params, tt.env...)
			g := streamgen.New(streamgen.Options{Seed: 21, TTLShare: 0.7, ItemBytes: 500, MaxItemBytes: 3000})
			var all []streamgen.Record
			for range 3 {
				recs := g.Batch(1000)
				all = append(all, recs...)
				if resp := invoke(t, fn, streamgen.Event(recs), 30*time.Second); len(resp.BatchItemFailures) != 0 {
					t.Fatalf("BatchItemFailures = %d, want none", len(resp.BatchItemFailures))
				}
			}
			lines, _ := archived(t, stack)
			checkGenerated(t, all, lines, false)
		})
	}
}

// TestFirehoseFailuresEndToEnd: with Firehose failing some records for
// good, the function answers in time with exactly those records; the
// second invocation, from the lowest reported sequence number as Lambda
// resumes, completes the archive.
func TestFirehoseFailuresEndToEnd(t *testing.T) {
	stack, fn := startStack(t, nil)
	recs := streamgen.New(streamgen.Options{Seed: 31, TTLShare: 0.6}).Batch(600)
	poison := map[string]bool{}
	for i, r := range recs {
		if r.Kind == streamgen.TTLRemove && i%97 == 5 {
			poison[r.Seq] = true
		}
	}
	stack.Firehose.SetFaults(func(c firehoselocal.Call) firehoselocal.Fault {
		var f firehoselocal.Fault
		for i, d := range c.Data {
			for seq := range poison {
				if bytes.Contains(d, []byte(`"sequence_number":"`+seq+`"`)) {
					f.FailRecords = append(f.FailRecords, firehoselocal.RecordFailure{Index: i})
				}
			}
		}
		return f
	})
	resp := invoke(t, fn, streamgen.Event(recs), 3*time.Second)
	got := map[string]bool{}
	lowest := len(recs)
	for _, f := range resp.BatchItemFailures {
		got[f.ItemIdentifier] = true
	}
	for i, r := range recs {
		if got[r.Seq] && i < lowest {
			lowest = i
		}
	}
	if len(got) != len(poison) {
		t.Fatalf("reported %d failures, want the %d poisoned records", len(got), len(poison))
	}
	for seq := range poison {
		if !got[seq] {
			t.Errorf("poisoned record %s not reported", seq)
		}
	}
	stack.Firehose.SetFaults(nil)
	if resp := invoke(t, fn, streamgen.Event(recs[lowest:]), 10*time.Second); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("second invocation: BatchItemFailures = %v, want none", resp.BatchItemFailures)
	}
	lines, _ := archived(t, stack)
	checkGenerated(t, recs, lines, true)
}

func TestBootstrapInitFailure(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantMsg string
	}{
		{"batch size out of range", []string{"BATCH_SIZE=0"}, "BATCH_SIZE"},
		{"stream name missing", []string{"FIREHOSE_STREAM_NAME="}, "FIREHOSE_STREAM_NAME"},
		{"unknown format", []string{"ARCHIVE_FORMAT=csv"}, "ARCHIVE_FORMAT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, err := local.Start(local.Options{Dir: t.TempDir(), Sink: firehoselocal.Discard})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = stack.Close() }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			fn, err := stack.StartFunction(ctx, local.FunctionOptions{Bootstrap: bootstrap, Env: tt.env, Stderr: io.Discard})
			if err == nil {
				_ = fn.Close()
				t.Fatalf("StartFunction with %v succeeded, want an init failure", tt.env)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("init failure = %q, want it to name %s", err, tt.wantMsg)
			}
		})
	}
}

// totalsMetric is in each invocation's metrics line of totals only.
const totalsMetric = `{"Name":"Received","Unit":"Count"}`

// sampleEvents returns the paths of the stream events in ../events: every
// JSON file there but env.json, which is sam local invoke's --env-vars
// file, not a stream event.
func sampleEvents(t *testing.T) []string {
	t.Helper()
	events, _ := filepath.Glob("../events/*.json")
	events = slices.DeleteFunc(events, func(p string) bool { return filepath.Base(p) == "env.json" })
	if len(events) == 0 {
		t.Fatal("no sample events in ../events")
	}
	return events
}
