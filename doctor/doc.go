// Package doctor checks a live deployment of the archiver: the table's
// stream, the stack's event source mapping on it, the readers of its
// shards, the Firehose stream and the archive bucket, TTL, point-in-time
// recovery, the alarm topic's subscriptions, and, for a global table, a
// stack in every replica region. Run makes every check and returns a
// Report with one Check each, ok, warn or fail; a check that cannot be
// made (a call refused, a stack output missing) is a fail naming the
// error, never left out.
//
// The clients are small interfaces with the SDK's own signatures
// (api.go), so the checks run against fakes as well as against AWS.
//
// What moto_server (5.2.1) does not do, and so is covered only by the
// fakes in doctor_test.go:
//   - DescribeTable returns no Replicas, even after UpdateTable with
//     ReplicaUpdates (which it accepts and ignores): the global-table
//     checks (a stack in every replica region, one reader per replica
//     shard) never see a replica there.
//   - A stream cannot be re-enabled once disabled ("Cannot enable
//     stream"), so a mapping left on an old stream ARN cannot be made.
//   - Every SNS subscription is confirmed at once: ListSubscriptionsByTopic
//     never answers "PendingConfirmation".
//
// Everything else doctor calls moto answers as AWS does, FilterCriteria
// included (patterns come back as they were sent; doctor compares them
// as parsed JSON all the same, as a pattern written by hand or by another
// tool may be spaced or ordered otherwise).
package doctor
