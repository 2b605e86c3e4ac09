package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// FuzzConvertImage checks the fast path against the reference on any
// input, in both formats: the same bytes, or an error from both.
func FuzzConvertImage(f *testing.F) {
	for _, im := range eventImages(f, "*.json") {
		f.Add(im)
	}
	for _, tc := range convertCases {
		f.Add([]byte(tc.image))
	}
	f.Fuzz(func(t *testing.T, image []byte) {
		// The scanner accepts exactly what encoding/json does (but for
		// its nesting limit: the scanner has none).
		sc := scanner{data: image}
		err := sc.skip()
		if err == nil {
			if sc.ws(); sc.pos != len(image) {
				err = sc.errorf("data after the value")
			}
		}
		if valid := json.Valid(image); valid != (err == nil) && (valid || nesting(image) <= jsonMaxDepth) {
			t.Fatalf("scanner.skip(%q) error %v, json.Valid %v", image, err, valid)
		}

		plain, plainErr := convertBoth(t, image, FormatJSON)
		typed, typedErr := convertBoth(t, image, FormatDynamoDBJSON)
		if (plainErr == nil) != (typedErr == nil) {
			t.Fatalf("ConvertImage(%q): json error %v, dynamodb-json error %v; want both or neither", image, plainErr, typedErr)
		}
		if plainErr != nil {
			// On error dst comes back as it was.
			prefix := []byte("prefix")
			if got, _ := ConvertImage(prefix, image, FormatJSON); string(got) != "prefix" {
				t.Fatalf("ConvertImage(%q, %q) after an error: got %q, want %q", prefix, image, got, prefix)
			}
			return
		}
		for _, out := range [][]byte{plain, typed} {
			if !json.Valid(out) || bytes.IndexByte(out, '\n') >= 0 {
				t.Fatalf("ConvertImage(%q) = %q, want one line of valid JSON", image, out)
			}
		}
		// DynamoDB JSON output is canonical: converting it again changes
		// nothing, and it converts to the same plain JSON as the input.
		again, err := ConvertImage(nil, typed, FormatDynamoDBJSON)
		if err != nil || !bytes.Equal(again, typed) {
			t.Fatalf("ConvertImage(%s, dynamodb-json): got %s, %v, want it unchanged", typed, again, err)
		}
		if p, err := ConvertImage(nil, typed, FormatJSON); err != nil || !bytes.Equal(p, plain) {
			t.Fatalf("ConvertImage(%s, json): got %s, %v, want %s", typed, p, err, plain)
		}
		// The result is appended to dst.
		prefix := []byte("prefix")
		if got, _ := ConvertImage(prefix, image, FormatJSON); !bytes.Equal(got, append(prefix, plain...)) {
			t.Fatalf("ConvertImage(%q, %q): got %q, want %q", prefix, image, got, append(prefix, plain...))
		}
	})
}

// fakeFirehose answers PutRecordBatch with the function itself.
type fakeFirehose func(ctx context.Context, in *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)

func (f fakeFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	return f(ctx, in, optFns...)
}

// collectingFirehose returns a fake that takes every record and a function
// returning the records taken so far. It fails a call outside Firehose's
// limits, which Archive must never make.
func collectingFirehose() (fakeFirehose, func() [][]byte) {
	var mu sync.Mutex
	var got [][]byte
	fake := func(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
		size := 0
		for _, r := range in.Records {
			size += len(r.Data)
		}
		if len(in.Records) == 0 || len(in.Records) > MaxRecordsPerCall || size > MaxBytesPerCall {
			return nil, errors.New("fake: call outside Firehose's limits")
		}
		mu.Lock()
		for _, r := range in.Records {
			got = append(got, bytes.Clone(r.Data))
		}
		mu.Unlock()
		out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
		for i := range out.RequestResponses {
			out.RequestResponses[i].RecordId = aws.String("id")
		}
		return out, nil
	}
	return fake, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// streamEventShape tells with encoding/json whether payload is valid JSON
// and a DynamoDB stream event: an object whose members named Records are
// arrays, at least one, of objects whose eventSource is "aws:dynamodb". It
// returns the number of their elements.
func streamEventShape(payload []byte) (valid, event bool, records int) {
	if !json.Valid(payload) {
		return false, false, 0
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return true, false, 0
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return true, false, 0
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return true, false, 0
		}
		if tok.(string) != "Records" {
			continue
		}
		if v[0] != '[' {
			return true, false, 0
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return true, false, 0
		}
		for _, e := range elems {
			var fields map[string]json.RawMessage // exact names, the last of duplicates
			var source string
			if json.Unmarshal(e, &fields) != nil || json.Unmarshal(fields["eventSource"], &source) != nil || source != "aws:dynamodb" {
				return true, false, 0
			}
		}
		found = true
		records += len(elems)
	}
	return true, found, records
}

