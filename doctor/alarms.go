package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// pendingConfirmation is the SubscriptionArn SNS lists for a
// subscription not confirmed yet (an email whose link was not followed).
const pendingConfirmation = "PendingConfirmation"

// checkAlarms: the alarms' topics have a confirmed subscription. The
// topics are the stack's own (output AlarmTopic, made when AlarmEmail is
// given) and the one its AlarmTopicArn parameter names. No topic at all
// is a warning (alarms reach no one, by choice); a topic that no one
// confirmed is a failure.
func (r *run) checkAlarms(ctx context.Context) {
	const name = "alarms"
	if r.stackErr != nil {
		r.rep.add(couldNot(name, r.stackErr, "see stack"))
		return
	}
	var topics []string
	if t := r.stack.outputs[outputTopic]; t != "" {
		topics = append(topics, t)
	}
	if t := r.stack.params[paramTopic]; t != "" && (len(topics) == 0 || topics[0] != t) {
		topics = append(topics, t)
	}
	deploy := fmt.Sprintf("sam deploy --stack-name %s --parameter-overrides AlarmEmail=you@example.com (or AlarmTopicArn=ARN of a topic you watch)", r.o.Stack)
	if len(topics) == 0 {
		r.rep.add(Check{Name: name, Status: Warn,
			Detail: "the stack has no alarm topic (no AlarmTopic output, no AlarmTopicArn): alarms reach no one",
			Fix:    deploy})
		return
	}
	confirmed := 0
	var found, unwatched []string
	for _, t := range topics {
		ok, pending, err := subscriptions(ctx, r.o.SNS, t)
		if err != nil {
			r.rep.add(couldNot(name, fmt.Errorf("list subscriptions of %s: %w", t, short(err)), "check the credentials' sns:ListSubscriptionsByTopic permission"))
			return
		}
		confirmed += ok
		found = append(found, fmt.Sprintf("%s: %d confirmed, %d pending", t, ok, len(pending)))
		if ok == 0 {
			why := "subscribe: " + r.aws("sns subscribe --topic-arn %s --protocol email --notification-endpoint you@example.com", t)
			if len(pending) > 0 {
				why = fmt.Sprintf("confirm the subscription from the mail AWS sent to %s, or %s", list(pending), why)
			}
			unwatched = append(unwatched, why)
		}
	}
	c := Check{Name: name, Status: OK, Detail: "alarm topic " + strings.Join(found, "; ")}
	switch {
	case confirmed == 0:
		c.Status, c.Detail = Fail, c.Detail+": alarms reach no one"
	case len(unwatched) > 0:
		c.Status = Warn
	}
	c.Fix = strings.Join(unwatched, "; ")
	r.rep.add(c)
}

// subscriptions counts the confirmed subscriptions of topic and lists
// the endpoints of the pending ones.
func subscriptions(ctx context.Context, c SNSAPI, topic string) (confirmed int, pending []string, err error) {
	p := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, nil, err
		}
		for _, s := range out.Subscriptions {
			switch aws.ToString(s.SubscriptionArn) {
			case pendingConfirmation:
				pending = append(pending, aws.ToString(s.Endpoint))
			case "", "Deleted":
			default:
				confirmed++
			}
		}
	}
	return confirmed, pending, nil
}
