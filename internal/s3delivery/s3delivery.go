// Package s3delivery does locally what a Firehose DirectPut stream's
// extended S3 destination does with the records it takes: split packed
// records (multi-record de-aggregation), append a delimiter, evaluate the
// dynamic-partitioning jq query on each record, buffer per partition, GZIP,
// and write objects named as Firehose names them under the evaluated prefix,
// through the real S3 API. Records it cannot partition go, whole, under the
// error output prefix.
//
// Its configuration comes from template.yaml (see internal/samtemplate), so
// that local objects land exactly where the deployed stack puts them.
package s3delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/itchyny/gojq"
)

// Config is the S3 destination of one stream.
type Config struct {
	StreamName        string
	Bucket            string
	Prefix            string // with !{partitionKeyFromQuery:k}, !{timestamp:fmt}, !{firehose:random-string}
	ErrorOutputPrefix string // with !{firehose:error-output-type}, !{timestamp:fmt}
	Compression       string // "GZIP" or "UNCOMPRESSED"
	BufferBytes       int    // flush a partition's buffer at this size (BufferingHints.SizeInMBs)
	// DynamicPartitioning evaluates PartitionQuery (the MetadataExtraction
	// processor's jq query) on every record.
	DynamicPartitioning bool
	PartitionQuery      string
	Deaggregate         bool // RecordDeAggregation processor, SubRecordType JSON
	AppendDelimiter     bool // AppendDelimiterToRecord processor
}

// S3API is the part of the S3 client the delivery uses.
type S3API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Object is one object written.
type Object struct {
	Key     string
	Records int // records (lines) in it
	Bytes   int // size before compression
	Size    int // size as stored
	Error   bool
}

// Delivery buffers records and writes objects. It is safe for concurrent use.
type Delivery struct {
	cfg   Config
	s3    S3API
	query *gojq.Code
	now   func() time.Time

	mu      sync.Mutex
	buffers map[string]*buffer
	objects []Object
}

type buffer struct {
	prefix  string // partition keys substituted; timestamps evaluated at flush
	errType string // error output type, for error buffers
	data    bytes.Buffer
	records int
	oldest  time.Time
}

// New checks the configuration and compiles the partition query.
func New(cfg Config, client S3API) (*Delivery, error) {
	d := &Delivery{cfg: cfg, s3: client, now: time.Now, buffers: map[string]*buffer{}}
	switch cfg.Compression {
	case "", "UNCOMPRESSED", "GZIP":
	default:
		return nil, fmt.Errorf("s3delivery: compression %q is not supported: want GZIP or UNCOMPRESSED", cfg.Compression)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("s3delivery: no bucket")
	}
	if cfg.DynamicPartitioning {
		if cfg.PartitionQuery == "" {
			return nil, errors.New("s3delivery: dynamic partitioning without a query")
		}
		if cfg.ErrorOutputPrefix == "" {
			return nil, errors.New("s3delivery: dynamic partitioning needs an error output prefix")
		}
		q, err := gojq.Parse(cfg.PartitionQuery)
		if err != nil {
			return nil, fmt.Errorf("s3delivery: parse partition query %q: %w", cfg.PartitionQuery, err)
		}
		if d.query, err = gojq.Compile(q); err != nil {
			return nil, fmt.Errorf("s3delivery: compile partition query: %w", err)
		}
	}
	if d.cfg.BufferBytes <= 0 {
		d.cfg.BufferBytes = 64 << 20
	}
	return d, nil
}

// Deliver takes the records one PutRecordBatch call accepted. As Firehose
// does, it never gives them back: a buffer that fills is written with a
// context detached from ctx's cancellation (it holds records of earlier,
// acknowledged calls, which the caller's giving up must not drop), and a
// buffer that cannot be written is kept and written again when it next
// fills or at Flush. Deliver therefore returns an error only when ctx ends
// before the records are buffered, which does not happen here; the error
// in its signature is the sink's.
func (d *Delivery) Deliver(ctx context.Context, stream string, records [][]byte) error {
	now := d.now().UTC()
	var full []*buffer
	d.mu.Lock()
	for _, rec := range records {
		subs := [][]byte{rec}
		if d.cfg.Deaggregate {
			var err error
			if subs, err = splitJSON(rec); err != nil {
				full = d.add(full, errorBuffer(d, "processing-failed"), errorRecord("RecordDeAggregation.Failed", err, rec), now)
				continue
			}
		}
		for _, sub := range subs {
			data := sub
			if d.cfg.AppendDelimiter {
				data = append(bytes.Clone(sub), '\n')
			}
			if !d.cfg.DynamicPartitioning {
				full = d.add(full, d.buffer(d.cfg.Prefix, ""), data, now)
				continue
			}
			prefix, err := d.partition(sub)
			if err != nil {
				full = d.add(full, errorBuffer(d, "processing-failed"), errorRecord("DynamicPartitioning.MetadataExtractionFailed", err, sub), now)
				continue
			}
			if n := d.keyLen(prefix, now); n > MaxKeyBytes {
				err := fmt.Errorf("object key of %d bytes under prefix %q: S3 takes at most %d", n, prefix, MaxKeyBytes)
				full = d.add(full, errorBuffer(d, "processing-failed"), errorRecord(CodeKeyTooLong, err, sub), now)
				continue
			}
			full = d.add(full, d.buffer(prefix, ""), data, now)
		}
	}
	d.mu.Unlock()
	wctx := context.WithoutCancel(ctx)
	for _, b := range full {
		if err := d.write(wctx, b); err != nil {
			d.requeue(b)
		}
	}
	return nil
}

