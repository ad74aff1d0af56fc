package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/whmcs"
)

// WHMCS applies commands through the WHMCS API. The service id of a command
// is the WHMCS service id (tblhosting.id).
//
// Repeating a command is made safe by reading the service's status
// (GetClientsProducts) where WHMCS itself would not stop a repeat — WHMCS
// runs a provisioning module's action whatever the service's status, and a
// module may, for instance, create a second account:
//
//   - provision always reads the status first: Active or Suspended means the
//     service exists (an earlier attempt, or staff) and ModuleCreate is not
//     called; only Pending is provisioned.
//   - suspend reads the status when resuming an attempt of unknown outcome,
//     and after WHMCS refuses (a module answering "already suspended"):
//     Suspended means done.
//   - unsuspend always reads the status: Active means done; a service
//     suspended for another reason than the KYC one (unpaid invoices, abuse)
//     is left suspended, since lifting that suspension is not the gate's
//     call (WHMCS lifts an overdue suspension itself once paid).
//   - extend adds the command's days to the next due date WHMCS holds when
//     it is applied (a payment since the order has moved it a cycle on), read
//     with GetClientsProducts. Before UpdateClientProduct it records the date
//     it read as the ledger entry's checkpoint, so an attempt that resumes
//     after a crash or an unknown outcome compares: the date is base+days →
//     applied already; base → not applied, apply; anything else → billing
//     moved the date meanwhile and nobody can tell whether the days went in,
//     so it stops for a person (DueDateMovedError) rather than add them twice
//     or not at all.
type WHMCS struct {
	c *whmcs.Client
}

var _ Biller = (*WHMCS)(nil)

// NewWHMCS returns a Biller calling the WHMCS API through c.
func NewWHMCS(c *whmcs.Client) *WHMCS { return &WHMCS{c: c} }

// ServiceStateError says the service is in a status the command cannot
// apply to (Terminated, Cancelled, Fraud, or Pending for an unsuspend).
type ServiceStateError struct {
	ServiceID int
	Status    string
	Command   kyc.EventType
}

func (e *ServiceStateError) Error() string {
	return fmt.Sprintf("whmcs service %d is %s: cannot apply %s", e.ServiceID, e.Status, e.Command)
}

// Transient is false: someone must look at the service.
func (e *ServiceStateError) Transient() bool { return false }

// Uncertain is false: nothing was sent.
func (e *ServiceStateError) Uncertain() bool { return false }

// KindName implements the kind word of Classify.
func (e *ServiceStateError) KindName() string { return "service_state" }

// Apply implements Biller.
func (w *WHMCS) Apply(ctx context.Context, cmd Command) (string, error) {
	id, err := whmcs.ParseServiceID(cmd.ServiceID)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch cmd.Type {
	case kyc.ServiceProvisionRequested:
		return w.provision(ctx, id)
	case kyc.ServiceSuspendRequested:
		return w.suspend(ctx, id, cmd)
	case kyc.ServiceUnsuspendRequested:
		return w.unsuspend(ctx, id)
	case kyc.ServiceDueDateExtended:
		return w.extend(ctx, id, cmd)
	}
	return "", fmt.Errorf("%w: %q is not a service command", ErrInvalid, cmd.Type)
}

func (w *WHMCS) provision(ctx context.Context, id int) (string, error) {
	sv, err := w.c.Service(ctx, id)
	if err != nil {
		return "", err
	}
	switch sv.Status {
	case whmcs.StatusActive, whmcs.StatusSuspended:
		return OutcomeAlreadyActive, nil
	case whmcs.StatusPending:
	default:
		return "", &ServiceStateError{ServiceID: id, Status: sv.Status, Command: kyc.ServiceProvisionRequested}
	}
	if err := w.c.ModuleCreate(ctx, id); err != nil {
		return "", err
	}
	return OutcomeApplied, nil
}

func (w *WHMCS) suspend(ctx context.Context, id int, cmd Command) (string, error) {
	if cmd.Resumed {
		sv, err := w.c.Service(ctx, id)
		if err != nil {
			return "", err
		}
		if sv.Status == whmcs.StatusSuspended {
			return OutcomeAlreadySuspended, nil
		}
	}
	reason := cmd.Reason
	if reason == "" {
		reason = kyc.SuspendReasonKYC
	}
	err := w.c.ModuleSuspend(ctx, id, reason)
	if err == nil {
		return OutcomeApplied, nil
	}
	if rejected(err) {
		if sv, serr := w.c.Service(ctx, id); serr == nil && sv.Status == whmcs.StatusSuspended {
			return OutcomeAlreadySuspended, nil
		}
	}
	return "", err
}

