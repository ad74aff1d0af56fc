package whmcsaddon

import (
	"net/http"
	"strings"
	"testing"
)

func outbox(res harnessResult) map[string]row {
	out := map[string]row{}
	for _, r := range res.Tables["mod_kycgate_outbox"] {
		out[r["event_id"].(string)] = r
	}
	return out
}

// TestDurableDelivery: every event goes through the outbox. Network errors,
// 429 and 5xx are retried after the WHMCS cron; other refusals are parked
// (and can be sent again from the addon's page); replayed counts as
// delivered; order_not_found is dropped.
func TestDurableDelivery(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	g.failNext(http.StatusInternalServerError, http.StatusTooManyRequests)
	res := w.run(t,
		row{"do": "pay", "order": 5001}, // 500
		row{"do": "cron"},               // not due yet: nothing sent
		row{"do": "due"},                // (time passes)
		row{"do": "cron"},               // 429
		row{"do": "due"},
		row{"do": "cron"},                       // delivered
		row{"do": "cancelOrder", "order": 5003}, // never held: dropped
	)
	if evs := g.take(); len(evs) != 1 || evs[0].Type != "OrderPlaced" {
		t.Fatalf("events %v\nlog %v", eventTypes(evs), res.Log)
	}
	log := res.logText()
	for _, want := range []string{
		"OrderPlaced whmcs:OrderPlaced:5001-9001 failed, will be retried (HTTP 500 internal, attempt 1)",
		"OrderPlaced whmcs:OrderPlaced:5001-9001 failed, will be retried (HTTP 429 throttled, attempt 2)",
		"OrderPlaced whmcs:OrderPlaced:5001-9001 delivered (HTTP 200)",
		"OrderCancelled whmcs:OrderCancelled:5003-9004 dropped (HTTP 404 order_not_found)",
	} {
		if !strings.Contains(log, want) {
			t.Fatalf("activity log lacks %q:\n%s", want, log)
		}
	}
	if len(res.Tables["mod_kycgate_outbox"]) != 0 {
		t.Fatalf("outbox %v", res.Tables["mod_kycgate_outbox"])
	}

	t.Run("a refusal is parked, and sent again from the addon's page", func(t *testing.T) {
		g.failNext(http.StatusUnprocessableEntity)
		res := w.run(t, row{"do": "cancelOrder", "order": 5001}, row{"do": "due"}, row{"do": "cron"})
		ob := outbox(res)
		parked := ob["whmcs:OrderCancelled:5001-9001"]
		if parked == nil || parked["next_attempt_at"] != nil || !strings.Contains(parked["last_error"].(string), "422 invalid_customerId") {
			t.Fatalf("outbox %v", ob)
		}
		if len(g.take()) != 0 {
			t.Fatal("a parked event was sent by the cron")
		}
		page := w.run(t, row{"do": "adminOutput", "admin": 7})
		if !strings.Contains(page.str(0), "whmcs:OrderCancelled:5001-9001") || !strings.Contains(page.str(0), "<strong>parked</strong>") {
			t.Fatalf("admin page:\n%s", page.str(0))
		}
		res = w.run(t, row{"do": "adminOutput", "admin": 7, "method": "POST",
			"post": row{"token": "csrf-token-0123456789", "kycgate_action": "resend", "id": parked["id"]}})
		if !strings.Contains(res.str(0), "whmcs:OrderCancelled:5001-9001: delivered") || len(res.Tables["mod_kycgate_outbox"]) != 0 {
			t.Fatalf("resend:\n%s", res.str(0))
		}
		if evs := g.take(); len(evs) != 1 || evs[0].Type != "OrderCancelled" {
			t.Fatalf("events %v", eventTypes(evs))
		}
	})

	t.Run("replayed counts as delivered", func(t *testing.T) {
		// The event reached the gate, but the reply was lost: it stays in
		// the outbox and the next attempt is answered 409 replayed.
		res := w.run(t, row{"do": "fraudOrder", "order": 5001})
		if !strings.Contains(res.logText(), "OrderCancelled whmcs:OrderCancelled:5001-9001 delivered (HTTP 409 replayed)") {
			t.Fatalf("activity log:\n%s", res.logText())
		}
	})

	t.Run("gate unreachable: retried", func(t *testing.T) {
		down := newWorld(g)
		down.settings["gate_url"] = "http://127.0.0.1:1"
		res := down.run(t, row{"do": "pay", "order": 5001})
		ob := outbox(res)["whmcs:OrderPlaced:5001-9001"]
		if ob == nil || ob["next_attempt_at"] == nil || !strings.Contains(ob["last_error"].(string), "network error") {
			t.Fatalf("outbox %v\nlog %v", ob, res.Log)
		}
	})

	t.Run("a wrong secret is parked, not retried", func(t *testing.T) {
		other := newWorld(g)
		res := other.run(t, row{"do": "secret", "name": "webhook_secret", "value": "another-secret-0123456789"}, row{"do": "pay", "order": 5001})
		ob := outbox(res)["whmcs:OrderPlaced:5001-9001"]
		if ob == nil || ob["next_attempt_at"] != nil || !strings.Contains(ob["last_error"].(string), "401 bad_signature") {
			t.Fatalf("outbox %v", ob)
		}
	})
	noSecretsOrPersonalData(t, res)
}

