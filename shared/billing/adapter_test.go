package billing_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// The contract tests: the billing adapter (SQS handler, applier, ledger,
// WHMCS client) against the fake WHMCS, with each ledger implementation.

func TestMappingToWHMCSActions(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		r := newRig(t, kind, whmcs.Options{})
		if failed := r.deliver(t, provision(), extend(), suspend(), unsuspend()); len(failed) != 0 {
			t.Fatalf("failed: %v\nlogs:\n%s", failed, r.logs)
		}
		want := []string{
			"GetClientsProducts", "GetProducts", "ModuleCreate", // provision reads the status and the product's module first (the service has no order to be paid)
			"GetClientsProducts", "UpdateClientProduct", // extend reads the due date WHMCS holds now
			"GetClientsProducts", "ModuleSuspend", // suspend reads the status (the product's module is remembered)
			"GetClientsProducts", "ModuleUnsuspend", // unsuspend checks whose suspension it is
		}
		if got := actions(r.fake); !slices.Equal(got, want) {
			t.Fatalf("WHMCS received %v, want %v", got, want)
		}
		cmds := r.fake.Commands()
		if p := cmds[4].Params; p["serviceid"] != "5001" || p["nextduedate"] != "2026-04-03" {
			t.Errorf("UpdateClientProduct params %v", p)
		}
		if p := cmds[6].Params; p["serviceid"] != "5001" || p["suspendreason"] != kyc.SuspendReasonKYC {
			t.Errorf("ModuleSuspend params %v", p)
		}
		sv, _ := r.fake.Service(5001)
		if sv.Status != whmcs.StatusActive || sv.NextDueDate != "2026-04-03" {
			t.Errorf("service after all commands: %+v", sv)
		}
		for _, id := range []string{"o-1:provision", "o-1:extend", "o-1:suspend", "o-1:unsuspend"} {
			if e := entry(t, r.ledger, id); e.State != ledger.StateApplied || e.Outcome != billing.OutcomeApplied {
				t.Errorf("ledger %s = %+v", id, e)
			}
		}
	})
}

func TestDuplicateDeliveryCallsWHMCSOnce(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		r := newRig(t, kind, whmcs.Options{})
		// Twice in one batch, and again in a later batch (a re-published outbox).
		if failed := r.deliver(t, provision(), provision()); len(failed) != 0 {
			t.Fatalf("failed: %v", failed)
		}
		if failed := r.deliver(t, provision()); len(failed) != 0 {
			t.Fatalf("failed: %v", failed)
		}
		if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 1 {
			t.Fatalf("ModuleCreate sent %d times, want 1 (%v)", n, actions(r.fake))
		}
		if got := len(r.fake.Commands()); got != 3 {
			t.Fatalf("WHMCS received %d requests, want 3 (status, module, create): %v", got, actions(r.fake))
		}
		if !strings.Contains(r.logs.String(), "command already applied") {
			t.Errorf("duplicates not logged as such:\n%s", r.logs)
		}
	})
}

func TestOutOfOrderDeliveryIsDeferred(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		r := newRig(t, kind, whmcs.Options{})
		// The suspend arrives first: it must not reach WHMCS.
		if failed := r.deliver(t, suspend()); !slices.Equal(failed, []string{"m-o-1:suspend"}) {
			t.Fatalf("failed %v, want the suspend deferred", failed)
		}
		if got := actions(r.fake); len(got) != 0 {
			t.Fatalf("WHMCS received %v before the provision", got)
		}
		if _, ok, _ := r.ledger.Entry(context.Background(), "o-1:suspend"); ok {
			t.Fatal("a deferred command left a ledger entry")
		}
		// In one batch, a suspend before its provision still waits for a retry.
		if failed := r.deliver(t, suspend(), provision()); !slices.Equal(failed, []string{"m-o-1:suspend"}) {
			t.Fatalf("failed %v, want only the suspend", failed)
		}
		// The queue's retry of the suspend now applies it.
		if failed := r.deliver(t, suspend()); len(failed) != 0 {
			t.Fatalf("retry failed: %v\n%s", failed, r.logs)
		}
		if got, want := actions(r.fake), []string{"GetClientsProducts", "GetProducts", "ModuleCreate", "GetClientsProducts", "ModuleSuspend"}; !slices.Equal(got, want) {
			t.Fatalf("WHMCS received %v, want %v", got, want)
		}
		// An unsuspend waits for its suspend the same way.
		r2 := newRig(t, kind, whmcs.Options{})
		if failed := r2.deliver(t, provision(), unsuspend()); !slices.Equal(failed, []string{"m-o-1:unsuspend"}) {
			t.Fatalf("failed %v, want the unsuspend deferred", failed)
		}
	})
}

