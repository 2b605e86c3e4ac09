// Package restoretest runs the servers restore's tests talk to on
// loopback: dynalite (a DynamoDB API on Node.js, npm package dynalite)
// and an in-memory S3 (gofakes3).
package restoretest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ttl-archiver/ttl-archiver/internal/motoserver"
)

// Region is the region clients of the servers use.
const Region = "us-east-1"

// Credentials are the fake credentials the servers accept.
var Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")

// ErrNoDynalite is returned by StartDynalite when no dynalite is
// installed.
var ErrNoDynalite = errors.New("dynalite not found: set TTL_ARCHIVER_DYNALITE or run npm install dynalite@4.0.0 at the repository root")

// FindDynalite returns the dynalite executable: $TTL_ARCHIVER_DYNALITE,
// or node_modules/.bin/dynalite in dir or one of its parents (the
// repository root, from a package's directory).
func FindDynalite(dir string) (string, error) {
	if p := os.Getenv("TTL_ARCHIVER_DYNALITE"); p != "" {
		return p, nil
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(d, "node_modules", ".bin", "dynalite")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", ErrNoDynalite
		}
		d = parent
	}
}

// Dynalite is a running dynalite process, in memory, on 127.0.0.1.
type Dynalite struct {
	URL string
	cmd *exec.Cmd
}

// StartDynalite starts dynalite on a free port of 127.0.0.1 and waits
// until it answers.
func StartDynalite(ctx context.Context, bin string) (*Dynalite, error) {
	port, err := motoserver.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	d := &Dynalite{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	c := d.Client()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err == nil {
			return d, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.Close()
			return nil, fmt.Errorf("dynalite did not answer on %s: %w", d.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close ends the dynalite process this Dynalite started (by its pid).
func (d *Dynalite) Close() {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	}
}

// Client returns a DynamoDB client for the server. It keeps the SDK's
// retries: Node.js closes idle keep-alive connections after 5 s, and a
// request that meets a closing connection is retried.
func (d *Dynalite) Client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(d.URL),
		Credentials:  Credentials,
	})
}

// CreateTable creates a table with the given key (HASH first; types S,
// N or B) and waits until it is active.
func CreateTable(ctx context.Context, c *dynamodb.Client, name string, keys ...[2]string) error {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for i, k := range keys {
		kt := types.KeyTypeHash
		if i > 0 {
			kt = types.KeyTypeRange
		}
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k[0]), KeyType: kt})
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(k[0]), AttributeType: types.ScalarAttributeType(k[1])})
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second)
}

// S3 is an in-memory S3 API on 127.0.0.1.
type S3 struct {
	URL string
	srv *httptest.Server
}

// StartS3 starts an in-memory S3 with the given buckets.
func StartS3(buckets ...string) (*S3, error) {
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			return nil, err
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	return &S3{URL: srv.URL, srv: srv}, nil
}

// Close stops the server.
func (s *S3) Close() { s.srv.Close() }

// Client returns a path-style S3 client for the server.
func (s *S3) Client() *s3.Client {
	return s3.New(s3.Options{Region: Region, BaseEndpoint: aws.String(s.URL), Credentials: Credentials, UsePathStyle: true})
}
