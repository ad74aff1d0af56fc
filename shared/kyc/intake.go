package kyc

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"
)

// BillingEvent is the detail of an event from the billing system (source
// "billing"): OrderPlaced carries every field; OrderCancelled and
// ServiceExpired need orderId only.
type BillingEvent struct {
	OrderID      string    `json:"orderId"`
	ServiceID    string    `json:"serviceId,omitempty"`
	CustomerID   string    `json:"customerId,omitempty"`
	ProductID    string    `json:"productId,omitempty"`
	OrderedAt    time.Time `json:"orderedAt,omitzero"`
	NextDueDate  Date      `json:"nextDueDate,omitzero"`
	ServerRegion string    `json:"serverRegion,omitempty"`
	// Email and Language are optional: where and in which language the
	// customer is told about KYC. The address is sealed before it is stored.
	Email    string `json:"email,omitempty"`
	Language string `json:"language,omitempty"`
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
	// Duplicate is true when the event had already been applied.
	Duplicate bool `json:"duplicate,omitempty"`
}

// PlaceOrder applies an OrderPlaced event. A redelivered event changes nothing
// and reports the order's current state.
func (s *Intake) PlaceOrder(ctx context.Context, e BillingEvent) (IntakeResult, error) {
	o := Order{OrderID: e.OrderID, ServiceID: e.ServiceID, CustomerID: e.CustomerID, ProductID: e.ProductID,
		ServerRegion: e.ServerRegion, OrderedAt: e.OrderedAt.UTC(), NextDueDate: e.NextDueDate}
	if !ValidID(o.CustomerID) {
		return IntakeResult{}, Invalid("invalid_customerId", "customerId must be 1-128 letters, digits or . _ : -")
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
	return s.endOrder(ctx, orderID, Cancelled, Customer.CancelOrder)
}

// ServiceExpired applies a ServiceExpired event.
func (s *Intake) ServiceExpired(ctx context.Context, orderID string) (IntakeResult, error) {
	return s.endOrder(ctx, orderID, Expired, Customer.ServiceExpired)
}

// endOrder ends an order's hold by billing's word. Applying it again to a hold
// it already ended is a no-op.
func (s *Intake) endOrder(ctx context.Context, orderID string, end HoldState,
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
			if h.State == end {
				res = IntakeResult{OrderID: orderID, State: h.State, Duplicate: true}
				return nil
			}
			return Conflict("wrong_state", "order %s is %s", orderID, h.State)
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
	}
	return IntakeResult{}, Invalid("unknown_event_type", "type must be OrderPlaced, OrderCancelled or ServiceExpired")
}
