package whmcs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// TestOrderPaymentAndProductModule: what the provisioning checks read. The
// reply's other fields (the client's name) are not decoded.
func TestOrderPaymentAndProductModule(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{})
	ctx := context.Background()
	fake.AddOrder(whmcstest.Order{ID: 5001, ClientID: 7, InvoiceID: 7001, PaymentStatus: "Unpaid"})
	fake.AddOrder(whmcstest.Order{ID: 5002, ClientID: 7})
	fake.AddOrder(whmcstest.Order{ID: 5003, ClientID: 7, InvoiceID: 7003, PaymentStatus: "Paid", Status: whmcs.OrderActive})
	fake.AddOrder(whmcstest.Order{ID: 5004, ClientID: 7, InvoiceID: 7004, PaymentStatus: "Unpaid", Status: whmcs.OrderCancelled})
	fake.AddProduct(whmcstest.Product{ID: 13, Name: "Dedicated server", Module: ""})
	fake.AddService(whmcstest.Service{ID: 9004, ClientID: 7, ProductID: 13, OrderID: 5003})
	for _, tc := range []struct {
		id           int
		paid, closed bool
	}{{5001, false, false}, {5002, true, false}, {5003, true, false}, {5004, false, true}} {
		o, err := c.Order(ctx, tc.id)
		if err != nil || o.ID != tc.id || o.ClientID != 7 || o.Paid() != tc.paid || o.Closed() != tc.closed {
			t.Errorf("Order(%d) = %+v, %v; want paid %v closed %v", tc.id, o, err, tc.paid, tc.closed)
		}
	}
	if err := fake.PayOrder(5001); err != nil {
		t.Fatal(err)
	}
	if o, _ := c.Order(ctx, 5001); !o.Paid() {
		t.Errorf("order 5001 after payment: %+v", o)
	}
	_, err := c.Order(ctx, 5999)
	if kindOf(t, err) != whmcs.KindRejected || !strings.Contains(err.Error(), "Order ID not found") {
		t.Errorf("unknown order: %v", err)
	}
	sent := len(fake.Commands())
	if _, err := c.Order(ctx, 0); kindOf(t, err) != whmcs.KindInvalid || len(fake.Commands()) != sent {
		t.Errorf("order 0: %v (sent %d)", err, len(fake.Commands())-sent)
	}

	sv, err := c.Service(ctx, 9004)
	if err != nil || sv.ProductID != 13 || sv.OrderID != 5003 {
		t.Fatalf("Service(9004) = %+v, %v", sv, err)
	}
	p, err := c.Product(ctx, sv.ProductID)
	if err != nil || p != (whmcs.Product{ID: 13, Name: "Dedicated server", Module: ""}) {
		t.Errorf("Product(13) = %+v, %v", p, err)
	}
	if p, err := c.Product(ctx, whmcstest.DefaultProduct.ID); err != nil || p.Module == "" {
		t.Errorf("the default product = %+v, %v", p, err)
	}
	_, err = c.Product(ctx, 99)
	if kindOf(t, err) != whmcs.KindRejected || !strings.Contains(err.Error(), "Product ID not found") {
		t.Errorf("unknown product: %v", err)
	}
	want := []string{"id", "pid"}
	for _, cmd := range fake.Commands() {
		if cmd.Action == whmcs.ActionGetOrders && !slices.Equal(keys(cmd.Params), want[:1]) {
			t.Errorf("GetOrders params %v", cmd.Params)
		}
		if cmd.Action == whmcs.ActionGetProducts && !slices.Equal(keys(cmd.Params), want[1:]) {
			t.Errorf("GetProducts params %v", cmd.Params)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSetServiceStatus: a product without a module is provisioned, suspended
// and unsuspended by setting the service's status.
func TestSetServiceStatus(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{})
	ctx := context.Background()
	if err := c.SetServiceStatus(ctx, 101, whmcs.StatusActive, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.SetServiceStatus(ctx, 101, whmcs.StatusSuspended, "KYC verification not completed"); err != nil {
		t.Fatal(err)
	}
	if sv, _ := fake.Service(101); sv.Status != whmcs.StatusSuspended || sv.SuspendReason != "KYC verification not completed" {
		t.Fatalf("suspended: %+v", sv)
	}
	if err := c.SetServiceStatus(ctx, 101, whmcs.StatusActive, ""); err != nil {
		t.Fatal(err)
	}
	if sv, _ := fake.Service(101); sv.Status != whmcs.StatusActive || sv.SuspendReason != "" {
		t.Fatalf("unsuspended: %+v", sv)
	}
	cmds := fake.Commands()
	if last := cmds[len(cmds)-1]; last.Action != whmcs.ActionUpdateClientProduct || last.Params["status"] != "Active" || last.Params["unset[]"] != "suspendreason" {
		t.Fatalf("the unsuspend sent %+v", last)
	}
	sent := len(fake.Commands())
	if err := c.SetServiceStatus(ctx, 101, whmcs.StatusTerminated, ""); kindOf(t, err) != whmcs.KindInvalid || len(fake.Commands()) != sent {
		t.Fatalf("a status the gate never sets: %v", err)
	}
	// Repeating it is harmless: an unknown outcome is retried.
	fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Apply: true})
	if err := c.SetServiceStatus(ctx, 101, whmcs.StatusActive, ""); err != nil {
		t.Fatalf("a retried status: %v", err)
	}
}

