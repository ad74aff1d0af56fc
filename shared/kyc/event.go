package kyc

import "time"

// Event is something this system tells the world, published on the bus with
// source "kyc" and detail-type Type. The JSON of Event is the event's detail
// (it repeats the type, so a stored event, in the outbox, keeps it).
//
// ID is deterministic (for example "<orderId>:provision"): publishing an event
// twice yields two deliveries with one ID, and consumers apply it once. After
// names the event that must be applied before this one (a suspend after its
// provision), so a consumer never acts out of order.
type Event struct {
	Type EventType `json:"type"`

	ID         string    `json:"eventId"`
	At         time.Time `json:"at"`
	CustomerID string    `json:"customerId"`
	After      string    `json:"after,omitempty"`

	// Service events.
	OrderID   string `json:"orderId,omitempty"`
	ServiceID string `json:"serviceId,omitempty"`
	ProductID string `json:"productId,omitempty"`
	Reason    string `json:"reason,omitempty"`   // suspend reason
	Rendered  bool   `json:"rendered,omitempty"` // P8: a KYC suspension counts as a rendered service
	// ServiceDueDateExtended: the extension (whole days to add, once, to the
	// due date billing holds when it applies them; and the exact time taken)
	// and the due date the gate knew when it decided (billing's at the order).
	// Billing owns the date: a renewal since the order has moved it, so the
	// command carries no absolute new date.
	PreviousDueDate *Date      `json:"previousDueDate,omitempty"`
	Extension       *Extension `json:"extension,omitempty"`
	// ServerRegion is where the service runs (a staff ticket about setting
	// it up by hand names it).
	ServerRegion string `json:"serverRegion,omitempty"`

	// Customer events.
	// Deadline: KycRequested, when the 3 days end; KycRejected, when the
	// time given back for the customer's earliest waiting order ends.
	Deadline *time.Time `json:"deadline,omitempty"`
	// TimeZone is the IANA time zone of the order's server region, in which
	// the notice shows Deadline (with UTC beside it).
	TimeZone string `json:"timeZone,omitempty"`
	// Reviewing: KycRequested for a customer whose documents are already
	// waiting for review (the notice says so instead of asking again).
	Reviewing       bool         `json:"reviewing,omitempty"`
	SubmissionID    string       `json:"submissionId,omitempty"`
	Reasons         []ReasonCode `json:"reasons,omitempty"`         // KycRejected
	Documents       []DocVerdict `json:"documents,omitempty"`       // KycRejected: per document
	CustomerMessage string       `json:"customerMessage,omitempty"` // KycRejected: SealedMessage opened (never published by the gate)
	VerifiedAt      *time.Time   `json:"verifiedAt,omitempty"`
	ExpiresAt       *time.Time   `json:"expiresAt,omitempty"`
	Language        string       `json:"language,omitempty"`

	// SealedMessage is KycRejected's message from the reviewer, sealed with
	// the customer's key as it is stored (a reviewer may write personal data
	// into it): the notifier opens it to send. Events published before
	// messages were sealed carry CustomerMessage in clear instead.
	SealedMessage *Sealed `json:"sealedMessage,omitempty"`
}

// DocVerdict is one document's decision as told to the customer.
type DocVerdict struct {
	Category Category     `json:"category"`
	Type     DocType      `json:"type"`
	Result   DocResult    `json:"result"`
	Reasons  []ReasonCode `json:"reasons,omitempty"`
}

// SuspendReasonKYC is the reason given to billing for a KYC suspension.
const SuspendReasonKYC = "KYC verification not completed within 3 days of ordering"

func ptr[T any](v T) *T { return &v }

func serviceEvent(t EventType, h Hold, kind string, at time.Time) Event {
	return Event{
		Type: t, ID: h.OrderID + ":" + kind, At: at, CustomerID: h.CustomerID,
		OrderID: h.OrderID, ServiceID: h.ServiceID, ProductID: h.ProductID, ServerRegion: h.ServerRegion,
	}
}

func provisionEvent(h Hold, at time.Time) Event {
	return serviceEvent(ServiceProvisionRequested, h, "provision", at)
}

func suspendEvent(h Hold, at time.Time) Event {
	e := serviceEvent(ServiceSuspendRequested, h, "suspend", at)
	e.After, e.Reason, e.Rendered = h.OrderID+":provision", SuspendReasonKYC, true
	return e
}

func unsuspendEvent(h Hold, at time.Time) Event {
	e := serviceEvent(ServiceUnsuspendRequested, h, "unsuspend", at)
	e.After = h.OrderID + ":suspend"
	return e
}

func extendEvent(h Hold, base Date, ext Extension, at time.Time) Event {
	e := serviceEvent(ServiceDueDateExtended, h, "extend", at)
	e.After, e.PreviousDueDate, e.Extension = h.OrderID+":provision", &base, &ext
	return e
}
