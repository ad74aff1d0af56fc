package kyc_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

func staffAction(w *kyctest.World, customerID, orderID string, action kyc.StaffActionKind) kyc.StaffActionEvent {
	return kyc.StaffActionEvent{OrderID: orderID, ServiceID: w.OrderEvent(customerID, orderID).ServiceID, CustomerID: customerID,
		Action: action, AdminID: "7"}
}

// TestRecordStaffAction: what staff did by hand in billing goes into the
// customer's audit trail, where the order's history shows it, and changes
// nothing else (docs/whmcs.md §5.1, §5.2).
func TestRecordStaffAction(t *testing.T) {
	for _, action := range kyc.StaffActionKinds {
		t.Run(string(action), func(t *testing.T) {
			w := kyctest.New(t)
			w.PlaceOrder("c-1", "o-1")
			w.Bus.Reset()
			before := w.Customer("c-1")
			w.Advance(time.Hour)
			res, err := w.Intake.RecordStaffAction(ctx, staffAction(w, "c-1", "o-1", action))
			if err != nil {
				t.Fatal(err)
			}
			if res != (kyc.IntakeResult{OrderID: "o-1", State: kyc.AwaitingKYC}) {
				t.Fatalf("result %+v", res)
			}
			after := w.Customer("c-1")
			if !reflect.DeepEqual(after.Holds, before.Holds) || after.Status != before.Status || after.DueAt() != before.DueAt() {
				t.Fatalf("the customer changed beyond its audit trail:\nbefore %+v\nafter  %+v", before, after)
			}
			wantEvents(t, w)
			e := lastEntry(t, w, "c-1")
			want := map[string]string{"serviceId": "svc-o-1", "adminId": "7", "holdState": "awaiting_kyc"}
			if e.Action != "staff."+string(action) || e.OrderID != "o-1" || e.Actor != kyc.ByBilling || !reflect.DeepEqual(e.Detail, want) ||
				!e.At.Equal(w.Now()) {
				t.Fatalf("audit entry %+v", e)
			}
			view, err := w.Service.OrderView(ctx, "o-1")
			if err != nil {
				t.Fatal(err)
			}
			last := view.History[len(view.History)-1]
			if last.Action != "staff."+string(action) || last.Detail["adminId"] != "7" || view.State != kyc.AwaitingKYC {
				t.Fatalf("order history %+v", view.History)
			}
			if rep, err := w.Service.VerifyAudit(ctx, "c-1"); err != nil || !rep.OK {
				t.Fatalf("audit chain %+v, %v", rep, err)
			}
		})
	}

	t.Run("a closed hold keeps its history too", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		w.Advance(time.Hour)
		w.Verify("c-1")
		res, err := w.Intake.RecordStaffAction(ctx, staffAction(w, "c-1", "o-1", kyc.StaffModuleUnsuspend))
		if err != nil || res.State != kyc.ProvisionedExtended {
			t.Fatalf("%+v, %v", res, err)
		}
		if e := lastEntry(t, w, "c-1"); e.Action != "staff.module_unsuspend" || e.Detail["holdState"] != "provisioned_extended" {
			t.Fatalf("audit entry %+v", e)
		}
	})

	t.Run("refused, and nothing written", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		w.PlaceOrder("c-2", "o-2")
		good := staffAction(w, "c-1", "o-1", kyc.StaffOverride)
		cases := []struct {
			name string
			edit func(*kyc.StaffActionEvent)
			kind kyc.Kind
			code string
		}{
			{"an order the gate never had", func(a *kyc.StaffActionEvent) { a.OrderID = "o-9" }, kyc.KindNotFound, "order_not_found"},
			{"another customer's order", func(a *kyc.StaffActionEvent) { a.OrderID = "o-2" }, kyc.KindInvalid, "invalid_customerId"},
			{"another service", func(a *kyc.StaffActionEvent) { a.ServiceID = "svc-o-2" }, kyc.KindInvalid, "invalid_serviceId"},
			{"an action the gate does not know", func(a *kyc.StaffActionEvent) { a.Action = "terminate" }, kyc.KindInvalid, "invalid_action"},
			{"no action", func(a *kyc.StaffActionEvent) { a.Action = "" }, kyc.KindInvalid, "invalid_action"},
			{"no admin", func(a *kyc.StaffActionEvent) { a.AdminID = "" }, kyc.KindInvalid, "invalid_adminId"},
			{"an order id that is no id", func(a *kyc.StaffActionEvent) { a.OrderID = "o 1" }, kyc.KindInvalid, "invalid_orderId"},
			{"a customer id that is no id", func(a *kyc.StaffActionEvent) { a.CustomerID = strings.Repeat("9", 129) }, kyc.KindInvalid, "invalid_customerId"},
			{"no service", func(a *kyc.StaffActionEvent) { a.ServiceID = "" }, kyc.KindInvalid, "invalid_serviceId"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				a := good
				tc.edit(&a)
				commits := w.Store.Calls(kyctest.MethodCommit)
				_, err := w.Intake.RecordStaffAction(ctx, a)
				wantErr(t, err, tc.kind, tc.code)
				if w.Store.Calls(kyctest.MethodCommit) != commits || len(w.Audit("c-1")) != 1 {
					t.Fatalf("a refused staff action wrote something: %v", actions(t, w, "c-1"))
				}
			})
		}
	})

	t.Run("a store that fails, and one that keeps changing", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		a := staffAction(w, "c-1", "o-1", kyc.StaffModuleCreate)
		w.Store.FailNext(kyctest.MethodOrderOwner, errBoom)
		_, err := w.Intake.RecordStaffAction(ctx, a)
		wantInternal(t, err, errBoom)
		w.Store.FailNext(kyctest.MethodCommit, errBoom)
		_, err = w.Intake.RecordStaffAction(ctx, a)
		wantInternal(t, err, errBoom)
		for range 5 {
			w.Store.FailNext(kyctest.MethodCommit, kyc.ErrStale)
		}
		_, err = w.Intake.RecordStaffAction(ctx, a)
		wantErr(t, err, kyc.KindConflict, "busy")
		w.Store.FailNext(kyctest.MethodCommit, kyc.ErrStale) // one lost race: re-read, then recorded
		if _, err := w.Intake.RecordStaffAction(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := actions(t, w, "c-1"); !slices.Equal(got, []string{"order.held", "staff.module_create"}) {
			t.Fatalf("audit %v", got)
		}
	})
}

