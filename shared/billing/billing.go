// Package billing applies the gate's service commands to the billing system,
// each exactly once.
//
// A command is a kyc.Event of one of the kyc.ServiceCommands types, delivered
// (through EventBridge and an SQS queue) to the billing adapter:
//
//	ServiceProvisionRequested  → WHMCS ModuleCreate once the order is paid; a product
//	                             without a module: UpdateClientProduct status=Active
//	                             and one staff ticket
//	ServiceSuspendRequested    → WHMCS ModuleSuspend (suspendreason = the event's reason)
//	ServiceUnsuspendRequested  → WHMCS ModuleUnsuspend
//	ServiceDueDateExtended     → WHMCS GetClientsProducts, then UpdateClientProduct
//	                             (nextduedate = the date WHMCS holds now + the extension's days)
//
// or, for billing systems other than WHMCS, a signed webhook (Webhook).
//
// The Applier keeps a Ledger of applied commands keyed by the event id, so a
// command delivered twice is applied once, and a command whose predecessor
// (kyc.Event.After) is not applied yet is deferred. A provision whose order
// is not paid waits for the payment (ErrAwaitingPayment), and so do the
// commands that follow it; Handler sends such a message back to its queue,
// delayed, instead of failing it, so waiting never counts towards the DLQ.
// A command whose order was cancelled meanwhile is dropped, with the
// commands that follow it. Handler turns an SQS batch into Applier calls and
// reports the messages to retry.
package billing

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Command is a service command with what the applier knows about earlier
// attempts.
type Command struct {
	kyc.Event
	// Resumed says an earlier attempt may already have applied the command
	// (it died mid-call, or its call's outcome was unknown): the Biller must
	// find out before doing anything that cannot be repeated.
	Resumed bool
	// Checkpoint is what an earlier attempt recorded with Record before a
	// step it could not take back ("" if none, or if the command is not
	// Resumed).
	Checkpoint string
	// Record durably records a checkpoint for a later attempt (the ledger
	// entry's) before a step that cannot be repeated safely; the Biller must
	// not take the step if it fails. Nil records nothing.
	Record func(ctx context.Context, checkpoint string) error
}

// record records a checkpoint, if the command can.
func (c Command) record(ctx context.Context, checkpoint string) error {
	if c.Record == nil {
		return nil
	}
	return c.Record(ctx, checkpoint)
}

// Biller carries a command out in the billing system. It returns a short
// outcome word kept in the ledger ("applied", "already_active", ...) and
// never personal data. Its errors should implement Transient() and
// Uncertain() (see ledger.Classify); others count as transient and uncertain.
type Biller interface {
	Apply(ctx context.Context, c Command) (outcome string, err error)
}

// Outcomes a Biller reports.
const (
	OutcomeApplied = "applied"
	// The billing system already showed the command's effect.
	OutcomeAlreadyActive    = "already_active"
	OutcomeAlreadySuspended = "already_suspended"
	// An unsuspend that found the service suspended for another reason
	// (non-payment, abuse) and left it so.
	OutcomeKeptOtherSuspension = "kept_other_suspension"
	// An extension a resumed attempt found applied (the date is the base the
	// earlier attempt recorded plus the days).
	OutcomeAlreadyExtended = "already_extended"
	// An extension of a service the billing system holds no due date for
	// (one-time or free): nothing to extend.
	OutcomeNoDueDate = "no_due_date"
	// A command of a product without a provisioning module, applied by
	// setting the service's status and telling staff in a ticket.
	OutcomeAppliedByHand = "applied_without_module"
	// Dropped: the command was not applied because its order was
	// cancelled in the billing system, or its hold closed in the gate
	// (cancelled, or the service ended), while it waited; the commands that
	// follow it are dropped with the same outcome.
	OutcomeOrderCancelled = "order_cancelled"
	OutcomeHoldClosed     = "hold_closed"
)

