package whmcs_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

var creds = whmcs.Credentials{Identifier: "test-identifier", Secret: "s3cr3t-value-never-logged"}

// fixture is a fake WHMCS with service 101 (client 7, Pending), 102 (client
// 7, Active), department 3, and a client with short timeouts and backoff.
func fixture(tb testing.TB, o whmcs.Options) (*whmcstest.Server, *whmcs.Client) {
	tb.Helper()
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 101, ClientID: 7})
	fake.AddService(whmcstest.Service{ID: 102, ClientID: 7, Status: whmcs.StatusActive})
	fake.AddDepartment(3)
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Backoff == 0 {
		o.Backoff = 10 * time.Millisecond
	}
	c, err := whmcs.New(srv.URL+"/includes/api.php", creds, o)
	if err != nil {
		tb.Fatal(err)
	}
	return fake, c
}

func kindOf(tb testing.TB, err error) whmcs.Kind {
	tb.Helper()
	var e *whmcs.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T) is not a *whmcs.Error", err, err)
	}
	if strings.Contains(e.Error(), creds.Secret) || strings.Contains(e.Error(), creds.Identifier) {
		tb.Fatalf("error text carries credentials: %v", e)
	}
	return e.Kind
}

func TestActionsChangeServiceState(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{})
	ctx := context.Background()
	if err := c.ModuleCreate(ctx, 101); err != nil {
		t.Fatal(err)
	}
	if err := c.ModuleSuspend(ctx, 101, "KYC not completed"); err != nil {
		t.Fatal(err)
	}
	sv, _ := fake.Service(101)
	if sv.Status != whmcs.StatusSuspended || sv.SuspendReason != "KYC not completed" {
		t.Fatalf("after suspend: %+v", sv)
	}
	got, err := c.Service(ctx, 101)
	if err != nil || got.Status != whmcs.StatusSuspended || got.SuspensionReason != "KYC not completed" || got.ClientID != 7 {
		t.Fatalf("Service(101) = %+v, %v", got, err)
	}
	if err := c.ModuleUnsuspend(ctx, 101); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateClientProduct(ctx, 101, "2026-03-14"); err != nil {
		t.Fatal(err)
	}
	sv, _ = fake.Service(101)
	if sv.Status != whmcs.StatusActive || sv.NextDueDate != "2026-03-14" || sv.SuspendReason != "" {
		t.Fatalf("final state: %+v", sv)
	}

	// The requests carry WHMCS's field names; the record never holds credentials.
	cmds := fake.Commands()
	want := []string{"ModuleCreate", "ModuleSuspend", "GetClientsProducts", "ModuleUnsuspend", "UpdateClientProduct"}
	if len(cmds) != len(want) {
		t.Fatalf("commands: %+v", cmds)
	}
	for i, c := range cmds {
		if c.Action != want[i] || c.Result != "success" || c.Params["serviceid"] != "101" {
			t.Errorf("command %d = %+v, want %s on serviceid 101", i, c, want[i])
		}
		for _, k := range []string{"identifier", "secret", "responsetype"} {
			if _, ok := c.Params[k]; ok {
				t.Errorf("command %d records %s", i, k)
			}
		}
	}
	if cmds[1].Params["suspendreason"] != "KYC not completed" || cmds[4].Params["nextduedate"] != "2026-03-14" {
		t.Errorf("fields: %+v / %+v", cmds[1].Params, cmds[4].Params)
	}
}

func TestRejectedRepliesCarryWHMCSMessage(t *testing.T) {
	_, c := fixture(t, whmcs.Options{})
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		msg  string
	}{
		{"suspend unknown service", func() error { return c.ModuleSuspend(ctx, 999, "x") }, "Service ID not found"},
		{"suspend unprovisioned service", func() error { return c.ModuleSuspend(ctx, 101, "x") }, "not provisioned"},
		{"create an active service", func() error { return c.ModuleCreate(ctx, 102) }, "already exists"},
		{"unsuspend an active service", func() error { return c.ModuleUnsuspend(ctx, 102) }, "not suspended"},
		{"update unknown service", func() error { return c.UpdateClientProduct(ctx, 999, "2026-01-01") }, "Service ID Not Found"},
		{"status of unknown service", func() error { _, err := c.Service(ctx, 999); return err }, "Service ID not found"},
		{"ticket for unknown client", func() error {
			_, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 3, ClientID: 55, Subject: "s", Message: "m"})
			return err
		}, "Client ID Not Found"},
		{"ticket in unknown department", func() error {
			_, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 9, ClientID: 7, Subject: "s", Message: "m"})
			return err
		}, "Department ID not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if kindOf(t, err) != whmcs.KindRejected {
				t.Fatalf("kind of %v, want rejected", err)
			}
			var e *whmcs.Error
			errors.As(err, &e)
			if !strings.Contains(e.Message, tc.msg) || e.Transient() || e.Uncertain() {
				t.Fatalf("error %+v, want message containing %q, permanent and certain", e, tc.msg)
			}
		})
	}
}

