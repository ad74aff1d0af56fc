package whmcsaddon

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// TestAdminViews: the client summary (status, holds, blocked creates, link
// to the reviewer console), the dashboard widget (review queue), the ticket
// sidebar, and the KYC field of a service's tab.
func TestAdminViews(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	g.at(time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC))
	g.verify("1002")
	deadline := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	// 1001's documents, sent when its order under review was waiting, are
	// the oldest of four submissions on the review queue.
	placed := stageHolds(g, "1001", "5", deadline) // 1001 submitted an hour after placing
	received := deadline.Add(-kyc.Window)
	for i, c := range []string{"q-1", "q-2", "q-3"} {
		g.at(received.Add(time.Duration(1+i) * time.Hour))
		g.submit(c)
	}
	g.at(received.Add(3*time.Hour + 2*time.Minute)) // 1001's documents have waited 3 d 10 h 2 min
	if wait := g.w.Now().Sub(placed.Add(time.Hour)); wait != 82*time.Hour+2*time.Minute {
		t.Fatalf("staging: the oldest waits %s", wait)
	}
	res := w.run(t,
		row{"do": "moduleCreate", "service": 9001, "admin": 7}, // blocked: shows on the summary
		row{"do": "hook", "hook": "AdminAreaClientSummaryPage", "vars": row{"userid": 1001}, "admin": 7},
		row{"do": "widget", "admin": 7},
		row{"do": "hook", "hook": "AdminAreaViewTicketPageSidebar", "vars": row{"ticketid": 31}, "admin": 7},
		row{"do": "hook", "hook": "AdminAreaViewTicketPageSidebar", "vars": row{"ticketid": 32}, "admin": 7},
		row{"do": "hook", "hook": "AdminClientServicesTabFields", "vars": row{"id": 9001}, "admin": 7},
		row{"do": "hook", "hook": "AdminClientServicesTabFields", "vars": row{"id": 9002}, "admin": 7},
		row{"do": "adminOutput", "admin": 7},
	)
	var summary []string
	res.result(1, &summary)
	for _, want := range []string{"Status:</strong> pending review", `href="clientsservices.php?userid=1001&amp;id=9001">#9001`,
		"waiting for documents", "2026-12-08 18:00 (Asia/Hong_Kong)", "documents under review",
		"Module create of service #9001 blocked", `href="https://kyc-console.example.com/console/customers/1001"`} {
		if !strings.Contains(summary[0], want) {
			t.Errorf("client summary lacks %q", want)
		}
	}
	var widget []map[string]string
	res.result(2, &widget)
	if len(widget) != 1 || widget[0]["class"] != "KycgateReviewQueueWidget" ||
		!strings.Contains(widget[0]["html"], "<strong>4</strong> submission(s) waiting for review, the oldest for 3 d 10 h 2 min") {
		t.Errorf("widget %v", widget)
	}
	var side1, side2 []string
	res.result(3, &side1)
	res.result(4, &side2)
	if !strings.Contains(side1[0], "Status: pending review") || !strings.Contains(side1[0], "Open holds: 2") ||
		!strings.Contains(side1[0], "KYC case ticket") || !strings.Contains(side1[0], "/console/customers/1001") {
		t.Errorf("ticket sidebar of the KYC ticket: %s", side1[0])
	}
	if !strings.Contains(side2[0], "Status: verified, valid until 2028-11-30") || strings.Contains(side2[0], "KYC case ticket") {
		t.Errorf("ticket sidebar of another ticket: %s", side2[0])
	}
	var tab1 []map[string]string
	res.result(5, &tab1)
	if len(tab1) != 1 || !strings.Contains(tab1[0]["KYC gate"], "blocked (not_verified)") ||
		!strings.Contains(tab1[0]["KYC gate"], `href="addonmodules.php?module=kycgate&amp;action=override&amp;serviceid=9001"`) {
		t.Errorf("service tab %v", tab1)
	}
	var tab2 []json.RawMessage
	res.result(6, &tab2)
	if string(tab2[0]) != "[]" {
		t.Errorf("service tab of a product without KYC: %s", tab2[0])
	}
	page := res.str(7)
	for _, want := range []string{"Trigger: <strong>paid</strong>", "&quot;kid&quot;: &quot;whmcs-", "BEGIN PUBLIC KEY", "Grant override",
		"It is set (stored encrypted by WHMCS)", "Recent guard decisions"} {
		if !strings.Contains(page, want) {
			t.Errorf("admin page lacks %q", want)
		}
	}
	if strings.Contains(page, "PRIVATE KEY") || strings.Contains(page, gateSecret) {
		t.Error("the admin page shows a private key or the webhook secret")
	}

	t.Run("gate unreachable", func(t *testing.T) {
		g.setReadsDown(true)
		defer g.setReadsDown(false)
		res := w.run(t,
			row{"do": "hook", "hook": "AdminAreaClientSummaryPage", "vars": row{"userid": 1001}, "admin": 7},
			row{"do": "widget", "admin": 7})
		var s []string
		res.result(0, &s)
		var wd []map[string]string
		res.result(1, &wd)
		if !strings.Contains(s[0], "cannot be asked right now") || !strings.Contains(wd[0]["html"], "cannot be asked right now") {
			t.Fatalf("summary %s\nwidget %v", s[0], wd)
		}
	})
}

