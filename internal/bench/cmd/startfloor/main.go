// Command startfloor is the floor the function's start-up is measured
// against: a Go program that does only what every Lambda runtime does
// first, ask the Runtime API for the next invocation, with net/http as
// aws-lambda-go does. It then waits for the invocation and exits.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	resp, err := http.Get("http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/next")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}
