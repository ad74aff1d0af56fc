package billing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
)

// DefaultReserve is the time a handler keeps back at the end of an
// invocation: a record is not started when less remains, so one slow billing
// call cannot make the function time out in the middle of a batch.
const DefaultReserve = 15 * time.Second

// Handler is the billing adapter's SQS handler. Each record's body is an
// EventBridge event (source "kyc", detail-type a kyc.EventType, detail a
// kyc.Event); the handler applies each service command and reports the
// records to retry (partial batch response). A record fails when its
// command failed for any reason, transient or not: the queue retries it
// after the visibility timeout and moves it to the alarmed DLQ after the
// last receive. Events that are not service commands are acknowledged and
// logged.
type Handler struct {
	applier *Applier
	log     *slog.Logger
	// Reserve: see DefaultReserve.
	Reserve time.Duration
	// Requeue, if set, sends a command that waits for its order's payment
	// (ErrAwaitingPayment) back to the queue, delayed by PaymentRecheck, and
	// the message is acknowledged: a new message starts with no receives, so
	// waiting for a payment never moves it to the DLQ. Without it (or once
	// MaxPaymentWait has passed since the command) the message is failed
	// like any other and counts towards the DLQ.
	Requeue Requeuer
	// Now is the clock MaxPaymentWait is measured with (time.Now if nil).
	Now func() time.Time
}

// Requeuer sends a message body back to the queue, to be delivered after
// delay.
type Requeuer interface {
	Requeue(ctx context.Context, body string, delay time.Duration) error
}

// PaymentRecheck is how long a command that waits for its order's payment
// waits before it is tried again (SQS's longest message delay).
const PaymentRecheck = 15 * time.Minute

// MaxPaymentWait is how long after the command a command keeps waiting for
// its order's payment before it is failed into the DLQ for a person: an
// order that neither gets paid nor cancelled in that time needs a look
// (docs/runbook.md).
const MaxPaymentWait = 30 * 24 * time.Hour

// NewHandler returns the SQS handler of an applier.
func NewHandler(a *Applier, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{applier: a, log: log, Reserve: DefaultReserve}
}

// Handle processes a batch in order (a provision before the suspend that
// follows it in the same batch).
func (h *Handler) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for i, rec := range batch.Records {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < h.Reserve {
			for _, r := range batch.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			h.log.WarnContext(ctx, "invocation time running out: records left for a retry", "left", len(batch.Records)-i)
			break
		}
		if !h.record(ctx, rec) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// record handles one message and reports whether it is done with.
func (h *Handler) record(ctx context.Context, rec events.SQSMessage) bool {
	e, err := eventbus.Decode([]byte(rec.Body))
	if err != nil {
		h.log.ErrorContext(ctx, "unreadable message", "messageId", rec.MessageId, "err", err)
		return false
	}
	if !IsCommand(e.Type) {
		h.log.WarnContext(ctx, "not a service command: ignored", "messageId", rec.MessageId, "type", e.Type, "eventId", e.ID)
		return true
	}
	log := h.log.With("eventId", e.ID, "type", e.Type, "orderId", e.OrderID, "serviceId", e.ServiceID)
	res, err := h.applier.Apply(ctx, e)
	if err == nil {
		switch {
		case res.Duplicate:
			log.InfoContext(ctx, "command already applied", "outcome", res.Outcome)
		case Dropped(res.Outcome):
			log.WarnContext(ctx, "command dropped: its order was cancelled or its service ended while it waited", "outcome", res.Outcome)
		case res.Outcome == OutcomeKeptOtherSuspension:
			log.WarnContext(ctx, "service suspended for another reason: left suspended", "outcome", res.Outcome, "attempt", res.Attempt)
		default:
			log.InfoContext(ctx, "command applied", "outcome", res.Outcome, "attempt", res.Attempt, "resumed", res.Resumed)
		}
		return true
	}
	c := ledger.Classify(err)
	switch {
	case errors.Is(err, ErrAwaitingPayment):
		return h.awaitPayment(ctx, log, rec, e)
	case errors.Is(err, ErrDeferred):
		log.InfoContext(ctx, "command deferred until its predecessor is applied", "after", e.After)
	case errors.Is(err, ledger.ErrBusy):
		log.InfoContext(ctx, "command in progress in another attempt")
	case c.Transient:
		log.WarnContext(ctx, "command failed, will be retried", "kind", c.Kind, "attempt", res.Attempt, "err", err)
	default:
		// Retried by the queue all the same; after the last receive it lands
		// in the DLQ, whose alarm calls for a person.
		log.ErrorContext(ctx, "command failed permanently", "kind", c.Kind, "attempt", res.Attempt, "err", err)
	}
	return false
}

// awaitPayment sends a command that waits for its order's payment back to
// the queue, delayed, and reports whether the message is done with (it is,
// once requeued).
func (h *Handler) awaitPayment(ctx context.Context, log *slog.Logger, rec events.SQSMessage, e kyc.Event) bool {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	switch {
	case h.Requeue == nil:
		log.InfoContext(ctx, "command waits for its order's payment; retried by the queue")
		return false
	case !e.At.IsZero() && now().Sub(e.At) > MaxPaymentWait:
		log.ErrorContext(ctx, "command has waited for its order's payment too long; left for the DLQ", "since", e.At, "kind", KindAwaitingPayment)
		return false
	}
	if err := h.Requeue.Requeue(ctx, rec.Body, PaymentRecheck); err != nil {
		log.WarnContext(ctx, "command waits for its order's payment, but could not be requeued; retried by the queue", "err", err)
		return false
	}
	log.InfoContext(ctx, "command waits for its order's payment: sent back to the queue", "delay", PaymentRecheck)
	return true
}
