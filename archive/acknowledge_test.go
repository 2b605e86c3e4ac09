package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// answer is how Firehose, or a faulty proxy before it, answers a call of
// n records: the response body, and which records it really stored.
type answer func(n int) (body string, stored []bool)

// entry is one element of RequestResponses as it goes on the wire.
type entry struct {
	RecordId     string `json:",omitempty"` //nolint:revive // Firehose's member name
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

func answerBody(failedPutCount int, entries []entry) string {
	b, _ := json.Marshal(struct {
		FailedPutCount   int
		RequestResponses []entry
	}{failedPutCount, entries})
	return string(b)
}

// honest stores every record and says so.
func honest(n int) (string, []bool) {
	entries := make([]entry, n)
	stored := make([]bool, n)
	for i := range entries {
		entries[i] = entry{RecordId: fmt.Sprint("id-", i)}
		stored[i] = true
	}
	return answerBody(0, entries), stored
}

// The answers of issue 13's table, each of which lost records when the
// archiver trusted FailedPutCount.
var faultyAnswers = []struct {
	name   string
	answer answer
}{
	{"HTTP 200 with body {}, nothing stored", func(n int) (string, []bool) { return `{}`, make([]bool, n) }},
	{"HTTP 200 with an empty body, nothing stored", func(n int) (string, []bool) { return ``, make([]bool, n) }},
	{"FailedPutCount 0, some entries with an ErrorCode", func(n int) (string, []bool) {
		entries, stored := make([]entry, n), make([]bool, n)
		for i := range entries {
			if i%5 == 0 {
				entries[i] = entry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."}
				continue
			}
			entries[i], stored[i] = entry{RecordId: fmt.Sprint("id-", i)}, true
		}
		return answerBody(0, entries), stored
	}},
	{"FailedPutCount > 0, failed entries with neither ErrorCode nor RecordId", func(n int) (string, []bool) {
		entries, stored := make([]entry, n), make([]bool, n)
		failed := 0
		for i := range entries {
			if i%3 == 1 {
				failed++ // entry left empty
				continue
			}
			entries[i], stored[i] = entry{RecordId: fmt.Sprint("id-", i)}, true
		}
		return answerBody(failed, entries), stored
	}},
	{"FailedPutCount 0, RequestResponses 5 entries short", func(n int) (string, []bool) {
		k := max(n-5, 0)
		entries, stored := make([]entry, k), make([]bool, n)
		for i := range entries {
			entries[i], stored[i] = entry{RecordId: fmt.Sprint("id-", i)}, true
		}
		return answerBody(0, entries), stored
	}},
}

// answeringFirehose answers each call with faulty (for the first
// faultyCalls calls; every call when faultyCalls is negative) or honestly,
// keeps the records the answer really stored, and decodes the body as the
// SDK does: an empty body or `{}` is FailedPutCount 0 with no entries.
type answeringFirehose struct {
	faulty      answer
	faultyCalls int

	mu     sync.Mutex
	calls  int
	stored [][]byte
}

func (f *answeringFirehose) answer(records [][]byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	ans := honest
	if f.faultyCalls < 0 || f.calls <= f.faultyCalls {
		ans = f.faulty
	}
	body, stored := ans(len(records))
	for i, ok := range stored {
		if ok {
			f.stored = append(f.stored, bytes.Clone(records[i]))
		}
	}
	return body
}

func (f *answeringFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	records := make([][]byte, len(in.Records))
	for i, r := range in.Records {
		records[i] = r.Data
	}
	body := f.answer(records)
	var wire struct {
		FailedPutCount   *int32
		RequestResponses []entry
	}
	if body != "" {
		if err := json.Unmarshal([]byte(body), &wire); err != nil {
			return nil, err
		}
	}
	out := &firehose.PutRecordBatchOutput{FailedPutCount: wire.FailedPutCount}
	for _, e := range wire.RequestResponses {
		out.RequestResponses = append(out.RequestResponses, types.PutRecordBatchResponseEntry{
			RecordId: nilIfEmpty(e.RecordId), ErrorCode: nilIfEmpty(e.ErrorCode), ErrorMessage: nilIfEmpty(e.ErrorMessage)})
	}
	return out, nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// storedSeqs returns the sequence numbers of the lines stored.
func (f *answeringFirehose) storedSeqs(t *testing.T) map[string]bool {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	got := map[string]bool{}
	for _, line := range parseRecords(t, f.stored) {
		got[line.SequenceNumber] = true
	}
	return got
}

// checkNothingLost asserts that every TTL record is stored or named in
// the batch response, and returns how many were named.
func checkNothingLost(t *testing.T, recs []streamgen.Record, res archive.Result, stored map[string]bool) int {
	t.Helper()
	reported := map[string]bool{}
	for _, f := range res.Response.BatchItemFailures {
		reported[f.ItemIdentifier] = true
	}
	lost := 0
	for _, s := range ttlSeqs(recs) {
		if !stored[s] && !reported[s] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d TTL records neither stored nor in batchItemFailures, want 0 (archived %d, failed %d)", lost, res.Counts.Archived, res.Counts.Failed)
	}
	if got, want := res.Counts.Archived+res.Counts.Failed, len(ttlSeqs(recs)); got != want {
		t.Errorf("archived %d + failed %d = %d, want %d TTL records", res.Counts.Archived, res.Counts.Failed, got, want)
	}
	return len(reported)
}

// TestArchiveVerifiesFirehoseAnswers runs each answer of issue 13's table
// through a fake client, on every call (the records can only end in the
// batch response) and on the first call only (the resend must store them).
func TestArchiveVerifiesFirehoseAnswers(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 13, TTLShare: 0.8}).Batch(900)
	for _, tt := range faultyAnswers {
		for _, mode := range []struct {
			name        string
			faultyCalls int
		}{{"every call", -1}, {"first call", 1}} {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				f := &answeringFirehose{faulty: tt.answer, faultyCalls: mode.faultyCalls}
				var log bytes.Buffer
				a := newArchiver(t, f, nil, archive.WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
				res, err := a.Archive(context.Background(), streamgen.Event(recs))
				if err != nil {
					t.Fatalf("Archive: %v", err)
				}
				stored := f.storedSeqs(t)
				failed := checkNothingLost(t, recs, res, stored)
				if mode.faultyCalls > 0 && failed != 0 {
					t.Errorf("batchItemFailures = %d records after one faulty answer, want 0 (the resend stores them); problems %v", failed, res.Problems)
				}
				if strings.Contains(tt.name, "nothing stored") && mode.faultyCalls < 0 && failed != len(ttlSeqs(recs)) {
					t.Errorf("batchItemFailures = %d records when nothing is ever stored, want all %d", failed, len(ttlSeqs(recs)))
				}
				if !strings.Contains(log.String(), `"records_sent":`) || !strings.Contains(log.String(), `"entries_received":`) {
					t.Errorf("log = %s, want the protocol error logged with the call's details", log.String())
				}
			})
		}
	}
}

