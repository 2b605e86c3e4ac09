package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/archive/reference"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// The end-to-end tests in this file judge the function by peers it did not
// write: moto_server (requirements-dev.txt) serves Firehose, delivering
// into its own S3, and the items read back through moto's S3 API are
// compared with the stream's old images converted by archive/reference,
// not by the archiver's fast conversion.

// Limits of a Lambda invocation from a DynamoDB stream (AWS-FACTS.md).
const (
	maxInvokePayload = 6 << 20 // bytes of an invocation payload
	maxStreamBatch   = 10000   // records of an event source mapping batch
)

// motoBucket is the bucket the moto streams deliver into.
const motoBucket = "ttl-archive-moto"

// startMotoStream creates in moto a DirectPut Firehose stream named name
// with an extended S3 destination into motoBucket under prefix (the
// bucket too, on first use).
func startMotoStream(t *testing.T, srv *motoserver.Server, name, prefix string) {
	t.Helper()
	ctx := context.Background()
	s3c := motoS3(srv)
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(motoBucket)}); err != nil {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(motoBucket)}); err != nil {
			t.Fatalf("CreateBucket %s: %v", motoBucket, err)
		}
	}
	fh := firehose.NewFromConfig(srv.Config())
	_, err := fh.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN:         aws.String("arn:aws:s3:::" + motoBucket),
			RoleARN:           aws.String("arn:aws:iam::123456789012:role/ttl-archiver-firehose"),
			Prefix:            aws.String(prefix),
			ErrorOutputPrefix: aws.String("errors/" + prefix),
			BufferingHints:    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(60)},
			// moto writes records as they are, whatever this says; the
			// reader below takes gzip and plain objects alike.
			CompressionFormat: fhtypes.CompressionFormatUncompressed,
		},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream %s: %v", name, err)
	}
	d, err := fh.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeDeliveryStream %s: %v", name, err)
	}
	if st := d.DeliveryStreamDescription.DeliveryStreamStatus; st != fhtypes.DeliveryStreamStatusActive {
		t.Fatalf("DescribeDeliveryStream %s: status %s, want ACTIVE", name, st)
	}
}

// motoS3 is a path-style S3 client of the server.
func motoS3(srv *motoserver.Server) *s3.Client {
	return s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

// motoLines returns every line of every object under prefix in
// motoBucket, read through moto's S3 API (gzip objects unzipped).
func motoLines(t *testing.T, srv *motoserver.Server, prefix string) [][]byte {
	t.Helper()
	ctx := context.Background()
	c := motoS3(srv)
	var lines [][]byte
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(motoBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 %s: %v", prefix, err)
		}
		for _, o := range page.Contents {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(motoBucket), Key: o.Key})
			if err != nil {
				t.Fatalf("GetObject %s: %v", aws.ToString(o.Key), err)
			}
			data, err := io.ReadAll(obj.Body)
			_ = obj.Body.Close()
			if err != nil {
				t.Fatalf("GetObject %s: read: %v", aws.ToString(o.Key), err)
			}
			if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err == nil {
					data, err = io.ReadAll(zr)
				}
				if err != nil {
					t.Fatalf("object %s: gunzip: %v", aws.ToString(o.Key), err)
				}
			}
			if len(data) > 0 && data[len(data)-1] != '\n' {
				t.Errorf("object %s does not end in a newline: records would run into the next object's", aws.ToString(o.Key))
			}
			for l := range bytes.Lines(data) {
				lines = append(lines, bytes.TrimSuffix(l, []byte("\n")))
			}
		}
	}
	return lines
}

// streamRecord is what the test reads of a stream record, independently
// of the archiver's parser.
type streamRecord struct {
	EventID      string `json:"eventID"`
	EventName    string `json:"eventName"`
	Region       string `json:"awsRegion"`
	SourceARN    string `json:"eventSourceARN"`
	UserIdentity *struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
	DynamoDB struct {
		Created  json.Number     `json:"ApproximateCreationDateTime"`
		Keys     json.RawMessage `json:"Keys"`
		OldImage json.RawMessage `json:"OldImage"`
		Seq      string          `json:"SequenceNumber"`
	} `json:"dynamodb"`
}

// ttlDeletions returns the TTL deletions of a stream event (REMOVE by the
// DynamoDB service, AWS-FACTS.md), by event ID.
func ttlDeletions(t *testing.T, event []byte, into map[string]streamRecord) {
	t.Helper()
	var ev struct{ Records []streamRecord }
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatalf("stream event: %v", err)
	}
	for _, r := range ev.Records {
		if r.EventName == "REMOVE" && r.UserIdentity != nil && r.UserIdentity.Type == "Service" && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com" {
			if _, dup := into[r.EventID]; dup {
				t.Fatalf("event ID %s twice in the test's input", r.EventID)
			}
			into[r.EventID] = r
		}
	}
}

