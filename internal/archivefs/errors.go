package archivefs

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// ErrAccessDenied marks an S3 call refused for lack of permission. The
// error's message names the IAM action and the resource to allow.
var ErrAccessDenied = errors.New("access denied")

// describeS3Error turns the S3 errors a person can act on into messages
// that say what to do; other errors pass through.
func describeS3Error(err error, action, resource string) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "Forbidden":
		return fmt.Errorf("%w: allow %s on %s (%s)", ErrAccessDenied, action, resource, ae.ErrorMessage())
	case "NoSuchBucket":
		return fmt.Errorf("%s: the bucket does not exist (or is in another account): %w", resource, err)
	}
	return err
}
