package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
	"github.com/ttl-archiver/ttl-archiver/internal/lambdaenv"
	"github.com/ttl-archiver/ttl-archiver/internal/local"
)

// Serve runs, for the in-process profile, what the function talks to: the
// Firehose stand-in (discarding what it takes) and a stand-in for the
// Lambda Runtime API that answers GET /next with the payload in
// payloadFile and takes POST /response. It runs in a child process, so
// that the servers' CPU stays out of the profile. It writes
// "<firehose URL> <runtime URL>" as its first line on out and serves until
// in reaches EOF.
func Serve(payloadFile string, in io.Reader, out io.Writer) error {
	payload, err := os.ReadFile(payloadFile)
	if err != nil {
		return err
	}
	stack, err := local.Start(local.Options{Sink: firehoselocal.Discard})
	if err != nil {
		return err
	}
	defer func() { _ = stack.Close() }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /next", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	})
	mux.HandleFunc("POST /response", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	if _, err := fmt.Fprintf(out, "%s http://%s\n", stack.Firehose.URL(), ln.Addr()); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, in)
	return err
}

// servers is a running Serve child.
type servers struct {
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	firehose    string
	runtime     string
	payloadFile string
}

// startServers runs exe (a program that calls Serve when given
// serveFlag and a payload file) as a child.
func startServers(exe, serveFlag string, payload []byte) (*servers, error) {
	f, err := os.CreateTemp("", "ttl-archiver-bench-payload")
	if err != nil {
		return nil, err
	}
	s := &servers{payloadFile: f.Name()}
	if _, err := f.Write(payload); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(exe, serveFlag, s.payloadFile)
	s.cmd.Stderr = os.Stderr
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("start servers: %w", err)
	}
	if _, err := fmt.Sscanf(line, "%s %s", &s.firehose, &s.runtime); err != nil {
		s.stop()
		return nil, fmt.Errorf("start servers: %q: %w", line, err)
	}
	return s, nil
}

func (s *servers) stop() {
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill() // our own child, by its pid
		<-done
	}
	_ = os.Remove(s.payloadFile)
}

// Category is a share of the function's CPU.
type Category struct {
	Name string
	MS   float64    // per invocation
	Top  []Category // the leaf functions it spends most in
}

// Profile is where the function's CPU goes, measured in this process:
// the archiver with the real SDK client (built as function/main.go builds
// it) sending to the Firehose stand-in, and the Runtime API round trips
// of aws-lambda-go (receive the payload, post the response) emulated with
// net/http.
type Profile struct {
	Invocations int
	CPU         Sample // process CPU per invocation, ms, one per block
	Sampled     float64
	Categories  []Category // largest first
}

// Categories of the profile, in the order the report lists them when
// equal.
const (
	CatArchive  = "archive: read the event, convert, write lines, batch"
	CatEncode   = "SDK: request encoding (JSON; base64 of every record, encoded once per call into a kept buffer)"
	CatSign     = "SDK: SigV4 signing (SHA-256 of the whole body)"
	CatDecode   = "SDK: response decoding (PutRecordBatch's by archive/response.go)"
	CatSDKOther = "SDK: middleware, retry, endpoint, other"
	CatHTTP     = "HTTP client and loopback sockets (Firehose calls)"
	CatRuntime  = "Lambda Runtime API client (receive payload, post response)"
	CatGC       = "garbage collector (background workers and assists)"
	CatOther    = "Go runtime: scheduler, timers, other"
)

