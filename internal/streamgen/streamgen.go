// Package streamgen generates DynamoDB stream records as Lambda delivers
// them: TTL deletions mixed with inserts, modifies and user deletes, items
// of every attribute type and of chosen sizes. Tests, benchmarks and the
// soak use it; the same seed gives the same records.
package streamgen

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Kind is the kind of a generated record.
type Kind uint8

const (
	TTLRemove  Kind = iota // REMOVE by the DynamoDB service: to be archived
	UserRemove             // REMOVE by an application: no userIdentity
	Insert
	Modify
)

// Record is one generated stream record.
type Record struct {
	Kind     Kind
	Seq      string // SequenceNumber, increasing
	EventID  string
	Table    string
	Created  int64  // ApproximateCreationDateTime, epoch seconds
	Keys     []byte // DynamoDB JSON of the keys
	OldImage []byte // DynamoDB JSON of the old image; nil when none
	JSON     []byte // the whole record
}

// Options shape the records. Zero values take the defaults noted.
type Options struct {
	Seed      uint64
	Table     string  // default "Orders"
	Region    string  // default "us-east-1"
	TTLShare  float64 // share of TTL deletions, default 1 (all); the rest are split evenly
	ItemBytes int     // approximate size of an item's DynamoDB JSON, default 600
	// MaxItemBytes, when above ItemBytes, makes item sizes vary uniformly
	// between ItemBytes and MaxItemBytes.
	MaxItemBytes int
	FirstSeq     uint64 // default 10^19; written with a leading 1 (21 digits, like DynamoDB)
	Start        int64  // first ApproximateCreationDateTime, default 1763856000 (2025-11-23)
	KeysOnly     bool   // no OldImage (stream view KEYS_ONLY)
}

// Generator makes records one after another.
type Generator struct {
	o   Options
	r   *rand.Rand
	seq uint64
	n   int
}

// New returns a generator.
func New(o Options) *Generator {
	if o.Table == "" {
		o.Table = "Orders"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.TTLShare == 0 {
		o.TTLShare = 1
	}
	if o.ItemBytes == 0 {
		o.ItemBytes = 600
	}
	if o.FirstSeq == 0 {
		o.FirstSeq = 10000000000000000000
	}
	if o.Start == 0 {
		o.Start = 1763856000
	}
	return &Generator{o: o, r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), seq: o.FirstSeq}
}

// Next returns the next record.
func (g *Generator) Next() Record {
	g.n++
	g.seq += uint64(1 + g.r.IntN(1000))
	rec := Record{
		Seq:     "1" + strconv.FormatUint(g.seq, 10), // up to 21 digits, still increasing
		EventID: fmt.Sprintf("%032x", g.r.Uint64()),
		Table:   g.o.Table,
		Created: g.o.Start + int64(g.n/50),
	}
	switch p := g.r.Float64(); {
	case p < g.o.TTLShare:
		rec.Kind = TTLRemove
	default:
		rec.Kind = Kind(1 + g.r.IntN(3))
	}
	id := fmt.Sprintf("item#%d-%d", g.o.Seed, g.n)
	rec.Keys = []byte(`{"pk":{"S":"` + id + `"},"sk":{"N":"` + strconv.Itoa(g.n) + `"}}`)
	size := g.o.ItemBytes
	if g.o.MaxItemBytes > size {
		size += g.r.IntN(g.o.MaxItemBytes - size + 1)
	}
	image := g.item(id, size)
	var b strings.Builder
	b.Grow(len(image)*2 + 512)
	eventName := map[Kind]string{TTLRemove: "REMOVE", UserRemove: "REMOVE", Insert: "INSERT", Modify: "MODIFY"}[rec.Kind]
	fmt.Fprintf(&b, `{"eventID":"%s","eventName":"%s","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"%s","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":%s`,
		rec.EventID, eventName, g.o.Region, rec.Created, rec.Keys)
	switch rec.Kind {
	case TTLRemove, UserRemove:
		if !g.o.KeysOnly {
			rec.OldImage = image
			b.WriteString(`,"OldImage":`)
			b.Write(image)
		}
	case Insert:
		b.WriteString(`,"NewImage":`)
		b.Write(image)
	case Modify:
		b.WriteString(`,"NewImage":`)
		b.Write(image)
		b.WriteString(`,"OldImage":`)
		b.Write(image)
	}
	view := "NEW_AND_OLD_IMAGES"
	if g.o.KeysOnly {
		view = "KEYS_ONLY"
	}
	fmt.Fprintf(&b, `,"SequenceNumber":"%s","SizeBytes":%d,"StreamViewType":"%s"}`, rec.Seq, len(image), view)
	if rec.Kind == TTLRemove {
		b.WriteString(`,"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`)
	}
	fmt.Fprintf(&b, `,"eventSourceARN":"arn:aws:dynamodb:%s:123456789012:table/%s/stream/2025-01-01T00:00:00.000"}`, g.o.Region, g.o.Table)
	rec.JSON = []byte(b.String())
	return rec
}

