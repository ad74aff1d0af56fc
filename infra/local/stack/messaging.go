package stack

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// AWS::SES::EmailIdentity: created on the emulator so that sending from it
// works. An identity is account-wide (it carries no prefix), so one that
// already exists is used as is, and Destroy leaves identities in place: other
// stacks on the same emulator may send from them. Ref is the identity.
func applyEmailIdentity(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	identity, err := p.str("EmailIdentity")
	if err != nil {
		return err
	}
	if identity == "" {
		return errors.New("Properties.EmailIdentity: missing")
	}
	_, err = d.c.ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &identity})
	var exists *sestypes.AlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return err
	}
	d.interpreted(id, physical{Ref: identity})
	d.note(id, "EmailIdentity", "created if missing, never deleted: identities are account-wide and shared by every stack on the emulator")
	p.unread("not applied on the emulator")
	return nil
}

// AWS::SNS::Topic: named <prefix>-<logical id>. Subscriptions are not made.
// Ref and TopicArn are the ARN; TopicName is an attribute.
func applyTopic(ctx context.Context, d *deployer, id string, r *resource) error {
	p := d.props(id, r)
	p.read["TopicName"] = true
	attrs := map[string]string{}
	for _, a := range []string{"DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication"} {
		v, err := p.str(a)
		if err != nil {
			return err
		}
		if v != "" {
			attrs[a] = v
		}
	}
	suffix := ""
	if attrs["FifoTopic"] == "true" {
		suffix = ".fifo"
	}
	name := d.name(nameTopic, id, suffix)
	out, err := d.c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: attrs})
	if err != nil {
		return err
	}
	arn := aws.ToString(out.TopicArn)
	d.created(id, physical{Ref: arn, Attrs: map[string]string{"TopicArn": arn, "TopicName": name}})
	if p.has("Subscription") {
		p.read["Subscription"] = true
		d.note(id, "Subscription", "subscriptions deliver to real endpoints (e-mail, HTTPS); not made locally")
	}
	p.unread("not applied on the emulator", "Tags")
	return nil
}

func destroyTopic(ctx context.Context, c *clients, res Resource) error {
	_, err := c.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(res.PhysicalID)})
	return err
}
