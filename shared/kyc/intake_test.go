package kyc_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// TestPlaceOrder: what an OrderPlaced event becomes (P1, P5, and the
// decisions of SPEC §1 on verified customers and late orders).
func TestPlaceOrder(t *testing.T) {
	tests := []struct {
		name   string
		run    func(w *kyctest.World) kyc.IntakeResult
		state  kyc.HoldState
		events []kyc.EventType
		audit  string
	}{
		{
			name:   "a KYC product is held and the customer asked (P5)",
			run:    func(w *kyctest.World) kyc.IntakeResult { return w.PlaceOrder("c-1", "o-1") },
			state:  kyc.AwaitingKYC,
			events: []kyc.EventType{kyc.KycRequested},
			audit:  "order.held",
		},
		{
			name: "a product without KYC is never held (P1)",
			run: func(w *kyctest.World) kyc.IntakeResult {
				e := w.OrderEvent("c-1", "o-1")
				e.ProductID = kyctest.ProductPlain
				return w.Place(e)
			},
			state: kyc.NotRequired,
			audit: "order.not_required",
		},
		{
			name: "a customer verified at order time is provisioned at once, no hold",
			run: func(w *kyctest.World) kyc.IntakeResult {
				w.Verify("c-1")
				w.Bus.Reset()
				w.Advance(time.Hour)
				return w.PlaceOrder("c-1", "o-1")
			},
			state:  kyc.Provisioned,
			events: []kyc.EventType{kyc.ServiceProvisionRequested},
			audit:  "order.provisioned",
		},
		{
			name: "an order placed before the verification that arrives after it is released as approved",
			run: func(w *kyctest.World) kyc.IntakeResult {
				e := w.OrderEvent("c-1", "o-1") // ordered now, reported late
				w.Advance(2 * time.Hour)
				w.Verify("c-1")
				w.Bus.Reset()
				w.Advance(time.Hour)
				return w.Place(e)
			},
			state:  kyc.ProvisionedExtended,
			events: []kyc.EventType{kyc.ServiceProvisionRequested, kyc.ServiceDueDateExtended},
			audit:  "order.verified_late_intake",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			res := tt.run(w)
			if res.OrderID != "o-1" || res.State != tt.state || res.Duplicate {
				t.Fatalf("result %+v, want o-1 %s", res, tt.state)
			}
			if got := w.Hold("c-1", "o-1").State; got != tt.state {
				t.Fatalf("stored hold %s, want %s", got, tt.state)
			}
			if owner, err := w.Store.OrderOwner(ctx, "o-1"); err != nil || owner != "c-1" {
				t.Fatalf("order owner %q, %v", owner, err)
			}
			wantEvents(t, w, tt.events...)
			if e := lastEntry(t, w, "c-1"); e.Action != tt.audit || e.OrderID != "o-1" || e.Actor != kyc.ByBilling {
				t.Fatalf("audit %+v, want %s of o-1 by billing", e, tt.audit)
			}
		})
	}
}

func TestPlaceOrderAsksWithTheDeadline(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.OrderedAt = w.Now().Add(-5 * time.Hour) // billing reported it late
	w.Place(e)
	h := w.Hold("c-1", "o-1")
	if want := e.OrderedAt.Add(kyc.Window); !h.Deadline.Equal(want) {
		t.Fatalf("deadline %s, want orderedAt + 72h = %s", h.Deadline, want)
	}
	req := w.Events(kyc.KycRequested)
	if len(req) != 1 || req[0].Deadline == nil || !req[0].Deadline.Equal(h.Deadline) || req[0].OrderID != "o-1" || req[0].CustomerID != "c-1" {
		t.Fatalf("KycRequested %+v, want one for o-1 with the deadline", req)
	}
	if c := w.Customer("c-1"); c.DueAt() != h.Deadline.Add(time.Nanosecond) {
		t.Fatalf("customer due at %s, want just after the deadline", c.DueAt())
	}
}