// TestTicketCase: a ticket found by its subject tag, replied to, closed; a
// staff ticket without a client; replies are never repeated after an
// unknown outcome.
func TestTicketCase(t *testing.T) {
	fake, c := fixture(t, whmcs.Options{})
	ctx := context.Background()
	fake.AddClient(7)
	ref, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 3, ClientID: 7, Subject: "Identity verification (KYC) [KYC-7]", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 3, ClientID: 7, Subject: "Reverse DNS", Message: "other"}); err != nil {
		t.Fatal(err)
	}
	staff, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 3, Subject: "Set up service #101 by hand [KYC-SETUP-101]", Message: "m",
		Name: "KYC gate", Email: "kyc@example.com", Priority: "High", NoEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	if tk := fake.Tickets()[2]; tk.ClientID != 0 || tk.Name != "KYC gate" || tk.Email != "kyc@example.com" || tk.Priority != "High" || !tk.NoEmail || tk.Admin {
		t.Fatalf("staff ticket %+v", tk)
	}
	if _, err := c.OpenTicket(ctx, whmcs.Ticket{DeptID: 3, Subject: "s", Message: "m", Name: "KYC gate"}); kindOf(t, err) != whmcs.KindInvalid {
		t.Fatalf("a ticket with neither client nor e-mail: %v", err)
	}

	found, err := c.FindTickets(ctx, whmcs.TicketQuery{ClientID: 7, Subject: "[KYC-7]"})
	if err != nil || len(found) != 1 || found[0].ID != ref.ID || found[0].TID != ref.TID || found[0].Status != "Open" {
		t.Fatalf("FindTickets = %+v, %v", found, err)
	}
	if found, _ := c.FindTickets(ctx, whmcs.TicketQuery{Subject: "[KYC-SETUP-101]"}); len(found) != 1 || found[0].ID != staff.ID {
		t.Fatalf("the staff ticket: %+v", found)
	}
	if err := c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: ref.ID, Message: "second", AdminUsername: "kyc-gate", Markdown: true, NoEmail: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: ref.ID, Message: "verified", AdminUsername: "kyc-gate", Status: whmcs.TicketStatusClosed}); err != nil {
		t.Fatal(err)
	}
	if last, err := c.LastTicketMessage(ctx, ref.ID); err != nil || last != "verified" {
		t.Fatalf("LastTicketMessage = %q, %v", last, err)
	}
	if last, err := c.LastTicketMessage(ctx, staff.ID); err != nil || last != "m" {
		t.Fatalf("LastTicketMessage of a ticket without replies = %q, %v", last, err)
	}
	tk := fake.Tickets()[0]
	if len(tk.Replies) != 2 || tk.Replies[0] != (whmcstest.Reply{Message: "second", Admin: "kyc-gate", NoEmail: true, Markdown: true}) || tk.Status != "Closed" {
		t.Fatalf("ticket %+v", tk)
	}
	if found, _ := c.FindTickets(ctx, whmcs.TicketQuery{ClientID: 7, Subject: "[KYC-7]"}); len(found) != 0 {
		t.Fatalf("a closed ticket is active: %+v", found)
	}
	if err := c.SetTicketStatus(ctx, ref.ID, "Open"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTicketStatus(ctx, ref.ID, whmcs.TicketStatusClosed); err != nil || fake.Tickets()[0].Status != "Closed" {
		t.Fatalf("UpdateTicket: %v", err)
	}

	sent := len(fake.Commands())
	if err := c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: ref.ID, Message: "m"}); kindOf(t, err) != whmcs.KindInvalid || len(fake.Commands()) != sent {
		t.Fatalf("a reply without its admin: %v", err)
	}
	fake.DeleteTicket(ref.ID)
	err = c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: ref.ID, Message: "m", AdminUsername: "kyc-gate"})
	if !whmcs.TicketNotFound(err) {
		t.Fatalf("a deleted ticket: %v", err)
	}
	if whmcs.TicketNotFound(errors.New("Ticket ID not found")) || whmcs.TicketNotFound(&whmcs.Error{Kind: whmcs.KindUnknown, Message: "Ticket ID not found"}) {
		t.Fatal("TicketNotFound recognises what is not WHMCS's refusal")
	}
	if _, err := c.LastTicketMessage(ctx, ref.ID); !whmcs.TicketNotFound(err) {
		t.Fatalf("GetTicket of a deleted ticket: %v", err)
	}
	if err := c.SetTicketStatus(ctx, ref.ID, "Closed"); kindOf(t, err) != whmcs.KindRejected {
		t.Fatalf("UpdateTicket of a deleted ticket: %v", err)
	}

	// A reply whose outcome is unknown is not sent again by the client.
	fake.Inject(whmcs.ActionAddTicketReply, whmcstest.Fault{Status: 502, Apply: true})
	before, _ := fake.Count(whmcs.ActionAddTicketReply)
	if err := c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: staff.ID, Message: "m", AdminUsername: "kyc-gate"}); kindOf(t, err) != whmcs.KindUnknown {
		t.Fatalf("unknown outcome: %v", err)
	}
	if after, _ := fake.Count(whmcs.ActionAddTicketReply); after != before+1 {
		t.Fatalf("a reply of unknown outcome was sent %d times", after-before)
	}
}

