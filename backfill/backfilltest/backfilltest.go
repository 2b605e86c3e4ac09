// Package backfilltest makes DynamoDB table exports for the tests and
// benchmarks of backfill: a table's history of writes, the compacted
// lines an incremental export of a window holds, and the export's files
// (manifest-summary.json, manifest-files.json and gzipped data files) in
// the layout ExportTableToPointInTime writes to S3.
//
// The format follows the DynamoDB developer guide's "table export output
// format" page and AWS-FACTS.md ("Table exports"): one
// {"Metadata":{"WriteTimestampMicros":{"N":"..."}},"Keys":{...},"OldImage":{...},"NewImage":{...}}
// a line, changes compacted per item over the window, a deleted item
// without NewImage, an item created and deleted inside the window absent.
package backfilltest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/verify/verifytest"
)

// Item is an item or keys in DynamoDB JSON: {"pk":{"S":"a"},"n":{"N":"1"}}.
type Item = map[string]any

// S, N and B make typed values.
func S(s string) any { return map[string]any{"S": s} }

// N makes a number value from its text.
func N(n string) any { return map[string]any{"N": n} }

// NInt makes a number value.
func NInt(n int64) any { return N(strconv.FormatInt(n, 10)) }

// B makes a binary value.
func B(b []byte) any { return map[string]any{"B": base64.StdEncoding.EncodeToString(b)} }

// SS makes a string set.
func SS(s ...string) any { return map[string]any{"SS": s} }

// Write is one write to a table: an item put, or a delete (Item nil).
type Write struct {
	At   time.Time
	Keys Item
	Item Item
	// TTL marks a delete made by TTL (for the tests' ground truth; an
	// export does not say).
	TTL bool
}

// History is a table's writes, in any order.
type History struct {
	KeyNames []string
	Writes   []Write
}

// Put writes item at t.
func (h *History) Put(t time.Time, item Item) {
	h.Writes = append(h.Writes, Write{At: t, Keys: h.keysOf(item), Item: item})
}

// Delete deletes the item with keys at t, by TTL or not.
func (h *History) Delete(t time.Time, keys Item, ttl bool) {
	h.Writes = append(h.Writes, Write{At: t, Keys: h.keysOf(keys), TTL: ttl})
}

func (h *History) keysOf(item Item) Item {
	k := Item{}
	for _, n := range h.KeyNames {
		k[n] = item[n]
	}
	return k
}

// Change is one line of an incremental export.
type Change struct {
	At                       time.Time // the last write in the window
	Keys, OldImage, NewImage Item
}

// Changes returns the lines an incremental export of [from, to) holds:
// one per item written in the window, with its image at from (OldImage,
// nil when it did not exist) and at to (NewImage, nil when deleted); an
// item that existed at neither end is left out. Sorted by write time.
func (h *History) Changes(from, to time.Time) []Change {
	ws := slices.Clone(h.Writes)
	slices.SortStableFunc(ws, func(a, b Write) int { return a.At.Compare(b.At) })
	type state struct {
		keys          Item
		before, after Item
		last          time.Time
		inWindow      bool
	}
	states := map[string]*state{}
	var order []string
	for _, w := range ws {
		if !w.At.Before(to) {
			break
		}
		id := keyString(w.Keys)
		st := states[id]
		if st == nil {
			st = &state{keys: w.Keys}
			states[id] = st
			order = append(order, id)
		}
		if w.At.Before(from) {
			st.before, st.after = w.Item, w.Item
			continue
		}
		st.after, st.last, st.inWindow = w.Item, w.At, true
	}
	var out []Change
	for _, id := range order {
		st := states[id]
		if !st.inWindow || st.before == nil && st.after == nil {
			continue
		}
		out = append(out, Change{At: st.last, Keys: st.keys, OldImage: st.before, NewImage: st.after})
	}
	slices.SortStableFunc(out, func(a, b Change) int { return a.At.Compare(b.At) })
	return out
}

// TTLDeletes returns the TTL deletes in [from, to).
func (h *History) TTLDeletes(from, to time.Time) []Write {
	var out []Write
	for _, w := range h.Writes {
		if w.TTL && !w.At.Before(from) && w.At.Before(to) {
			out = append(out, w)
		}
	}
	return out
}

func keyString(k Item) string {
	b, _ := json.Marshal(k)
	return string(b)
}

// Export types and views, as manifest-summary.json writes them.
const (
	Incremental    = "INCREMENTAL_EXPORT"
	Full           = "FULL_EXPORT"
	NewAndOldViews = "NEW_AND_OLD_IMAGES"
	NewImageView   = "NEW_IMAGE"
)

// Export is one table export and where it is.
type Export struct {
	Table, Region, Account string
	// ID is the export's id, the last part of its ARN (made from the
	// table and window when empty).
	ID       string
	From, To time.Time
	Type     string // Incremental (default) or Full
	View     string // NewAndOldViews (default) or NewImageView
	Bucket   string // s3Bucket
	Prefix   string // s3Prefix, "" or ending in "/"
	Changes  []Change
	// Items are a full export's items.
	Items []Item
	// Lines, when set, are the data lines as they are (without "\n"),
	// instead of Changes or Items: benchmarks write them faster.
	Lines   [][]byte
	PerFile int // lines per data file (default 1000)
}

func (e *Export) defaults() {
	if e.Account == "" {
		e.Account = "123456789012"
	}
	if e.Type == "" {
		e.Type = Incremental
	}
	if e.View == "" {
		e.View = NewAndOldViews
	}
	if e.PerFile <= 0 {
		e.PerFile = 1000
	}
	if e.ID == "" {
		sum := sha256.Sum256([]byte(e.Table + e.Region + e.From.String() + e.To.String() + e.Type + e.View))
		e.ID = fmt.Sprintf("%014d-%s", e.To.UnixMilli(), hex.EncodeToString(sum[:4]))
	}
}

