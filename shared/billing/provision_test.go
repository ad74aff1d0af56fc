package billing_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// docs/whmcs.md §5.3 and §5.5: provision only a paid order (or one without
// an invoice), wait for the payment without counting towards the DLQ, drop
// the command once the order is cancelled; a product without a module is
// set Active with one staff ticket, never ModuleCreate.

// requeued is a Requeuer that keeps what was sent back.
type requeued struct {
	mu     sync.Mutex
	bodies []string
	delays []time.Duration
	fail   error
}

func (q *requeued) Requeue(_ context.Context, body string, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.bodies, q.delays = append(q.bodies, body), append(q.delays, delay)
	return nil
}

func (q *requeued) count() int { q.mu.Lock(); defer q.mu.Unlock(); return len(q.bodies) }

// holdStates is a Holds of fixed answers, by order id.
type holdStates struct {
	mu     sync.Mutex
	states map[string]kyc.HoldState
	err    error
}

func (h *holdStates) HoldState(_ context.Context, _, orderID string) (kyc.HoldState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return "", h.err
	}
	st, ok := h.states[orderID]
	if !ok {
		return "", kyc.ErrNotExist
	}
	return st, nil
}

func (h *holdStates) set(order string, st kyc.HoldState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.states[order] = st
}

// payRig is a rig whose service 5001 belongs to order 500 (unpaid invoice
// 700), with a requeuer, the gate's holds and a setup department.
type payRig struct {
	*rig
	requeue *requeued
	holds   *holdStates
}

func newPayRig(t *testing.T) *payRig {
	t.Helper()
	r := newRig(t, "memory", whmcs.Options{})
	r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, NextDueDate: "2026-04-01", OrderID: 500})
	r.fake.AddOrder(whmcstest.Order{ID: 500, ClientID: 42, InvoiceID: 700, PaymentStatus: "Unpaid"})
	r.fake.AddDepartment(4)
	p := &payRig{rig: r, requeue: &requeued{}, holds: &holdStates{states: map[string]kyc.HoldState{"o-1": kyc.SuspendedKYC}}}
	log := slog.New(slog.NewJSONHandler(r.logs, nil))
	w := billing.NewWHMCS(r.client, billing.WithHolds(p.holds),
		billing.WithSetupTickets(billing.SetupTickets{DeptID: 4, Email: "kyc@example.com", AdminUsername: "kyc-gate"}))
	r.handler = billing.NewHandler(billing.NewApplier(r.ledger, w, log), log)
	r.handler.Requeue = p.requeue
	r.handler.Now = func() time.Time { return orderedAt.Add(80 * time.Hour) }
	return p
}

func TestProvisionWaitsForPayment(t *testing.T) {
	r := newPayRig(t)
	// Provision and suspend at the deadline of an unpaid order (the
	// checkout trigger): neither reaches WHMCS, neither counts as a failure.
	if failed := r.deliver(t, provision(), suspend(), extend()); len(failed) != 0 {
		t.Fatalf("failed %v: a command waiting for payment must not count towards the DLQ\n%s", failed, r.logs)
	}
	if got, want := actions(r.fake), []string{"GetClientsProducts", "GetOrders"}; !slices.Equal(got, want) {
		t.Fatalf("WHMCS received %v, want %v", got, want)
	}
	if r.requeue.count() != 3 || r.requeue.delays[0] != billing.PaymentRecheck {
		t.Fatalf("requeued %d (delays %v), want the three commands after %s", r.requeue.count(), r.requeue.delays, billing.PaymentRecheck)
	}
	if e := entry(t, r.ledger, "o-1:provision"); e.State != ledger.StateFailed || e.Uncertain || e.ErrorKind != billing.KindAwaitingPayment {
		t.Fatalf("ledger %+v", e)
	}
	if _, ok, _ := r.ledger.Entry(context.Background(), "o-1:suspend"); ok {
		t.Fatal("the suspend waiting for its provision's payment left a ledger entry")
	}
	if !strings.Contains(r.logs.String(), "waits for its order's payment: sent back to the queue") {
		t.Fatalf("logs:\n%s", r.logs)
	}

	// The requeued messages come back unpaid: they wait again, at once
	// (a certain failure is claimable right away).
	if failed := r.redeliver(t); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 0 {
		t.Fatal("ModuleCreate of an unpaid order")
	}
	// Paid: the provision goes through, then the suspend and the extension.
	if err := r.fake.PayOrder(500); err != nil {
		t.Fatal(err)
	}
	if failed := r.redeliver(t); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	sv, _ := r.fake.Service(5001)
	if sv.Status != whmcs.StatusSuspended || sv.NextDueDate != "2026-04-03" {
		t.Fatalf("service after payment: %+v", sv)
	}
	for _, id := range []string{"o-1:provision", "o-1:suspend", "o-1:extend"} {
		if e := entry(t, r.ledger, id); e.State != ledger.StateApplied || e.Outcome != billing.OutcomeApplied {
			t.Errorf("ledger %s = %+v", id, e)
		}
	}
	if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 1 {
		t.Fatalf("ModuleCreate sent %d times", n)
	}
}

