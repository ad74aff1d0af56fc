package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
)

// The WHMCS hook file (docs/whmcs/kycgate_hooks.php) against the gate's own
// webhook handler: it runs under PHP with a stand-in for WHMCS's hook and
// database API (testdata/whmcs_harness.php). Skipped where php is not
// installed.

type intakeFake struct {
	mu     sync.Mutex
	got    []intakeCall
	failN  int // fail this many calls with an internal error first
	orders map[string]bool
}

type intakeCall struct {
	Type   kyc.EventType
	Detail kyc.BillingEvent
}

func (f *intakeFake) ApplyBillingEvent(_ context.Context, t kyc.EventType, e kyc.BillingEvent) (kyc.IntakeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failN > 0 {
		f.failN--
		return kyc.IntakeResult{}, errors.New("dynamodb unavailable")
	}
	if t != kyc.OrderPlaced && !f.orders[e.OrderID] {
		return kyc.IntakeResult{}, kyc.NotFound("order_not_found", "no order %s", e.OrderID)
	}
	f.orders[e.OrderID] = true
	f.got = append(f.got, intakeCall{t, e})
	return kyc.IntakeResult{OrderID: e.OrderID, State: kyc.AwaitingKYC}, nil
}

type replayFake struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *replayFake) Seen(_ context.Context, id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id], nil
}

func (r *replayFake) Remember(_ context.Context, id string, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[id] {
		return kyc.ErrStale
	}
	r.seen[id] = true
	return nil
}

type phpResult struct {
	Outbox []map[string]any `json:"outbox"`
	Log    []string         `json:"log"`
}

