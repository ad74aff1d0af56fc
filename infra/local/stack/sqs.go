package stack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueAttributes are the AWS::SQS::Queue properties that are queue
// attributes of the same name with a scalar value.
var queueAttributes = []string{
	"ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
	"KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
	"ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
}

// AWS::SQS::Queue: named <prefix>-<logical id> (".fifo" kept), with its
// attributes and redrive policy (the DLQ's ARN resolved). Ref is the URL;
// Arn, QueueUrl and QueueName are attributes.
func applyQueue(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	attrs := map[string]string{}
	for _, a := range queueAttributes {
		v, err := p.str(a)
		if err != nil {
			return err
		}
		if v != "" {
			attrs[a] = v
		}
	}
	for _, a := range []string{"RedrivePolicy", "RedriveAllowPolicy"} {
		v, err := p.jsonString(a)
		if err != nil {
			return err
		}
		if v != "" {
			attrs[a] = v
		}
	}
	suffix := ""
	if attrs["FifoQueue"] == "true" {
		suffix = ".fifo"
	}
	name := d.name(nameQueue, id, suffix)
	out, err := d.c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return err
	}
	url := aws.ToString(out.QueueUrl)
	d.created(id, physical{Ref: url, Attrs: map[string]string{"QueueUrl": url, "QueueName": name}})
	ga, err := d.c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return err
	}
	arn := ga.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return fmt.Errorf("the emulator returned no QueueArn for %s", url)
	}
	d.phys[id].Attrs["Arn"] = arn
	d.queueByARN[arn] = url
	p.unread("not applied on the emulator", "Tags", "QueueName")
	return nil
}

func destroyQueue(ctx context.Context, c *clients, res Resource) error {
	_, err := c.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(res.PhysicalID)})
	return err
}

// AWS::SQS::QueuePolicy is applied to its queues when it resolves and the
// emulator accepts it (moto does not enforce it); otherwise it is recorded as
// not applied.
func applyQueuePolicy(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	d.interpreted(id, physical{Ref: id})
	var queues []string
	if _, err := p.decode(&queues, "Queues"); err != nil {
		return err
	}
	doc, err := p.jsonString("PolicyDocument")
	if err != nil {
		d.note(id, "PolicyDocument", "not applied: "+err.Error())
		return nil
	}
	for _, q := range queues {
		if _, err := d.c.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q), Attributes: map[string]string{"Policy": doc}}); err != nil {
			d.note(id, "PolicyDocument", fmt.Sprintf("the emulator refused it on %s: %v", q, err))
		}
	}
	return nil
}
