package kyc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// BillingEvent is the detail of an event from the billing system (source
// "billing"): OrderPlaced carries every field; OrderCancelled and
// ServiceExpired need orderId only.
type BillingEvent struct {
	OrderID    string    `json:"orderId"`
	ServiceID  string    `json:"serviceId,omitempty"`
	CustomerID string    `json:"customerId,omitempty"`
	ProductID  string    `json:"productId,omitempty"`
	OrderedAt  time.Time `json:"orderedAt,omitzero"`
	// NextDueDate is optional: one-time and free products have none, and
	// then nothing is extended.
	NextDueDate  Date   `json:"nextDueDate,omitzero"`
	ServerRegion string `json:"serverRegion,omitempty"`
	// Business says the account is a business (WHMCS: it has a company
	// name); absent leaves what an earlier order said.
	Business *bool `json:"business,omitempty"`
	// Email and Language are optional: where and in which language the
	// customer is told about KYC. The address is sealed before it is stored.
	Email    string `json:"email,omitempty"`
	Language string `json:"language,omitempty"`
}

// DecodeBillingEvent reads a billing event's detail strictly: a field that
// is not one of BillingEvent's, a wrong JSON type, or data after the object
// is refused (invalid, malformed_detail), so a billing system sending
// something the gate does not understand is told, not half-understood.
func DecodeBillingEvent(detail []byte) (BillingEvent, error) {
	return decodeDetail[BillingEvent](detail, "a billing event")
}

// decodeDetail reads an event's detail strictly into a T: an unknown field, a
// wrong JSON type or data after the object is refused (invalid,
// malformed_detail) without repeating the input.
func decodeDetail[T any](detail []byte, what string) (T, error) {
	var e T
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.DisallowUnknownFields()
	err := dec.Decode(&e)
	if err == nil && dec.More() {
		err = errors.New("data after the object")
	}
	if err != nil {
		var zero T
		return zero, Invalid("malformed_detail", "detail is not %s: %s", what, decodeProblem(err))
	}
	return e, nil
}

// decodeProblem says what is wrong with a detail without repeating more of
// the input than a field name's first 40 bytes.
func decodeProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", clip(typ.Field, 40), typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + clip(strings.TrimPrefix(err.Error(), "json: unknown field "), 42)
	}
	var de *Error
	var te *time.ParseError
	switch {
	case errors.As(err, &de): // a date that does not parse
		return clip(de.Message, 80)
	case errors.As(err, &te):
		return "a time is not in RFC 3339 form"
	}
	return "cannot be decoded"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Languages the customer messages exist in.
const (
	LangEnglish = "en"
	LangChinese = "zh-Hant"
)

// IntakeResult is what became of a billing event.
type IntakeResult struct {
	OrderID string    `json:"orderId"`
	State   HoldState `json:"state"`
	// Duplicate is true when the event changed nothing: it had been applied
	// before, or (a closing event) the hold had already ended.
	Duplicate bool `json:"duplicate,omitempty"`
}

// PlaceOrder applies an OrderPlaced event. A redelivered event changes nothing
// and reports the order's current state. A product that is not in the
// catalogue and a server region that is not configured are refused.
func (s *Intake) PlaceOrder(ctx context.Context, e BillingEvent) (IntakeResult, error) {
	o := Order{OrderID: e.OrderID, ServiceID: e.ServiceID, CustomerID: e.CustomerID, ProductID: e.ProductID,
		ServerRegion: e.ServerRegion, OrderedAt: e.OrderedAt.UTC(), NextDueDate: e.NextDueDate}
	if !ValidID(o.CustomerID) {
		return IntakeResult{}, Invalid("invalid_customerId", "customerId must be 1-128 letters, digits or . _ : -")
	}
	if ValidID(o.ProductID) && !s.cfg.Products.Known(o.ProductID) {
		return IntakeResult{}, Invalid("unknown_productId", "productId is not in the gate's product catalogue (products that require KYC and those that do not)")
	}
	if o.ServerRegion != "" && len(o.ServerRegion) <= 64 { // a missing or overlong one: validOrder
		loc, ok := s.cfg.Regions[o.ServerRegion]
		if !ok {
			return IntakeResult{}, Invalid("unknown_serverRegion", "serverRegion must be one of the configured regions %v", s.cfg.Regions.IDs())
		}
		o.TimeZone = loc.String()
	}
	if e.Language != "" && e.Language != LangEnglish && e.Language != LangChinese {
		return IntakeResult{}, Invalid("invalid_language", "language must be %q or %q", LangEnglish, LangChinese)
	}
	var contact *Sealed
	if e.Email != "" {
		if a, err := mail.ParseAddress(e.Email); err != nil || a.Address != e.Email || len(e.Email) > 254 {
			return IntakeResult{}, Invalid("invalid_email", "email is not a plain e-mail address")
		}
	}
	var res IntakeResult
	err := retry(ctx, func() error {
		if r, done, err := s.alreadyPlaced(ctx, o); done || err != nil {
			res = r
			return err
		}
		c, err := s.customer(ctx, o.CustomerID)
		if err != nil {
			return err
		}
		ch, err := c.PlaceOrder(o, s.cfg.Products.RequiresKYC(o.ProductID), s.now())
		if err != nil {
			return err
		}
		if e.Language != "" {
			ch.Customer.Language = e.Language
		}
		if e.Business != nil {
			ch.Customer.Business = *e.Business
		}
		if e.Email != "" {
			if contact == nil { // sealed once, outside the retries
				sealed, err := s.sealer.Seal(ctx, o.CustomerID, []byte(e.Email))
				if err != nil {
					return fmt.Errorf("seal contact: %w", err)
				}
				contact = &sealed
			}
			ch.Customer.Contact = contact
		}
		if err := s.commit(ctx, Work{NewOrder: o.OrderID}, ch, s.now()); err != nil {
			return fmt.Errorf("place order %s: %w", o.OrderID, err)
		}
		res = IntakeResult{OrderID: o.OrderID, State: stateOf(ch, o.OrderID)}
		return nil
	})
	return res, err
}

