package kyc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// This file is the billing system's side of the intake beyond orders: what
// staff did by hand to a held service (StaffAction), and the two reads the
// billing system makes (a customer's KYC for its provisioning guard and
// pages, the review queue's numbers for its dashboard). docs/whmcs.md §5 and
// §7 are the contract.

// StaffActionKind is what staff did by hand in the billing system.
type StaffActionKind string

// The staff actions the billing system reports.
const (
	// StaffModuleCreate: a create of a held service the gate had not
	// released (an override, a verified customer, a service set Active by
	// hand).
	StaffModuleCreate StaffActionKind = "module_create"
	// StaffModuleUnsuspend: a KYC suspension lifted by hand while the
	// customer was not verified.
	StaffModuleUnsuspend StaffActionKind = "module_unsuspend"
	// StaffOverride: a provisioning override granted for the service.
	StaffOverride StaffActionKind = "override"
)

// StaffActionKinds are the actions a StaffAction event may carry.
var StaffActionKinds = []StaffActionKind{StaffModuleCreate, StaffModuleUnsuspend, StaffOverride}

// StaffActionEvent is the detail of a StaffAction event: staff (AdminID, "0"
// for the billing system's own automation) did Action to the service of an
// order the gate holds or held.
type StaffActionEvent struct {
	OrderID    string          `json:"orderId"`
	ServiceID  string          `json:"serviceId"`
	CustomerID string          `json:"customerId"`
	Action     StaffActionKind `json:"action"`
	AdminID    string          `json:"adminId"`
}

// DecodeStaffAction reads a StaffAction's detail strictly, as
// DecodeBillingEvent reads the others: an unknown field (an order's
// productId, say), a wrong JSON type or data after the object is refused
// (invalid, malformed_detail).
func DecodeStaffAction(detail []byte) (StaffActionEvent, error) {
	return decodeDetail[StaffActionEvent](detail, "a staff action")
}

// Audit actions of staff actions: "staff." + the action.
const staffActionPrefix = "staff."

// RecordStaffAction records what staff did by hand to an order's service in
// the customer's audit trail, where the order's history shows it. It
// changes nothing else: the hold keeps its state, and no command or notice
// goes out. The order must be one the gate holds or held (404
// order_not_found otherwise), of that customer and that service. Each call
// records one entry: the webhook's replay guard and the queue's keep a
// repeated event from being recorded twice.
func (s *Intake) RecordStaffAction(ctx context.Context, a StaffActionEvent) (IntakeResult, error) {
	for _, f := range []struct{ name, v string }{
		{"orderId", a.OrderID}, {"serviceId", a.ServiceID}, {"customerId", a.CustomerID}, {"adminId", a.AdminID},
	} {
		if !ValidID(f.v) {
			return IntakeResult{}, Invalid("invalid_"+f.name, "%s must be 1-128 letters, digits or . _ : -", f.name)
		}
	}
	if !slices.Contains(StaffActionKinds, a.Action) {
		return IntakeResult{}, Invalid("invalid_action", "action must be %s, %s or %s", string(StaffModuleCreate), string(StaffModuleUnsuspend), string(StaffOverride))
	}
	var res IntakeResult
	err := retry(ctx, func() error {
		owner, err := s.store.OrderOwner(ctx, a.OrderID)
		if errors.Is(err, ErrNotExist) {
			return NotFound("order_not_found", "no order %s", a.OrderID)
		}
		if err != nil {
			return fmt.Errorf("order owner: %w", err)
		}
		if owner != a.CustomerID {
			return Invalid("invalid_customerId", "order %s is not this customer's", a.OrderID)
		}
		c, err := s.customer(ctx, owner)
		if err != nil {
			return err
		}
		h, open := c.Hold(a.OrderID)
		if !open {
			if h, err = s.hold(ctx, owner, a.OrderID); err != nil {
				return err
			}
		}
		if h.ServiceID != a.ServiceID {
			return Invalid("invalid_serviceId", "serviceId is not the service of order %s", a.OrderID)
		}
		now := s.now()
		ch := c.record(ByBilling, now, AuditEntry{Action: staffActionPrefix + string(a.Action), OrderID: a.OrderID,
			Detail: map[string]string{"serviceId": a.ServiceID, "adminId": a.AdminID, "holdState": string(h.State)}})
		if err := s.commit(ctx, Work{}, ch, now); err != nil {
			return fmt.Errorf("record staff action on %s: %w", a.OrderID, err)
		}
		res = IntakeResult{OrderID: a.OrderID, State: h.State}
		return nil
	})
	return res, err
}

