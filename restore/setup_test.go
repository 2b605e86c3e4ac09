package restore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/restore/restoretest"
)

// The servers are started once, on first use, and stopped by TestMain.
var (
	dynOnce sync.Once
	dyn     *restoretest.Dynalite
	dynErr  error
	s3Once  sync.Once
	s3srv   *restoretest.S3
	tableN  int
	tableMu sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dyn != nil {
		dyn.Close()
	}
	if s3srv != nil {
		s3srv.Close()
	}
	os.Exit(code)
}

// dynamo returns a client of the shared dynalite. Without dynalite the
// test is skipped, except in CI where it fails.
func dynamo(t *testing.T) *dynamodb.Client {
	t.Helper()
	dynOnce.Do(func() {
		bin, err := restoretest.FindDynalite(".")
		if err != nil {
			dynErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dyn, dynErr = restoretest.StartDynalite(ctx, bin)
	})
	if dynErr != nil {
		if errors.Is(dynErr, restoretest.ErrNoDynalite) && os.Getenv("CI") == "" {
			t.Skip(dynErr)
		}
		t.Fatal(dynErr)
	}
	return dyn.Client()
}

func s3client(t *testing.T) *s3.Client {
	t.Helper()
	s3Once.Do(func() {
		var err error
		s3srv, err = restoretest.StartS3("archive", "import")
		if err != nil {
			t.Fatalf("start S3: %v", err)
		}
	})
	return s3srv.Client()
}

// uniqueName returns a name no other call returned in this process.
func uniqueName(prefix string) string {
	tableMu.Lock()
	defer tableMu.Unlock()
	tableN++
	return fmt.Sprintf("%s%03d", prefix, tableN)
}

// newTable creates a table with a fresh name and the given key.
func newTable(t *testing.T, c *dynamodb.Client, keys ...[2]string) string {
	t.Helper()
	name := uniqueName("table")
	if len(keys) == 0 {
		keys = [][2]string{{"pk", "S"}, {"sk", "N"}}
	}
	if err := restoretest.CreateTable(context.Background(), c, name, keys...); err != nil {
		t.Fatal(err)
	}
	return name
}

// genItems returns n items of every attribute type, keyed pk (S), sk (N).
func genItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{
			"pk":    &types.AttributeValueMemberS{Value: fmt.Sprintf("user#%03d", i%7)},
			"sk":    &types.AttributeValueMemberN{Value: fmt.Sprintf("%d", 1000+i)},
			"big":   &types.AttributeValueMemberN{Value: "9999999999999999999999999999999999999" + fmt.Sprint(i%10)},
			"dec":   &types.AttributeValueMemberN{Value: "-12.500"},
			"tiny":  &types.AttributeValueMemberN{Value: "1E-130"},
			"name":  &types.AttributeValueMemberS{Value: fmt.Sprintf("Zoë 🦫 \"%d\" <tag>&\n\u2028", i)},
			"empty": &types.AttributeValueMemberS{Value: ""},
			"bin":   &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xff, byte(i)}},
			"ss":    &types.AttributeValueMemberSS{Value: []string{"b", "a", fmt.Sprint(i)}},
			"ns":    &types.AttributeValueMemberNS{Value: []string{"-1", "0.5", "12345678901234567890123456789012345678"}},
			"bs":    &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, byte(i)}}},
			"t":     &types.AttributeValueMemberBOOL{Value: i%2 == 0},
			"nil":   &types.AttributeValueMemberNULL{Value: true},
			"list":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "s"}, &types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, &types.AttributeValueMemberM{Value: Item{"tags": &types.AttributeValueMemberSS{Value: []string{"x", "y"}}}}}},
			"map":   &types.AttributeValueMemberM{Value: Item{"nested": &types.AttributeValueMemberM{Value: Item{"deep": &types.AttributeValueMemberN{Value: "3.14159265358979323846264338327950288"}, "raw": &types.AttributeValueMemberB{Value: []byte("hi")}}}}},
			"ttl":   &types.AttributeValueMemberN{Value: "1763856000"},
		}
	}
	return items
}

// jsonHints are the hints that make json-format items of genItems
// identical to the originals.
var jsonHints = TypeHints{"bin": "B", "ss": "SS", "ns": "NS", "bs": "BS", "list[].tags": "SS", "map.nested.raw": "B"}

// plainJSON returns av as the archive's json format writes it.
func plainJSON(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return json.Number(v.Value)
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(v.Value)
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberNS:
		l := make([]any, len(v.Value))
		for i, n := range v.Value {
			l[i] = json.Number(n)
		}
		return l
	case *types.AttributeValueMemberBS:
		l := make([]any, len(v.Value))
		for i, b := range v.Value {
			l[i] = base64.StdEncoding.EncodeToString(b)
		}
		return l
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = plainJSON(e)
		}
		return l
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range v.Value {
			m[k] = plainJSON(e)
		}
		return m
	}
	panic(fmt.Sprintf("plainJSON: %T", av))
}

