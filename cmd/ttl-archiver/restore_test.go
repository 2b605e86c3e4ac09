package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ttl-archiver/ttl-archiver/restore/restoretest"
)

// runTool runs subcommands in-process with the given environment.
func runTool(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

var (
	toolDynOnce sync.Once
	toolDyn     *restoretest.Dynalite
	toolDynErr  error
)

// toolDynamo starts dynalite once for this package's tests; it is
// stopped when the test binary's last test using it ends.
func toolDynamo(t *testing.T) *restoretest.Dynalite {
	t.Helper()
	toolDynOnce.Do(func() {
		bin, err := restoretest.FindDynalite(".")
		if err != nil {
			toolDynErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		toolDyn, toolDynErr = restoretest.StartDynalite(ctx, bin)
	})
	if toolDynErr != nil {
		if errors.Is(toolDynErr, restoretest.ErrNoDynalite) && os.Getenv("CI") == "" {
			t.Skip(toolDynErr)
		}
		t.Fatal(toolDynErr)
	}
	return toolDyn
}

func TestMain(m *testing.M) {
	code := m.Run()
	if toolDyn != nil {
		toolDyn.Close()
	}
	os.Exit(code)
}

const archiveLine = `{"table":"Orders","region":"us-east-1","event_id":"e%d","sequence_number":"%d","deleted_at":"2025-11-23T10:00:00Z","format":"dynamodb-json",` +
	`"keys":{"pk":{"S":"o#%d"}},"item":{"pk":{"S":"o#%d"},"tags":{"SS":["a","b"]},"n":{"N":"12345678901234567890123456789012345678"},"b":{"B":"AAE="}}}` + "\n"

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.Bytes()
}

func TestRestoreCommand(t *testing.T) {
	d := toolDynamo(t)
	s3srv, err := restoretest.StartS3("arch", "arch2")
	if err != nil {
		t.Fatal(err)
	}
	defer s3srv.Close()
	var lines strings.Builder
	for i := range 30 {
		fmt.Fprintf(&lines, archiveLine, i, i, i, i)
	}
	ctx := context.Background()
	if _, err := s3srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("arch"), Key: aws.String("archive/table=Orders/dt=2025-11-23/x.gz"), Body: bytes.NewReader(gzipped(lines.String()))}); err != nil {
		t.Fatal(err)
	}
	// A second region's archive, under the same key: a duplicate delivery
	// of e0 and one deletion of its own.
	second := fmt.Sprintf(archiveLine, 0, 0, 0, 0) + fmt.Sprintf(archiveLine, 100, 100, 100, 100)
	if _, err := s3srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("arch2"), Key: aws.String("archive/table=Orders/dt=2025-11-23/x.gz"), Body: bytes.NewReader(gzipped(second))}); err != nil {
		t.Fatal(err)
	}
	db := d.Client()
	if err := restoretest.CreateTable(ctx, db, "Orders", [2]string{"pk", "S"}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_S3": s3srv.URL, "AWS_ENDPOINT_URL_DYNAMODB": d.URL}
	cp := filepath.Join(t.TempDir(), "cp.json")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout+stderr
	}{
		{"usage", []string{"restore", "--from", "s3://arch/archive/"}, 2, []string{"--from and --table are required"}},
		{"bad flag", []string{"restore", "--rate", "fast"}, 2, []string{`invalid argument "fast" for "--rate"`}},
		{"dry run", []string{"restore", "--from", "s3://arch/archive/", "--table", "Orders", "--dry-run", "--key", "pk=o#3"}, 0,
			[]string{`{"b":{"B":"AAE="},"n":{"N":"12345678901234567890123456789012345678"},"pk":{"S":"o#3"},"tags":{"SS":["a","b"]}}`, "dry run: 1 items would be written"}},
		{"two archives", []string{"restore", "--from", "s3://arch/archive/", "--from", "s3://arch2/archive/", "--table", "Orders", "--dry-run"}, 0,
			[]string{"read 2 objects, 32 lines: 31 items selected", "1 duplicates", "dry run: 31 items would be written"}},
		{"missing table", []string{"restore", "--from", "s3://arch/archive/", "--table", "Nope"}, 1, []string{"table Nope not found in region us-east-1"}},
		{"restore", []string{"restore", "--from", "s3://arch/archive/", "--table", "Orders", "--source-table", "Orders", "--since", "2025-11-23", "--until", "2025-11-23", "--checkpoint", cp, "--rate", "1000"}, 0,
			[]string{"30 items selected", "written: 30 items", "checkpoint removed"}},
		{"no overwrite", []string{"restore", "--from", "s3://arch/archive/", "--table", "Orders", "--no-overwrite"}, 0,
			[]string{"written: 0 items; 30 items already existed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTool(t, vars, tt.args...)
			if code != tt.wantCode {
				t.Errorf("%v: exit code %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("%v: output lacks %q\nstdout: %s\nstderr: %s", tt.args, w, out, errOut)
				}
			}
		})
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Orders"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "o#7"}}})
	if err != nil || got.Item == nil {
		t.Fatalf("GetItem o#7 after restore: %v, %v", got, err)
	}
	if _, ok := got.Item["tags"].(*types.AttributeValueMemberSS); !ok {
		t.Errorf("restored tags: got %T, want a string set", got.Item["tags"])
	}
}

