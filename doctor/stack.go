package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"
)

// stack is what the checks use of a CloudFormation stack.
type stack struct {
	name, status string
	outputs      map[string]string
	params       map[string]string
}

// errNoStack is wrapped by findStack's error when the stack does not
// exist (or was deleted).
var errNoStack = errors.New("no such stack")

// findStack describes the stack name. CloudFormation answers a
// ValidationError "Stack with id NAME does not exist" for a stack it does
// not know; that error wraps errNoStack.
func findStack(ctx context.Context, cf CloudFormationAPI, name string) (*stack, error) {
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "does not exist") {
			return nil, fmt.Errorf("stack %s: %w", name, errNoStack)
		}
		return nil, fmt.Errorf("describe stack %s: %w", name, short(err))
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s: %w", name, errNoStack)
	}
	s := out.Stacks[0]
	st := &stack{name: name, status: string(s.StackStatus), outputs: map[string]string{}, params: map[string]string{}}
	for _, o := range s.Outputs {
		st.outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range s.Parameters {
		st.params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return st, nil
}

// stackHealth says whether a stack in status s is deployed. Every
// *_COMPLETE status is, except DELETE_COMPLETE (gone) and
// ROLLBACK_COMPLETE (its creation failed and was undone: it holds
// nothing). UPDATE_ROLLBACK_COMPLETE runs the template of before the
// last update, and a stack with an operation in progress may change
// under the checks: warnings. Deletions, failed creations and *_FAILED
// are failures.
func stackHealth(s string) Status {
	switch {
	case strings.HasPrefix(s, "DELETE_"), strings.HasPrefix(s, "ROLLBACK_"), strings.HasSuffix(s, "_FAILED"):
		return Fail
	case strings.HasSuffix(s, "ROLLBACK_COMPLETE"), strings.HasSuffix(s, "_IN_PROGRESS"):
		return Warn
	case strings.HasSuffix(s, "_COMPLETE"):
		return OK
	}
	return Fail
}

func (r *run) checkStack() {
	c := Check{Name: "stack"}
	switch {
	case errors.Is(r.stackErr, errNoStack):
		c.Status, c.Detail = Fail, fmt.Sprintf("no stack %s in %s", r.o.Stack, r.regionName())
		c.Fix = "deploy it (sam build && sam deploy --guided; samconfig.toml names it " + DefaultStack + "), or give --stack NAME"
	case r.stackErr != nil:
		c = couldNot(c.Name, r.stackErr, "check the credentials' cloudformation:DescribeStacks permission and --region")
	default:
		c.Status = stackHealth(r.stack.status)
		c.Detail = fmt.Sprintf("stack %s is %s", r.stack.name, r.stack.status)
		if c.Status != OK {
			c.Fix = fmt.Sprintf("see why: %s; then deploy again (sam deploy)", r.aws("cloudformation describe-stack-events --stack-name %s --max-items 20", r.stack.name))
		}
	}
	r.rep.add(c)
}

func (r *run) regionName() string {
	if r.o.Region == "" {
		return "this region"
	}
	return r.o.Region
}
