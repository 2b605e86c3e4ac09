package runtimeapi_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
)

// Run a function's bootstrap as Lambda does and invoke it. Here bootstrap
// is the path of the test function, built with -tags lambda.norpc.
func ExampleServer_Invoke() {
	srv := runtimeapi.New()
	defer func() { _ = srv.Close() }()

	p, err := srv.StartProcess(runtimeapi.ProcessConfig{Path: bootstrap, Env: []string{"AWS_LAMBDA_FUNCTION_NAME=archiver"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.WaitReady(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	r, err := srv.Invoke(context.Background(), []byte(`{"action":"error","message":"no stream"}`), 3*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("function error:", r.Error)

	_ = p.Kill()
	code, _ := p.Wait()
	fmt.Println("exit code:", code)
	_, err = srv.Invoke(context.Background(), []byte(`{}`), time.Second)
	fmt.Println("no process:", errors.Is(err, runtimeapi.ErrNoProcess))
	// Output:
	// function error: customError: no stream
	// exit code: -1
	// no process: true
}
