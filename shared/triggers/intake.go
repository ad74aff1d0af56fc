package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Intake takes the billing events the bus delivers to the intake queue.
type Intake struct {
	intake *kyc.Intake
	replay ReplayGuard
	log    *slog.Logger
}

// ReplayGuard remembers the ids of applied events (the webhook's guard,
// httpapi.ReplayGuard). Remember fails with kyc.ErrStale for an id it holds.
type ReplayGuard interface {
	Seen(ctx context.Context, id string) (bool, error)
	Remember(ctx context.Context, id string, until time.Time) error
}

// NewIntake returns the intake queue's handler.
func NewIntake(intake *kyc.Intake, log *slog.Logger) *Intake {
	return &Intake{intake: intake, log: log}
}

// WithReplayGuard makes the handler record a StaffAction once per
// EventBridge event id, however often the event is delivered (EventBridge
// and SQS deliver at least once): the only billing event that is not
// idempotent by itself. Without a guard a redelivered StaffAction is
// recorded again (harmless: one more audit entry, nothing else changes).
func (in *Intake) WithReplayGuard(g ReplayGuard) *Intake {
	in.replay = g
	return in
}

// replayWindow is how long a StaffAction's event id is remembered: far
// longer than SQS keeps a message (4 days by default), the same as the
// webhook's.
const replayWindow = 24 * time.Hour * 5

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
	var res kyc.IntakeResult
	var err error
	if kyc.EventType(e.DetailType) == kyc.StaffAction {
		res, err = in.staffAction(ctx, e)
	} else {
		var detail kyc.BillingEvent
		if detail, err = kyc.DecodeBillingEvent(e.Detail); err != nil {
			return kyc.IntakeResult{}, err
		}
		res, err = in.intake.ApplyBillingEvent(ctx, kyc.EventType(e.DetailType), detail)
	}
	in.log.InfoContext(ctx, "billing event", "type", e.DetailType, "order", res.OrderID, "state", res.State,
		"duplicate", res.Duplicate, "error", kyc.CodeOf(err))
	return res, err
}

// staffAction records a StaffAction once per EventBridge event id (when the
// handler has a replay guard): the id is remembered after the action is
// recorded, so a failed attempt leaves it free for the retry.
func (in *Intake) staffAction(ctx context.Context, e events.EventBridgeEvent) (kyc.IntakeResult, error) {
	a, err := kyc.DecodeStaffAction(e.Detail)
	if err != nil {
		return kyc.IntakeResult{}, err
	}
	key := "eventbridge:" + e.ID
	guarded := in.replay != nil && e.ID != "" && kyc.ValidID(key)
	if guarded {
		seen, err := in.replay.Seen(ctx, key)
		if err != nil {
			return kyc.IntakeResult{}, fmt.Errorf("replay guard: %w", err)
		}
		if seen {
			return kyc.IntakeResult{OrderID: a.OrderID, Duplicate: true}, nil
		}
	}
	res, err := in.intake.RecordStaffAction(ctx, a)
	if err != nil || !guarded {
		return res, err
	}
	if err := in.replay.Remember(ctx, key, time.Now().Add(replayWindow)); err != nil && !errors.Is(err, kyc.ErrStale) {
		// Recorded, but not remembered: a redelivery would record it again.
		// Acknowledged all the same (a second audit entry is harmless).
		in.log.WarnContext(ctx, "staff action recorded but its event id not remembered", "order", a.OrderID, "err", err)
	}
	return res, nil
}
