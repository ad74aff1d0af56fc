package whmcstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

var creds = whmcs.Credentials{Identifier: "ident", Secret: "secret-value"}

func post(t *testing.T, url_ string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(url_, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestCommandsEndpointAndCredentials(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 1, ClientID: 2})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	api := srv.URL + "/whmcs/includes/api.php" // any installation path

	status, body := post(t, api, url.Values{"action": {"ModuleCreate"}, "serviceid": {"1"}, "identifier": {"ident"}, "secret": {"nope"}, "responsetype": {"json"}})
	if status != http.StatusForbidden || body["result"] != "error" || body["message"] != "Authentication Failed" {
		t.Fatalf("wrong secret: %d %v", status, body)
	}
	status, body = post(t, api, url.Values{"action": {"ModuleCreate"}, "serviceid": {"1"}, "responsetype": {"json"}})
	if status != http.StatusForbidden || body["message"] != "Invalid or missing credentials" {
		t.Fatalf("no credentials: %d %v", status, body)
	}
	// WHMCS also takes the pair as username/password.
	status, body = post(t, api, url.Values{"action": {"ModuleCreate"}, "serviceid": {"1"}, "username": {"ident"}, "password": {"secret-value"}, "responsetype": {"json"}})
	if status != http.StatusOK || body["result"] != "success" {
		t.Fatalf("username/password: %d %v", status, body)
	}
	status, body = post(t, api, url.Values{"action": {"DeleteClient"}, "identifier": {"ident"}, "secret": {"secret-value"}, "responsetype": {"json"}})
	if status != http.StatusForbidden || !strings.HasPrefix(body["message"].(string), "Invalid API Action") {
		t.Fatalf("unsupported action: %d %v", status, body)
	}

	resp, err := http.Get(srv.URL + "/commands")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cmds []whmcstest.Command
	if err := json.NewDecoder(resp.Body).Decode(&cmds); err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 4 || cmds[2].Action != "ModuleCreate" || cmds[2].Result != "success" || cmds[0].Status != 403 {
		t.Fatalf("GET /commands: %+v", cmds)
	}
	raw, _ := json.Marshal(cmds)
	if strings.Contains(string(raw), "secret-value") || strings.Contains(string(raw), `"ident"`) {
		t.Fatalf("/commands shows credentials: %s", raw)
	}
}

func TestAutoCreateForTheLocalSink(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	api := srv.URL + "/includes/api.php"
	auth := func(v url.Values) url.Values {
		v.Set("identifier", "ident")
		v.Set("secret", "secret-value")
		v.Set("responsetype", "json")
		return v
	}
	_, body := post(t, api, auth(url.Values{"action": {"ModuleSuspend"}, "serviceid": {"77"}}))
	if body["message"] != "Service ID not found" {
		t.Fatalf("unknown service without auto-create: %v", body)
	}
	fake.SetAutoCreate(true)
	for _, action := range []string{"ModuleCreate", "ModuleSuspend", "ModuleUnsuspend"} {
		if _, body := post(t, api, auth(url.Values{"action": {action}, "serviceid": {"77"}})); body["result"] != "success" {
			t.Fatalf("%s with auto-create: %v", action, body)
		}
	}
	if _, body := post(t, api, auth(url.Values{"action": {"OpenTicket"}, "clientid": {"5"}, "deptid": {"1"}, "subject": {"s"}, "message": {"m"}})); body["result"] != "success" {
		t.Fatalf("ticket with auto-create: %v", body)
	}
	if sv, ok := fake.Service(77); !ok || sv.Status != whmcs.StatusActive {
		t.Fatalf("service 77: %+v %v", sv, ok)
	}
}

func TestServiceStateRules(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 1, ClientID: 2})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, _ := whmcs.New(srv.URL+"/includes/api.php", creds, whmcs.Options{})
	ctx := t.Context()
	if err := c.ModuleSuspend(ctx, 1, "x"); err == nil || !strings.Contains(err.Error(), "not provisioned") {
		t.Fatalf("suspend of a pending service: %v", err)
	}
	if err := c.ModuleUnsuspend(ctx, 1); err == nil {
		t.Fatal("unsuspend of a pending service accepted")
	}
	if err := c.ModuleCreate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.ModuleCreate(ctx, 1); err == nil {
		t.Fatal("second create accepted")
	}
	if err := c.ModuleSuspend(ctx, 1, "Overdue on Payment"); err != nil {
		t.Fatal(err)
	}
	if sv, _ := fake.Service(1); sv.SuspendReason != "" {
		t.Fatalf("the default reason is stored empty, as WHMCS does: %+v", sv)
	}
	if err := c.ModuleSuspend(ctx, 1, "x"); err == nil || !strings.Contains(err.Error(), "already suspended") {
		t.Fatalf("second suspend: %v", err)
	}
}