// oracle converts an image (or keys) as the archive must have written
// them in format, with the reference conversion.
func oracle(format string, image []byte) ([]byte, error) {
	if format == archive.FormatDynamoDBJSONName {
		return reference.DynamoDBJSON(image)
	}
	return reference.PlainJSON(image)
}

// expected is what the archive must hold for one TTL deletion in one
// format, by the reference conversion.
type expected struct {
	rec     streamRecord
	keys    []byte // nil when the reference refuses the keys (not checked)
	item    []byte // nil when there is no old image or the reference refuses it
	refused error  // why the reference refuses the old image
}

// expectations converts every TTL deletion of want with the reference
// conversion, as the archive must have written it in format.
func expectations(t *testing.T, format string, want map[string]streamRecord) map[string]expected {
	t.Helper()
	// The reference is slow by design; convert on every core.
	ids := slices.Collect(maps.Keys(want))
	all := make([]expected, len(ids))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ids); i += workers {
				e := expected{rec: want[ids[i]]}
				e.keys, _ = oracle(format, e.rec.DynamoDB.Keys)
				if len(e.rec.DynamoDB.OldImage) > 0 {
					e.item, e.refused = oracle(format, e.rec.DynamoDB.OldImage)
				}
				all[i] = e
			}
		})
	}
	wg.Wait()
	out := make(map[string]expected, len(ids))
	for i, id := range ids {
		out[id] = all[i]
	}
	return out
}

// checkArchive checks that lines hold each TTL deletion of want exactly
// once, in format, with the keys and item the reference conversion gives
// for its stream record (or, for an image the reference refuses, no item
// and an error), and nothing else. It reports the first few differences.
func checkArchive(t *testing.T, format string, want map[string]expected, lines [][]byte) {
	t.Helper()
	seen := make(map[string]int, len(want))
	errs := 0
	report := func(f string, a ...any) {
		if errs++; errs <= 10 {
			t.Errorf(f, a...)
		}
	}
	wantFormat := ""
	if format == archive.FormatDynamoDBJSONName {
		wantFormat = format
	}
	for _, raw := range lines {
		l, err := archive.ParseLine(raw)
		if err != nil {
			report("%v: %.200s", err, raw)
			continue
		}
		e, ok := want[l.EventID]
		if !ok {
			report("archived %s, which is not a TTL deletion sent", l.EventID)
			continue
		}
		if seen[l.EventID]++; seen[l.EventID] > 1 {
			continue
		}
		r := e.rec
		if l.Format != wantFormat || l.SequenceNumber != r.DynamoDB.Seq || l.Region != r.Region || !strings.Contains(r.SourceARN, ":table/"+l.Table+"/") {
			report("line of %s: format %q, sequence number %s, region %s, table %s; want %q, %s, %s, the table of %s",
				l.EventID, l.Format, l.SequenceNumber, l.Region, l.Table, wantFormat, r.DynamoDB.Seq, r.Region, r.SourceARN)
		}
		if at, err := epoch(r.DynamoDB.Created); err != nil || l.DeletedAt == nil || !l.DeletedAt.Equal(at) {
			report("deleted_at of %s = %v, want ApproximateCreationDateTime %s", l.EventID, l.DeletedAt, r.DynamoDB.Created)
		}
		if e.keys != nil && !bytes.Equal(l.Keys, e.keys) {
			report("keys of %s = %s, want %s", l.EventID, l.Keys, e.keys)
		}
		item, err := l.ItemJSON()
		if err != nil {
			report("%v", err)
			continue
		}
		switch {
		case len(r.DynamoDB.OldImage) == 0:
			if item != nil || l.Error != "" {
				report("line of %s (no old image): item %s, error %q; want no item and no error", l.EventID, item, l.Error)
			}
		case e.refused != nil:
			if item != nil || l.Error == "" {
				report("line of %s (an image the reference refuses: %v): item %s, error %q; want no item and an error", l.EventID, e.refused, item, l.Error)
			}
		case !bytes.Equal(item, e.item):
			report("item of %s:\ngot  %s\nwant %s", l.EventID, item, e.item)
		}
	}
	for id, e := range want {
		if n := seen[id]; n != 1 {
			report("TTL deletion %s (sequence number %s) archived %d times, want 1", id, e.rec.DynamoDB.Seq, n)
		}
	}
	if errs > 10 {
		t.Errorf("... and %d more differences", errs-10)
	}
}

