package kyc

import (
	"time"
)

// The numbers of the provider's policy.
const (
	// Window is the time a customer has after ordering to pass KYC (P6, P7):
	// "within 3 days of ordering". Approval at exactly orderedAt+72h is on time.
	Window = 72 * time.Hour

	// ValidityYears is how long a verification is good for (P2).
	ValidityYears = 2

	// ReminderBefore is when KycExpiring is sent, before a verification expires (P2).
	ReminderBefore = 30 * 24 * time.Hour

	// OrderClockSkew is how far in the future an order time may be (billing's
	// clock against ours) before the order is refused as invalid.
	OrderClockSkew = 5 * time.Minute

	// MaxOpenHolds bounds the open holds of one customer, so that one approval
	// can release all of them in a single DynamoDB transaction of at most 100
	// items: the customer, the submission, its two documents, the outbox and
	// the decision's two audit entries, then per hold its closed record and
	// its audit entry (7 + 2×46 = 99).
	MaxOpenHolds = 46
)

// VerificationExpiry returns when a verification made at t expires: the same
// calendar date and time ValidityYears later. A verification made on 29
// February expires on 28 February: the period ends on the last day of the
// month rather than spilling into March, so it is never longer than two years.
func VerificationExpiry(t time.Time) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	e := time.Date(y+ValidityYears, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if e.Month() != m { // 29 February in a year that has none
		e = time.Date(y+ValidityYears, m+1, 0, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return e
}

// Extension is how much a service's next due date moves when the customer
// passed KYC in time (P6): the exact time taken, and that time rounded up to
// whole days for billing systems that keep dates only.
type Extension struct {
	Exact time.Duration `json:"exact"` // nanoseconds
	Days  int           `json:"days"`
}

// ExtensionFor returns the extension for an order placed at orderedAt and
// verified at approvedAt: approvedAt − orderedAt, rounded up to whole days.
// It is never negative.
func ExtensionFor(orderedAt, approvedAt time.Time) Extension {
	d := approvedAt.Sub(orderedAt)
	if d <= 0 {
		return Extension{}
	}
	days := int(d / (24 * time.Hour))
	if d%(24*time.Hour) != 0 {
		days++
	}
	return Extension{Exact: d, Days: days}
}

// HoldState is where an order stands with respect to KYC (docs/policy.md, "States").
type HoldState string

const (
	AwaitingKYC         HoldState = "awaiting_kyc"         // ordered; waiting for the customer, 3 days at most
	AwaitingReview      HoldState = "awaiting_review"      // deadline passed with a timely submission still under review
	SuspendedKYC        HoldState = "suspended_kyc"        // provisioned and suspended: no timely KYC; counts as rendered
	ProvisionedExtended HoldState = "provisioned_extended" // passed in time: provisioned, due date extended by the time taken
	Released            HoldState = "released"             // passed late: provisioned (or unsuspended), no extension
	Expired             HoldState = "expired"              // billing says the service ended while held
	Cancelled           HoldState = "cancelled"            // billing cancelled the order while held
	NotRequired         HoldState = "not_required"         // the product needs no KYC; never held
	Provisioned         HoldState = "provisioned"          // provisioned with nothing to extend: the customer was already verified (never held), or passed in time with no due date or no time taken
)

// Open reports whether a hold in state s may still change.
func (s HoldState) Open() bool {
	return s == AwaitingKYC || s == AwaitingReview || s == SuspendedKYC
}

// Order is an order as billing reports it.
type Order struct {
	OrderID      string `json:"orderId"`
	ServiceID    string `json:"serviceId"`
	CustomerID   string `json:"customerId"`
	ProductID    string `json:"productId"`
	ServerRegion string `json:"serverRegion"`
	// OrderedAt is billing's time of the order; an extension is counted from it.
	OrderedAt time.Time `json:"orderedAt"`
	// NextDueDate is the service's next due date in billing when the order
	// was reported; zero for one-time and free products, which have none
	// (then nothing is ever extended).
	NextDueDate Date `json:"nextDueDate,omitzero"`
	// TimeZone is the IANA name of the server region's time zone (from the
	// configured Regions): customer-facing times are shown in it.
	TimeZone string `json:"timeZone,omitempty"`
}

// Hold is an order's KYC state. Open holds live in their customer's record;
// a hold that reaches a terminal state is kept as its own record.
type Hold struct {
	Order
	State HoldState `json:"state"`
	// ReceivedAt is when the gate received the order: the customer was
	// asked then (KycRequested), so the 3 days cannot end before
	// ReceivedAt + 72h. Zero for holds recorded before it was kept.
	ReceivedAt time.Time `json:"receivedAt,omitzero"`
	Deadline   time.Time `json:"deadline,omitzero"`
	// NextDueDate (in Order) is the due date as the gate knows it: as
	// reported with the order, plus the extension the gate sent. Billing owns
	// the date and adds the days to whatever it holds when it applies them.
	OriginalDueDate Date       `json:"originalDueDate,omitzero"`
	Rendered        bool       `json:"rendered"`
	Extension       *Extension `json:"extension,omitempty"`
	ProvisionedAt   time.Time  `json:"provisionedAt,omitzero"`
	SuspendedAt     time.Time  `json:"suspendedAt,omitzero"`
	ClosedAt        time.Time  `json:"closedAt,omitzero"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

// deadlineFor returns the end of the 3 days of an order placed at orderedAt
// that reached the gate at receivedAt. The customer always gets 3 days after
// being asked: an order billing reports late (after payment, or when staff
// accept it) gets them from its arrival, not from a time already past.
func deadlineFor(orderedAt, receivedAt time.Time) time.Time {
	if receivedAt.After(orderedAt) {
		return receivedAt.Add(Window)
	}
	return orderedAt.Add(Window)
}

// transition is the result of applying a rule to a hold: the new hold and
// what billing must be told.
type transition struct {
	hold   Hold
	events []Event
}

func (h Hold) to(s HoldState, at time.Time) Hold {
	h.State, h.UpdatedAt = s, at
	if !s.Open() {
		h.ClosedAt = at
	}
	return h
}

// onTime reports whether an approval of a submission made at submittedAt
// counts as passing KYC within 3 days of ordering. "Timely response" means a
// complete submission: one made by the deadline counts even when a reviewer
// approves it later, since a reviewer backlog must never punish a customer who
// answered in time. (An approval by the deadline is always of a submission
// made by the deadline, so P6's plain case is included.)
func (h Hold) onTime(submittedAt time.Time) bool {
	return !submittedAt.After(h.Deadline)
}

// approve applies the customer's verification, committed at approvedAt for a
// submission made at submittedAt, to an open hold.
//
//   - Passed in time, not yet provisioned: provision, then extend the due date
//     by the time taken since the order (P6) → provisioned_extended. With
//     nothing to extend (no due date: a one-time or free product; or no time
//     taken: billing's clock ahead of ours) no extension is sent →
//     provisioned.
//   - Passed late, never suspended (the sweep had not reached the hold):
//     provision, no extension, no pointless suspend/unsuspend → released.
//   - Suspended: unsuspend, no extension (P7) → released.
func (h Hold) approve(approvedAt, submittedAt time.Time) transition {
	var events []Event
	if h.State == SuspendedKYC {
		events = append(events, unsuspendEvent(h, approvedAt))
	} else {
		events = append(events, provisionEvent(h, approvedAt))
		h.ProvisionedAt = approvedAt
	}
	if !h.onTime(submittedAt) {
		return transition{h.to(Released, approvedAt), events}
	}
	// On time. A suspended hold gets here only when a sweep ran with a clock
	// ahead of the approval's; the suspension is undone and the extension given.
	ext := ExtensionFor(h.OrderedAt, approvedAt)
	if ext.Days == 0 || h.NextDueDate.IsZero() {
		return transition{h.to(Provisioned, approvedAt), events}
	}
	base := h.NextDueDate
	h.NextDueDate, h.Extension = base.AddDays(ext.Days), &ext
	events = append(events, extendEvent(h, base, ext, approvedAt))
	return transition{h.to(ProvisionedExtended, approvedAt), events}
}

// suspend provisions the service and suspends it right away (P7). The
// suspended service counts as rendered (P8).
func (h Hold) suspend(at time.Time) transition {
	h.Rendered, h.ProvisionedAt, h.SuspendedAt = true, at, at
	return transition{h.to(SuspendedKYC, at), []Event{provisionEvent(h, at), suspendEvent(h, at)}}
}

// atDeadline applies the 3-day rule to an awaiting_kyc hold whose deadline has
// passed at now. pending is the customer's submission under review, if any.
//
//   - A complete submission made by the deadline is still under review: wait
//     for the reviewer → awaiting_review.
//   - Otherwise: provision and suspend right away → suspended_kyc (P7).
func (h Hold) atDeadline(now time.Time, pending *PendingSubmission) (transition, bool) {
	if h.State != AwaitingKYC || !now.After(h.Deadline) {
		return transition{hold: h}, false
	}
	if pending != nil && !pending.SubmittedAt.After(h.Deadline) {
		return transition{hold: h.to(AwaitingReview, now)}, true
	}
	return h.suspend(now), true
}

// reject applies the rejection, decided at rejectedAt, of a submission made
// at submittedAt. The 3-day clock stops while a timely submission waits for
// review: a hold waiting for that review (awaiting_review, or awaiting_kyc
// with the submission made by its deadline) goes back to awaiting_kyc with
// the time that was left when the customer submitted, counted from the
// decision (newDeadline = rejectedAt + (deadline − submittedAt), at most the
// 3 days, never earlier than before). A slow review never costs the
// customer; the sweep suspends only when that time runs out. A hold whose
// submission came late is left to the sweep.
func (h Hold) reject(rejectedAt, submittedAt time.Time) (transition, bool) {
	timely := h.State == AwaitingReview || (h.State == AwaitingKYC && !submittedAt.After(h.Deadline))
	if !timely {
		return transition{hold: h}, false
	}
	left := min(h.Deadline.Sub(submittedAt), Window)
	if d := rejectedAt.Add(max(left, 0)); d.After(h.Deadline) {
		h.Deadline = d
	}
	return transition{hold: h.to(AwaitingKYC, rejectedAt)}, true
}

// cancel ends an open hold whose order billing cancelled: nothing is created
// (awaiting_*), or a suspended service stays as it is and keeps rendered
// (suspended_kyc); no further command is sent.
func (h Hold) cancel(at time.Time) transition {
	return transition{hold: h.to(Cancelled, at)}
}

// serviceExpired ends an open hold whose service billing says has ended: a
// suspended service stays suspended until it expires (P7), and a service that
// ended before it was provisioned needs nothing more. This is the only way a
// hold expires: billing owns the service's dates, so a due date the gate
// remembers passing proves nothing (billing may have renewed the service).
func (h Hold) serviceExpired(at time.Time) transition {
	return transition{hold: h.to(Expired, at)}
}
