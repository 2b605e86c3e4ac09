package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// failureRecord returns an on-failure invocation record as an S3
// destination writes it, with the payload as a JSON string (as AWS
// documents it) or as the event object (as some emulators write it).
func failureRecord(t *testing.T, event []byte, payloadAsString bool) []byte {
	t.Helper()
	var payload json.RawMessage = event
	if payloadAsString {
		b, err := json.Marshal(string(event))
		if err != nil {
			t.Fatal(err)
		}
		payload = b
	}
	rec := map[string]any{
		"requestContext":  map[string]any{"requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:archiver", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       "2025-11-23T10:05:00.000Z",
		"DDBStreamBatchInfo": map[string]any{"shardId": "shardId-00000001573689847184-864758bb", "startSequenceNumber": "100000", "endSequenceNumber": "100004",
			"approximateArrivalOfFirstRecord": "2025-11-23T10:00:00Z", "approximateArrivalOfLastRecord": "2025-11-23T10:00:00Z", "batchSize": 5,
			"streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000"},
	}
	if payload != nil {
		rec["payload"] = payload
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFailureRecordEvent(t *testing.T) {
	event := streamEvent(genItems(2), 0)
	tests := []struct {
		name    string
		rec     []byte
		wantErr error
	}{
		{"payload string", failureRecord(t, event, true), nil},
		{"payload object", failureRecord(t, event, false), nil},
		{"no payload (SQS, SNS)", failureRecord(t, nil, false), ErrNoPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseFailureRecord(tt.rec)
			if err != nil {
				t.Fatalf("ParseFailureRecord: %v", err)
			}
			if r.DDBStreamBatchInfo == nil || r.DDBStreamBatchInfo.BatchSize != 5 || r.RequestContext.Condition != "RetryAttemptsExhausted" {
				t.Errorf("ParseFailureRecord: got %+v, want the batch info and condition", r)
			}
			got, err := r.Event()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Event: got %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(compact(t, got), compact(t, event)) {
				t.Errorf("Event: got %.100s, want the stream event %.100s", got, event)
			}
		})
	}
	if _, err := ParseFailureRecord([]byte(`{"Records":[]}`)); err == nil {
		t.Errorf("ParseFailureRecord(a stream event): got nil, want an error")
	}
}

func compact(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRedriveFake(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "aws/lambda/esm/shard/2025/11/23/a"), failureRecord(t, streamEvent(genItems(3), 0), true))
	writeFile(t, filepath.Join(dir, "aws/lambda/esm/shard/2025/11/23/b"), failureRecord(t, streamEvent(genItems(2), 10), false))
	writeFile(t, filepath.Join(dir, "aws/lambda/esm/shard/2025/11/23/c"), failureRecord(t, nil, false))
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var payloads int
	fake := func(_ context.Context, payload []byte) (ArchiveOutcome, error) {
		payloads++
		var ev struct{ Records []json.RawMessage }
		if err := json.Unmarshal(payload, &ev); err != nil {
			return ArchiveOutcome{}, fmt.Errorf("not an event: %v", err)
		}
		out := ArchiveOutcome{Records: len(ev.Records), Archived: len(ev.Records)}
		if len(ev.Records) == 2 { // the second batch keeps one failure
			out.Archived, out.Failed = 1, []string{"100011"}
		}
		return out, nil
	}
	var out, warn bytes.Buffer
	rep, err := Redrive(context.Background(), RedriveOptions{Source: src, Archive: fake, Out: &out, Warn: &warn})
	if !errors.Is(err, ErrRedriveIncomplete) {
		t.Fatalf("Redrive: got %v, want ErrRedriveIncomplete", err)
	}
	if payloads != 2 || rep.Objects != 3 || rep.Records != 5 || rep.Archived != 4 || rep.Failed != 2 {
		t.Errorf("Redrive: %d payloads, report %+v; want 2 payloads, 3 objects, 5 records, 4 archived, 2 failed", payloads, rep)
	}
	for _, w := range []string{"ok ", "/a: 3 records", "FAILED", "sequence numbers 100011", "/c: the record has no payload"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("Redrive output lacks %q:\n%s", w, out.String())
		}
	}
	if !strings.Contains(warn.String(), "shardId-00000001573689847184-864758bb") {
		t.Errorf("Redrive warnings do not name the shard of the failed batch:\n%s", warn.String())
	}
}

func TestRedriveArchiver(t *testing.T) {
	items := genItems(12)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f1"), failureRecord(t, streamEvent(items[:7], 0), true))
	writeFile(t, filepath.Join(dir, "f2.gz"), gz(failureRecord(t, streamEvent(items[7:], 7), true)))
	src, err := archivefs.NewSource(archivefs.Location{Path: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FIREHOSE_STREAM_NAME": "s", "ARCHIVE_FORMAT": "dynamodb-json"}
	cfg, err := archive.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fh := &captureFirehose{}
	a, err := archive.New(fh, cfg, archive.WithBackoff(archive.Backoff{Base: 0, Max: 0, AttemptsWithoutDeadline: 2}))
	if err != nil {
		t.Fatal(err)
	}
	// Run twice: the second run only adds duplicates.
	for run := 1; run <= 2; run++ {
		rep, err := Redrive(context.Background(), RedriveOptions{Source: src, Archive: ArchiverFunc(a)})
		if err != nil || rep.Archived != len(items) || rep.Records != len(items) {
			t.Fatalf("Redrive run %d: %v, %+v; want %d archived", run, err, rep, len(items))
		}
	}
	lines := strings.Split(strings.TrimSpace(fh.data.String()), "\n")
	if len(lines) != 2*len(items) {
		t.Fatalf("Firehose got %d lines, want %d", len(lines), 2*len(items))
	}
	// Restored, the duplicates are dropped and the items are the originals.
	db := dynamo(t)
	table := newTable(t, db)
	rep, err := Run(context.Background(), Options{Source: source(t, fh.data.Bytes(), "dir", true, 100), Table: table, Client: db})
	if err != nil || rep.Duplicates != len(items) || rep.Written != len(items) {
		t.Fatalf("Run: %v, %+v; want %d duplicates and %d written", err, rep.Counts, len(items), len(items))
	}
	ref := newTable(t, db)
	putItems(t, db, ref, items)
	diffTables(t, scan(t, db, table), scan(t, db, ref))

	// A Firehose that fails every record: the redrive reports the batch
	// and fails.
	fh.fail = func(int) bool { return true }
	var out bytes.Buffer
	_, err = Redrive(context.Background(), RedriveOptions{Source: src, Archive: ArchiverFunc(a), Out: &out})
	if !errors.Is(err, ErrRedriveIncomplete) || !strings.Contains(out.String(), "FAILED") {
		t.Errorf("Redrive with a failing Firehose: got %v, output %q; want ErrRedriveIncomplete and FAILED lines", err, out.String())
	}
	// It says why, as the archiver saw it (issue 23, finding 1).
	if !strings.Contains(out.String(), "  why: ") {
		t.Errorf("Redrive with a failing Firehose: output %q gives no reason (a \"  why: \" line)", out.String())
	}
}
