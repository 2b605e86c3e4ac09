package restore

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

func fhOK() fhtypes.PutRecordBatchResponseEntry {
	return fhtypes.PutRecordBatchResponseEntry{RecordId: aws.String("r")}
}

func fhFailed() fhtypes.PutRecordBatchResponseEntry {
	return fhtypes.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException"), ErrorMessage: aws.String("Slow down.")}
}
