package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/infra/local/dev/localjwt"
	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/webhooksig"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

func TestClockMovesForwardOnly(t *testing.T) {
	real := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	c := &Clock{real: func() time.Time { return real }}
	if !c.Now().Equal(real) {
		t.Fatalf("a new clock is at %s, want real time %s", c.Now(), real)
	}
	now, err := c.Advance(73 * time.Hour)
	if err != nil || !now.Equal(real.Add(73*time.Hour)) || !c.Now().Equal(now) {
		t.Fatalf("advance 73h: %s, %v", now, err)
	}
	real = real.Add(time.Minute) // real time goes on under the offset
	if !c.Now().Equal(real.Add(73 * time.Hour)) {
		t.Fatalf("now %s, want real time + 73h", c.Now())
	}
	for _, d := range []time.Duration{0, -time.Hour, MaxAdvance + 1} {
		if _, err := c.Advance(d); err == nil {
			t.Errorf("advance %s accepted", d)
		}
	}
	if !c.Now().Equal(real.Add(73 * time.Hour)) {
		t.Fatalf("a refused advance moved the clock to %s", c.Now())
	}
}

// The clock's routes and the fake billing system's due-date route, as a
// person or a test calls them; a bad request changes nothing.
func TestClockAndDueDateRoutes(t *testing.T) {
	real := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	sink := whmcstest.NewServer(whmcs.Credentials{Identifier: "i", Secret: "s"})
	sink.SetAutoCreate(true)
	s := &Server{clock: &Clock{real: func() time.Time { return real }}, sink: sink, log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	s.clockRoutes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	nowIs := func(want time.Time) {
		t.Helper()
		status, body := call("GET", "/local/clock", "")
		var v clockView
		if err := json.Unmarshal([]byte(body), &v); status != http.StatusOK || err != nil || v.Now != want.Format(time.RFC3339) {
			t.Fatalf("GET /local/clock = %d %s, want now %s", status, body, want.Format(time.RFC3339))
		}
	}
	nowIs(real)
	status, body := call("POST", "/local/clock", `{"advance":"73h"}`)
	if status != http.StatusOK || !strings.Contains(body, `"now": "2026-12-08T11:00:00Z"`) {
		t.Fatalf("POST /local/clock = %d %s", status, body)
	}
	for _, bad := range []struct {
		body   string
		status int
	}{
		{`{"advance":"-1h"}`, http.StatusUnprocessableEntity},
		{`{"advance":"0s"}`, http.StatusUnprocessableEntity},
		{`{"advance":"100000h"}`, http.StatusUnprocessableEntity},
		{`{"advance":"3 days"}`, http.StatusBadRequest},
		{`{"advance":"73h","to":"2027-01-01T00:00:00Z"}`, http.StatusBadRequest},
		{`{"advance":73}`, http.StatusBadRequest},
		{`{"advance":"1h"} {}`, http.StatusBadRequest},
		{``, http.StatusBadRequest},
	} {
		if status, body := call("POST", "/local/clock", bad.body); status != bad.status || !strings.Contains(body, `"code"`) {
			t.Errorf("POST /local/clock %s = %d %s, want %d", bad.body, status, body, bad.status)
		}
	}
	nowIs(real.Add(73 * time.Hour))

	if status, body := call("POST", "/local/billing/services/9001", `{"nextDueDate":"2027-01-05"}`); status != http.StatusOK || !strings.Contains(body, `"nextDueDate": "2027-01-05"`) {
		t.Fatalf("POST /local/billing/services/9001 = %d %s", status, body)
	}
	for _, bad := range []string{`{"nextDueDate":"05/01/2027"}`, `{"nextDueDate":"2027-01-06","status":"Active"}`, `{}`} {
		if status, _ := call("POST", "/local/billing/services/9001", bad); status != http.StatusBadRequest {
			t.Errorf("POST /local/billing/services/9001 %s = %d, want 400", bad, status)
		}
	}
	if sv, _ := sink.Service(9001); sv.NextDueDate != "2027-01-05" {
		t.Fatalf("service %+v", sv)
	}
	// An order left unpaid, then paid; a product without a module.
	if status, body := call("POST", "/local/billing/orders/9001", `{"paymentStatus":"Unpaid"}`); status != http.StatusOK || !strings.Contains(body, `"paymentStatus": "Unpaid"`) {
		t.Fatalf("POST /local/billing/orders/9001 = %d %s", status, body)
	}
	if o, _ := sink.Order(9001); o.PaymentStatus != "Unpaid" || o.InvoiceID == 0 {
		t.Fatalf("order %+v", o)
	}
	if status, _ := call("POST", "/local/billing/orders/9001", `{"paid":true}`); status != http.StatusBadRequest {
		t.Errorf("a malformed order change = %d, want 400", status)
	}
	if status, body := call("POST", "/local/billing/products/1", `{"module":""}`); status != http.StatusOK || !strings.Contains(body, `"module": ""`) {
		t.Fatalf("POST /local/billing/products/1 = %d %s", status, body)
	}
}

// TestClockIsEveryFunctionsNow: on the running local stack, moving the clock
// moves the policy's "now" of the functions (an order received after the
// move has its 3 days from the moved time) and of the timer sweep (which
// suspends the order once the clock passes its deadline), while a token
// signed in real time before the move stays valid.
func TestClockIsEveryFunctionsNow(t *testing.T) {
	emulator.Shared(t)
	root, err := stacktest.Root()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stacktest.Template()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := Config{LocalDir: dir, Addr: freeAddr(t), Template: filepath.Join(root, DefaultTemplate), SweepEvery: 300 * time.Millisecond}
	ctx, stop := context.WithCancel(context.Background())
	logs := &safeBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, io.Discard, slog.New(slog.NewTextHandler(logs, nil))) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	api := "http://" + cfg.Addr
	waitReady(t, api, done)

	auth, err := localjwt.FromTemplate(tpl)
	if err != nil {
		t.Fatal(err)
	}
	key, err := localjwt.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := localjwt.Token(key, auth, "admin", "admin-1", time.Now()) // real time, before the clock moves
	if err != nil {
		t.Fatal(err)
	}
	advance := func(d string) time.Time {
		t.Helper()
		var v clockView
		if err := postJSON(api+"/local/clock", `{"advance":"`+d+`"}`, &v); err != nil {
			t.Fatal(err)
		}
		now, _ := time.Parse(time.RFC3339, v.Now)
		return now
	}
	moved := advance("73h")
	if lag := time.Until(moved); lag < 73*time.Hour-time.Minute || lag > 73*time.Hour+time.Minute {
		t.Fatalf("the clock is %s ahead, want 73h", lag)
	}

	// Billing, on real time, reports an order placed an hour ago: it is
	// received at the moved time, and its 3 days run from there.
	secret, err := os.ReadFile(WebhookSecretFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"type":"OrderPlaced","id":"evt-7001","detail":{"orderId":"7001","serviceId":"9701","customerId":"c-7001",`+
		`"productId":"kyc-vps","orderedAt":%q,"nextDueDate":"2027-01-01","serverRegion":"tw"}}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	req, _ := http.NewRequest(http.MethodPost, api+"/v1/billing/events", strings.NewReader(body))
	ts := time.Now().Unix() // signatures keep real time
	req.Header.Set(webhooksig.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(secret, ts, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook = %d %s", res.StatusCode, b)
	}
	var order struct {
		State      string    `json:"state"`
		ReceivedAt time.Time `json:"receivedAt"`
		Deadline   time.Time `json:"deadline"`
		TimeZone   string    `json:"timeZone"`
	}
	getOrder := func() {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, api+"/v1/admin/orders/7001", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET the order with a token signed before the clock moved = %d %s", res.StatusCode, b)
		}
		if err := json.Unmarshal(b, &order); err != nil {
			t.Fatal(err)
		}
	}
	getOrder()
	if d := order.ReceivedAt.Sub(moved); order.State != "awaiting_kyc" || d < 0 || d > time.Minute ||
		!order.Deadline.Equal(order.ReceivedAt.Add(72*time.Hour)) || order.TimeZone != "Asia/Taipei" {
		t.Fatalf("order %+v: want received at the moved time %s, 3 days from there, in Asia/Taipei", order, moved)
	}

	// The timer sweep runs on the moved clock: past the deadline, it suspends.
	advance("73h")
	deadline := time.Now().Add(20 * time.Second)
	for getOrder(); order.State != "suspended_kyc"; getOrder() {
		if time.Now().After(deadline) {
			t.Fatalf("the timer sweep did not suspend the order on the moved clock: %+v", order)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitReady(t *testing.T, api string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(api + "/local/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func postJSON(url, body string, into any) error {
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s = %d %s", url, res.StatusCode, b)
	}
	return json.Unmarshal(b, into)
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