// TestFindTicketsKeepsExactTagsOnly: WHMCS matches the subject
// approximately; only tickets whose subject holds the tag (and of the
// client asked about) are returned, newest first.
func TestFindTicketsKeepsExactTagsOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":"success","totalresults":4,"tickets":{"ticket":[
			{"id":"31","tid":"KYC-31","userid":"7","deptid":"3","subject":"Identity verification [KYC-7]","status":"Open"},
			{"id":"40","tid":"KYC-40","userid":"7","deptid":"3","subject":"Identity verification [kyc-7]","status":"Answered"},
			{"id":"41","tid":"KYC-41","userid":"7","deptid":"3","subject":"Identity verification [KYC-70]","status":"Open"},
			{"id":"42","tid":"KYC-42","userid":"8","deptid":"3","subject":"Identity verification [KYC-7]","status":"Open"}]}}`))
	}))
	defer srv.Close()
	c, err := whmcs.New(srv.URL+"/includes/api.php", creds, whmcs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.FindTickets(context.Background(), whmcs.TicketQuery{ClientID: 7, Subject: "[KYC-7]"})
	if err != nil || len(found) != 2 || found[0].ID != 40 || found[1].ID != 31 {
		t.Fatalf("FindTickets = %+v, %v", found, err)
	}
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"result":"success","totalresults":0,"startnumber":0,"numreturned":0,"tickets":[]}`))
	}))
	defer empty.Close()
	c, _ = whmcs.New(empty.URL+"/includes/api.php", creds, whmcs.Options{})
	if found, err := c.FindTickets(context.Background(), whmcs.TicketQuery{Subject: "x"}); err != nil || len(found) != 0 {
		t.Fatalf("an empty result: %+v, %v", found, err)
	}
}
