package soak

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/archive/reference"
	"github.com/ttl-archiver/ttl-archiver/internal/esm"
	"github.com/ttl-archiver/ttl-archiver/internal/streamgen"
)

// Found is what the soak found in the buckets after a run, checked against
// the generated stream.
type Found struct {
	// ArchiveObjects and ArchiveLines are the objects under the archive
	// prefix and the lines in them.
	ArchiveObjects int `json:"archive_objects"`
	ArchiveLines   int `json:"archive_lines"`
	// FirehoseErrorObjects and FirehoseErrorRecords are what Firehose put
	// under its error output prefix (records it could not partition):
	// never expected. ForeignObjects are objects anywhere else in the
	// archive bucket.
	FirehoseErrorObjects int `json:"firehose_error_objects"`
	FirehoseErrorRecords int `json:"firehose_error_records"`
	ForeignObjects       int `json:"foreign_objects"`
	// BadLines are lines that are not archive lines (ParseLine failed);
	// UnknownLines are lines whose event_id is no generated record.
	BadLines     int `json:"bad_lines"`
	UnknownLines int `json:"unknown_lines"`
	// NonTTLLines are lines of records that are not TTL deletions.
	NonTTLLines int `json:"non_ttl_lines"`
	// FieldMismatches are lines whose table, region, sequence_number or
	// deleted_at differ from the record's; MisplacedLines lines in another
	// table's or date's folder; RawLines lines archived raw, with an error.
	FieldMismatches int `json:"field_mismatches"`
	MisplacedLines  int `json:"misplaced_lines"`
	RawLines        int `json:"raw_lines"`
	// ContentChecked items were compared in full (keys and item) with
	// reference.PlainJSON or reference.DynamoDBJSON; ContentMismatches differed.
	ContentChecked    int `json:"content_checked"`
	ContentMismatches int `json:"content_mismatches"`
	// OnFailureObjects are the on-failure destination's objects and
	// OnFailureRecords the stream records in their payloads.
	OnFailureObjects  int `json:"on_failure_objects"`
	OnFailureRecords  int `json:"on_failure_records"`
	OnFailureBadLines int `json:"on_failure_bad_objects"`
	// PayloadMismatches are records in on-failure payloads that differ from
	// the record the stream holds, or that the batch info does not
	// describe (shard, first and last sequence number, batch size).
	PayloadMismatches int `json:"payload_mismatches"`

	examples []string
}

func (f *Found) example(format string, args ...any) {
	if len(f.examples) < 10 {
		f.examples = append(f.examples, fmt.Sprintf(format, args...))
	}
}

// verifier reads the buckets back.
type verifier struct {
	s        *stream
	client   *s3.Client
	bucket   string
	prefix   string // archive prefix, e.g. "archive/"
	errorDir string // error output prefix up to its first expression
	format   archive.Format
	workers  int

	mu    sync.Mutex
	found Found
}

