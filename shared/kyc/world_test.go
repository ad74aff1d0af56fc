package kyc

import (
	"fmt"
	"slices"
	"time"
)

// t0 is the order time of the first order in the scenarios.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// due0 is the next due date billing reports with each order.
var due0 = NewDate(2026, 4, 2)

const h = time.Hour

// tb is what the scenarios need of a test: testing.T and rapid.T both have it.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// world drives one customer through the rules the way the service does, with
// every time given explicitly: a timeline of orders, submissions, decisions
// and sweeps.
type world struct {
	tb       tb
	c        Customer
	closed   map[string]Hold
	events   []Event
	subs     int
	products ProductSet
}

func newWorld(tb tb) *world {
	return &world{tb: tb, c: NewCustomer("cust-1", t0), closed: map[string]Hold{}, products: ProductSet{"kyc-vps": true}}
}

func (w *world) apply(ch Change) {
	w.tb.Helper()
	for _, h := range ch.Closed {
		if _, dup := w.closed[h.OrderID]; dup {
			w.tb.Fatalf("hold %s closed twice", h.OrderID)
		}
		w.closed[h.OrderID] = h
	}
	head, _ := ch.Customer.Audit.Chain(ch.Audit)
	ch.Customer.Audit = head
	w.c = ch.Customer
	w.events = append(w.events, ch.Events...)
}

// orderAt places order id, ordered at t0+ordered, as billing reports it at now.
func (w *world) orderAt(id string, ordered, now time.Duration, product string) error {
	w.tb.Helper()
	return w.place(Order{OrderID: id, ProductID: product, NextDueDate: due0}, ordered, now)
}

// place places o (its id, product and due date; the rest is filled in),
// ordered at t0+ordered, as billing reports it at t0+now.
func (w *world) place(o Order, ordered, now time.Duration) error {
	w.tb.Helper()
	o.ServiceID, o.CustomerID, o.ServerRegion, o.TimeZone = "svc-"+o.OrderID, w.c.ID, "hk", "Asia/Hong_Kong"
	o.OrderedAt = t0.Add(ordered)
	ch, err := w.c.PlaceOrder(o, w.products.RequiresKYC(o.ProductID), t0.Add(now))
	if err == nil {
		w.apply(ch)
	}
	return err
}

func (w *world) order(id string, ordered time.Duration) {
	w.tb.Helper()
	if err := w.orderAt(id, ordered, ordered, "kyc-vps"); err != nil {
		w.tb.Fatalf("order %s: %v", id, err)
	}
}

func (w *world) submit(at time.Duration) error {
	w.tb.Helper()
	w.subs++
	ch, err := w.c.Submit(fmt.Sprintf("sub-%d", w.subs), Actor{Kind: ActorCustomer, ID: w.c.ID}, t0.Add(at))
	if err == nil {
		w.apply(ch)
	}
	return err
}

func (w *world) decide(at time.Duration, approve bool) error {
	w.tb.Helper()
	if w.c.Pending == nil {
		return Conflict("not_pending", "nothing pending")
	}
	s := Submission{ID: w.c.Pending.ID, CustomerID: w.c.ID, Status: SubRejected,
		Identity: &DocDecision{Result: ResultApproved}, Address: &DocDecision{Result: ResultResubmit, Reasons: []ReasonCode{"too_old"}}}
	if approve {
		s.Status, s.Address = SubApproved, &DocDecision{Result: ResultApproved}
	}
	ch, err := w.c.Decide(s, Actor{Kind: ActorReviewer, ID: "rev-1"}, t0.Add(at))
	if err == nil {
		w.apply(ch)
	}
	return err
}

func (w *world) approve(at time.Duration) {
	w.tb.Helper()
	if err := w.decide(at, true); err != nil {
		w.tb.Fatalf("approve: %v", err)
	}
}

func (w *world) reject(at time.Duration) {
	w.tb.Helper()
	if err := w.decide(at, false); err != nil {
		w.tb.Fatalf("reject: %v", err)
	}
}

func (w *world) mustSubmit(at time.Duration) {
	w.tb.Helper()
	if err := w.submit(at); err != nil {
		w.tb.Fatalf("submit: %v", err)
	}
}

func (w *world) sweep(at time.Duration) bool {
	w.tb.Helper()
	ch, changed := w.c.Sweep(t0.Add(at))
	w.apply(ch)
	return changed
}

func (w *world) hold(id string) Hold {
	w.tb.Helper()
	if h, ok := w.c.Hold(id); ok {
		return h
	}
	if h, ok := w.closed[id]; ok {
		return h
	}
	w.tb.Fatalf("no hold %s", id)
	return Hold{}
}

// commands returns the types of the events about an order, in order.
func (w *world) commands(id string) []EventType {
	var out []EventType
	for _, e := range w.events {
		if e.OrderID == id && e.Type != KycRequested {
			out = append(out, e.Type)
		}
	}
	return out
}

func (w *world) event(id string, t EventType) (Event, bool) {
	i := slices.IndexFunc(w.events, func(e Event) bool { return e.OrderID == id && e.Type == t })
	if i < 0 {
		return Event{}, false
	}
	return w.events[i], true
}
