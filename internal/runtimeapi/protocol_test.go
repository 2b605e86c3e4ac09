package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/runtimeapi"
)

// TestProtocol drives a process's endpoint by hand, as a runtime would, to
// check the statuses and headers aws-lambda-go's client relies on: 200
// from /next with the invocation headers, 202 from the posts, and errors
// for what a runtime should not do.
func TestProtocol(t *testing.T) {
	srv := newServer(t)
	// A process that never calls the API itself.
	p := startFn(t, srv, "FN_INIT=wait", "AWS_LAMBDA_FUNCTION_NAME=fn")
	base := "http://" + p.Addr() + "/2018-06-01/runtime/"

	do := func(method, url, body string, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatalf("NewRequest: %v", err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read %s %s: %v", method, url, err)
		}
		return resp, string(b)
	}

	// invoke starts an Invoke and returns its outcome channel.
	type outcome struct {
		r   runtimeapi.Result
		err error
	}
	invoke := func(payload string) chan outcome {
		ch := make(chan outcome, 1)
		go func() {
			r, err := srv.Invoke(context.Background(), []byte(payload), 30*time.Second)
			ch <- outcome{r, err}
		}()
		return ch
	}
	next := func() (string, *http.Response, string) {
		t.Helper()
		resp, body := do(http.MethodGet, base+"invocation/next", "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET next: got status %d, want 200", resp.StatusCode)
		}
		return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), resp, body
	}

	t.Run("next then response", func(t *testing.T) {
		ch := invoke(`{"n":1}`)
		id, resp, body := next()
		if body != `{"n":1}` {
			t.Errorf("next body: got %q, want the payload", body)
		}
		ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		if err != nil || time.Until(time.UnixMilli(ms)) < 20*time.Second {
			t.Errorf("Lambda-Runtime-Deadline-Ms: got %q, want epoch ms about 30s ahead", resp.Header.Get("Lambda-Runtime-Deadline-Ms"))
		}
		if got, want := resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"), "arn:aws:lambda:us-east-1:123456789012:function:fn"; got != want {
			t.Errorf("Lambda-Runtime-Invoked-Function-Arn: got %q, want %q", got, want)
		}
		if got := resp.Header.Get("Lambda-Runtime-Trace-Id"); !strings.HasPrefix(got, "Root=1-") {
			t.Errorf("Lambda-Runtime-Trace-Id: got %q, want an X-Ray header", got)
		}
		// Another runtime's id is refused.
		if resp, _ := do(http.MethodPost, base+"invocation/not-an-id/response", `{}`, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST response for an unknown id: got status %d, want 400", resp.StatusCode)
		}
		resp, body = do(http.MethodPost, base+"invocation/"+id+"/response", `"ok"`, nil)
		if resp.StatusCode != http.StatusAccepted || body != `{"status":"OK"}` {
			t.Errorf("POST response: got %d %s, want 202 {\"status\":\"OK\"}", resp.StatusCode, body)
		}
		o := <-ch
		if o.err != nil || string(o.r.Payload) != `"ok"` || o.r.RequestID != id {
			t.Errorf("Invoke: got %s, %v (id %s), want \"ok\" for %s", o.r.Payload, o.err, o.r.RequestID, id)
		}
		// An answered invocation cannot be answered again.
		if resp, _ := do(http.MethodPost, base+"invocation/"+id+"/response", `"again"`, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("second POST response: got status %d, want 400", resp.StatusCode)
		}
	})

	t.Run("error with type in the header only", func(t *testing.T) {
		ch := invoke(`{}`)
		id, _, _ := next()
		resp, _ := do(http.MethodPost, base+"invocation/"+id+"/error", ``, map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.Crash"})
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("POST error: got status %d, want 202", resp.StatusCode)
		}
		o := <-ch
		if o.err != nil || o.r.Error == nil || o.r.Error.Type != "Runtime.Crash" {
			t.Errorf("Invoke: got %+v, %v, want the Runtime.Crash function error", o.r.Error, o.err)
		}
	})

	t.Run("error document", func(t *testing.T) {
		ch := invoke(`{}`)
		id, _, _ := next()
		doc, _ := json.Marshal(map[string]any{"errorType": "ValueError", "errorMessage": "bad value", "stackTrace": []string{}})
		resp, _ := do(http.MethodPost, base+"invocation/"+id+"/error", string(doc), map[string]string{"Lambda-Runtime-Function-Error-Type": "Unhandled"})
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("POST error: got status %d, want 202", resp.StatusCode)
		}
		o := <-ch
		if o.err != nil || o.r.Error == nil || o.r.Error.Type != "ValueError" || o.r.Error.Message != "bad value" || string(o.r.Error.Body) != string(doc) {
			t.Errorf("Invoke: got %+v, %v, want ValueError: bad value with the document", o.r.Error, o.err)
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		if resp, _ := do(http.MethodPost, base+"invocation/next", ``, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST next: got status %d, want 405", resp.StatusCode)
		}
	})

	t.Run("next blocks until an invocation is queued", func(t *testing.T) {
		got := make(chan string, 1)
		go func() {
			id, _, _ := next()
			got <- id
		}()
		select {
		case id := <-got:
			t.Fatalf("next: returned %q with nothing queued, want it to block", id)
		case <-time.After(100 * time.Millisecond):
		}
		ch := invoke(`{}`)
		var id string
		select {
		case id = <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("next: still blocked 5s after Invoke")
		}
		do(http.MethodPost, base+"invocation/"+id+"/response", `null`, nil)
		if o := <-ch; o.err != nil {
			t.Errorf("Invoke: %v", o.err)
		}
	})

	t.Run("init error", func(t *testing.T) {
		resp, body := do(http.MethodPost, base+"init/error", `{"errorType":"Runtime.Bad","errorMessage":"no config"}`, nil)
		if resp.StatusCode != http.StatusAccepted || body != `{"status":"OK"}` {
			t.Errorf("POST init/error: got %d %s, want 202", resp.StatusCode, body)
		}
		_, err := srv.Invoke(context.Background(), []byte(`{}`), time.Second)
		var ie *runtimeapi.InitError
		if !errors.As(err, &ie) || ie.Type != "Runtime.Bad" || ie.Message != "no config" {
			t.Errorf("Invoke after init/error: got %v, want the InitError", err)
		}
	})
}