// TestArchiveVerifiesFirehoseAnswersOnTheWire sends through the SDK's real
// client (and the archiver's streamed request body) to a loopback server
// that answers with the bodies of issue 13's table.
func TestArchiveVerifiesFirehoseAnswersOnTheWire(t *testing.T) {
	recs := streamgen.New(streamgen.Options{Seed: 14, TTLShare: 0.8}).Batch(900)
	for _, tt := range faultyAnswers {
		t.Run(tt.name, func(t *testing.T) {
			f := &answeringFirehose{faulty: tt.answer, faultyCalls: 2}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in struct{ Records []struct{ Data []byte } }
				if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				records := make([][]byte, len(in.Records))
				for i, rec := range in.Records {
					records[i] = rec.Data
				}
				body := f.answer(records)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			client := firehose.New(firehose.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			})
			a := newArchiver(t, client, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := a.Archive(ctx, streamgen.Event(recs))
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if failed := checkNothingLost(t, recs, res, f.storedSeqs(t)); failed != 0 {
				t.Errorf("batchItemFailures = %d records, want 0 (resends store them); problems %v", failed, res.Problems)
			}
			f.mu.Lock()
			calls := f.calls
			f.mu.Unlock()
			if calls <= 3 {
				t.Errorf("%d calls, want more than the 3 a batch of 900 needs: the faulty answers must be resent", calls)
			}
		})
	}
}