// epoch reads epoch seconds with up to nine decimals exactly (a float64
// would round the milliseconds).
func epoch(n json.Number) (time.Time, error) {
	sec, frac, _ := strings.Cut(string(n), ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 9 {
		return time.Time{}, fmt.Errorf("epoch seconds %q: not a decimal with at most 9 decimals", n)
	}
	var ns int64
	if frac != "" {
		if ns, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("epoch seconds %q: %w", n, err)
		}
	}
	return time.Unix(s, ns), nil
}

// edgeImages are old images at the edges of what DynamoDB holds: every
// byte value, 38-digit numbers and the exponents' ends, strings JSON
// escapes or that are easy to mangle, unusual attribute names, empty
// containers and nesting 32 levels deep (DynamoDB's limit).
func edgeImages() []string {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	b64 := base64.StdEncoding.EncodeToString
	deep := `{"S":"bottom"}`
	for i := range 31 {
		if i%2 == 0 {
			deep = `{"L":[` + deep + `,{"NS":["1","2"]}]}`
		} else {
			deep = `{"M":{"d` + fmt.Sprint(i) + `":` + deep + `}}`
		}
	}
	return []string{
		`{"pk":{"S":"edge#bytes"},"all":{"B":"` + b64(allBytes) + `"},"empty":{"B":""},` +
			`"halves":{"BS":["` + b64(allBytes[:128]) + `","` + b64(allBytes[128:]) + `","AA==","/w=="]}}`,
		`{"pk":{"S":"edge#numbers"},"n38":{"N":"12345678901234567890123456789012345678"},"neg38":{"N":"-98765432109876543210987654321098765432"},` +
			`"frac38":{"N":"0.12345678901234567890123456789012345678"},"tiny":{"N":"1E-130"},"negtiny":{"N":"-1E-130"},` +
			`"huge":{"N":"1E+130"},"max":{"N":"9.9999999999999999999999999999999999999E+125"},"min":{"N":"-9.9999999999999999999999999999999999999E+125"},` +
			`"zero":{"N":"0"},"ns":{"NS":["1E-130","12345678901234567890123456789012345678","-9.9999999999999999999999999999999999999E+125","0.5"]}}`,
		`{"pk":{"S":"edge#strings"},"empty":{"S":""},"nul":{"S":"a\u0000b"},"ctl":{"S":"\u0001\u001f\t\n\r\b\f"},` +
			`"seps":{"S":"\u2028\u2029"},"html":{"S":"<tag a=\"1\">&amp;</tag>"},"esc":{"S":"\"q\" \\ \/ end"},` +
			`"bom":{"S":"\ufeffBOM"},"combining":{"S":"e\u0301 vs \u00e9"},"pair":{"S":"\ud83d\ude00 😀 🦫"},"cjk":{"S":"日本語 한국어 العربية"},` +
			`"max":{"S":"\uffff\ud7ff\ue000"},"ss":{"SS":["😀","\u0000","<>","é","e\u0301"]}}`,
		`{"pk":{"S":"edge#names"},"名前":{"S":"Zoë"},"a.b":{"N":"1"},"x[0]":{"BOOL":false},"with space":{"NULL":true},"🦫":{"BOOL":true},` +
			`"\"quoted\"":{"S":"q"},"\u0000":{"S":"nul name"}}`,
		`{"pk":{"S":"edge#containers"},"em":{"M":{}},"el":{"L":[]},"mixed":{"L":[{"SS":["a","b"]},{"NS":["1","2"]},{"BS":["AQ==","Ag=="]},` +
			`{"M":{"in":{"L":[{"NULL":true},{"BOOL":true},{"B":"AP8="},{"N":"-0.0000000000000000000000000000000000001"}]}}}]},"deep":` + deep + `}`,
	}
}

