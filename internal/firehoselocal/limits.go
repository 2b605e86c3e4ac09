package firehoselocal

// Firehose's fixed limits for PutRecordBatch and PutRecord. The service
// documents them as limits that cannot be changed (API reference,
// PutRecordBatch: "up to 500 records. Each record in the request can be as
// large as 1,000 KB (before base64 encoding), up to a limit of 4 MB for the
// entire request"; the API model constrains Record.Data to 0..1024000 bytes
// and the Records list to 1..500 members).
const (
	// MaxRecordsPerCall is the most records in one PutRecordBatch call.
	MaxRecordsPerCall = 500
	// MaxBytesPerCall is the most decoded record data in one PutRecordBatch
	// call (4 MiB).
	MaxBytesPerCall = 4 * 1024 * 1024
	// MaxRecordBytes is the most decoded data in one record (1,000 KiB).
	MaxRecordBytes = 1000 * 1024
	// MaxStreamNameLength is the longest delivery stream name.
	MaxStreamNameLength = 64
)

// DefaultMaxRequestBytes is the default for [WithMaxRequestBytes]: the
// largest request body the stand-in reads. It is the stand-in's own guard,
// not a documented service limit: a valid PutRecordBatch body (4 MiB of data
// in base64 plus JSON) is under 6 MiB, and 16 MiB leaves room for tests that
// exceed the service's limits and expect the service's errors.
const DefaultMaxRequestBytes = 16 * 1024 * 1024

// Operation names, as they follow the service name in X-Amz-Target.
const (
	OperationPutRecordBatch         = "PutRecordBatch"
	OperationPutRecord              = "PutRecord"
	OperationDescribeDeliveryStream = "DescribeDeliveryStream"
)

// targetPrefix is Firehose's service name in the awsJson1_1 protocol: the
// SDK sends X-Amz-Target "Firehose_20150804.<Operation>".
const targetPrefix = "Firehose_20150804."

// contentType is the Content-Type of the awsJson1_1 protocol, for requests
// and responses.
const contentType = "application/x-amz-json-1.1"
