package dev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/wiring"
)

// pollWait is the long-poll wait of each ReceiveMessage. Lambda's pollers
// long-poll for up to 20 s; a shorter wait only makes shutdown quicker.
const pollWait = 5

// poller plays one SQS event source mapping of the stack: it long-polls the
// queue, hands each batch to the function as an events.SQSEvent, deletes
// what succeeded and leaves the rest. A left message becomes visible again
// after the queue's own visibility timeout and, after the redrive policy's
// maxReceiveCount receives, moves to the dead-letter queue, exactly as in
// AWS.
type poller struct {
	sqs     *sqs.Client
	fn      *wiring.Function
	name    string // function name
	trigger stack.QueueTrigger
	region  string
	timeout time.Duration // the function's timeout
	log     *slog.Logger
}

// run polls until ctx is done. A batch already received is finished (within
// the function's timeout) even if ctx ends meanwhile.
func (p *poller) run(ctx context.Context) {
	batch := p.trigger.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10 // ReceiveMessage returns at most 10 messages
	}
	backoff := time.Second
	for ctx.Err() == nil {
		out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.trigger.URL),
			MaxNumberOfMessages:         int32(batch),
			WaitTimeSeconds:             pollWait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
			// No VisibilityTimeout: the queue's own applies, as for Lambda.
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("receive failed; retrying", "queue", p.trigger.URL, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if len(out.Messages) > 0 {
			p.deliver(out.Messages)
		}
	}
}

// deliver invokes the function with one batch and deletes what succeeded.
func (p *poller) deliver(msgs []sqstypes.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	receipt := map[string]string{}
	for _, m := range msgs {
		id := aws.ToString(m.MessageId)
		receipt[id] = aws.ToString(m.ReceiptHandle)
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:              id,
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      messageAttributes(m.MessageAttributes),
			EventSource:            "aws:sqs",
			EventSourceARN:         p.trigger.ARN,
			AWSRegion:              p.region,
		})
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		p.log.Error("encode batch", "err", err)
		return
	}
	// Lambda's deadline: the function's timeout, independent of shutdown.
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	start := time.Now()
	res, err := p.fn.Invoke(ctx, raw)
	failed, err := p.failures(res, err, receipt)
	if err != nil {
		// A function error fails the whole batch: every message comes back.
		p.log.Warn("invocation failed: the batch returns to the queue after its visibility timeout",
			"fn", p.name, "messages", len(msgs), "err", err)
		return
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range ev.Records {
		if !failed[m.MessageId] {
			done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.ReceiptHandle)})
		}
	}
	if len(done) > 0 {
		out, err := p.sqs.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.trigger.URL), Entries: done})
		if err != nil {
			p.log.Warn("delete processed messages failed; they will be delivered again", "fn", p.name, "err", err)
		} else if len(out.Failed) > 0 {
			p.log.Warn("some processed messages were not deleted; they will be delivered again", "fn", p.name, "failed", len(out.Failed))
		}
	}
	lvl := slog.LevelInfo
	if len(failed) > 0 {
		lvl = slog.LevelWarn
	}
	p.log.Log(context.Background(), lvl, "sqs batch", "fn", p.name, "messages", len(msgs), "failed", len(failed),
		"took", time.Since(start).Round(time.Millisecond).String())
}

// failures reads the partial batch response, as Lambda does: with
// ReportBatchItemFailures, the listed messages failed (an identifier that is
// not in the batch fails the whole batch); without it, a response means
// success.
func (p *poller) failures(res any, err error, receipt map[string]string) (map[string]bool, error) {
	if err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	if !p.trigger.ReportBatchItemFailures || res == nil { // null: complete success
		return failed, nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	var r events.SQSEventResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("the function's response is not a batch response: %w", err)
	}
	for _, f := range r.BatchItemFailures {
		if _, ok := receipt[f.ItemIdentifier]; !ok || f.ItemIdentifier == "" {
			return nil, errors.New("the batch response names a message that is not in the batch: " + f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func messageAttributes(in map[string]sqstypes.MessageAttributeValue) map[string]events.SQSMessageAttribute {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]events.SQSMessageAttribute, len(in))
	for k, v := range in {
		out[k] = events.SQSMessageAttribute{
			StringValue: v.StringValue,
			BinaryValue: v.BinaryValue,
			DataType:    aws.ToString(v.DataType),
		}
	}
	return out
}
