package firehoselocal

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCheckAuth checks that the signature-shape check never accepts a
// header that is not scoped to Firehose, and always answers a refusal with
// a 400 and a code.
func FuzzCheckAuth(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/firehose/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef", "20250101T000000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00", "20250101T000000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, auth, date string) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		ce := checkAuth(r)
		if ce == nil {
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/firehose/aws4_request") {
				t.Errorf("checkAuth(%q): got accepted, want refused", auth)
			}
			return
		}
		if ce.Status != 400 || ce.Code == "" || ce.Message == "" {
			t.Errorf("checkAuth(%q): got %+v, want a 400 with a code and a message", auth, ce)
		}
	})
}
