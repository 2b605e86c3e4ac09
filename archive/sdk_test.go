package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// TestArchiveThroughSDK drives the SDK's real Firehose client against the
// stand-in speaking Firehose's JSON protocol on loopback, so that request
// shape, signing and error decoding are the real ones.
func TestArchiveThroughSDK(t *testing.T) {
	tests := []struct {
		name   string
		faults firehoselocal.FaultFunc
		pack   bool
	}{
		{"no faults", nil, false},
		{"packed", nil, true},
		{"30% of records throttled", firehoselocal.FailRecordsRate(0.3, 1), false},
		{"calls failing", firehoselocal.FailCalls(3), false},
		{"calls throttled", firehoselocal.ThrottleCalls(3), false},
		{"connections reset", firehoselocal.ResetCalls(2), false},
		{"slow calls", firehoselocal.Latency(20 * time.Millisecond), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &firehoselocal.MemorySink{}
			srv := firehoselocal.New(firehoselocal.WithStream("ttl-archive", sink))
			if tt.faults != nil {
				srv.SetFaults(tt.faults)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = srv.Close() }()
			client := firehose.New(firehose.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL()),
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			})
			a := newArchiver(t, client, func(c *archive.Config) { c.Pack = tt.pack })
			recs := streamgen.New(streamgen.Options{Seed: 11, TTLShare: 0.8, ItemBytes: 1500}).Batch(900)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := a.Archive(ctx, streamgen.Event(recs))
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if len(res.Response.BatchItemFailures) != 0 {
				t.Fatalf("BatchItemFailures = %d records, want none; problems %v", len(res.Response.BatchItemFailures), res.Problems)
			}
			got := map[string]int{}
			for _, line := range parseRecords(t, sink.Records()) {
				got[line.SequenceNumber]++
			}
			for _, s := range ttlSeqs(recs) {
				if got[s] == 0 {
					t.Errorf("record %s not delivered", s)
				}
			}
			if len(got) != len(ttlSeqs(recs)) {
				t.Errorf("delivered %d distinct records, want %d (the TTL ones)", len(got), len(ttlSeqs(recs)))
			}
		})
	}
}
