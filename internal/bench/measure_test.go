package bench

import (
	"bytes"
	"context"
	"math"
	"runtime/pprof"
	"strings"
	"testing"
)

func TestSample(t *testing.T) {
	s := Sample{5, 1, 3, 2, 4}
	if got := s.Median(); got != 3 {
		t.Errorf("Median() = %v, want 3", got)
	}
	if got := (Sample{1, 2, 3, 4}).Median(); got != 2.5 {
		t.Errorf("Median() of 4 = %v, want 2.5", got)
	}
	if s.Min() != 1 || s.Max() != 5 {
		t.Errorf("Min, Max = %v, %v, want 1, 5", s.Min(), s.Max())
	}
	if got := Ratio(Sample{2, 9}, Sample{4, 3}); got[0] != 0.5 || got[1] != 3 {
		t.Errorf("Ratio = %v, want [0.5 3]", got)
	}
	if got := (Sample{}).Median(); !math.IsNaN(got) {
		t.Errorf("Median() of none = %v, want NaN", got)
	}
	if got := s.Format(f0); got != "3 (1–5)" {
		t.Errorf("Format = %q, want %q", got, "3 (1–5)")
	}
}

func TestParseInitTrace(t *testing.T) {
	trace := "init internal/bytealg @0.010 ms, 0 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @5.1 ms, 2.5 ms clock, 586696 bytes, 9000 allocs\n" +
		"some other stderr line\n" +
		"init main @9.0 ms, 0.5 ms clock, 10 bytes, 1 allocs\n"
	got := parseInitTrace(trace)
	if len(got.Packages) != 3 || got.Total != 3 || got.Done != 9.5 {
		t.Fatalf("parseInitTrace = %+v, want 3 packages, total 3 ms, done at 9.5 ms", got)
	}
	if p := got.Packages[1]; p.Package != "github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas" || p.Bytes != 586696 {
		t.Errorf("package 1 = %+v", p)
	}
	if g := initGroup(got.Packages[1].Package); g != InitDynamoDB {
		t.Errorf("initGroup(dynamodb/schemas) = %q, want %q", g, InitDynamoDB)
	}
	if g := initGroup("net/netip"); g != InitStd {
		t.Errorf("initGroup(net/netip) = %q, want %q", g, InitStd)
	}
}

