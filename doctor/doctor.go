package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// DefaultStack is the stack name samconfig.toml deploys the template as.
const DefaultStack = "ttl-archiver"

// The stack outputs the checks read (template.yaml, Outputs).
const (
	outputBucket   = "ArchiveBucketName"
	outputStream   = "DeliveryStreamName"
	outputFunction = "FunctionName"
	outputTopic    = "AlarmTopic"
	// paramTopic is the template parameter naming an existing topic
	// for the alarms; the stack then has no AlarmTopic output of its own.
	paramTopic = "AlarmTopicArn"
)

// Options say what to check and with which clients.
type Options struct {
	// Table is the name of the archived table (required).
	Table string
	// Stack is the name of the archiver's stack (DefaultStack when empty).
	Stack string
	// TTLAttribute, when set, is the attribute TTL must be on.
	TTLAttribute string
	// Region is the region of Clients; fixes name it, and the table's
	// replica in it is not looked for elsewhere.
	Region string
	// Clients are the clients of Region (all required).
	Clients
	// ForRegion returns the clients of another region, for the replicas
	// of a global table. Without it the replicas cannot be checked (a
	// fail for each).
	ForRegion func(region string) Clients
}

// Run makes every check and returns their outcomes. Its error is only
// for Options that cannot be used; whatever AWS answers is in the Report.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Table == "" {
		return Report{}, errors.New("doctor: no table given")
	}
	if o.DynamoDB == nil || o.Lambda == nil || o.Firehose == nil || o.S3 == nil || o.SNS == nil || o.CloudFormation == nil {
		return Report{}, errors.New("doctor: a client is missing from Options")
	}
	if o.Stack == "" {
		o.Stack = DefaultStack
	}
	r := &run{o: o}
	r.describe(ctx)
	r.checkStack()
	r.checkStream()
	r.checkMapping(ctx)
	r.checkReaders()
	r.checkFirehose(ctx)
	r.checkBucket(ctx)
	r.checkTTL(ctx)
	r.checkPITR(ctx)
	r.checkAlarms(ctx)
	r.checkRegions(ctx)
	return r.rep, nil
}

// run is one Run: the answers several checks share, and the report.
type run struct {
	o   Options
	rep Report

	table    *dbtypes.TableDescription
	tableErr error
	stack    *stack
	stackErr error

	// onStream are the mappings (any function) on the table's current
	// stream, ours the stack's among them; mappingsErr says why they
	// could not be listed.
	onStream    []mapping
	ours        []mapping
	mappingsErr error
	// mappingOK is whether the mapping check passed (the TTL fix
	// depends on it).
	mappingOK bool
}

// describe makes the calls several checks depend on: the table and the
// stack.
func (r *run) describe(ctx context.Context) {
	out, err := r.o.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.o.Table)})
	if err != nil {
		r.tableErr = fmt.Errorf("describe table %s: %w", r.o.Table, short(err))
	} else if out.Table == nil {
		r.tableErr = fmt.Errorf("describe table %s: no table in the answer", r.o.Table)
	} else {
		r.table = out.Table
	}
	r.stack, r.stackErr = findStack(ctx, r.o.CloudFormation, r.o.Stack)
}

// aws returns the AWS CLI command line "aws ARGS --region REGION".
func (r *run) aws(format string, args ...any) string {
	return awsIn(r.o.Region, format, args...)
}

func awsIn(region, format string, args ...any) string {
	s := "aws " + fmt.Sprintf(format, args...)
	if region != "" {
		s += " --region " + region
	}
	return s
}

// output returns a stack output, or an error naming what is missing.
func (r *run) output(key string) (string, error) {
	if r.stackErr != nil {
		return "", r.stackErr
	}
	v := r.stack.outputs[key]
	if v == "" {
		return "", fmt.Errorf("stack %s has no output %s", r.stack.name, key)
	}
	return v, nil
}

// couldNot is the check that could not be made because of err.
func couldNot(name string, err error, fix string) Check {
	return Check{Name: name, Status: Fail, Detail: "could not check: " + err.Error(), Fix: fix}
}

// redeployFix is the fix for a stack output that is missing.
const redeployFix = "deploy the stack from this version's template.yaml (sam build && sam deploy), or give --stack NAME"

// outputFix is the fix for a check that could not read a stack output:
// look at the stack check when the stack itself is the cause, else
// redeploy.
func (r *run) outputFix() string {
	if r.stackErr != nil {
		return "see stack"
	}
	return redeployFix
}

// short returns err as an API error's code and message when it is one,
// without the SDK's operation and request id wrapping.
func short(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" && m != msg {
			msg += ": " + m
		}
		return apiError{msg: msg, err: err}
	}
	return err
}

// apiError is an SDK error shown shortly, still wrapping the original.
type apiError struct {
	msg string
	err error
}

func (e apiError) Error() string { return e.msg }
func (e apiError) Unwrap() error { return e.err }

// list joins words as "a, b and c".
func list(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
