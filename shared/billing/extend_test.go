package billing_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// The extension is a number of days added to the due date WHMCS holds when
// it is applied (issue "Billing owns the dates", 1): WHMCS moves a service's
// next due date on by a billing cycle when its invoice is paid, so a date
// computed from the order would move a renewed service backwards.

// provisioned delivers o-1's provision (service 5001, due 2026-04-01 at the
// order) so that its extension may follow.
func provisioned(t *testing.T, r *rig) {
	t.Helper()
	if failed := r.deliver(t, provision()); len(failed) != 0 {
		t.Fatalf("provision failed: %v\n%s", failed, r.logs)
	}
}

func dueOf(t *testing.T, r *rig) string {
	t.Helper()
	sv, ok := r.fake.Service(5001)
	if !ok {
		t.Fatal("no service 5001")
	}
	return sv.NextDueDate
}

func updates(r *rig) []string {
	var out []string
	for _, c := range r.fake.Commands() {
		if c.Action == whmcs.ActionUpdateClientProduct {
			out = append(out, c.Params["nextduedate"]+" "+c.Result)
		}
	}
	return out
}

func TestExtensionAddsDaysToTheDateBillingHolds(t *testing.T) {
	tests := []struct {
		name string
		// between runs after the provision and before the extension's
		// deliveries; each delivery may be followed by a step.
		between func(r *rig)
		steps   []func(r *rig)
		due     string // WHMCS's date in the end
		updates []string
		outcome string
	}{
		{
			name:    "the date billing had at the order",
			due:     "2026-04-03",
			updates: []string{"2026-04-03 success"},
			outcome: billing.OutcomeApplied,
		},
		{
			name:    "a renewal in between: the days go on top of the renewed date",
			between: func(r *rig) { _ = r.fake.SetNextDueDate(5001, "2026-05-01") },
			due:     "2026-05-03",
			updates: []string{"2026-05-03 success"},
			outcome: billing.OutcomeApplied,
		},
		{
			name: "a retry after a crash that had applied the update adds nothing",
			between: func(r *rig) {
				r.fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Apply: true, Body: "Fatal error"})
			},
			steps:   []func(r *rig){staleAttempt},
			due:     "2026-04-03",
			updates: []string{"2026-04-03 success"},
			outcome: billing.OutcomeAlreadyExtended,
		},
		{
			name: "a retry after a crash before the update reached WHMCS applies it once",
			between: func(r *rig) {
				r.fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Body: "Fatal error"})
			},
			steps:   []func(r *rig){staleAttempt},
			due:     "2026-04-03",
			updates: []string{"2026-04-03 error", "2026-04-03 success"}, // the first never applied
			outcome: billing.OutcomeApplied,
		},
		{
			name: "a date changed between two retries after a refused update: the days go on the new date",
			between: func(r *rig) {
				r.fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Message: "temporarily locked"})
			},
			steps:   []func(r *rig){func(r *rig) { _ = r.fake.SetNextDueDate(5001, "2026-05-01") }},
			due:     "2026-05-03",
			updates: []string{"2026-04-03 error", "2026-05-03 success"},
			outcome: billing.OutcomeApplied,
		},
		{
			name: "a date changed between two retries after an unknown outcome: stop for a person, add nothing",
			between: func(r *rig) {
				r.fake.Inject(whmcs.ActionUpdateClientProduct, whmcstest.Fault{Status: 500, Apply: true, Body: "Fatal error"})
			},
			steps: []func(r *rig){func(r *rig) {
				_ = r.fake.SetNextDueDate(5001, "2026-05-03") // paid after the days went in
				staleAttempt(r)
			}},
			due:     "2026-05-03",
			updates: []string{"2026-04-03 success"},
			outcome: "",
		},
		{
			name:    "a service WHMCS holds no due date for (one-time, free): nothing to extend",
			between: func(r *rig) { _ = r.fake.SetNextDueDate(5001, "2026-04-01"); r.fake.AddService(noDueDate()) },
			due:     "0000-00-00",
			outcome: billing.OutcomeNoDueDate,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "memory", whmcs.Options{})
			provisioned(t, r)
			if tt.between != nil {
				tt.between(r)
			}
			r.deliver(t, extend())
			for _, step := range tt.steps {
				step(r)
				r.deliver(t, extend())
			}
			r.deliver(t, extend()) // and a redelivery once done: nothing more
			if got := dueOf(t, r); got != tt.due {
				t.Errorf("WHMCS's due date %s, want %s", got, tt.due)
			}
			if got := updates(r); !slices.Equal(got, tt.updates) {
				t.Errorf("UpdateClientProduct %v, want %v", got, tt.updates)
			}
			e := entry(t, r.ledger, "o-1:extend")
			switch tt.outcome {
			case "":
				if e.State == ledger.StateApplied || e.ErrorKind != "due_date_moved" || e.Checkpoint != "base=2026-04-01" {
					t.Errorf("ledger %+v, want a failure for a person with the base kept", e)
				}
				if !strings.Contains(r.logs.String(), "due_date_moved") {
					t.Errorf("the stop is not logged:\n%s", r.logs)
				}
			default:
				if e.State != ledger.StateApplied || e.Outcome != tt.outcome {
					t.Errorf("ledger %+v, want applied (%s)", e, tt.outcome)
				}
			}
		})
	}
}

// staleAttempt lets the interrupted attempt's claim go stale (it died), so
// the next delivery resumes it.
func staleAttempt(r *rig) { r.clock.Add(ledger.DefaultStaleAfter + 1) }

func noDueDate() whmcstest.Service {
	return whmcstest.Service{ID: 5001, ClientID: 42, Status: whmcs.StatusActive, NextDueDate: "0000-00-00"}
}

// TestExtensionRecordsItsBaseBeforeUpdating: the checkpoint is written before
// UpdateClientProduct, and a failure to write it sends nothing.
func TestExtensionRecordsItsBaseBeforeUpdating(t *testing.T) {
	r := newRig(t, "memory", whmcs.Options{})
	provisioned(t, r)
	w := billing.NewWHMCS(r.client)
	recorded := ""
	out, err := w.Apply(context.Background(), billing.Command{Event: extend(), Record: func(_ context.Context, cp string) error {
		recorded = cp
		if n := len(updates(r)); n != 0 {
			t.Errorf("UpdateClientProduct sent before the checkpoint")
		}
		return nil
	}})
	if err != nil || out != billing.OutcomeApplied || recorded != "base=2026-04-01" {
		t.Fatalf("apply: %q, %v; checkpoint %q", out, err, recorded)
	}
	boom := errors.New("ledger down")
	_, err = w.Apply(context.Background(), billing.Command{Event: extend(), Record: func(context.Context, string) error { return boom }})
	if !errors.Is(err, boom) || len(updates(r)) != 1 {
		t.Fatalf("a failed checkpoint: %v, updates %v; want the error and nothing sent", err, updates(r))
	}
}

func TestExtensionRefusesCommandsWithoutDays(t *testing.T) {
	r := newRig(t, "memory", whmcs.Options{})
	provisioned(t, r)
	for _, ext := range []*kyc.Extension{nil, {Days: 0}, {Days: -2}, {Days: billing.MaxExtensionDays + 1}} {
		e := extend()
		e.Extension = ext
		if failed := r.deliver(t, e); len(failed) != 1 {
			t.Errorf("extension %+v accepted", ext)
		}
	}
	if got := updates(r); len(got) != 0 || dueOf(t, r) != "2026-04-01" {
		t.Fatalf("updates %v, due %s", got, dueOf(t, r))
	}
}
