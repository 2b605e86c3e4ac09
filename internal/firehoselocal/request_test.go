package firehoselocal

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDecodeInput(t *testing.T) {
	tests := []struct {
		name        string
		op          string
		body        string
		wantFast    bool
		wantErr     bool
		wantStream  string
		wantRecords []string // "<nil>" for a null record
		wantHasRecs bool
	}{
		{name: "sdk shape", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s","Records":[{"Data":"` + b64("a") + `"},{"Data":"` + b64("bcd") + `"},{"Data":""}]}`,
			wantFast: true, wantStream: "s", wantRecords: []string{"a", "bcd", ""}, wantHasRecs: true},
		{name: "white space", op: OperationPutRecordBatch, body: "\t{ \"Records\" :[ ] ,\r\n\"DeliveryStreamName\":\"s\" }\n",
			wantFast: true, wantStream: "s", wantRecords: []string{}, wantHasRecs: true},
		{name: "missing Data", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s","Records":[{}]}`,
			wantFast: true, wantStream: "s", wantRecords: []string{"<nil>"}, wantHasRecs: true},
		{name: "null Data falls back", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s","Records":[{"Data":null}]}`,
			wantStream: "s", wantRecords: []string{"<nil>"}, wantHasRecs: true},
		{name: "escaped stream name falls back", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"\u0073","Records":[{"Data":"` + b64("x") + `"}]}`,
			wantStream: "s", wantRecords: []string{"x"}, wantHasRecs: true},
		{name: "unknown key falls back", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s","Extra":{"a":[1,2]},"Records":[{"Data":"` + b64("x") + `"}]}`,
			wantStream: "s", wantRecords: []string{"x"}, wantHasRecs: true},
		{name: "no records", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s"}`,
			wantFast: true, wantStream: "s"},
		{name: "put record", op: OperationPutRecord, body: `{"DeliveryStreamName":"s","Record":{"Data":"` + b64("one") + `"}}`,
			wantFast: true, wantStream: "s", wantRecords: []string{"one"}, wantHasRecs: true},
		{name: "put record ignores Records", op: OperationPutRecord, body: `{"DeliveryStreamName":"s","Records":[{"Data":"` + b64("x") + `"}]}`,
			wantStream: "s"},
		{name: "unpadded base64", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s","Records":[{"Data":"YQ"}]}`, wantErr: true},
		{name: "trailing garbage", op: OperationPutRecordBatch, body: `{"DeliveryStreamName":"s"} x`, wantErr: true},
		{name: "not an object", op: OperationPutRecordBatch, body: `[]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fast := fastDecode(tt.op, []byte(tt.body))
			if fast != tt.wantFast {
				t.Errorf("fastDecode ok: got %v, want %v", fast, tt.wantFast)
			}
			in, err := decodeInput(tt.op, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeInput error: got %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if in.stream != tt.wantStream || !in.hasStream {
				t.Errorf("decodeInput stream: got %q (present %v), want %q", in.stream, in.hasStream, tt.wantStream)
			}
			if in.hasRecords != tt.wantHasRecs {
				t.Errorf("decodeInput has records: got %v, want %v", in.hasRecords, tt.wantHasRecs)
			}
			bothEmpty := len(in.records) == 0 && len(tt.wantRecords) == 0
			if got := render(in.records); !bothEmpty && got != fmt.Sprint(tt.wantRecords) {
				t.Errorf("decodeInput records: got %s, want %v", got, tt.wantRecords)
			}
		})
	}
}

func render(records [][]byte) string {
	s := make([]string, len(records))
	for i, r := range records {
		if r == nil {
			s[i] = "<nil>"
		} else {
			s[i] = string(r)
		}
	}
	return fmt.Sprint(s)
}

// TestDecodeDoesNotAliasBody checks that decoded records survive the reuse
// of the request buffer, as the Sink contract promises.
func TestDecodeDoesNotAliasBody(t *testing.T) {
	for _, body := range []string{
		`{"DeliveryStreamName":"s","Records":[{"Data":"` + b64("keep me") + `"}]}`,       // fast path
		`{"DeliveryStreamName":"s","Records":[{"Data":"` + b64("keep me") + `"}],"X":1}`, // encoding/json
	} {
		buf := []byte(body)
		in, err := decodeInput(OperationPutRecordBatch, buf)
		if err != nil {
			t.Fatalf("decodeInput(%s): %v", body, err)
		}
		for i := range buf {
			buf[i] = 'Z'
		}
		if got := string(in.records[0]); got != "keep me" {
			t.Errorf("record after the body is overwritten: got %q, want %q", got, "keep me")
		}
	}
}

// FuzzDecodeInput checks that the fast path, whenever it accepts a body,
// decodes it exactly as encoding/json does.
func FuzzDecodeInput(f *testing.F) {
	f.Add(`{"DeliveryStreamName":"s","Records":[{"Data":"YQ=="},{"Data":""},{}]}`)
	f.Add(`{"Records":[],"DeliveryStreamName":"a.b-c_d"}`)
	f.Add(`{"DeliveryStreamName":"s","Record":{"Data":"YWJj"}}`)
	f.Add(` { "DeliveryStreamName" : "s" , "Records" : [ { "Data" : "YWI=" } ] } `)
	f.Fuzz(func(t *testing.T, body string) {
		for _, op := range []string{OperationPutRecordBatch, OperationPutRecord} {
			fast, ok := fastDecode(op, []byte(body))
			if !ok {
				continue
			}
			slow, err := jsonDecode(op, []byte(body))
			if err != nil {
				t.Fatalf("%s: fast path accepted %q, encoding/json says %v", op, body, err)
			}
			if fast.stream != slow.stream || fast.hasStream != slow.hasStream || fast.hasRecords != slow.hasRecords || len(fast.records) != len(slow.records) {
				t.Fatalf("%s %q: fast %+v, encoding/json %+v", op, body, fast, slow)
			}
			for i := range fast.records {
				if (fast.records[i] == nil) != (slow.records[i] == nil) || !bytes.Equal(fast.records[i], slow.records[i]) {
					t.Fatalf("%s %q record %d: fast %q, encoding/json %q", op, body, i, fast.records[i], slow.records[i])
				}
			}
		}
	})
}

func TestValidateMessages(t *testing.T) {
	big := make([]byte, MaxRecordBytes+1)
	tests := []struct {
		name string
		op   string
		in   putInput
		want string // "" for no error
	}{
		{"valid", OperationPutRecordBatch, putInput{stream: "s", hasStream: true, records: [][]byte{{}}, hasRecords: true}, ""},
		{"one violation", OperationPutRecordBatch, putInput{stream: "s", hasStream: true, records: [][]byte{big}, hasRecords: true},
			"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'records.1.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"},
		{"two violations", OperationPutRecordBatch, putInput{stream: "", hasStream: true, records: [][]byte{nil}, hasRecords: true},
			"2 validation errors detected: Value '' at 'deliveryStreamName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null"},
		{"put record null", OperationPutRecord, putInput{stream: "s", hasStream: true},
			"1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must not be null"},
		{"501 records", OperationPutRecordBatch, putInput{stream: "s", hasStream: true, records: make([][]byte, 501), hasRecords: true}, "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := validate(tt.op, tt.in)
			switch {
			case tt.want == "" && ce != nil:
				t.Errorf("validate: got %v, want nil", ce)
			case tt.want != "" && ce == nil:
				t.Errorf("validate: got nil, want %q", tt.want)
			case tt.want != "" && (ce.Code != CodeValidation || ce.Status != 400 || !strings.Contains(ce.Message, tt.want)):
				t.Errorf("validate: got %v, want 400 ValidationException containing %q", ce, tt.want)
			}
		})
	}
}

func BenchmarkDecodeInput(b *testing.B) {
	var body strings.Builder
	body.WriteString(`{"DeliveryStreamName":"s","Records":[`)
	rec := b64(strings.Repeat(`{"pk":"x","n":1}`, 20) + "\n")
	for i := 0; i < MaxRecordsPerCall; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"Data":"` + rec + `"}`)
	}
	body.WriteString(`]}`)
	data := []byte(body.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeInput(OperationPutRecordBatch, data); err != nil {
			b.Fatal(err)
		}
	}
}
