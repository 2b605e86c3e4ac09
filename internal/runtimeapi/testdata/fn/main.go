// Command fn is the function the runtimeapi tests run as a bootstrap
// (built with -tags lambda.norpc). Each event says what to do; FN_INIT
// says how init goes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// event is the test's instruction for one invocation.
type event struct {
	// Action is echo, error, sleep (until done or the deadline), hang
	// (ignoring the deadline), exit, panic or big.
	Action  string `json:"action"`
	Message string `json:"message"`
	Millis  int    `json:"millis"`
	Code    int    `json:"code"`
	Size    int    `json:"size"`
}

// echo is the answer to an echo event: what the function saw.
type echo struct {
	Message      string `json:"message"`
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	DeadlineMS   int64  `json:"deadlineMs"`
	FunctionName string `json:"functionName"`
	MemoryMB     int    `json:"memoryMb"`
	TraceID      string `json:"traceId"`
	Region       string `json:"region"`
	Setting      string `json:"setting"`
}

// customError is the error the error action returns; its type name is the
// errorType Lambda reports.
type customError struct{ msg string }

func (e *customError) Error() string { return e.msg }

func handle(ctx context.Context, ev event) (any, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Printf("start %s %s\n", lc.AwsRequestID, ev.Action)
	switch ev.Action {
	case "echo":
		deadline, _ := ctx.Deadline()
		return echo{
			Message:      ev.Message,
			RequestID:    lc.AwsRequestID,
			FunctionARN:  lc.InvokedFunctionArn,
			DeadlineMS:   deadline.UnixMilli(),
			FunctionName: lambdacontext.FunctionName,
			MemoryMB:     lambdacontext.MemoryLimitInMB,
			TraceID:      os.Getenv("_X_AMZN_TRACE_ID"),
			Region:       os.Getenv("AWS_REGION"),
			Setting:      os.Getenv("FN_SETTING"),
		}, nil
	case "error":
		return nil, &customError{ev.Message}
	case "sleep":
		select {
		case <-time.After(time.Duration(ev.Millis) * time.Millisecond):
			return "slept", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "hang":
		time.Sleep(time.Duration(ev.Millis) * time.Millisecond)
		return "woke", nil
	case "exit":
		fmt.Fprintln(os.Stderr, ev.Message)
		os.Exit(ev.Code)
	case "panic":
		panic(ev.Message)
	case "big":
		return strings.Repeat("x", ev.Size), nil
	}
	return nil, fmt.Errorf("unknown action %q", ev.Action)
}

func main() {
	switch os.Getenv("FN_INIT") {
	case "exit":
		// A configuration error, as the real function reports one.
		fmt.Fprintln(os.Stderr, "fn: configuration: FN_SETTING is not set: want a value")
		os.Exit(1)
	case "initerror":
		// A runtime that reports its init error before exiting.
		body, _ := json.Marshal(map[string]string{"errorType": "Runtime.ConfigError", "errorMessage": "FN_SETTING is not set"})
		resp, err := http.Post("http://"+os.Getenv("AWS_LAMBDA_RUNTIME_API")+"/2018-06-01/runtime/init/error", "application/json", bytes.NewReader(body))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fn: post init error:", err)
			os.Exit(3)
		}
		resp.Body.Close()
		fmt.Fprintln(os.Stderr, "fn: init error posted:", resp.StatusCode)
		os.Exit(2)
	case "slow":
		ms, _ := strconv.Atoi(os.Getenv("FN_INIT_MILLIS"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case "wait":
		// Never asks for an invocation: the tests drive the API by hand.
		time.Sleep(24 * time.Hour)
	}
	fmt.Println("init done")
	lambda.Start(handle)
}
