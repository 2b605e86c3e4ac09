package doctor

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// checkTTL: TTL is on, on Options.TTLAttribute when given. TTL off is a
// fail whose fix keeps the README's order (stream, then stack, then TTL):
// a TTL deletion made before the mapping reads the stream is in no
// archive.
func (r *run) checkTTL(ctx context.Context) {
	const name = "ttl"
	out, err := r.o.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(r.o.Table)})
	if err != nil {
		r.rep.add(couldNot(name, fmt.Errorf("describe time to live of %s: %w", r.o.Table, short(err)), "check --source-table and the credentials' dynamodb:DescribeTimeToLive permission"))
		return
	}
	var status dbtypes.TimeToLiveStatus
	var attr string
	if d := out.TimeToLiveDescription; d != nil {
		status, attr = d.TimeToLiveStatus, aws.ToString(d.AttributeName)
	}
	want := r.o.TTLAttribute
	enableOn := func(a string) string {
		return r.aws("dynamodb update-time-to-live --table-name %s --time-to-live-specification Enabled=true,AttributeName=%s", r.o.Table, a)
	}
	c := Check{Name: name}
	switch {
	case status == dbtypes.TimeToLiveStatusEnabled && want != "" && attr != want:
		c.Status = Fail
		c.Detail = fmt.Sprintf("TTL is on attribute %s, not %s", attr, want)
		c.Fix = fmt.Sprintf("a table has TTL on one attribute: give --ttl-attribute %s, or %s, then (once it is DISABLED, up to an hour later) %s",
			attr, r.aws("dynamodb update-time-to-live --table-name %s --time-to-live-specification Enabled=false,AttributeName=%s", r.o.Table, attr), enableOn(want))
	case status == dbtypes.TimeToLiveStatusEnabled:
		c.Status, c.Detail = OK, fmt.Sprintf("TTL is on attribute %s", attr)
	case status == dbtypes.TimeToLiveStatusEnabling:
		c.Status, c.Detail = Warn, fmt.Sprintf("TTL is being enabled on attribute %s (it takes up to an hour)", attr)
		c.Fix = "wait, and run doctor again"
		if want != "" && attr != want {
			c.Status, c.Detail = Fail, c.Detail+fmt.Sprintf(", not %s", want)
			c.Fix = fmt.Sprintf("give --ttl-attribute %s, or once it is ENABLED disable it and %s", attr, enableOn(want))
		}
	default:
		if status == "" {
			status = dbtypes.TimeToLiveStatusDisabled
		}
		a := want
		if a == "" {
			a = "ATTRIBUTE"
		}
		c.Status = Fail
		c.Detail = fmt.Sprintf("TTL is %s: nothing expires, so nothing is archived", status)
		c.Fix = "only turn TTL on after the stack's mapping is Enabled (README order: stream, then stack, then TTL): "
		if !r.mappingOK {
			c.Fix += "first fix the mapping (see mapping), then "
		}
		c.Fix += enableOn(a)
	}
	r.rep.add(c)
}

// checkPITR: point-in-time recovery is on; without it no export, and so
// no backfill from incremental exports, can be made.
func (r *run) checkPITR(ctx context.Context) {
	const name = "pitr"
	out, err := r.o.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(r.o.Table)})
	if err != nil {
		r.rep.add(couldNot(name, fmt.Errorf("describe continuous backups of %s: %w", r.o.Table, short(err)), "check --source-table and the credentials' dynamodb:DescribeContinuousBackups permission"))
		return
	}
	status := dbtypes.PointInTimeRecoveryStatusDisabled
	days := int32(0)
	if d := out.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		status = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
		days = aws.ToInt32(d.PointInTimeRecoveryDescription.RecoveryPeriodInDays)
	}
	if status == dbtypes.PointInTimeRecoveryStatusEnabled {
		c := Check{Name: name, Status: OK, Detail: "point-in-time recovery is enabled"}
		if days > 0 {
			c.Detail += fmt.Sprintf(" (%d days)", days)
		}
		r.rep.add(c)
		return
	}
	r.rep.add(Check{Name: name, Status: Warn,
		Detail: fmt.Sprintf("point-in-time recovery is %s: backfill from incremental exports needs it", status),
		Fix:    r.aws("dynamodb update-continuous-backups --table-name %s --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true", r.o.Table)})
}