func TestCategorize(t *testing.T) {
	tests := []struct {
		name   string
		funcs  []string // leaf first
		labels map[string]string
		want   string
	}{
		{"runtime API by label", []string{"syscall.Syscall", "net/http.(*persistConn).readLoop"}, map[string]string{"part": "runtime"}, CatRuntime},
		{"GC worker", []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, nil, CatGC},
		{"payload hash under the serializer's frame", []string{"crypto/sha256.blockSHANI", "github.com/aws/aws-sdk-go-v2/aws/signer/v4.(*ComputePayloadSHA256).HandleFinalize", "github.com/aws/smithy-go/middleware.(*SerializeStep).HandleMiddleware", "github.com/aws/aws-sdk-go-v2/service/firehose.(*Client).PutRecordBatch"}, nil, CatSign},
		{"base64 of a record", []string{"encoding/base64.(*Encoding).Encode", "github.com/aws/smithy-go/transport/http/protocol/internal/json.(*ShapeSerializer).WriteBlob", "github.com/aws/aws-sdk-go-v2/service/firehose.(*PutRecordBatchInput).Serialize", "github.com/aws/smithy-go/middleware.(*SerializeStep).HandleMiddleware"}, nil, CatEncode},
		{"base64 of the request body", []string{"encoding/base64.(*Encoding).Encode", "encoding/base64.(*Encoding).AppendEncode", "github.com/ttl-archiver/ttl-archiver/archive.(*requestBody).set", "github.com/ttl-archiver/ttl-archiver/archive.requestBodyProtocol.SerializeRequest"}, nil, CatEncode},
		{"the body's hash as it is encoded", []string{"crypto/internal/fips140/sha256.blockSHANI", "crypto/internal/fips140/sha256.(*Digest).Write", "github.com/ttl-archiver/ttl-archiver/archive.(*requestBody).set", "github.com/ttl-archiver/ttl-archiver/archive.requestBodyProtocol.SerializeRequest"}, nil, CatSign},
		{"the body copied by net/http's write", []string{"runtime.memmove", "github.com/ttl-archiver/ttl-archiver/archive.(*requestBody).Read", "net/http.(*transferWriter).writeBody", "net/http.(*persistConn).writeLoop"}, nil, CatEncode},
		{"socket write under the middleware", []string{"syscall.write", "net.(*conn).Write", "net/http.(*persistConn).roundTrip", "github.com/aws/smithy-go/middleware.(*DeserializeStep).HandleMiddleware", "github.com/aws/smithy-go/middleware.(*SerializeStep).HandleMiddleware"}, nil, CatHTTP},
		{"endpoint rules in the serialize step", []string{"github.com/aws/smithy-go/endpoints/private/rulesfn.IsValidHostLabel", "github.com/aws/aws-sdk-go-v2/service/firehose.(*ResolveEndpoint).HandleSerialize"}, nil, CatSDKOther},
		{"response decoding", []string{"github.com/aws/smithy-go/transport/http/protocol/internal/json.(*ShapeDeserializer).ReadString", "github.com/aws/aws-sdk-go-v2/service/firehose.(*PutRecordBatchOutput).Deserialize", "github.com/aws/smithy-go/middleware.(*DeserializeStep).HandleMiddleware"}, nil, CatDecode},
		{"the request body's base64 by the archiver's encoder", []string{"github.com/ttl-archiver/ttl-archiver/archive.base64Word", "github.com/ttl-archiver/ttl-archiver/archive.appendBase64", "github.com/ttl-archiver/ttl-archiver/archive.(*requestBody).set", "github.com/ttl-archiver/ttl-archiver/archive.requestBodyProtocol.SerializeRequest"}, nil, CatEncode},
		{"the answer decoded by the archiver's scanner", []string{"github.com/ttl-archiver/ttl-archiver/archive.(*scanner).str", "github.com/ttl-archiver/ttl-archiver/archive.decodeBatchResponse", "github.com/ttl-archiver/ttl-archiver/archive.requestBodyProtocol.DeserializeResponse", "github.com/aws/aws-sdk-go-v2/service/firehose.(*deserializeResponseMiddleware).HandleDeserialize"}, nil, CatDecode},
		{"the archiver", []string{"runtime.memmove", "github.com/ttl-archiver/ttl-archiver/archive.(*batch).appendLine"}, nil, CatArchive},
		{"scheduler", []string{"runtime.futex", "runtime.schedule"}, nil, CatOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := categorize(profileSample{funcs: tt.funcs, labels: tt.labels}); got != tt.want {
				t.Errorf("categorize = %q, want %q", got, tt.want)
			}
		})
	}
}

//go:noinline
func spinForProfile(n int) int {
	x := 0
	for i := range n {
		x ^= i * 2654435761
	}
	return x
}

// TestParseProfile reads a profile runtime/pprof wrote: the labelled
// function must be found, with its label and CPU values.
func TestParseProfile(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profiler busy: %v", err)
	}
	c0 := ProcessCPU()
	sink := 0
	pprof.Do(context.Background(), pprof.Labels("part", "runtime"), func(context.Context) {
		for ProcessCPU()-c0 < 300e6 {
			sink += spinForProfile(1 << 16)
		}
	})
	pprof.StopCPUProfile()
	_ = sink
	p, err := parseProfile(buf.Bytes())
	if err != nil {
		t.Fatalf("parseProfile: %v", err)
	}
	vi := p.valueIndex("cpu")
	if vi < 0 {
		t.Fatalf("sample types %v, want cpu", p.sampleTypes)
	}
	found := false
	for _, s := range p.samples {
		if len(s.funcs) > 0 && strings.HasSuffix(s.funcs[0], "spinForProfile") {
			if s.labels["part"] != "runtime" || s.values[vi] <= 0 {
				t.Errorf("sample in spinForProfile: labels %v, cpu %d; want part=runtime and CPU", s.labels, s.values[vi])
			}
			found = true
		}
	}
	if !found {
		t.Errorf("no sample in spinForProfile among %d samples", len(p.samples))
	}
}
