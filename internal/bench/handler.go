package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// Handler names, as the report shows them.
const (
	Baseline      = "json.Unmarshal into struct{ Records []json.RawMessage }"
	Fast          = "archiver (json)"
	FastDynamoDB  = "archiver (dynamodb-json)"
	FastPacked    = "archiver (json, packed)"
	ReferencePath = "reference handler (events + attributevalue + encoding/json)"
)

// Handler handles one batch; the error is for a handler that did not do
// its work.
type Handler struct {
	Name   string
	Handle func(payload []byte) error
}

// Handlers returns the baseline, the archiver in its configurations and
// the reference handler, each sending to a Firehose fake that does
// nothing.
func Handlers(names ...string) ([]Handler, error) {
	all := map[string]func(payload []byte) error{
		Baseline: func(payload []byte) error {
			var v struct{ Records []json.RawMessage }
			return json.Unmarshal(payload, &v)
		},
		ReferencePath: invokeFunc((&ReferenceHandler{Client: &Firehose{}, Stream: "bench"}).Invoke),
	}
	for name, cfg := range map[string]archive.Config{
		Fast:         {Format: archive.FormatJSON},
		FastDynamoDB: {Format: archive.FormatDynamoDBJSON},
		FastPacked:   {Format: archive.FormatJSON, Pack: true},
	} {
		cfg.StreamName, cfg.BatchSize, cfg.Concurrency = "bench", archive.DefaultBatchSize, archive.DefaultConcurrency
		a, err := archive.New(&Firehose{}, cfg)
		if err != nil {
			return nil, err
		}
		all[name] = invokeFunc(a.Invoke)
	}
	var hs []Handler
	for _, n := range names {
		h, ok := all[n]
		if !ok {
			return nil, fmt.Errorf("no handler %q", n)
		}
		hs = append(hs, Handler{Name: n, Handle: h})
	}
	return hs, nil
}

func invokeFunc(invoke func(context.Context, []byte) ([]byte, error)) func([]byte) error {
	return func(payload []byte) error {
		_, err := invoke(context.Background(), payload)
		return err
	}
}

// BenchBatch returns the event of n records the CPU targets use: TTL
// deletions of mixed attribute types, about 620 bytes each.
func BenchBatch(n int) []byte {
	return streamgen.Event(streamgen.New(streamgen.Options{Seed: BenchSeed, ItemBytes: BenchItemBytes}).Batch(n))
}

// HandlerCosts is the cost of each handler on one payload, repeated.
type HandlerCosts struct {
	Records, PayloadBytes int
	Names                 []string
	Costs                 map[string]Costs // by handler name, one per repetition
}

// MeasureHandlers measures each handler on payload reps times, side by
// side: in each repetition every handler runs once (calls until minCPU
// is spent), in an order that rotates, so that a slow moment of the
// machine falls on all of them alike.
func MeasureHandlers(hs []Handler, payload []byte, records, reps int, minCPU time.Duration) (HandlerCosts, error) {
	out := HandlerCosts{Records: records, PayloadBytes: len(payload), Costs: map[string]Costs{}}
	for _, h := range hs {
		out.Names = append(out.Names, h.Name)
		if err := h.Handle(payload); err != nil { // warm up, and check it works
			return out, fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	for r := range reps {
		for i := range hs {
			h := hs[(i+r)%len(hs)]
			c := MeasureCost(func() { _ = h.Handle(payload) }, 2, minCPU)
			out.Costs[h.Name] = append(out.Costs[h.Name], c)
		}
	}
	return out, nil
}

// PerRecord returns a handler's CPU per record in nanoseconds, one value
// per repetition.
func (hc HandlerCosts) PerRecord(name string) Sample {
	return hc.Costs[name].CPU().Map(func(v float64) float64 { return v * 1e6 / float64(hc.Records) })
}

// RatioTo returns, per repetition, a handler's CPU over another's.
func (hc HandlerCosts) RatioTo(name, base string) Sample {
	return Ratio(hc.Costs[name].CPU(), hc.Costs[base].CPU())
}
