// Package billing applies the gate's service commands to the billing system,
// each exactly once.
//
// A command is a kyc.Event of one of the kyc.ServiceCommands types, delivered
// (through EventBridge and an SQS queue) to the billing adapter:
//
//	ServiceProvisionRequested  → WHMCS ModuleCreate
//	ServiceSuspendRequested    → WHMCS ModuleSuspend (suspendreason = the event's reason)
//	ServiceUnsuspendRequested  → WHMCS ModuleUnsuspend
//	ServiceDueDateExtended     → WHMCS UpdateClientProduct (nextduedate = the new due date)
//
// or, for billing systems other than WHMCS, a signed webhook (Webhook).
//
// The Applier keeps a Ledger of applied commands keyed by the event id, so a
// command delivered twice is applied once, and a command whose predecessor
// (kyc.Event.After) is not applied yet is deferred. Handler turns an SQS
// batch into Applier calls and reports the messages to retry.
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
}

// Biller carries a command out in the billing system. It returns a short
// outcome word kept in the ledger ("applied", "already_active", ...) and
// never personal data. Its errors should implement Transient() and
// Uncertain() (see Classify); others count as transient and uncertain.
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
)

// Errors of the applier.
var (
	// ErrDeferred: the command's predecessor (After) is not applied yet.
	ErrDeferred = errors.New("predecessor not applied yet")
	// ErrInvalid: the command cannot be applied as it stands (no retry helps).
	ErrInvalid = errors.New("invalid command")
)

// Class is how a failure is to be handled and reported.
type Class struct {
	// Transient: trying again later may succeed on its own.
	Transient bool
	// Uncertain: the billing system may have applied the command.
	Uncertain bool
	// Kind is a short word for logs and the ledger.
	Kind string
}

// Classify describes an error of a Biller or the Applier.
func Classify(err error) Class {
	switch {
	case errors.Is(err, ErrDeferred):
		return Class{Transient: true, Kind: "deferred"}
	case errors.Is(err, ErrBusy):
		return Class{Transient: true, Kind: "busy"}
	case errors.Is(err, ErrInvalid):
		return Class{Kind: "invalid"}
	}
	var k interface {
		Transient() bool
		Uncertain() bool
	}
	if errors.As(err, &k) {
		c := Class{Transient: k.Transient(), Uncertain: k.Uncertain(), Kind: "permanent"}
		var kinded interface{ KindName() string }
		switch {
		case errors.As(err, &kinded):
			c.Kind = kinded.KindName()
		case c.Transient:
			c.Kind = "transient"
		}
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Class{Transient: true, Uncertain: true, Kind: "timeout"}
	}
	return Class{Transient: true, Uncertain: true, Kind: "error"}
}

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
	case e.Type == kyc.ServiceDueDateExtended && (e.NewDueDate == nil || e.NewDueDate.IsZero()):
		return fmt.Errorf("%w: %s has no newDueDate", ErrInvalid, e.ID)
	}
	return nil
}
