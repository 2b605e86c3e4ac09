package bench

import (
	"math"
	"testing"
)

func TestMeasureBill(t *testing.T) {
	p, err := MeasureBill(200, 0, 1200, 1000, 1)
	if err != nil {
		t.Fatalf("MeasureBill: %v", err)
	}
	if p.Items != 1200 || p.Invocations != 2 {
		t.Fatalf("MeasureBill: %d items in %d invocations, want 1,200 in 2", p.Items, p.Invocations)
	}
	// Lines of a few hundred bytes: unpacked, each is one record billed
	// 5,120 bytes.
	if p.Unpacked.Records != 1200 || p.Unpacked.Billed != 1200*BillingUnit {
		t.Errorf("unpacked: %d records billed %d bytes, want 1,200 billed %d", p.Unpacked.Records, p.Unpacked.Billed, 1200*BillingUnit)
	}
	// Packed: at most 500 lines a record, never across batches: 500+500
	// of the first batch, 200 of the second.
	if p.Packed.Records != 3 {
		t.Errorf("packed: %d records, want 3", p.Packed.Records)
	}
	if p.Packed.Billed < p.LineBytes || p.Packed.Billed > p.LineBytes+3*BillingUnit {
		t.Errorf("packed: billed %d for %d raw bytes, want within 3 × 5,120 above", p.Packed.Billed, p.LineBytes)
	}
	if p.PipesEvents != 1200 {
		t.Errorf("Pipes events = %d, want one per stream record", p.PipesEvents)
	}
}

func TestPrices(t *testing.T) {
	b := BillPoint{Items: 1000, Invocations: 1, LineBytes: 1000 * 1000, StreamBytes: 2000 * 1000,
		Unpacked:    Tally{Calls: 3, Records: 1000, Bytes: 1000 * 1000, Billed: 1000 * BillingUnit},
		Packed:      Tally{Calls: 1, Records: 2, Bytes: 1000 * 1000, Billed: 1000*1000 + 2000},
		PipesEvents: 1000, PipesBilled: 1000 * BillingUnit}
	m := CostModel{Bill: b, CPUPerItemMS: 0.01, ItemsPerCall: 1000, MemoryMB: 1769, Concurrency: 4}
	r := m.Price()
	// A million items: 1,000 invocations of 10 ms CPU at one vCPU plus one
	// round trip each.
	if want := 1000 * PriceLambdaRequest; math.Abs(r.LambdaRequests-want) > 1e-12 {
		t.Errorf("LambdaRequests = %v, want %v", r.LambdaRequests, want)
	}
	if want := 10 + AssumedFirehoseRTTMS; math.Abs(r.DurationMS-want) > 1e-9 {
		t.Errorf("DurationMS = %v, want %v", r.DurationMS, want)
	}
	if want := 1e6 * BillingUnit / GB * PriceFirehoseGB; math.Abs(r.FirehoseIngestion-want) > 1e-9 {
		t.Errorf("FirehoseIngestion = %v, want %v", r.FirehoseIngestion, want)
	}
	m.Packed = true
	if rp := m.Price(); rp.FirehoseIngestion >= r.FirehoseIngestion/4 {
		t.Errorf("packed ingestion %v, want under a quarter of unpacked %v", rp.FirehoseIngestion, r.FirehoseIngestion)
	}
	pp := PipesPrice("pipes", b)
	if want := 1e6 * PricePipesRequest; math.Abs(pp.Pipes-want) > 1e-9 {
		t.Errorf("Pipes = %v, want %v", pp.Pipes, want)
	}
}