// requeue puts back a buffer that could not be written, ahead of whatever
// its partition gathered meanwhile, so that its records are written with
// the next object of that partition.
func (d *Delivery) requeue(b *buffer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := b.errType + "\x00" + b.prefix
	if cur := d.buffers[key]; cur != nil && cur.records > 0 {
		b.data.Write(cur.data.Bytes())
		b.records += cur.records
	}
	d.buffers[key] = b
}

// add appends data to b, and detaches b for writing once it is full.
func (d *Delivery) add(full []*buffer, b *buffer, data []byte, now time.Time) []*buffer {
	if b.records == 0 {
		b.oldest = now
	}
	b.data.Write(data)
	b.records++
	if b.data.Len() >= d.cfg.BufferBytes {
		delete(d.buffers, b.errType+"\x00"+b.prefix)
		full = append(full, b)
	}
	return full
}

func (d *Delivery) buffer(prefix, errType string) *buffer {
	key := errType + "\x00" + prefix
	b := d.buffers[key]
	if b == nil {
		b = &buffer{prefix: prefix, errType: errType}
		d.buffers[key] = b
	}
	return b
}

func errorBuffer(d *Delivery, errType string) *buffer {
	return d.buffer(d.cfg.ErrorOutputPrefix, errType)
}

// errorRecord is what Firehose writes for a record it could not deliver:
// the error and the record's data, base64, one JSON object per line.
func errorRecord(code string, err error, data []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"errorCode":    code,
		"errorMessage": err.Error(),
		"rawData":      base64.StdEncoding.EncodeToString(data),
	})
	return append(b, '\n')
}

// maxSubRecords is the most records Firehose's de-aggregation splits out of
// one record ("capped at 500 per record"); the stand-in refuses more, so that
// a producer packing more fails tests instead of losing data in the cloud.
const maxSubRecords = 500

// splitJSON splits a record into the JSON objects it holds, one after
// another (with or without white space between), as Firehose's JSON
// de-aggregation does.
func splitJSON(rec []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(rec))
	var out [][]byte
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("de-aggregate JSON: %w", err)
		}
		out = append(out, v)
		if len(out) > maxSubRecords {
			return nil, fmt.Errorf("de-aggregate JSON: more than %d records in one", maxSubRecords)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("de-aggregate JSON: empty record")
	}
	return out, nil
}

// MaxKeyBytes is the longest S3 object key (1,024 bytes of UTF-8).
const MaxKeyBytes = 1024

// CodeKeyTooLong is the errorCode of a record whose object key would pass
// MaxKeyBytes. What Firehose does then is not documented (its PutObject
// would fail with KeyTooLongError, and it retries for the stream's retry
// duration); the stand-in puts the record under the error prefix at once,
// so that it is kept and named.
const CodeKeyTooLong = "S3.KeyTooLong"

// keyLen is the length of the key an object under prefix would get now.
func (d *Delivery) keyLen(prefix string, now time.Time) int {
	b := &buffer{prefix: prefix, oldest: now}
	return len(d.objectKey(b))
}