// Batch returns the next n records.
func (g *Generator) Batch(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = g.Next()
	}
	return recs
}

// Event returns the stream event (the Lambda payload) holding records.
func Event(records []Record) []byte {
	n := 16
	for _, r := range records {
		n += len(r.JSON) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.JSON...)
	}
	return append(b, "]}"...)
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_#"

// compactBelow is the item size under which items take the compact layout:
// still every attribute type, fewer and shorter attributes.
const compactBelow = 700

// item builds an image of about size bytes with every attribute type.
func (g *Generator) item(id string, size int) []byte {
	var b strings.Builder
	b.Grow(size + 256)
	r := g.r
	if size < compactBelow {
		// Attributes of every type, starting from a different one on each
		// record, until the item reaches the size: small items still mix
		// all types across a batch.
		attrs := []string{
			fmt.Sprintf(`"v":{"N":"%d%018d.%02d"}`, 1+r.IntN(9), r.Uint64()%1e18, r.IntN(100)),
			fmt.Sprintf(`"p":{"BOOL":%v}`, r.IntN(2) == 0),
			`"n":{"NULL":true}`,
			fmt.Sprintf(`"t":{"SS":["t%d","u"]}`, r.IntN(10)),
			fmt.Sprintf(`"ns":{"NS":["%d","-1.5"]}`, r.IntN(100)),
			`"b":{"B":"` + base64.StdEncoding.EncodeToString([]byte{byte(r.UintN(256)), 1, 2}) + `"}`,
			`"bs":{"BS":["AQ==","Ag=="]}`,
			`"m":{"M":{"c":{"S":"Köln"},"z":{"N":"5"}}}`,
			fmt.Sprintf(`"l":{"L":[{"N":"%d"},{"S":"x"}]}`, r.IntN(9)),
			`"s":{"S":"Zoë \\\"q\\\" \\u00e9"}`,
		}
		fmt.Fprintf(&b, `{"pk":{"S":"%s"},"sk":{"N":"%d"}`, id, g.n)
		for i := range attrs {
			if b.Len() >= size-12 {
				break
			}
			b.WriteByte(',')
			b.WriteString(attrs[(g.n+i)%len(attrs)])
		}
		g.pad(&b, size)
		b.WriteByte('}')
		return []byte(b.String())
	}
	fmt.Fprintf(&b, `{"pk":{"S":"%s"},"sk":{"N":"%d"}`, id, g.n)
	fmt.Fprintf(&b, `,"status":{"S":"%s"}`, []string{"NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"}[r.IntN(5)])
	fmt.Fprintf(&b, `,"total":{"N":"%d.%02d"}`, r.IntN(100000), r.IntN(100))
	fmt.Fprintf(&b, `,"big":{"N":"%d%018d%018d"}`, 1+r.IntN(9), r.Uint64()%1e18, r.Uint64()%1e18)
	fmt.Fprintf(&b, `,"tiny":{"N":"-0.%030d1"}`, 0)
	fmt.Fprintf(&b, `,"expires_at":{"N":"%d"}`, g.o.Start-int64(r.IntN(86400)))
	fmt.Fprintf(&b, `,"paid":{"BOOL":%v},"note":{"NULL":true}`, r.IntN(2) == 0)
	fmt.Fprintf(&b, `,"tags":{"SS":["t%d","t%d"]},"scores":{"NS":["%d","%d.5"]}`, r.IntN(10), 10+r.IntN(10), r.IntN(100), r.IntN(100))
	raw := make([]byte, 8+r.IntN(24))
	for i := range raw {
		raw[i] = byte(r.UintN(256))
	}
	fmt.Fprintf(&b, `,"token":{"B":"%s"},"blobs":{"BS":["AQ==","%s"]}`, base64.StdEncoding.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw[:4]))
	fmt.Fprintf(&b, `,"customer":{"M":{"name":{"S":"Zoë %d"},"tier":{"N":"%d"},"addr":{"M":{"city":{"S":"Köln"},"zip":{"S":"%05d"}}}}}`, r.IntN(1000), r.IntN(4), r.IntN(100000))
	b.WriteString(`,"lines":{"L":[`)
	for i := range 1 + r.IntN(3) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"M":{"sku":{"S":"SKU-%d"},"qty":{"N":"%d"},"price":{"N":"%d.99"}}}`, r.IntN(10000), 1+r.IntN(5), r.IntN(500))
	}
	b.WriteString(`]}`)
	g.pad(&b, size)
	b.WriteByte('}')
	return []byte(b.String())
}

// pad adds a string attribute that brings the item to about size bytes.
func (g *Generator) pad(b *strings.Builder, size int) {
	if pad := size - b.Len() - 20; pad > 0 {
		b.WriteString(`,"payload":{"S":"`)
		for range pad {
			b.WriteByte(letters[g.r.IntN(len(letters))])
		}
		b.WriteString(`"}`)
	}
}