// redeliver delivers what was requeued (in order) and forgets it.
func (r *payRig) redeliver(t *testing.T) []string {
	t.Helper()
	r.requeue.mu.Lock()
	bodies := r.requeue.bodies
	r.requeue.bodies, r.requeue.delays = nil, nil
	r.requeue.mu.Unlock()
	batch := batch(t)
	for i, body := range bodies {
		batch.Records = append(batch.Records, sqsMsg("r"+string(rune('0'+i)), body))
	}
	resp, err := r.handler.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func TestPaymentChecks(t *testing.T) {
	t.Run("an order without an invoice counts as paid", func(t *testing.T) {
		r := newPayRig(t)
		r.fake.AddOrder(whmcstest.Order{ID: 500, ClientID: 42})
		if failed := r.deliver(t, provision()); len(failed) != 0 {
			t.Fatal(failed)
		}
		if got, want := actions(r.fake), []string{"GetClientsProducts", "GetOrders", "GetProducts", "ModuleCreate"}; !slices.Equal(got, want) {
			t.Fatalf("WHMCS received %v, want %v", got, want)
		}
		if p := r.fake.Commands()[1].Params; p["id"] != "500" {
			t.Fatalf("GetOrders params %v", p)
		}
	})
	t.Run("without a requeuer the queue retries (and counts)", func(t *testing.T) {
		r := newPayRig(t)
		r.handler.Requeue = nil
		if failed := r.deliver(t, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
	})
	t.Run("a requeue that fails leaves the message to the queue", func(t *testing.T) {
		r := newPayRig(t)
		r.requeue.fail = errors.New("sqs down")
		if failed := r.deliver(t, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
	})
	t.Run("after a month unpaid the command is left for the DLQ", func(t *testing.T) {
		r := newPayRig(t)
		r.handler.Now = func() time.Time { return orderedAt.Add(72*time.Hour + billing.MaxPaymentWait + time.Hour) }
		if failed := r.deliver(t, provision()); len(failed) != 1 || r.requeue.count() != 0 {
			t.Fatalf("failed %v, requeued %d", failed, r.requeue.count())
		}
		if !strings.Contains(r.logs.String(), "waited for its order's payment too long") {
			t.Fatalf("logs:\n%s", r.logs)
		}
	})
	t.Run("the hold cannot be read: retried, nothing sent", func(t *testing.T) {
		r := newPayRig(t)
		r.holds.err = errors.New("table down")
		if failed := r.deliver(t, provision()); len(failed) != 1 || r.requeue.count() != 0 {
			t.Fatalf("failed %v, requeued %d", failed, r.requeue.count())
		}
		if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 0 {
			t.Fatal("ModuleCreate sent")
		}
	})
}

func TestDroppedOnceTheOrderIsCancelled(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(r *payRig)
		outcome string
	}{
		{"the gate's hold cancelled while unpaid", func(r *payRig) { r.holds.set("o-1", kyc.Cancelled) }, billing.OutcomeHoldClosed},
		{"the service ended while unpaid", func(r *payRig) { r.holds.set("o-1", kyc.Expired) }, billing.OutcomeHoldClosed},
		{"cancelled in WHMCS", func(r *payRig) {
			_ = r.fake.UpdateOrder(500, func(o *whmcstest.Order) { o.Status = whmcs.OrderCancelled })
			r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, OrderID: 500, Status: whmcs.StatusCancelled})
		}, billing.OutcomeOrderCancelled},
		{"marked fraud in WHMCS, even paid", func(r *payRig) {
			_ = r.fake.UpdateOrder(500, func(o *whmcstest.Order) { o.Status, o.PaymentStatus = whmcs.OrderFraud, "Paid" })
		}, billing.OutcomeOrderCancelled},
		{"deleted in WHMCS", func(r *payRig) {
			r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, OrderID: 501, Status: whmcs.StatusCancelled})
		}, billing.OutcomeOrderCancelled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newPayRig(t)
			if failed := r.deliver(t, provision(), suspend()); len(failed) != 0 {
				t.Fatal(failed)
			}
			tc.setup(r)
			sent := len(r.fake.Commands())
			if failed := r.redeliver(t); len(failed) != 0 {
				t.Fatalf("failed %v\n%s", failed, r.logs)
			}
			for _, id := range []string{"o-1:provision", "o-1:suspend"} {
				if e := entry(t, r.ledger, id); e.State != ledger.StateApplied || e.Outcome != tc.outcome {
					t.Fatalf("ledger %s = %+v, want dropped as %s", id, e, tc.outcome)
				}
			}
			if r.requeue.count() != 0 {
				t.Fatal("a dropped command was requeued")
			}
			// The unsuspend that would follow is dropped without a call.
			if failed := r.deliver(t, unsuspend()); len(failed) != 0 {
				t.Fatal(failed)
			}
			for _, c := range r.fake.Commands()[sent:] {
				if c.Action != whmcs.ActionGetClientsProducts && c.Action != whmcs.ActionGetOrders {
					t.Fatalf("a dropped command sent %s", c.Action)
				}
			}
			if e := entry(t, r.ledger, "o-1:unsuspend"); e.Outcome != tc.outcome {
				t.Fatalf("unsuspend %+v", e)
			}
			if !strings.Contains(r.logs.String(), "command dropped") {
				t.Fatalf("not logged:\n%s", r.logs)
			}
		})
	}
	t.Run("the order deleted with its service, the hold cancelled", func(t *testing.T) {
		r := newPayRig(t)
		r.holds.set("o-1", kyc.Cancelled)
		e := provision()
		e.ServiceID = "5999" // WHMCS no longer has it
		if failed := r.deliver(t, e); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if got := entry(t, r.ledger, "o-1:provision"); got.Outcome != billing.OutcomeHoldClosed {
			t.Fatalf("ledger %+v", got)
		}
		r.holds.set("o-1", kyc.AwaitingKYC) // a service missing for no known reason is for a person
		e.ID = "o-2:provision"
		if failed := r.deliver(t, e); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
	})
	t.Run("a terminated service of an open order is still for a person", func(t *testing.T) {
		r := newPayRig(t)
		r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, OrderID: 500, Status: whmcs.StatusTerminated})
		if failed := r.deliver(t, provision()); len(failed) != 1 || !strings.Contains(r.logs.String(), `"kind":"service_state"`) {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
	})
}

