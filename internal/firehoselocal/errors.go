package firehoselocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes the stand-in answers with. The first group are errors of
// Firehose's API model (the SDK decodes them into the typed errors of
// service/firehose/types); the others are the common errors of AWS JSON
// services, which the SDK returns as *smithy.GenericAPIError with the code.
const (
	// CodeInvalidArgument is a value the service rejects after validation:
	// more than 4 MiB of data in one PutRecordBatch call.
	CodeInvalidArgument = "InvalidArgumentException"
	// CodeResourceNotFound is an unknown delivery stream.
	CodeResourceNotFound = "ResourceNotFoundException"
	// CodeServiceUnavailable is throttling or an outage, as a whole-call
	// error (HTTP 503) or as one record's ErrorCode.
	CodeServiceUnavailable = "ServiceUnavailableException"

	// CodeInternalFailure is an internal error, as a whole-call error
	// (HTTP 500) or as one record's ErrorCode.
	CodeInternalFailure = "InternalFailure"
	// CodeValidation is a request that breaks a constraint of the API model:
	// more than 500 records, no records, a record over 1,000 KiB, a missing
	// or malformed stream name.
	CodeValidation = "ValidationException"
	// CodeSerialization is a body that is not the JSON the operation takes.
	CodeSerialization = "SerializationException"
	// CodeUnknownOperation is an X-Amz-Target the stand-in does not serve.
	CodeUnknownOperation = "UnknownOperationException"
	// CodeMissingAuthenticationToken is a request with no Authorization
	// header.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature is an Authorization header that is not in the
	// SigV4 form.
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeInvalidSignature is a SigV4 header scoped to another service, a
	// signature that does not match, or one dated too far from now.
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeUnrecognizedClient is an access key or session token the server
	// does not know.
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeRequestEntityTooLarge is a body over the stand-in's own
	// [WithMaxRequestBytes] guard.
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
)

// MessageSlowDown is the message Firehose gives with
// ServiceUnavailableException when it throttles, as a whole-call error and
// in RequestResponses entries.
const MessageSlowDown = "Slow down."

// CallError is a whole-call error response: the HTTP status and the error
// shape of AWS JSON services, {"__type": Code, "message": Message}, with
// X-Amzn-ErrorType: Code.
type CallError struct {
	Status  int
	Code    string
	Message string
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// InternalFailure is the whole-call error of an internal failure: HTTP 500,
// InternalFailure.
func InternalFailure() *CallError {
	return &CallError{Status: http.StatusInternalServerError, Code: CodeInternalFailure, Message: "Internal service failure."}
}

// SlowDown is the whole-call error of throttling: HTTP 503,
// ServiceUnavailableException, "Slow down.".
func SlowDown() *CallError {
	return &CallError{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: MessageSlowDown}
}

// Unavailable is the whole-call error of an outage: HTTP 503,
// ServiceUnavailableException, with the text of the service's documentation.
func Unavailable() *CallError {
	return &CallError{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable,
		Message: "The service is unavailable. Back off and retry the operation."}
}

// errorBody is the JSON error shape. The SDK (smithy-go awsjson
// deserializeError) takes the code from the X-Amzn-ErrorType header first,
// then from "__type", strips any "namespace#" prefix and ":uri" suffix, and
// reads the message from "message" (matched case-insensitively).
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeError writes e as the response, with the request id.
func writeError(w http.ResponseWriter, requestID string, e *CallError) {
	body, err := json.Marshal(errorBody{Type: e.Code, Message: e.Message})
	if err != nil {
		// Two strings always marshal; keep a valid body regardless.
		body = []byte(`{"__type":"InternalFailure"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("X-Amzn-Errortype", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// badRequest is a 400 with the given code and message.
func badRequest(code, message string) *CallError {
	return &CallError{Status: http.StatusBadRequest, Code: code, Message: message}
}
