package billing

import (
	"context"
	"errors"
	"fmt"

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
//   - extend is an absolute date and is simply sent again.
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
		if cmd.NewDueDate == nil || cmd.NewDueDate.IsZero() {
			return "", fmt.Errorf("%w: no newDueDate", ErrInvalid)
		}
		if err := w.c.UpdateClientProduct(ctx, id, cmd.NewDueDate.String()); err != nil {
			return "", err
		}
		return OutcomeApplied, nil
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

// rejected reports whether WHMCS answered result=error (the module refused),
// as opposed to a transport or authentication failure.
func rejected(err error) bool {
	var e *whmcs.Error
	return errors.As(err, &e) && e.Kind == whmcs.KindRejected
}
