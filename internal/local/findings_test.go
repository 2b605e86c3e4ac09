package local_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// These tests reach the local stack as any client on this machine can:
// over HTTP on loopback, with the SDK's clients or by hand.

func startStack(t *testing.T, dir string) *local.Stack {
	t.Helper()
	stack, err := local.Start(local.Options{Dir: dir})
	if err != nil {
		t.Fatalf("local.Start: %v", err)
	}
	return stack
}

// archiveLine is the part of an archive line the stream partitions by.
func archiveLine(table, deletedAt, id string) []byte {
	b, _ := json.Marshal(map[string]string{"table": table, "deleted_at": deletedAt, "event_id": id})
	return append(b, '\n')
}

// put sends lines to the stack's stream and fails the test unless every
// one is acknowledged.
func put(t *testing.T, stack *local.Stack, lines ...[]byte) {
	t.Helper()
	recs := make([]fhtypes.Record, len(lines))
	for i, l := range lines {
		recs[i] = fhtypes.Record{Data: l}
	}
	out, err := stack.FirehoseClient().PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String(local.Stream), Records: recs})
	if err != nil {
		t.Fatalf("PutRecordBatch: %v", err)
	}
	if n := aws.ToInt32(out.FailedPutCount); n != 0 {
		t.Fatalf("PutRecordBatch: %d records failed, want 0", n)
	}
}

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// objectLines reads an object from the stack's S3 and returns its lines.
func objectLines(t *testing.T, c *s3.Client, key string) []string {
	t.Helper()
	obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(local.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer func() { _ = obj.Body.Close() }()
	zr, err := gzip.NewReader(obj.Body)
	if err != nil {
		t.Fatalf("gunzip %s: %v", key, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// legalName is a DynamoDB table name of n characters (3 to 255 of
// [a-zA-Z0-9_.-]).
func legalName(n int) string {
	const chars = "Orders_2025.eu-west-1"
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(chars)
	}
	return b.String()[:n]
}

// TestLongTableNames: every legal table name, up to 255 characters, is
// archived as one object under its partition: Flush writes it, the S3 API
// lists and reads it under its full key, and Close writes nothing again.
func TestLongTableNames(t *testing.T) {
	dir := t.TempDir()
	stack := startStack(t, dir)
	lengths := []int{3, 114, 115, 116, 200, 249, 250, 251, 255}
	var lines [][]byte
	for i, n := range lengths {
		lines = append(lines, archiveLine(legalName(n), "2025-11-23T10:00:00Z", fmt.Sprint("e", i)))
	}
	put(t, stack, lines...)
	if err := stack.Flush(context.Background()); err != nil {
		t.Errorf("Flush: %v, want nil: the records were acknowledged", err)
	}
	c := stack.S3.Client()
	for i, n := range lengths {
		prefix := "archive/table=" + legalName(n) + "/dt=2025-11-23/"
		list, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(local.Bucket), Prefix: aws.String(prefix)})
		if err != nil {
			t.Errorf("table name of %d: ListObjectsV2: %v", n, err)
			continue
		}
		if len(list.Contents) != 1 {
			t.Errorf("table name of %d: %d objects under its partition, want 1", n, len(list.Contents))
			continue
		}
		got := objectLines(t, c, aws.ToString(list.Contents[0].Key))
		if len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf(`"event_id":"e%d"`, i)) {
			t.Errorf("table name of %d: object lines %q, want its one line", n, got)
		}
	}
	bucket := stack.S3.BucketDir(local.Bucket)
	before := files(t, bucket)
	if err := stack.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	after := files(t, bucket)
	if len(before) != len(lengths) || len(after) != len(before) {
		t.Errorf("object files: %d after Flush, %d after Close; want %d both times (one per table)", len(before), len(after), len(lengths))
	}
}

