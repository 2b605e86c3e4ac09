package restore

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/restore/restoretest"
)

// edgeItems are items at the edges of what DynamoDB holds, keyed pk (S),
// sk (N) like genItems: every byte value, numbers of 38 digits and at the
// ends of the exponent range, strings that JSON escapes, and nesting 32
// levels deep (DynamoDB's limit).
func edgeItems() []Item {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	var deep types.AttributeValue = &types.AttributeValueMemberS{Value: "bottom"}
	for i := range 31 {
		if i%2 == 0 {
			deep = &types.AttributeValueMemberL{Value: []types.AttributeValue{deep, &types.AttributeValueMemberNS{Value: []string{"1", "2"}}}}
		} else {
			deep = &types.AttributeValueMemberM{Value: Item{fmt.Sprintf("d%d", i): deep}}
		}
	}
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return []Item{
		{"pk": s("edge#bytes"), "sk": n("1"), "all": &types.AttributeValueMemberB{Value: all},
			"halves": &types.AttributeValueMemberBS{Value: [][]byte{all[:128], all[128:], {0}, {0xff}}}},
		{"pk": s("edge#numbers"), "sk": n("12345678901234567890123456789012345678"),
			"neg38": n("-98765432109876543210987654321098765432"), "frac38": n("0.12345678901234567890123456789012345678"),
			"tiny": n("1E-130"), "negtiny": n("-1E-130"),
			"max": n("9.9999999999999999999999999999999999999E+125"), "min": n("-9.9999999999999999999999999999999999999E+125"),
			"ns": &types.AttributeValueMemberNS{Value: []string{"1E-130", "12345678901234567890123456789012345678", "-9.9999999999999999999999999999999999999E+125"}}},
		{"pk": s("edge#strings 😀 \u2028"), "sk": n("-1E-130"), "nul": s("a\x00b"), "ctl": s("\x01\x1f\t\n\r\b\f"),
			"html": s(`<tag a="1">&amp;</tag>`), "esc": s(`"q" \ / end`), "bom": s("\ufeffBOM"),
			"combining": s("e\u0301 vs \u00e9"), "cjk": s("日本語 한국어 العربية"), "max": s("\uffff\ud7ff\ue000"),
			"ss": &types.AttributeValueMemberSS{Value: []string{"😀", "\x00", "<>", "é", "e\u0301"}},
			"名前": s("Zoë"), "a.b": n("1"), "x[0]": &types.AttributeValueMemberBOOL{Value: false}, "🦫": &types.AttributeValueMemberNULL{Value: true}},
		{"pk": s("edge#containers"), "sk": n("0"), "em": &types.AttributeValueMemberM{Value: Item{}},
			"el": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, "deep": deep},
	}
}

// valueScan is scan with every number written as its exact value (a
// big.Rat): DynamoDB trims leading and trailing zeroes of numbers
// ("Number" in the DynamoDB developer guide's data types), and so does
// dynalite (-12.500 comes back as -12.5, 1E-130 written out in full),
// while moto keeps the digits as sent. Equal values are equal numbers.
func valueScan(t *testing.T, c *dynamodb.Client, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typed := range scan(t, c, table) {
		it, err := DecodeTypedItem([]byte(typed))
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		m := numberValues(t, &types.AttributeValueMemberM{Value: it}).(*types.AttributeValueMemberM).Value
		out[avString(m["pk"])+"/"+avString(m["sk"])] = string(AppendTypedJSON(nil, sortSets(m)))
	}
	return out
}

// numberValues returns av with every number replaced by its exact value.
func numberValues(t *testing.T, av types.AttributeValue) types.AttributeValue {
	value := func(n string) string {
		r, ok := new(big.Rat).SetString(n)
		if !ok {
			t.Fatalf("number %q from the server is not a decimal", n)
		}
		return r.RatString()
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: value(v.Value)}
	case *types.AttributeValueMemberNS:
		ns := make([]string, len(v.Value))
		for i, n := range v.Value {
			ns[i] = value(n)
		}
		return &types.AttributeValueMemberNS{Value: ns}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = numberValues(t, e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		m := make(Item, len(v.Value))
		for k, e := range v.Value {
			m[k] = numberValues(t, e)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	return av
}

// TestRestoreMotoAndDynalite restores the same archive, written by the
// real archiver in each format, into a table of moto_server and a table of
// dynalite: two DynamoDB stand-ins written by others. Each must then hold
// exactly what a direct put of the items gives it, and the two must hold
// identical items. The archive is read from moto's S3.
func TestRestoreMotoAndDynalite(t *testing.T) {
	dyn := dynamo(t)
	srv := motoserver.ForTest(t)
	moto := dynamodb.NewFromConfig(srv.Config())
	mS3 := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := mS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("archive")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	items := append(genItems(200), edgeItems()...)
	// What the items come back as from a json archive without type hints:
	// sets as lists, binary as base64 strings.
	jsonItems := make([]Item, len(items))
	for i, it := range items {
		jsonItems[i] = asJSONArchived(&types.AttributeValueMemberM{Value: it}).(*types.AttributeValueMemberM).Value
	}
	servers := []struct {
		name   string
		client *dynamodb.Client
	}{{"dynalite", dyn}, {"moto", moto}}
	tests := []struct {
		format string
		want   []Item // the items the restored table must hold
	}{
		{"dynamodb-json", items},
		{"json", jsonItems},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			prefix := uniqueName("moto") + "/"
			data := archiveLines(t, items, tt.format)
			lines := bytes.SplitAfter(data, []byte("\n"))
			for i := 0; i < len(lines); i += 50 {
				key := fmt.Sprintf("%sarchive/table=Orders/dt=2025-11-23/ttl-archive-%03d.gz", prefix, i/50)
				putObject(t, mS3, "archive", key, gz(bytes.Join(lines[i:min(i+50, len(lines))], nil)))
			}
			got := make([]map[string]string, len(servers))
			for i, s := range servers {
				// The same items put directly are what the server makes of
				// them (it normalises numbers, for one).
				ref := uniqueName("ref")
				if err := restoretest.CreateTable(ctx, s.client, ref, [2]string{"pk", "S"}, [2]string{"sk", "N"}); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				putItems(t, s.client, ref, tt.want)
				want := valueScan(t, s.client, ref)

				src, err := archivefs.NewSource(archivefs.Location{Bucket: "archive", Prefix: prefix}, mS3)
				if err != nil {
					t.Fatal(err)
				}
				table := uniqueName("restored")
				if err := restoretest.CreateTable(ctx, s.client, table, [2]string{"pk", "S"}, [2]string{"sk", "N"}); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				var warn strings.Builder
				rep, err := Run(ctx, Options{Source: src, Table: table, Region: restoretest.Region, Client: s.client, Warn: &warn})
				if err != nil {
					t.Fatalf("Run into %s: %v\n%s", s.name, err, warn.String())
				}
				if rep.Written != len(items) || rep.Items != len(items) {
					t.Errorf("Run into %s: written %d, items %d; want %d each\n%s", s.name, rep.Written, rep.Items, len(items), warn.String())
				}
				got[i] = valueScan(t, s.client, table)
				t.Run(s.name+" holds the items", func(t *testing.T) { diffTables(t, got[i], want) })
			}
			t.Run("moto and dynalite agree", func(t *testing.T) { diffTables(t, got[1], got[0]) })
		})
	}
}
