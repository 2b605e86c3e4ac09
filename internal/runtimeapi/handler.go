package runtimeapi

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// Headers of the Runtime API, as aws-lambda-go's client reads and writes
// them.
const (
	headerRequestID          = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS         = "Lambda-Runtime-Deadline-Ms"
	headerInvokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID            = "Lambda-Runtime-Trace-Id"
	headerErrorType          = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody         = "Lambda-Runtime-Function-Error-Body"
)

// maxErrorBytes bounds an error document the server reads.
const maxErrorBytes = 1 << 20

// routes serves the Runtime API for p.
func (p *Process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", p.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", p.serveResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", p.serveError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", p.serveInitError)
	return mux
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // maps and errorDocument always marshal
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeAccepted(w http.ResponseWriter) {
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// serveNext hands the runtime the next invocation, blocking until one is
// queued.
func (p *Process) serveNext(w http.ResponseWriter, r *http.Request) {
	p.markReady()
	inv := p.server.next(r.Context(), p)
	if inv == nil {
		if r.Context().Err() == nil {
			// The API description's "Container error. Non-recoverable
			// state. Runtime should exit promptly."
			writeJSON(w, http.StatusInternalServerError, errorDocument{ErrorMessage: "runtime API server is shutting down", ErrorType: "Runtime.ContainerError"})
		}
		return
	}
	h := w.Header()
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadlineMS, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerInvokedFunctionARN, p.functionARN)
	h.Set(headerTraceID, inv.traceID)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	w.WriteHeader(http.StatusOK)
	_, werr := w.Write(inv.payload)
	if ferr := http.NewResponseController(w).Flush(); werr != nil || ferr != nil {
		// The runtime did not get it (its connection is gone): give it to
		// the next /next.
		p.server.requeue(p, inv)
	}
}

// serveResponse takes the function's response.
func (p *Process) serveResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorDocument{ErrorMessage: "read response: " + err.Error(), ErrorType: "InvalidRequest"})
		return
	}
	var fe *FunctionError
	switch {
	case len(body) > MaxResponseBytes:
		fe = &FunctionError{Type: "Function.ResponseSizeTooLarge",
			Message: "Response payload size exceeded maximum allowed payload size (" + strconv.Itoa(MaxResponseBytes) + " bytes)."}
	case r.Trailer.Get(headerErrorType) != "":
		// aws-lambda-go reports an error met while streaming the response
		// in trailers: the type, and the error document in base64.
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		fe = parseFunctionError(r.Trailer.Get(headerErrorType), doc)
	}
	if !p.server.answer(p, id, body, fe) {
		writeInvalidID(w, id)
		return
	}
	if fe != nil && fe.Type == "Function.ResponseSizeTooLarge" {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorDocument{ErrorMessage: fe.Message, ErrorType: "RequestEntityTooLarge"})
		return
	}
	writeAccepted(w)
}

// serveError takes the function's error.
func (p *Process) serveError(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorDocument{ErrorMessage: "read error: " + err.Error(), ErrorType: "InvalidRequest"})
		return
	}
	if !p.server.answer(p, id, nil, parseFunctionError(r.Header.Get(headerErrorType), body)) {
		writeInvalidID(w, id)
		return
	}
	writeAccepted(w)
}

// writeInvalidID answers a post for an invocation the process does not
// hold. The API description gives 400 for a bad request; the errorType is
// this stand-in's.
func writeInvalidID(w http.ResponseWriter, id string) {
	writeJSON(w, http.StatusBadRequest, errorDocument{ErrorMessage: "no invocation " + id + " in flight for this runtime", ErrorType: "InvalidRequestID"})
}

// serveInitError records the runtime's init error. The API description
// says the runtime should exit after reporting it, and that the error is
// served in response to the first invoke.
func (p *Process) serveInitError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBytes))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorDocument{ErrorMessage: "read error: " + err.Error(), ErrorType: "InvalidRequest"})
		return
	}
	fe := parseFunctionError(r.Header.Get(headerErrorType), body)
	p.server.initFailed(p, &InitError{Type: fe.Type, Message: fe.Message, Body: body})
	p.initOnce.Do(func() { close(p.initCh) })
	writeAccepted(w)
}
