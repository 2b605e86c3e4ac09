package restore

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ttl-archiver/ttl-archiver/archive"
)

func TestVersionCompare(t *testing.T) {
	at := func(s string) *time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	day1, day2 := at("2025-11-23T10:00:00Z"), at("2025-11-24T10:00:00Z")
	tests := []struct {
		name string
		a, b archive.Line
		want int
	}{
		{"later deletion wins over a larger sequence number", archive.Line{DeletedAt: day2, SequenceNumber: "5"}, archive.Line{DeletedAt: day1, SequenceNumber: "7"}, 1},
		{"same time: sequence numbers as numbers", archive.Line{DeletedAt: day1, SequenceNumber: "10"}, archive.Line{DeletedAt: day1, SequenceNumber: "9"}, 1},
		{"leading zeros do not count", archive.Line{DeletedAt: day1, SequenceNumber: "0010"}, archive.Line{DeletedAt: day1, SequenceNumber: "10"}, 0},
		{"40 digits", archive.Line{SequenceNumber: "4421584500000000017450439091000000000001"}, archive.Line{SequenceNumber: "4421584500000000017450439091000000000000"}, 1},
		{"no deleted_at is older", archive.Line{SequenceNumber: "99"}, archive.Line{DeletedAt: day1, SequenceNumber: "1"}, -1},
		{"a non-numeric sequence number is the oldest", archive.Line{DeletedAt: day1, SequenceNumber: "x1"}, archive.Line{DeletedAt: day1, SequenceNumber: "0"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lineVersion(&tt.a).compare(lineVersion(&tt.b)); got != tt.want {
				t.Errorf("compare(%+v, %+v): got %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := lineVersion(&tt.b).compare(lineVersion(&tt.a)); got != -tt.want {
				t.Errorf("compare(%+v, %+v): got %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item Item
		want int
	}{
		{"string", Item{"pk": &types.AttributeValueMemberS{Value: "héllo"}}, 2 + 6},
		{"number", Item{"n": &types.AttributeValueMemberN{Value: "-123.4500"}}, 1 + 4},
		{"binary", Item{"b": &types.AttributeValueMemberB{Value: make([]byte, 399*1024)}}, 1 + 399*1024},
		{"bool and null", Item{"t": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 4},
		{"sets", Item{"ss": &types.AttributeValueMemberSS{Value: []string{"ab", "c"}}, "bs": &types.AttributeValueMemberBS{Value: [][]byte{{1, 2}}}}, 4 + 3 + 2},
		{"list and map", Item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "ab"}}},
			"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "v"}}}}, 2 + 3 + 1 + 2 + 3 + 1 + 1 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := itemSize(tt.item); got != tt.want {
				t.Errorf("itemSize: got %d, want %d", got, tt.want)
			}
		})
	}
}
