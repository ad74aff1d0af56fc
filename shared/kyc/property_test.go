package kyc

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// timeline draws a random history for one customer: orders (some reported
// late, some without a due date), submissions, decisions, sweeps,
// cancellations and service expiries at increasing times, with billing
// renewing services and the billing system applying the gate's commands
// whenever it gets round to them (possibly twice), and applies it through the
// rules. Operations the rules refuse (a second submission while one is
// pending, a decision with none) change nothing.
func timeline(t *rapid.T) *world {
	w := newWorld(t)
	b := newBillingModel()
	now := time.Duration(0)
	orders := 0
	steps := rapid.IntRange(1, 30).Draw(t, "steps")
	for range steps {
		now += time.Duration(rapid.Int64Range(0, int64(40*h)).Draw(t, "gap"))
		switch op := rapid.IntRange(0, 9).Draw(t, "op"); op {
		case 0, 1:
			if orders < 5 {
				orders++
				late := time.Duration(rapid.Int64Range(-int64(OrderClockSkew), int64(100*h)).Draw(t, "late")) // reported late, or stamped by a clock ahead of ours
				product := rapid.SampledFrom([]string{"kyc-vps", "kyc-vps", "shared-hosting"}).Draw(t, "product")
				o := Order{OrderID: fmt.Sprintf("o%d", orders), ProductID: product}
				if rapid.IntRange(0, 3).Draw(t, "oneTime") > 0 {
					o.NextDueDate = due0.AddDays(rapid.IntRange(0, 60).Draw(t, "dueIn"))
				}
				if w.place(o, now-late, now) == nil {
					b.order("svc-"+o.OrderID, o.NextDueDate)
				}
			}
		case 2:
			_ = w.submit(now)
		case 3:
			_ = w.decide(now, true)
		case 4:
			_ = w.decide(now, false)
		case 5, 6:
			sweepTwice(t, w, now)
		case 7:
			if len(w.c.Holds) > 0 {
				h := rapid.SampledFrom(w.c.Holds).Draw(t, "hold")
				if rapid.Bool().Draw(t, "cancel") {
					if ch, err := w.c.CancelOrder(h.OrderID, t0.Add(now)); err == nil {
						w.apply(ch)
					}
				} else if ch, err := w.c.ServiceExpired(h.OrderID, t0.Add(now)); err == nil {
					w.apply(ch)
				}
			}
		case 8: // a payment renews a service: billing moves its due date by a cycle
			if services := b.services(); len(services) > 0 {
				b.renew(rapid.SampledFrom(services).Draw(t, "renewed"))
			}
		case 9: // billing applies what the gate sent so far, maybe some of it twice
			b.deliver(w.events, rapid.Bool().Draw(t, "redeliver"))
		}
		checkInvariants(t, w)
	}
	b.deliver(w.events, true)
	checkBilling(t, w, b)
	return w
}

// billingModel is billing as the contract describes it: each service's due
// date moves forward a cycle when paid, and a ServiceDueDateExtended adds its
// days to the date held when it is applied, once per event id.
type billingModel struct {
	due      map[string]Date // billing's date now
	noGate   map[string]Date // what it would be without the gate's extensions
	applied  map[string]bool // event ids applied
	added    map[string]int  // days added per service
	received int             // events seen so far
}

func newBillingModel() *billingModel {
	return &billingModel{due: map[string]Date{}, noGate: map[string]Date{}, applied: map[string]bool{}, added: map[string]int{}}
}

func (b *billingModel) order(service string, due Date) {
	if !due.IsZero() {
		b.due[service], b.noGate[service] = due, due
	}
}