func TestInvalidArgumentsAreNotSent(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{})
	ctx := context.Background()
	for name, err := range map[string]error{
		"service 0": c.ModuleCreate(ctx, 0),
		"negative":  c.ModuleSuspend(ctx, -3, "x"),
		"date":      c.UpdateClientProduct(ctx, 101, "14/03/2026"),
		"ticket client": func() error {
			_, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 3, Subject: "s", Message: "m"})
			return err
		}(),
	} {
		if kindOf(t, err) != whmcs.KindInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if n := len(fake.Commands()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestCredentialFailuresAreDenied(t *testing.T) {
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 101, ClientID: 7})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	wrong := whmcs.Credentials{Identifier: creds.Identifier, Secret: "wrong-secret"}
	c, err := whmcs.New(srv.URL+"/includes/api.php", wrong, whmcs.Options{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.ModuleCreate(context.Background(), 101)
	if kindOf(t, err) != whmcs.KindDenied || !strings.Contains(err.Error(), "Authentication Failed") {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("error carries the secret: %v", err)
	}
	if sv, _ := fake.Service(101); sv.Status != whmcs.StatusPending {
		t.Fatalf("service changed by an unauthenticated call: %+v", sv)
	}
	if n, _ := fake.Count("ModuleCreate"); n != 1 {
		t.Fatalf("denied call retried: %d requests", n)
	}
}

func TestAuthRefusalsInA200ReplyAreDenied(t *testing.T) {
	// Some WHMCS versions and proxies answer refusals with HTTP 200.
	for _, msg := range []string{"Invalid IP 203.0.113.9", "Invalid Permissions: API action \"ModuleCreate\" is not allowed", "Authentication Failed"} {
		fake, c := fixture(t, whmcs.Options{})
		fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Message: msg})
		if err := c.ModuleCreate(context.Background(), 101); kindOf(t, err) != whmcs.KindDenied {
			t.Errorf("%q: %v, want denied", msg, err)
		}
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	t.Run("503 is retried and then succeeds", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Attempts: 3})
		fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Status: 503, Body: "<html>maintenance</html>"})
		if err := c.ModuleCreate(ctx, 101); err != nil {
			t.Fatal(err)
		}
		if n, ok := fake.Count(whmcs.ActionModuleCreate); n != 2 || ok != 1 {
			t.Fatalf("ModuleCreate received %d, succeeded %d; want 2, 1", n, ok)
		}
	})
	t.Run("429 rate limit is retried", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Attempts: 2})
		fake.Inject(whmcs.ActionModuleSuspend, whmcstest.Fault{Status: 429})
		if err := c.ModuleSuspend(ctx, 102, "x"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("500 on ModuleCreate is not retried: outcome unknown", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Attempts: 3})
		fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Status: 500, Apply: true, Body: "Fatal error"})
		err := c.ModuleCreate(ctx, 101)
		if kindOf(t, err) != whmcs.KindUnknown {
			t.Fatalf("got %v, want unknown outcome", err)
		}
		var e *whmcs.Error
		errors.As(err, &e)
		if !e.Uncertain() || !e.Transient() {
			t.Fatalf("500 must be transient and uncertain: %+v", e)
		}
		if n, _ := fake.Count(whmcs.ActionModuleCreate); n != 1 {
			t.Fatalf("ModuleCreate sent %d times, want 1", n)
		}
	})
	t.Run("500 on UpdateClientProduct is not retried: a payment between two tries would be undone", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Attempts: 3})
		fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 502, Apply: true})
		err := c.UpdateClientProduct(ctx, 101, "2026-02-01")
		if kindOf(t, err) != whmcs.KindUnknown {
			t.Fatalf("got %v, want unknown outcome", err)
		}
		if n, _ := fake.Count(whmcs.ActionUpdateClientProduct); n != 1 {
			t.Fatalf("UpdateClientProduct sent %d times, want 1", n)
		}
	})
	t.Run("503 on UpdateClientProduct is retried: not processed", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Attempts: 3})
		fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 503})
		if err := c.UpdateClientProduct(ctx, 101, "2026-02-01"); err != nil {
			t.Fatal(err)
		}
		if n, _ := fake.Count(whmcs.ActionUpdateClientProduct); n != 2 {
			t.Fatalf("UpdateClientProduct sent %d times, want 2", n)
		}
	})
	t.Run("attempts are bounded", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Attempts: 2})
		fake.Inject("", whmcstest.Fault{Status: 503}, whmcstest.Fault{Status: 503}, whmcstest.Fault{Status: 503})
		err := c.ModuleUnsuspend(ctx, 102)
		if kindOf(t, err) != whmcs.KindUnavailable {
			t.Fatalf("got %v, want unavailable", err)
		}
		if n, _ := fake.Count(whmcs.ActionModuleUnsuspend); n != 2 {
			t.Fatalf("sent %d times, want 2", n)
		}
	})
}

