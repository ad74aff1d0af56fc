package kyc

import (
	"slices"
	"strconv"
	"time"
)

// Status is a customer's KYC status.
type Status string

const (
	StatusUnverified    Status = "unverified"
	StatusPendingReview Status = "pending_review"
	StatusVerified      Status = "verified"
	StatusRejected      Status = "rejected" // the last submission was rejected; the customer may resubmit
	StatusExpired       Status = "expired"  // the verification is more than 2 years old (P2)
)

// PendingSubmission is the customer's submission under review.
type PendingSubmission struct {
	ID          string    `json:"id"`
	SubmittedAt time.Time `json:"submittedAt"`
}

// Customer is a customer's KYC record: status, verification dates, the
// submission under review, the open order holds and the audit chain head. It
// is the consistency boundary: every change to it is one conditional write.
type Customer struct {
	ID         string    `json:"id"`
	Status     Status    `json:"status"`
	VerifiedAt time.Time `json:"verifiedAt,omitzero"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
	// VerifiedSubmittedAt is when the approved submission was made; an order
	// that arrives after the approval is judged with it.
	VerifiedSubmittedAt time.Time          `json:"verifiedSubmittedAt,omitzero"`
	Pending             *PendingSubmission `json:"pending,omitempty"`
	// Holds are the customer's open holds, oldest order first.
	Holds []Hold `json:"holds,omitempty"`
	// RemindedFor is the ExpiresAt whose KycExpiring reminder was sent.
	RemindedFor time.Time `json:"remindedFor,omitzero"`
	// ExpiredFor is the ExpiresAt whose KycExpired notice was sent.
	ExpiredFor time.Time `json:"expiredFor,omitzero"`
	Language   string    `json:"language,omitempty"`
	// Business says billing reports the account as a business (WHMCS: a
	// company name), the only customers a business registration certificate
	// proves identity for (P3). Each order updates it.
	Business  bool      `json:"business,omitempty"`
	Contact   *Sealed   `json:"contact,omitempty"` // e-mail address, sealed
	LegalHold bool      `json:"legalHold,omitempty"`
	Audit     AuditHead `json:"audit"`
	// Version is the record's version: 0 for a customer never stored.
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`

	// LegalHoldLift is one admin's request to lift the legal hold, waiting
	// for a second admin (retention.go).
	LegalHoldLift *LegalHoldLift `json:"legalHoldLift,omitempty"`
}

// NewCustomer returns the record of a customer never seen before.
func NewCustomer(id string, now time.Time) Customer {
	return Customer{ID: id, Status: StatusUnverified, CreatedAt: now}
}

// Change is what an operation on a customer decided: the customer's new
// record, the holds it closed, the events to publish and the audit entries to
// append. Adapters persist it in one write and then publish; they decide
// nothing.
type Change struct {
	Customer Customer
	Closed   []Hold
	Events   []Event
	Audit    []AuditEntry
}

// Empty reports whether the change changes nothing.
func (ch Change) Empty() bool {
	return len(ch.Closed) == 0 && len(ch.Events) == 0 && len(ch.Audit) == 0
}

// StatusAt is the customer's status at t: a verification past its expiry is
// expired even before the sweep records it.
func (c Customer) StatusAt(t time.Time) Status {
	if c.Status == StatusVerified && !t.Before(c.ExpiresAt) {
		return StatusExpired
	}
	return c.Status
}

// verifiedAt reports whether the customer held a valid verification at t.
func (c Customer) verifiedAt(t time.Time) bool {
	return !c.VerifiedAt.IsZero() && !t.Before(c.VerifiedAt) && t.Before(c.ExpiresAt)
}

// Hold returns the open hold of an order.
func (c Customer) Hold(orderID string) (Hold, bool) {
	i := slices.IndexFunc(c.Holds, func(h Hold) bool { return h.OrderID == orderID })
	if i < 0 {
		return Hold{}, false
	}
	return c.Holds[i], true
}