func runHooks(t *testing.T, url, secret string, settings string, scenario map[string]any) phpResult {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		skipOrFail(t, "php is not installed: the WHMCS hook file is only syntax-checked by hand (php -l)")
	}
	if exec.Command(php, "-r", `exit(function_exists("curl_init") ? 0 : 1);`).Run() != nil {
		skipOrFail(t, "php has no curl extension (WHMCS always has it): install php-curl to run this test")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kycgate_config.php")
	if err := os.WriteFile(cfg, []byte("<?php\nreturn "+settings+";\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(dir, "scenario.json")
	b, _ := json.Marshal(scenario)
	if err := os.WriteFile(sc, b, 0o600); err != nil {
		t.Fatal(err)
	}
	hook, _ := filepath.Abs(filepath.Join("..", "..", "docs", "whmcs", "kycgate_hooks.php"))
	cmd := exec.Command(php, "-d", "display_errors=stderr", "-d", "error_reporting=E_ALL", filepath.Join("testdata", "whmcs_harness.php"), hook, sc)
	cmd.Env = append(os.Environ(), "KYCGATE_WEBHOOK_URL="+url, "KYCGATE_WEBHOOK_SECRET="+secret, "KYCGATE_CONFIG="+cfg, "TZ=UTC")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("php: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	var res phpResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("php output %s: %v", out, err)
	}
	return res
}

func TestWHMCSHookFileAgainstTheGatesWebhook(t *testing.T) {
	const secret = "webhook-secret-0123456789abcdef"
	intake := &intakeFake{orders: map[string]bool{}, failN: 0}
	replay := &replayFake{seen: map[string]bool{}}
	srv := httptest.NewServer(httpapi.NewBillingWebhook(intake, []byte(secret), replay, nil, slog.New(slog.DiscardHandler)))
	defer srv.Close()

	tables := map[string]any{
		"tblorders":  []map[string]any{{"id": 5001, "userid": 1001, "date": "2026-11-24 18:00:00"}},
		"tblclients": []map[string]any{{"id": 1001, "email": "customer@example.com", "language": "Chinese"}},
		"tblhosting": []map[string]any{
			{"id": 9001, "orderid": 5001, "packageid": 12, "server": 3, "nextduedate": "2026-12-24"},
			{"id": 9002, "orderid": 5001, "packageid": 40, "server": 3, "nextduedate": "2026-12-24"}, // not a KYC product
		},
	}
	settings := `array('products' => array(12 => 'kyc-vps'), 'server_regions' => array(3 => 'hk'), 'timezone' => 'Asia/Hong_Kong')`
	res := runHooks(t, srv.URL+"/v1/billing/events", secret, settings, map[string]any{
		"tables": tables,
		"steps": []map[string]any{
			{"hook": "AfterShoppingCartCheckout", "vars": map[string]any{"OrderID": 5001}}, // trigger is 'accept': ignored
			{"hook": "AcceptOrder", "vars": map[string]any{"orderid": 5001}},
			{"hook": "AcceptOrder", "vars": map[string]any{"orderid": 5001}}, // accepted twice: one event
			{"hook": "CancelOrder", "vars": map[string]any{"orderid": 5001}},
			{"hook": "AfterModuleTerminate", "vars": map[string]any{"params": map[string]any{"serviceid": 9001}}},
		},
	})
	if len(res.Outbox) != 0 {
		t.Fatalf("outbox not empty: %v\nlog: %v", res.Outbox, res.Log)
	}
	if len(intake.got) != 3 {
		t.Fatalf("the gate applied %d events, want 3 (placed, cancelled, expired): %+v\nlog: %v", len(intake.got), intake.got, res.Log)
	}
	placed := intake.got[0]
	want := kyc.BillingEvent{OrderID: "5001-9001", ServiceID: "9001", CustomerID: "1001", ProductID: "kyc-vps",
		OrderedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), NextDueDate: kyc.NewDate(2026, 12, 24),
		ServerRegion: "hk", Email: "customer@example.com", Language: "zh-Hant"}
	if placed.Type != kyc.OrderPlaced || placed.Detail != want {
		t.Fatalf("OrderPlaced\n got %+v\nwant %+v", placed, want)
	}
	if intake.got[1].Type != kyc.OrderCancelled || intake.got[1].Detail.OrderID != "5001-9001" ||
		intake.got[2].Type != kyc.ServiceExpired || intake.got[2].Detail.OrderID != "5001-9001" {
		t.Fatalf("later events %+v", intake.got[1:])
	}
	log := strings.Join(res.Log, "\n")
	if strings.Contains(log, "customer@example.com") || strings.Contains(log, secret) {
		t.Fatalf("activity log carries personal data or the secret:\n%s", log)
	}
	if !strings.Contains(log, "OrderPlaced whmcs:OrderPlaced:5001-9001 delivered") || !strings.Contains(log, "409 replayed") {
		t.Fatalf("activity log:\n%s", log)
	}
}

func TestWHMCSHookFileRetriesFromCron(t *testing.T) {
	const secret = "webhook-secret-0123456789abcdef"
	intake := &intakeFake{orders: map[string]bool{}, failN: 1}
	replay := &replayFake{seen: map[string]bool{}}
	srv := httptest.NewServer(httpapi.NewBillingWebhook(intake, []byte(secret), replay, nil, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	tables := map[string]any{
		"tblorders":  []map[string]any{{"id": 7, "userid": 8, "date": "2026-11-24 10:00:00"}},
		"tblclients": []map[string]any{{"id": 8, "email": "", "language": ""}},
		"tblhosting": []map[string]any{{"id": 70, "orderid": 7, "packageid": 1, "server": 0, "nextduedate": "2026-12-24"}},
	}
	settings := `array('default_region' => 'tw', 'trigger' => 'checkout')`
	res := runHooks(t, srv.URL+"/v1/billing/events", secret, settings, map[string]any{
		"tables": tables,
		"steps": []map[string]any{
			{"hook": "AfterShoppingCartCheckout", "vars": map[string]any{"OrderID": 7}}, // the gate answers 500
			{"hook": "AfterCronJob", "vars": map[string]any{}},                          // not due yet
			{"due": true},
			{"hook": "AfterCronJob", "vars": map[string]any{}}, // delivered
			{"hook": "CancelOrder", "vars": map[string]any{"orderid": 99}},
		},
	})
	if len(res.Outbox) != 0 || len(intake.got) != 1 {
		t.Fatalf("outbox %v, applied %+v\nlog: %v", res.Outbox, intake.got, res.Log)
	}
	got := intake.got[0].Detail
	if got.OrderID != "7-70" || got.ProductID != "1" || got.ServerRegion != "tw" || got.Email != "" || got.Language != "" {
		t.Fatalf("OrderPlaced %+v", got)
	}
	log := strings.Join(res.Log, "\n")
	if !strings.Contains(log, "failed, will be retried (HTTP 500") || !strings.Contains(log, "delivered (HTTP 200)") {
		t.Fatalf("activity log:\n%s", log)
	}

	// A wrong secret is refused and parked, not retried.
	res = runHooks(t, srv.URL+"/v1/billing/events", "another-secret-0123456789", settings, map[string]any{
		"tables": map[string]any{
			"tblorders":  []map[string]any{{"id": 8, "userid": 8, "date": "2026-11-24 10:00:00"}},
			"tblclients": []map[string]any{{"id": 8, "email": "", "language": ""}},
			"tblhosting": []map[string]any{{"id": 80, "orderid": 8, "packageid": 1, "server": 0, "nextduedate": "2026-12-24"}},
		},
		"steps": []map[string]any{{"hook": "AfterShoppingCartCheckout", "vars": map[string]any{"OrderID": 8}}},
	})
	if len(res.Outbox) != 1 || res.Outbox[0]["next_attempt_at"] != nil || !strings.Contains(res.Outbox[0]["last_error"].(string), "401") {
		t.Fatalf("outbox %v\nlog %v", res.Outbox, res.Log)
	}
}

// skipOrFail skips on a developer's machine without PHP, and fails in CI
// (KYC_CI set by .ci/run, which installs php-cli and php-curl): CI never
// skips a test silently.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("KYC_CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