func TestStaleApplyingMarker(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		t.Run("a fresh marker means another attempt is at work", func(t *testing.T) {
			r := newRig(t, kind, whmcs.Options{})
			if _, err := r.ledger.Claim(ctx, "o-1:provision", nil); err != nil {
				t.Fatal(err)
			}
			if failed := r.deliver(t, provision()); len(failed) != 1 {
				t.Fatalf("failed %v, want the message back for later", failed)
			}
			if got := actions(r.fake); len(got) != 0 {
				t.Fatalf("WHMCS received %v while another attempt held the command", got)
			}
		})
		t.Run("a stale marker whose attempt did provision: no second ModuleCreate", func(t *testing.T) {
			r := newRig(t, kind, whmcs.Options{})
			// An earlier attempt claimed, provisioned, and died before recording.
			if _, err := r.ledger.Claim(ctx, "o-1:provision", nil); err != nil {
				t.Fatal(err)
			}
			r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, Status: whmcs.StatusActive})
			r.clock.Add(ledger.DefaultStaleAfter + time.Second)
			if failed := r.deliver(t, provision()); len(failed) != 0 {
				t.Fatalf("failed %v\n%s", failed, r.logs)
			}
			if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 0 {
				t.Fatalf("ModuleCreate sent %d times for an active service", n)
			}
			e := entry(t, r.ledger, "o-1:provision")
			if e.State != ledger.StateApplied || e.Outcome != billing.OutcomeAlreadyActive || e.Attempts != 2 {
				t.Fatalf("ledger %+v", e)
			}
		})
		t.Run("a stale marker whose attempt did not get through: the command is sent", func(t *testing.T) {
			r := newRig(t, kind, whmcs.Options{})
			if failed := r.deliver(t, provision()); len(failed) != 0 {
				t.Fatal(failed)
			}
			if _, err := r.ledger.Claim(ctx, "o-1:suspend", nil); err != nil {
				t.Fatal(err)
			}
			r.clock.Add(ledger.DefaultStaleAfter + time.Second)
			if failed := r.deliver(t, suspend()); len(failed) != 0 {
				t.Fatalf("failed %v\n%s", failed, r.logs)
			}
			if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusSuspended {
				t.Fatalf("service %+v", sv)
			}
			if !strings.Contains(r.logs.String(), `"resumed":true`) {
				t.Errorf("the take-over is not logged as resumed:\n%s", r.logs)
			}
		})
	})
}

func TestErrorReplies(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		r := newRig(t, kind, whmcs.Options{})
		e := provision()
		e.ServiceID, e.ID = "7777", "o-9:provision"
		if failed := r.deliver(t, e); len(failed) != 1 {
			t.Fatalf("failed %v, want the command failed", failed)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, "command failed permanently") || !strings.Contains(logs, "Service ID not found") ||
			!strings.Contains(logs, `"eventId":"o-9:provision"`) {
			t.Fatalf("the failure is not logged with the event id and WHMCS's message:\n%s", logs)
		}
		if got := entry(t, r.ledger, "o-9:provision"); got.State != ledger.StateFailed || got.Uncertain || got.ErrorKind != "rejected" {
			t.Fatalf("ledger %+v", got)
		}
		// Someone fixes WHMCS; the queue's next receive applies the command
		// at once (a refused call changed nothing, so there is nothing to wait for).
		r.fake.AddService(whmcstest.Service{ID: 7777, ClientID: 42})
		if failed := r.deliver(t, e); len(failed) != 0 {
			t.Fatalf("failed after the fix: %v\n%s", failed, r.logs)
		}
		if sv, _ := r.fake.Service(7777); sv.Status != whmcs.StatusActive {
			t.Fatalf("service %+v", sv)
		}
		// A module's refusal of a suspend is an error too, unless the
		// service turns out to be suspended already.
		r.fake.Inject(whmcs.ActionModuleSuspend, whmcstest.Fault{Message: "Connection to server failed"})
		s := suspend()
		s.ServiceID, s.ID, s.After = "7777", "o-9:suspend", "o-9:provision"
		if failed := r.deliver(t, s); len(failed) != 1 {
			t.Fatalf("failed %v, want the suspend failed", failed)
		}
		if !strings.Contains(r.logs.String(), "Connection to server failed") {
			t.Fatalf("module message not logged:\n%s", r.logs)
		}
	})
}