// draft accumulates what an operation decides; done returns it as a Change.
type draft struct {
	Change
	by Actor
	at time.Time
}

func (c Customer) begin(by Actor, at time.Time) *draft {
	c.Holds = slices.Clone(c.Holds)
	return &draft{Change: Change{Customer: c}, by: by, at: at}
}

func (ch *draft) audit(e AuditEntry) {
	e.At, e.Actor = ch.at, ch.by
	ch.Audit = append(ch.Audit, e)
}

// apply records a hold transition: the hold's new state (kept open or moved
// to Closed), its events, and an audit entry.
func (ch *draft) apply(from HoldState, t transition, action string) {
	h := t.hold
	i := slices.IndexFunc(ch.Customer.Holds, func(o Hold) bool { return o.OrderID == h.OrderID })
	switch {
	case h.State.Open() && i >= 0:
		ch.Customer.Holds[i] = h
	case h.State.Open():
		ch.Customer.Holds = append(ch.Customer.Holds, h)
	default:
		if i >= 0 {
			ch.Customer.Holds = slices.Delete(ch.Customer.Holds, i, i+1)
		}
		ch.Closed = append(ch.Closed, h)
	}
	ch.Events = append(ch.Events, t.events...)
	detail := map[string]string{}
	for _, e := range t.events {
		detail[string(e.Type)] = e.ID
	}
	if h.Extension != nil && h.State == ProvisionedExtended {
		detail["extensionDays"] = strconv.Itoa(h.Extension.Days)
		detail["extensionExact"] = h.Extension.Exact.String()
		detail["previousDueDate"] = h.OriginalDueDate.String()
	}
	if h.Deadline != (time.Time{}) {
		detail["deadline"] = h.Deadline.UTC().Format(time.RFC3339)
	}
	if len(detail) == 0 {
		detail = nil
	}
	ch.audit(AuditEntry{Action: action, OrderID: h.OrderID, From: string(from), To: string(h.State), Detail: detail})
}

func (ch *draft) done() Change { return ch.Change }

// PlaceOrder applies the policy to a new order of this customer, received
// by the gate at now.
//
//   - The product needs no KYC (P1): recorded as not_required; nothing is held.
//   - The customer held a valid verification when ordering: provision at once,
//     no hold, no extension.
//   - The customer was verified after ordering (the order arrived late): the
//     verification is applied as an approval of this order.
//   - Otherwise: hold the order for 3 days after the customer is asked, which
//     is now (an order reported late gets its 3 days from its arrival), and
//     ask for KYC (P5); a customer whose documents already wait for review is
//     told so instead of being asked again.
func (c Customer) PlaceOrder(o Order, requiresKYC bool, now time.Time) (Change, error) {
	if err := c.validOrder(o, now); err != nil {
		return Change{}, err
	}
	ch := c.begin(ByBilling, now)
	h := Hold{Order: o, ReceivedAt: now, OriginalDueDate: o.NextDueDate, UpdatedAt: now}
	switch {
	case !requiresKYC:
		ch.apply("", transition{hold: h.to(NotRequired, now)}, "order.not_required")
	case c.verifiedAt(o.OrderedAt):
		h.ProvisionedAt = now
		ch.apply("", transition{h.to(Provisioned, now), []Event{provisionEvent(h, now)}}, "order.provisioned")
	case c.verifiedAt(now) && c.VerifiedAt.After(o.OrderedAt): // verified after the order was placed
		h.State, h.Deadline = AwaitingKYC, deadlineFor(o.OrderedAt, now)
		ch.apply("", h.approve(c.VerifiedAt, c.VerifiedSubmittedAt), "order.verified_late_intake")
	default:
		if len(c.Holds) >= MaxOpenHolds {
			return Change{}, Conflict("too_many_open_orders", "customer has %d orders awaiting KYC", len(c.Holds))
		}
		h.State, h.Deadline = AwaitingKYC, deadlineFor(o.OrderedAt, now)
		req := Event{Type: KycRequested, ID: o.OrderID + ":kyc-requested", At: now, CustomerID: c.ID,
			OrderID: o.OrderID, ServiceID: o.ServiceID, ProductID: o.ProductID,
			Deadline: ptr(h.Deadline), TimeZone: o.TimeZone, Reviewing: c.Pending != nil, Language: c.Language}
		ch.apply("", transition{h, []Event{req}}, "order.held")
	}
	return ch.done(), nil
}