func (b *billingModel) services() []string {
	var out []string
	for s := range b.due {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (b *billingModel) renew(service string) {
	b.due[service] = b.due[service].AddDays(30)
	b.noGate[service] = b.noGate[service].AddDays(30)
}

// deliver applies the extensions among the events not delivered yet (and,
// with again, every extension ever sent once more, as a redelivery).
func (b *billingModel) deliver(events []Event, again bool) {
	from := b.received
	if again {
		from = 0
	}
	for _, e := range events[from:] {
		if e.Type != ServiceDueDateExtended || b.applied[e.ID] {
			continue
		}
		b.applied[e.ID] = true
		if d, ok := b.due[e.ServiceID]; ok {
			b.due[e.ServiceID] = d.AddDays(e.Extension.Days)
			b.added[e.ServiceID] += e.Extension.Days
		}
	}
	b.received = len(events)
}

// checkBilling: the due date billing ends with is never earlier than it
// would have been without the gate, and is later by exactly the extension
// the gate granted (applied once, whenever billing applied it).
func checkBilling(t *rapid.T, w *world, b *billingModel) {
	for service, due := range b.due {
		if due.Before(b.noGate[service]) {
			t.Fatalf("%s: billing ends due %s, earlier than %s without the gate", service, due, b.noGate[service])
		}
		granted := 0
		if hold, ok := w.closed[strings.TrimPrefix(service, "svc-")]; ok && hold.Extension != nil && hold.State == ProvisionedExtended {
			granted = hold.Extension.Days
		}
		if want := b.noGate[service].AddDays(granted); due != want || b.added[service] != granted {
			t.Fatalf("%s: billing ends due %s (+%d days), want %s (+%d days granted)", service, due, b.added[service], want, granted)
		}
	}
}

// sweepTwice sweeps at now and proves a second sweep at the same time
// changes nothing.
func sweepTwice(t *rapid.T, w *world, now time.Duration) {
	w.sweep(now)
	if ch, changed := w.c.Sweep(t0.Add(now)); changed {
		t.Fatalf("a second sweep at %s changed: %d events, %d audit entries", now, len(ch.Events), len(ch.Audit))
	}
}

func checkInvariants(t *rapid.T, w *world) {
	for _, h := range w.c.Holds {
		if !h.State.Open() {
			t.Fatalf("open list holds %s in terminal state %s", h.OrderID, h.State)
		}
		if h.Deadline.Before(deadlineFor(h.OrderedAt, h.ReceivedAt)) {
			t.Fatalf("open hold %s has deadline %s, before 3 days after it was asked for (ordered %s, received %s)",
				h.OrderID, h.Deadline, h.OrderedAt, h.ReceivedAt)
		}
		if _, closed := w.closed[h.OrderID]; closed {
			t.Fatalf("hold %s is both open and closed", h.OrderID)
		}
	}
	terminal := []HoldState{ProvisionedExtended, Released, Expired, Cancelled, NotRequired, Provisioned}
	for id, h := range w.closed {
		if !slices.Contains(terminal, h.State) {
			t.Fatalf("closed hold %s in state %s", id, h.State)
		}
	}
	for id := range w.closed {
		cmds := w.commands(id)
		suspended := slices.Index(cmds, ServiceSuspendRequested)
		extended := slices.Index(cmds, ServiceDueDateExtended)
		if suspended >= 0 && extended > suspended {
			t.Fatalf("order %s was extended after a KYC suspension: %v", id, cmds)
		}
		if n := countOf(cmds, ServiceProvisionRequested); n > 1 {
			t.Fatalf("order %s provisioned %d times", id, n)
		}
		if h := w.closed[id]; (h.State == Cancelled || h.State == Expired) && h.ClosedAt.Before(lastCommandAt(w, id)) {
			t.Fatalf("order %s got a command after billing closed it: %v", id, cmds)
		}
	}
	asked := map[string]time.Time{}
	for _, e := range w.events {
		switch e.Type {
		case KycRequested:
			asked[e.OrderID] = e.At
		case ServiceSuspendRequested:
			// Never suspended before the customer had 3 days after being asked.
			at, ok := asked[e.OrderID]
			if !ok || !e.At.After(at.Add(Window)) {
				t.Fatalf("order %s suspended at %s; asked at %s (asked: %v)", e.OrderID, e.At, at, ok)
			}
		case ServiceDueDateExtended:
			if e.Extension.Exact <= 0 || e.Extension.Days <= 0 || e.PreviousDueDate == nil || e.PreviousDueDate.IsZero() {
				t.Fatalf("an extension with nothing to extend: %+v", e)
			}
			if d := e.Extension.Exact; time.Duration(e.Extension.Days)*24*time.Hour < d || time.Duration(e.Extension.Days-1)*24*time.Hour >= d {
				t.Fatalf("extension %s is not rounded up to %d days", d, e.Extension.Days)
			}
		}
	}
	for id, h := range w.closed {
		if h.Rendered && asked[id].IsZero() {
			t.Fatalf("order %s is rendered but its customer was never asked", id)
		}
	}
	ids := map[string]bool{}
	for _, e := range w.events {
		if ids[e.ID] {
			t.Fatalf("event id %s emitted twice", e.ID)
		}
		ids[e.ID] = true
	}
}

// lastCommandAt is when the last billing command about an order was sent.
func lastCommandAt(w *world, orderID string) time.Time {
	var last time.Time
	for _, e := range w.events {
		if e.OrderID == orderID && e.Type != KycRequested && e.At.After(last) {
			last = e.At
		}
	}
	return last
}

func countOf[T comparable](s []T, v T) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestTimelineProperties: over random timelines a service is never suspended
// before its customer had 72 h after being asked; the due date billing ends
// with is never earlier than it would have been without the gate, and later by
// exactly the extension granted, applied once however the commands were
// redelivered and whatever renewals came between; a suspended hold is never
// extended; every hold is either open with a deadline or in exactly one
// terminal state; and a second sweep at the same time changes nothing.
func TestTimelineProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { timeline(t) })
}