// TestDecodeStaffAction: the detail of each billing event type is read
// strictly by its own shape: a StaffAction with an order's fields, or an
// order with a staff action's, is refused.
func TestDecodeStaffAction(t *testing.T) {
	a, err := kyc.DecodeStaffAction([]byte(`{"orderId":"5001-9001","serviceId":"9001","customerId":"1001","action":"override","adminId":"7"}`))
	if err != nil || a != (kyc.StaffActionEvent{OrderID: "5001-9001", ServiceID: "9001", CustomerID: "1001", Action: kyc.StaffOverride, AdminID: "7"}) {
		t.Fatalf("%+v, %v", a, err)
	}
	for _, bad := range []string{
		`{"orderId":"5001-9001","serviceId":"9001","customerId":"1001","action":"override","adminId":"7","productId":"kyc-vps"}`,
		`{"orderId":"5001-9001","adminId":7}`,
		`{"orderId":"5001-9001"} {}`,
		`{"orderId":"5001-9001","` + strings.Repeat("x", 300) + `":1}`,
		`null x`,
	} {
		_, err := kyc.DecodeStaffAction([]byte(bad))
		wantErr(t, err, kyc.KindInvalid, "malformed_detail")
		if strings.Contains(err.Error(), strings.Repeat("x", 60)) {
			t.Errorf("the error repeats the input: %v", err)
		}
	}
	_, err = kyc.DecodeBillingEvent([]byte(`{"orderId":"5001-9001","action":"override"}`))
	wantErr(t, err, kyc.KindInvalid, "malformed_detail")
	w := kyctest.New(t)
	_, err = w.Intake.ApplyBillingEvent(ctx, kyc.StaffAction, kyc.BillingEvent{OrderID: "o-1"})
	wantErr(t, err, kyc.KindInvalid, "malformed_detail")
}

