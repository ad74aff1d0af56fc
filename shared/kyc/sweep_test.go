package kyc_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// TestSweepDeadline: at the deadline the sweep applies the 3-day rule by the
// timestamps (P7, SPEC "timely response means a complete submission").
func TestSweepDeadline(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(w *kyctest.World)
		at       time.Duration // after the order
		state    kyc.HoldState
		events   []kyc.EventType
		rendered bool
		count    func(r kyc.SweepReport) int
	}{
		{"at the deadline itself nothing happens yet", func(*kyctest.World) {}, kyc.Window, kyc.AwaitingKYC, nil, false, nil},
		{"past the deadline without a submission: provision and suspend", func(*kyctest.World) {}, kyc.Window + time.Nanosecond,
			kyc.SuspendedKYC, []kyc.EventType{kyc.ServiceProvisionRequested, kyc.ServiceSuspendRequested}, true,
			func(r kyc.SweepReport) int { return r.Suspended }},
		{"past the deadline with a timely submission under review: wait for the reviewer", func(w *kyctest.World) { w.Submit("c-1") },
			kyc.Window + time.Hour, kyc.AwaitingReview, nil, false, func(r kyc.SweepReport) int { return r.AwaitingReview }},
		{"a submission after the deadline is not timely", func(w *kyctest.World) {
			w.Advance(kyc.Window + time.Minute)
			w.Submit("c-1")
		}, kyc.Window + time.Hour, kyc.SuspendedKYC, []kyc.EventType{kyc.ServiceProvisionRequested, kyc.ServiceSuspendRequested}, true,
			func(r kyc.SweepReport) int { return r.Suspended }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			w.PlaceOrder("c-1", "o-1")
			tt.setup(w)
			w.Bus.Reset()
			w.Clock.Set(kyctest.Epoch.Add(tt.at))
			rep := w.Sweep()
			h := w.Hold("c-1", "o-1")
			if h.State != tt.state || h.Rendered != tt.rendered {
				t.Fatalf("hold %s rendered=%v, want %s rendered=%v", h.State, h.Rendered, tt.state, tt.rendered)
			}
			wantEvents(t, w, tt.events...)
			if tt.count != nil && (tt.count(rep) != 1 || rep.Changed != 1 || rep.CustomersDue != 1) {
				t.Fatalf("report %+v", rep)
			}
			if tt.count == nil && rep.Changed != 0 {
				t.Fatalf("report %+v, want nothing changed", rep)
			}
			if tt.state == kyc.SuspendedKYC {
				suspend := w.Events(kyc.ServiceSuspendRequested)[0]
				if !suspend.Rendered || suspend.After != "o-1:provision" || suspend.Reason != kyc.SuspendReasonKYC {
					t.Fatalf("suspend event %+v", suspend)
				}
			}
			// Twice is once.
			check := unchanged(t, w)
			if rep := w.Sweep(); rep.Changed != 0 {
				t.Fatalf("a second sweep changed %d", rep.Changed)
			}
			check()
		})
	}
}

