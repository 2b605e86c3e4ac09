// Package runtimeapi is a loopback stand-in for the AWS Lambda Runtime API
// (version 2018-06-01), so tests can run a custom runtime's bootstrap
// binary exactly as Lambda runs it on provided.al2023.
//
// A [Server] holds the invocation queue. [Server.StartProcess] starts the
// binary with AWS_LAMBDA_RUNTIME_API pointing at an endpoint on
// 127.0.0.1 that serves only that process, so the server always knows
// which process holds which invocation: when the process exits, the
// invocations it held fail at once with an [*ExitError] instead of
// waiting. [Server.Invoke] queues an event with a deadline and waits for
// the function's response or error.
//
// The endpoint serves what the aws-lambda-go client (lambda/
// runtime_api_client.go) uses, with the status codes of the API's OpenAPI
// description: GET /runtime/invocation/next (200, blocks until an
// invocation is queued), POST /runtime/invocation/{id}/response and
// /runtime/invocation/{id}/error (202), POST /runtime/init/error (202).
//
// As in Lambda, one process at a time is the function's execution
// environment; after a process exits (or is killed) a new one can be
// started against the same server.
package runtimeapi