// ProfileFunction runs n invocations of payload in this process under the
// CPU profiler. exe and serveFlag start the servers (see Serve).
func ProfileFunction(ctx context.Context, exe, serveFlag string, payload []byte, n, blocks int) (Profile, error) {
	out := Profile{Invocations: n}
	srv, err := startServers(exe, serveFlag, payload)
	if err != nil {
		return out, err
	}
	defer srv.stop()

	// The client as function/main.go builds it, from the environment the
	// loopback stack gives the function.
	awsCfg, err := lambdaenv.FirehoseConfig(ctx, config.WithRegion(local.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		config.WithBaseEndpoint(srv.firehose))
	if err != nil {
		return out, err
	}
	client, err := lambdaenv.NewFirehoseClient(awsCfg)
	if err != nil {
		return out, err
	}
	cfg := archive.Config{StreamName: local.Stream, BatchSize: archive.DefaultBatchSize, Concurrency: archive.DefaultConcurrency, Format: archive.FormatJSON}
	a, err := archive.New(client, cfg,
		archive.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
		archive.WithMetrics(io.Discard, "bench"))
	if err != nil {
		return out, err
	}
	// aws-lambda-go's client: a clone of http.DefaultTransport, and the
	// payload read into a pooled bytes.Buffer, reused across invocations.
	rt := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	var body bytes.Buffer
	invoke := func() error {
		body.Reset()
		var err error
		pprof.Do(ctx, pprof.Labels("part", "runtime"), func(ctx context.Context) {
			err = runtimeNext(ctx, rt, srv.runtime, &body)
		})
		if err != nil {
			return err
		}
		var resp []byte
		pprof.Do(ctx, pprof.Labels("part", "handler"), func(ctx context.Context) {
			ictx, cancel := context.WithTimeout(ctx, FunctionTimeout)
			resp, err = a.Invoke(ictx, body.Bytes())
			cancel()
		})
		if err != nil {
			return err
		}
		if !bytes.Equal(resp, []byte(`{"batchItemFailures":[]}`)) {
			return fmt.Errorf("response %s, want no failures", resp)
		}
		pprof.Do(ctx, pprof.Labels("part", "runtime"), func(ctx context.Context) {
			err = runtimeRespond(ctx, rt, srv.runtime, resp)
		})
		return err
	}
	for range 3 {
		if err := invoke(); err != nil {
			return out, err
		}
	}
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		return out, err
	}
	perBlock := max(1, n/blocks)
	out.Invocations = 0
	for range blocks {
		c0 := ProcessCPU()
		for range perBlock {
			if err := invoke(); err != nil {
				pprof.StopCPUProfile()
				return out, err
			}
		}
		out.CPU = append(out.CPU, ms(ProcessCPU()-c0)/float64(perBlock))
		out.Invocations += perBlock
	}
	pprof.StopCPUProfile()
	p, err := parseProfile(prof.Bytes())
	if err != nil {
		return out, err
	}
	vi := p.valueIndex("cpu")
	if vi < 0 {
		return out, fmt.Errorf("profile has no cpu values: %v", p.sampleTypes)
	}
	byCat := map[string]int64{}
	leaves := map[string]map[string]int64{}
	var total int64
	for _, s := range p.samples {
		if vi >= len(s.values) {
			continue
		}
		c := categorize(s)
		byCat[c] += s.values[vi]
		total += s.values[vi]
		if leaves[c] == nil {
			leaves[c] = map[string]int64{}
		}
		if len(s.funcs) > 0 {
			leaves[c][s.funcs[0]] += s.values[vi]
		}
	}
	per := func(ns int64) float64 { return float64(ns) / 1e6 / float64(out.Invocations) }
	out.Sampled = per(total)
	for name, ns := range byCat {
		c := Category{Name: name, MS: per(ns)}
		for fn, v := range leaves[name] {
			c.Top = append(c.Top, Category{Name: fn, MS: per(v)})
		}
		sortCategories(c.Top)
		c.Top = c.Top[:min(3, len(c.Top))]
		out.Categories = append(out.Categories, c)
	}
	sortCategories(out.Categories)
	return out, nil
}

// sortCategories sorts largest first.
func sortCategories(cs []Category) {
	slices.SortFunc(cs, func(a, b Category) int {
		return cmp.Or(cmp.Compare(b.MS, a.MS), strings.Compare(a.Name, b.Name))
	})
}