func (w *WHMCS) unsuspend(ctx context.Context, id int) (string, error) {
	sv, err := w.c.Service(ctx, id)
	if err != nil {
		return "", err
	}
	switch {
	case sv.Status == whmcs.StatusActive:
		return OutcomeAlreadyActive, nil
	case sv.Status != whmcs.StatusSuspended:
		return "", &ServiceStateError{ServiceID: id, Status: sv.Status, Command: kyc.ServiceUnsuspendRequested}
	case sv.SuspensionReason != kyc.SuspendReasonKYC:
		return OutcomeKeptOtherSuspension, nil
	}
	err = w.c.ModuleUnsuspend(ctx, id)
	if err == nil {
		return OutcomeApplied, nil
	}
	if rejected(err) {
		if sv, serr := w.c.Service(ctx, id); serr == nil && sv.Status == whmcs.StatusActive {
			return OutcomeAlreadyActive, nil
		}
	}
	return "", err
}

// DueDateMovedError says a resumed extension found the service's due date
// neither where the earlier attempt found it nor where that attempt was to
// put it: billing moved it meanwhile (a payment, staff), and whether the
// earlier attempt's days went in cannot be told. Nothing is sent; a person
// compares with the service's invoices and sets the date (docs/runbook.md).
type DueDateMovedError struct {
	ServiceID     int
	Base, Current kyc.Date
	Days          int
}

func (e *DueDateMovedError) Error() string {
	return fmt.Sprintf("whmcs service %d: due date %s is neither the base %s an interrupted attempt read nor base + %d days; not extending again",
		e.ServiceID, e.Current, e.Base, e.Days)
}

// Transient is false: someone must look at the service.
func (e *DueDateMovedError) Transient() bool { return false }

// Uncertain is false: this attempt sent nothing.
func (e *DueDateMovedError) Uncertain() bool { return false }

// KindName implements the kind word of Classify.
func (e *DueDateMovedError) KindName() string { return "due_date_moved" }

// extend adds the command's days, once, to the due date WHMCS holds now.
func (w *WHMCS) extend(ctx context.Context, id int, cmd Command) (string, error) {
	if cmd.Extension == nil || cmd.Extension.Days <= 0 {
		return "", fmt.Errorf("%w: no extension", ErrInvalid)
	}
	days := cmd.Extension.Days
	sv, err := w.c.Service(ctx, id)
	if err != nil {
		return "", err
	}
	current, ok := dueDate(sv.NextDueDate)
	if !ok {
		return OutcomeNoDueDate, nil // one-time or free: nothing to extend
	}
	if base, ok := baseOf(cmd.Checkpoint); cmd.Resumed && ok {
		switch target := base.AddDays(days); current {
		case target:
			return OutcomeAlreadyExtended, nil
		case base:
			return w.setDueDate(ctx, id, target)
		default:
			return "", &DueDateMovedError{ServiceID: id, Base: base, Current: current, Days: days}
		}
	}
	if err := cmd.record(ctx, checkpointBase+current.String()); err != nil {
		return "", err
	}
	return w.setDueDate(ctx, id, current.AddDays(days))
}

func (w *WHMCS) setDueDate(ctx context.Context, id int, d kyc.Date) (string, error) {
	if err := w.c.UpdateClientProduct(ctx, id, d.String()); err != nil {
		return "", err
	}
	return OutcomeApplied, nil
}

// checkpointBase prefixes the due date an extension read before updating it.
const checkpointBase = "base="

func baseOf(checkpoint string) (kyc.Date, bool) {
	s, ok := strings.CutPrefix(checkpoint, checkpointBase)
	if !ok {
		return kyc.Date{}, false
	}
	d, err := kyc.ParseDate(s)
	return d, err == nil && !d.IsZero()
}

// dueDate reads WHMCS's nextduedate: Y-m-d, or 0000-00-00 (or nothing) for a
// service without one (one-time, free).
func dueDate(s string) (kyc.Date, bool) {
	d, err := kyc.ParseDate(s)
	return d, err == nil && !d.IsZero()
}

// rejected reports whether WHMCS answered result=error (the module refused),
// as opposed to a transport or authentication failure.
func rejected(err error) bool {
	var e *whmcs.Error
	return errors.As(err, &e) && e.Kind == whmcs.KindRejected
}
