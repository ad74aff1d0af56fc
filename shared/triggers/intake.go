package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Intake takes the billing events the bus delivers to the intake queue.
type Intake struct {
	intake *kyc.Intake
	log    *slog.Logger
}

// NewIntake returns the intake queue's handler.
func NewIntake(intake *kyc.Intake, log *slog.Logger) *Intake {
	return &Intake{intake: intake, log: log}
}

// HandleSQS applies the billing events of an SQS batch, each an EventBridge
// event of source "billing". A message that fails, for whatever reason, is
// reported back, so SQS delivers it again and finally parks it in the
// alarmed dead-letter queue: a refused event is a billing-system problem a
// person must see, and a transient failure must never be acknowledged.
func (in *Intake) HandleSQS(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	return eachMessage(ctx, batch, in.log, func(ctx context.Context, body []byte) error {
		var e events.EventBridgeEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("not an EventBridge event: %w", err)
		}
		_, err := in.apply(ctx, e)
		return err
	}), nil
}

// apply applies one billing event.
func (in *Intake) apply(ctx context.Context, e events.EventBridgeEvent) (kyc.IntakeResult, error) {
	if e.Source != contract.SourceBilling {
		return kyc.IntakeResult{}, kyc.Invalid("unknown_source", "source must be %q", contract.SourceBilling)
	}
	detail, err := kyc.DecodeBillingEvent(e.Detail)
	if err != nil {
		return kyc.IntakeResult{}, err
	}
	res, err := in.intake.ApplyBillingEvent(ctx, kyc.EventType(e.DetailType), detail)
	in.log.InfoContext(ctx, "billing event", "type", e.DetailType, "order", res.OrderID, "state", res.State,
		"duplicate", res.Duplicate, "error", kyc.CodeOf(err))
	return res, err
}
