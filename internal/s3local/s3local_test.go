package s3local

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestObjectsAreFiles(t *testing.T) {
	dir := t.TempDir()
	srv, err := Start(dir, "bucket")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = srv.Close() }()
	c := srv.Client()
	ctx := context.Background()
	key := "archive/table=Orders/dt=2025-11-23/obj.gz"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	body, _ := io.ReadAll(got.Body)
	if string(body) != "hello" {
		t.Errorf("GetObject body = %q, want hello", body)
	}
	var files []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	b, err := os.ReadFile(filepath.Join(srv.BucketDir("bucket"), filepath.FromSlash(key)))
	if err != nil || string(b) != "hello" {
		t.Errorf("file for the object: %q, %v; want hello (files: %v)", b, err, files)
	}
}
