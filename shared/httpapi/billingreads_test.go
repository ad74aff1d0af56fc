package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// billingFixture is billing-intake's handler over a kyctest world.
type billingFixture struct {
	w      *kyctest.World
	h      http.Handler
	replay *memReplay
}

func newBillingFixture(t *testing.T) *billingFixture {
	w := kyctest.New(t)
	f := &billingFixture{w: w, replay: &memReplay{seen: map[string]bool{}}}
	f.h = NewBillingWebhook(w.Intake, fixtureSecret, f.replay, w.Now, fuzzLog)
	return f
}

func (f *billingFixture) post(body string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/v1/billing/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f *billingFixture) get(target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// signedGet returns the headers of a GET of path signed at t.
func signedGet(path string, t time.Time) map[string]string {
	return map[string]string{
		webhooksig.HeaderTimestamp: strconv.FormatInt(t.Unix(), 10),
		webhooksig.HeaderSignature: webhooksig.SignGet(fixtureSecret, t.Unix(), path),
	}
}

func staffEvent(id string, detail map[string]any) string {
	return jsonOf(map[string]any{"type": "StaffAction", "id": id, "detail": detail})
}

func staffDetail(order, customer, action string) map[string]any {
	return map[string]any{"orderId": order, "serviceId": "svc-" + order, "customerId": customer, "action": action, "adminId": "7"}
}

// TestStaffActionWebhook: a StaffAction posted to the webhook is recorded in
// the customer's audit trail once; its detail is read by its own shape; an
// order the gate never had is 404 and leaves the id free.
func TestStaffActionWebhook(t *testing.T) {
	f := newBillingFixture(t)
	w := f.w
	w.PlaceOrder("cust-1", "o-1")
	now := w.Now()
	send := func(body string) *httptest.ResponseRecorder { return f.post(body, signed(body, now)) }

	body := staffEvent("whmcs:StaffAction:o-1:override:1", staffDetail("o-1", "cust-1", "override"))
	rec := send(body)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"orderId":"o-1","state":"awaiting_kyc"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := send(body); rec.Code != 409 || problemOf(t, rec).Code != "replayed" {
		t.Fatalf("the same event again: %d %s", rec.Code, rec.Body)
	}
	if got := actions(w, "cust-1"); !slices.Equal(got, []string{"order.held", "staff.override"}) {
		t.Fatalf("audit %v: want the action recorded once", got)
	}
	wantEvents := len(w.Events())

	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"an order's field in a staff action", staffEvent("e-1", func() map[string]any {
			d := staffDetail("o-1", "cust-1", "module_create")
			d["productId"] = kyctest.ProductKYC
			return d
		}()), 400, "malformed"},
		{"a staff action's field in an order's event", jsonOf(map[string]any{"type": "OrderCancelled", "id": "e-2",
			"detail": map[string]any{"orderId": "o-1", "action": "override"}}), 400, "malformed"},
		{"a wrong type", staffEvent("e-3", map[string]any{"orderId": "o-1", "adminId": 7}), 400, "malformed"},
		{"an unknown action", staffEvent("e-4", staffDetail("o-1", "cust-1", "terminate")), 422, "invalid_action"},
		{"another customer's order", staffEvent("e-5", staffDetail("o-1", "cust-2", "override")), 422, "invalid_customerId"},
		{"an order the gate never had", staffEvent("e-6", staffDetail("o-9", "cust-1", "module_create")), 404, "order_not_found"},
		{"an unknown type", jsonOf(map[string]any{"type": "StaffActions", "id": "e-7", "detail": map[string]any{}}), 422, "unknown_event_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := send(tc.body)
			if rec.Code != tc.status || problemOf(t, rec).Code != tc.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if got := actions(w, "cust-1"); len(got) != 2 || len(w.Events()) != wantEvents {
				t.Fatalf("a refused event changed something: audit %v", got)
			}
			var env struct{ ID string }
			_ = json.Unmarshal([]byte(tc.body), &env)
			if f.replay.seen[env.ID] {
				t.Fatalf("the id of a refused event was remembered")
			}
		})
	}
}

func actions(w *kyctest.World, customerID string) []string {
	var out []string
	for _, e := range w.Audit(customerID) {
		out = append(out, e.Action)
	}
	return out
}