// nesting returns the deepest nesting of arrays and objects in JSON text.
func nesting(data []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// jsonMaxDepth is encoding/json's nesting limit: it rejects deeper text as
// invalid, while the archiver's scanner has no limit but the payload size.
const jsonMaxDepth = 10000

// FuzzArchivePayload feeds any payload to Archive and checks what must
// hold whatever the payload: no panic; an error only for a payload that is
// not valid JSON or not a stream event; whole lines of valid JSON within
// Firehose's limits; every record counted once.
func FuzzArchivePayload(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("glob events/*.json: %v (%d files)", err, len(files))
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false, false)
		f.Add(data, true, true)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"Records":[]}`, `{"Records":{}}`, `{"Records":[1,"x",null,{}]}`,
		`{"Records":[{"eventName":"REMOVE"}]}`, `{"Records":[],"Records":[{}]}`, `{"Records":[{"eventSource":"aws:dynamodb","eventName":"REMOVE"}]}`,
		`{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`} {
		f.Add([]byte(s), false, true)
	}
	for _, p := range deepPayloads() {
		f.Add([]byte(p.payload), false, false)
	}
	f.Fuzz(func(t *testing.T, payload []byte, typed, pack bool) {
		fake, taken := collectingFirehose()
		cfg := Config{StreamName: "fuzz", BatchSize: MaxRecordsPerCall, Format: FormatJSON, Pack: pack, Concurrency: 2}
		if typed {
			cfg.Format = FormatDynamoDBJSON
		}
		a, err := New(fake, cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		type result struct {
			res Result
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := a.Archive(context.Background(), payload)
			done <- result{res, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Archive(%q) still running after 10s", payload)
		}
		res, err := r.res, r.err

		valid, event, records := streamEventShape(payload)
		c := res.Counts
		switch {
		case err != nil && errors.Is(err, ErrUnreportable):
			if c.Oversize == 0 {
				t.Fatalf("Archive(%q) error %v with no oversize record", payload, err)
			}
		case err != nil:
			if valid && event {
				t.Fatalf("Archive(%q) error %v for a valid stream event", payload, err)
			}
			return
		case !valid && nesting(payload) <= jsonMaxDepth:
			t.Fatalf("Archive(%q) succeeded on invalid JSON", payload)
		case valid && !event:
			t.Fatalf("Archive(%q) succeeded on a payload that is not a stream event", payload)
		}

		if valid && c.Received != records {
			t.Errorf("Archive(%q): Received %d, want %d records", payload, c.Received, records)
		}
		if c.Archived+c.Failed+c.SkippedTotal() != c.Received {
			t.Errorf("Archive(%q): Archived %d + Failed %d + skipped %d != Received %d", payload, c.Archived, c.Failed, c.SkippedTotal(), c.Received)
		}
		if c.Failed != c.Oversize {
			t.Errorf("Archive(%q): Failed %d with every record taken, want Oversize %d", payload, c.Failed, c.Oversize)
		}
		lines := 0
		for _, rec := range taken() {
			if len(rec) > MaxRecordBytes {
				t.Errorf("Archive(%q): a Firehose record of %d bytes, over %d", payload, len(rec), MaxRecordBytes)
			}
			if len(rec) == 0 || rec[len(rec)-1] != '\n' {
				t.Fatalf("Archive(%q): Firehose record %q does not end in a newline", payload, rec)
			}
			if !pack && bytes.Count(rec, []byte("\n")) != 1 {
				t.Fatalf("Archive(%q): unpacked Firehose record %q is not one line", payload, rec)
			}
			for _, line := range bytes.SplitAfter(rec[:len(rec)-1], []byte("\n")) {
				lines++
				line = bytes.TrimSuffix(line, []byte("\n"))
				if !json.Valid(line) {
					t.Fatalf("Archive(%q): line %q is not valid JSON", payload, line)
				}
				if _, err := ParseLine(line); err != nil {
					t.Fatalf("Archive(%q): ParseLine(%q): %v", payload, line, err)
				}
			}
		}
		if lines != c.Archived {
			t.Errorf("Archive(%q): %d lines taken, want Archived %d", payload, lines, c.Archived)
		}
		if len(res.Response.BatchItemFailures) > c.Failed {
			t.Errorf("Archive(%q): %d batch item failures, want at most Failed %d", payload, len(res.Response.BatchItemFailures), c.Failed)
		}
	})
}

// ttlRecord returns a TTL deletion record with the given OldImage and an
// extra field.
func ttlRecord(oldImage, extra string) string {
	return `{"eventSource":"aws:dynamodb","eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},` +
		`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2025-01-01T00:00:00.000",` +
		`"extra":` + extra + `,` +
		`"dynamodb":{"SequenceNumber":"1","ApproximateCreationDateTime":1763856000,"Keys":{"k":{"S":"1"}},"OldImage":` + oldImage + `}}`
}

type deepPayload struct {
	name      string
	payload   string
	skipped   int  // records skipped
	raw       bool // the TTL record is archived raw
	rawBase64 bool // ... as base64, encoding/json refusing its depth
}

// deepPayloads are valid stream events nested deeper than any DynamoDB
// item can be. Each record must be skipped or archived on its own, never
// fail the batch.
func deepPayloads() []deepPayload {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	image := func(n int) string { return `{"a":` + nestM(n, `{"S":"x"}`) + `}` }
	return []deepPayload{
		{name: "deep field in an insert",
			payload: `{"Records":[{"eventSource":"aws:dynamodb","eventName":"INSERT","x":` + deep(200) + `}]}`, skipped: 1},
		{name: "deep field in a TTL deletion",
			payload: `{"Records":[` + ttlRecord(`{"a":{"S":"x"}}`, deep(300)) + `]}`},
		{name: "image too deep to convert",
			payload: `{"Records":[` + ttlRecord(image(maxTypedDepth+10), `null`) + `]}`, raw: true},
		{name: "image deeper than encoding/json's limit",
			payload: `{"Records":[` + ttlRecord(image(jsonMaxDepth/2+10), `null`) + `]}`, raw: true, rawBase64: true},
		{name: "deep record among good ones",
			payload: `{"Records":[` + ttlRecord(`{"a":{"S":"x"}}`, `1`) + `,` + ttlRecord(image(100), deep(500)) + `,` + ttlRecord(`{"a":{"S":"x"}}`, `1`) + `]}`, raw: true},
	}
}

// TestArchiveDeepPayload checks that nesting, however deep, fails no batch:
// the scanner passes over any depth, and an image the converter will not
// follow is archived raw.
func TestArchiveDeepPayload(t *testing.T) {
	for _, tc := range deepPayloads() {
		t.Run(tc.name, func(t *testing.T) {
			fake, taken := collectingFirehose()
			a, err := New(fake, Config{StreamName: "deep", BatchSize: 10, Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Archive(context.Background(), []byte(tc.payload))
			if err != nil {
				t.Fatalf("Archive: got error %v, want none", err)
			}
			c := res.Counts
			if c.SkippedTotal() != tc.skipped || c.Archived != c.Received-tc.skipped {
				t.Errorf("Archive: got %d skipped, %d archived of %d, want %d skipped and the rest archived", c.SkippedTotal(), c.Archived, c.Received, tc.skipped)
			}
			raw, rawBase64 := 0, 0
			for _, rec := range taken() {
				l, err := ParseLine(rec)
				if err != nil {
					t.Fatalf("ParseLine(%.200q): %v", rec, err)
				}
				if l.Error != "" {
					raw++
				}
				if len(l.RawBase64) > 0 {
					rawBase64++
				}
			}
			if (raw > 0) != tc.raw || (rawBase64 > 0) != tc.rawBase64 || raw != c.RawArchived {
				t.Errorf("Archive: got %d lines with an error (RawArchived %d), %d with raw_base64, want raw %v, raw_base64 %v", raw, c.RawArchived, rawBase64, tc.raw, tc.rawBase64)
			}
		})
	}
}

// TestScannerSkip checks the scanner passes over exactly one valid JSON
// value, at any depth.
func TestScannerSkip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		rest string // left after the value; "error" for a syntax error
	}{
		{"string", `"a\"b" ,`, ` ,`},
		{"number", `-1.5e+3]`, `]`},
		{"literals", `[true,false,null]x`, `x`},
		{"empty object and array", `[{},[],{"a":[]}] `, ` `},
		{"object", `{"a":1,"b":{"c":[1,2,{"d":null}]}}}`, `}`},
		{"white space", " { \"a\" : [ 1 , 2 ] } ", " "},
		{"deep", strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + ",", ","},
		{"deep objects", strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000), ""},
		{"empty", ``, "error"},
		{"unclosed array", `[1,2`, "error"},
		{"unclosed deep array", strings.Repeat("[", 1000), "error"},
		{"trailing comma in array", `[1,]`, "error"},
		{"trailing comma in object", `{"a":1,}`, "error"},
		{"missing colon", `{"a" 1}`, "error"},
		{"name not a string", `{1:1}`, "error"},
		{"mismatched close", `[1}`, "error"},
		{"mismatched close in object", `{"a":1]`, "error"},
		{"bad literal", `[tru]`, "error"},
		{"bad number", `[01]`, "error"},
		{"nul byte", "\x00", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := scanner{data: []byte(tc.in)}
			err := s.skip()
			switch {
			case tc.rest == "error" && err == nil:
				t.Errorf("skip(%.40q) left %.40q, want an error", tc.in, tc.in[s.pos:])
			case tc.rest != "error" && err != nil:
				t.Errorf("skip(%.40q) error %v, want %q left", tc.in, err, tc.rest)
			case tc.rest != "error" && tc.in[s.pos:] != tc.rest:
				t.Errorf("skip(%.40q): got %q left, want %q", tc.in, tc.in[s.pos:], tc.rest)
			}
			if err != nil && !isSyntaxError(err) {
				t.Errorf("skip(%.40q) error %T, want a syntax error", tc.in, err)
			}
		})
	}
}
