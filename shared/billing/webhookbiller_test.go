package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/webhooksig"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

var hookKey = []byte("0123456789abcdef-outbound-key")

// receiver is a billing system's webhook endpoint that verifies as the docs
// tell receivers to, and answers with the queued statuses (then 200).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	delay    time.Duration
	got      []billing.WebhookCommand
	headers  []http.Header
	verified []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := webhooksig.Verify(hookKey, r.Header.Get(webhooksig.HeaderTimestamp), r.Header.Get(webhooksig.HeaderSignature), body, time.Now(), webhooksig.Tolerance)
	var cmd billing.WebhookCommand
	_ = json.Unmarshal(body, &cmd)
	rc.mu.Lock()
	rc.got, rc.headers, rc.verified = append(rc.got, cmd), append(rc.headers, r.Header.Clone()), append(rc.verified, err)
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	delay := rc.delay
	rc.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if err != nil {
		status = http.StatusUnauthorized
	}
	w.WriteHeader(status)
}

func webhookRig(t *testing.T, rc http.Handler, o billing.WebhookOptions) (*billing.Handler, *ledgertest.Memory, *syncBuffer) {
	t.Helper()
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	if o.Backoff == 0 {
		o.Backoff = 5 * time.Millisecond
	}
	hook, err := billing.NewWebhook(srv.URL+"/kyc/commands?token=url-token-not-logged", hookKey, o)
	if err != nil {
		t.Fatal(err)
	}
	l := ledgertest.NewMemory()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	return billing.NewHandler(billing.NewApplier(l, hook, log), log), l, logs
}

func failedIDs(tb testing.TB, h *billing.Handler, evs ...kyc.Event) []string {
	tb.Helper()
	resp, err := h.Handle(context.Background(), batch(tb, evs...))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func TestWebhookSignedCommand(t *testing.T) {
	rc := &receiver{}
	h, l, _ := webhookRig(t, rc, billing.WebhookOptions{})
	if failed := failedIDs(t, h, provision(), extend(), extend()); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if len(rc.got) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (the duplicate extend is not sent)", len(rc.got))
	}
	for i, err := range rc.verified {
		if err != nil {
			t.Fatalf("request %d does not verify: %v", i, err)
		}
	}
	hd := rc.headers[1]
	if hd.Get(billing.HeaderEventID) != "o-1:extend" || hd.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", hd)
	}
	if ts, err := strconv.ParseInt(hd.Get(webhooksig.HeaderTimestamp), 10, 64); err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
		t.Fatalf("timestamp %q", hd.Get(webhooksig.HeaderTimestamp))
	}
	got := rc.got[1]
	if got.EventID != "o-1:extend" || got.Type != kyc.ServiceDueDateExtended || got.ServiceID != "5001" || got.OrderID != "o-1" ||
		got.CustomerID != "42" || got.Extension == nil || got.Extension.Days != 2 || got.PreviousDueDate.String() != "2026-04-01" ||
		got.At.IsZero() {
		t.Fatalf("body %+v", got)
	}
	if e, _, _ := l.Entry(context.Background(), "o-1:extend"); e.State != ledger.StateApplied {
		t.Fatalf("ledger %+v", e)
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Run("5xx is retried within the delivery", func(t *testing.T) {
		rc := &receiver{statuses: []int{500, 502}}
		h, _, _ := webhookRig(t, rc, billing.WebhookOptions{Attempts: 3})
		if failed := failedIDs(t, h, provision()); len(failed) != 0 {
			t.Fatalf("failed %v", failed)
		}
		if len(rc.got) != 3 {
			t.Fatalf("%d requests, want 3", len(rc.got))
		}
		// Each attempt is signed afresh and carries the same event id.
		for i, err := range rc.verified {
			if err != nil || rc.headers[i].Get(billing.HeaderEventID) != "o-1:provision" {
				t.Fatalf("attempt %d: %v %v", i, err, rc.headers[i])
			}
		}
	})
	t.Run("5xx beyond the attempts gives the message back", func(t *testing.T) {
		rc := &receiver{statuses: []int{503, 503, 503}}
		h, l, logs := webhookRig(t, rc, billing.WebhookOptions{Attempts: 2})
		if failed := failedIDs(t, h, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if len(rc.got) != 2 {
			t.Fatalf("%d requests, want 2", len(rc.got))
		}
		if e, _, _ := l.Entry(context.Background(), "o-1:provision"); e.State != ledger.StateFailed || !e.Uncertain {
			t.Fatalf("ledger %+v", e)
		}
		if !strings.Contains(logs.String(), "will be retried") {
			t.Fatalf("logs:\n%s", logs)
		}
	})
	t.Run("4xx is permanent and not retried", func(t *testing.T) {
		rc := &receiver{statuses: []int{422}}
		h, _, logs := webhookRig(t, rc, billing.WebhookOptions{Attempts: 3})
		if failed := failedIDs(t, h, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if len(rc.got) != 1 {
			t.Fatalf("%d requests, want 1", len(rc.got))
		}
		if l := logs.String(); !strings.Contains(l, "failed permanently") || !strings.Contains(l, "HTTP 422") {
			t.Fatalf("logs:\n%s", l)
		}
	})
	t.Run("a timeout is transient", func(t *testing.T) {
		rc := &receiver{delay: 2 * time.Second}
		h, _, logs := webhookRig(t, rc, billing.WebhookOptions{Attempts: 1, Timeout: 100 * time.Millisecond})
		if failed := failedIDs(t, h, provision()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		l := logs.String()
		if !strings.Contains(l, "webhook_transient") {
			t.Fatalf("logs:\n%s", l)
		}
		if strings.Contains(l, "url-token-not-logged") {
			t.Fatalf("the URL's query reached the logs:\n%s", l)
		}
	})
}

func TestWebhookIntoLocalSink(t *testing.T) {
	// The fake WHMCS doubles as the local stack's sink in webhook mode.
	fake := whmcstest.NewServer(whmcs.Credentials{Identifier: "x", Secret: "y"})
	fake.SetWebhookKey(hookKey)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	hook, err := billing.NewWebhook(srv.URL+"/webhook", hookKey, billing.WebhookOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hook.Apply(context.Background(), billing.Command{Event: suspend()}); err != nil {
		t.Fatal(err)
	}
	cmds := fake.Commands()
	if len(cmds) != 1 || cmds[0].Action != "webhook:ServiceSuspendRequested" || cmds[0].Result != "success" ||
		cmds[0].Params["reason"] != kyc.SuspendReasonKYC || cmds[0].Params["rendered"] != "true" {
		t.Fatalf("sink recorded %+v", cmds)
	}
	// A wrong key is refused by the sink: 401 is permanent.
	bad, _ := billing.NewWebhook(srv.URL+"/webhook", []byte("another-key-0123456789"), billing.WebhookOptions{})
	_, err = bad.Apply(context.Background(), billing.Command{Event: suspend()})
	var we *billing.WebhookError
	if !errors.As(err, &we) || we.Status != http.StatusUnauthorized || we.Transient() {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestNewWebhookValidates(t *testing.T) {
	if _, err := billing.NewWebhook("not a url", hookKey, billing.WebhookOptions{}); err == nil {
		t.Error("bad URL accepted")
	}
	if _, err := billing.NewWebhook("https://billing.example.com/kyc", []byte("short"), billing.WebhookOptions{}); err == nil {
		t.Error("short key accepted")
	}
}
