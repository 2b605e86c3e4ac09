package restore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// fakeDB is a DynamoDB that answers BatchWriteItem as script says, call
// by call, and remembers what it was given.
type fakeDB struct {
	mu     sync.Mutex
	calls  int
	put    map[string]int // items taken, by pk
	script func(call int, reqs []types.WriteRequest) (unprocessed []types.WriteRequest, err error)
}

func (f *fakeDB) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: "S"}, {AttributeName: aws.String("sk"), AttributeType: "N"}},
	}}, nil
}

func (f *fakeDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errors.New("PutItem not expected")
}

func (f *fakeDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for table, reqs := range in.RequestItems {
		left, err := f.script(f.calls, reqs)
		if err != nil {
			return nil, err
		}
		isLeft := map[*types.PutRequest]bool{}
		for _, r := range left {
			isLeft[r.PutRequest] = true
		}
		for _, r := range reqs {
			if !isLeft[r.PutRequest] {
				f.put[avString(r.PutRequest.Item["pk"])+"/"+avString(r.PutRequest.Item["sk"])]++
			}
		}
		out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
		if len(left) > 0 {
			out.UnprocessedItems[table] = left
		}
		return out, nil
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

var throttle = &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "rate exceeded"}

func TestUnprocessedAndThrottling(t *testing.T) {
	items := genItems(60)
	var data []byte
	for i, it := range items {
		data = append(data, line(t, it, "dynamodb-json", i)...)
	}
	tests := []struct {
		name    string
		script  func(call int, reqs []types.WriteRequest) ([]types.WriteRequest, error)
		wantErr error
		warn    string
	}{
		{"half unprocessed twice", func(call int, reqs []types.WriteRequest) ([]types.WriteRequest, error) {
			if call <= 2 {
				return reqs[len(reqs)/2:], nil
			}
			return nil, nil
		}, nil, "unprocessed"},
		{"throttled then ok", func(call int, reqs []types.WriteRequest) ([]types.WriteRequest, error) {
			if call <= 3 {
				return nil, throttle
			}
			return nil, nil
		}, nil, "throttling writes"},
		{"always unprocessed", func(call int, reqs []types.WriteRequest) ([]types.WriteRequest, error) {
			return reqs, nil
		}, ErrThrottled, "unprocessed"},
		{"access denied", func(call int, reqs []types.WriteRequest) ([]types.WriteRequest, error) {
			return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::1:user/x is not authorized"}
		}, ErrAccessDenied, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &fakeDB{put: map[string]int{}, script: tt.script}
			var warn bytes.Buffer
			rep, err := Run(context.Background(), Options{Source: source(t, data, "dir", true, 100), Table: "Orders", Region: "eu-west-1", Client: db,
				Warn: &warn, Concurrency: 1, Backoff: Backoff{Base: time.Millisecond, Max: 4 * time.Millisecond, Attempts: 5}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run: got %v, want %v", err, tt.wantErr)
			}
			if tt.warn != "" && !strings.Contains(warn.String(), tt.warn) {
				t.Errorf("warnings lack %q:\n%s", tt.warn, warn.String())
			}
			if tt.wantErr == ErrAccessDenied {
				for _, w := range []string{"dynamodb:BatchWriteItem", "table Orders", "eu-west-1"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Run error %q lacks %q", err, w)
					}
				}
			}
			if tt.wantErr != nil {
				return
			}
			if rep.Written != len(items) || len(db.put) != len(items) {
				t.Errorf("Run: written %d, fake took %d distinct items; want %d", rep.Written, len(db.put), len(items))
			}
			for k, n := range db.put {
				if n != 1 {
					t.Errorf("item %s taken %d times, want once", k, n)
				}
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		takes int // takes of 25 items
		want  time.Duration
	}{
		{"within the first second's tokens", 100, 4, 0},
		{"rate holds", 50, 8, 3 * time.Second}, // 200 items, 50 in hand, 150 at 50/s
		{"batches larger than the rate", 10, 2, 4 * time.Second},
		{"no limit", 0, 40, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(0, 0)
			l := newLimiter(tt.rate)
			l.now = func() time.Time { return now }
			l.sleep = func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }
			for range tt.takes {
				if err := l.take(context.Background(), 25); err != nil {
					t.Fatal(err)
				}
			}
			if got := now.Sub(time.Unix(0, 0)); got != tt.want {
				t.Errorf("%d takes of 25 at %v/s took %v, want %v", tt.takes, tt.rate, got, tt.want)
			}
		})
	}
}
