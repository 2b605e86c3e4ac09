package firehoselocal

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credentials are the keys a stand-in checks request signatures against:
// a request is served only when it is signed (AWS Signature Version 4)
// with this access key and secret, and carries this session token when
// one is set.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// MaxClockSkew is how far a request's X-Amz-Date may be from the server's
// clock, as AWS services allow (15 minutes).
const MaxClockSkew = 15 * time.Minute

// SignatureFault is why a request's signature was refused; servers map it
// to their own error codes (the JSON services' and S3's differ).
type SignatureFault int

// The kinds of refusal.
const (
	// FaultMissing is a request with no Authorization header.
	FaultMissing SignatureFault = iota + 1
	// FaultMalformed is an Authorization header not in the SigV4 form, or
	// a presigned URL (which the stand-ins do not take).
	FaultMalformed
	// FaultUnknownKey is an access key other than the server's, or a
	// session token that is not the server's.
	FaultUnknownKey
	// FaultMismatch is a signature that is not the one the server's secret
	// gives for this request.
	FaultMismatch
	// FaultSkewed is a request dated more than [MaxClockSkew] away.
	FaultSkewed
	// FaultWrongService is a credential scoped to another service.
	FaultWrongService
)

// SignatureError is a refused signature.
type SignatureError struct {
	Fault   SignatureFault
	Message string
}

func (e *SignatureError) Error() string { return e.Message }

// sigV4Time is the layout of X-Amz-Date.
const sigV4Time = "20060102T150405Z"

// VerifySignature checks that r is signed with SigV4 by c for service
// ("firehose", "s3"), at a time within [MaxClockSkew] of now. payloadHash
// is the hex SHA-256 of the body the server read, or, for S3, the
// X-Amz-Content-Sha256 header the client signed (UNSIGNED-PAYLOAD and
// the STREAMING-* values included: the body itself is not hashed again).
//
// It follows the SigV4 specification ("Create a signed AWS API request",
// IAM user guide) rather than the SDK's signer, so that the SDK's own
// requests are an independent check of it. Presigned URLs (the signature
// in the query string) are refused.
func VerifySignature(r *http.Request, service string, c Credentials, payloadHash string, now time.Time) *SignatureError {
	q := r.URL.Query()
	if q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") {
		return &SignatureError{FaultMalformed, "presigned URLs are not accepted here: sign the request in its Authorization header"}
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &SignatureError{FaultMissing, "Request is missing Authentication Token"}
	}
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return &SignatureError{FaultMalformed, "Authorization header requires the AWS4-HMAC-SHA256 algorithm."}
	}
	credential, signedHeaders, signature := authParts(rest)
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signedHeaders == "" || len(signature) != 64 || !isHex(signature) {
		return &SignatureError{FaultMalformed, "Authorization header is not a SigV4 signature: want Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=... and a 64-digit hex Signature"}
	}
	if scope[3] != service {
		return &SignatureError{FaultWrongService, "Credential should be scoped to correct service: '" + service + "'. "}
	}
	if subtle.ConstantTimeCompare([]byte(scope[0]), []byte(c.AccessKeyID)) != 1 {
		return &SignatureError{FaultUnknownKey, "The security token included in the request is invalid: access key " + scope[0] + " is not the one this server was started with"}
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(c.SessionToken)) != 1 {
		return &SignatureError{FaultUnknownKey, "The security token included in the request is invalid: the session token is not the one this server was started with"}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(sigV4Time, amzDate)
	if err != nil || amzDate[:8] != scope[1] {
		return &SignatureError{FaultMalformed, "X-Amz-Date " + amzDate + ": want yyyyMMddTHHmmssZ on the credential's date " + scope[1]}
	}
	if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return &SignatureError{FaultSkewed, "Signature expired: " + amzDate + " is more than 15 minutes from the server's time " + now.UTC().Format(sigV4Time)}
	}
	headers := strings.Split(signedHeaders, ";")
	if !sort.StringsAreSorted(headers) || !contains(headers, "host") {
		return &SignatureError{FaultMalformed, "SignedHeaders " + signedHeaders + ": want sorted lower-case names including host"}
	}

	var cr strings.Builder
	cr.WriteString(r.Method)
	cr.WriteByte('\n')
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if path == "" {
		path = "/"
	}
	if service == "s3" {
		cr.WriteString(path) // S3 signs the path as sent, not encoded again
	} else {
		cr.WriteString(uriEncode(path, false))
	}
	cr.WriteByte('\n')
	cr.WriteString(canonicalQuery(r.URL.RawQuery))
	cr.WriteByte('\n')
	for _, h := range headers {
		cr.WriteString(h)
		cr.WriteByte(':')
		cr.WriteString(headerValue(r, h))
		cr.WriteByte('\n')
	}
	cr.WriteByte('\n')
	cr.WriteString(signedHeaders)
	cr.WriteByte('\n')
	cr.WriteString(payloadHash)

	crHash := sha256.Sum256([]byte(cr.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+c.SecretAccessKey), scope[1])
	for _, s := range scope[2:] {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(signature))) {
		return &SignatureError{FaultMismatch, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// headerValue is a header's canonical value: its values joined with
// commas, each trimmed, inner runs of spaces collapsed to one.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	default:
		vals = r.Header.Values(name)
		if name == "content-length" && len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{itoa(r.ContentLength)}
		}
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// canonicalQuery sorts the query's parameters by name, then value, each
// URI-encoded as SigV4 wants.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~), and '/' too when encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const upperHex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0xf])
	}
	return b.String()
}