// edgeEvent returns a stream event of TTL deletions of the edge images.
func edgeEvent(images []string) []byte {
	recs := make([]string, len(images))
	for i, img := range images {
		recs[i] = fmt.Sprintf(`{"eventID":"edge%028d","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"eu-central-1",`+
			`"dynamodb":{"ApproximateCreationDateTime":1763900000,"Keys":{"pk":%s},"OldImage":%s,"SequenceNumber":"8%020d","SizeBytes":%d,"StreamViewType":"NEW_AND_OLD_IMAGES"},`+
			`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},`+
			`"eventSourceARN":"arn:aws:dynamodb:eu-central-1:123456789012:table/Edges/stream/2025-01-01T00:00:00.000"}`,
			i, img[len(`{"pk":`):strings.Index(img, "},")+1], img, i, len(img))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// invocations splits records into stream events as an event source
// mapping could deliver them: at most maxStreamBatch records and
// maxInvokePayload bytes each.
func invocations(recs []streamgen.Record) [][]byte {
	var events [][]byte
	start, size := 0, 0
	for i, r := range recs {
		if i > start && (i-start == maxStreamBatch || size+len(r.JSON)+1+len(`{"Records":[]}`) > maxInvokePayload) {
			events = append(events, streamgen.Event(recs[start:i]))
			start, size = i, 0
		}
		size += len(r.JSON) + 1
	}
	return append(events, streamgen.Event(recs[start:]))
}

// motoTTLItems is how many TTL deletions the generated batch holds at least.
const motoTTLItems = 10000

// motoInput returns what the moto test archives: the sample events and
// the edge images as events, and generated records holding at least
// motoTTLItems TTL deletions among other records.
func motoInput(t *testing.T) (events [][]byte, generated []streamgen.Record) {
	t.Helper()
	for _, f := range sampleEvents(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, b)
	}
	events = append(events, edgeEvent(edgeImages()))
	g := streamgen.New(streamgen.Options{Seed: 12, TTLShare: 0.9, ItemBytes: 200, MaxItemBytes: 1200})
	for n := 0; n < motoTTLItems; {
		r := g.Next()
		if r.Kind == streamgen.TTLRemove {
			n++
		}
		generated = append(generated, r)
	}
	return events, generated
}

// TestMotoEndToEnd runs the built bootstrap under the Runtime API
// stand-in, sending to a Firehose stream of moto_server, in both archive
// formats, with and without packed records. The sample events, the edge
// images and generated records are read back through moto's S3 API, and
// every item is compared with the stream's old image as the reference
// conversion writes it. Each format archives the whole generated batch
// (over 10,000 TTL deletions, in invocations of at most 6 MB) once, one
// packed and one not; the other two runs take its first 2,000 records,
// which keeps the test within its share of CI's time under -race.
func TestMotoEndToEnd(t *testing.T) {
	srv := motoserver.ForTest(t)
	fixed, generated := motoInput(t)
	all := map[string]streamRecord{}
	for _, ev := range append(fixed, invocations(generated)...) {
		ttlDeletions(t, ev, all)
	}
	if len(all) < motoTTLItems {
		t.Fatalf("the input holds %d TTL deletions, want at least %d", len(all), motoTTLItems)
	}
	tests := []struct {
		format    string
		pack      bool
		generated int // records of the generated batch archived
	}{
		{"json", false, len(generated)},
		{"json", true, 2000},
		{archive.FormatDynamoDBJSONName, false, 2000},
		{archive.FormatDynamoDBJSONName, true, len(generated)},
	}
	byFormat := map[string]map[string]expected{}
	for _, tt := range tests {
		if byFormat[tt.format] == nil {
			byFormat[tt.format] = expectations(t, tt.format, all)
		}
		name := fmt.Sprintf("%s-pack-%v-%d", tt.format, tt.pack, tt.generated)
		t.Run(name, func(t *testing.T) {
			events := append(slices.Clone(fixed), invocations(generated[:tt.generated])...)
			want := map[string]expected{}
			for _, ev := range events {
				sent := map[string]streamRecord{}
				ttlDeletions(t, ev, sent)
				for id := range sent {
					want[id] = byFormat[tt.format][id]
				}
			}
			stream, prefix := "ttl-"+name, "archive/"+name+"/"
			startMotoStream(t, srv, stream, prefix)
			env := append(srv.Env(), "FIREHOSE_STREAM_NAME="+stream, "ARCHIVE_FORMAT="+tt.format, fmt.Sprintf("PACK_RECORDS=%v", tt.pack))
			fn, err := local.StartFunction(context.Background(), env, local.FunctionOptions{Bootstrap: bootstrap})
			if err != nil {
				t.Fatalf("StartFunction: %v", err)
			}
			t.Cleanup(func() { _ = fn.Close() })
			for i, ev := range events {
				if resp := invoke(t, fn, ev, time.Minute); len(resp.BatchItemFailures) != 0 {
					t.Fatalf("invocation %d: BatchItemFailures = %v, want none", i, resp.BatchItemFailures)
				}
			}
			checkArchive(t, tt.format, want, motoLines(t, srv, prefix))
		})
	}
}