func TestPlaceOrderRedelivered(t *testing.T) {
	for _, product := range []string{kyctest.ProductKYC, kyctest.ProductPlain} {
		t.Run(product, func(t *testing.T) {
			w := kyctest.New(t)
			e := w.OrderEvent("c-1", "o-1")
			e.ProductID = product
			first := w.Place(e)
			version := w.Customer("c-1").Version
			check := unchanged(t, w)
			w.Advance(time.Hour)
			again := w.Place(e)
			if !again.Duplicate || again.State != first.State || again.OrderID != "o-1" {
				t.Fatalf("redelivery: %+v, want a duplicate in state %s", again, first.State)
			}
			check()
			if v := w.Customer("c-1").Version; v != version {
				t.Fatalf("customer at version %d after a redelivery, want %d", v, version)
			}
		})
	}
}

func TestPlaceOrderOfAnotherCustomersOrderID(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	check := unchanged(t, w)
	_, err := w.Intake.PlaceOrder(ctx, w.OrderEvent("c-2", "o-1"))
	wantErr(t, err, kyc.KindConflict, "order_exists")
	check()
}

func TestPlaceOrderSealsTheContactAddress(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.Email, e.Language = "chan.tai.man@example.com", kyc.LangChinese
	w.Place(e)
	c := w.Customer("c-1")
	if c.Language != kyc.LangChinese || c.Contact == nil {
		t.Fatalf("customer language %q contact %v", c.Language, c.Contact)
	}
	if strings.Contains(string(c.Contact.Data), "chan") {
		t.Fatal("the contact address is stored in the clear")
	}
	plain, err := w.Sealer.Open(ctx, "c-1", *c.Contact)
	if err != nil || string(plain) != e.Email {
		t.Fatalf("contact opens to %q, %v", plain, err)
	}
	noPersonalData(t, w, e.Email)
}

// TestPlaceOrderRefusesBadEvents: malformed events are refused with a rule
// error, and nothing is stored or published.
func TestPlaceOrderRefusesBadEvents(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *kyc.BillingEvent, now time.Time)
		kind   kyc.Kind
		code   string
	}{
		{"customer id with a slash", func(e *kyc.BillingEvent, _ time.Time) { e.CustomerID = "c/1" }, kyc.KindInvalid, "invalid_customerId"},
		{"no customer id", func(e *kyc.BillingEvent, _ time.Time) { e.CustomerID = "" }, kyc.KindInvalid, "invalid_customerId"},
		{"no order id", func(e *kyc.BillingEvent, _ time.Time) { e.OrderID = "" }, kyc.KindInvalid, "invalid_orderId"},
		{"order id too long", func(e *kyc.BillingEvent, _ time.Time) { e.OrderID = strings.Repeat("o", 129) }, kyc.KindInvalid, "invalid_orderId"},
		{"no service id", func(e *kyc.BillingEvent, _ time.Time) { e.ServiceID = "" }, kyc.KindInvalid, "invalid_serviceId"},
		{"no product id", func(e *kyc.BillingEvent, _ time.Time) { e.ProductID = "" }, kyc.KindInvalid, "invalid_productId"},
		{"no server region", func(e *kyc.BillingEvent, _ time.Time) { e.ServerRegion = "" }, kyc.KindInvalid, "invalid_serverRegion"},
		{"server region too long", func(e *kyc.BillingEvent, _ time.Time) { e.ServerRegion = strings.Repeat("r", 65) }, kyc.KindInvalid, "invalid_serverRegion"},
		{"no order time", func(e *kyc.BillingEvent, _ time.Time) { e.OrderedAt = time.Time{} }, kyc.KindInvalid, "invalid_orderedAt"},
		{"order time before 2000", func(e *kyc.BillingEvent, _ time.Time) { e.OrderedAt = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }, kyc.KindInvalid, "invalid_orderedAt"},
		{"order time beyond the clock skew", func(e *kyc.BillingEvent, now time.Time) { e.OrderedAt = now.Add(kyc.OrderClockSkew + time.Second) }, kyc.KindInvalid, "order_in_future"},
		{"no next due date", func(e *kyc.BillingEvent, _ time.Time) { e.NextDueDate = kyc.Date{} }, kyc.KindInvalid, "invalid_nextDueDate"},
		{"next due date past 9000", func(e *kyc.BillingEvent, _ time.Time) { e.NextDueDate = kyc.NewDate(9001, 1, 1) }, kyc.KindInvalid, "invalid_nextDueDate"},
		{"unknown language", func(e *kyc.BillingEvent, _ time.Time) { e.Language = "fr" }, kyc.KindInvalid, "invalid_language"},
		{"not an e-mail address", func(e *kyc.BillingEvent, _ time.Time) { e.Email = "not an address" }, kyc.KindInvalid, "invalid_email"},
		{"an address with a display name", func(e *kyc.BillingEvent, _ time.Time) { e.Email = "Chan <chan@example.com>" }, kyc.KindInvalid, "invalid_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			e := w.OrderEvent("c-1", "o-1")
			tt.change(&e, w.Now())
			check := unchanged(t, w)
			_, err := w.Intake.PlaceOrder(ctx, e)
			wantErr(t, err, tt.kind, tt.code)
			check()
			if _, err := w.Store.OrderOwner(ctx, "o-1"); !errors.Is(err, kyc.ErrNotExist) {
				t.Fatalf("the refused order was recorded: %v", err)
			}
		})
	}
}

