package firehoselocal_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// BenchmarkConcurrentUploadsMemory sends 30 PutRecordBatch calls at once
// over loopback HTTP, each signed, and reports the process's peak resident
// memory while they are served (peak-RSS-MB, sampled every 2 ms from
// /proc/self/status; the client shares one copy of the body). The cases:
// bodies of 15 MiB with a Content-Length, the same sent chunked (no
// length), and calls of the most a valid call holds (4 MiB of data).
//
//	go test -run '^$' -bench ConcurrentUploadsMemory -benchtime 3x ./internal/firehoselocal/
func BenchmarkConcurrentUploadsMemory(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc/self/status to read resident memory")
	}
	const concurrent = 30
	big := batchBody(1, 15<<20*3/4) // one record: 15 MiB of JSON
	valid := batchBody(500, firehoselocal.MaxBytesPerCall/500)
	for _, tc := range []struct {
		name    string
		body    []byte
		chunked bool
	}{
		{"15MiB", big, false},
		{"15MiB-chunked", big, true},
		{"4MiB-data", valid, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := firehoselocal.New(firehoselocal.WithStream(stream, nil))
			if err := srv.Start(); err != nil {
				b.Fatalf("Start: %v", err)
			}
			defer func() { _ = srv.Close() }()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrent}}
			sum := sha256.Sum256(tc.body)
			hash := hex.EncodeToString(sum[:])
			runtime.GC()
			debug.FreeOSMemory()
			base := rssMB(b)
			var peak atomic.Int64
			stop := make(chan struct{})
			var sampler sync.WaitGroup
			sampler.Go(func() {
				t := time.NewTicker(2 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						if v := rssMB(b); v > peak.Load() {
							peak.Store(v)
						}
					}
				}
			})
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range concurrent {
					wg.Go(func() {
						status, err := postSigned(hc, srv.URL(), tc.body, hash, tc.chunked)
						if err != nil {
							b.Error(err)
						} else if status != http.StatusOK && status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
							b.Errorf("PutRecordBatch: HTTP %d", status)
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			close(stop)
			sampler.Wait()
			b.ReportMetric(float64(peak.Load()), "peak-RSS-MB")
			b.ReportMetric(float64(base), "start-RSS-MB")
		})
	}
}

// batchBody is a PutRecordBatch body of n records, each of size bytes
// before base64.
func batchBody(n, size int) []byte {
	data := strings.Repeat("QUFB", (size+2)/3) // base64 of "AAA"...
	var b bytes.Buffer
	b.WriteString(`{"DeliveryStreamName":"` + stream + `","Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Data":"` + data + `"}`)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// postSigned sends body as a PutRecordBatch call signed with the SDK's own
// signer, as a client of the real service would.
func postSigned(hc *http.Client, url string, body []byte, hash string, chunked bool) (int, error) {
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = struct{ io.Reader }{r} // hides the length: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, url+"/", r)
	if err != nil {
		return 0, err
	}
	if !chunked {
		req.ContentLength = int64(len(body))
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Firehose_20150804.PutRecordBatch")
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "firehose", "us-east-1", time.Now()); err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The server may answer 413 and close before the whole body is
		// sent; the client then sees the write fail.
		return http.StatusRequestEntityTooLarge, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// rssMB is the process's resident memory in MB (VmRSS).
func rssMB(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatalf("read resident memory: %v", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb / 1000
		}
	}
	return 0
}
