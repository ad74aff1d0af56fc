package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the requeuer uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSRequeue sends messages back to the billing adapter's own queue
// (contract.EnvBillingQueueURL), delayed: a Requeuer.
type SQSRequeue struct {
	Client   SQSAPI
	QueueURL string
}

var _ Requeuer = SQSRequeue{}

// maxDelay is SQS's longest message delay.
const maxDelay = 15 * time.Minute

// Requeue implements Requeuer.
func (q SQSRequeue) Requeue(ctx context.Context, body string, delay time.Duration) error {
	delay = min(max(delay, 0), maxDelay)
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.QueueURL), MessageBody: aws.String(body), DelaySeconds: int32(delay / time.Second),
	})
	if err != nil {
		return fmt.Errorf("requeue: %w", err)
	}
	return nil
}
