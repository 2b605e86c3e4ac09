// Package motoserver runs moto_server, an independent stand-in for AWS
// written in Python (pip package moto[server], pinned in
// requirements-dev.txt), on a free port of 127.0.0.1 for the tests that
// want a peer the project did not write: Firehose delivering into S3, S3
// and DynamoDB, all behind one endpoint. The SDK reaches it through
// AWS_ENDPOINT_URL or a client's BaseEndpoint, with any static
// credentials.
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region clients of the server use.
const Region = "us-east-1"

// Credentials are the fixed credentials clients of the server use; moto
// accepts any.
var Credentials = credentials.NewStaticCredentialsProvider("testing", "testing", "")

// ErrNotFound is returned by Command when moto is not installed.
var ErrNotFound = errors.New("moto_server not found: run `make tools` (pip install -r requirements-dev.txt), or set TTL_ARCHIVER_MOTO_SERVER")

// Command returns the command that runs moto_server: $TTL_ARCHIVER_MOTO_SERVER,
// else moto_server on PATH, else the moto.server module of
// $TTL_ARCHIVER_PYTHON (default python3), as pip may install scripts into
// a folder that is not on PATH.
func Command() ([]string, error) {
	if p := os.Getenv("TTL_ARCHIVER_MOTO_SERVER"); p != "" {
		return []string{p}, nil
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return []string{p}, nil
	}
	py := os.Getenv("TTL_ARCHIVER_PYTHON")
	if py == "" {
		py = "python3"
	}
	if err := exec.Command(py, "-c", "import moto.server").Run(); err != nil {
		return nil, ErrNotFound
	}
	return []string{py, "-m", "moto.server"}, nil
}

// Server is a running moto_server.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start starts moto_server on a free port of 127.0.0.1, in a process
// group of its own, and waits until it answers.
func Start(ctx context.Context) (*Server, error) {
	argv, err := Command()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], append(argv[1:], "-H", "127.0.0.1", "-p", strconv.Itoa(port))...)
	// Werkzeug logs every request on stderr; keep it only when asked.
	if os.Getenv("TTL_ARCHIVER_MOTO_LOG") != "" {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitReady polls moto's own API until it answers 200.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/data.json", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", res.Status)
		}
		select {
		case <-s.done:
			return fmt.Errorf("moto_server on %s exited before answering: %v", s.URL, s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("moto_server did not answer on %s: %w", s.URL, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close ends the process group Start made (moto_server and anything it
// started) and waits for moto_server to exit.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
}

// Config returns SDK configuration for the server: its endpoint, Region
// and Credentials.
func (s *Server) Config() aws.Config {
	return aws.Config{Region: Region, Credentials: Credentials, BaseEndpoint: aws.String(s.URL)}
}

// Env is the environment a process needs to reach the server with an SDK
// (dummy credentials, region, endpoint).
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// ForTest starts a server for t and stops it when t ends. Without moto
// the test is skipped, except with CI set, where it fails.
func ForTest(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx)
	if err != nil {
		if errors.Is(err, ErrNotFound) && os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call,
// for a test server that takes its port on the command line (moto_server,
// dynalite).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
