package firehoselocal

import (
	"net/http"
	"strings"
)

// signingName is the service name in Firehose's SigV4 credential scope.
const signingName = "firehose"

// checkAuth checks that the request carries a SigV4 Authorization header
// scoped to Firehose. It checks the shape only, never the signature:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/firehose/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
//
// The codes follow what AWS JSON (Coral) services answer, all with HTTP 400:
// no header is MissingAuthenticationTokenException ("Request is missing
// Authentication Token", as DynamoDB answers it); a header of the wrong
// form is IncompleteSignatureException; a credential scoped to another
// service is InvalidSignatureException ("Credential should be scoped to
// correct service: '<name>'. ", seen from several JSON 1.1 services). Not
// confirmed against Firehose itself.
func checkAuth(r *http.Request) *CallError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return badRequest(CodeMissingAuthenticationToken, "Request is missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return badRequest(CodeIncompleteSignature, "Authorization header requires the AWS4-HMAC-SHA256 algorithm.")
	}
	credential, signedHeaders, signature := authParts(rest)
	var missing []string
	if credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if signature == "" || !isHex(signature) {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if r.Header.Get("X-Amz-Date") == "" && r.Header.Get("Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return badRequest(CodeIncompleteSignature, strings.Join(missing, " ")+" Authorization="+auth)
	}
	// Credential=<access key>/<yyyymmdd>/<region>/<service>/aws4_request
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[0] == "" || len(scope[1]) != 8 || scope[2] == "" || scope[4] != "aws4_request" {
		return badRequest(CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+credential+"'")
	}
	if scope[3] != signingName {
		return badRequest(CodeInvalidSignature, "Credential should be scoped to correct service: '"+signingName+"'. ")
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// authParts reads the Credential, SignedHeaders and Signature of a SigV4
// Authorization header's value after its algorithm; a part not given is
// empty.
func authParts(rest string) (credential, signedHeaders, signature string) {
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	return credential, signedHeaders, signature
}
