package whmcsaddon

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

func eventTypes(evs []gateEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type+" "+e.Detail["orderId"].(string))
	}
	return out
}

// TestOrderPaidIsTheDefaultTrigger: the hold starts when the order's first
// invoice is paid (OrderPaid), with the order's checkout time; nothing is
// sent at checkout; the payment's own automatic setup of the KYC service is
// stopped by the guard, that of the other product is not.
func TestOrderPaidIsTheDefaultTrigger(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	res := w.run(t,
		row{"do": "checkout", "order": 5001},
		row{"do": "pay", "order": 5001},
	)
	evs := g.take()
	if len(evs) != 1 {
		t.Fatalf("events %v, want one OrderPlaced (after payment only)\nlog: %v", eventTypes(evs), res.Log)
	}
	want := map[string]any{
		"orderId": "5001-9001", "serviceId": "9001", "customerId": "1001", "productId": "kyc-vps",
		"orderedAt": "2026-11-24T10:00:00Z", "nextDueDate": "2026-12-24", "serverRegion": "hk", "business": false,
		"email": "chan@example.com", "language": "zh-Hant",
	}
	if evs[0].Type != "OrderPlaced" || evs[0].ID != "whmcs:OrderPlaced:5001-9001" || !reflect.DeepEqual(evs[0].Detail, want) {
		t.Fatalf("OrderPlaced\n got %s %v\nwant %v", evs[0].ID, evs[0].Detail, want)
	}
	var created map[string]string
	res.result(1, &created)
	if created["9001"] != "aborted" || created["9002"] != "created" {
		t.Fatalf("automatic setup on payment: %v, want the KYC VPS aborted and shared hosting created", created)
	}
	if res.service(9001)["domainstatus"] != "Pending" || res.service(9002)["domainstatus"] != "Active" {
		t.Fatalf("statuses %v / %v", res.service(9001)["domainstatus"], res.service(9002)["domainstatus"])
	}
	if !strings.Contains(res.logText(), "module create of service #9001 blocked: the customer has not passed KYC") {
		t.Fatalf("activity log:\n%s", res.logText())
	}
	// The gate holds the order from the payment on, and asked for KYC.
	if h := g.w.Hold("1001", "5001-9001"); h.State != kyc.AwaitingKYC || h.ServiceID != "9001" || h.TimeZone != "Asia/Hong_Kong" ||
		!h.OrderedAt.Equal(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("the gate's hold %+v", h)
	}
	if evs := g.w.Events(kyc.KycRequested); len(evs) != 1 || evs[0].CustomerID != "1001" {
		t.Fatalf("KycRequested %+v", evs)
	}
	noSecretsOrPersonalData(t, res)

	t.Run("a free order starts at checkout", func(t *testing.T) {
		w.run(t, row{"do": "checkout", "order": 5002})
		evs := g.take()
		if len(evs) != 1 || evs[0].Detail["orderId"] != "5002-9003" {
			t.Fatalf("events %v", eventTypes(evs))
		}
		d := evs[0].Detail
		if _, ok := d["nextDueDate"]; ok {
			t.Fatalf("a free account's OrderPlaced carries nextDueDate: %v", d)
		}
		if d["business"] != true || d["language"] != "en" || d["serverRegion"] != "tw" || d["orderedAt"] != "2026-11-25T01:30:00Z" {
			t.Fatalf("detail %v", d)
		}
	})
	t.Run("paid twice: one event", func(t *testing.T) {
		w.run(t, row{"do": "pay", "order": 5001})
		if evs := g.take(); len(evs) != 0 {
			t.Fatalf("a second OrderPaid sent %v (the gate answers replayed, nothing new)", eventTypes(evs))
		}
	})
}

// TestAcceptTrigger: with trigger accept, OrderPlaced goes when staff accept
// the order, and the accept-order screen's "Run Module Create" (the
// AcceptOrder API's autosetup) cannot provision the held service.
func TestAcceptTrigger(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	w.settings["trigger"] = "accept"
	w.tables["tblproducts"][0]["autosetup"] = "" // set up by hand or on acceptance only
	res := w.run(t,
		row{"do": "pay", "order": 5001},
		row{"do": "acceptOrder", "order": 5001, "autosetup": true, "admin": 7},
	)
	evs := g.take()
	if len(evs) != 1 || evs[0].Type != "OrderPlaced" || evs[0].Detail["orderId"] != "5001-9001" {
		t.Fatalf("events %v\nlog %v", eventTypes(evs), res.Log)
	}
	var created map[string]string
	res.result(1, &created)
	if created["9001"] != "aborted" || res.service(9002)["domainstatus"] != "Active" {
		t.Fatalf("accept with autosetup: %v (shared hosting %v)", created, res.service(9002)["domainstatus"])
	}
	if res.service(9001)["domainstatus"] != "Pending" {
		t.Fatal("the held service was provisioned on acceptance")
	}
}

