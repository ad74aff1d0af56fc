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

// TestPlaceOrderAsksWithTheDeadline: the customer is asked with the deadline
// and the service region's time zone, and always gets 3 days after being
// asked (SPEC amended 2026-12-03: deadline = max(orderedAt, receivedAt) +
// 72h, receivedAt being the gate's clock when the intake commits).
func TestPlaceOrderAsksWithTheDeadline(t *testing.T) {
	tests := []struct {
		name    string
		ordered time.Duration // before now
		from    func(ordered, received time.Time) time.Time
	}{
		{"reported at once: 3 days from the order", 0, func(o, _ time.Time) time.Time { return o }},
		{"reported 5 h late (paid, or accepted by staff): 3 days from its arrival", 5 * time.Hour, func(_, r time.Time) time.Time { return r }},
		{"reported 4 days late: 3 days from its arrival, not a deadline already past", 96 * time.Hour, func(_, r time.Time) time.Time { return r }},
		{"stamped by billing's clock a little ahead of ours: 3 days from the order", -kyc.OrderClockSkew, func(o, _ time.Time) time.Time { return o }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			e := w.OrderEvent("c-1", "o-1")
			e.OrderedAt = w.Now().Add(-tt.ordered)
			w.Place(e)
			h := w.Hold("c-1", "o-1")
			want := tt.from(e.OrderedAt, w.Now()).Add(kyc.Window)
			if !h.Deadline.Equal(want) || !h.ReceivedAt.Equal(w.Now()) || !h.OrderedAt.Equal(e.OrderedAt) {
				t.Fatalf("deadline %s (received %s), want %s", h.Deadline, h.ReceivedAt, want)
			}
			req := w.Events(kyc.KycRequested)
			if len(req) != 1 || req[0].Deadline == nil || !req[0].Deadline.Equal(h.Deadline) || req[0].OrderID != "o-1" ||
				req[0].CustomerID != "c-1" || req[0].TimeZone != kyctest.Zone || req[0].Reviewing {
				t.Fatalf("KycRequested %+v, want one for o-1 with the deadline in %s", req, kyctest.Zone)
			}
			if c := w.Customer("c-1"); c.DueAt() != h.Deadline.Add(time.Nanosecond) {
				t.Fatalf("customer due at %s, want just after the deadline", c.DueAt())
			}
			// Not suspended within 3 days of the request, suspended after.
			w.Clock.Set(h.Deadline)
			if rep := w.Sweep(); rep.Suspended != 0 {
				t.Fatalf("suspended at the deadline: %+v", rep)
			}
			w.Advance(time.Nanosecond)
			if rep := w.Sweep(); rep.Suspended != 1 {
				t.Fatalf("not suspended after the deadline: %+v", rep)
			}
		})
	}
}

// TestPlaceOrderReportedLateIsExtendedFromItsOrderTime: the extension on
// approval is still counted from orderedAt (the customer paid from then).
func TestPlaceOrderReportedLateIsExtendedFromItsOrderTime(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.OrderedAt = w.Now().Add(-100 * time.Hour)
	w.Place(e)
	w.Advance(10 * time.Hour)
	w.Verify("c-1")
	h := w.Hold("c-1", "o-1")
	if h.State != kyc.ProvisionedExtended || h.Extension == nil || h.Extension.Days != 5 || h.Extension.Exact != 110*time.Hour {
		t.Fatalf("hold %+v, want extended by 110 h = 5 days", h)
	}
	ext := w.Events(kyc.ServiceDueDateExtended)
	if len(ext) != 1 || ext[0].Extension.Days != 5 || *ext[0].PreviousDueDate != e.NextDueDate {
		t.Fatalf("extension events %+v", ext)
	}
}

// TestPlaceOrderWhileInReview: a customer whose documents already wait for
// review is told so, not asked for documents again.
func TestPlaceOrderWhileInReview(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	w.Submit("c-1")
	w.Bus.Reset()
	w.PlaceOrder("c-1", "o-2")
	req := w.Events(kyc.KycRequested)
	if len(req) != 1 || !req[0].Reviewing || req[0].OrderID != "o-2" || req[0].Deadline == nil {
		t.Fatalf("KycRequested %+v, want one for o-2 saying the documents are in review", req)
	}
	if h := w.Hold("c-1", "o-2"); h.State != kyc.AwaitingKYC {
		t.Fatalf("hold %s", h.State)
	}
}

// TestPlaceOrderWithoutADueDate: nextDueDate is optional (one-time and free
// products have none); the hold works as any other and nothing is extended.
func TestPlaceOrderWithoutADueDate(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.NextDueDate = kyc.Date{}
	if res := w.Place(e); res.State != kyc.AwaitingKYC {
		t.Fatalf("result %+v", res)
	}
	w.Advance(time.Hour)
	w.Bus.Reset()
	w.Verify("c-1")
	h := w.Hold("c-1", "o-1")
	if h.State != kyc.Provisioned || h.Extension != nil || !h.NextDueDate.IsZero() || h.ProvisionedAt.IsZero() {
		t.Fatalf("hold %+v, want provisioned with nothing extended", h)
	}
	wantEvents(t, w, kyc.KycVerified, kyc.ServiceProvisionRequested)
}