// TestMoveADueDateAsAPaymentDoes: POST /services/{id} moves a service's due
// date (the local stack's renewal); bad requests change nothing.
func TestMoveADueDateAsAPaymentDoes(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 7, ClientID: 2, NextDueDate: "2026-04-01", Status: whmcs.StatusActive})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	postJSON := func(path, body string) int {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := postJSON("/services/7", `{"nextDueDate":"2026-05-01"}`); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if sv, _ := fake.Service(7); sv.NextDueDate != "2026-05-01" || sv.Status != whmcs.StatusActive {
		t.Fatalf("service %+v", sv)
	}
	for _, bad := range []struct {
		path, body string
		status     int
	}{
		{"/services/7", `{"nextDueDate":"01/06/2026"}`, http.StatusBadRequest},
		{"/services/7", `{"nextDueDate":"2026-06-01","status":"Active"}`, http.StatusBadRequest},
		{"/services/7", `not json`, http.StatusBadRequest},
		{"/services/8", `{"nextDueDate":"2026-06-01"}`, http.StatusNotFound},
		{"/services/x", `{"nextDueDate":"2026-06-01"}`, http.StatusNotFound},
	} {
		if got := postJSON(bad.path, bad.body); got != bad.status {
			t.Errorf("POST %s %s: %d, want %d", bad.path, bad.body, got, bad.status)
		}
	}
	if sv, _ := fake.Service(7); sv.NextDueDate != "2026-05-01" {
		t.Fatalf("a refused request changed the service: %+v", sv)
	}
	fake.SetAutoCreate(true)
	if err := fake.SetNextDueDate(9, "2026-07-01"); err != nil {
		t.Fatal(err)
	}
	if sv, ok := fake.Service(9); !ok || sv.NextDueDate != "2026-07-01" || sv.Status != whmcs.StatusPending {
		t.Fatalf("auto-created service %+v", sv)
	}
}

// TestWebhookReceiverAddsAnExtensionOnce: as the webhook's receivers must,
// the sink adds an extension's days to the due date it holds when the
// command arrives, once per event id.
func TestWebhookReceiverAddsAnExtensionOnce(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 7, ClientID: 2, NextDueDate: "2026-04-01"})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if err := fake.SetNextDueDate(7, "2026-05-01"); err != nil { // renewed since the order
		t.Fatal(err)
	}
	body := `{"eventId":"o-1:extend","type":"ServiceDueDateExtended","serviceId":"7","previousDueDate":"2026-04-01","extension":{"exact":1,"days":3}}`
	for range 2 { // delivered twice
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhook", strings.NewReader(body))
		req.Header.Set("X-KYC-Event-Id", "o-1:extend")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if sv, _ := fake.Service(7); sv.NextDueDate != "2026-05-04" {
		t.Fatalf("due %s, want the renewed date + 3 days, once", sv.NextDueDate)
	}
}

// The local sink's orders and products: an auto-created service belongs to
// an order of the same id that counts as paid; a person marks it unpaid, or
// the product as having no module, and the API answers accordingly.
func TestSinkOrdersProductsAndTickets(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	fake.SetAutoCreate(true)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	api := srv.URL + "/includes/api.php"
	call := func(v url.Values) map[string]any {
		v.Set("identifier", "ident")
		v.Set("secret", "secret-value")
		v.Set("responsetype", "json")
		_, body := post(t, api, v)
		return body
	}
	send := func(path, body string) (int, string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	body := call(url.Values{"action": {"GetClientsProducts"}, "serviceid": {"9001"}})
	p := body["products"].(map[string]any)["product"].([]any)[0].(map[string]any)
	if p["orderid"] != "9001" || p["pid"] != "1" {
		t.Fatalf("an auto-created service: %v", p)
	}
	body = call(url.Values{"action": {"GetOrders"}, "id": {"9001"}})
	o := body["orders"].(map[string]any)["order"].([]any)[0].(map[string]any)
	if o["invoiceid"] != 0.0 || o["paymentstatus"] != "" {
		t.Fatalf("its order: %v", o)
	}
	if status, b := send("/orders/9001", `{"paymentStatus":"Unpaid"}`); status != 200 || !strings.Contains(b, `"paymentStatus": "Unpaid"`) {
		t.Fatalf("POST /orders/9001 = %d %s", status, b)
	}
	body = call(url.Values{"action": {"GetOrders"}, "id": {"9001"}})
	if o := body["orders"].(map[string]any)["order"].([]any)[0].(map[string]any); o["paymentstatus"] != "Unpaid" || o["invoiceid"] == 0.0 {
		t.Fatalf("an unpaid order: %v", o)
	}
	for _, bad := range []string{`{}`, `{"paid":true}`, `x`} {
		if status, _ := send("/orders/9001", bad); status != http.StatusBadRequest {
			t.Errorf("POST /orders/9001 %s = %d, want 400", bad, status)
		}
	}
	if status, _ := send("/products/1", `{"module":""}`); status != 200 {
		t.Fatalf("POST /products/1 = %d", status)
	}
	body = call(url.Values{"action": {"ModuleCreate"}, "serviceid": {"9001"}})
	if body["result"] != "error" || body["message"] != "Service not assigned to a module" {
		t.Fatalf("ModuleCreate of a product without a module: %v", body)
	}
	body = call(url.Values{"action": {"UpdateClientProduct"}, "serviceid": {"9001"}, "status": {"Active"}})
	if sv, _ := fake.Service(9001); body["result"] != "success" || sv.Status != "Active" {
		t.Fatalf("set Active: %v %+v", body, sv)
	}
	call(url.Values{"action": {"OpenTicket"}, "deptid": {"4"}, "subject": {"Set up service #9001 by hand [KYC-SETUP-9001]"},
		"message": {"m"}, "name": {"KYC gate"}, "email": {"kyc@example.com"}})
	resp, err := http.Get(srv.URL + "/tickets")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tickets []whmcstest.Ticket
	if err := json.NewDecoder(resp.Body).Decode(&tickets); err != nil || len(tickets) != 1 || tickets[0].Status != "Open" {
		t.Fatalf("GET /tickets: %+v, %v", tickets, err)
	}
}
