package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/schemas"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// batchAnswers are PutRecordBatch answer bodies (HTTP 200): Firehose's
// own, and what a faulty proxy, a corrupted response or a future API
// could send.
var batchAnswers = []string{
	`{"Encrypted":false,"FailedPutCount":0,"RequestResponses":[{"RecordId":"49543463076548007577105092703039560359975228518395012686"},{"RecordId":"b"}]}`,
	`{"FailedPutCount":2,"RequestResponses":[{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},{"RecordId":"x"},{"ErrorCode":"InternalFailure","ErrorMessage":"esc\u0061ped \"quote\" \\ \/ \u00e9 \ud83e\udd9b"}]}`,
	` { "Encrypted" : true , "FailedPutCount" : 1 , "RequestResponses" : [ { "RecordId" : "a" } , { "ErrorCode" : "E" } ] } `,
	`{"RequestResponses":[]}`,
	`{}`,
	``,
	`   `,
	`null`,
	`{"FailedPutCount":null,"RequestResponses":null,"Encrypted":null}`,
	`{"RequestResponses":[null,{"RecordId":null},{},{"RecordId":""}]}`,
	`{"Future":{"a":[1,2.5,{"b":null}],"c":"d"},"RequestResponses":[{"RecordId":"a","Extra":true,"More":[{}]}],"Later":null}`,
	`{"RequestResponses":[{"RecordId":"a"}],"RequestResponses":[{"RecordId":"b"},{"RecordId":"c"}]}`,
	`{"FailedPutCount":1,"FailedPutCount":2}`,
	`{"Failed\u0050utCount":3,"Request\u0052esponses":[{"Record\u0049d":"\u0041"}]}`,
	`{"RequestResponses":[{"RecordId":"a\u0000b"}]}`,
	"{\"RequestResponses\":[{\"RecordId\":\"\xff\xfe\"}]}",
	`{"FailedPutCount":-0}`,
	`{"FailedPutCount":2147483647}`,
	`{"FailedPutCount":-2147483648}`,
	// Wrong types and broken JSON: errors.
	`{"FailedPutCount":2147483648}`,
	`{"FailedPutCount":"1"}`,
	`{"FailedPutCount":1.0}`,
	`{"FailedPutCount":1e2}`,
	`{"FailedPutCount":true}`,
	`{"FailedPutCount":{}}`,
	`{"Encrypted":"true"}`,
	`{"Encrypted":1}`,
	`{"RequestResponses":{}}`,
	`{"RequestResponses":"x"}`,
	`{"RequestResponses":[1]}`,
	`{"RequestResponses":[[]]}`,
	`{"RequestResponses":[{"RecordId":1}]}`,
	`{"RequestResponses":[{"RecordId":["a"]}]}`,
	`{"RequestResponses":[{"ErrorCode":{}}]}`,
	`[]`,
	`"x"`,
	`1`,
	`{"RequestResponses":[{"RecordId":"a"}`,
	`{"RequestResponses":[{"RecordId":"a"},]}`,
	`{"RecordId":"a",}`,
	`{"RequestResponses":[{"RecordId":"a\x"}]}`,
	"{\"RequestResponses\":[{\"RecordId\":\"a\nb\"}]}",
	`{"FailedPutCount":01}`,
	`{,}`,
	`{"a"}`,
	`{} x`,
	`{}{}`,
	`{"RequestResponses":[]} ]`,
}

// deepAnswers nest arrays and objects in members the API does not have,
// at the top and in an entry, around the SDK's parser's limit (10,000
// levels in all): the deepest are errors. They are FuzzDecodeBatchResponse's
// seeds, compared with the SDK's deserializer directly, not through the
// client: in one CI run the SDK's call for a 9,997-level answer failed
// reading it ("use of closed network connection") instead of decoding it,
// after answers the SDK had stopped reading; ten runs under -race did not
// repeat it, but the transport has no part in what is compared.
func deepAnswers() []string {
	var out []string
	for _, n := range []int{9997, 9998, 9999, 10000} {
		for _, v := range []string{
			strings.Repeat("[", n) + strings.Repeat("]", n),
			strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n),
		} {
			out = append(out,
				`{"Future":`+v+`,"RequestResponses":[{"RecordId":"a"}]}`,
				`{"RequestResponses":[{"RecordId":"a","Future":`+v+`}]}`)
		}
	}
	return out
}

// TestDecodeBatchResponseMatchesSDK sends each answer through the real
// client with the SDK's deserializer and with decodeBatchResponse
// (requestBody's protocol), from a loopback server: both must fail, or
// both decode the same output.
func TestDecodeBatchResponseMatchesSDK(t *testing.T) {
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	client := loopbackClient(srv.URL)
	in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"), Records: []types.Record{{Data: []byte("x")}}}
	type fields struct {
		Encrypted        *bool
		FailedPutCount   *int32
		RequestResponses []types.PutRecordBatchResponseEntry
	}
	of := func(o *firehose.PutRecordBatchOutput) fields {
		if o == nil {
			return fields{}
		}
		return fields{o.Encrypted, o.FailedPutCount, o.RequestResponses}
	}
	decoded := 0
	for _, a := range batchAnswers {
		answer = a
		sdkOut, sdkErr := client.PutRecordBatch(context.Background(), in)
		ourOut, ourErr := client.PutRecordBatch(context.Background(), in, newRequestBody(nil).apply)
		if (sdkErr == nil) != (ourErr == nil) {
			t.Errorf("answer %q: SDK error %v, decodeBatchResponse error %v", a, sdkErr, ourErr)
			continue
		}
		if sdkErr != nil {
			continue
		}
		decoded++
		if got, want := of(ourOut), of(sdkOut); !reflect.DeepEqual(got, want) {
			t.Errorf("answer %q:\ndecodeBatchResponse %s\nSDK                 %s", a, show(got), show(want))
		}
	}
	if decoded < 15 {
		t.Errorf("%d answers decoded, want the first 19 at least", decoded)
	}
}

// show prints a decoded output with what its pointers point to.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// FuzzDecodeBatchResponse holds decodeBatchResponse to the SDK's own
// deserializer (the protocol firehose.New sets) on any successful answer's
// body: both fail, or both decode the same output.
func FuzzDecodeBatchResponse(f *testing.F) {
	for _, a := range append(batchAnswers, deepAnswers()...) {
		f.Add([]byte(a))
	}
	proto := firehose.New(firehose.Options{Region: "us-east-1"}).Options().Protocol
	op := smithy.NewOperationSchema(schemas.PutRecordBatch, schemas.PutRecordBatchInput, schemas.PutRecordBatchOutput)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &smithyhttp.Response{Response: &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}}
		var sdkOut, ourOut firehose.PutRecordBatchOutput
		sdkErr := proto.DeserializeResponse(context.Background(), op, firehose.TypeRegistry, resp, &sdkOut)
		ourErr := decodeBatchResponse(body, &ourOut)
		if (sdkErr == nil) != (ourErr == nil) {
			t.Fatalf("answer %q: SDK error %v, decodeBatchResponse error %v", body, sdkErr, ourErr)
		}
		if sdkErr != nil {
			return
		}
		got := []any{ourOut.Encrypted, ourOut.FailedPutCount, ourOut.RequestResponses}
		want := []any{sdkOut.Encrypted, sdkOut.FailedPutCount, sdkOut.RequestResponses}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("answer %q:\ndecodeBatchResponse %s\nSDK                 %s", body, show(got), show(want))
		}
	})
}