// TestHarnessRefusesMisspelledHooksAndKeys: the harness fails an addon that
// registers a hook name missing from the WHMCS reference, or reads a $vars
// key the reference does not document for the hook.
func TestHarnessRefusesMisspelledHooksAndKeys(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kycgate.php": "<?php\nfunction kycgate_activate() { return array(); }\nfunction kycgate_request_reset() {}\n",
		"hooks.php": "<?php\n" +
			"add_hook('OrderPayed', 1, function ($vars) {});\n" +
			"add_hook('OrderPaid', 1, function ($vars) { return $vars['orderID']; });\n" +
			"add_hook('AfterModuleCreate', 1, function ($vars) { return $vars['params']['serviceID']; });\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g := newGate(t)
	w := newWorld(g)
	w.tables["mod_kycgate_secrets"] = []row{}
	res, code, _ := w.runRaw(t, dir, []row{
		{"do": "hook", "hook": "OrderPaid", "vars": row{"orderId": 5001, "userId": 1001, "invoiceId": 7001}},
		{"do": "hook", "hook": "AfterModuleCreate", "vars": row{"params": row{"serviceid": 9001}}},
	})
	if code != 3 {
		t.Fatalf("harness exit %d, want 3; violations %v", code, res.Violations)
	}
	v := strings.Join(res.Violations, "\n")
	for _, want := range []string{"add_hook('OrderPayed')", "hook OrderPaid reads $vars key 'orderID'", "hook AfterModuleCreate.params reads $vars key 'serviceID'"} {
		if !strings.Contains(v, want) {
			t.Errorf("violations lack %q:\n%s", want, v)
		}
	}
}

// TestHookListMatchesTheAddon: the addon registers exactly the hooks of
// testdata/hooks.json, each entry names its source in the WHMCS reference,
// and (after the other tests) every hook was run at least once.
func TestHookListMatchesTheAddon(t *testing.T) {
	var ref struct {
		Hooks map[string]struct {
			URL  string   `json:"url"`
			Vars []string `json:"vars"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal([]byte(readFile(t, "testdata/hooks.json")), &ref); err != nil {
		t.Fatal(err)
	}
	g := newGate(t)
	res := newWorld(g).run(t)
	var listed []string
	for name, h := range ref.Hooks {
		listed = append(listed, name)
		if !strings.HasPrefix(h.URL, "https://developers.whmcs.com/") {
			t.Errorf("hook %s: no source URL", name)
		}
	}
	sort.Strings(listed)
	registered := append([]string(nil), res.Registered...)
	sort.Strings(registered)
	if strings.Join(listed, ",") != strings.Join(registered, ",") {
		t.Fatalf("hooks.json lists\n %v\nthe addon registers\n %v", listed, registered)
	}
}