// runtimeNext and runtimeRespond are what aws-lambda-go's Runtime API
// client does around each invocation: GET the next event into a buffer,
// POST the response.
func runtimeNext(ctx context.Context, c *http.Client, base string, body *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/next", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, err = body.ReadFrom(resp.Body)
	return err
}

func runtimeRespond(ctx context.Context, c *http.Client, base string, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/response", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// isStep reports whether f is the SDK's (de)serialization code itself
// (firehose.(*PutRecordBatchInput).Serialize, smithy-go's
// ShapeSerializer.WriteBlob, awsjson's Protocol.SerializeRequest, the
// older awsAwsjson11_serializeOp...), not a middleware step that wraps
// the rest of the call (HandleSerialize, SerializeStep).
func isStep(f, word string) bool {
	if strings.Contains(f, "Handle"+word) || strings.Contains(f, word+"Step") {
		return false
	}
	if word == "Serialize" && strings.Contains(f, "Deserialize") {
		return false
	}
	return strings.Contains(f, word) || strings.Contains(f, "awsAwsjson11_"+strings.ToLower(word)) ||
		(strings.Contains(f, "smithy-go/encoding/json") && word == "Serialize") ||
		strings.Contains(f, "protocol/internal/json.(*Shape"+word)
}

// categorize attributes one sample. The Runtime API emulation is told by
// its label (goroutines the HTTP transport starts inherit it); garbage
// collection by the runtime's GC functions anywhere on the stack; the
// rest by the innermost frame that belongs to a known part, because the
// SDK's middleware is nested (the serializer's frame is on the stack
// while the request is signed and sent), so only the innermost owner is
// the one doing the work.
func categorize(s profileSample) string {
	if s.labels["part"] == "runtime" {
		return CatRuntime
	}
	for _, f := range s.funcs {
		switch f {
		case "runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge", "runtime.gcAssistAlloc", "runtime.gcAssistAlloc1", "runtime.markroot", "runtime.gcDrain":
			return CatGC
		}
	}
	for _, f := range s.funcs {
		switch {
		case strings.Contains(f, "/signer/"), strings.Contains(f, "sha256."):
			// The body's SHA-256 is computed as it is encoded
			// (archive/request.go) and handed to the signer.
			return CatSign
		case isStep(f, "Serialize"), strings.Contains(f, "archive.(*requestBody)"):
			// The body is encoded once, in the serialize step
			// (archive/request.go).
			return CatEncode
		case isStep(f, "Deserialize"):
			return CatDecode
		case strings.HasPrefix(f, "net/http.Header"), strings.HasPrefix(f, "net/textproto."):
			// header helpers: the caller is doing the work
		case strings.HasPrefix(f, "net/http."), strings.HasPrefix(f, "net."), strings.HasPrefix(f, "internal/poll."),
			strings.HasPrefix(f, "syscall."), strings.HasPrefix(f, "bufio."), strings.HasPrefix(f, "internal/runtime/syscall"):
			return CatHTTP
		case strings.Contains(f, "ttl-archiver/archive."):
			return archiveCategory(s.funcs)
		case strings.Contains(f, "aws-sdk-go-v2"), strings.Contains(f, "smithy-go"):
			return CatSDKOther
		}
	}
	return CatOther
}

// archiveCategory attributes a sample whose innermost known frame is the
// archiver's: the archiver also encodes the request body (its base64)
// and decodes the PutRecordBatch answer, with its own code, for the SDK.
func archiveCategory(funcs []string) string {
	for _, f := range funcs {
		switch {
		case strings.Contains(f, "archive.(*requestBody)"):
			return CatEncode
		case strings.Contains(f, "archive.decodeBatchResponse"), strings.Contains(f, "archive.requestBodyProtocol.DeserializeResponse"):
			return CatDecode
		}
	}
	return CatArchive
}