func TestAlreadySuspendedByWHMCSCountsAsApplied(t *testing.T) {
	r := newRig(t, "memory", whmcs.Options{})
	// The service was suspended for non-payment before the KYC suspend came.
	r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, Status: whmcs.StatusSuspended})
	if failed := r.deliver(t, provision(), suspend()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	if e := entry(t, r.ledger, "o-1:suspend"); e.Outcome != billing.OutcomeAlreadySuspended {
		t.Fatalf("suspend outcome %+v", e)
	}
	// The KYC unsuspend leaves the other suspension alone.
	if failed := r.deliver(t, unsuspend()); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if n, _ := r.fake.Count(whmcs.ActionModuleUnsuspend); n != 0 {
		t.Fatalf("ModuleUnsuspend sent for a service suspended for another reason")
	}
	if e := entry(t, r.ledger, "o-1:unsuspend"); e.Outcome != billing.OutcomeKeptOtherSuspension {
		t.Fatalf("unsuspend outcome %+v", e)
	}
	if !strings.Contains(r.logs.String(), "left suspended") {
		t.Errorf("not logged as a warning:\n%s", r.logs)
	}
}

func TestProvisionOfTerminatedServiceIsPermanent(t *testing.T) {
	r := newRig(t, "memory", whmcs.Options{})
	r.fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, Status: whmcs.StatusTerminated})
	if failed := r.deliver(t, provision()); len(failed) != 1 {
		t.Fatalf("failed %v", failed)
	}
	if !strings.Contains(r.logs.String(), `"kind":"service_state"`) {
		t.Fatalf("logs:\n%s", r.logs)
	}
	if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 0 {
		t.Fatal("ModuleCreate sent for a terminated service")
	}
}

func TestSlowRepliesAndTimeouts(t *testing.T) {
	forEachLedger(t, func(t *testing.T, kind string) {
		t.Run("slow but in time", func(t *testing.T) {
			r := newRig(t, kind, whmcs.Options{Timeout: time.Second})
			r.fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Delay: 300 * time.Millisecond, Apply: true})
			if failed := r.deliver(t, provision()); len(failed) != 0 {
				t.Fatalf("failed %v\n%s", failed, r.logs)
			}
		})
		t.Run("timeout: the retry waits, then finds the work done", func(t *testing.T) {
			r := newRig(t, kind, whmcs.Options{Timeout: time.Second, CreateTimeout: 150 * time.Millisecond})
			// WHMCS provisions the service but answers after the client gave up.
			r.fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Delay: 3 * time.Second, Apply: true})
			if failed := r.deliver(t, provision()); len(failed) != 1 {
				t.Fatalf("failed %v, want the timed-out command back", failed)
			}
			if e := entry(t, r.ledger, "o-1:provision"); e.State != ledger.StateFailed || !e.Uncertain || e.ErrorKind != "unknown_outcome" {
				t.Fatalf("ledger %+v", e)
			}
			// A redelivery right away must not race a WHMCS that may still be working.
			if failed := r.deliver(t, provision()); len(failed) != 1 {
				t.Fatalf("immediate redelivery: failed %v, want it held back", failed)
			}
			r.clock.Add(ledger.DefaultStaleAfter + time.Second)
			if failed := r.deliver(t, provision()); len(failed) != 0 {
				t.Fatalf("redelivery after the stale period failed: %v\n%s", failed, r.logs)
			}
			if n, _ := r.fake.Count(whmcs.ActionModuleCreate); n != 1 {
				t.Fatalf("ModuleCreate sent %d times, want 1", n)
			}
			if e := entry(t, r.ledger, "o-1:provision"); e.Outcome != billing.OutcomeAlreadyActive {
				t.Fatalf("ledger %+v", e)
			}
		})
		t.Run("503 then success within one delivery", func(t *testing.T) {
			r := newRig(t, kind, whmcs.Options{Attempts: 3})
			r.fake.Inject(whmcs.ActionModuleCreate, whmcstest.Fault{Status: 503})
			if failed := r.deliver(t, provision()); len(failed) != 0 {
				t.Fatalf("failed %v\n%s", failed, r.logs)
			}
			if n, ok := r.fake.Count(whmcs.ActionModuleCreate); n != 2 || ok != 1 {
				t.Fatalf("ModuleCreate received %d, succeeded %d", n, ok)
			}
		})
	})
}

