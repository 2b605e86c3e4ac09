package orgtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
	"github.com/ttl-archiver/ttl-archiver/internal/samtemplate"
)

// moto's default account, the owner of every bucket it holds.
const motoAccount = "123456789012"

// repoRoot walks up from the test's directory to the folder with go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// resolve resolves template.yaml with the parameters, as deployed in moto's
// account and region, with the Rules' inputs a deploy needs.
func resolve(t *testing.T, params map[string]string) (*samtemplate.Resolver, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"CreateDemoTable": "true", "AlarmEmail": "ops@example.com"}
	for k, v := range params {
		all[k] = v
	}
	r, err := samtemplate.NewResolver(tpl, all)
	if err != nil {
		t.Fatalf("NewResolver(%v): %v", all, err)
	}
	r.Pseudo["AWS::Partition"] = "aws"
	r.Pseudo["AWS::Region"] = motoserver.Region
	r.Pseudo["AWS::AccountId"] = motoAccount
	r.Pseudo["AWS::StackName"] = "ttl-archiver"
	stream, ok := r.Template().Resources["ArchiveStream"]
	if !ok {
		t.Fatal("no ArchiveStream")
	}
	p, err := r.ResolvePartial(stream.Properties)
	if err != nil {
		t.Fatal(err)
	}
	return r, p.(map[string]any)
}

// createKey creates a symmetric key in moto's KMS and returns its ARN. The
// project's go.mod has no KMS client, so this is one JSON 1.1 request,
// signed with the SDK's own SigV4 signer, as the KMS API defines it.
func createKey(t *testing.T, srv *motoserver.Server) string {
	t.Helper()
	body := []byte(`{"Description":"ttl-archiver org test","KeyUsage":"ENCRYPT_DECRYPT","KeySpec":"SYMMETRIC_DEFAULT"}`)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
	creds, err := motoserver.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kms", motoserver.Region, time.Now()); err != nil {
		t.Fatalf("sign CreateKey: %v", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("kms CreateKey: %v", err)
	}
	defer func() { _ = res.Body.Close() }()
	out, _ := io.ReadAll(res.Body)
	var key struct{ KeyMetadata struct{ Arn, KeyId string } }
	if err := json.Unmarshal(out, &key); err != nil || res.StatusCode != http.StatusOK || key.KeyMetadata.Arn == "" {
		t.Fatalf("kms CreateKey: %s %s (%v)", res.Status, out, err)
	}
	return key.KeyMetadata.Arn
}

// goldenLines returns archive lines the archiver's golden tests expect.
func goldenLines(t *testing.T) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "archive", "testdata", "golden", "mixed-batch.json.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for l := range bytes.Lines(data) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		t.Fatalf("only %d golden lines", len(lines))
	}
	return lines
}

// deliver creates a moto Firehose stream with the template's S3
// destination (bucket ARN and, with a key, its KMS encryption config) under
// prefix, and puts the lines through it.
func deliver(t *testing.T, srv *motoserver.Server, name string, stream map[string]any, prefix string, lines [][]byte) {
	t.Helper()
	ctx := context.Background()
	dest, _ := stream["ExtendedS3DestinationConfiguration"].(map[string]any)
	bucketARN, _ := dest["BucketARN"].(string)
	if !strings.HasPrefix(bucketARN, "arn:aws:s3:::") {
		t.Fatalf("the template's BucketARN %v is not a bucket ARN", dest["BucketARN"])
	}
	cfg := &fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:         aws.String(bucketARN),
		RoleARN:           aws.String("arn:aws:iam::" + motoAccount + ":role/ttl-archiver-firehose"),
		Prefix:            aws.String(prefix),
		ErrorOutputPrefix: aws.String("firehose-errors/"),
		BufferingHints:    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(60)},
		CompressionFormat: fhtypes.CompressionFormatUncompressed,
	}
	if key, ok := dest["EncryptionConfiguration"].(map[string]any); ok {
		arn, _ := key["KMSEncryptionConfig"].(map[string]any)["AWSKMSKeyARN"].(string)
		cfg.EncryptionConfiguration = &fhtypes.EncryptionConfiguration{KMSEncryptionConfig: &fhtypes.KMSEncryptionConfig{AWSKMSKeyARN: aws.String(arn)}}
	}
	fh := firehose.NewFromConfig(srv.Config())
	in := &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName:                 aws.String(name),
		DeliveryStreamType:                 fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: cfg,
	}
	if enc, ok := stream["DeliveryStreamEncryptionConfigurationInput"].(map[string]any); ok {
		in.DeliveryStreamEncryptionConfigurationInput = &fhtypes.DeliveryStreamEncryptionConfigurationInput{KeyType: fhtypes.KeyType(fmt.Sprint(enc["KeyType"]))}
		if arn, ok := enc["KeyARN"].(string); ok {
			in.DeliveryStreamEncryptionConfigurationInput.KeyARN = aws.String(arn)
		}
	}
	if _, err := fh.CreateDeliveryStream(ctx, in); err != nil {
		t.Fatalf("CreateDeliveryStream %s: %v", name, err)
	}
	var records []fhtypes.Record
	for _, l := range lines {
		records = append(records, fhtypes.Record{Data: l})
	}
	out, err := fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: records})
	if err != nil {
		t.Fatalf("PutRecordBatch: %v", err)
	}
	if n := aws.ToInt32(out.FailedPutCount); n != 0 || len(out.RequestResponses) != len(lines) {
		t.Fatalf("PutRecordBatch: %d failed, %d answers for %d records", n, len(out.RequestResponses), len(lines))
	}
}

