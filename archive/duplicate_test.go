package archive_test

import (
	"context"
	"errors"
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
