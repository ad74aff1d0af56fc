package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

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
//     called; only Pending is provisioned, and only once its order is paid
//     (GetOrders: the invoice Paid, or no invoice); until then the command
//     waits (ErrAwaitingPayment), and it is dropped once the order is
//     cancelled in WHMCS or the hold closed in the gate. A product without
//     a module (GetProducts) is provisioned by hand (byhand.go).
//   - suspend reads the status (and the product's module) first: Suspended
//     means done; also after WHMCS refuses (a module answering "already
//     suspended").
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
	c     *whmcs.Client
	holds Holds
	setup SetupTickets
	now   func() time.Time

	mu       sync.Mutex
	products map[int]cachedProduct
}

var _ Biller = (*WHMCS)(nil)

// WHMCSOption configures a WHMCS biller.
type WHMCSOption func(*WHMCS)

// WithHolds lets a command that waits for its order's payment be dropped
// once its hold is closed in the gate (cancelled, or the service ended);
// without it only WHMCS's order status (cancelled, fraud, deleted) drops it.
func WithHolds(h Holds) WHMCSOption { return func(w *WHMCS) { w.holds = h } }

// WithSetupTickets sets where the staff tickets about products without a
// module go (byhand.go); without a department such a product's provision
// fails for a person to configure it.
func WithSetupTickets(t SetupTickets) WHMCSOption { return func(w *WHMCS) { w.setup = t } }

// NewWHMCS returns a Biller calling the WHMCS API through c.
func NewWHMCS(c *whmcs.Client, opts ...WHMCSOption) *WHMCS {
	w := &WHMCS{c: c, now: time.Now, products: map[int]cachedProduct{}}
	for _, o := range opts {
		o(w)
	}
	return w
}

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
		return w.provision(ctx, id, cmd)
	case kyc.ServiceSuspendRequested:
		return w.suspend(ctx, id, cmd)
	case kyc.ServiceUnsuspendRequested:
		return w.unsuspend(ctx, id, cmd)
	case kyc.ServiceDueDateExtended:
		return w.extend(ctx, id, cmd)
	}
	return "", fmt.Errorf("%w: %q is not a service command", ErrInvalid, cmd.Type)
}

func (w *WHMCS) provision(ctx context.Context, id int, cmd Command) (string, error) {
	sv, err := w.c.Service(ctx, id)
	if rejected(err) {
		// Gone: WHMCS deletes an order's services with it (DeleteOrder,
		// which the addon reports as OrderCancelled).
		if closed, herr := w.holdClosed(ctx, cmd); herr == nil && closed {
			return OutcomeHoldClosed, nil
		}
	}
	if err != nil {
		return "", err
	}
	switch sv.Status {
	case whmcs.StatusActive, whmcs.StatusSuspended:
		return OutcomeAlreadyActive, nil
	case whmcs.StatusPending:
	default:
		// Cancelled, terminated, fraud: dropped if its order or hold says
		// why, otherwise someone must look at it.
		if out, err := w.dropped(ctx, cmd, sv, false); out != "" || err != nil {
			return out, err
		}
		return "", &ServiceStateError{ServiceID: id, Status: sv.Status, Command: kyc.ServiceProvisionRequested}
	}
	if out, err := w.dropped(ctx, cmd, sv, true); out != "" || err != nil {
		return out, err
	}
	p, err := w.product(ctx, sv.ProductID)
	if err != nil {
		return "", err
	}
	if p.Module == "" {
		return w.provisionByHand(ctx, sv, p, cmd)
	}
	if err := w.c.ModuleCreate(ctx, id); err != nil {
		return "", err
	}
	return OutcomeApplied, nil
}

// dropped decides, for a provision, what the order says: cancelled or fraud
// in WHMCS (or deleted) → dropped (OutcomeOrderCancelled); not paid (when
// needPaid) → dropped if the gate's hold is closed (OutcomeHoldClosed),
// otherwise ErrAwaitingPayment. "" and nil: go ahead. A service without an
// order (added by staff) has nothing to wait for.
func (w *WHMCS) dropped(ctx context.Context, cmd Command, sv whmcs.Service, needPaid bool) (string, error) {
	paid := true
	if sv.OrderID > 0 {
		o, err := w.c.Order(ctx, sv.OrderID)
		switch {
		case rejected(err): // deleted with its services
			return OutcomeOrderCancelled, nil
		case err != nil:
			return "", err
		case o.Closed():
			return OutcomeOrderCancelled, nil
		}
		paid = o.Paid()
	}
	if paid && needPaid {
		return "", nil
	}
	if closed, err := w.holdClosed(ctx, cmd); err != nil || closed {
		if err != nil {
			return "", err
		}
		return OutcomeHoldClosed, nil
	}
	if !needPaid {
		return "", nil
	}
	return "", fmt.Errorf("whmcs order %d of service %d is not paid: %w", sv.OrderID, sv.ID, ErrAwaitingPayment)
}

// holdClosed reports whether the gate closed the command's hold by
// billing's word (cancelled, or the service ended) since the command.
func (w *WHMCS) holdClosed(ctx context.Context, cmd Command) (bool, error) {
	if w.holds == nil || cmd.CustomerID == "" || cmd.OrderID == "" {
		return false, nil
	}
	st, err := w.holds.HoldState(ctx, cmd.CustomerID, cmd.OrderID)
	switch {
	case errors.Is(err, kyc.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read the hold: %w", err)
	}
	return st == kyc.Cancelled || st == kyc.Expired, nil
}

// productTTL is how long a product's module is remembered: products rarely
// change, and each command would otherwise read it again.
const productTTL = 5 * time.Minute

type cachedProduct struct {
	p  whmcs.Product
	at time.Time
}

// product returns a product (its module), remembered for productTTL.
func (w *WHMCS) product(ctx context.Context, pid int) (whmcs.Product, error) {
	w.mu.Lock()
	c, ok := w.products[pid]
	w.mu.Unlock()
	if ok && w.now().Sub(c.at) < productTTL {
		return c.p, nil
	}
	p, err := w.c.Product(ctx, pid)
	if err != nil {
		return whmcs.Product{}, err
	}
	w.mu.Lock()
	w.products[pid] = cachedProduct{p, w.now()}
	w.mu.Unlock()
	return p, nil
}

func (w *WHMCS) suspend(ctx context.Context, id int, cmd Command) (string, error) {
	sv, err := w.c.Service(ctx, id)
	if err != nil {
		return "", err
	}
	if sv.Status == whmcs.StatusSuspended {
		return OutcomeAlreadySuspended, nil
	}
	reason := cmd.Reason
	if reason == "" {
		reason = kyc.SuspendReasonKYC
	}
	p, err := w.product(ctx, sv.ProductID)
	if err != nil {
		return "", err
	}
	if p.Module == "" {
		return w.byHand(ctx, sv, cmd, whmcs.StatusSuspended, reason)
	}
	err = w.c.ModuleSuspend(ctx, id, reason)
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

func (w *WHMCS) unsuspend(ctx context.Context, id int, cmd Command) (string, error) {
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
	p, err := w.product(ctx, sv.ProductID)
	if err != nil {
		return "", err
	}
	if p.Module == "" {
		return w.byHand(ctx, sv, cmd, whmcs.StatusActive, "")
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