// TestApprovalAndSweepCommute: with fixed timestamps for an approval and a
// sweep, the holds end in the same states with the same due dates whichever
// is applied first.
func TestApprovalAndSweepCommute(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := timeline(t)
		if base.c.Pending == nil {
			_ = base.submit(lastTime(base))
		}
		if base.c.Pending == nil {
			t.Skip("customer verified: no approval possible")
		}
		start := lastTime(base)
		approveAt := start + time.Duration(rapid.Int64Range(0, int64(150*h)).Draw(t, "approveAt"))
		sweepAt := start + time.Duration(rapid.Int64Range(0, int64(150*h)).Draw(t, "sweepAt"))

		a, b := base.clone(t), base.clone(t)
		a.sweep(sweepAt)
		a.approve(approveAt)
		b.approve(approveAt)
		b.sweep(sweepAt)

		for id := range a.closed {
			ha, hb := a.hold(id), b.hold(id)
			if ha.State != hb.State || ha.NextDueDate != hb.NextDueDate {
				t.Fatalf("order %s: sweep first → %s due %s; approval first → %s due %s",
					id, ha.State, ha.NextDueDate, hb.State, hb.NextDueDate)
			}
		}
		if len(a.closed) != len(b.closed) || len(a.c.Holds) != len(b.c.Holds) {
			t.Fatalf("different holds: %d/%d closed, %d/%d open", len(a.closed), len(b.closed), len(a.c.Holds), len(b.c.Holds))
		}
	})
}

// lastTime is the time of the latest thing that happened to the customer.
func lastTime(w *world) time.Duration {
	last := t0
	for _, e := range w.events {
		if e.At.After(last) {
			last = e.At
		}
	}
	for _, h := range append(slices.Clone(w.c.Holds), mapValues(w.closed)...) {
		if h.UpdatedAt.After(last) {
			last = h.UpdatedAt
		}
	}
	if w.c.Pending != nil && w.c.Pending.SubmittedAt.After(last) {
		last = w.c.Pending.SubmittedAt
	}
	return last.Sub(t0)
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (w *world) clone(tb tb) *world {
	c := *w
	c.tb = tb
	c.c.Holds = slices.Clone(w.c.Holds)
	c.closed = map[string]Hold{}
	for k, v := range w.closed {
		c.closed[k] = v
	}
	c.events = slices.Clone(w.events)
	return &c
}
