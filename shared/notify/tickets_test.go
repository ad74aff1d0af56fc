package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/notify"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// ticketRig is a notifier with e-mail and WHMCS case tickets, its notice
// ledgers on a clock the test moves.
type ticketRig struct {
	*nrig
	now   time.Time
	sentT *ledgertest.Memory
}

func newTicketRig(t *testing.T) *ticketRig {
	t.Helper()
	r := newNotifyRig(t, rigOpts{tickets: true})
	tr := &ticketRig{nrig: r, now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return tr.now }
	email, tickets := ledgertest.NewMemory(), ledgertest.NewMemory()
	email.Now, tickets.Now = clock, clock
	tr.sentT = tickets
	srv := httptest.NewServer(r.whmcs)
	t.Cleanup(srv.Close)
	client, _ := whmcs.New(srv.URL+"/includes/api.php", whmcs.Credentials{Identifier: "id", Secret: "secret"}, whmcs.Options{Backoff: time.Millisecond})
	tk, err := notify.NewWHMCSTickets(client, "4", "kyc-gate", r.cases)
	if err != nil {
		t.Fatal(err)
	}
	tk.Now = clock
	renderer, _ := notify.NewRenderer(portal)
	mailer, _ := notify.NewSES(r.ses, "kyc@provider.example", "")
	n, err := notify.New(notify.Config{Customers: r.cust, Sealer: sealer{}, Mailer: mailer, Renderer: renderer, Tickets: tk,
		SentEmail: email, SentTicket: tickets, Log: slog.New(slog.NewJSONHandler(r.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.handler = notify.NewHandler(n)
	return tr
}

// caseTickets returns the tickets of customer 1001's KYC cases.
func (r *ticketRig) caseTickets() []whmcstest.Ticket {
	var out []whmcstest.Ticket
	for _, tk := range r.whmcs.Tickets() {
		if strings.Contains(tk.Subject, "[KYC-1001]") {
			out = append(out, tk)
		}
	}
	return out
}

func (r *ticketRig) ticketCalls() []string {
	var out []string
	for _, c := range r.whmcs.Commands() {
		out = append(out, c.Action)
	}
	return out
}

// retriedOnce delivers e, which must fail, then again once the ledger's
// stale period has passed (an attempt of unknown outcome holds the notice
// that long), which must succeed.
func (r *ticketRig) retriedOnce(t *testing.T, e kyc.Event) {
	t.Helper()
	if failed := r.deliver(t, e); len(failed) != 1 {
		t.Fatalf("failed %v: want the first delivery to fail", failed)
	}
	r.now = r.now.Add(ledger.DefaultStaleAfter + time.Second)
	if failed := r.deliver(t, e); len(failed) != 0 {
		t.Fatalf("failed %v on the retry\n%s", failed, r.logs)
	}
}

func withID(e kyc.Event, id string) kyc.Event {
	e.ID = id
	return e
}

// TestOneTicketPerCase: the first notice of a case opens the ticket, later
// ones reply, the verification replies, closes it and forgets the case; the
// next request opens a new case.
func TestOneTicketPerCase(t *testing.T) {
	r := newTicketRig(t)
	other := withID(requested(), "ord-5002:kyc-requested")
	other.OrderID, other.ServiceID = "ord-5002", "9002"
	if failed := r.deliver(t, requested(), other, rejected(), expiring()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	tickets := r.caseTickets()
	if len(tickets) != 1 {
		t.Fatalf("%d case tickets, want 1: %+v", len(tickets), r.whmcs.Tickets())
	}
	tk := tickets[0]
	if tk.ClientID != 1001 || tk.ServiceID != 9001 || tk.DeptID != 4 || !tk.Admin || !tk.NoEmail ||
		tk.Subject != "Identity verification (KYC) / 身份驗證 [KYC-1001]" || !strings.Contains(tk.Message, portal) {
		t.Fatalf("case ticket %+v", tk)
	}
	if len(tk.Replies) != 3 || tk.Replies[0].Admin != "kyc-gate" || !tk.Replies[0].NoEmail || tk.Status != "Answered" {
		t.Fatalf("replies %+v, status %s", tk.Replies, tk.Status)
	}
	if c, ok, _ := r.cases.Case(context.Background(), "1001"); !ok || c.TicketID != tk.ID || c.TID != tk.TID || c.OpenedBy != "ord-5001:kyc-requested" {
		t.Fatalf("case record %+v, %v", c, ok)
	}
	if got, want := r.ticketCalls(), []string{"GetTickets", "OpenTicket", "AddTicketReply", "AddTicketReply", "AddTicketReply"}; !slices.Equal(got, want) {
		t.Fatalf("WHMCS received %v, want %v", got, want)
	}

	if failed := r.deliver(t, verifiedEvent()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	tk = r.caseTickets()[0]
	if tk.Status != whmcs.TicketStatusClosed || len(tk.Replies) != 4 {
		t.Fatalf("after the verification: %+v", tk)
	}
	if _, ok, _ := r.cases.Case(context.Background(), "1001"); ok {
		t.Fatal("the case was not forgotten")
	}
	// A reminder, a verification with no open case: no ticket.
	before := len(r.whmcs.Commands())
	if failed := r.deliver(t, withID(expiring(), "1001:expiring:y")); len(failed) != 0 {
		t.Fatal(failed)
	}
	if len(r.whmcs.Commands()) != before {
		t.Fatalf("a reminder without a case reached WHMCS: %v", r.ticketCalls()[before:])
	}
	// The next request opens a new case.
	if failed := r.deliver(t, withID(requested(), "ord-5003:kyc-requested")); len(failed) != 0 {
		t.Fatal(failed)
	}
	if n := len(r.caseTickets()); n != 2 {
		t.Fatalf("%d case tickets, want a second for the new case", n)
	}
	r.noPersonalData(t)
}

// TestCaseTicketRecovery: the ticket of a case is found again by its tag
// when the record is lost or OpenTicket's reply is; retries never open a
// second ticket, and a resumed notice reads the ticket so that a reply WHMCS
// took but whose answer was lost is not added twice, and one that never
// reached WHMCS is.
func TestCaseTicketRecovery(t *testing.T) {
	ctx := context.Background()
	t.Run("a lost record: the open ticket is found and replied to", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		_ = r.cases.ForgetCase(ctx, "1001")
		if failed := r.deliver(t, rejected()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		tks := r.caseTickets()
		if len(tks) != 1 || len(tks[0].Replies) != 1 {
			t.Fatalf("tickets %+v", tks)
		}
		if c, ok, _ := r.cases.Case(ctx, "1001"); !ok || c.TicketID != tks[0].ID {
			t.Fatalf("case %+v %v", c, ok)
		}
	})
	t.Run("OpenTicket's reply lost: the retry finds the ticket, opens none, adds nothing", func(t *testing.T) {
		r := newTicketRig(t)
		r.whmcs.Inject(whmcs.ActionOpenTicket, whmcstest.Fault{Status: 504, Apply: true})
		if failed := r.deliver(t, requested()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if e, _, _ := r.sentT.Entry(ctx, "ord-5001:kyc-requested"); !e.Uncertain {
			t.Fatalf("ledger %+v: an OpenTicket of unknown outcome must make the retry resume", e)
		}
		// A redelivery at once waits for the stale period (WHMCS may still be at work).
		r.retriedOnce(t, requested())
		tks := r.caseTickets()
		if len(tks) != 1 || len(tks[0].Replies) != 0 {
			t.Fatalf("tickets %+v: want the one ticket, its notice once", tks)
		}
		if e, _, _ := r.sentT.Entry(ctx, "ord-5001:kyc-requested"); e.Outcome != notify.TicketRecovered {
			t.Fatalf("ledger %+v", e)
		}
		if r.ses.count() != 1 {
			t.Fatalf("%d e-mails", r.ses.count())
		}
	})
	t.Run("a reply's answer lost: the retry reads the ticket and adds nothing", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.whmcs.Inject(whmcs.ActionAddTicketReply, whmcstest.Fault{Status: 504, Apply: true})
		r.retriedOnce(t, rejected())
		if tks := r.caseTickets(); len(tks) != 1 || len(tks[0].Replies) != 1 {
			t.Fatalf("tickets %+v: want the rejection once", tks)
		}
		if e, _, _ := r.sentT.Entry(ctx, "sub-77:rejected"); e.Outcome != notify.TicketReplied {
			t.Fatalf("ledger %+v", e)
		}
		if n, _ := r.whmcs.Count(whmcs.ActionGetTicket); n != 1 {
			t.Fatalf("GetTicket called %d times, want once (by the resumed attempt only)", n)
		}
	})
	t.Run("an API role without GetTicket: the resumed reply is sent without looking", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.whmcs.Inject(whmcs.ActionAddTicketReply, whmcstest.Fault{Status: 504})
		if failed := r.deliver(t, rejected()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		r.whmcs.Inject(whmcs.ActionGetTicket, whmcstest.Fault{Status: 403, Message: "Invalid Permissions: API action \"getticket\" is not allowed"})
		r.now = r.now.Add(ledger.DefaultStaleAfter + time.Second)
		if failed := r.deliver(t, rejected()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if tks := r.caseTickets(); len(tks) != 1 || len(tks[0].Replies) != 1 {
			t.Fatalf("tickets %+v", tks)
		}
	})
	t.Run("a reply lost on its way to a ticket found by its tag: the retry adds it once", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		_ = r.cases.ForgetCase(ctx, "1001") // the rejection takes the ticket over by its tag
		r.whmcs.Inject(whmcs.ActionAddTicketReply, whmcstest.Fault{Status: 504})
		r.retriedOnce(t, rejected())
		tks := r.caseTickets()
		if len(tks) != 1 || len(tks[0].Replies) != 1 || !strings.Contains(tks[0].Replies[0].Message, "文件模糊或無法辨認") {
			t.Fatalf("tickets %+v: the rejection must reach the ticket once", tks)
		}
	})
	t.Run("the verification's closing reply answered late: closed, no second reply", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.whmcs.Inject(whmcs.ActionAddTicketReply, whmcstest.Fault{Status: 504, Apply: true})
		r.retriedOnce(t, verifiedEvent())
		if tk := r.caseTickets()[0]; len(tk.Replies) != 1 || tk.Status != whmcs.TicketStatusClosed {
			t.Fatalf("ticket %+v", tk)
		}
		if _, ok, _ := r.cases.Case(ctx, "1001"); ok {
			t.Fatal("the case was not forgotten")
		}
	})
	t.Run("the ticket opened but not recorded: found on the retry", func(t *testing.T) {
		r := newTicketRig(t)
		r.cases.FailNext("SaveCase", errors.New("table throttled"))
		r.retriedOnce(t, requested())
		if tks := r.caseTickets(); len(tks) != 1 || len(tks[0].Replies) != 0 {
			t.Fatalf("tickets %+v", tks)
		}
		if _, ok, _ := r.cases.Case(ctx, "1001"); !ok {
			t.Fatal("not recorded")
		}
	})
	t.Run("staff deleted the ticket: a new one", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.whmcs.DeleteTicket(r.caseTickets()[0].ID)
		if failed := r.deliver(t, rejected()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		tks := r.caseTickets()
		if len(tks) != 1 || !strings.Contains(tks[0].Message, "文件模糊或無法辨認") {
			t.Fatalf("tickets %+v", tks)
		}
		if c, _, _ := r.cases.Case(ctx, "1001"); c.TicketID != tks[0].ID {
			t.Fatalf("case %+v", c)
		}
	})
	t.Run("the customer closed it: a reply reopens it", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.whmcs.SetTicketStatus(r.caseTickets()[0].ID, whmcs.TicketStatusClosed)
		if failed := r.deliver(t, rejected()); len(failed) != 0 {
			t.Fatal(failed)
		}
		if tk := r.caseTickets()[0]; len(r.caseTickets()) != 1 || tk.Status != "Answered" || len(tk.Replies) != 1 {
			t.Fatalf("ticket %+v", tk)
		}
	})
	t.Run("the verification's closing reply sent, the rest failed: no second reply", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		r.whmcs.Inject(whmcs.ActionUpdateTicket, whmcstest.Fault{Message: "Database error"})
		if failed := r.deliver(t, verifiedEvent()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if failed := r.deliver(t, verifiedEvent()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		tk := r.caseTickets()[0]
		if len(tk.Replies) != 1 || tk.Status != whmcs.TicketStatusClosed {
			t.Fatalf("ticket %+v", tk)
		}
		if _, ok, _ := r.cases.Case(ctx, "1001"); ok {
			t.Fatal("the case was not forgotten")
		}
	})
	t.Run("a verification whose case record was lost closes the open ticket", func(t *testing.T) {
		r := newTicketRig(t)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatal(failed)
		}
		_ = r.cases.ForgetCase(ctx, "1001")
		if failed := r.deliver(t, verifiedEvent()); len(failed) != 0 {
			t.Fatal(failed)
		}
		if tk := r.caseTickets()[0]; tk.Status != whmcs.TicketStatusClosed {
			t.Fatalf("ticket %+v", tk)
		}
	})
}

// TestCaseTicketOpenedOnce: first notices of one customer that run at once
// (two orders placed together, in two batches) open one ticket: the notice
// that records the opening opens it, the others are delivered again (busy,
// nothing done) and reply to it; an opening whose attempt died is taken
// over once the ledger's stale period has passed.
func TestCaseTicketOpenedOnce(t *testing.T) {
	ctx := context.Background()
	other := withID(requested(), "ord-5002:kyc-requested")
	other.OrderID, other.ServiceID = "ord-5002", "9002"
	rig := func(t *testing.T) *ticketRig {
		r := newTicketRig(t)
		r.whmcs.AddService(whmcstest.Service{ID: 9002, ClientID: 1001, Status: whmcs.StatusPending})
		return r
	}
	opening := func(r *ticketRig, by string) notify.Case {
		c := notify.Case{CustomerID: "1001", OpenedBy: by, OpeningSince: r.now}
		if err := r.cases.StartCase(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("a notice meeting another's opening waits, then replies to its ticket", func(t *testing.T) {
		r := rig(t)
		opened := opening(r, other.ID)
		if failed := r.deliver(t, requested()); len(failed) != 1 {
			t.Fatalf("failed %v: a notice meeting an opening must be delivered again", failed)
		}
		if calls := r.ticketCalls(); len(calls) != 0 {
			t.Fatalf("WHMCS received %v while another notice was opening the ticket", calls)
		}
		if e, _, _ := r.sentT.Entry(ctx, requested().ID); e.State != ledger.StateFailed || e.Uncertain || e.ErrorKind != "busy" {
			t.Fatalf("ledger %+v: nothing was done, the retry may come at once", e)
		}
		if c, _, _ := r.cases.Case(ctx, "1001"); c != opened {
			t.Fatalf("case %+v: the opening must be left to its notice", c)
		}
		if failed := r.deliver(t, other, requested()); len(failed) != 0 { // the opener goes on, then the retry
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		tks := r.caseTickets()
		if len(tks) != 1 || tks[0].ServiceID != 9002 || len(tks[0].Replies) != 1 {
			t.Fatalf("tickets %+v: want the opener's ticket with the other notice as its reply", tks)
		}
		if c, _, _ := r.cases.Case(ctx, "1001"); c.TicketID != tks[0].ID || c.OpenedBy != other.ID || c.Opening() {
			t.Fatalf("case %+v", c)
		}
	})
	t.Run("an opening whose attempt died is taken over after the stale period", func(t *testing.T) {
		r := rig(t)
		r.whmcs.Inject(whmcs.ActionOpenTicket, whmcstest.Fault{Status: 504, Apply: true}) // opened, the answer lost
		if failed := r.deliver(t, other); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if failed := r.deliver(t, requested()); len(failed) != 1 {
			t.Fatalf("failed %v: the opening is young, its attempt may be at work", failed)
		}
		r.now = r.now.Add(ledger.DefaultStaleAfter + time.Second)
		if failed := r.deliver(t, requested()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		tks := r.caseTickets()
		if len(tks) != 1 || len(tks[0].Replies) != 1 {
			t.Fatalf("tickets %+v: the ticket the dead attempt opened, found by its tag, with the notice once", tks)
		}
		if e, _, _ := r.sentT.Entry(ctx, requested().ID); e.Outcome != notify.TicketRecovered {
			t.Fatalf("ledger %+v", e)
		}
		if c, _, _ := r.cases.Case(ctx, "1001"); c.TicketID != tks[0].ID || c.OpenedBy != requested().ID {
			t.Fatalf("case %+v", c)
		}
	})
	t.Run("a reminder or a verification meeting an opening waits; after a dead one, finds no ticket", func(t *testing.T) {
		r := rig(t)
		opening(r, other.ID)
		if failed := r.deliver(t, expiring(), verifiedEvent()); len(failed) != 2 {
			t.Fatalf("failed %v", failed)
		}
		if calls := r.ticketCalls(); len(calls) != 0 {
			t.Fatalf("WHMCS received %v", calls)
		}
		r.now = r.now.Add(ledger.DefaultStaleAfter + time.Second) // its attempt died before opening anything
		if failed := r.deliver(t, expiring(), verifiedEvent()); len(failed) != 0 {
			t.Fatalf("failed %v\n%s", failed, r.logs)
		}
		if n := len(r.whmcs.Tickets()); n != 0 {
			t.Fatalf("%d tickets", n)
		}
		for _, id := range []string{expiring().ID, verifiedEvent().ID} {
			if e, _, _ := r.sentT.Entry(ctx, id); e.State != ledger.StateApplied || e.Outcome != "none" {
				t.Fatalf("%s: ledger %+v", id, e)
			}
		}
	})
	t.Run("first notices running side by side: one ticket, every notice on it once", func(t *testing.T) {
		r := rig(t)
		var notices []kyc.Event
		for i := range 5 {
			e := withID(requested(), fmt.Sprintf("ord-60%d:kyc-requested", i))
			e.OrderID = fmt.Sprintf("ord-60%d", i)
			notices = append(notices, e)
		}
		r.cases.HoldReads(len(notices)) // all read "no case" before any records one
		pending := notices
		for round := 0; len(pending) > 0; round++ {
			if round == 5 {
				t.Fatalf("%d notices still failing\n%s", len(pending), r.logs)
			}
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				again []kyc.Event
			)
			for _, e := range pending {
				wg.Go(func() {
					resp, _ := r.handler.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + e.ID, Body: envelope(t, e)}}})
					if len(resp.BatchItemFailures) > 0 {
						mu.Lock()
						again = append(again, e)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			pending = again
		}
		tks := r.caseTickets()
		if len(tks) != 1 || len(tks[0].Replies) != len(notices)-1 {
			t.Fatalf("%d case tickets %+v: want one, with the other %d notices as replies", len(tks), tks, len(notices)-1)
		}
	})
}

// TestTicketsForWhom: WHMCS is asked to e-mail the ticket only when the gate
// did not e-mail the customer; a customer id that is no WHMCS client gets no
// ticket; a WHMCS refusal fails the notice without sending the e-mail again.
func TestTicketsForWhom(t *testing.T) {
	r := newTicketRig(t)
	noContact := withID(rejected(), "sub-80:rejected")
	noContact.CustomerID = "1002"
	notWHMCS := withID(requested(), "ord-9:kyc-requested")
	notWHMCS.CustomerID = "cust-abc"
	r.cust["cust-abc"] = kyc.Customer{ID: "cust-abc"}
	if failed := r.deliver(t, noContact, notWHMCS); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	tks := r.whmcs.Tickets()
	if len(tks) != 1 || tks[0].ClientID != 1002 || tks[0].NoEmail || tks[0].ServiceID != 0 || !strings.Contains(tks[0].Subject, "[KYC-1002]") {
		t.Fatalf("tickets %+v", tks)
	}
	if !strings.Contains(r.logs.String(), "no ticket for this customer or notice") {
		t.Errorf("non-WHMCS customer not logged:\n%s", r.logs)
	}
	r.whmcs.Inject(whmcs.ActionOpenTicket, whmcstest.Fault{Message: "Department ID not found"})
	if failed := r.deliver(t, requested()); len(failed) != 1 {
		t.Fatalf("failed %v", failed)
	}
	sent := r.ses.count()
	if failed := r.deliver(t, requested()); len(failed) != 0 {
		t.Fatalf("retry failed %v\n%s", failed, r.logs)
	}
	if r.ses.count() != sent || len(r.caseTickets()) != 1 {
		t.Fatalf("%d e-mails (was %d), %d case tickets", r.ses.count(), sent, len(r.caseTickets()))
	}
	r.noPersonalData(t)
}

func TestNewWHMCSTicketsValidates(t *testing.T) {
	c, _ := whmcs.New("https://billing.example.com/includes/api.php", whmcs.Credentials{Identifier: "i", Secret: "s"}, whmcs.Options{})
	for _, tc := range []struct{ dept, admin string }{{"x", "kyc-gate"}, {"4", ""}} {
		if _, err := notify.NewWHMCSTickets(c, tc.dept, tc.admin, notify.NewMemoryCases()); err == nil {
			t.Errorf("dept %q admin %q accepted", tc.dept, tc.admin)
		}
	}
}