// plainSegment reports whether a partition key value can stand as one
// folder name of a key: not empty, not . or .., with no /, no control
// character and no "!{". Firehose puts the value into the key as it is (S3 keys are
// strings, "a/../b" included); the stand-in stores keys as files, where
// such a value would name another folder, so it refuses the record, to
// the error prefix, as Firehose does a key it can not evaluate.
func plainSegment(v string) bool {
	if v == "" || v == "." || v == ".." || strings.Contains(v, "!{") {
		// "!{" would be expanded with the prefix's own expressions when
		// the object is named ("!{timestamp:'../x'}" gives ../x).
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '/' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// partition evaluates the query on a record and substitutes the
// partitionKeyFromQuery expressions of the prefix.
func (d *Delivery) partition(rec []byte) (string, error) {
	var v any
	if err := json.Unmarshal(rec, &v); err != nil {
		return "", fmt.Errorf("record is not a JSON object: %w", err)
	}
	iter := d.query.Run(v)
	out, ok := iter.Next()
	if !ok {
		return "", errors.New("partition query produced no result")
	}
	if err, isErr := out.(error); isErr {
		return "", fmt.Errorf("partition query: %w", err)
	}
	keys, ok := out.(map[string]any)
	if !ok {
		return "", fmt.Errorf("partition query produced %T, want an object", out)
	}
	var firstErr error
	prefix := expand(d.cfg.Prefix, func(ns, name string) string {
		if ns != "partitionKeyFromQuery" {
			return "!{" + ns + ":" + name + "}" // evaluated at flush
		}
		val, ok := keys[name]
		var s string
		switch v := val.(type) {
		case string:
			s = v
		case float64, int, bool:
			s = fmt.Sprint(v)
		default:
			ok = false
		}
		if (!ok || s == "") && firstErr == nil {
			firstErr = fmt.Errorf("partition key %q missing or not a scalar", name)
		}
		if ok && s != "" && !plainSegment(s) && firstErr == nil {
			firstErr = fmt.Errorf("partition key %q is %q: not a plain folder name (no /, no . or .. alone, no control characters); refused so that no object lands outside its partition", name, s)
		}
		return s
	})
	return prefix, firstErr
}

// expand replaces every !{namespace:name} in s with f's result.
func expand(s string, f func(ns, name string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "!{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		ns, name, _ := strings.Cut(s[i+2:i+j], ":")
		b.WriteString(f(ns, name))
		s = s[i+j+1:]
	}
}

// Flush writes every buffer. A buffer it cannot write is kept for the next
// Flush, and the error says which objects were not written.
func (d *Delivery) Flush(ctx context.Context) error {
	d.mu.Lock()
	keys := make([]string, 0, len(d.buffers))
	for k := range d.buffers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bufs := make([]*buffer, 0, len(keys))
	for _, k := range keys {
		bufs = append(bufs, d.buffers[k])
		delete(d.buffers, k)
	}
	d.mu.Unlock()
	var errs []error
	for _, b := range bufs {
		if err := d.write(ctx, b); err != nil {
			d.requeue(b)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// objectKey names an object: <evaluated prefix><stream>-1-<arrival
// yyyy-MM-dd-HH-mm-ss>-<random>[.gz], as Firehose names them.
func (d *Delivery) objectKey(b *buffer) string {
	prefix := b.prefix
	if prefix == "" && b.errType == "" {
		prefix = "!{timestamp:yyyy/MM/dd/HH}/"
	}
	prefix = expand(prefix, func(ns, name string) string {
		switch ns {
		case "timestamp":
			return javaTime(b.oldest, name)
		case "firehose":
			switch name {
			case "error-output-type":
				return b.errType
			case "random-string":
				return randomString(11)
			}
		}
		return "!{" + ns + ":" + name + "}"
	})
	key := prefix + d.cfg.StreamName + "-1-" + b.oldest.Format("2006-01-02-15-04-05") + "-" + randomString(36)
	if d.cfg.Compression == "GZIP" {
		key += ".gz"
	}
	return key
}

// write stores one buffer as an object.
func (d *Delivery) write(ctx context.Context, b *buffer) error {
	if b.records == 0 {
		return nil
	}
	key := d.objectKey(b)
	body := b.data.Bytes()
	if d.cfg.Compression == "GZIP" {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		body = zb.Bytes()
	}
	_, err := d.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(d.cfg.Bucket),
		Key:    aws.String(key),
		Body:   bytes.NewReader(body),
	})
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", d.cfg.Bucket, key, err)
	}
	d.mu.Lock()
	d.objects = append(d.objects, Object{Key: key, Records: b.records, Bytes: b.data.Len(), Size: len(body), Error: b.errType != ""})
	d.mu.Unlock()
	return nil
}

// Objects returns the objects written so far.
func (d *Delivery) Objects() []Object {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Object(nil), d.objects...)
}

const randomChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = randomChars[int(b[i])%len(randomChars)]
	}
	return string(b)
}

// javaTime formats t with a Java DateTimeFormatter pattern, for the
// letters Firehose prefixes use (y M d H m s) and quoted literals.
func javaTime(t time.Time, pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			j := strings.IndexByte(pattern[i+1:], '\'')
			if j < 0 {
				b.WriteString(pattern[i+1:])
				break
			}
			b.WriteString(pattern[i+1 : i+1+j])
			i += j + 2
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		var v int
		switch c {
		case 'y', 'u':
			v = t.Year()
		case 'M':
			v = int(t.Month())
		case 'd':
			v = t.Day()
		case 'H':
			v = t.Hour()
		case 'm':
			v = t.Minute()
		case 's':
			v = t.Second()
		default:
			b.WriteString(pattern[i : i+n])
			i += n
			continue
		}
		if c == 'y' && n == 2 {
			v %= 100
		}
		fmt.Fprintf(&b, "%0*d", n, v)
		i += n
	}
	return b.String()
}
