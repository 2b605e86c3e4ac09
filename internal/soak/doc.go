// Package soak proves that the archiver loses nothing: it generates
// DynamoDB stream shards (TTL deletions mixed with every other kind of
// record, items of every attribute type up to DynamoDB's 400 KB), drives
// them through the event source mapping model of internal/esm, configured
// as template.yaml configures the mappings, into the real bootstrap under
// loopback Lambda Runtime APIs, into the local Firehose stand-in and S3,
// while faults are injected (Firehose failing records or whole calls,
// throttling, resetting connections, stalling past the deadline or down for
// longer than the retries last; function processes killed mid-invocation;
// short deadlines). It then reads every archive object and every on-failure
// record back and accounts for every TTL deletion.
//
// Run does one soak and returns a Verdict: TTL items generated, archived at
// least once, kept only in the on-failure destination, lost (must be 0),
// duplicate lines, records archived that are not TTL deletions (must be 0),
// invocations past their deadline (must be 0) and invocation times, and
// the harness's own scheduling stalls and memory while the mapping ran, so
// that a late answer can be set beside what the harness was doing then
// (diagnostics only: late answers count whatever they show).
//
// The harness keeps itself light, so that its own garbage collection does
// not delay the answers it times: the generated stream is written to a
// file per shard under Options.Dir and read back as payloads are built
// (esm.Shard's Source), and the table of generated records holds no
// pointer.
//
// Where things are: workload.go generates the stream; template.go reads
// the mapping and the function's settings from template.yaml; functions.go
// runs the function processes (the esm.Invoker, with kills and timeouts);
// stack.go starts Firehose and S3; faults.go plans Firehose's faults;
// destination.go is the S3 on-failure destination; verify.go reads both
// buckets back; duplicates.go says what made each duplicate; stall.go
// measures the harness's stalls; soak.go has Run and the Verdict.
//
// The short soaks run with go test; the long one (a million TTL items) with
//
//	go test ./internal/soak -run '^TestSoakLong$' -soak.items=1000000 -timeout 30m -v
package soak