// TestLifecycle: activation creates the tables and a sign-in key and adopts
// the old hook file's outbox with its undelivered events; upgrade is
// idempotent; deactivation keeps the data unless told otherwise.
func TestLifecycle(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	g.place(order{customer: "1001", id: "5001-9001", service: "9001"})
	// Left behind by docs/whmcs/kycgate_hooks.php: one event not delivered yet.
	w.tables["mod_kycgate_outbox"] = []row{{"id": 3, "event_id": "whmcs:OrderCancelled:5001-9001", "type": "OrderCancelled",
		"payload":  `{"type":"OrderCancelled","id":"whmcs:OrderCancelled:5001-9001","detail":{"orderId":"5001-9001"}}`,
		"attempts": 2, "last_error": "HTTP 503", "next_attempt_at": "2000-01-01 00:00:00", "created_at": "2026-11-24 12:00:00"}}
	res := w.run(t,
		row{"do": "config"},
		row{"do": "upgrade", "from": "1.0"},
		row{"do": "cron"},
		row{"do": "deactivate"},
	)
	if !strings.Contains(string(res.Activation), "success") || !strings.Contains(string(res.Activation), "A sign-in key (whmcs-") {
		t.Fatalf("activation %s", res.Activation)
	}
	var cfg struct {
		Name    string                    `json:"name"`
		Version string                    `json:"version"`
		Fields  map[string]map[string]any `json:"fields"`
	}
	res.result(0, &cfg)
	types := map[string]bool{"text": true, "password": true, "yesno": true, "textarea": true, "dropdown": true, "radio": true}
	for name, f := range cfg.Fields {
		if !types[f["Type"].(string)] || f["FriendlyName"] == "" {
			t.Fatalf("config field %s: %v", name, f)
		}
		if strings.Contains(strings.ToLower(name), "secret") || f["Type"] == "password" {
			t.Fatalf("a secret on the configuration page: %s (secrets are kept encrypted by the addon)", name)
		}
	}
	if cfg.Fields["trigger"]["Default"] != "paid" || cfg.Fields["trigger"]["Options"] != "paid,accept,checkout" {
		t.Fatalf("trigger field %v", cfg.Fields["trigger"])
	}
	if evs := g.take(); len(evs) != 1 || evs[0].ID != "whmcs:OrderCancelled:5001-9001" {
		t.Fatalf("the old outbox's event: %v", eventTypes(evs))
	}
	if h := g.w.Hold("1001", "5001-9001"); h.State != "cancelled" {
		t.Fatalf("the gate's hold %s", h.State)
	}
	for _, table := range []string{"mod_kycgate_outbox", "mod_kycgate_services", "mod_kycgate_overrides", "mod_kycgate_guard", "mod_kycgate_secrets"} {
		if _, ok := res.Tables[table]; !ok {
			t.Fatalf("table %s missing after deactivation (kept by default)", table)
		}
	}
	for _, r := range res.Tables["mod_kycgate_secrets"] {
		if v := r["value"].(string); !strings.HasPrefix(v, "enc:") {
			t.Fatalf("secret %s stored unencrypted", r["name"])
		}
	}
	w.settings["delete_on_deactivate"] = "on"
	res = w.run(t, row{"do": "deactivate"})
	if _, ok := res.Tables["mod_kycgate_outbox"]; ok {
		t.Fatal("tables kept although delete_on_deactivate is on")
	}
}