// TestBillingReads: the signed reads answer exactly as docs/whmcs.md §7.3
// says, and only to a GET signed over its own path.
func TestBillingReads(t *testing.T) {
	f := newBillingFixture(t)
	w := f.w
	w.PlaceOrder("1001", "5001-9001")
	w.PlaceOrder("1002", "5002-9002")
	w.Advance(time.Hour)
	w.Verify("1002")
	w.Advance(3 * time.Minute)
	w.Submit("1001")
	w.Advance(2 * time.Minute)
	now := w.Now()
	read := func(path string) *httptest.ResponseRecorder { return f.get(path, signedGet(path, now)) }

	t.Run("a held customer", func(t *testing.T) {
		rec := read("/v1/billing/customers/1001/kyc")
		want := `{"customerId":"1001","status":"pending_review","holds":[{"orderId":"5001-9001","serviceId":"svc-5001-9001",` +
			`"productId":"kyc-vps","state":"awaiting_kyc","orderedAt":"2026-03-02T10:00:00Z","deadline":"2026-03-05T10:00:00Z",` +
			`"serverRegion":"hk","timeZone":"Asia/Hong_Kong"}],"released":[]}`
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != want || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s\nwant %s", rec.Code, rec.Body, want)
		}
	})
	t.Run("a verified customer: the released service", func(t *testing.T) {
		var v kyc.BillingView
		rec := read("/v1/billing/customers/1002/kyc")
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if v.Status != kyc.StatusVerified || v.VerifiedAt.IsZero() || !slices.Equal(v.Released, []string{"svc-5002-9002"}) ||
			len(v.Holds) != 1 || v.Holds[0].State != kyc.ProvisionedExtended {
			t.Fatalf("view %+v", v)
		}
	})
	t.Run("a customer the gate does not know", func(t *testing.T) {
		rec := read("/v1/billing/customers/1003/kyc")
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"customerId":"1003","status":"unverified","holds":[],"released":[]}` {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("the review queue", func(t *testing.T) {
		rec := read("/v1/billing/review-queue")
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"size":1,"oldestWaitSeconds":120}` {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("a query string is not part of the signed path", func(t *testing.T) {
		rec := f.get("/v1/billing/review-queue?fresh=1", signedGet("/v1/billing/review-queue", now))
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})

	postBody := `{"type":"OrderCancelled","id":"e-1","detail":{"orderId":"5001-9001"}}`
	const path = "/v1/billing/customers/1001/kyc"
	for _, tc := range []struct {
		name   string
		target string
		header map[string]string
	}{
		{"no signature", path, nil},
		{"signed for another customer", path, signedGet("/v1/billing/customers/1002/kyc", now)},
		{"signed for the review queue", path, signedGet("/v1/billing/review-queue", now)},
		{"a POST's signature", path, signed(postBody, now)},
		{"a POST's signature of an empty body", path, signed("", now)},
		{"signed 6 minutes ago", path, signedGet(path, now.Add(-6*time.Minute))},
		{"another secret", path, map[string]string{webhooksig.HeaderTimestamp: strconv.FormatInt(now.Unix(), 10),
			webhooksig.HeaderSignature: webhooksig.SignGet([]byte("another-secret-0123456789"), now.Unix(), path)}},
		{"the queue, unsigned", "/v1/billing/review-queue", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.get(tc.target, tc.header)
			if rec.Code != 401 || problemOf(t, rec).Code != "bad_signature" || strings.Contains(rec.Body.String(), "5001") {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("a GET's signature on a POST", func(t *testing.T) {
		for _, body := range []string{"", "GET " + path, postBody} {
			if rec := f.post(body, signedGet(path, now)); rec.Code != 401 {
				t.Fatalf("POST %q with a GET's signature: %d %s", body, rec.Code, rec.Body)
			}
		}
		if h := w.Hold("1001", "5001-9001"); h.State != kyc.AwaitingKYC {
			t.Fatalf("the hold changed: %s", h.State)
		}
	})
	t.Run("an id that is no id", func(t *testing.T) {
		p := "/v1/billing/customers/10%2001/kyc"
		rec := f.get(p, signedGet(p, now))
		if rec.Code != 422 || problemOf(t, rec).Code != "invalid_customerId" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("a store that fails", func(t *testing.T) {
		w.Store.FailNext(kyctest.MethodAccount, errors.New("store down at table kyc-prod"))
		rec := read(path)
		if rec.Code != 500 || problemOf(t, rec).Detail != "internal error" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		w.Store.FailNext(kyctest.MethodPendingCount, errors.New("store down"))
		if rec := read("/v1/billing/review-queue"); rec.Code != 500 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("another method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/billing/review-queue", nil))
		if rec.Code != 405 || rec.Header().Get("Allow") != "GET" {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
	})
}
