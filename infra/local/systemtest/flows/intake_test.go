package flows

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// TestIntake: an unverified customer's KYC order is held and KycRequested goes
// out; a verified customer's order is provisioned at once; a non-KYC product
// is not_required and emits nothing about KYC; redelivered events change
// nothing; cancellations and expiries end holds.
func TestIntake(t *testing.T) {
	s := newSys(t)
	now := s.clock.Now()

	if r := s.order("o-plain", "cust-i", "shared-hosting", now.Add(-time.Hour)); r.State != kyc.NotRequired {
		t.Fatalf("non-KYC order = %+v", r)
	}
	if evs := append(s.published(contract.FunctionNotifier), s.published(contract.FunctionBillingAdapter)...); len(evs) != 0 {
		t.Fatalf("a non-KYC order emitted %v", types(evs))
	}

	if r := s.order("o-held", "cust-i", "kyc-vps", now.Add(-time.Hour)); r.State != kyc.AwaitingKYC {
		t.Fatalf("KYC order = %+v", r)
	}
	before := s.snapshot()
	s.orderByQueue("o-held", "cust-i", "kyc-vps", now.Add(-time.Hour)) // redelivered by the bus's queue
	if s.snapshot() != before {
		t.Fatal("a redelivered order changed the table")
	}
	if n := types(s.published(contract.FunctionNotifier)); !slices.Equal(n, []string{"KycRequested o-held"}) {
		t.Fatalf("notices = %v (a redelivery must not ask twice)", n)
	}

	s.verified("cust-v", "rev-1")
	s.published(contract.FunctionBillingAdapter)
	if r := s.order("o-verified", "cust-v", "kyc-vps", s.clock.Now()); r.State != kyc.Provisioned {
		t.Fatalf("verified customer's order = %+v", r)
	}
	if c := types(s.published(contract.FunctionBillingAdapter)); !slices.Equal(c, []string{"ServiceProvisionRequested o-verified"}) {
		t.Fatalf("commands = %v", c)
	}

	// The same payloads over the signed webhook.
	r := s.webhook(kyc.OrderCancelled, "evt-cancel-1", map[string]string{"orderId": "o-held"})
	if r.status != 200 {
		t.Fatalf("cancel = %d %s", r.status, r.body)
	}
	var res kyc.IntakeResult
	r.decode(t, &res)
	if res.State != kyc.Cancelled {
		t.Fatalf("cancel = %+v", res)
	}
	// Closing events are idempotent: for a hold already closed, by this
	// event or otherwise, 200 with its state and nothing changed.
	before = s.snapshot()
	for _, c := range []struct {
		typ   kyc.EventType
		order string
		state kyc.HoldState
	}{
		{kyc.OrderCancelled, "o-held", kyc.Cancelled},
		{kyc.ServiceExpired, "o-held", kyc.Cancelled},
		{kyc.OrderCancelled, "o-verified", kyc.Provisioned},
		{kyc.ServiceExpired, "o-plain", kyc.NotRequired},
	} {
		r := s.webhook(c.typ, "evt-close-"+string(c.typ)+"-"+c.order, map[string]string{"orderId": c.order})
		var res kyc.IntakeResult
		if r.status != 200 {
			t.Fatalf("%s of %s (closed) = %d %s", c.typ, c.order, r.status, r.body)
		}
		r.decode(t, &res)
		if res.State != c.state || !res.Duplicate {
			t.Fatalf("%s of %s (closed) = %+v, want %s and nothing changed", c.typ, c.order, res, c.state)
		}
	}
	if after := withoutWebhookIDs(s.snapshot()); after != withoutWebhookIDs(before) {
		t.Fatal("closing events for closed holds changed the table (beyond remembering their webhook ids)")
	}

	// SQS delivery (the stack's path): a batch with a good and a bad message.
	good, _ := json.Marshal(events.EventBridgeEvent{Source: contract.SourceBilling, DetailType: string(kyc.OrderPlaced),
		Detail: mustJSON(kyc.BillingEvent{OrderID: "o-sqs", ServiceID: "svc-sqs", CustomerID: "cust-i", ProductID: "kyc-vps",
			OrderedAt: now, NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"})})
	bad, _ := json.Marshal(events.EventBridgeEvent{Source: contract.SourceBilling, DetailType: string(kyc.OrderPlaced), Detail: json.RawMessage(`{"orderId":"o-bad"}`)})
	unknown, _ := json.Marshal(events.EventBridgeEvent{Source: contract.SourceBilling, DetailType: string(kyc.OrderPlaced),
		Detail: json.RawMessage(`{"orderId":"o-unk","serviceId":"svc-unk","customerId":"cust-i","productId":"kyc-vps",` +
			`"orderedAt":"2026-11-26T09:00:00Z","serverRegion":"hk","nextDueDat":"2026-12-26"}`)})
	batch, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: string(good), EventSource: "aws:sqs"}, {MessageId: "m2", Body: string(bad), EventSource: "aws:sqs"},
		{MessageId: "m3", Body: string(unknown), EventSource: "aws:sqs"}}})
	out, err := s.fns[contract.FunctionBillingIntake].Invoke(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if f := out.(events.SQSEventResponse).BatchItemFailures; len(f) != 2 || f[0].ItemIdentifier != "m2" || f[1].ItemIdentifier != "m3" {
		t.Fatalf("batch failures = %+v, want the message without fields and the one with an unknown field", f)
	}
	if strings.Contains(s.snapshot(), "o-unk") {
		t.Fatal("the order with an unknown field was recorded")
	}
}

// withoutWebhookIDs drops the webhook's replay records (WEBHOOK#<id>, written
// for every event applied) from a snapshot.
func withoutWebhookIDs(snapshot string) string {
	var kept []string
	for _, line := range strings.Split(snapshot, "\n") {
		if !strings.Contains(line, `"pk":{"Value":"WEBHOOK#`) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// withField returns e as a JSON object with one field set (or added).
func withField(e kyc.BillingEvent, name string, value any) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(mustJSON(e), &m)
	m[name] = value
	return m
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestWebhookBadInput: a bad signature, an old timestamp, a replayed id,
// a malformed body or invalid values are refused and change nothing.
func TestWebhookBadInput(t *testing.T) {
	s := newSys(t)
	placed := kyc.BillingEvent{OrderID: "o-w", ServiceID: "svc-w", CustomerID: "cust-w", ProductID: "kyc-vps",
		OrderedAt: s.clock.Now().Add(-time.Hour), NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"}
	if r := s.webhook(kyc.OrderPlaced, "evt-1", placed); r.status != 200 {
		t.Fatalf("signed order = %d %s", r.status, r.body)
	}
	s.published(contract.FunctionNotifier)
	stamp := func(d time.Duration) func(*http.Request) {
		return func(r *http.Request) {
			ts := time.Now().Add(d).Unix()
			r.Header.Set(webhooksig.HeaderTimestamp, strconv.FormatInt(ts, 10))
			body, _ := r.GetBody()
			b := make([]byte, r.ContentLength)
			_, _ = body.Read(b)
			r.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(s.secret, ts, b))
		}
	}
	other := placed
	other.OrderID = "o-w2"
	future := placed
	future.OrderID, future.OrderedAt = "o-w3", s.clock.Now().Add(time.Hour)
	tests := []struct {
		name   string
		typ    kyc.EventType
		id     string
		detail any
		mutate []func(*http.Request)
		status int
		code   string
	}{
		{"bad signature", kyc.OrderPlaced, "evt-2", other, []func(*http.Request){func(r *http.Request) { r.Header.Set(webhooksig.HeaderSignature, "v1=00") }}, 401, "bad_signature"},
		{"signed with another secret", kyc.OrderPlaced, "evt-3", other, []func(*http.Request){func(r *http.Request) {
			r.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign([]byte("not-the-secret"), time.Now().Unix(), []byte("{}")))
		}}, 401, "bad_signature"},
		{"no signature", kyc.OrderPlaced, "evt-4", other, []func(*http.Request){func(r *http.Request) { r.Header.Del(webhooksig.HeaderSignature) }}, 401, "bad_signature"},
		{"timestamp older than 5 minutes", kyc.OrderPlaced, "evt-5", other, []func(*http.Request){stamp(-6 * time.Minute)}, 401, "bad_signature"},
		{"timestamp 5 minutes in the future", kyc.OrderPlaced, "evt-6", other, []func(*http.Request){stamp(6 * time.Minute)}, 401, "bad_signature"},
		{"replayed id", kyc.OrderPlaced, "evt-1", placed, nil, 409, "replayed"},
		{"replayed id with another body", kyc.OrderPlaced, "evt-1", other, nil, 409, "replayed"},
		{"unknown event type", "OrderRefunded", "evt-7", other, nil, 422, "unknown_event_type"},
		{"missing fields", kyc.OrderPlaced, "evt-8", map[string]string{"orderId": "o-w4"}, nil, 422, "invalid_customerId"},
		{"order time in the future", kyc.OrderPlaced, "evt-9", future, nil, 422, "order_in_future"},
		{"invalid id", kyc.OrderPlaced, "evt/../1", other, nil, 422, "invalid_id"},
		{"cancel of an unknown order", kyc.OrderCancelled, "evt-10", map[string]string{"orderId": "nosuchorder"}, nil, 404, "order_not_found"},
		{"an unknown field in the detail", kyc.OrderPlaced, "evt-11", withField(other, "nextDueDat", "2026-12-26"), nil, 400, "malformed"},
		{"business that is not a boolean", kyc.OrderPlaced, "evt-12", withField(other, "business", "yes"), nil, 400, "malformed"},
		{"a product not in the catalogue", kyc.OrderPlaced, "evt-13", withField(other, "productId", "kyc-vsp"), nil, 422, "unknown_productId"},
		{"a server region not configured", kyc.OrderPlaced, "evt-14", withField(other, "serverRegion", "sg"), nil, 422, "unknown_serverRegion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.snapshot()
			r := s.webhook(tt.typ, tt.id, tt.detail, tt.mutate...)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if tt.status != 200 && s.snapshot() != before {
				t.Fatal("a refused event changed the table")
			}
		})
	}
	t.Run("an unknown field in the envelope", func(t *testing.T) {
		before := s.snapshot()
		body := mustJSON(map[string]any{"type": kyc.OrderPlaced, "id": "evt-20", "detail": other, "source": "whmcs"})
		ts := time.Now().Unix()
		r := s.rawWebhook(body, ts, webhooksig.Sign(s.secret, ts, body))
		if r.status != 400 || r.code() != "malformed" || s.snapshot() != before {
			t.Fatalf("= %d %s", r.status, r.body)
		}
	})
	t.Run("malformed body", func(t *testing.T) {
		before := s.snapshot()
		body := []byte(`{"type":"OrderPlaced","id":`)
		ts := time.Now().Unix()
		r := s.rawWebhook(body, ts, webhooksig.Sign(s.secret, ts, body))
		if r.status != 400 || r.code() != "malformed" || s.snapshot() != before {
			t.Fatalf("= %d %s", r.status, r.body)
		}
	})
	if n := s.published(contract.FunctionNotifier); len(n) != 0 {
		t.Fatalf("refused events emitted %v", types(n))
	}
}
