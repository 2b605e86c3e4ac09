package s3local

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ttl-archiver/ttl-archiver/internal/firehoselocal"
)

// guard is what stands before gofakes3: it checks signatures, caps
// concurrency and bodies, cuts bodies that stop arriving, and sends CORS
// headers only when asked.
type guard struct {
	next   http.Handler
	creds  Credentials
	noAuth bool
	cors   string
	slots  chan struct{}
	now    func() time.Time
}

// s3Error is S3's error document.
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string
	Message string
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	b, _ := xml.Marshal(s3Error{Code: code, Message: msg})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(b)
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// From here, a body (read by gofakes3, or discarded by net/http after a
	// refusal) that stops arriving for BodyIdleTimeout ends the request.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(BodyIdleTimeout))
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		if g.cors == "" {
			// S3's answer to a preflight for a bucket with no CORS rules.
			writeS3Error(w, http.StatusForbidden, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket (serve --cors ORIGIN enables it).")
			return
		}
		// Browsers do not sign preflights.
		g.next.ServeHTTP(&corsOrigin{ResponseWriter: w, origin: g.cors}, r)
		return
	}
	if !g.noAuth {
		hash := r.Header.Get("X-Amz-Content-Sha256")
		if hash == "" && r.Header.Get("Authorization") != "" {
			writeS3Error(w, http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
			return
		}
		if se := firehoselocal.VerifySignature(r, "s3", g.creds, hash, g.now()); se != nil {
			status, code := http.StatusForbidden, "SignatureDoesNotMatch"
			switch se.Fault {
			case firehoselocal.FaultMissing:
				code = "AccessDenied"
			case firehoselocal.FaultMalformed, firehoselocal.FaultWrongService:
				status, code = http.StatusBadRequest, "AuthorizationHeaderMalformed"
			case firehoselocal.FaultUnknownKey:
				code = "InvalidAccessKeyId"
			case firehoselocal.FaultSkewed:
				code = "RequestTimeTooSkewed"
			}
			writeS3Error(w, status, code, se.Message)
			return
		}
	}
	limit := int64(MaxObjectBytes)
	if r.URL.Query().Has("uploadId") {
		limit = MaxPartBytes
	}
	size := r.ContentLength
	if d, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil {
		size = max(size, d)
	}
	if size > limit {
		writeS3Error(w, http.StatusBadRequest, "EntityTooLarge",
			"Your proposed upload exceeds the maximum allowed size: "+strconv.FormatInt(limit, 10)+" bytes here")
		return
	}
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	case <-r.Context().Done():
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &idleBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit), rc: rc}
		r.Body.(*idleBody).extend()
	}
	if g.cors == "" {
		w = &noCORS{ResponseWriter: w}
	} else {
		w = &corsOrigin{ResponseWriter: w, origin: g.cors}
	}
	g.next.ServeHTTP(w, r)
}

// idleBody moves the connection's read deadline on as the body arrives:
// a body that stops for BodyIdleTimeout ends the request. Large objects
// may take longer than that in all; they may not stall that long.
type idleBody struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *idleBody) extend() { _ = b.rc.SetReadDeadline(time.Now().Add(BodyIdleTimeout)) }

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.extend()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = errors.New("s3local: body over " + strconv.FormatInt(tooBig.Limit, 10) + " bytes")
	}
	return n, err
}

// noCORS drops the CORS headers gofakes3 always sets.
type noCORS struct {
	http.ResponseWriter
	wrote bool
}

func (n *noCORS) strip() {
	if n.wrote {
		return
	}
	n.wrote = true
	for k := range n.Header() {
		if strings.HasPrefix(k, "Access-Control-") {
			n.Header().Del(k)
		}
	}
}

func (n *noCORS) WriteHeader(code int) { n.strip(); n.ResponseWriter.WriteHeader(code) }

func (n *noCORS) Write(p []byte) (int, error) { n.strip(); return n.ResponseWriter.Write(p) }

func (n *noCORS) Unwrap() http.ResponseWriter { return n.ResponseWriter }

// corsOrigin answers with the one origin asked for instead of gofakes3's *.
type corsOrigin struct {
	http.ResponseWriter
	origin string
	wrote  bool
}

func (c *corsOrigin) set() {
	if c.wrote {
		return
	}
	c.wrote = true
	if c.Header().Get("Access-Control-Allow-Origin") != "" {
		c.Header().Set("Access-Control-Allow-Origin", c.origin)
		c.Header().Add("Vary", "Origin")
	}
}

func (c *corsOrigin) WriteHeader(code int) { c.set(); c.ResponseWriter.WriteHeader(code) }

func (c *corsOrigin) Write(p []byte) (int, error) { c.set(); return c.ResponseWriter.Write(p) }

func (c *corsOrigin) Unwrap() http.ResponseWriter { return c.ResponseWriter }
