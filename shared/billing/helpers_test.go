package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

var creds = whmcs.Credentials{Identifier: "adapter-identifier", Secret: "adapter-secret-do-not-log"}

// clock is a settable clock shared by a ledger and a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ledgerKinds are the Ledger implementations the scenarios run against:
// the memory ledger. The DynamoDB ledger keeps the same contract
// (ledgertest.TestLedger, run on DynamoDB beside the local stack in
// infra/local/systemtest).
var ledgerKinds = []string{"memory"}

// newLedger returns a fresh ledger of a kind on the given clock.
func newLedger(tb testing.TB, kind string, clk *clock) ledger.Ledger {
	tb.Helper()
	if kind != "memory" {
		tb.Fatalf("unknown ledger kind %q", kind)
	}
	l := ledgertest.NewMemory()
	l.Now = clk.Now
	return l
}

// rig is an adapter wired to a fake WHMCS.
type rig struct {
	fake    *whmcstest.Server
	client  *whmcs.Client
	ledger  ledger.Ledger
	clock   *clock
	handler *billing.Handler
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newRig wires a handler to a fake WHMCS holding service 5001 (client 42,
// Pending, due 2026-04-01) through the WHMCS client with the given options.
func newRig(tb testing.TB, ledgerKind string, o whmcs.Options) *rig {
	tb.Helper()
	fake := whmcstest.NewServer(creds)
	fake.AddService(whmcstest.Service{ID: 5001, ClientID: 42, NextDueDate: "2026-04-01"})
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Backoff == 0 {
		o.Backoff = 5 * time.Millisecond
	}
	c, err := whmcs.New(srv.URL+"/includes/api.php", creds, o)
	if err != nil {
		tb.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	ledger := newLedger(tb, ledgerKind, clk)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	h := billing.NewHandler(billing.NewApplier(ledger, billing.NewWHMCS(c), log), log)
	return &rig{fake: fake, client: c, ledger: ledger, clock: clk, handler: h, logs: logs}
}

// deliver runs one SQS batch of the events and returns the failed message
// ids (message ids are "m-<eventId>").
func (r *rig) deliver(tb testing.TB, evs ...kyc.Event) []string {
	tb.Helper()
	resp, err := r.handler.Handle(context.Background(), batch(tb, evs...))
	if err != nil {
		tb.Fatalf("Handle returned an error (it must report failures per record): %v", err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func batch(tb testing.TB, evs ...kyc.Event) events.SQSEvent {
	tb.Helper()
	var b events.SQSEvent
	for _, e := range evs {
		b.Records = append(b.Records, events.SQSMessage{MessageId: "m-" + e.ID, Body: envelope(tb, e)})
	}
	return b
}

// envelope is the EventBridge event of e, as a rule delivers it to SQS.
func envelope(tb testing.TB, e kyc.Event) string {
	tb.Helper()
	detail, err := json.Marshal(e)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("eb-%s", e.ID), DetailType: string(e.Type), Source: contract.SourceKYC,
		AccountID: "000000000000", Time: e.At, Region: "us-east-1", Detail: detail,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

var orderedAt = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Commands of order o-1 on service 5001, as the policy engine makes them.
func provision() kyc.Event {
	return kyc.Event{Type: kyc.ServiceProvisionRequested, ID: "o-1:provision", At: orderedAt.Add(72 * time.Hour),
		CustomerID: "42", OrderID: "o-1", ServiceID: "5001", ProductID: "kyc-vps"}
}

func suspend() kyc.Event {
	e := provision()
	e.Type, e.ID, e.After, e.Reason, e.Rendered = kyc.ServiceSuspendRequested, "o-1:suspend", "o-1:provision", kyc.SuspendReasonKYC, true
	return e
}

func unsuspend() kyc.Event {
	e := provision()
	e.Type, e.ID, e.After = kyc.ServiceUnsuspendRequested, "o-1:unsuspend", "o-1:suspend"
	return e
}

// extend is the extension of o-1 by 40 hours, 2 days, on the due date the
// order reported (2026-04-01).
func extend() kyc.Event {
	e := provision()
	base := kyc.NewDate(2026, 4, 1)
	ext := kyc.ExtensionFor(orderedAt, orderedAt.Add(40*time.Hour))
	e.Type, e.ID, e.After = kyc.ServiceDueDateExtended, "o-1:extend", "o-1:provision"
	e.PreviousDueDate, e.Extension = &base, &ext
	return e
}

func actions(s *whmcstest.Server) []string {
	var out []string
	for _, c := range s.Commands() {
		out = append(out, c.Action)
	}
	return out
}

func entry(tb testing.TB, l ledger.Ledger, id string) ledger.Entry {
	tb.Helper()
	e, ok, err := l.Entry(context.Background(), id)
	if err != nil || !ok {
		tb.Fatalf("ledger entry %s: ok=%v err=%v", id, ok, err)
	}
	return e
}

// forEachLedger runs a scenario against every ledger kind.
func forEachLedger(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range ledgerKinds {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}

func startServer(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv.URL
}

func logger(r *rig) *slog.Logger { return slog.New(slog.NewJSONHandler(r.logs, nil)) }

func sqsMsg(id, body string) events.SQSMessage { return events.SQSMessage{MessageId: id, Body: body} }