func TestExportImportCommand(t *testing.T) {
	dir := t.TempDir()
	var lines strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines, archiveLine, i, i, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "x.gz"), gzipped(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "import")
	code, stdout, stderr := runTool(t, map[string]string{"AWS_REGION": "eu-west-1"}, "export-import", "--from", dir, "--to", out, "--source-table", "Orders")
	if code != 0 {
		t.Fatalf("export-import: exit code %d\n%s\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"5 items exported", "part-00000.json.gz", "aws s3 cp --recursive", "aws dynamodb import-table --region eu-west-1",
		`"TableName":"Orders-restored"`, `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]`} {
		if !strings.Contains(stdout, w) {
			t.Errorf("export-import output lacks %q:\n%s", w, stdout)
		}
	}
	f, err := os.Open(filepath.Join(out, "part-00000.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	first := strings.SplitN(string(b), "\n", 2)[0]
	if want := `{"Item":{"b":{"B":"AAE="},"n":{"N":"12345678901234567890123456789012345678"},"pk":{"S":"o#0"},"tags":{"SS":["a","b"]}}}`; first != want {
		t.Errorf("first import line: got %s, want %s", first, want)
	}
}

// fakeFirehoseServer answers PutRecordBatch (JSON 1.1 protocol), taking
// every record, or failing every record when failing is set.
func fakeFirehoseServer(t *testing.T, failing bool) (*httptest.Server, *bytes.Buffer) {
	var mu sync.Mutex
	var got bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "Firehose_20150804.DescribeDeliveryStream" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_, _ = io.WriteString(w, `{"DeliveryStreamDescription":{"DeliveryStreamName":"s","DeliveryStreamARN":"arn:aws:firehose:us-east-1:123456789012:deliverystream/s","DeliveryStreamStatus":"ACTIVE","DeliveryStreamType":"DirectPut","VersionId":"1","Destinations":[],"HasMoreDestinations":false}}`)
			return
		}
		if r.Header.Get("X-Amz-Target") != "Firehose_20150804.PutRecordBatch" {
			http.Error(w, "unexpected call", http.StatusBadRequest)
			return
		}
		var in struct{ Records []struct{ Data []byte } }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type entry struct {
			RecordId     string `json:",omitempty"`
			ErrorCode    string `json:",omitempty"`
			ErrorMessage string `json:",omitempty"`
		}
		out := struct {
			FailedPutCount   int
			Encrypted        bool
			RequestResponses []entry
		}{}
		mu.Lock()
		for _, rec := range in.Records {
			if failing {
				out.FailedPutCount++
				out.RequestResponses = append(out.RequestResponses, entry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."})
				continue
			}
			got.Write(rec.Data)
			out.RequestResponses = append(out.RequestResponses, entry{RecordId: "r"})
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestRedriveCommand(t *testing.T) {
	event := `{"Records":[{"eventID":"e1","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
		`"dynamodb":{"ApproximateCreationDateTime":1763892000,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"n":{"N":"1"}},"SequenceNumber":"111","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"},` +
		`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000"}]}`
	payload, _ := json.Marshal(event)
	rec := `{"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},` +
		`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2025-11-23T10:05:00.000Z",` +
		`"DDBStreamBatchInfo":{"shardId":"shardId-1","startSequenceNumber":"111","endSequenceNumber":"111","approximateArrivalOfFirstRecord":"2025-11-23T10:00:00Z","approximateArrivalOfLastRecord":"2025-11-23T10:00:00Z","batchSize":1,"streamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2025-01-01T00:00:00.000"},` +
		`"payload":` + string(payload) + `}`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "2025-11-23T10.05.00-uuid"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		failing  bool
		args     []string
		noStream bool
		wantCode int
		want     []string
	}{
		{"ok", false, []string{"redrive", "--from", dir}, false, 0, []string{"1 TTL deletions archived to local-archive"}},
		{"stream flag", false, []string{"redrive", "--from", dir, "--stream", "other"}, true, 0, []string{"archived to other"}},
		{"no stream", false, []string{"redrive", "--from", dir}, true, 2, []string{"FIREHOSE_STREAM_NAME"}},
		{"firehose fails", true, []string{"redrive", "--from", dir}, false, 3, []string{"FAILED", "sequence numbers 111", "run redrive again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeFirehoseServer(t, tt.failing)
			vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
				"AWS_ENDPOINT_URL_FIREHOSE": srv.URL, "FIREHOSE_STREAM_NAME": "local-archive", "AWS_MAX_ATTEMPTS": "1"}
			if tt.noStream {
				delete(vars, "FIREHOSE_STREAM_NAME")
			}
			code, out, errOut := runTool(t, vars, tt.args...)
			if code != tt.wantCode {
				t.Errorf("%v: exit code %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("%v: output lacks %q\nstdout: %s\nstderr: %s", tt.args, w, out, errOut)
				}
			}
			if tt.wantCode == 0 && !strings.Contains(got.String(), `"event_id":"e1"`) {
				t.Errorf("Firehose got %q, want the archive line of e1", got.String())
			}
		})
	}
}