// TestPlaceOrderRecordsABusinessCustomer: billing says whether the account
// is a business; an order that does not say leaves what the last one said.
func TestPlaceOrderRecordsABusinessCustomer(t *testing.T) {
	w := kyctest.New(t)
	yes, no := true, false
	for i, tt := range []struct {
		business *bool
		want     bool
	}{{&yes, true}, {nil, true}, {&no, false}, {nil, false}} {
		e := w.OrderEvent("c-1", fmt.Sprintf("o-%d", i))
		e.ProductID, e.Business = kyctest.ProductPlain, tt.business
		w.Place(e)
		if got := w.Customer("c-1").Business; got != tt.want {
			t.Fatalf("order %d (business %v): customer business %v, want %v", i, tt.business, got, tt.want)
		}
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
		{"a product not in the catalogue", func(e *kyc.BillingEvent, _ time.Time) { e.ProductID = "kyc-vsp" }, kyc.KindInvalid, "unknown_productId"},
		{"a server region not configured", func(e *kyc.BillingEvent, _ time.Time) { e.ServerRegion = "sg" }, kyc.KindInvalid, "unknown_serverRegion"},
		{"a server region in the wrong case", func(e *kyc.BillingEvent, _ time.Time) { e.ServerRegion = "HK" }, kyc.KindInvalid, "unknown_serverRegion"},
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
		{"cancelled while suspended keeps rendered", suspended, cancel, kyc.Cancelled, true, "hold.cancelled"},
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

// TestEndOrderOfAClosedHold: closing events are idempotent (SPEC amended
// 2026-12-03): OrderCancelled or ServiceExpired for a hold that is already
// closed answers with its state and changes nothing, whatever closed it.
func TestEndOrderOfAClosedHold(t *testing.T) {
	cancel := func(w *kyctest.World, id string) (kyc.IntakeResult, error) { return w.Intake.CancelOrder(ctx, id) }
	expire := func(w *kyctest.World, id string) (kyc.IntakeResult, error) { return w.Intake.ServiceExpired(ctx, id) }
	tests := []struct {
		name  string
		setup func(w *kyctest.World)
		end   func(w *kyctest.World, id string) (kyc.IntakeResult, error)
		state kyc.HoldState
	}{
		{"expiry of a cancelled order", func(w *kyctest.World) {
			w.PlaceOrder("c-1", "o-1")
			if _, err := w.Intake.CancelOrder(ctx, "o-1"); err != nil {
				t.Fatal(err)
			}
		}, expire, kyc.Cancelled},
		{"cancellation of an expired order", func(w *kyctest.World) {
			w.PlaceOrder("c-1", "o-1")
			if _, err := w.Intake.ServiceExpired(ctx, "o-1"); err != nil {
				t.Fatal(err)
			}
		}, cancel, kyc.Expired},
		{"cancellation of an order provisioned at once", func(w *kyctest.World) { w.Verify("c-1"); w.PlaceOrder("c-1", "o-1") }, cancel, kyc.Provisioned},
		{"termination of a service extended in time", func(w *kyctest.World) { w.PlaceOrder("c-1", "o-1"); w.Advance(time.Hour); w.Verify("c-1") }, expire, kyc.ProvisionedExtended},
		{"termination of a service released late", func(w *kyctest.World) {
			w.PlaceOrder("c-1", "o-1")
			w.Advance(kyc.Window + time.Hour)
			w.Sweep()
			w.Verify("c-1")
		}, expire, kyc.Released},
		{"cancellation of an order that needed no KYC", func(w *kyctest.World) {
			e := w.OrderEvent("c-1", "o-1")
			e.ProductID = kyctest.ProductPlain
			w.Place(e)
		}, cancel, kyc.NotRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			tt.setup(w)
			w.Advance(time.Hour)
			check := unchanged(t, w)
			res, err := tt.end(w, "o-1")
			if err != nil || res.State != tt.state || !res.Duplicate || res.OrderID != "o-1" {
				t.Fatalf("closing event for a closed hold: %+v, %v; want %s, nothing changed", res, err, tt.state)
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

// TestDecodeBillingEvent: the intake refuses fields it does not know, wrong
// types and trailing data, without repeating the input.
func TestDecodeBillingEvent(t *testing.T) {
	good := `{"orderId":"o-1","serviceId":"5001","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z",` +
		`"nextDueDate":"2026-12-26","serverRegion":"hk","business":true,"email":"chan@example.com","language":"en"}`
	e, err := kyc.DecodeBillingEvent([]byte(good))
	if err != nil || e.OrderID != "o-1" || e.Business == nil || !*e.Business || e.NextDueDate != kyc.NewDate(2026, 12, 26) {
		t.Fatalf("decode %+v, %v", e, err)
	}
	if e, err := kyc.DecodeBillingEvent([]byte(`{"orderId":"o-1"}`)); err != nil || e.Business != nil || !e.NextDueDate.IsZero() {
		t.Fatalf("a closing event: %+v, %v", e, err)
	}
	for _, bad := range []string{
		`{"orderId":"o-1","nextDueDat":"2026-12-26"}`,
		`{"orderId":"o-1","` + strings.Repeat("x", 300) + `":1}`,
		`{"orderId":"o-1","business":"yes"}`,
		`{"orderId":"o-1","nextDueDate":"0000-00-00"}`,
		`{"orderId":"o-1"} {}`,
		`{"orderId":"o-1",`,
		`[]`,
	} {
		_, err := kyc.DecodeBillingEvent([]byte(bad))
		wantErr(t, err, kyc.KindInvalid, "malformed_detail")
		if msg := err.Error(); len(msg) > 200 || strings.Contains(msg, strings.Repeat("x", 60)) {
			t.Errorf("%.40s…: the error repeats the input: %s", bad, msg)
		}
	}
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
