package billing_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// TestExtensionProperties: over random histories of one extension's
// deliveries (each may meet a WHMCS that applies the update and loses the
// reply, fails before applying it, or refuses it; attempts that die and are
// resumed later; redeliveries after success), interleaved with payments that
// move the service's due date on by a cycle, through the real applier,
// ledger, WHMCS client and a fake WHMCS over HTTP:
//
//   - the due date WHMCS ends with is never earlier than it would have been
//     without the gate;
//   - the extension's days are added at most once, and the command ends
//     applied with them added exactly once, unless the adapter stopped for a
//     person (due_date_moved), which it does only after an attempt of unknown
//     outcome met a date moved since.
func TestExtensionProperties(t *testing.T) {
	var current atomic.Pointer[whmcstest.Server]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) }))
	defer srv.Close()
	client, err := whmcs.New(srv.URL+"/includes/api.php", creds, whmcs.Options{Timeout: 2 * time.Second, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rapid.Check(t, func(t *rapid.T) {
		fake := whmcstest.NewServer(creds)
		current.Store(fake)
		start := kyc.NewDate(2026, 1, 1).AddDays(rapid.IntRange(0, 365).Draw(t, "start"))
		fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, Status: whmcs.StatusActive, NextDueDate: start.String()})
		clk := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
		l := ledgertest.NewMemory()
		l.Now = clk.Now
		a := billing.NewApplier(l, billing.NewWHMCS(client), slog.New(slog.DiscardHandler))
		days := rapid.IntRange(1, 10).Draw(t, "days")
		e := extend()
		e.After, e.Extension = "", &kyc.Extension{Exact: time.Duration(days) * 24 * time.Hour, Days: days}

		noGate := start
		uncertain, stopped := false, false
		deliver := func(fault int) {
			switch fault {
			case 1: // applied, reply lost
				fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Apply: true, Body: "Fatal error"})
			case 2: // failed before applying, outcome unknown to us
				fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Body: "Fatal error"})
			case 3: // refused
				fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Message: "locked"})
			}
			_, err := a.Apply(ctx, e)
			var moved *billing.DueDateMovedError
			switch {
			case errors.As(err, &moved):
				stopped = true
			case err != nil && ledger.Classify(err).Uncertain:
				uncertain = true
			}
			// A delivery refused by the ledger (busy) never reached WHMCS:
			// its fault must not meet a later delivery.
			fake.ClearFaults(whmcs.ActionUpdateClientProduct)
		}
		for range rapid.IntRange(1, 12).Draw(t, "steps") {
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0: // a payment moves the date on a cycle
				sv, _ := fake.Service(5001)
				d, _ := kyc.ParseDate(sv.NextDueDate)
				if err := fake.SetNextDueDate(5001, d.AddDays(30).String()); err != nil {
					t.Fatal(err)
				}
				noGate = noGate.AddDays(30)
			case 1:
				deliver(rapid.IntRange(0, 3).Draw(t, "fault"))
			case 2: // an attempt dies, or time passes
				clk.Add(ledger.DefaultStaleAfter + time.Millisecond)
			}
		}
		// The queue keeps delivering until the command is done (or the DLQ).
		for range 3 {
			clk.Add(ledger.DefaultStaleAfter + time.Millisecond)
			deliver(0)
		}
		sv, _ := fake.Service(5001)
		final, err := kyc.ParseDate(sv.NextDueDate)
		if err != nil {
			t.Fatal(err)
		}
		entry, _, _ := l.Entry(ctx, e.ID)
		switch {
		case final.Before(noGate):
			t.Fatalf("WHMCS ends due %s, earlier than %s without the gate", final, noGate)
		case final == noGate.AddDays(days) && entry.State == ledger.StateApplied:
		case (final == noGate || final == noGate.AddDays(days)) && stopped && uncertain && entry.ErrorKind == "due_date_moved":
			// Stopped for a person: the days went in once or not at all,
			// which the date alone cannot tell.
		default:
			t.Fatalf("WHMCS ends due %s; without the gate %s, extension %d days; ledger %+v (stopped %v, uncertain %v)",
				final, noGate, days, entry, stopped, uncertain)
		}
	})
}