// TestCheckoutTrigger: with trigger checkout the hold starts at checkout,
// and the gate's own create of a released service waits for payment: the
// gate never provisions an unpaid order.
func TestCheckoutTrigger(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	w.settings["trigger"] = "checkout"
	w.run(t, row{"do": "checkout", "order": 5001})
	if evs := g.take(); len(evs) != 1 || evs[0].Detail["orderId"] != "5001-9001" {
		t.Fatalf("events %v", eventTypes(evs))
	}
	// The deadline passes unpaid; the gate releases the service (provision
	// then suspend) and its billing adapter calls ModuleCreate.
	g.at(gateNow.Add(kyc.Window + time.Hour))
	g.sweep()
	if h := g.w.Hold("1001", "5001-9001"); h.State != kyc.SuspendedKYC {
		t.Fatalf("the gate's hold %s, want suspended_kyc", h.State)
	}
	res := w.run(t, row{"do": "moduleCreate", "service": 9001, "admin": 0})
	if res.str(0) != "aborted" || res.service(9001)["domainstatus"] != "Pending" {
		t.Fatalf("create of an unpaid order's service: %s", res.str(0))
	}
	if !strings.Contains(res.logText(), "its order is not paid") {
		t.Fatalf("activity log:\n%s", res.logText())
	}
	// Paid: WHMCS's own setup on payment, and the gate's create, go through.
	res = w.run(t, row{"do": "pay", "order": 5001})
	var created map[string]string
	res.result(0, &created)
	if created["9001"] != "created" {
		t.Fatalf("after payment: %v\nlog %v", created, res.Log)
	}
	if evs := g.take(); len(evs) != 0 {
		t.Fatalf("the gate's own (released) create was reported: %v", eventTypes(evs))
	}
}

// TestClosingEvents: cancelled, fraud and deleted orders, terminated and
// deleted services are reported; a closing event of an order the gate never
// held is dropped (404 order_not_found).
func TestClosingEvents(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	w.settings["trigger"] = "checkout"
	w.tables["tblorders"] = append(w.tables["tblorders"],
		row{"id": 5004, "userid": 1002, "date": "2026-11-27 12:00:00", "invoiceid": 0, "status": "Pending"},
		row{"id": 5005, "userid": 1002, "date": "2026-11-27 12:00:00", "invoiceid": 0, "status": "Pending"})
	w.tables["tblhosting"] = append(w.tables["tblhosting"],
		row{"id": 9005, "userid": 1002, "orderid": 5004, "packageid": 12, "server": 3, "domain": "", "domainstatus": "Pending",
			"nextduedate": "2026-12-27", "billingcycle": "Monthly", "suspendreason": ""},
		row{"id": 9006, "userid": 1002, "orderid": 5005, "packageid": 12, "server": 3, "domain": "", "domainstatus": "Pending",
			"nextduedate": "2026-12-27", "billingcycle": "Monthly", "suspendreason": ""})
	res := w.run(t,
		row{"do": "checkout", "order": 5001},
		row{"do": "checkout", "order": 5002},
		row{"do": "checkout", "order": 5004},
		row{"do": "checkout", "order": 5005},
		row{"do": "cancelOrder", "order": 5001},
		row{"do": "fraudOrder", "order": 5002},
		row{"do": "moduleTerminate", "service": 9005},
		row{"do": "deleteService", "service": 9006},
		row{"do": "deleteOrder", "order": 5004},
		row{"do": "cancelOrder", "order": 5003}, // the dedicated server's order: never reported to the gate
	)
	got := eventTypes(g.take())
	want := []string{"OrderPlaced 5001-9001", "OrderPlaced 5002-9003", "OrderPlaced 5004-9005", "OrderPlaced 5005-9006",
		"OrderCancelled 5001-9001", "OrderCancelled 5002-9003", "ServiceExpired 5004-9005", "ServiceExpired 5005-9006",
		"OrderCancelled 5004-9005"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %v\nwant %v\nlog %v", got, want, res.Log)
	}
	if !strings.Contains(res.logText(), "OrderCancelled whmcs:OrderCancelled:5003-9004 dropped (HTTP 404 order_not_found)") {
		t.Fatalf("activity log:\n%s", res.logText())
	}
	if n := len(res.Tables["mod_kycgate_outbox"]); n != 0 {
		t.Fatalf("outbox keeps %d rows", n)
	}
	// The gate closed each hold by billing's word.
	for _, h := range []struct{ customer, order string }{{"1001", "5001-9001"}, {"1002", "5002-9003"}, {"1002", "5004-9005"}, {"1002", "5005-9006"}} {
		want := map[string]kyc.HoldState{"5001-9001": kyc.Cancelled, "5002-9003": kyc.Cancelled, "5004-9005": kyc.Expired, "5005-9006": kyc.Expired}[h.order]
		if got := g.w.Hold(h.customer, h.order).State; got != want {
			t.Errorf("hold %s: %s, want %s", h.order, got, want)
		}
	}
}
