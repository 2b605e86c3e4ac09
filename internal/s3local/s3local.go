// Package s3local runs an S3 API on loopback, backed by a directory, so that
// archive objects written through the real S3 protocol can be looked at
// afterwards as plain files: DIR/buckets/BUCKET/KEY (gofakes3 keeps its
// object metadata beside them, in DIR/metadata). It wraps
// github.com/johannesboyne/gofakes3.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// Region is the region clients of the server are configured with.
const Region = "us-east-1"

// Server is a running S3 API, on 127.0.0.1 unless started with [StartAt].
type Server struct {
	dir     string
	url     string
	srv     *http.Server
	backend gofakes3.Backend
	done    chan error
}

// Start serves an S3 API whose buckets are the folders of dir (created if
// needed), on 127.0.0.1 on a free port, and creates the given buckets.
func Start(dir string, buckets ...string) (*Server, error) {
	return StartAt("127.0.0.1:0", dir, buckets...)
}

// StartAt is [Start] listening on addr, such as "127.0.0.1:9574".
func StartAt(addr, dir string, buckets ...string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	fs, err := s3afero.NewBasePathFs(afero.NewOsFs(), dir, 0)
	if err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	backend, err := s3afero.MultiBucket(fs)
	if err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil && !gofakes3.IsAlreadyExists(err) {
			return nil, fmt.Errorf("s3local: create bucket %s: %w", b, err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	host := ln.Addr().String()
	if a := ln.Addr().(*net.TCPAddr); a.IP.IsUnspecified() {
		// Listening on every interface: clients here dial loopback.
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	s := &Server{
		dir:     dir,
		url:     "http://" + host,
		srv:     &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second},
		backend: backend,
		done:    make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// URL is the server's endpoint, such as http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Dir is the folder the server keeps its data in.
func (s *Server) Dir() string { return s.dir }

// BucketDir is the folder holding a bucket's objects as files.
func (s *Server) BucketDir(bucket string) string { return filepath.Join(s.dir, "buckets", bucket) }

// Client returns an SDK client for the server (path-style addressing,
// static credentials).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
