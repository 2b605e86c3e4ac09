package esm_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/esm"
)

// A function that fails on one record, behind a mapping that bisects and
// retries twice: the record is isolated and sent to the destination, the
// others are processed.
func ExampleMapping_Run() {
	sh := esm.Shard{ID: "shardId-00000001763856000000-abcdef01"}
	for i := 1; i <= 4; i++ {
		raw := fmt.Sprintf(`{"eventName":"REMOVE","dynamodb":{"SequenceNumber":"10%d","ApproximateCreationDateTime":1763856000}}`, i)
		r, err := esm.RecordFromJSON([]byte(raw))
		if err != nil {
			panic(err)
		}
		sh.Records = append(sh.Records, r)
	}

	fn := esm.InvokerFunc(func(_ context.Context, payload []byte, _ time.Duration) (esm.Outcome, error) {
		fmt.Printf("invoked with %d records\n", bytes.Count(payload, []byte(`"SequenceNumber"`)))
		if bytes.Contains(payload, []byte(`"103"`)) {
			return esm.Outcome{FunctionError: &esm.FunctionError{Type: "Runtime.ExitError"}, Duration: time.Millisecond}, nil
		}
		return esm.Outcome{Response: []byte(`{"batchItemFailures":[]}`), Duration: time.Millisecond}, nil
	})

	m := esm.DefaultMapping()
	m.BisectBatchOnFunctionError = true
	m.MaximumRetryAttempts = 2
	m.Destination = esm.DestinationFunc(func(_ context.Context, r esm.OnFailureRecord) error {
		fmt.Println("to the destination:", r.RequestContext.Condition, r.DDBStreamBatchInfo.StartSequenceNumber)
		return nil
	})
	rep, err := m.Run(context.Background(), []esm.Shard{sh}, fn)
	if err != nil {
		panic(err)
	}
	fmt.Printf("invocations %d, bisections %d, retries %d, checkpoint %s\n",
		rep.Invocations, rep.Bisections, rep.Retries, rep.Shards[0].Checkpoint)
	// Output:
	// invoked with 4 records
	// invoked with 2 records
	// invoked with 2 records
	// invoked with 1 records
	// invoked with 1 records
	// invoked with 1 records
	// to the destination: RetryAttemptsExhausted 103
	// invoked with 1 records
	// invocations 7, bisections 2, retries 2, checkpoint 104
}