// alreadyPlaced reports the current state of an order that was placed before.
func (s *Intake) alreadyPlaced(ctx context.Context, o Order) (IntakeResult, bool, error) {
	owner, err := s.store.OrderOwner(ctx, o.OrderID)
	if errors.Is(err, ErrNotExist) {
		return IntakeResult{}, false, nil
	}
	if err != nil {
		return IntakeResult{}, false, fmt.Errorf("order owner: %w", err)
	}
	if owner != o.CustomerID {
		return IntakeResult{}, true, Conflict("order_exists", "order %s belongs to another customer", o.OrderID)
	}
	h, err := s.hold(ctx, owner, o.OrderID)
	if err != nil {
		return IntakeResult{}, true, err
	}
	return IntakeResult{OrderID: o.OrderID, State: h.State, Duplicate: true}, true, nil
}

func stateOf(ch Change, orderID string) HoldState {
	if h, ok := ch.Customer.Hold(orderID); ok {
		return h.State
	}
	for _, h := range ch.Closed {
		if h.OrderID == orderID {
			return h.State
		}
	}
	return ""
}

// hold returns an order's hold, open or closed.
func (s *core) hold(ctx context.Context, customerID, orderID string) (Hold, error) {
	c, err := s.customer(ctx, customerID)
	if err != nil {
		return Hold{}, err
	}
	if h, ok := c.Hold(orderID); ok {
		return h, nil
	}
	h, err := s.store.ClosedHold(ctx, customerID, orderID)
	if errors.Is(err, ErrNotExist) {
		return Hold{}, NotFound("order_not_found", "no order %s", orderID)
	}
	return h, err
}

// CancelOrder applies an OrderCancelled event.
func (s *Intake) CancelOrder(ctx context.Context, orderID string) (IntakeResult, error) {
	return s.endOrder(ctx, orderID, Customer.CancelOrder)
}

// ServiceExpired applies a ServiceExpired event.
func (s *Intake) ServiceExpired(ctx context.Context, orderID string) (IntakeResult, error) {
	return s.endOrder(ctx, orderID, Customer.ServiceExpired)
}

// endOrder ends an order's open hold by billing's word. A closing event for a
// hold that is already closed (applied before, or the hold ended otherwise)
// changes nothing and reports the hold's state: billing terminates and
// cancels services as a matter of course, and must not see an error for it.
func (s *Intake) endOrder(ctx context.Context, orderID string,
	rule func(Customer, string, time.Time) (Change, error)) (IntakeResult, error) {
	if !ValidID(orderID) {
		return IntakeResult{}, Invalid("invalid_orderId", "orderId must be 1-128 letters, digits or . _ : -")
	}
	var res IntakeResult
	err := retry(ctx, func() error {
		owner, err := s.store.OrderOwner(ctx, orderID)
		if errors.Is(err, ErrNotExist) {
			return NotFound("order_not_found", "no order %s", orderID)
		}
		if err != nil {
			return fmt.Errorf("order owner: %w", err)
		}
		c, err := s.customer(ctx, owner)
		if err != nil {
			return err
		}
		if _, open := c.Hold(orderID); !open {
			h, err := s.hold(ctx, owner, orderID)
			if err != nil {
				return err
			}
			res = IntakeResult{OrderID: orderID, State: h.State, Duplicate: true}
			return nil
		}
		ch, err := rule(c, orderID, s.now())
		if err != nil {
			return err
		}
		if err := s.commit(ctx, Work{}, ch, s.now()); err != nil {
			return fmt.Errorf("end order %s: %w", orderID, err)
		}
		res = IntakeResult{OrderID: orderID, State: stateOf(ch, orderID)}
		return nil
	})
	return res, err
}

// ApplyBillingEvent applies one billing event by its type.
func (s *Intake) ApplyBillingEvent(ctx context.Context, t EventType, e BillingEvent) (IntakeResult, error) {
	switch t {
	case OrderPlaced:
		return s.PlaceOrder(ctx, e)
	case OrderCancelled:
		return s.CancelOrder(ctx, e.OrderID)
	case ServiceExpired:
		return s.ServiceExpired(ctx, e.OrderID)
	case StaffAction:
		return IntakeResult{}, Invalid("malformed_detail", "a StaffAction's detail is a StaffActionEvent (DecodeStaffAction, RecordStaffAction)")
	}
	return IntakeResult{}, errUnknownEventType
}

// errUnknownEventType refuses an event type the intake does not take.
var errUnknownEventType = Invalid("unknown_event_type", "type must be OrderPlaced, OrderCancelled, ServiceExpired or StaffAction")
