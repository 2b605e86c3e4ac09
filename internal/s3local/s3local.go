// Package s3local runs an S3 API on loopback, backed by a directory, so that
// archive objects written through the real S3 protocol can be looked at
// afterwards as plain files: DIR/buckets/BUCKET/KEY (gofakes3 keeps its
// object metadata beside them, in DIR/metadata). It wraps
// github.com/johannesboyne/gofakes3, and adds what a server others can
// reach needs: SigV4 signatures checked against its credentials, no CORS
// headers unless asked, capped bodies and concurrency, timeouts for slow
// clients, and keys refused when they cannot be stored as the files they
// name (see [CheckKey]).
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

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// Region is the region clients of the server are configured with.
const Region = "us-east-1"

// Limits of the server. S3 takes at most 5 GiB in one PutObject; the
// stand-in writes a PutObject body to its file as it arrives, so the same
// cap costs no memory. gofakes3 keeps multipart parts in memory until the
// upload completes, so parts are capped far lower than S3's 5 GiB.
const (
	// MaxObjectBytes is the largest PutObject body (S3's single-PUT limit).
	MaxObjectBytes = 5 << 30
	// MaxPartBytes is the largest UploadPart body the stand-in takes.
	MaxPartBytes = 64 << 20
	// MaxKeyBytes is the longest key S3 takes (1,024 bytes of UTF-8).
	MaxKeyBytes = gofakes3.KeySizeLimit
	// DefaultMaxConcurrentRequests is how many requests are served at
	// once; further requests wait, unread, for a free slot.
	DefaultMaxConcurrentRequests = 16
	// BodyIdleTimeout ends a request whose body stops arriving for this
	// long.
	BodyIdleTimeout = 30 * time.Second
	// IdleTimeout closes a kept-alive connection with no request this
	// long.
	IdleTimeout = 60 * time.Second
)

// Credentials are the keys requests must be signed with.
type Credentials = firehoselocal.Credentials

// DefaultCredentials are what [Start] and [StartAt] check signatures
// against, and what [Server.Client] signs with, unless [Options] says
// otherwise.
var DefaultCredentials = Credentials{AccessKeyID: "local", SecretAccessKey: "local"}

// Options configure [StartWith].
type Options struct {
	// Addr is where the server listens (127.0.0.1 on a free port when
	// empty).
	Addr string
	// Dir holds the buckets as folders (created if needed).
	Dir string
	// Buckets are created at start.
	Buckets []string
	// Credentials are the keys every request must be signed with (SigV4);
	// DefaultCredentials when empty.
	Credentials Credentials
	// NoAuth serves requests whatever their signature.
	NoAuth bool
	// CORSOrigin, when set, is sent as Access-Control-Allow-Origin, with
	// the methods and headers browsers need; without it the server sends
	// no CORS headers and refuses preflight requests.
	CORSOrigin string
	// MaxConcurrentRequests caps the requests served at once
	// (DefaultMaxConcurrentRequests when 0).
	MaxConcurrentRequests int
}

// Server is a running S3 API, on 127.0.0.1 unless started with [StartAt].
type Server struct {
	dir     string
	url     string
	srv     *http.Server
	backend gofakes3.Backend
	creds   Credentials
	done    chan error
}

// Start serves an S3 API whose buckets are the folders of dir (created if
// needed), on 127.0.0.1 on a free port, and creates the given buckets.
func Start(dir string, buckets ...string) (*Server, error) {
	return StartWith(Options{Dir: dir, Buckets: buckets})
}

// StartAt is [Start] listening on addr, such as "127.0.0.1:9574".
func StartAt(addr, dir string, buckets ...string) (*Server, error) {
	return StartWith(Options{Addr: addr, Dir: dir, Buckets: buckets})
}

// StartWith starts a server configured by o.
func StartWith(o Options) (*Server, error) {
	dir, addr := o.Dir, o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if o.Credentials == (Credentials{}) {
		o.Credentials = DefaultCredentials
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	base, err := s3afero.NewBasePathFs(afero.NewOsFs(), dir, 0)
	if err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	// Objects and gofakes3's metadata files both go through longNameFs,
	// so that every key of up to 1,024 bytes can be stored.
	multi, err := s3afero.MultiBucket(longNameFs{base})
	if err != nil {
		return nil, fmt.Errorf("s3local: %w", err)
	}
	backend := &keyChecked{MultiBucketBackend: multi}
	for _, b := range o.Buckets {
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
	n := o.MaxConcurrentRequests
	if n <= 0 {
		n = DefaultMaxConcurrentRequests
	}
	h := &guard{next: faker.Server(), creds: o.Credentials, noAuth: o.NoAuth, cors: o.CORSOrigin,
		slots: make(chan struct{}, n), now: time.Now}
	s := &Server{
		dir:     dir,
		url:     "http://" + host,
		srv:     &http.Server{Handler: h, ReadHeaderTimeout: BodyIdleTimeout, IdleTimeout: IdleTimeout},
		backend: backend,
		creds:   o.Credentials,
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
		Credentials:  credentials.NewStaticCredentialsProvider(s.creds.AccessKeyID, s.creds.SecretAccessKey, s.creds.SessionToken),
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
