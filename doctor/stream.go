package doctor

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// checkStream: the table's stream is on and carries old images
// (NEW_AND_OLD_IMAGES, as the README sets it up). With KEYS_ONLY or
// NEW_IMAGE a REMOVE carries keys only (AWS-FACTS.md), and the archive
// holds "item": null.
func (r *run) checkStream() {
	c := Check{Name: "stream"}
	if r.tableErr != nil {
		r.rep.add(couldNot(c.Name, r.tableErr, "check --source-table and --region"))
		return
	}
	enable := r.aws("dynamodb update-table --table-name %s --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES", r.o.Table)
	spec := r.table.StreamSpecification
	arn := aws.ToString(r.table.LatestStreamArn)
	switch {
	case spec == nil || !aws.ToBool(spec.StreamEnabled):
		c.Status, c.Detail = Fail, "the table has no stream enabled: nothing reaches the archiver"
		c.Fix = enable + ", then deploy the stack with the new LatestStreamArn in TableStreamArns"
	case spec.StreamViewType == dbtypes.StreamViewTypeNewAndOldImages:
		c.Status, c.Detail = OK, fmt.Sprintf("enabled, %s, %s", spec.StreamViewType, arn)
	case spec.StreamViewType == dbtypes.StreamViewTypeOldImage:
		c.Status, c.Detail = Warn, fmt.Sprintf("enabled, %s (deleted items are archived; the README sets up NEW_AND_OLD_IMAGES), %s", spec.StreamViewType, arn)
		c.Fix = "nothing to do for the archive; changing the view type means disabling the stream (a new ARN, and a gap in which TTL deletions are lost)"
	default:
		c.Status = Fail
		c.Detail = fmt.Sprintf("enabled, but %s: a TTL deletion carries its keys only, and is archived with \"item\": null", spec.StreamViewType)
		c.Fix = r.aws("dynamodb update-table --table-name %s --stream-specification StreamEnabled=false", r.o.Table) + ", then " + enable +
			", then deploy the stack with the new LatestStreamArn in TableStreamArns (deletions in between are in no stream)"
	}
	r.rep.add(c)
}

// streamArn is the table's current stream ARN, or an error saying why
// there is none.
func (r *run) streamArn() (string, error) {
	if r.tableErr != nil {
		return "", r.tableErr
	}
	arn := aws.ToString(r.table.LatestStreamArn)
	if arn == "" {
		return "", fmt.Errorf("table %s has no stream", r.o.Table)
	}
	return arn, nil
}

// global reports whether the table is a replica of a global table.
func (r *run) global() bool {
	return r.table != nil && len(r.table.Replicas) > 0
}
