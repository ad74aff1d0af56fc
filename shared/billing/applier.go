package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
)

// Applier applies each command once, in the order After demands.
type Applier struct {
	ledger ledger.Ledger
	biller Biller
	log    *slog.Logger
}

// NewApplier returns an applier that records commands in ledger and carries
// them out with biller.
func NewApplier(l ledger.Ledger, biller Biller, log *slog.Logger) *Applier {
	if log == nil {
		log = slog.Default()
	}
	return &Applier{ledger: l, biller: biller, log: log}
}

// Result is what became of a delivered command.
type Result struct {
	// Outcome is the Biller's outcome, or the one recorded when the command
	// had been applied before.
	Outcome string
	// Duplicate says the command had been applied before; nothing was done.
	Duplicate bool
	Attempt   int
	Resumed   bool
}

// Apply applies a command unless the ledger shows it applied. It fails with
// ErrDeferred while the command's predecessor is not applied
// (ErrAwaitingPayment while the predecessor waits for its order's payment),
// ledger.ErrBusy while another attempt holds it, ErrInvalid for a command
// that cannot be applied, and with the Biller's error otherwise (see
// Classify). A command whose predecessor was dropped (Dropped: its order
// was cancelled while it waited) is dropped too, with the same outcome,
// without calling the billing system.
func (a *Applier) Apply(ctx context.Context, e kyc.Event) (Result, error) {
	if err := validate(e); err != nil {
		return Result{}, err
	}
	dropWith := ""
	if e.After != "" {
		prev, ok, err := a.ledger.Entry(ctx, e.After)
		if err != nil {
			return Result{}, err
		}
		switch {
		case ok && prev.State == ledger.StateApplied && Dropped(prev.Outcome):
			dropWith = prev.Outcome
		case ok && prev.State == ledger.StateFailed && prev.ErrorKind == KindAwaitingPayment:
			return Result{}, fmt.Errorf("%s waits for %s, which waits for payment: %w", e.ID, e.After, ErrAwaitingPayment)
		case !ok || prev.State != ledger.StateApplied:
			return Result{}, fmt.Errorf("%s waits for %s: %w", e.ID, e.After, ErrDeferred)
		}
	}
	claim, err := a.ledger.Claim(ctx, e.ID, map[string]string{
		"type": string(e.Type), "orderId": e.OrderID, "serviceId": e.ServiceID, "customerId": e.CustomerID,
	})
	if errors.Is(err, ledger.ErrDone) {
		prev, _, _ := a.ledger.Entry(ctx, e.ID)
		return Result{Outcome: prev.Outcome, Duplicate: true}, nil
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Attempt: claim.Attempt, Resumed: claim.Resumed}
	if dropWith != "" {
		res.Outcome = dropWith
		if err := a.ledger.Done(context.WithoutCancel(ctx), claim, dropWith); err != nil && !errors.Is(err, ledger.ErrLost) {
			return res, fmt.Errorf("%s dropped but not recorded: %w", e.ID, err)
		}
		return res, nil
	}
	cmd := Command{Event: e, Resumed: claim.Resumed, Record: func(ctx context.Context, checkpoint string) error {
		if err := a.ledger.Checkpoint(ctx, claim, checkpoint); err != nil {
			return &applierError{"recording the checkpoint failed: " + err.Error(), true, "checkpoint"}
		}
		return nil
	}}
	if claim.Resumed {
		cmd.Checkpoint = claim.Checkpoint
	}
	outcome, err := a.biller.Apply(ctx, cmd)
	if err != nil {
		c := ledger.Classify(err)
		// A fresh context: the record must be written even when the
		// invocation's context is what ran out.
		if ferr := a.ledger.Fail(context.WithoutCancel(ctx), claim, c.Uncertain, c.Kind); ferr != nil && !errors.Is(ferr, ledger.ErrLost) {
			a.log.Error("ledger: recording a failed attempt failed", "eventId", e.ID, "err", ferr)
		}
		return res, err
	}
	res.Outcome = outcome
	if err := a.ledger.Done(context.WithoutCancel(ctx), claim, outcome); err != nil {
		if errors.Is(err, ledger.ErrLost) {
			// A later attempt took the claim over after ours went stale; the
			// command is applied all the same and that attempt will find so.
			a.log.Warn("ledger: claim taken over while applying", "eventId", e.ID)
			return res, nil
		}
		// Applied but not recorded: the retry will be Resumed and will find
		// the effect in the billing system.
		return res, fmt.Errorf("%s applied but not recorded: %w", e.ID, err)
	}
	return res, nil
}
