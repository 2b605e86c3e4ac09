package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFunctionLinksNoCredentialChain: the function must not link the SDK's
// config package, which brings the SSO, sign-in and STS clients and their
// start-up cost (BENCHMARKS.md, section 5), nor the DynamoDB packages that
// only the reference conversion uses.
func TestFunctionLinksNoCredentialChain(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/aws/aws-sdk-go-v2/config",
			"github.com/aws/aws-sdk-go-v2/service/sso",
			"github.com/aws/aws-sdk-go-v2/service/ssooidc",
			"github.com/aws/aws-sdk-go-v2/service/sts",
			"github.com/aws/aws-sdk-go-v2/service/signin",
			"github.com/aws/aws-sdk-go-v2/service/dynamodb",
		} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("the function links %s", pkg)
			}
		}
	}
}