// TestPartitionValuesStayInPartition: a table name or deleted_at that is
// not a plain folder name ("../", "/", "!{...}") moves no object out of
// its bucket and partition, and no acknowledged record is lost: such
// records are written under the error prefix, with their data.
func TestPartitionValuesStayInPartition(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "s3")
	stack := startStack(t, dir)
	t.Cleanup(func() { _ = stack.Close() })
	bad := [][]byte{
		archiveLine("../other-bucket", "2025-11-23T10:00:00Z", "up-one"),
		archiveLine("../../../../../../../../../../tmp/escaped", "2025-11-23T10:00:00Z", "deep"),
		archiveLine("..", "2025-11-23T10:00:00Z", "dotdot"),
		archiveLine("a/b", "2025-11-23T10:00:00Z", "slash"),
		archiveLine("Orders", "../../../x", "date-up"),
		archiveLine("Orders", "./././././", "date-dot"),
		archiveLine("!{timestamp:'../../..'}", "2025-11-23T10:00:00Z", "expression"),
	}
	good := archiveLine("Orders", "2025-11-23T10:00:00Z", "good")
	put(t, stack, append(bad, good)...)
	if err := stack.Flush(context.Background()); err != nil {
		t.Errorf("Flush: %v, want nil: the records were acknowledged", err)
	}

	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the S3 folder: %v, want nothing", names)
	}
	bucketPrefix := "buckets/" + local.Bucket + "/"
	var archived, errored []string
	for _, f := range files(t, dir) {
		switch {
		case strings.HasPrefix(f, bucketPrefix+"archive/table=Orders/dt=2025-11-23/"):
			archived = append(archived, f)
		case strings.HasPrefix(f, bucketPrefix+"firehose-errors/processing-failed/"):
			errored = append(errored, strings.TrimPrefix(f, bucketPrefix))
		case strings.HasPrefix(f, "metadata/"), strings.HasPrefix(f, ".longnames/"):
		default:
			t.Errorf("file %s: outside the partitions and the error prefix", f)
		}
	}
	if len(archived) != 1 {
		t.Errorf("objects in the Orders partition: %v, want 1", archived)
	}
	got := map[string]bool{}
	for _, key := range errored {
		for _, l := range objectLines(t, stack.S3.Client(), key) {
			var rec struct{ RawData []byte }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("error object %s: line %q: %v", key, l, err)
			}
			var line struct {
				EventID string `json:"event_id"`
			}
			_ = json.Unmarshal(rec.RawData, &line)
			got[line.EventID] = true
		}
	}
	for _, b := range bad {
		var line struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(b, &line)
		if !got[line.EventID] {
			t.Errorf("record %s: not under the error prefix (got %v)", line.EventID, got)
		}
	}
}

// signed signs req for service as a client with keys id/secret would.
func signed(t *testing.T, req *http.Request, service, id, secret string, payloadHash string) *http.Request {
	t.Helper()
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req, payloadHash, service, local.Region, time.Now()); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return req
}

