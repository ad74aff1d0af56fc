package whmcsaddon

import (
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// TestGuard: PreModuleCreate lets a create of a KYC product's service through
// only for the gate's own create (released), a verified customer, or a staff
// override; it fails closed when the gate cannot be asked. The gate's state
// is staged through its use cases: the order arrives, the customer submits,
// the deadline passes, a reviewer decides.
func TestGuard(t *testing.T) {
	held := order{customer: "1001", id: "5001-9001", service: "9001", orderedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	cases := []struct {
		name     string
		stage    func(g *gate)
		readDown bool
		paid     bool
		want     string
		wantLog  string
		staff    bool // a StaffAction module_create is reported
	}{
		{name: "unverified customer, not released: blocked",
			stage: func(g *gate) { g.place(held); g.submit("1001") },
			want:  "aborted", wantLog: "blocked: the customer has not passed KYC"},
		{name: "the gate's own create (released at the deadline, paid) passes unreported",
			stage: func(g *gate) { g.place(held); g.at(gateNow.Add(kyc.Window + time.Hour)); g.sweep() }, paid: true,
			want: "created"},
		{name: "released but unpaid: blocked",
			stage: func(g *gate) { g.place(held); g.at(gateNow.Add(kyc.Window + time.Hour)); g.sweep() },
			want:  "aborted", wantLog: "its order is not paid"},
		{name: "verified customer passes, reported as staff's create",
			// The order was cancelled before the customer passed KYC, so the
			// gate never released it; staff set it up again by hand.
			stage: func(g *gate) { g.place(held); g.cancel(held.id); g.verify("1001") },
			want:  "created", staff: true},
		{name: "released for another service only: blocked",
			stage: func(g *gate) {
				g.place(order{customer: "1001", id: "5010-9010", service: "9010"})
				g.at(gateNow.Add(kyc.Window + time.Hour))
				g.sweep() // 9010 released
				g.place(held)
				s := g.submit("1001")
				g.w.Reject("rev-1", s) // rejected
			}, paid: true,
			want: "aborted", wantLog: "blocked"},
		{name: "gate unreachable: blocked, staff told what to do",
			stage: func(g *gate) { g.place(held); g.cancel(held.id); g.verify("1001") }, readDown: true,
			want: "aborted", wantLog: "blocked (HTTP 503 unavailable): the KYC gate could not be asked, so nothing was created (the guard fails closed). Try again when the gate answers, or grant an override"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(t)
			w := newWorld(g)
			tc.stage(g)
			g.setReadsDown(tc.readDown)
			if tc.paid {
				w.tables["tblinvoices"][0]["status"] = "Paid"
			}
			before := len(g.w.Audit("1001"))
			res := w.run(t, row{"do": "moduleCreate", "service": 9001, "admin": 7})
			if res.str(0) != tc.want {
				t.Fatalf("create: %s, want %s\nlog %v", res.str(0), tc.want, res.Log)
			}
			if tc.wantLog != "" && !strings.Contains(res.logText(), tc.wantLog) {
				t.Fatalf("activity log lacks %q:\n%s", tc.wantLog, res.logText())
			}
			evs := g.take()
			if tc.staff {
				if len(evs) != 1 || evs[0].Type != "StaffAction" || evs[0].Detail["action"] != "module_create" ||
					evs[0].Detail["adminId"] != "7" || evs[0].Detail["serviceId"] != "9001" || evs[0].Detail["customerId"] != "1001" {
					t.Fatalf("events %+v", evs)
				}
				// The gate recorded it in the customer's audit trail, where the order's history shows it.
				if h := g.history(held.id); h[len(h)-1] != "staff.module_create" {
					t.Fatalf("order history %v", h)
				}
			} else if len(evs) != 0 || len(g.w.Audit("1001")) != before {
				t.Fatalf("events %+v", evs)
			}
			guard := res.Tables["mod_kycgate_guard"]
			if len(guard) != 1 || (guard[0]["decision"] == "blocked") != (tc.want == "aborted") {
				t.Fatalf("guard record %v", guard)
			}
		})
	}

	t.Run("a product without KYC is never asked about", func(t *testing.T) {
		g := newGate(t)
		w := newWorld(g)
		res := w.run(t, row{"do": "moduleCreate", "service": 9002, "admin": 7})
		if res.str(0) != "created" || g.readCount() != 0 {
			t.Fatalf("create %s after %d reads", res.str(0), g.readCount())
		}
	})
}

// TestGuardOverride: staff grant an override (logged, reported to the gate),
// which lets one create through, even while the gate cannot be asked.
func TestGuardOverride(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	g.place(order{customer: "1001", id: "5001-9001", service: "9001"})
	g.setReadsDown(true)
	override := row{"do": "adminOutput", "admin": 7, "method": "POST",
		"post": row{"token": "csrf-token-0123456789", "kycgate_action": "override", "serviceid": "9001", "reason": "customer verified by phone, ticket #31"}}
	res := w.run(t,
		row{"do": "adminOutput", "admin": 7, "method": "POST",
			"post": row{"token": "wrong", "kycgate_action": "override", "serviceid": "9001", "reason": "x"}},
		override,
		row{"do": "moduleCreate", "service": 9001, "admin": 7},
		row{"do": "adminEditService", "service": 9001, "admin": 7, "set": row{"domainstatus": "Pending"}},
		row{"do": "moduleCreate", "service": 9001, "admin": 7},
	)
	if !strings.Contains(res.str(0), "The form expired") {
		t.Fatalf("a POST without WHMCS's CSRF token was acted on:\n%s", res.str(0))
	}
	if !strings.Contains(res.str(1), "Override granted for service #9001") {
		t.Fatalf("admin page:\n%s", res.str(1))
	}
	if res.str(2) != "created" {
		t.Fatalf("create with an override: %s\nlog %v", res.str(2), res.Log)
	}
	if res.str(4) != "aborted" {
		t.Fatalf("an override was used twice: %s", res.str(4))
	}
	evs := g.take()
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Type+":"+e.Detail["action"].(string)+":"+e.Detail["adminId"].(string))
	}
	if strings.Join(actions, ",") != "StaffAction:override:7,StaffAction:module_create:7" {
		t.Fatalf("events %v", actions)
	}
	// The gate recorded both in the customer's audit trail, the hold unchanged.
	if h := g.history("5001-9001"); strings.Join(h, ",") != "order.held,staff.override,staff.module_create" {
		t.Fatalf("order history %v", h)
	}
	if h := g.w.Hold("1001", "5001-9001"); h.State != kyc.AwaitingKYC {
		t.Fatalf("hold %s", h.State)
	}
	log := res.logText()
	if !strings.Contains(log, "admin #7 granted a provisioning override for service #9001 (valid 60 minutes, one create). Reason: customer verified by phone") ||
		!strings.Contains(log, "allowed by the override of admin #7") {
		t.Fatalf("activity log:\n%s", log)
	}
	ov := res.Tables["mod_kycgate_overrides"]
	if len(ov) != 1 || ov[0]["used_at"] == nil {
		t.Fatalf("overrides %v", ov)
	}

	t.Run("refused for a product without KYC", func(t *testing.T) {
		res := w.run(t, row{"do": "adminOutput", "admin": 7, "method": "POST",
			"post": row{"token": "csrf-token-0123456789", "kycgate_action": "override", "serviceid": "9002", "reason": "r"}})
		if !strings.Contains(res.str(0), "is not a KYC product") {
			t.Fatalf("admin page:\n%s", res.str(0))
		}
	})
}