// TableARN is the exported table's ARN.
func (e Export) TableARN() string {
	e.defaults()
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.Region, e.Account, e.Table)
}

// ARN is the export's ARN.
func (e Export) ARN() string {
	e.defaults()
	return e.TableARN() + "/export/" + e.ID
}

// Folder is the export's folder in its bucket: PREFIX/AWSDynamoDB/ID/.
func (e Export) Folder() string {
	e.defaults()
	return e.Prefix + "AWSDynamoDB/" + e.ID + "/"
}

// Object is one file of an export (or of an archive): its key and its
// content. It is verifytest's, so that the same helpers write both.
type Object = verifytest.Object

// Objects returns the export's files: gzipped data files under
// PREFIX/AWSDynamoDB/data/ (shared by incremental exports; a full export
// has its own PREFIX/AWSDynamoDB/ID/data/), manifest-files.json naming
// them, and manifest-summary.json.
func (e Export) Objects() []Object {
	e.defaults()
	lines := e.Lines
	switch {
	case lines != nil:
	case e.Type == Full:
		for _, it := range e.Items {
			b, _ := json.Marshal(map[string]any{"Item": it})
			lines = append(lines, b)
		}
	default:
		for _, c := range e.Changes {
			lines = append(lines, ChangeLine(c, e.View))
		}
	}
	dataDir := e.Prefix + "AWSDynamoDB/data/"
	if e.Type == Full {
		dataDir = e.Folder() + "data/"
	}
	var objs []Object
	var manifest bytes.Buffer
	var billed int64
	for i := 0; i < len(lines) || i == 0; i += e.PerFile {
		part := lines[i:min(i+e.PerFile, len(lines))]
		var raw bytes.Buffer
		for _, l := range part {
			raw.Write(l)
			raw.WriteByte('\n')
		}
		billed += int64(raw.Len())
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(raw.Bytes())
		_ = zw.Close()
		name := sha256.Sum256([]byte(e.ID + strconv.Itoa(i)))
		key := dataDir + strings.ToLower(base32ish(name[:13])) + ".json.gz"
		sum := md5.Sum(z.Bytes())
		entry, _ := json.Marshal(map[string]any{
			"itemCount":     len(part),
			"md5Checksum":   base64.StdEncoding.EncodeToString(sum[:]),
			"etag":          hex.EncodeToString(sum[:]),
			"dataFileS3Key": key,
		})
		manifest.Write(entry)
		manifest.WriteByte('\n')
		objs = append(objs, Object{Key: key, Data: z.Bytes()})
		if len(lines) == 0 {
			break
		}
	}
	filesKey := e.Folder() + "manifest-files.json"
	summary := map[string]any{
		"version":            "2023-08-01",
		"exportArn":          e.ARN(),
		"startTime":          e.To.Add(5 * time.Minute).Format(time.RFC3339Nano),
		"endTime":            e.To.Add(20 * time.Minute).Format(time.RFC3339Nano),
		"tableArn":           e.TableARN(),
		"tableId":            "8f3a8c2e-6d1b-4b7e-9a4c-2f1e0d9c8b7a",
		"s3Bucket":           e.Bucket,
		"s3Prefix":           e.Prefix,
		"s3SseAlgorithm":     "AES256",
		"manifestFilesS3Key": filesKey,
		"billedSizeBytes":    billed,
		"itemCount":          len(lines),
		"outputFormat":       "DYNAMODB_JSON",
		"outputView":         e.View,
		"exportType":         e.Type,
	}
	if e.Type == Full {
		summary["exportTime"] = e.To.Format(time.RFC3339Nano)
		delete(summary, "outputView")
	} else {
		summary["exportFromTime"] = e.From.Format(time.RFC3339Nano)
		summary["exportToTime"] = e.To.Format(time.RFC3339Nano)
	}
	sb, _ := json.Marshal(summary)
	objs = append(objs, Object{Key: filesKey, Data: manifest.Bytes()}, Object{Key: e.Folder() + "manifest-summary.json", Data: sb})
	return objs
}

func base32ish(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(alphabet[c%32])
		s.WriteByte(alphabet[(c/32)%32])
	}
	return s.String()
}

// ChangeLine is one change as an incremental export writes it, for view
// (NewAndOldViews or NewImageView).
func ChangeLine(c Change, view string) []byte {
	var b []byte
	b = append(b, `{"Metadata":{"WriteTimestampMicros":{"N":"`...)
	b = strconv.AppendInt(b, c.At.UnixMicro(), 10)
	b = append(b, `"}},"Keys":`...)
	k, _ := json.Marshal(c.Keys)
	b = append(b, k...)
	if c.OldImage != nil && view != NewImageView {
		o, _ := json.Marshal(c.OldImage)
		b = append(b, `,"OldImage":`...)
		b = append(b, o...)
	}
	if c.NewImage != nil {
		n, _ := json.Marshal(c.NewImage)
		b = append(b, `,"NewImage":`...)
		b = append(b, n...)
	}
	return append(b, '}')
}

// WriteDir writes the objects as files under dir (the bucket's root).
func WriteDir(dir string, objs []Object) error { return verifytest.WriteDir(dir, objs) }

// PutObjects writes the objects to an S3 bucket.
func PutObjects(ctx context.Context, c *s3.Client, bucket string, objs []Object) error {
	return verifytest.PutObjects(ctx, c, bucket, objs)
}