// readAll reads both buckets.
func (v *verifier) readAll(ctx context.Context) error {
	keys, err := listKeys(ctx, v.client, v.bucket)
	if err != nil {
		return err
	}
	jobs := make(chan string)
	errs := make(chan error, v.workers)
	var wg sync.WaitGroup
	for range v.workers {
		wg.Go(func() {
			var local Found
			for key := range jobs {
				if err := v.archiveObject(ctx, key, &local); err != nil {
					errs <- err
					for range jobs {
					}
					return
				}
			}
			v.merge(&local)
		})
	}
	for _, k := range keys {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fkeys, err := listKeys(ctx, v.client, FailedBucket)
	if err != nil {
		return err
	}
	for _, k := range fkeys {
		if err := v.failureObject(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (v *verifier) merge(l *Found) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := &v.found
	f.ArchiveObjects += l.ArchiveObjects
	f.ArchiveLines += l.ArchiveLines
	f.FirehoseErrorObjects += l.FirehoseErrorObjects
	f.FirehoseErrorRecords += l.FirehoseErrorRecords
	f.ForeignObjects += l.ForeignObjects
	f.BadLines += l.BadLines
	f.UnknownLines += l.UnknownLines
	f.NonTTLLines += l.NonTTLLines
	f.FieldMismatches += l.FieldMismatches
	f.MisplacedLines += l.MisplacedLines
	f.RawLines += l.RawLines
	f.ContentChecked += l.ContentChecked
	f.ContentMismatches += l.ContentMismatches
	for _, e := range l.examples {
		f.example("%s", e)
	}
}

func listKeys(ctx context.Context, client *s3.Client, bucket string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func getObject(ctx context.Context, client *s3.Client, bucket, key string) (io.ReadCloser, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return out.Body, nil
}

// archiveObject reads one object of the archive bucket.
func (v *verifier) archiveObject(ctx context.Context, key string, f *Found) error {
	isArchive := strings.HasPrefix(key, v.prefix)
	isError := v.errorDir != "" && strings.HasPrefix(key, v.errorDir)
	if !isArchive && !isError {
		f.ForeignObjects++
		f.example("object %s is outside the archive and error prefixes", key)
		return nil
	}
	body, err := getObject(ctx, v.client, v.bucket, key)
	if err != nil {
		return err
	}
	defer func() { _ = body.Close() }()
	zr, err := gzip.NewReader(body)
	if err != nil {
		return fmt.Errorf("object %s is not gzipped: %w", key, err)
	}
	br := bufio.NewReaderSize(zr, 1<<20)
	if isError {
		f.FirehoseErrorObjects++
	} else {
		f.ArchiveObjects++
	}
	dir := key[:strings.LastIndexByte(key, '/')+1]
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if isError {
				f.FirehoseErrorRecords++
				f.example("firehose error record in %s: %.300s", key, line)
			} else {
				f.ArchiveLines++
				v.line(line, dir, f)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", key, err)
		}
	}
}

// line checks one archive line and counts it against its record.
func (v *verifier) line(data []byte, dir string, f *Found) {
	l, err := archive.ParseLine(data)
	if err != nil {
		f.BadLines++
		f.example("%v: %.200s", err, data)
		return
	}
	key, ok := parseEventKey(l.EventID)
	it := v.s.lookup(key)
	if !ok || it == nil {
		f.UnknownLines++
		f.example("line with unknown event_id %q", l.EventID)
		return
	}
	if it.kind != streamgen.TTLRemove {
		f.NonTTLLines++
		f.example("line for %s, which is not a TTL deletion (kind %d)", l.EventID, it.kind)
		return
	}
	n := atomic.AddInt32(&it.archived, 1)
	table := v.s.w.Tables[it.table]
	deleted := time.Unix(it.created, 0).UTC()
	rec, sh := v.s.record(it)
	if l.Table != table || l.Region != "us-east-1" || l.SequenceNumber != rec.SequenceNumber || l.DeletedAt == nil || !l.DeletedAt.Equal(deleted) {
		f.FieldMismatches++
		f.example("line %s: table %q region %q sequence_number %q deleted_at %v, want %q us-east-1 %q %v",
			l.EventID, l.Table, l.Region, l.SequenceNumber, l.DeletedAt, table, rec.SequenceNumber, deleted)
	}
	if want := v.prefix + "table=" + table + "/dt=" + deleted.Format("2006-01-02") + "/"; dir != want {
		f.MisplacedLines++
		f.example("line %s is under %s, want %s", l.EventID, dir, want)
	}
	if l.Error != "" {
		f.RawLines++
		f.example("line %s archived raw: %s", l.EventID, l.Error)
	}
	if !it.check || n != 1 {
		return
	}
	f.ContentChecked++
	keys, image, err := recordImages(sh, rec)
	if err != nil {
		f.ContentMismatches++
		f.example("line %s: read the generated record back: %v", l.EventID, err)
		return
	}
	wantItem, err1 := referenceConvert(image, v.format)
	wantKeys, err2 := referenceConvert(keys, v.format)
	item, err3 := l.ItemJSON()
	if err := errors.Join(err1, err2, err3); err != nil {
		f.ContentMismatches++
		f.example("line %s: %v", l.EventID, err)
		return
	}
	if !bytes.Equal(item, wantItem) || !bytes.Equal(l.Keys, wantKeys) {
		f.ContentMismatches++
		f.example("line %s: keys %.200s item %.200s, want keys %.200s item %.200s", l.EventID, l.Keys, item, wantKeys, wantItem)
	}
}

// failureObject reads one on-failure record and checks its payload against
// the stream.
func (v *verifier) failureObject(ctx context.Context, key string) error {
	body, err := getObject(ctx, v.client, FailedBucket, key)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", FailedBucket, key, err)
	}
	f := &v.found
	f.OnFailureObjects++
	var rec esm.OnFailureRecord
	var payload struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(data, &rec); err != nil || json.Unmarshal(rec.Payload, &payload) != nil {
		f.OnFailureBadLines++
		f.example("on-failure object %s is not an on-failure record with a payload: %.300s", key, data)
		return nil
	}
	info := rec.DDBStreamBatchInfo
	if info.BatchSize != len(payload.Records) {
		f.PayloadMismatches++
		f.example("on-failure object %s: batchSize %d, %d records in the payload", key, info.BatchSize, len(payload.Records))
	}
	if !strings.HasPrefix(key, "aws/lambda/"+MappingUUID+"/"+info.ShardID+"/") {
		f.PayloadMismatches++
		f.example("on-failure object %s is not under its shard %s", key, info.ShardID)
	}
	for i, raw := range payload.Records {
		f.OnFailureRecords++
		var r struct {
			EventID  string `json:"eventID"`
			DynamoDB struct {
				SequenceNumber string `json:"SequenceNumber"`
			} `json:"dynamodb"`
		}
		_ = json.Unmarshal(raw, &r)
		k, ok := parseEventKey(r.EventID)
		it := v.s.lookup(k)
		if !ok || it == nil {
			f.PayloadMismatches++
			f.example("on-failure object %s holds unknown record %.200s", key, raw)
			continue
		}
		it.inFailure++
		rec, sh := v.s.record(it)
		want, err := sh.RecordData(rec)
		if err != nil {
			return fmt.Errorf("on-failure object %s: read the generated record %s back: %w", key, r.EventID, err)
		}
		if !bytes.Equal(raw, want) || sh.ID != info.ShardID {
			f.PayloadMismatches++
			f.example("on-failure object %s: record %s differs from the stream's", key, r.EventID)
		}
		if (i == 0 && r.DynamoDB.SequenceNumber != info.StartSequenceNumber) ||
			(i == len(payload.Records)-1 && r.DynamoDB.SequenceNumber != info.EndSequenceNumber) {
			f.PayloadMismatches++
			f.example("on-failure object %s: sequence numbers %s..%s, payload from %s", key, info.StartSequenceNumber, info.EndSequenceNumber, r.DynamoDB.SequenceNumber)
		}
	}
	return nil
}

// shardNumber returns shard number n (over all tables).
func (s *stream) shardNumber(n int32) esm.Shard {
	t := &s.tables[int(n)%len(s.tables)]
	for i, id := range t.ids {
		if id == int(n) {
			return t.shards[i]
		}
	}
	return esm.Shard{}
}

// recordImages reads a generated record back from its shard and returns
// its dynamodb.Keys and dynamodb.OldImage as they are in the record's JSON:
// the bytes the function was given, which streamgen writes as it made them
// (see TestRecordImages).
func recordImages(sh esm.Shard, rec esm.Record) (keys, image []byte, err error) {
	data, err := sh.RecordData(rec)
	if err != nil {
		return nil, nil, err
	}
	var r struct {
		DynamoDB struct {
			Keys     json.RawMessage `json:"Keys"`
			OldImage json.RawMessage `json:"OldImage"`
		} `json:"dynamodb"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, nil, fmt.Errorf("record %s: %w", rec.SequenceNumber, err)
	}
	if r.DynamoDB.Keys == nil || r.DynamoDB.OldImage == nil {
		return nil, nil, fmt.Errorf("record %s has no dynamodb.Keys or dynamodb.OldImage", rec.SequenceNumber)
	}
	return r.DynamoDB.Keys, r.DynamoDB.OldImage, nil
}

// referenceConvert converts an image in format f with package reference.
func referenceConvert(image []byte, f archive.Format) ([]byte, error) {
	if f == archive.FormatDynamoDBJSON {
		return reference.DynamoDBJSON(image)
	}
	return reference.PlainJSON(image)
}
