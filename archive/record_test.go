package archive

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRecordsShareNothing archives records whose stream ARN and creation
// time repeat, change, go missing or are invalid from one record to the
// next (finish keeps the last parsed ones): each line must have its own
// record's table and deletion time.
func TestRecordsShareNothing(t *testing.T) {
	rec := func(seq, arn, created, region string) string {
		if arn != "" {
			arn = `"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/` + arn + `/stream/x",`
		}
		return `{"eventID":"` + seq + `","eventName":"REMOVE","eventSource":"aws:dynamodb","awsRegion":"` + region + `",` +
			`"dynamodb":{"ApproximateCreationDateTime":` + created + `,"Keys":{"k":{"S":"` + seq + `"}},"OldImage":{"k":{"S":"` + seq + `"}},"SequenceNumber":"` + seq + `"},` +
			arn + `"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`
	}
	type want struct{ table, deletedAt, region string }
	records := []struct {
		seq, arn, created, region string
		want                      want
	}{
		{"1", "A", "1763856000", "us-east-1", want{"A", "2025-11-23T00:00:00Z", "us-east-1"}},
		{"2", "A", "1763856000", "us-east-1", want{"A", "2025-11-23T00:00:00Z", "us-east-1"}},
		{"3", "B", `"x"`, "eu-west-1", want{"B", "", "eu-west-1"}},
		{"4", "B", "1763856000.5", "eu-west-1", want{"B", "2025-11-23T00:00:00.5Z", "eu-west-1"}},
		{"5", "", "1763856000.5", `a\"q`, want{"", "2025-11-23T00:00:00.5Z", `a"q`}},
		{"6", "A", "1763856001", "us-east-1", want{"A", "2025-11-23T00:00:01Z", "us-east-1"}},
		{"7", "A", "null", "us-east-1", want{"A", "", "us-east-1"}},
		{"8", `A\"b`, "1763856000", "us-east-1", want{`A"b`, "2025-11-23T00:00:00Z", "us-east-1"}},
	}
	var rs []string
	for _, r := range records {
		rs = append(rs, rec(r.seq, r.arn, r.created, r.region))
	}
	fake, taken := collectingFirehose()
	a, err := New(fake, Config{StreamName: "s", BatchSize: 400, Format: FormatJSON, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Archive(context.Background(), []byte(`{"Records":[`+strings.Join(rs, ",")+`]}`)); err != nil {
		t.Fatal(err)
	}
	got := map[string]want{}
	for _, data := range taken() {
		l, err := ParseLine(data)
		if err != nil {
			t.Fatal(err)
		}
		w := want{table: l.Table, region: l.Region}
		if l.DeletedAt != nil {
			w.deletedAt = l.DeletedAt.Format(time.RFC3339Nano)
		}
		got[l.SequenceNumber] = w
	}
	for _, r := range records {
		if got[r.seq] != r.want {
			t.Errorf("record %s (ARN table %q, created %s, awsRegion %q): line has %+v, want %+v", r.seq, r.arn, r.created, r.region, got[r.seq], r.want)
		}
	}
}
