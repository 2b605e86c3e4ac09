// Package bench measures the archiver against the targets of issue 5 and
// writes BENCHMARKS.md: the handler's CPU against a plain json.Unmarshal of
// the same batch and against a straightforward handler built from
// aws-lambda-go's events types and the SDK's attributevalue package
// (reference.go, and package archive/reference for the conversion), the whole function's CPU, latency, memory and start-up
// through the real bootstrap under the local stack (function.go), where the
// function's CPU goes (profile.go), and what Firehose bills with and
// without packing (bill.go), with plots made by gonum.org/v1/plot
// (plot.go).
//
// Nothing here asserts a time: the tests check that the measurements
// measure the right thing (the reference handler writes the same lines as
// the archiver, the billing fake counts as AWS bills), and the figures go
// to the report, each next to its target.
//
// The command is ./internal/bench/cmd/benchreport (make bench).
package bench
