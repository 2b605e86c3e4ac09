package firehoselocal

import "time"

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
// largest request body the stand-in reads, which is the largest body a valid
// PutRecordBatch call can have. 4 MiB of record data is 5,592,408 bytes in
// base64; each of at most 500 records adds {"Data":""}, (12 bytes); the
// stream name (at most 64 bytes) and {"DeliveryStreamName":"","Records":[]}
// add 102; 128 KiB more leave room for white space and escaped slashes
// ("\/") from encoders other than the SDKs'. The service's own cap on the
// body is not documented; a larger body is answered with HTTP 413 before
// it is read.
const DefaultMaxRequestBytes = int64((MaxBytesPerCall+2)/3*4 + MaxRecordsPerCall*len(`{"Data":""},`) +
	MaxStreamNameLength + len(`{"DeliveryStreamName":"","Records":[]}`) + 128<<10)

// DefaultMaxConcurrentCalls is the default for [WithMaxConcurrentCalls]:
// how many calls the stand-in reads and answers at once. Firehose has no
// documented cap on concurrent calls (its quota is calls per second); the
// stand-in caps them so that its memory stays bounded: each call holds at
// most its body and the decoded records, about 10 MiB.
const DefaultMaxConcurrentCalls = 8

// DefaultBodyTimeout is the default for [WithBodyTimeout]: a request whose
// body has not arrived this long after the call was taken up ends without
// an answer.
const DefaultBodyTimeout = 30 * time.Second

// DefaultIdleTimeout is how long a kept-alive connection may wait for its
// next request.
const DefaultIdleTimeout = 60 * time.Second

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