// Dropped reports whether an outcome is one of a command that was dropped
// rather than applied.
func Dropped(outcome string) bool {
	return outcome == OutcomeOrderCancelled || outcome == OutcomeHoldClosed
}

// Errors of the applier. Each says how ledger.Classify is to take it.
var (
	// ErrDeferred: the command's predecessor (After) is not applied yet.
	ErrDeferred error = &applierError{"predecessor not applied yet", true, "deferred"}
	// ErrInvalid: the command cannot be applied as it stands (no retry helps).
	ErrInvalid error = &applierError{"invalid command", false, "invalid"}
	// ErrAwaitingPayment: the command's order is not paid yet (or the
	// command follows one that waits for that). Nothing was done; the
	// command comes back later (Handler requeues it) and does not count as
	// a failure towards the DLQ. Transient and certain.
	ErrAwaitingPayment error = &applierError{"waiting for the order's payment", true, KindAwaitingPayment}
)

// KindAwaitingPayment is the error kind (ledger.Classify) of a command that
// waits for its order's payment.
const KindAwaitingPayment = "awaiting_payment"

// Holds tells where the hold of a command's order stands in the gate: a
// command that waits for payment is dropped once its hold is closed as
// cancelled or expired (billing said so).
type Holds interface {
	// HoldState returns the state of an order's hold; kyc.ErrNotExist if
	// the gate has none.
	HoldState(ctx context.Context, customerID, orderID string) (kyc.HoldState, error)
}

// HoldStore is the part of kyc.Store HoldsOf reads (two GetItems on the
// customer's partition, consistently).
type HoldStore interface {
	Customer(ctx context.Context, id string) (kyc.Customer, error)
	ClosedHold(ctx context.Context, customerID, orderID string) (kyc.Hold, error)
}

// HoldsOf reads holds from the gate's records: the customer's open holds,
// then the closed hold of the order.
func HoldsOf(st HoldStore) Holds { return storeHolds{st} }

type storeHolds struct{ st HoldStore }

func (h storeHolds) HoldState(ctx context.Context, customerID, orderID string) (kyc.HoldState, error) {
	c, err := h.st.Customer(ctx, customerID)
	if err != nil && !errors.Is(err, kyc.ErrNotExist) {
		return "", err
	}
	if hold, ok := c.Hold(orderID); err == nil && ok {
		return hold.State, nil
	}
	hold, err := h.st.ClosedHold(ctx, customerID, orderID)
	if err != nil {
		return "", err
	}
	return hold.State, nil
}

// applierError is a failure decided before the billing system was called:
// never uncertain.
type applierError struct {
	msg       string
	transient bool
	kind      string
}

func (e *applierError) Error() string    { return e.msg }
func (e *applierError) Transient() bool  { return e.transient }
func (e *applierError) Uncertain() bool  { return false }
func (e *applierError) KindName() string { return e.kind }

// MaxExtensionDays bounds the days one extension may add: far more than any
// time a customer can take (a year), far less than what could overflow a
// date.
const MaxExtensionDays = 3660

// IsCommand reports whether an event type is a service command.
func IsCommand(t kyc.EventType) bool { return slices.Contains(kyc.ServiceCommands, t) }

func validate(e kyc.Event) error {
	switch {
	case !IsCommand(e.Type):
		return fmt.Errorf("%w: %q is not a service command", ErrInvalid, e.Type)
	case e.ID == "":
		return fmt.Errorf("%w: no eventId", ErrInvalid)
	case e.ServiceID == "":
		return fmt.Errorf("%w: %s has no serviceId", ErrInvalid, e.ID)
	case e.Type == kyc.ServiceDueDateExtended && (e.Extension == nil || e.Extension.Days <= 0 || e.Extension.Days > MaxExtensionDays):
		return fmt.Errorf("%w: %s has no extension of 1-%d days", ErrInvalid, e.ID, MaxExtensionDays)
	}
	return nil
}