func TestPlaceOrderWithinTheClockSkew(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.OrderedAt = w.Now().Add(kyc.OrderClockSkew)
	if res := w.Place(e); res.State != kyc.AwaitingKYC {
		t.Fatalf("an order %s ahead of our clock: %+v", kyc.OrderClockSkew, res)
	}
}

func TestPlaceOrderBoundsOpenHolds(t *testing.T) {
	w := kyctest.New(t)
	for i := range kyc.MaxOpenHolds {
		w.PlaceOrder("c-1", fmt.Sprintf("o-%d", i))
	}
	check := unchanged(t, w)
	_, err := w.Intake.PlaceOrder(ctx, w.OrderEvent("c-1", "o-last"))
	wantErr(t, err, kyc.KindConflict, "too_many_open_orders")
	check()
	// One approval releases every hold in one write.
	w.Verify("c-1")
	if c := w.Customer("c-1"); len(c.Holds) != 0 {
		t.Fatalf("%d holds open after the approval", len(c.Holds))
	}
}

// TestPlaceOrderRaces: the intake re-reads and decides again when its write
// loses a race.
func TestPlaceOrderRaces(t *testing.T) {
	t.Run("the same order applied concurrently: one placement, one duplicate", func(t *testing.T) {
		w := kyctest.New(t)
		e := w.OrderEvent("c-1", "o-1")
		w.Store.Before(kyctest.MethodCommit, func() { w.Place(e) })
		res := w.Place(e)
		if !res.Duplicate || res.State != kyc.AwaitingKYC {
			t.Fatalf("the loser's result %+v, want a duplicate", res)
		}
		wantEvents(t, w, kyc.KycRequested)
		if n := len(w.Customer("c-1").Holds); n != 1 {
			t.Fatalf("%d holds, want 1", n)
		}
	})
	t.Run("another order of the customer commits first: both are held", func(t *testing.T) {
		w := kyctest.New(t)
		w.Store.Before(kyctest.MethodCommit, func() { w.PlaceOrder("c-1", "o-2") })
		w.PlaceOrder("c-1", "o-1")
		if c := w.Customer("c-1"); len(c.Holds) != 2 || c.Version != 2 {
			t.Fatalf("customer %+v, want two holds at version 2", c)
		}
	})
	t.Run("a write that keeps losing ends in a conflict", func(t *testing.T) {
		w := kyctest.New(t)
		for range 5 {
			w.Store.FailNext(kyctest.MethodCommit, kyc.ErrStale)
		}
		_, err := w.Intake.PlaceOrder(ctx, w.OrderEvent("c-1", "o-1"))
		wantErr(t, err, kyc.KindConflict, "busy")
		if n := w.Store.Calls(kyctest.MethodCommit); n != 5 {
			t.Fatalf("%d attempts, want 5", n)
		}
	})
}