// setupTickets returns the staff tickets about service 5001.
func setupTickets(r *payRig) []whmcstest.Ticket {
	var out []whmcstest.Ticket
	for _, tk := range r.fake.Tickets() {
		if strings.Contains(tk.Subject, "[KYC-SETUP-5001]") {
			out = append(out, tk)
		}
	}
	return out
}

func TestProductWithoutAModule(t *testing.T) {
	r := newPayRig(t)
	r.fake.AddProduct(whmcstest.Product{ID: 13, Name: "Dedicated server"})
	r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, OrderID: 500, ProductID: 13, NextDueDate: "2026-04-01"})
	_ = r.fake.PayOrder(500)
	p := provision()
	p.ServerRegion = "hk"
	if failed := r.deliver(t, p); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	want := []string{"GetClientsProducts", "GetOrders", "GetProducts", "GetTickets", "OpenTicket", "UpdateClientProduct"}
	if got := actions(r.fake); !slices.Equal(got, want) {
		t.Fatalf("WHMCS received %v, want %v", got, want)
	}
	tickets := setupTickets(r)
	if len(tickets) != 1 {
		t.Fatalf("tickets %+v", r.fake.Tickets())
	}
	tk := tickets[0]
	if tk.ClientID != 0 || tk.DeptID != 4 || tk.Name != "KYC gate" || tk.Email != "kyc@example.com" || tk.Priority != "High" || !tk.NoEmail ||
		tk.Subject != "Set up service #5001 by hand [KYC-SETUP-5001]" {
		t.Fatalf("setup ticket %+v", tk)
	}
	for _, s := range []string{"Service #5001 of client #42", "Dedicated server", "gate product kyc-vps", "region: hk", "2026-03-04 08:00 UTC"} {
		if !strings.Contains(tk.Message, s) {
			t.Errorf("ticket message lacks %q:\n%s", s, tk.Message)
		}
	}
	if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusActive {
		t.Fatalf("service %+v", sv)
	}
	if e := entry(t, r.ledger, "o-1:provision"); e.Outcome != billing.OutcomeAppliedByHand {
		t.Fatalf("ledger %+v", e)
	}

	// Suspended and unsuspended by hand: the status set, staff told in the
	// ticket (as the API admin, no e-mail to anyone), never a module command.
	if failed := r.deliver(t, suspend()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusSuspended || sv.SuspendReason != kyc.SuspendReasonKYC {
		t.Fatalf("service %+v", sv)
	}
	if failed := r.deliver(t, unsuspend()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusActive || sv.SuspendReason != "" {
		t.Fatalf("service %+v", sv)
	}
	tk = setupTickets(r)[0]
	if len(setupTickets(r)) != 1 || len(tk.Replies) != 2 || tk.Replies[0].Admin != "kyc-gate" || !tk.Replies[0].NoEmail ||
		!strings.Contains(tk.Replies[0].Message, "suspend the server") || !strings.Contains(tk.Replies[1].Message, "unsuspend the server") {
		t.Fatalf("setup ticket %+v", tk)
	}
	for _, a := range []string{whmcs.ActionModuleCreate, whmcs.ActionModuleSuspend, whmcs.ActionModuleUnsuspend} {
		if n, _ := r.fake.Count(a); n != 0 {
			t.Fatalf("%s sent for a product without a module", a)
		}
	}
}

func TestSetupTicketOnce(t *testing.T) {
	dedicated := func(t *testing.T) *payRig {
		r := newPayRig(t)
		r.fake.AddProduct(whmcstest.Product{ID: 13, Name: "Dedicated server"})
		r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, ProductID: 13})
		return r
	}
	t.Run("the ticket opened, its reply lost: the resumed attempt finds it", func(t *testing.T) {
		r := dedicated(t)
		r.fake.Inject(whmcs.ActionOpenTicket, whmcstest.Fault{Status: 504, Apply: true})
		if failed := r.deliver(t, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if e := entry(t, r.ledger, "o-1:provision"); !e.Uncertain {
			t.Fatalf("ledger %+v: an OpenTicket of unknown outcome must make the retry resume", e)
		}
		r.clock.Add(ledger.DefaultStaleAfter + time.Second)
		if failed := r.deliver(t, provision()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if n := len(setupTickets(r)); n != 1 {
			t.Fatalf("%d setup tickets, want 1", n)
		}
		if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusActive {
			t.Fatalf("service %+v", sv)
		}
	})
	t.Run("the status update's reply lost: retried (harmless), one ticket", func(t *testing.T) {
		r := dedicated(t)
		r.fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Apply: true}, whmcstest.Fault{Status: 500, Apply: true})
		if failed := r.deliver(t, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		r.clock.Add(ledger.DefaultStaleAfter + time.Second)
		if failed := r.deliver(t, provision()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if n := len(setupTickets(r)); n != 1 {
			t.Fatalf("%d setup tickets, want 1", n)
		}
		if e := entry(t, r.ledger, "o-1:provision"); e.Outcome != billing.OutcomeAlreadyActive {
			t.Fatalf("ledger %+v", e)
		}
	})
	t.Run("a suspend resumed after staff were told tells them once", func(t *testing.T) {
		r := dedicated(t)
		if failed := r.deliver(t, provision()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500}, whmcstest.Fault{Status: 500})
		if failed := r.deliver(t, suspend()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		r.clock.Add(ledger.DefaultStaleAfter + time.Second)
		if failed := r.deliver(t, suspend()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if tk := setupTickets(r)[0]; len(tk.Replies) != 1 {
			t.Fatalf("staff were told %d times: %+v", len(tk.Replies), tk.Replies)
		}
		if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusSuspended {
			t.Fatalf("service %+v", sv)
		}
	})
	t.Run("the setup ticket deleted: a new one", func(t *testing.T) {
		r := dedicated(t)
		if failed := r.deliver(t, provision()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.fake.DeleteTicket(setupTickets(r)[0].ID)
		if failed := r.deliver(t, suspend()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if tks := setupTickets(r); len(tks) != 1 || !strings.HasPrefix(tks[0].Subject, "Service #5001: suspend by hand") {
			t.Fatalf("tickets %+v", tks)
		}
	})
	t.Run("no setup department: failed for a person, nothing changed", func(t *testing.T) {
		r := dedicated(t)
		log := slog.New(slog.NewJSONHandler(r.logs, nil))
		r.handler = billing.NewHandler(billing.NewApplier(r.ledger, billing.NewWHMCS(r.client), log), log)
		if failed := r.deliver(t, provision()); len(failed) != 1 || !strings.Contains(r.logs.String(), `"kind":"no_setup_department"`) {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusPending || len(r.fake.Tickets()) != 0 {
			t.Fatalf("service %+v, tickets %v", sv, r.fake.Tickets())
		}
		if e := entry(t, r.ledger, "o-1:provision"); e.Uncertain {
			t.Fatalf("ledger %+v", e)
		}
	})
}

// HoldsOf reads the gate's hold: open on the customer record, else closed.
func TestHoldsOf(t *testing.T) {
	st := &holdStore{customers: map[string]kyc.Customer{}, closed: map[string]kyc.Hold{}}
	h := billing.HoldsOf(st)
	ctx := context.Background()
	c := kyc.NewCustomer("42", orderedAt)
	c.Holds = []kyc.Hold{{Order: kyc.Order{OrderID: "o-1"}, State: kyc.SuspendedKYC}}
	st.customers["42"] = c
	st.closed["o-2"] = kyc.Hold{Order: kyc.Order{OrderID: "o-2"}, State: kyc.Cancelled}
	for order, want := range map[string]kyc.HoldState{"o-1": kyc.SuspendedKYC, "o-2": kyc.Cancelled} {
		if got, err := h.HoldState(ctx, "42", order); err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", order, got, err, want)
		}
	}
	if _, err := h.HoldState(ctx, "42", "o-9"); !errors.Is(err, kyc.ErrNotExist) {
		t.Errorf("no hold: %v", err)
	}
	if got, err := h.HoldState(ctx, "43", "o-2"); err != nil || got != kyc.Cancelled {
		t.Errorf("a customer record missing: %s, %v", got, err)
	}
	st.err = errors.New("down")
	if _, err := h.HoldState(ctx, "42", "o-1"); err == nil {
		t.Error("a failed read was not reported")
	}
}

type holdStore struct {
	customers map[string]kyc.Customer
	closed    map[string]kyc.Hold
	err       error
}

func (s *holdStore) Customer(_ context.Context, id string) (kyc.Customer, error) {
	if s.err != nil {
		return kyc.Customer{}, s.err
	}
	c, ok := s.customers[id]
	if !ok {
		return kyc.Customer{}, kyc.ErrNotExist
	}
	return c, nil
}

func (s *holdStore) ClosedHold(_ context.Context, _, orderID string) (kyc.Hold, error) {
	h, ok := s.closed[orderID]
	if !ok {
		return kyc.Hold{}, kyc.ErrNotExist
	}
	return h, nil
}