func TestAuthenticationFailureIsPermanentAndSecretStaysOut(t *testing.T) {
	fake := whmcstest.NewServer(whmcs.Credentials{Identifier: creds.Identifier, Secret: "the-real-secret"})
	fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42})
	r := newRig(t, "memory", whmcs.Options{})
	// Point the rig's client at a WHMCS with other credentials.
	srv := startServer(t, fake)
	c, _ := whmcs.New(srv+"/includes/api.php", creds, whmcs.Options{Backoff: time.Millisecond})
	h := billing.NewHandler(billing.NewApplier(r.ledger, billing.NewWHMCS(c), logger(r)), logger(r))
	resp, _ := h.Handle(context.Background(), batch(t, provision()))
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `"kind":"denied"`) || !strings.Contains(logs, "Authentication Failed") {
		t.Fatalf("logs:\n%s", logs)
	}
	for _, s := range []string{creds.Secret, "the-real-secret"} {
		if strings.Contains(logs, s) {
			t.Fatalf("logs carry a secret:\n%s", logs)
		}
	}
}

func TestHandlerBatch(t *testing.T) {
	r := newRig(t, "memory", whmcs.Options{})
	b := batch(t, provision())
	b.Records = append(b.Records,
		sqsMsg("bad-json", "{not json"),
		sqsMsg("wrong-source", `{"source":"billing","detail-type":"OrderPlaced","detail":{"orderId":"x"}}`),
		sqsMsg("customer-event", envelope(t, kyc.Event{Type: kyc.KycVerified, ID: "s-1:verified", CustomerID: "42"})),
		sqsMsg("no-service", envelope(t, kyc.Event{Type: kyc.ServiceProvisionRequested, ID: "o-5:provision", CustomerID: "42"})),
		sqsMsg("bad-service-id", envelope(t, kyc.Event{Type: kyc.ServiceProvisionRequested, ID: "o-6:provision", CustomerID: "42", ServiceID: "svc-1"})),
	)
	resp, err := r.handler.Handle(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	want := []string{"bad-json", "wrong-source", "no-service", "bad-service-id"}
	if !slices.Equal(failed, want) {
		t.Fatalf("failed %v, want %v\n%s", failed, want, r.logs)
	}
	if sv, _ := r.fake.Service(5001); sv.Status != whmcs.StatusActive {
		t.Fatalf("the good record was not applied: %+v", sv)
	}
}

func TestHandlerKeepsTimeInReserve(t *testing.T) {
	r := newRig(t, "memory", whmcs.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // less than the reserve
	defer cancel()
	resp, _ := r.handler.Handle(ctx, batch(t, provision(), extend()))
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("failures %v, want both records given back", resp.BatchItemFailures)
	}
	if got := actions(r.fake); len(got) != 0 {
		t.Fatalf("WHMCS received %v", got)
	}
}