func TestPlaceOrderPortFailures(t *testing.T) {
	for _, m := range []kyctest.Method{kyctest.MethodOrderOwner, kyctest.MethodCustomer, kyctest.MethodCommit, kyctest.MethodSeal} {
		t.Run(string(m), func(t *testing.T) {
			w := kyctest.New(t)
			w.Store.FailNext(m, errBoom)
			w.Sealer.FailNext(m, errBoom)
			e := w.OrderEvent("c-1", "o-1")
			e.Email = "chan@example.com"
			_, err := w.Intake.PlaceOrder(ctx, e)
			wantInternal(t, err, errBoom)
			if len(w.Events()) != 0 {
				t.Fatal("events published for a failed placement")
			}
		})
	}
	t.Run("reading a placed order's hold", func(t *testing.T) {
		w := kyctest.New(t)
		e := w.OrderEvent("c-1", "o-1")
		e.ProductID = kyctest.ProductPlain
		w.Place(e)
		w.Store.FailNext(kyctest.MethodClosedHold, errBoom)
		_, err := w.Intake.PlaceOrder(ctx, e)
		wantInternal(t, err, errBoom)
	})
	t.Run("a failed publication leaves the events to the sweep", func(t *testing.T) {
		w := kyctest.New(t)
		w.Bus.FailNext(errBoom)
		if res := w.PlaceOrder("c-1", "o-1"); res.State != kyc.AwaitingKYC {
			t.Fatalf("result %+v", res)
		}
		wantEvents(t, w)
		w.Advance(kyctest.OutboxGrace)
		if rep := w.Sweep(); rep.OutboxesPublished != 1 {
			t.Fatalf("sweep report %+v, want the outbox published", rep)
		}
		wantEvents(t, w, kyc.KycRequested)
	})
}

// TestEndOrder: OrderCancelled and ServiceExpired end a hold by billing's
// word; applying one again is a no-op.
func TestEndOrder(t *testing.T) {
	cancel := func(w *kyctest.World, id string) (kyc.IntakeResult, error) { return w.Intake.CancelOrder(ctx, id) }
	expire := func(w *kyctest.World, id string) (kyc.IntakeResult, error) { return w.Intake.ServiceExpired(ctx, id) }
	held := func(w *kyctest.World) { w.PlaceOrder("c-1", "o-1") }
	suspended := func(w *kyctest.World) {
		w.PlaceOrder("c-1", "o-1")
		w.Advance(kyc.Window + time.Hour)
		w.Sweep()
	}
	reviewed := func(w *kyctest.World) {
		w.PlaceOrder("c-1", "o-1")
		w.Submit("c-1")
		w.Advance(kyc.Window + time.Hour)
		w.Sweep()
	}
	tests := []struct {
		name     string
		setup    func(w *kyctest.World)
		end      func(w *kyctest.World, id string) (kyc.IntakeResult, error)
		state    kyc.HoldState
		rendered bool
		audit    string
	}{
		{"cancelled while awaiting KYC", held, cancel, kyc.Cancelled, false, "hold.cancelled"},
		{"cancelled while awaiting review", reviewed, cancel, kyc.Cancelled, false, "hold.cancelled"},
		{"service expired while awaiting KYC", held, expire, kyc.Expired, false, "hold.service_expired"},
		{"service expired while suspended keeps rendered", suspended, expire, kyc.Expired, true, "hold.service_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			tt.setup(w)
			w.Bus.Reset()
			w.Advance(time.Hour)
			res, err := tt.end(w, "o-1")
			if err != nil || res.State != tt.state || res.Duplicate {
				t.Fatalf("end order: %+v, %v; want %s", res, err, tt.state)
			}
			h := w.Hold("c-1", "o-1")
			if h.State != tt.state || h.Rendered != tt.rendered || !h.ClosedAt.Equal(w.Now()) {
				t.Fatalf("hold %+v, want %s rendered=%v closed now", h, tt.state, tt.rendered)
			}
			if _, open := w.Customer("c-1").Hold("o-1"); open {
				t.Fatal("the ended hold is still open on the customer record")
			}
			wantEvents(t, w) // billing ended it: nothing to tell billing
			if e := lastEntry(t, w, "c-1"); e.Action != tt.audit || e.To != string(tt.state) {
				t.Fatalf("audit %+v, want %s", e, tt.audit)
			}
			check := unchanged(t, w)
			again, err := tt.end(w, "o-1")
			if err != nil || !again.Duplicate || again.State != tt.state {
				t.Fatalf("the same event again: %+v, %v; want a duplicate", again, err)
			}
			check()
		})
	}
}

