package doctor

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// checkRegions: a global table's TTL deletion is seen as one only in the
// region that ran it (AWS-FACTS.md), so every replica region needs a
// stack of its own reading its replica's stream. One check per replica
// region ("region REGION"); "regions" when the table has no replica.
func (r *run) checkRegions(ctx context.Context) {
	if r.tableErr != nil {
		r.rep.add(couldNot("regions", r.tableErr, "see stream"))
		return
	}
	var regions []string
	for _, rep := range r.table.Replicas {
		if reg := aws.ToString(rep.RegionName); reg != "" && reg != r.o.Region {
			regions = append(regions, reg)
		}
	}
	if len(regions) == 0 {
		detail := "not a global table: no replica in another region"
		if len(r.table.Replicas) > 0 {
			detail = "the table's only replica is this region's"
		}
		r.rep.add(Check{Name: "regions", Status: OK, Detail: detail})
		return
	}
	for _, reg := range regions {
		r.rep.add(r.checkRegion(ctx, reg))
	}
}

func (r *run) checkRegion(ctx context.Context, region string) Check {
	name := "region " + region
	deploy := func(arn string) string {
		return fmt.Sprintf("TTL deletions run in %s are archived only by a stack in %s: sam deploy --region %s --stack-name %s --parameter-overrides TableStreamArns=%s",
			region, region, region, r.o.Stack, arn)
	}
	if r.o.ForRegion == nil {
		return couldNot(name, errors.New("no clients for other regions"), deploy("STREAM_ARN"))
	}
	c := r.o.ForRegion(region)
	if c.DynamoDB == nil || c.CloudFormation == nil || c.Lambda == nil {
		return couldNot(name, fmt.Errorf("no clients for %s", region), deploy("STREAM_ARN"))
	}
	out, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.o.Table)})
	if err != nil {
		return couldNot(name, fmt.Errorf("describe table %s in %s: %w", r.o.Table, region, short(err)), deploy("STREAM_ARN"))
	}
	arn := ""
	if out.Table != nil {
		arn = aws.ToString(out.Table.LatestStreamArn)
	}
	if arn == "" {
		return Check{Name: name, Status: Fail, Detail: fmt.Sprintf("the replica in %s has no stream", region),
			Fix: fmt.Sprintf("%s, then %s", awsIn(region, "dynamodb update-table --table-name %s --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES", r.o.Table), deploy("ITS_STREAM_ARN"))}
	}
	st, err := findStack(ctx, c.CloudFormation, r.o.Stack)
	switch {
	case errors.Is(err, errNoStack):
		return Check{Name: name, Status: Fail, Detail: fmt.Sprintf("no stack %s in %s", r.o.Stack, region), Fix: deploy(arn)}
	case err != nil:
		return couldNot(name, fmt.Errorf("in %s: %w", region, err), deploy(arn))
	}
	if h := stackHealth(st.status); h == Fail {
		return Check{Name: name, Status: Fail, Detail: fmt.Sprintf("stack %s in %s is %s", st.name, region, st.status), Fix: deploy(arn)}
	}
	fn := st.outputs[outputFunction]
	if fn == "" {
		return couldNot(name, fmt.Errorf("stack %s in %s has no output %s", st.name, region, outputFunction), deploy(arn))
	}
	ms, err := listMappings(ctx, c.Lambda, &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(arn)})
	if err != nil {
		return couldNot(name, fmt.Errorf("list event source mappings of %s: %w", arn, err), "check the credentials' lambda:ListEventSourceMappings permission in "+region)
	}
	ours := ofFunction(ms, fn)
	if len(ours) == 0 {
		return Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("stack %s in %s (%s) has no mapping on the replica's stream %s", st.name, region, st.status, arn),
			Fix:    deploy(arn)}
	}
	m := ours[0]
	if s := aws.ToString(m.State); s != "Enabled" {
		return Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("stack %s in %s: mapping %s on %s is %s", st.name, region, aws.ToString(m.UUID), arn, s),
			Fix:    awsIn(region, "lambda update-event-source-mapping --uuid %s --enabled", aws.ToString(m.UUID))}
	}
	c2 := Check{Name: name, Status: stackHealth(st.status),
		Detail: fmt.Sprintf("stack %s in %s is %s; mapping %s on %s is Enabled", st.name, region, st.status, aws.ToString(m.UUID), arn)}
	if c2.Status != OK {
		c2.Fix = fmt.Sprintf("run doctor with --region %s for the details", region)
	}
	return c2
}