// TestBillingView: what the billing system's guard and pages read about a
// customer (docs/whmcs.md §7.3): status, holds with their time zones, and
// the services released to billing.
func TestBillingView(t *testing.T) {
	view := func(t *testing.T, w *kyctest.World, id string) kyc.BillingView {
		t.Helper()
		v, err := w.Intake.BillingView(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Run("a customer the gate does not know is unverified, with empty lists", func(t *testing.T) {
		w := kyctest.New(t)
		b, _ := json.Marshal(view(t, w, "1001"))
		if string(b) != `{"customerId":"1001","status":"unverified","holds":[],"released":[]}` {
			t.Fatalf("view %s", b)
		}
		if w.Store.Calls(kyctest.MethodCommit) != 0 {
			t.Fatal("a read wrote")
		}
	})
	t.Run("a held order is not released; its hold carries the deadline and time zone", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		v := view(t, w, "c-1")
		want := kyc.BillingHold{OrderID: "o-1", ServiceID: "svc-o-1", ProductID: kyctest.ProductKYC, State: kyc.AwaitingKYC,
			OrderedAt: w.Now(), Deadline: w.Now().Add(kyc.Window), ServerRegion: kyctest.Region, TimeZone: kyctest.Zone}
		if v.Status != kyc.StatusUnverified || len(v.Holds) != 1 || v.Holds[0] != want || len(v.Released) != 0 {
			t.Fatalf("view %+v", v)
		}
	})
	t.Run("released: every service the gate asked billing to provision", func(t *testing.T) {
		w := kyctest.New(t)
		plain := w.OrderEvent("c-1", "o-plain")
		plain.ProductID = kyctest.ProductPlain
		w.Place(plain)             // not_required: never released by the gate
		w.PlaceOrder("c-1", "o-1") // suspended at the deadline: provisioned, then suspended
		w.PlaceOrder("c-1", "o-2") // cancelled while waiting: never provisioned
		w.Advance(kyc.Window + time.Hour)
		if _, err := w.Intake.CancelOrder(ctx, "o-2"); err != nil {
			t.Fatal(err)
		}
		w.Sweep()
		w.PlaceOrder("c-1", "o-3") // cancelled after its suspension: it was provisioned
		w.Advance(kyc.Window + time.Hour)
		w.Sweep()
		if _, err := w.Intake.CancelOrder(ctx, "o-3"); err != nil {
			t.Fatal(err)
		}
		v := view(t, w, "c-1")
		if !slices.Equal(v.Released, []string{"svc-o-1", "svc-o-3"}) {
			t.Fatalf("released %v", v.Released)
		}
		states := map[string]kyc.HoldState{}
		for _, h := range v.Holds {
			states[h.OrderID] = h.State
		}
		if !reflect.DeepEqual(states, map[string]kyc.HoldState{"o-plain": kyc.NotRequired, "o-1": kyc.SuspendedKYC, "o-2": kyc.Cancelled, "o-3": kyc.Cancelled}) {
			t.Fatalf("holds %v", states)
		}
		if v.Holds[0].OrderID != "o-3" {
			t.Fatalf("holds are not newest order first: %+v", v.Holds)
		}
	})
	t.Run("an approval releases; a verified customer's new order is released at once", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		w.Advance(time.Hour)
		w.Verify("c-1")
		w.Advance(time.Hour)
		w.PlaceOrder("c-1", "o-2")
		v := view(t, w, "c-1")
		if v.Status != kyc.StatusVerified || !v.VerifiedAt.Equal(w.Now().Add(-time.Hour)) || v.ExpiresAt.IsZero() ||
			!slices.Equal(v.Released, []string{"svc-o-1", "svc-o-2"}) {
			t.Fatalf("view %+v", v)
		}
		w.Advance(2 * 366 * 24 * time.Hour)
		if v := view(t, w, "c-1"); v.Status != kyc.StatusExpired {
			t.Fatalf("status %s after two years", v.Status)
		}
	})
	t.Run("a release is visible once committed, before its command is published", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		sub := w.Submit("c-1")
		v := w.Review("rev-1", sub).Version
		w.Bus.FailNext(errBoom) // the command is left in the outbox
		w.Decide("rev-1", sub, kyctest.Approval(v))
		if len(w.Events(kyc.ServiceProvisionRequested)) != 0 {
			t.Fatal("the command was published")
		}
		if got := view(t, w, "c-1").Released; !slices.Equal(got, []string{"svc-o-1"}) {
			t.Fatalf("released %v before publication, want the committed release", got)
		}
	})
	t.Run("refused and failed reads", func(t *testing.T) {
		w := kyctest.New(t)
		_, err := w.Intake.BillingView(ctx, "10 01")
		wantErr(t, err, kyc.KindInvalid, "invalid_customerId")
		w.Store.FailNext(kyctest.MethodAccount, errBoom)
		_, err = w.Intake.BillingView(ctx, "1001")
		wantInternal(t, err, errBoom)
	})
}

// TestReviewQueue: the review queue's size and oldest wait, for the billing
// system's dashboard.
func TestReviewQueue(t *testing.T) {
	w := kyctest.New(t)
	q, err := w.Intake.ReviewQueue(ctx)
	if err != nil || q != (kyc.QueueSummary{}) {
		t.Fatalf("empty queue: %+v, %v", q, err)
	}
	first := w.Submit("c-1")
	w.Advance(2 * time.Hour)
	w.Submit("c-2")
	w.Advance(3 * time.Minute)
	if q, err := w.Intake.ReviewQueue(ctx); err != nil || q != (kyc.QueueSummary{Size: 2, OldestWaitSeconds: 7380}) {
		t.Fatalf("queue %+v, %v", q, err)
	}
	w.Claim("rev-1", first) // a claimed submission still waits
	if q, _ := w.Intake.ReviewQueue(ctx); q.Size != 2 {
		t.Fatalf("queue %+v after a claim", q)
	}
	w.Approve("rev-1", first)
	if q, err := w.Intake.ReviewQueue(ctx); err != nil || q != (kyc.QueueSummary{Size: 1, OldestWaitSeconds: 180}) {
		t.Fatalf("queue %+v, %v after a decision", q, err)
	}
	w.Store.FailNext(kyctest.MethodPendingCount, errBoom)
	_, err = w.Intake.ReviewQueue(ctx)
	wantInternal(t, err, errBoom)
	w.Store.FailNext(kyctest.MethodOldestPending, errBoom)
	_, err = w.Intake.ReviewQueue(ctx)
	wantInternal(t, err, errBoom)
	w.Store.FailNext(kyctest.MethodOldestPending, kyc.ErrNotExist) // decided between the count and the read
	if q, err := w.Intake.ReviewQueue(ctx); err != nil || q.OldestWaitSeconds != 0 {
		t.Fatalf("queue %+v, %v", q, err)
	}
}
