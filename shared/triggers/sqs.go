// Package triggers turns the events AWS delivers to the queue and schedule
// functions into use-case calls: billing events from the intake queue, S3
// notifications from the validator queue, and the sweep's scheduled event.
// Each handler takes exactly the shape the stack delivers to it.
package triggers

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// eachMessage runs fn on every message of an SQS batch and reports the
// failures as partial batch failures: SQS delivers them again, and after the
// queue's last receive moves them to its dead-letter queue, whose alarm calls
// a person. A message is acknowledged only when fn returns nil.
func eachMessage(ctx context.Context, batch events.SQSEvent, log *slog.Logger, fn func(context.Context, []byte) error) events.SQSEventResponse {
	res := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range batch.Records {
		if err := fn(ctx, []byte(m.Body)); err != nil {
			log.WarnContext(ctx, "message failed; SQS will deliver it again", "messageId", m.MessageId, "err", err)
			res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return res
}