func TestEndOrderRefused(t *testing.T) {
	t.Run("unknown order", func(t *testing.T) {
		w := kyctest.New(t)
		_, err := w.Intake.CancelOrder(ctx, "o-9")
		wantErr(t, err, kyc.KindNotFound, "order_not_found")
		_, err = w.Intake.ServiceExpired(ctx, "o-9")
		wantErr(t, err, kyc.KindNotFound, "order_not_found")
	})
	t.Run("invalid order id", func(t *testing.T) {
		w := kyctest.New(t)
		_, err := w.Intake.CancelOrder(ctx, "o/9")
		wantErr(t, err, kyc.KindInvalid, "invalid_orderId")
	})
	t.Run("expiry of a cancelled order", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		if _, err := w.Intake.CancelOrder(ctx, "o-1"); err != nil {
			t.Fatal(err)
		}
		check := unchanged(t, w)
		_, err := w.Intake.ServiceExpired(ctx, "o-1")
		wantErr(t, err, kyc.KindConflict, "wrong_state")
		check()
	})
	t.Run("cancellation of a provisioned order", func(t *testing.T) {
		w := kyctest.New(t)
		w.Verify("c-1")
		w.PlaceOrder("c-1", "o-1")
		_, err := w.Intake.CancelOrder(ctx, "o-1")
		wantErr(t, err, kyc.KindConflict, "wrong_state")
	})
	t.Run("a store failure", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		for _, m := range []kyctest.Method{kyctest.MethodOrderOwner, kyctest.MethodCustomer, kyctest.MethodCommit} {
			w.Store.FailNext(m, errBoom)
			_, err := w.Intake.CancelOrder(ctx, "o-1")
			wantInternal(t, err, errBoom)
		}
		if h := w.Hold("c-1", "o-1"); h.State != kyc.AwaitingKYC {
			t.Fatalf("hold %s after failed cancellations", h.State)
		}
	})
	t.Run("a closed hold that cannot be read", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		if _, err := w.Intake.CancelOrder(ctx, "o-1"); err != nil {
			t.Fatal(err)
		}
		w.Store.FailNext(kyctest.MethodClosedHold, errBoom)
		_, err := w.Intake.CancelOrder(ctx, "o-1")
		wantInternal(t, err, errBoom)
	})
}

func TestApplyBillingEvent(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	var states []kyc.HoldState
	for _, typ := range []kyc.EventType{kyc.OrderPlaced, kyc.ServiceExpired} {
		res, err := w.Intake.ApplyBillingEvent(ctx, typ, e)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		states = append(states, res.State)
	}
	e.OrderID = "o-2"
	w.Place(e)
	res, err := w.Intake.ApplyBillingEvent(ctx, kyc.OrderCancelled, e)
	if err != nil {
		t.Fatal(err)
	}
	states = append(states, res.State)
	if want := []kyc.HoldState{kyc.AwaitingKYC, kyc.Expired, kyc.Cancelled}; !slices.Equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	_, err = w.Intake.ApplyBillingEvent(ctx, "OrderRefunded", e)
	wantErr(t, err, kyc.KindInvalid, "unknown_event_type")
}