// Bounds of an order's times (see validOrder).
var (
	earliestOrder = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latestDueDate = NewDate(9000, 12, 31)
)

func (c Customer) validOrder(o Order, now time.Time) error {
	for _, f := range []struct{ name, v string }{
		{"orderId", o.OrderID}, {"serviceId", o.ServiceID}, {"customerId", o.CustomerID}, {"productId", o.ProductID},
	} {
		if !ValidID(f.v) {
			return Invalid("invalid_"+f.name, "%s must be 1-128 letters, digits or . _ : -", f.name)
		}
	}
	switch {
	case o.CustomerID != c.ID:
		return Invalid("invalid_customerId", "order is for another customer")
	case o.ServerRegion == "" || len(o.ServerRegion) > 64:
		return Invalid("invalid_serverRegion", "serverRegion is required (the server's location)")
	case o.OrderedAt.IsZero():
		return Invalid("invalid_orderedAt", "orderedAt is required")
	case o.OrderedAt.After(now.Add(OrderClockSkew)):
		return Invalid("order_in_future", "orderedAt is in the future")
	// Times the records can hold and read back (JSON times and dates have
	// 4-digit years), with room for extensions (FuzzBillingEvent).
	case o.OrderedAt.Before(earliestOrder):
		return Invalid("invalid_orderedAt", "orderedAt is before %d", earliestOrder.Year())
	case latestDueDate.Before(o.NextDueDate):
		return Invalid("invalid_nextDueDate", "nextDueDate is after %s", latestDueDate)
	}
	if _, open := c.Hold(o.OrderID); open {
		return Conflict("duplicate_order", "order %s is already held", o.OrderID)
	}
	return nil
}

// Submit records a complete submission (one identity and one address
// document, checked by the caller) made at now. A verified customer may
// submit again from the expiry reminder on (ReminderBefore the expiry); the
// verification stays valid while the new submission is reviewed.
func (c Customer) Submit(submissionID string, by Actor, now time.Time) (Change, error) {
	switch {
	case c.verifiedAt(now) && now.Before(c.ReverifyFrom()):
		return Change{}, Conflict("already_verified", "the account is verified until %s; a new verification can be sent from %s",
			c.ExpiresAt.UTC().Format(time.DateOnly), c.ReverifyFrom().UTC().Format(time.DateOnly))
	case c.Pending != nil:
		return Change{}, Conflict("submission_pending", "a submission is already waiting for review")
	}
	ch := c.begin(by, now)
	ch.Customer.Pending = &PendingSubmission{ID: submissionID, SubmittedAt: now}
	if !c.verifiedAt(now) {
		ch.Customer.Status = StatusPendingReview
	}
	ch.audit(AuditEntry{Action: "submission.created", SubmissionID: submissionID, From: string(c.StatusAt(now)), To: string(ch.Customer.StatusAt(now))})
	return ch.done(), nil
}

// ReverifyFrom is when a verified customer may send a new verification: from
// the expiry reminder on (zero for a customer never verified).
func (c Customer) ReverifyFrom() time.Time {
	if c.ExpiresAt.IsZero() {
		return time.Time{}
	}
	return c.ExpiresAt.Add(-ReminderBefore)
}