// readBack reads every line under s3://bucket/prefix with the reader of
// cat and restore, and returns the objects' keys.
func readBack(t *testing.T, c *s3.Client, bucket, prefix string, want [][]byte) []string {
	t.Helper()
	loc, err := archivefs.ParseLocation("s3://" + bucket + "/" + prefix)
	if err != nil {
		t.Fatal(err)
	}
	src, err := archivefs.NewSource(loc, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	keys := map[string]bool{}
	for l, err := range src.Lines(context.Background()) {
		if err != nil {
			t.Fatalf("read %s: %v", loc, err)
		}
		got = append(got, string(l.Data))
		keys[l.Object] = true
	}
	var w []string
	for _, l := range want {
		w = append(w, string(bytes.TrimSuffix(l, []byte("\n"))))
	}
	if !slices.Equal(got, w) {
		t.Errorf("read back %d lines from %s, want the %d delivered:\ngot  %q\nwant %q", len(got), loc, len(w), got, w)
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
}

func s3Client(srv *motoserver.Server) *s3.Client {
	return archivefs.NewS3Client(srv.Config(), nil)
}

// The bucket the stack creates with KmsKeyArn: default encryption SSE-KMS
// with the key and a bucket key, as the template sets it. moto's Firehose
// delivers into it, S3 encrypts the objects with that key, and the reader
// gets the lines back.
func TestMotoSSEKMSBucket(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	key := createKey(t, srv)
	r, _ := resolve(t, map[string]string{"KmsKeyArn": key})
	const bucket = "ttl-archiver-kms-archive"
	r.Refs["ArchiveBucket"] = bucket
	r.Attrs["ArchiveBucket.Arn"] = "arn:aws:s3:::" + bucket
	_, stream := resolveStream(t, r)

	// The bucket as the template creates it.
	bp, err := r.ResolvePartial(r.Template().Resources["ArchiveBucket"].Properties)
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := samtemplate.Lookup(bp, "BucketEncryption", "ServerSideEncryptionConfiguration", "0")
	algo, _ := samtemplate.Lookup(rule, "ServerSideEncryptionByDefault", "SSEAlgorithm")
	kid, _ := samtemplate.Lookup(rule, "ServerSideEncryptionByDefault", "KMSMasterKeyID")
	bk, _ := samtemplate.Lookup(rule, "BucketKeyEnabled")
	if algo != "aws:kms" || kid != key || bk != true {
		t.Fatalf("template bucket encryption %v, want aws:kms with %s and a bucket key", rule, key)
	}
	c := s3Client(srv)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(algo.(string)), KMSMasterKeyID: aws.String(key)},
			BucketKeyEnabled:                   aws.Bool(true),
		}}},
	}); err != nil {
		t.Fatalf("PutBucketEncryption: %v", err)
	}

	lines := goldenLines(t)
	deliver(t, srv, "ttl-archiver-kms", stream, "archive/table=Orders/dt=2025-11-23/", lines)
	keys := readBack(t, c, bucket, "archive/", lines)
	if len(keys) == 0 {
		t.Fatal("no object delivered")
	}
	for _, k := range keys {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(strings.TrimPrefix(k, "s3://"+bucket+"/"))})
		if err != nil {
			t.Fatalf("HeadObject %s: %v", k, err)
		}
		// S3 names the key by ARN; accept its id alone too.
		id := aws.ToString(h.SSEKMSKeyId)
		if h.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || (id != key && (id == "" || !strings.HasSuffix(key, "/"+id))) {
			t.Errorf("%s encrypted %s with %q, want aws:kms with %s", k, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId), key)
		}
	}
}

