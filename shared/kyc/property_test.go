package kyc

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// timeline draws a random history for one customer: orders, submissions,
// decisions, sweeps, cancellations and service expiries at increasing times,
// and applies it through the rules. Operations the rules refuse (a second
// submission while one is pending, a decision with none) change nothing.
func timeline(t *rapid.T) *world {
	w := newWorld(t)
	now := time.Duration(0)
	orders := 0
	steps := rapid.IntRange(1, 30).Draw(t, "steps")
	for range steps {
		now += time.Duration(rapid.Int64Range(0, int64(40*h)).Draw(t, "gap"))
		switch op := rapid.IntRange(0, 7).Draw(t, "op"); op {
		case 0, 1:
			if orders < 5 {
				orders++
				late := time.Duration(rapid.Int64Range(0, int64(100*h)).Draw(t, "late"))
				product := rapid.SampledFrom([]string{"kyc-vps", "kyc-vps", "shared-hosting"}).Draw(t, "product")
				_ = w.orderAt(fmt.Sprintf("o%d", orders), now-late, now, product)
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
		}
		checkInvariants(t, w)
	}
	return w
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
		if h.Deadline.IsZero() || !h.Deadline.Equal(h.OrderedAt.Add(Window)) {
			t.Fatalf("open hold %s has deadline %s for order time %s", h.OrderID, h.Deadline, h.OrderedAt)
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
	}
	for _, e := range w.events {
		if e.Type != ServiceDueDateExtended {
			continue
		}
		if e.Extension.Exact < 0 || e.Extension.Days < 0 || e.NewDueDate.Before(*e.PreviousDueDate) {
			t.Fatalf("negative extension: %+v", e)
		}
		if d := e.Extension.Exact; time.Duration(e.Extension.Days)*24*time.Hour < d || time.Duration(e.Extension.Days-1)*24*time.Hour >= d && d > 0 {
			t.Fatalf("extension %s is not rounded up to %d days", d, e.Extension.Days)
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

func countOf[T comparable](s []T, v T) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestTimelineProperties: over random timelines a suspended hold is never
// extended, an extension is never negative, every hold is either open with a
// deadline or in exactly one terminal state, and a second sweep at the same
// time changes nothing.
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