// Decide applies a reviewer's decided submission s, committed at now (the
// approval time of the policy).
//
// Approved: the customer is verified for 2 years from now (P2; a
// re-verification starts a new 2 years) and every open hold is released by
// its own order time: provision and extension when on time (P6), provision
// or unsuspend without extension when late (P7).
//
// Rejected: the customer may resubmit. The 3-day clock stopped while the
// submission waited: holds it was timely for go back to awaiting_kyc with
// the time that was left, and the notice says until when. A customer still
// verified (a re-verification was rejected) stays verified until expiry.
func (c Customer) Decide(s Submission, by Actor, now time.Time) (Change, error) {
	if c.Pending == nil || c.Pending.ID != s.ID {
		return Change{}, Conflict("not_pending", "submission %s is not the customer's pending submission", s.ID)
	}
	submittedAt := c.Pending.SubmittedAt
	ch := c.begin(by, now)
	cu := &ch.Customer
	cu.Pending = nil
	if s.Status == SubApproved {
		cu.Status, cu.VerifiedAt, cu.ExpiresAt, cu.VerifiedSubmittedAt = StatusVerified, now, VerificationExpiry(now), submittedAt
		ch.Events = append(ch.Events, Event{Type: KycVerified, ID: s.ID + ":verified", At: now, CustomerID: c.ID,
			SubmissionID: s.ID, VerifiedAt: ptr(now), ExpiresAt: ptr(cu.ExpiresAt), Language: c.Language})
		ch.audit(AuditEntry{Action: "customer.verified", SubmissionID: s.ID, From: string(c.Status), To: string(StatusVerified),
			Detail: map[string]string{"expiresAt": cu.ExpiresAt.Format(time.RFC3339)}})
		for _, h := range c.Holds {
			ch.apply(h.State, h.approve(now, submittedAt), "hold.approved")
		}
		return ch.done(), nil
	}
	if !c.verifiedAt(now) {
		cu.Status = StatusRejected
	}
	ch.audit(AuditEntry{Action: "customer.rejected", SubmissionID: s.ID, From: string(c.Status), To: string(cu.Status)})
	for _, h := range c.Holds {
		if t, ok := h.reject(now, submittedAt); ok {
			ch.apply(h.State, t, "hold.rejected")
		}
	}
	rejected := Event{Type: KycRejected, ID: s.ID + ":rejected", At: now, CustomerID: c.ID,
		SubmissionID: s.ID, Reasons: s.Reasons(), Documents: verdicts(s), SealedMessage: s.Message, Language: c.Language}
	if h, ok := cu.nextDeadline(); ok {
		rejected.Deadline, rejected.TimeZone = ptr(h.Deadline), h.TimeZone
	}
	ch.Events = append(ch.Events, rejected)
	return ch.done(), nil
}

// nextDeadline returns the awaiting_kyc hold whose deadline comes first.
func (c Customer) nextDeadline() (Hold, bool) {
	var first Hold
	found := false
	for _, h := range c.Holds {
		if h.State == AwaitingKYC && (!found || h.Deadline.Before(first.Deadline)) {
			first, found = h, true
		}
	}
	return first, found
}

func verdicts(s Submission) []DocVerdict {
	var out []DocVerdict
	for _, d := range []struct {
		cat Category
		dd  *DocDecision
	}{{Identity, s.Identity}, {Address, s.Address}} {
		if d.dd != nil {
			out = append(out, DocVerdict{Category: d.cat, Result: d.dd.Result, Reasons: d.dd.Reasons})
		}
	}
	return out
}