// resolveStream resolves the Firehose stream again after Refs changed.
func resolveStream(t *testing.T, r *samtemplate.Resolver) (*samtemplate.Resolver, map[string]any) {
	t.Helper()
	p, err := r.ResolvePartial(r.Template().Resources["ArchiveStream"].Properties)
	if err != nil {
		t.Fatal(err)
	}
	return r, p.(map[string]any)
}

// A bucket the stack did not create (kept from an earlier stack, or a
// central one), holding objects already: the template with
// ExistingArchiveBucket names it in Firehose's destination, moto delivers
// into it, and the reader finds the new lines beside the old ones.
func TestMotoExistingBucket(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	const bucket = "central-ttl-archive"
	c := s3Client(srv)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	lines := goldenLines(t)
	old, fresh := lines[:1], lines[1:]
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("archive/table=Orders/dt=2025-01-01/kept-from-the-last-stack"), Body: bytes.NewReader(old[0])}); err != nil {
		t.Fatal(err)
	}

	r, stream := resolve(t, map[string]string{"ExistingArchiveBucket": bucket, "ExistingArchiveBucketOwner": motoAccount})
	if ok, _ := r.Exists(r.Template().Resources["ArchiveBucket"]); ok {
		t.Fatal("the template still creates an archive bucket")
	}
	deliver(t, srv, "ttl-archiver-existing", stream, "archive/table=Orders/dt=2025-11-23/", fresh)
	if keys := readBack(t, c, bucket, "archive/", slices.Concat(old, fresh)); len(keys) < 2 {
		t.Errorf("objects %v, want the kept one and the delivered one", keys)
	}
	// The daily check and the Glue table read the same bucket.
	fn := r.Template().Resources["DailyCheckFunction"]
	env, _ := samtemplate.Lookup(fn.Properties, "Environment", "Variables", "ARCHIVE_BUCKET")
	if got, err := r.String(env); err != nil || got != bucket {
		t.Errorf("daily check ARCHIVE_BUCKET %q (%v), want %s", got, err, bucket)
	}
}

// Firehose into a bucket with Object Lock and a default retention. moto
// delivers, and the reader reads the lines back; moto applies a default
// retention only to PutObject calls that reach its HTTP API, not to
// Firehose's writes, so the lock itself is AWS's to prove (docs/security.md
// says how it behaves there), and this test asserts only that the delivery
// goes through and what moto reports.
func TestMotoObjectLockBucket(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := context.Background()
	r, _ := resolve(t, map[string]string{"ObjectLockMode": "GOVERNANCE", "ObjectLockRetentionDays": "30"})
	const bucket = "ttl-archiver-locked-archive"
	r.Refs["ArchiveBucket"] = bucket
	r.Attrs["ArchiveBucket.Arn"] = "arn:aws:s3:::" + bucket
	_, stream := resolveStream(t, r)
	bp, err := r.ResolvePartial(r.Template().Resources["ArchiveBucket"].Properties)
	if err != nil {
		t.Fatal(err)
	}
	mode, _ := samtemplate.Lookup(bp, "ObjectLockConfiguration", "Rule", "DefaultRetention", "Mode")
	days, _ := samtemplate.Lookup(bp, "ObjectLockConfiguration", "Rule", "DefaultRetention", "Days")
	if mode != "GOVERNANCE" || days != "30" {
		t.Fatalf("template Object Lock %v %v, want GOVERNANCE 30", mode, days)
	}
	c := s3Client(srv)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(bucket),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
			ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule:              &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionMode(mode.(string)), Days: aws.Int32(30)}},
		},
	}); err != nil {
		t.Fatalf("PutObjectLockConfiguration: %v", err)
	}
	lines := goldenLines(t)
	deliver(t, srv, "ttl-archiver-locked", stream, "archive/table=Orders/dt=2025-11-23/", lines)
	for _, k := range readBack(t, c, bucket, "archive/", lines) {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(strings.TrimPrefix(k, "s3://"+bucket+"/"))})
		if err != nil {
			t.Fatalf("HeadObject %s: %v", k, err)
		}
		t.Logf("%s: moto reports lock mode %q until %v (moto does not apply a default retention to Firehose's writes)", k, h.ObjectLockMode, h.ObjectLockRetainUntilDate)
	}
}