// asJSONArchived returns what an item becomes through a json-format
// archive without hints: sets are lists, binary is base64 strings.
func asJSONArchived(av types.AttributeValue) types.AttributeValue {
	switch v := av.(type) {
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberS{Value: base64.StdEncoding.EncodeToString(v.Value)}
	case *types.AttributeValueMemberSS:
		l := make([]types.AttributeValue, len(v.Value))
		for i, s := range v.Value {
			l[i] = &types.AttributeValueMemberS{Value: s}
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberNS:
		l := make([]types.AttributeValue, len(v.Value))
		for i, s := range v.Value {
			l[i] = &types.AttributeValueMemberN{Value: s}
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberBS:
		l := make([]types.AttributeValue, len(v.Value))
		for i, b := range v.Value {
			l[i] = &types.AttributeValueMemberS{Value: base64.StdEncoding.EncodeToString(b)}
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = asJSONArchived(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		m := Item{}
		for k, e := range v.Value {
			m[k] = asJSONArchived(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	return av
}

// line is one archive line written by hand.
func line(t *testing.T, it Item, format string, i int) []byte {
	t.Helper()
	keys := Item{"pk": it["pk"], "sk": it["sk"]}
	at := time.Date(2025, 11, 23, 10, 0, i%60, 0, time.UTC)
	l := archive.Line{Table: "Orders", Region: "us-east-1", EventID: fmt.Sprintf("ev%06d", i), SequenceNumber: fmt.Sprint(100000 + i), DeletedAt: &at}
	if format == archive.FormatDynamoDBJSONName {
		l.Format = format
		l.Keys = AppendTypedJSON(nil, keys)
		l.Item = AppendTypedJSON(nil, it)
	} else {
		var err error
		if l.Keys, err = json.Marshal(plainJSON(&types.AttributeValueMemberM{Value: keys})); err != nil {
			t.Fatal(err)
		}
		if l.Item, err = json.Marshal(plainJSON(&types.AttributeValueMemberM{Value: it})); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// streamEvent returns a stream batch of TTL deletions of items.
func streamEvent(items []Item, first int) []byte {
	var recs []string
	for i, it := range items {
		keys := Item{"pk": it["pk"], "sk": it["sk"]}
		recs = append(recs, fmt.Sprintf(`{"eventID":"ev%06d","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
			`"dynamodb":{"ApproximateCreationDateTime":1763892000,"Keys":%s,"OldImage":%s,"SequenceNumber":"%d","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"},`+
			`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},`+
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000"}`,
			first+i, AppendTypedJSON(nil, keys), AppendTypedJSON(nil, it), 100000+first+i))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// captureFirehose is a Firehose that takes every record.
type captureFirehose struct {
	mu   sync.Mutex
	data bytes.Buffer
	fail func(i int) bool // records to fail, by index in the call
}

func (f *captureFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}
	for i, r := range in.Records {
		if f.fail != nil && f.fail(i) {
			*out.FailedPutCount++
			out.RequestResponses = append(out.RequestResponses, fhFailed())
			continue
		}
		f.data.Write(r.Data)
		out.RequestResponses = append(out.RequestResponses, fhOK())
	}
	return out, nil
}

// archiveLines runs the real archiver on stream batches of items and
// returns the lines it sends to Firehose.
func archiveLines(t *testing.T, items []Item, format string) []byte {
	t.Helper()
	env := map[string]string{"FIREHOSE_STREAM_NAME": "test", "ARCHIVE_FORMAT": format, "PACK_RECORDS": "true"}
	cfg, err := archive.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fh := &captureFirehose{}
	a, err := archive.New(fh, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(items); i += 10 {
		res, err := a.Archive(context.Background(), streamEvent(items[i:min(i+10, len(items))], i))
		if err != nil || len(res.Response.BatchItemFailures) > 0 || res.Counts.RawArchived > 0 {
			t.Fatalf("Archive: %v, %+v", err, res)
		}
	}
	return fh.data.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func putObject(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// putItems writes items directly (the reference copy).
func putItems(t *testing.T, c *dynamodb.Client, table string, items []Item) {
	t.Helper()
	for i := 0; i < len(items); i += 25 {
		var reqs []types.WriteRequest
		for _, it := range items[i:min(i+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		if _, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
			t.Fatalf("BatchWriteItem %s: %v", table, err)
		}
	}
}

// scan returns a table's items in DynamoDB JSON with sets sorted, by key.
func scan(t *testing.T, c *dynamodb.Client, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("Scan %s: %v", table, err)
		}
		for _, it := range page.Items {
			k := avString(it["pk"]) + "/" + avString(it["sk"])
			out[k] = string(AppendTypedJSON(nil, sortSets(it)))
		}
	}
	return out
}

func avString(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(v.Value)
	}
	return fmt.Sprintf("%T", av)
}

// sortSets sorts set members, whose order DynamoDB does not keep.
func sortSets(it Item) Item {
	out := Item{}
	for k, v := range it {
		out[k] = sortSet(v)
	}
	return out
}

func sortSet(av types.AttributeValue) types.AttributeValue {
	switch v := av.(type) {
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: slices.Sorted(slices.Values(v.Value))}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: slices.Sorted(slices.Values(v.Value))}
	case *types.AttributeValueMemberBS:
		bs := slices.Clone(v.Value)
		sort.Slice(bs, func(i, j int) bool { return bytes.Compare(bs[i], bs[j]) < 0 })
		return &types.AttributeValueMemberBS{Value: bs}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = sortSet(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: sortSets(v.Value)}
	}
	return av
}

// diffTables reports the first differences between two scans.
func diffTables(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("restored table has %d items, want %d", len(got), len(want))
	}
	n := 0
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("item %s:\ngot  %s\nwant %s", k, g, w)
			if n++; n == 3 {
				return
			}
		}
	}
}