// TestSweepAfterARejectionOfATimelySubmission: the 3-day clock stopped while
// the submission waited (SPEC amended 2026-12-03): the rejection gives back
// the 2 hours that were left, counted from the decision, the notice says
// until when, and the sweep suspends only once they have run out.
func TestSweepAfterARejectionOfATimelySubmission(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	w.Advance(70 * time.Hour)
	sub := w.Submit("c-1") // 2 h before the deadline
	w.Advance(10 * time.Hour)
	w.Sweep() // awaiting_review
	w.Bus.Reset()
	w.Reject("rev-1", sub)
	rejectedAt := w.Now()
	h := w.Hold("c-1", "o-1")
	if h.State != kyc.AwaitingKYC || h.Rendered || !h.Deadline.Equal(rejectedAt.Add(2*time.Hour)) {
		t.Fatalf("hold %+v: want awaiting_kyc until 2 h after the rejection", h)
	}
	wantEvents(t, w, kyc.KycRejected)
	if e := w.Events(kyc.KycRejected)[0]; e.Deadline == nil || !e.Deadline.Equal(h.Deadline) || e.TimeZone != kyctest.Zone {
		t.Fatalf("KycRejected %+v: want the new deadline in %s", e, kyctest.Zone)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "hold.rejected" || e.From != string(kyc.AwaitingReview) || e.To != string(kyc.AwaitingKYC) ||
		e.Detail["deadline"] != h.Deadline.Format(time.RFC3339) {
		t.Fatalf("audit %+v", e)
	}
	w.Advance(2 * time.Hour)
	if rep := w.Sweep(); rep.Changed != 0 {
		t.Fatalf("a sweep at the new deadline: %+v", rep)
	}
	w.Advance(time.Nanosecond)
	if rep := w.Sweep(); rep.Suspended != 1 {
		t.Fatalf("a sweep after the new deadline: %+v", rep)
	}
	wantEvents(t, w, kyc.KycRejected, kyc.ServiceProvisionRequested, kyc.ServiceSuspendRequested)
}

func TestSweepExpiryReminderAndExpiry(t *testing.T) {
	w := kyctest.New(t)
	res := w.Verify("c-1")
	w.Bus.Reset()
	w.Clock.Set(res.ExpiresAt.Add(-kyc.ReminderBefore - time.Nanosecond))
	if rep := w.Sweep(); rep.Changed != 0 {
		t.Fatalf("before the reminder: %+v", rep)
	}
	w.Clock.Set(res.ExpiresAt.Add(-kyc.ReminderBefore))
	if rep := w.Sweep(); rep.Expiring != 1 {
		t.Fatalf("at the reminder: %+v", rep)
	}
	w.Sweep()
	w.Clock.Set(res.ExpiresAt)
	if rep := w.Sweep(); rep.Expired != 1 {
		t.Fatalf("at expiry: %+v", rep)
	}
	w.Sweep()
	wantEvents(t, w, kyc.KycExpiring, kyc.KycExpired)
	if c := w.Customer("c-1"); c.Status != kyc.StatusExpired {
		t.Fatalf("customer %s, want expired", c.Status)
	}
	if due, err := w.Store.Due(ctx, res.ExpiresAt.Add(1000*24*time.Hour), 10); err != nil || len(due.Customers) != 0 {
		t.Fatalf("due after expiry: %+v, %v; want nothing", due, err)
	}
}

// TestSweepNeverExpiresASuspendedService: billing owns the service's dates
// (SPEC amended 2026-12-03): a suspended hold is not even due once its
// order-time due date passed, and stays suspended until billing says the
// service ended, so a customer who passes KYC later is unsuspended.
func TestSweepNeverExpiresASuspendedService(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.NextDueDate = kyc.NewDate(2026, 3, 10)
	w.Place(e)
	w.Advance(kyc.Window + time.Hour)
	w.Sweep()
	if c := w.Customer("c-1"); !c.DueAt().IsZero() {
		t.Fatalf("a suspended hold is due at %s", c.DueAt())
	}
	w.Clock.Set(kyc.NewDate(2026, 6, 1).Time()) // long after the due date the order carried
	if rep := w.Sweep(); rep.Changed != 0 || rep.CustomersDue != 0 {
		t.Fatalf("after the order-time due date: %+v", rep)
	}
	if h := w.Hold("c-1", "o-1"); h.State != kyc.SuspendedKYC || !h.Rendered {
		t.Fatalf("hold %+v, want still suspended_kyc", h)
	}
	w.Bus.Reset()
	w.Verify("c-1")
	if h := w.Hold("c-1", "o-1"); h.State != kyc.Released {
		t.Fatalf("hold %s after the approval, want released", h.State)
	}
	wantEvents(t, w, kyc.KycVerified, kyc.ServiceUnsuspendRequested)
}

// TestSweepRepublishesTheOutbox: events of a committed change whose
// publication failed are published by the sweep, once the owner had its
// minute; consumers recognise the event ids.
func TestSweepRepublishesTheOutbox(t *testing.T) {
	w := kyctest.New(t)
	w.Bus.FailNext(errBoom)
	w.PlaceOrder("c-1", "o-1")
	wantEvents(t, w)
	if !strings.Contains(w.Logs(), "publish failed") {
		t.Fatalf("the failed publication is not logged:\n%s", w.Logs())
	}
	w.Advance(kyctest.OutboxGrace - time.Nanosecond)
	if rep := w.Sweep(); rep.OutboxesPublished != 0 {
		t.Fatalf("within the grace: %+v", rep)
	}
	w.Advance(time.Nanosecond)
	w.Bus.FailNext(errBoom)
	rep, err := w.Sweeper.Sweep(ctx, w.Now())
	if err == nil || rep.Failed != 1 || rep.OutboxesPublished != 0 {
		t.Fatalf("a failed republication: %+v, %v", rep, err)
	}
	if rep := w.Sweep(); rep.OutboxesPublished != 1 || rep.Changed != 1 {
		t.Fatalf("report %+v", rep)
	}
	ev := w.Events()
	if len(ev) != 1 || ev[0].Type != kyc.KycRequested || ev[0].ID != "o-1:kyc-requested" {
		t.Fatalf("events %+v", ev)
	}
	if rep := w.Sweep(); rep.OutboxesPublished != 0 {
		t.Fatalf("the outbox was published twice: %+v", rep)
	}
}

func TestSweepKeepsAnOutboxItCouldNotDelete(t *testing.T) {
	w := kyctest.New(t)
	w.Store.FailNext(kyctest.MethodDeleteOutbox, errBoom)
	w.PlaceOrder("c-1", "o-1") // published, the outbox stays
	w.Advance(kyctest.OutboxGrace)
	w.Store.FailNext(kyctest.MethodDeleteOutbox, errBoom)
	if rep := w.Sweep(); rep.OutboxesPublished != 1 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep := w.Sweep(); rep.OutboxesPublished != 1 {
		t.Fatalf("report %+v: the outbox left behind is published again", rep)
	}
	if got := len(w.Events()); got != 3 {
		t.Fatalf("%d deliveries of one event, want 3 (consumers recognise its id)", got)
	}
}

// TestSweepNeverSuspendsAnApprovedHold: an approval that commits after the
// sweep read the due index but before its write wins; the sweep re-reads and
// finds nothing left to do.
func TestSweepNeverSuspendsAnApprovedHold(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	sub := w.Submit("c-1")
	v := w.Review("rev-1", sub).Version
	w.Advance(kyc.Window + time.Hour)
	w.Bus.Reset()
	w.Store.After(kyctest.MethodDue, func() { w.Decide("rev-1", sub, kyctest.Approval(v)) })
	rep := w.Sweep()
	if rep.Suspended != 0 || rep.AwaitingReview != 0 {
		t.Fatalf("report %+v, want nothing applied", rep)
	}
	if h := w.Hold("c-1", "o-1"); h.State != kyc.ProvisionedExtended {
		t.Fatalf("hold %s", h.State)
	}
	wantEvents(t, w, kyc.KycVerified, kyc.ServiceProvisionRequested, kyc.ServiceDueDateExtended)
}

func TestSweepConcurrently(t *testing.T) {
	w := kyctest.New(t)
	for _, c := range []string{"c-1", "c-2", "c-3"} {
		w.PlaceOrder(c, "o-"+c)
	}
	w.Advance(kyc.Window + time.Hour)
	w.Bus.Reset()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.Sweeper.Sweep(ctx, w.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := slices.Repeat([]kyc.EventType{kyc.ServiceProvisionRequested, kyc.ServiceSuspendRequested}, 3)
	if got := types(w.Events()); len(got) != len(want) {
		t.Fatalf("events %v, want each hold suspended once", got)
	}
}

func TestSweepReportsTheOldestPendingReview(t *testing.T) {
	w := kyctest.New(t)
	w.Submit("c-1")
	w.Advance(3 * time.Hour)
	if rep := w.Sweep(); rep.OldestPendingReview != 3*time.Hour {
		t.Fatalf("oldest pending review %s, want 3h", rep.OldestPendingReview)
	}
	w.Store.FailNext(kyctest.MethodOldestPending, errBoom)
	if rep := w.Sweep(); rep.OldestPendingReview != 0 {
		t.Fatalf("report %+v: an unread metric is left out, not failed", rep)
	}
}

func TestSweepPortFailures(t *testing.T) {
	t.Run("the due index", func(t *testing.T) {
		w := kyctest.New(t)
		w.Store.FailNext(kyctest.MethodDue, errBoom)
		_, err := w.Sweeper.Sweep(ctx, w.Now())
		wantInternal(t, err, errBoom)
	})
	t.Run("a customer's write fails; the others are swept", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		w.PlaceOrder("c-2", "o-2")
		w.Advance(kyc.Window + time.Hour)
		w.Store.FailNext(kyctest.MethodCommit, errBoom)
		rep, err := w.Sweeper.Sweep(ctx, w.Now())
		if err == nil || rep.Failed != 1 || rep.Suspended != 1 {
			t.Fatalf("report %+v, %v", rep, err)
		}
		if rep := w.Sweep(); rep.Suspended != 1 {
			t.Fatalf("the next sweep: %+v", rep)
		}
	})
	t.Run("a customer that keeps changing is re-read", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		w.Advance(kyc.Window + time.Hour)
		w.Store.FailNext(kyctest.MethodCommit, kyc.ErrStale)
		w.Store.FailNext(kyctest.MethodCustomer, errBoom)
		rep, err := w.Sweeper.Sweep(ctx, w.Now())
		if err == nil || rep.Failed != 1 {
			t.Fatalf("report %+v, %v", rep, err)
		}
	})
}

// A full batch of the due index may hide more behind it: the sweep reads on
// while it makes progress.
func TestSweepReadsPastAFullBatch(t *testing.T) {
	w := kyctest.New(t)
	n := kyc.SweepBatch + 1
	for i := range n {
		w.PlaceOrder(fmt.Sprintf("c-%d", i), fmt.Sprintf("o-%d", i))
	}
	w.Advance(kyc.Window + time.Hour)
	rep := w.Sweep()
	if rep.Suspended != n || rep.CustomersDue != n {
		t.Fatalf("report %+v, want %d holds suspended", rep, n)
	}
	if got := w.Store.Calls(kyctest.MethodDue); got < 2 {
		t.Fatalf("%d reads of the due index, want a second one after the full batch", got)
	}
}