// TestStaffByHand: unsuspending a KYC suspension or setting a held service
// Active by hand is reported to the gate; the gate's own unsuspend (a verified
// customer) and other suspensions are not.
func TestStaffByHand(t *testing.T) {
	const kycReason = "KYC verification not completed within 3 days of ordering"
	g := newGate(t)
	w := newWorld(g)
	g.place(order{customer: "1001", id: "5001-9001", service: "9001"})
	g.place(order{customer: "1002", id: "5003-9004", service: "9004", product: productDedicated, region: "tw"})
	w.tables["tblhosting"][0]["domainstatus"] = "Suspended"
	w.tables["tblhosting"][0]["suspendreason"] = kycReason
	res := w.run(t,
		row{"do": "moduleUnsuspend", "service": 9001, "admin": 7},
		row{"do": "moduleSuspend", "service": 9001, "reason": "Overdue on payment"},
		row{"do": "moduleUnsuspend", "service": 9001, "admin": 7},
		row{"do": "adminEditService", "service": 9004, "admin": 8, "set": row{"domainstatus": "Active"}},
		row{"do": "moduleCreate", "service": 9004, "admin": 8},
	)
	evs := g.take()
	if len(evs) != 2 || evs[0].Detail["action"] != "module_unsuspend" || evs[0].Detail["adminId"] != "7" ||
		evs[1].Detail["action"] != "module_create" || evs[1].Detail["orderId"] != "5003-9004" || evs[1].Detail["adminId"] != "8" {
		t.Fatalf("events %+v\nlog %v", evs, res.Log)
	}
	if res.str(4) != "error: Service not assigned to a module" {
		t.Fatalf("create of a product without a module: %s", res.str(4))
	}
	if !strings.Contains(res.logText(), "service #9001 was unsuspended by hand") || !strings.Contains(res.logText(), "service #9004 was set Active by hand") {
		t.Fatalf("activity log:\n%s", res.logText())
	}

	if h := g.history("5003-9004"); strings.Join(h, ",") != "order.held,staff.module_create" {
		t.Fatalf("order history %v", h)
	}

	t.Run("the gate's own unsuspend", func(t *testing.T) {
		g.verify("1001")
		w.run(t,
			row{"do": "moduleSuspend", "service": 9001, "reason": kycReason},
			row{"do": "moduleUnsuspend", "service": 9001},
		)
		if evs := g.take(); len(evs) != 0 {
			t.Fatalf("events %+v", evs)
		}
	})
}
