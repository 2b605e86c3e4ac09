// Command memfloor is the floor the function's peak memory is measured
// against: a Lambda function built on aws-lambda-go, as the bootstrap is,
// whose handler does nothing with the payload and answers that every
// record succeeded. Its peak resident set is what the runtime alone costs
// to take a batch: the Runtime API client reads each payload into a
// pooled buffer, and the garbage collector lets the heap grow to twice
// what is live.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

type handler struct{}

func (handler) Invoke(context.Context, []byte) ([]byte, error) {
	return []byte(`{"batchItemFailures":[]}`), nil
}

func main() { lambda.Start(handler{}) }