// Sweep applies every rule that time triggers, with now the sweep's scheduled
// time: the 3-day rule to awaiting_kyc holds whose deadline has passed (P7),
// the expiry reminder 30 days before a verification expires, and the expiry
// itself (P2). (A suspended hold ends only when billing says its service
// ended: billing owns the service's dates.) It reports whether anything changed; a second sweep at the same
// time changes nothing.
func (c Customer) Sweep(now time.Time) (Change, bool) {
	ch := c.begin(BySweep, now)
	for _, h := range c.Holds {
		if t, ok := h.atDeadline(now, c.Pending); ok {
			ch.apply(h.State, t, "hold.deadline")
		}
	}
	cu := &ch.Customer
	if c.Status == StatusVerified && !c.ExpiresAt.IsZero() {
		switch {
		case !now.Before(c.ExpiresAt) && !c.ExpiresAt.Equal(c.ExpiredFor):
			cu.Status, cu.ExpiredFor = StatusExpired, c.ExpiresAt
			ch.Events = append(ch.Events, Event{Type: KycExpired, ID: c.ID + ":expired:" + c.ExpiresAt.UTC().Format(time.RFC3339),
				At: now, CustomerID: c.ID, VerifiedAt: ptr(c.VerifiedAt), ExpiresAt: ptr(c.ExpiresAt), Language: c.Language})
			ch.audit(AuditEntry{Action: "customer.expired", From: string(StatusVerified), To: string(StatusExpired)})
		case !now.Before(c.ExpiresAt.Add(-ReminderBefore)) && now.Before(c.ExpiresAt) && !c.ExpiresAt.Equal(c.RemindedFor):
			cu.RemindedFor = c.ExpiresAt
			ch.Events = append(ch.Events, Event{Type: KycExpiring, ID: c.ID + ":expiring:" + c.ExpiresAt.UTC().Format(time.RFC3339),
				At: now, CustomerID: c.ID, VerifiedAt: ptr(c.VerifiedAt), ExpiresAt: ptr(c.ExpiresAt), Language: c.Language})
			ch.audit(AuditEntry{Action: "customer.expiring", Detail: map[string]string{"expiresAt": c.ExpiresAt.Format(time.RFC3339)}})
		}
	}
	out := ch.done()
	return out, !out.Empty()
}

// DueAt is the earliest time at which a sweep has something to do for this
// customer, zero if nothing is scheduled: just after the earliest deadline of
// an awaiting_kyc hold (approval at the deadline itself is still on time), the
// expiry reminder, or the expiry.
func (c Customer) DueAt() time.Time {
	var due time.Time
	earliest := func(t time.Time) {
		if due.IsZero() || t.Before(due) {
			due = t
		}
	}
	for _, h := range c.Holds {
		if h.State == AwaitingKYC {
			earliest(h.Deadline.Add(time.Nanosecond))
		}
	}
	if c.Status == StatusVerified && !c.ExpiresAt.IsZero() {
		if !c.ExpiresAt.Equal(c.RemindedFor) {
			earliest(c.ExpiresAt.Add(-ReminderBefore))
		}
		if !c.ExpiresAt.Equal(c.ExpiredFor) {
			earliest(c.ExpiresAt)
		}
	}
	return due
}

// CancelOrder ends the open hold of an order billing cancelled: awaiting_*
// or suspended_kyc → cancelled. A suspended service keeps rendered; nothing
// more is sent to billing.
func (c Customer) CancelOrder(orderID string, now time.Time) (Change, error) {
	h, ok := c.Hold(orderID)
	if !ok {
		return Change{}, NotFound("order_not_held", "order %s has no open hold", orderID)
	}
	ch := c.begin(ByBilling, now)
	ch.apply(h.State, h.cancel(now), "hold.cancelled")
	return ch.done(), nil
}

// ServiceExpired ends the open hold of an order whose service billing says
// has ended.
func (c Customer) ServiceExpired(orderID string, now time.Time) (Change, error) {
	h, ok := c.Hold(orderID)
	if !ok {
		return Change{}, NotFound("order_not_held", "order %s has no open hold", orderID)
	}
	ch := c.begin(ByBilling, now)
	ch.apply(h.State, h.serviceExpired(now), "hold.service_expired")
	return ch.done(), nil
}
