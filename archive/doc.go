// Package archive turns the TTL deletions in a DynamoDB stream batch into
// JSON lines and delivers them to Amazon Data Firehose without losing any.
//
// It knows every archiving rule of the project and nothing about Lambda:
//
//   - which records count: a REMOVE whose userIdentity is the DynamoDB
//     service (filter.go);
//   - how a record becomes one line of JSON (record.go, convert.go, line.go),
//     with numbers kept to the last digit, and how a record that cannot be
//     converted is still archived in raw form (never dropped, never blocking
//     the others);
//   - how lines are cut into PutRecordBatch calls within Firehose's limits,
//     optionally packed several to a record (batch.go);
//   - how failed records are resent with backoff until the invocation's
//     deadline nears (retry.go, send.go);
//   - how what could not be delivered is reported as a partial batch
//     response, so that Lambda retries exactly that (archiver.go).
//
// An [Archiver] is safe for concurrent use. Its Invoke method has the
// signature of aws-lambda-go's lambda.Handler, so function/main.go passes it
// to lambda.Start directly.
package archive