func TestSlowRepliesAndTimeouts(t *testing.T) {
	ctx := context.Background()
	t.Run("a slow reply within the timeout succeeds", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Timeout: time.Second})
		fake.Inject(whmcs.ActionModuleSuspend, whmcstest.Fault{Delay: 200 * time.Millisecond, Apply: true})
		if err := c.ModuleSuspend(ctx, 102, "x"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a reply after the timeout is an unknown outcome", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Timeout: 100 * time.Millisecond, CreateTimeout: 100 * time.Millisecond})
		fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Delay: 2 * time.Second, Apply: true})
		start := time.Now()
		err := c.ModuleCreate(ctx, 101)
		if kindOf(t, err) != whmcs.KindUnknown {
			t.Fatalf("got %v, want unknown outcome", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("the call waited %v; the timeout is 100ms", d)
		}
		// WHMCS did the work although the client never heard back.
		if sv, _ := fake.Service(101); sv.Status != whmcs.StatusActive {
			t.Fatalf("service %+v", sv)
		}
	})
	t.Run("ModuleCreate has its own longer timeout", func(t *testing.T) {
		fake, c := fixture(t, whmcs.Options{Timeout: 50 * time.Millisecond, CreateTimeout: 2 * time.Second})
		fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Delay: 300 * time.Millisecond, Apply: true})
		if err := c.ModuleCreate(ctx, 101); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUnreadableRepliesAreUnknown(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{Attempts: 1})
	fake.Inject(whmcs.ActionModuleSuspend, whmcstest.Fault{Body: "<b>Warning</b>: something broke", Apply: true})
	err := c.ModuleSuspend(context.Background(), 102, "x")
	if kindOf(t, err) != whmcs.KindUnknown {
		t.Fatalf("got %v, want unknown outcome", err)
	}
}

func TestConnectionRefusedIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := whmcs.New("http://"+addr+"/includes/api.php", creds, whmcs.Options{Attempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.ModuleCreate(context.Background(), 101)
	if kindOf(t, err) != whmcs.KindUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
}

func TestOtherResponseTypeIsNotAccepted(t *testing.T) {
	// A proxy or plugin that strips responsetype gets WHMCS's name=value
	// format back; the client must not read that as success.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("result=success;"))
	}))
	defer srv.Close()
	c, _ := whmcs.New(srv.URL+"/includes/api.php", creds, whmcs.Options{Attempts: 1})
	if err := c.ModuleCreate(context.Background(), 1); kindOf(t, err) != whmcs.KindUnknown {
		t.Fatalf("got %v", err)
	}
}

func TestOpenTicket(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{})
	ref, err := c.OpenTicket(context.Background(), whmcs.Ticket{DeptID: 3, ClientID: 7, ServiceID: 101,
		Subject: "KYC", Message: "Please verify", NoEmail: true, Markdown: true})
	if err != nil {
		t.Fatal(err)
	}
	tickets := fake.Tickets()
	if len(tickets) != 1 || ref.ID != tickets[0].ID || ref.TID != tickets[0].TID {
		t.Fatalf("ref %+v, tickets %+v", ref, tickets)
	}
	tk := tickets[0]
	if tk.ClientID != 7 || tk.ServiceID != 101 || tk.DeptID != 3 || !tk.Admin || !tk.NoEmail || !tk.Markdown || tk.Subject != "KYC" {
		t.Fatalf("ticket %+v", tk)
	}
	// A service of another client is refused as WHMCS does.
	fake.AddService(whmcstest.Service{ID: 300, ClientID: 8})
	_, err = c.OpenTicket(context.Background(), whmcs.Ticket{DeptID: 3, ClientID: 7, ServiceID: 300, Subject: "s", Message: "m"})
	if kindOf(t, err) != whmcs.KindRejected {
		t.Fatalf("got %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		url   string
		creds whmcs.Credentials
	}{
		{"billing.example.com/includes/api.php", creds},
		{"ftp://billing.example.com/includes/api.php", creds},
		{"https://user:pw@billing.example.com/includes/api.php", creds},
		{"https://billing.example.com/includes/api.php", whmcs.Credentials{Identifier: "x"}},
	} {
		if _, err := whmcs.New(tc.url, tc.creds, whmcs.Options{}); err == nil {
			t.Errorf("New(%q, %+v) accepted", tc.url, tc.creds.Identifier)
		}
	}
}

func TestParseIDs(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "4821": 4821} {
		if got, err := whmcs.ParseServiceID(in); err != nil || got != want {
			t.Errorf("ParseServiceID(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-1", "01", "12a", "svc-1", " 5"} {
		if _, err := whmcs.ParseServiceID(in); err == nil {
			t.Errorf("ParseServiceID(%q) accepted", in)
		}
		if _, err := whmcs.ParseClientID(in); err == nil {
			t.Errorf("ParseClientID(%q) accepted", in)
		}
	}
}