// BillingView is a customer's KYC as the billing system reads it (GET
// /v1/billing/customers/{id}/kyc): the status, the verification's dates, the
// holds, and Released, every service the gate has asked billing to provision
// (ServiceProvisionRequested). The provisioning guard lets a create of a
// released service through as the gate's own.
type BillingView struct {
	CustomerID string        `json:"customerId"`
	Status     Status        `json:"status"`
	VerifiedAt time.Time     `json:"verifiedAt,omitzero"`
	ExpiresAt  time.Time     `json:"expiresAt,omitzero"`
	Holds      []BillingHold `json:"holds"`
	Released   []string      `json:"released"`
}

// BillingHold is a hold as the billing system reads it. Times are UTC; its
// pages show them in TimeZone, the server region's, with UTC beside them.
type BillingHold struct {
	OrderID      string    `json:"orderId"`
	ServiceID    string    `json:"serviceId"`
	ProductID    string    `json:"productId"`
	State        HoldState `json:"state"`
	OrderedAt    time.Time `json:"orderedAt"`
	Deadline     time.Time `json:"deadline,omitzero"`
	ServerRegion string    `json:"serverRegion"`
	TimeZone     string    `json:"timeZone,omitempty"`
}

// BillingView returns a customer's KYC for the billing system, read
// consistently: a hold's transition is committed before its command is
// published, so a service is in Released before billing hears of the
// command. A customer the gate does not know is unverified, with no holds
// and nothing released (not an error: the guard asks about every customer
// who orders a KYC product).
func (s *Intake) BillingView(ctx context.Context, customerID string) (BillingView, error) {
	if !ValidID(customerID) {
		return BillingView{}, Invalid("invalid_customerId", "customerId must be 1-128 letters, digits or . _ : -")
	}
	c, a, err := s.account(ctx, customerID)
	if err != nil {
		return BillingView{}, err
	}
	v := BillingView{CustomerID: customerID, Status: c.StatusAt(s.now()), VerifiedAt: c.VerifiedAt, ExpiresAt: c.ExpiresAt,
		Holds: []BillingHold{}, Released: []string{}}
	for _, h := range append(slices.Clone(c.Holds), a.Closed...) {
		v.Holds = append(v.Holds, BillingHold{OrderID: h.OrderID, ServiceID: h.ServiceID, ProductID: h.ProductID, State: h.State,
			OrderedAt: h.OrderedAt, Deadline: h.Deadline, ServerRegion: h.ServerRegion, TimeZone: h.TimeZone})
		if h.ProvisionRequested() && !slices.Contains(v.Released, h.ServiceID) {
			v.Released = append(v.Released, h.ServiceID)
		}
	}
	slices.SortStableFunc(v.Holds, func(x, y BillingHold) int { return y.OrderedAt.Compare(x.OrderedAt) })
	slices.Sort(v.Released)
	return v, nil
}

// ProvisionRequested reports whether the gate has published
// ServiceProvisionRequested for the hold's service: provisioned when the
// customer was already verified, released or provisioned on approval,
// provisioned and suspended at the deadline, and whatever ended later.
func (h Hold) ProvisionRequested() bool {
	switch h.State {
	case Provisioned, ProvisionedExtended, Released, SuspendedKYC:
		return true
	}
	return !h.ProvisionedAt.IsZero()
}

// QueueSummary is the review queue as the billing system's dashboard shows
// it (GET /v1/billing/review-queue): how many submissions wait for review,
// and how long the oldest has waited.
type QueueSummary struct {
	Size              int   `json:"size"`
	OldestWaitSeconds int64 `json:"oldestWaitSeconds"`
}

// ReviewQueue returns the review queue's size and oldest wait. It reads the
// queue index only (a count, and its first entry).
func (s *Intake) ReviewQueue(ctx context.Context) (QueueSummary, error) {
	n, err := s.store.PendingCount(ctx)
	if err != nil {
		return QueueSummary{}, fmt.Errorf("count pending submissions: %w", err)
	}
	q := QueueSummary{Size: n}
	if n == 0 {
		return q, nil
	}
	oldest, err := s.store.OldestPending(ctx)
	switch {
	case errors.Is(err, ErrNotExist): // decided since it was counted
		return q, nil
	case err != nil:
		return QueueSummary{}, fmt.Errorf("oldest pending submission: %w", err)
	}
	q.OldestWaitSeconds = max(int64(s.now().Sub(oldest.SubmittedAt)/time.Second), 0)
	return q, nil
}
