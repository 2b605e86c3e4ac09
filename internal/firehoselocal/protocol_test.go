package firehoselocal_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

const goodAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef"

// TestProtocol sends hand-made requests, to check what the SDK never sends:
// missing or wrong signatures, unknown operations, malformed bodies.
func TestProtocol(t *testing.T) {
	good := `{"DeliveryStreamName":"` + stream + `","Records":[{"Data":"aGVsbG8="}]}`
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		auth        string
		noDate      bool
		body        string
		wantStatus  int
		wantCode    string // also the X-Amzn-ErrorType header; "" for success
		wantMessage string
	}{
		{name: "valid", body: good, wantStatus: 200},
		{name: "valid with spaces and key order", body: " {\n \"Records\" : [ { \"Data\" : \"aGVsbG8=\" } ] , \"DeliveryStreamName\" : \"" + stream + "\" } ", wantStatus: 200},
		{name: "valid through encoding/json (escaped slash)", body: `{"DeliveryStreamName":"` + stream + `","Records":[{"Data":"aGVsbG8\/"}]}`, wantStatus: 200},
		{name: "no Authorization", auth: "-", body: good, wantStatus: 400, wantCode: "MissingAuthenticationTokenException", wantMessage: "Request is missing Authentication Token"},
		{name: "not SigV4", auth: "Bearer abc", body: good, wantStatus: 400, wantCode: "IncompleteSignatureException"},
		{name: "no Signature", auth: "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/firehose/aws4_request, SignedHeaders=host", body: good, wantStatus: 400, wantCode: "IncompleteSignatureException", wantMessage: "Authorization header requires 'Signature' parameter."},
		{name: "short Credential", auth: "AWS4-HMAC-SHA256 Credential=AKID/us-east-1/firehose, SignedHeaders=host, Signature=ab", body: good, wantStatus: 400, wantCode: "IncompleteSignatureException"},
		{name: "no X-Amz-Date", noDate: true, body: good, wantStatus: 400, wantCode: "IncompleteSignatureException"},
		{name: "scoped to another service", auth: "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=ab", body: good, wantStatus: 400, wantCode: "InvalidSignatureException", wantMessage: "Credential should be scoped to correct service: 'firehose'. "},
		{name: "unknown operation", target: "Firehose_20150804.DeleteDeliveryStream", body: good, wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "other service's target", target: "Kinesis_20131202.PutRecords", body: good, wantStatus: 400, wantCode: "UnknownOperationException"},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantCode: "UnknownOperationException"},
		{name: "JSON 1.0 content type", contentType: "application/x-amz-json-1.0", body: good, wantStatus: 400, wantCode: "SerializationException"},
		{name: "not JSON", body: `{"DeliveryStreamName":`, wantStatus: 400, wantCode: "SerializationException"},
		{name: "bad base64", body: `{"DeliveryStreamName":"` + stream + `","Records":[{"Data":"%%%"}]}`, wantStatus: 400, wantCode: "SerializationException"},
		{name: "Records null", body: `{"DeliveryStreamName":"` + stream + `","Records":null}`, wantStatus: 400, wantCode: "ValidationException", wantMessage: "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null"},
		{name: "Data missing", body: `{"DeliveryStreamName":"` + stream + `","Records":[{"Data":"aGk="},{}]}`, wantStatus: 400, wantCode: "ValidationException", wantMessage: "Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null"},
		{name: "no stream name", body: `{"Records":[{"Data":"aGk="}]}`, wantStatus: 400, wantCode: "ValidationException", wantMessage: "Value null at 'deliveryStreamName'"},
		{name: "body over the guard", body: `{"DeliveryStreamName":"` + stream + `","Records":[{"Data":"` + strings.Repeat("QUFB", 300) + `"}]}`, wantStatus: 413, wantCode: "RequestEntityTooLargeException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &firehoselocal.MemorySink{}
			// Mounted as a plain http.Handler, as callers may do.
			srv := httptest.NewServer(firehoselocal.New(firehoselocal.WithStream(stream, sink), firehoselocal.WithMaxRequestBytes(1000)))
			defer srv.Close()

			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+"/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			set := func(k, v, def string) {
				switch v {
				case "-":
				case "":
					req.Header.Set(k, def)
				default:
					req.Header.Set(k, v)
				}
			}
			set("X-Amz-Target", tt.target, "Firehose_20150804.PutRecordBatch")
			set("Content-Type", tt.contentType, "application/x-amz-json-1.1")
			set("Authorization", tt.auth, goodAuth)
			if !tt.noDate {
				req.Header.Set("X-Amz-Date", "20250101T000000Z")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type: got %q, want application/x-amz-json-1.1", got)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Errorf("X-Amzn-RequestId: got none, want an id")
			}
			if got := resp.Header.Get("X-Amzn-Errortype"); got != tt.wantCode {
				t.Errorf("X-Amzn-ErrorType: got %q, want %q", got, tt.wantCode)
			}
			if tt.wantCode == "" {
				var out struct {
					FailedPutCount   *int
					Encrypted        *bool
					RequestResponses []map[string]string
				}
				if err := json.Unmarshal(body, &out); err != nil {
					t.Fatalf("decode response %s: %v", body, err)
				}
				if out.FailedPutCount == nil || *out.FailedPutCount != 0 || out.Encrypted == nil || *out.Encrypted || len(out.RequestResponses) != 1 || out.RequestResponses[0]["RecordId"] == "" {
					t.Errorf("response: got %s, want FailedPutCount 0, Encrypted false, one RecordId", body)
				}
				if got := sink.Len(); got != 1 {
					t.Errorf("sink.Len: got %d, want 1", got)
				}
				return
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("decode error body %s: %v", body, err)
			}
			if e.Type != tt.wantCode {
				t.Errorf("__type: got %q, want %q", e.Type, tt.wantCode)
			}
			if !strings.Contains(e.Message, tt.wantMessage) {
				t.Errorf("message: got %q, want it to contain %q", e.Message, tt.wantMessage)
			}
			if got := sink.Len(); got != 0 {
				t.Errorf("sink.Len: got %d, want 0", got)
			}
		})
	}
}
