// Package esm models how a Lambda event source mapping (ESM) drives a
// function from the shards of a DynamoDB stream, so that a local soak test
// can run the real function under the service's batching and retry rules.
//
// The function is reached through an [Invoker] (the soak's is a loopback
// Lambda Runtime API in front of the real bootstrap binary); discarded
// batches go to a [Destination] in the shape Lambda writes to an S3
// on-failure destination. [Mapping.Run] processes every [Shard] and returns a
// [Report]. A shard holds its records' JSON in memory, or reads it from a
// Source (an io.ReaderAt such as a file) as payloads are built, so that a
// stream of gigabytes stays out of the Go heap.
//
// # Rules and where they come from
//
// Each rule below is implemented where its doc comment says, and names its
// source there too.
//
//   - Filtering (filter.go): a [FilterPattern] of the mapping's
//     FilterCriteria selects the records the function sees; the soak applies
//     the template's patterns to its generated stream.
//   - Batching (payload.go): a batch closes when BatchSize records are in it
//     or when one more record would take the invocation payload
//     {"Records":[...]} past 6 MB (6,291,456 bytes) [ESM]. The batching
//     window is not modelled: a shard is a backlog that is all there, so
//     every batch takes what is available.
//   - Partial batch responses (response.go), only with
//     ReportBatchItemFailures: the records before the lowest reported
//     sequence number are checkpointed and the retry starts at it; an empty
//     or null list, an empty or null response, and a response with no
//     batchItemFailures are success; an itemIdentifier that is empty, null,
//     not a string, missing, or not a sequence number of the batch fails the
//     whole batch [PBR] [LS]. Without the setting the response is ignored.
//   - Function errors (run.go): the function returning an error, crashing
//     or timing out fails the whole batch, which is retried [ERR].
//   - BisectBatchOnFunctionError (run.go): a batch that failed with a
//     function error is split in two and each half is retried in order,
//     whatever ReportBatchItemFailures says; splitting does not consume the
//     retry quota [ERR] [PBR].
//   - MaximumRetryAttempts (run.go): -1 retries until the records expire;
//     otherwise a batch is retried at most MaximumRetryAttempts times (so,
//     without bisection, invoked 1+MaximumRetryAttempts times) before it is
//     discarded with condition RetryAttemptsExhausted; retries after a
//     partial batch response count [LS].
//   - MaximumRecordAgeInSeconds (run.go): before each invocation, records
//     older than the limit are discarded with condition RecordAgeExceeded,
//     without invoking the function, and the rest of the batch goes on [ERR]
//     [LS]. Age is measured on a virtual clock per shard (see
//     [Mapping.Start]).
//   - Stream retention (run.go): a DynamoDB stream keeps records 24 hours
//     [PARAMS]; older records are trimmed, counted, and not delivered.
//   - On-failure destination (destination.go): a discarded batch becomes one
//     [OnFailureRecord]: requestContext, responseContext (absent for
//     RecordAgeExceeded), version, timestamp, DDBStreamBatchInfo and, as S3
//     destinations receive, the invocation payload [ERR] [LS]. Object keys
//     follow aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/... [KDEST].
//   - Shards are processed concurrently, one goroutine each, and the records
//     of a shard strictly in order, one invocation in flight per shard
//     [DDB] [ESM].
//
// # What is not modelled, or not confirmed
//
//   - ParallelizationFactor above 1 (concurrent batches per shard, ordered
//     by partition key) is not modelled; Run rejects it with
//     [ErrUnsupported].
//   - How AWS counts retries across a bisection is not documented beyond
//     "splitting doesn't consume the retry quota". The model gives both
//     halves the retry count of the batch they came from, so a poison record
//     is isolated by splits and then invoked alone 1+MaximumRetryAttempts
//     times. Which half gets the odd record is not documented either; here
//     the first half does.
//   - Whether a failure that is not a function error (an invalid partial
//     batch response) is bisected is not documented; the model does not
//     bisect it.
//   - AWS documents that failures before the function runs (throttling,
//     service errors) are retried until the records expire without using
//     the retry quota. An error from [Invoker] means the local harness
//     failed; the model treats it as a function error (so a broken harness
//     ends instead of spinning) and counts it apart.
//   - What Lambda does with a single record larger than the payload limit
//     is not documented; it cannot happen with DynamoDB, whose items are at
//     most 400 KB. The model sends it straight to the destination with
//     condition [ConditionRecordTooLarge], a name of this model, not of AWS.
//   - Whether records trimmed by stream retention reach the destination is
//     not documented; the model does not send them.
//   - approximateInvokeCount is the number of invocations that carried the
//     discarded records. AWS's recorded RecordAgeExceeded records show 1
//     even after many invocations; do not assert on it there.
//   - A response that is not JSON, or JSON other than an object, null, "",
//     or [], fails the whole batch here; AWS does not document it.
//   - AWS may consolidate several failed halves into one destination record
//     (batchSize above 1 with bisection) [CFN]; the model writes one record
//     per discarded batch.
//
// # Sources
//
//   - [PBR] https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
//   - [ERR] https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
//   - [PARAMS] https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
//   - [ESM] https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html
//   - [DDB] https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
//   - [KDEST] https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
//     (the S3 object key scheme, shared by stream event sources)
//   - [CFN] the CloudFormation resource schema of
//     AWS::Lambda::EventSourceMapping, property BisectBatchOnFunctionError
//     ("The BatchSize could be greater than 1 since LAM consolidates failed
//     messages metadata when writing to the OnFailure destination"), as
//     quoted in the docs of Pulumi's aws-native provider
//   - [LS] responses recorded against AWS in LocalStack's parity tests,
//     github.com/localstack/localstack,
//     tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_dynamodbstreams.snapshot.json
//     and test_lambda_integration_kinesis.snapshot.json: with
//     MaximumRetryAttempts 1 and 3 the destination record says
//     approximateInvokeCount 2 and 4; after a partial batch response it
//     holds only the failing suffix with functionError null; itemIdentifier
//     123, "", null or a missing key fail the whole batch; [], null, {},
//     {"batchItemFailures":[]} and {"batchItemFailures":null} succeed; an S3
//     destination record carries "payload":{"Records":[...]} as an object;
//     an expired record is discarded alone while the rest of its batch is
//     invoked.
package esm
