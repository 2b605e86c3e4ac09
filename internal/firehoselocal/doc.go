// Package firehoselocal is a stand-in for Amazon Data Firehose on the
// loopback interface, for tests, benchmarks and local runs.
//
// A [Server] speaks Firehose's own wire protocol (AWS JSON 1.1, the
// operation named by the X-Amz-Target header), so the real SDK client calls
// it unchanged: point [firehose.Options.BaseEndpoint] at [Server.URL] and
// give the client any static credentials. It serves PutRecordBatch and
// PutRecord, enforces the service's fixed limits with the error shapes the
// service returns, hands the accepted records of each call to the [Sink] of
// the stream, and can inject faults (latency, whole-call errors, connection
// resets, per-record failures) while it runs.
//
// Given [WithCredentials], it verifies each call's SigV4 signature against
// those keys ([VerifySignature], also used by internal/s3local); without, it
// checks only the signature's shape: an Authorization header in the SigV4
// form scoped to the service "firehose". It caps the calls it serves at
// once and the body it reads (the largest valid PutRecordBatch body), and a
// body that does not arrive within [DefaultBodyTimeout] ends the call.
//
// Where the behaviour of the real service was not confirmed, the code says so
// next to the choice made.
//
// [firehose.Options.BaseEndpoint]: https://pkg.go.dev/github.com/aws/aws-sdk-go-v2/service/firehose#Options
package firehoselocal
