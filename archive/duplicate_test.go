package archive_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

// A member given twice counts by its last value, and null means absent,
// as a JSON object read into a map has it (issue 23, finding 14).
func TestDuplicateMembersLastWins(t *testing.T) {
	const arn = `"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x"`
	const ttl = `"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`
	const dyn = `"dynamodb":{"ApproximateCreationDateTime":1763856001,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"v":{"N":"1"}},"SequenceNumber":"1"}`
	tests := []struct {
		name, record     string
		archived, noOld  int
		notDynamoDBEvent bool
	}{
		{"plain", `{"eventSource":"aws:dynamodb","eventName":"REMOVE",` + ttl + `,` + arn + `,` + dyn + `}`, 1, 0, false},
		{"eventSource then null", `{"eventSource":"aws:dynamodb","eventSource":null,"eventName":"REMOVE",` + ttl + `,` + arn + `,` + dyn + `}`, 0, 0, true},
		{"null then eventSource", `{"eventSource":null,"eventSource":"aws:dynamodb","eventName":"REMOVE",` + ttl + `,` + arn + `,` + dyn + `}`, 1, 0, false},
		{"userIdentity then null: a user's delete", `{"eventSource":"aws:dynamodb","eventName":"REMOVE",` + ttl + `,"userIdentity":null,` + arn + `,` + dyn + `}`, 0, 0, false},
		{"userIdentity then another", `{"eventSource":"aws:dynamodb","eventName":"REMOVE",` + ttl + `,"userIdentity":{"type":"User"},` + arn + `,` + dyn + `}`, 0, 0, false},
		{"OldImage then null", `{"eventSource":"aws:dynamodb","eventName":"REMOVE",` + ttl + `,` + arn + `,"dynamodb":{"ApproximateCreationDateTime":1763856001,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}},"OldImage":null,"SequenceNumber":"1"}}`, 1, 1, false},
		{"dynamodb twice: the last only", `{"eventSource":"aws:dynamodb","eventName":"REMOVE",` + ttl + `,` + arn + `,` + dyn + `,"dynamodb":{"ApproximateCreationDateTime":1763856001,"Keys":{"pk":{"S":"a"}},"SequenceNumber":"2"}}`, 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{}
			a := newArchiver(t, f, nil)
			res, err := a.Archive(context.Background(), []byte(`{"Records":[`+tt.record+`]}`))
			if tt.notDynamoDBEvent {
				if !errors.Is(err, archive.ErrNotDynamoDBStream) {
					t.Fatalf("Archive: error %v, want ErrNotDynamoDBStream", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if res.Counts.Archived != tt.archived || res.Counts.NoOldImage != tt.noOld {
				t.Errorf("Archive: archived %d, no old image %d; want %d, %d", res.Counts.Archived, res.Counts.NoOldImage, tt.archived, tt.noOld)
			}
		})
	}
}

// A record archived raw whose line would pass Firehose's 1,000 KiB record
// limit keeps its stream record gzipped in raw_gzip, as an oversize item
// keeps its item in item_gzip (issue 23, finding 1), instead of failing
// on every retry.
func TestOversizeRawRecordIsGzipped(t *testing.T) {
	big := strings.Repeat("x", 1100*1024)
	record := `{"eventID":"e1","eventName":"REMOVE","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
		`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/T/stream/x",` +
		`"dynamodb":{"ApproximateCreationDateTime":1763856001,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"d":{"DECIMAL128":"1"},"big":{"S":"` + big + `"}},"SequenceNumber":"7"}}`
	f := &fakeFirehose{}
	a := newArchiver(t, f, nil)
	res, err := a.Archive(context.Background(), []byte(`{"Records":[`+record+`]}`))
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	if res.Counts.Archived != 1 || res.Counts.RawArchived != 1 || res.Counts.Oversize != 0 || len(res.Response.BatchItemFailures) != 0 {
		t.Fatalf("Archive: %+v, failures %v; want the record archived raw, not oversize", res.Counts, res.Response.BatchItemFailures)
	}
	data := bytes.Join(f.delivered, nil)
	if len(data) > archive.MaxRecordBytes || !bytes.Contains(data, []byte(`"raw_gzip":"`)) {
		t.Fatalf("the line is %d bytes (want at most %d) with raw_gzip: %.200s", len(data), archive.MaxRecordBytes, data)
	}
	l, err := archive.ParseLine(data)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := l.RawBytes()
	if err != nil || !bytes.Equal(raw, []byte(record)) {
		t.Errorf("RawBytes: %d bytes, %v; want the record as received (%d bytes)", len(raw), err, len(record))
	}
}