// stackKey and stackSecret are the keys a stack started with no others
// checks (local.DefaultCredentials), written out.
const stackKey, stackSecret = "local", "local"

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// TestUnsignedCallsRefused: calls not signed with the stack's keys are
// refused by both servers, before anything is stored.
func TestUnsignedCallsRefused(t *testing.T) {
	dir := t.TempDir()
	stack := startStack(t, dir)
	t.Cleanup(func() { _ = stack.Close() })
	body := `{"DeliveryStreamName":"` + local.Stream + `","Records":[{"Data":"eyJ0YWJsZSI6Ik9yZGVycyJ9Cg=="}]}`
	fhReq := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, stack.Firehose.URL()+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "Firehose_20150804.PutRecordBatch")
		return r
	}
	madeUp := fhReq()
	madeUp.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	madeUp.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/"+time.Now().UTC().Format("20060102")+
		"/us-east-1/firehose/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("ab", 32))
	s3Put := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPut, stack.S3.URL()+"/"+local.Bucket+"/planted", strings.NewReader(""))
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
	}{
		{"Firehose, made-up signature", madeUp},
		{"Firehose, signed with another secret", signed(t, fhReq(), "firehose", "local", "not-the-secret", sha256Hex(body))},
		{"Firehose, signed with another key", signed(t, fhReq(), "firehose", "someone", "local", sha256Hex(body))},
		{"S3, no signature", s3Put()},
		{"S3, signed with another secret", signed(t, s3Put(), "s3", "local", "not-the-secret", emptySHA256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tt.req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.req.Method, tt.req.URL, err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: HTTP %d, want a 4xx refusal", tt.req.Method, tt.req.URL, resp.StatusCode)
			}
		})
	}
	if n := stack.Firehose.Stats().RecordsAccepted; n != 0 {
		t.Errorf("Firehose accepted %d records from unsigned calls, want 0", n)
	}
	if _, err := os.Stat(filepath.Join(stack.S3.BucketDir(local.Bucket), "planted")); err == nil {
		t.Errorf("an unsigned PUT stored its object")
	}
	// The stack's own clients, signed with its keys, are served.
	put(t, stack, archiveLine("Orders", "2025-11-23T10:00:00Z", "e1"))
	if _, err := stack.S3.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(local.Bucket)}); err != nil {
		t.Errorf("ListObjectsV2 with the stack's keys: %v", err)
	}
	wrong := s3.New(s3.Options{Region: local.Region, BaseEndpoint: aws.String(stack.S3.URL()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "wrong", "")})
	if _, err := wrong.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(local.Bucket)}); err == nil {
		t.Errorf("ListObjectsV2 with a wrong secret: served, want refused")
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestNoCORSByDefault: the S3 API sends no CORS header, to a signed
// request from a page's origin or to a preflight, unless asked.
func TestNoCORSByDefault(t *testing.T) {
	stack := startStack(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Close() })
	get, _ := http.NewRequest(http.MethodGet, stack.S3.URL()+"/"+local.Bucket+"?list-type=2", nil)
	get.Header.Set("Origin", "http://evil.example")
	get = signed(t, get, "s3", stackKey, stackSecret, emptySHA256)
	preflight, _ := http.NewRequest(http.MethodOptions, stack.S3.URL()+"/"+local.Bucket+"/x", nil)
	preflight.Header.Set("Origin", "http://evil.example")
	preflight.Header.Set("Access-Control-Request-Method", "PUT")
	for _, req := range []*http.Request{get, preflight} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", req.Method, err)
		}
		_ = resp.Body.Close()
		if req.Method == http.MethodGet && resp.StatusCode != http.StatusOK {
			t.Errorf("signed GET: HTTP %d, want 200", resp.StatusCode)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s with Origin: header %s: %q, want no CORS header", req.Method, k, resp.Header.Get(k))
			}
		}
	}
}

// TestSlowClientCutOff: a request whose body never arrives is ended by
// each server within its 30 s body timeout, instead of holding the
// connection (and a slot) open.
func TestSlowClientCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the servers' 30 s body timeout")
	}
	stack := startStack(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Close() })
	fh, _ := http.NewRequest(http.MethodPost, stack.Firehose.URL()+"/", nil)
	fh.Header.Set("Content-Type", "application/x-amz-json-1.1")
	fh.Header.Set("X-Amz-Target", "Firehose_20150804.PutRecordBatch")
	s3put, _ := http.NewRequest(http.MethodPut, stack.S3.URL()+"/"+local.Bucket+"/slow", nil)
	var wg sync.WaitGroup
	for _, tt := range []struct {
		name, service, hash string
		req                 *http.Request
	}{
		{"Firehose", "firehose", strings.Repeat("0", 64), fh},
		{"S3", "s3", "UNSIGNED-PAYLOAD", s3put},
	} {
		wg.Go(func() {
			req := signed(t, tt.req, tt.service, stackKey, stackSecret, tt.hash)
			conn, err := net.Dial("tcp", req.URL.Host)
			if err != nil {
				t.Errorf("%s: dial: %v", tt.name, err)
				return
			}
			defer func() { _ = conn.Close() }()
			// Headers promising 100 bytes of body, and then nothing.
			var head bytes.Buffer
			fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n", req.Method, req.URL.RequestURI(), req.URL.Host)
			for k, vs := range req.Header {
				for _, v := range vs {
					fmt.Fprintf(&head, "%s: %s\r\n", k, v)
				}
			}
			head.WriteString("\r\n")
			if _, err := conn.Write(head.Bytes()); err != nil {
				t.Errorf("%s: write headers: %v", tt.name, err)
				return
			}
			start := time.Now()
			_ = conn.SetReadDeadline(start.Add(40 * time.Second))
			// The request ends with an error answer (S3) or a closed
			// connection (Firehose, as when a client goes away).
			resp, err := http.ReadResponse(bufio.NewReader(conn), req)
			took := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || took > 35*time.Second {
				t.Errorf("%s: request with a body that never came: still open after %v (%v), want it ended within 35 s", tt.name, took.Round(time.Second), err)
			}
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode < 400 {
					t.Errorf("%s: request with a body that never came: HTTP %d, want an error", tt.name, resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
}
