package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/kycgate/kycgate/shared/whmcs"
)

// Products without a provisioning module (a dedicated server set up by a
// person, say) cannot be provisioned, suspended or unsuspended with WHMCS's
// module commands: WHMCS answers "Service not assigned to a module", and
// the command would end in the DLQ. For such a service the adapter sets the
// service's status as staff do in the service form (UpdateClientProduct
// status=...) and tells staff, in one ticket per service that no client
// sees, what to do on the server (docs/whmcs.md §5.3).

// SetupTickets is where the staff tickets about services of products without
// a module go.
type SetupTickets struct {
	// DeptID is the WHMCS support department (0: not configured; such a
	// product's commands fail for a person, kind no_setup_department).
	DeptID int
	// Email is the address the ticket is opened as ("KYC gate" <Email>),
	// the gate's sender address; no e-mail goes to it (noemail).
	Email string
	// AdminUsername is the API credential's admin; later notes on the
	// ticket are that admin's replies. Without it they are new tickets.
	AdminUsername string
}

// setupTag is the subject tag of a service's setup ticket: how the adapter
// finds the ticket again (after an attempt of unknown outcome) instead of
// opening a second one.
func setupTag(serviceID int) string { return fmt.Sprintf("[KYC-SETUP-%d]", serviceID) }

// checkpointReplied is recorded once staff have been told about a suspend
// or unsuspend by hand, so a resumed attempt does not tell them twice.
const checkpointReplied = "staff-told"

// SetupError says a product without a module cannot be provisioned by hand
// because no setup department is configured.
type SetupError struct{ ServiceID int }

func (e *SetupError) Error() string {
	return fmt.Sprintf("whmcs service %d: its product has no provisioning module and no setup department is configured (provisioningDeptId)", e.ServiceID)
}

// Transient is false: the configuration must be fixed.
func (e *SetupError) Transient() bool { return false }

// Uncertain is false: nothing was sent.
func (e *SetupError) Uncertain() bool { return false }

// KindName implements the kind word of Classify.
func (e *SetupError) KindName() string { return "no_setup_department" }

// provisionByHand provisions a service of a product without a module: one
// staff ticket first (found again by its tag, never opened twice), then the
// service set Active. A resumed attempt finds the ticket and sets the
// status again (harmless); one that finds the service Active is done before
// it gets here.
func (w *WHMCS) provisionByHand(ctx context.Context, sv whmcs.Service, p whmcs.Product, cmd Command) (string, error) {
	if w.setup.DeptID <= 0 || w.setup.Email == "" {
		return "", &SetupError{ServiceID: sv.ID}
	}
	found, err := w.c.FindTickets(ctx, whmcs.TicketQuery{Subject: setupTag(sv.ID)})
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		if _, err := w.c.OpenTicket(ctx, whmcs.Ticket{
			DeptID: w.setup.DeptID, Subject: fmt.Sprintf("Set up service #%d by hand %s", sv.ID, setupTag(sv.ID)),
			Message: setupMessage(sv, p, cmd, w.now()), Name: "KYC gate", Email: w.setup.Email, Priority: "High", NoEmail: true,
		}); err != nil {
			return "", err
		}
	}
	if err := w.c.SetServiceStatus(ctx, sv.ID, whmcs.StatusActive, ""); err != nil {
		return "", err
	}
	return OutcomeAppliedByHand, nil
}

// setupMessage is the setup ticket's text: ids, the product, the region and
// when the gate released the service; nothing personal.
func setupMessage(sv whmcs.Service, p whmcs.Product, cmd Command, now time.Time) string {
	at := cmd.At
	if at.IsZero() {
		at = now
	}
	region := cmd.ServerRegion
	if region == "" {
		region = "(not given)"
	}
	return fmt.Sprintf("Service #%d of client #%d was released by the KYC gate on %s.\n\n"+
		"Product: %s (WHMCS product %d, gate product %s). Server region: %s.\n\n"+
		"The product has no provisioning module, so the gate has set the service Active in WHMCS and nothing else: "+
		"please set the server up by hand. The gate adds a reply to this ticket if the service is to be suspended or unsuspended "+
		"for KYC (order %s).", sv.ID, sv.ClientID, at.UTC().Format("2006-01-02 15:04 UTC"), p.Name, p.ID, cmd.ProductID, region, cmd.OrderID)
}

// byHand suspends (status Suspended, reason) or unsuspends (status Active)
// a service of a product without a module: staff are told first (a reply
// to the setup ticket, or a new ticket), recorded as the command's
// checkpoint, then the status is set.
func (w *WHMCS) byHand(ctx context.Context, sv whmcs.Service, cmd Command, status, reason string) (string, error) {
	if w.setup.DeptID <= 0 || w.setup.Email == "" {
		return "", &SetupError{ServiceID: sv.ID}
	}
	if !(cmd.Resumed && cmd.Checkpoint == checkpointReplied) {
		if err := w.tellStaff(ctx, sv, cmd, status, reason); err != nil {
			return "", err
		}
		if err := cmd.record(ctx, checkpointReplied); err != nil {
			return "", err
		}
	}
	if err := w.c.SetServiceStatus(ctx, sv.ID, status, reason); err != nil {
		return "", err
	}
	return OutcomeAppliedByHand, nil
}

// tellStaff asks staff to act on the server: a reply to the service's setup
// ticket, or a new ticket when there is none (deleted) or no admin to reply
// as.
func (w *WHMCS) tellStaff(ctx context.Context, sv whmcs.Service, cmd Command, status, reason string) error {
	what := "unsuspend the server: the customer has passed KYC"
	if status == whmcs.StatusSuspended {
		what = "suspend the server (" + reason + ")"
	}
	msg := fmt.Sprintf("Please %s. The gate has set service #%d %s in WHMCS (order %s, command %s).", what, sv.ID, status, cmd.OrderID, cmd.ID)
	found, err := w.c.FindTickets(ctx, whmcs.TicketQuery{Subject: setupTag(sv.ID)})
	if err != nil {
		return err
	}
	if len(found) > 0 && w.setup.AdminUsername != "" {
		err := w.c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: found[0].ID, Message: msg, AdminUsername: w.setup.AdminUsername, NoEmail: true})
		if !whmcs.TicketNotFound(err) {
			return err
		}
	}
	_, err = w.c.OpenTicket(ctx, whmcs.Ticket{
		DeptID: w.setup.DeptID, Subject: fmt.Sprintf("Service #%d: %s by hand %s", sv.ID, verb(status), setupTag(sv.ID)),
		Message: msg, Name: "KYC gate", Email: w.setup.Email, Priority: "High", NoEmail: true,
	})
	return err
}

func verb(status string) string {
	if status == whmcs.StatusSuspended {
		return "suspend"
	}
	return "unsuspend"
}
