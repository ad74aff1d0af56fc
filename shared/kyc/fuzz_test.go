package kyc

// Fuzz targets for the outside input the policy engine decodes: dates as
// billing sends them, billing events (the detail of OrderPlaced,
// OrderCancelled and ServiceExpired, by EventBridge or the webhook), and the
// object keys of S3 event notifications. `make fuzz` runs each for a while;
// plain `go test` replays the seeds in testdata/fuzz.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzParseDate: ParseDate and Date.UnmarshalText never panic, agree with
// each other, refuse with an invalid_date error, and accept only the
// canonical form: a date they accept prints back as the input and survives
// a JSON round trip.
func seedsParseDate() (out [][]any) {
	for _, s := range []string{"2026-12-26", "2024-02-29", "2023-02-29", "2026-13-01", "2026-00-10", "", "26-12-2026",
		"2026-1-2", "2026-12-26T00:00:00Z", " 2026-12-26", "0000-01-01", "9999-12-31", "+2026-12-26", "２０２６-12-26"} {
		out = append(out, []any{s})
	}
	return out
}

func FuzzParseDate(f *testing.F) {
	for _, seed := range seedsParseDate() {
		f.Add(seed[0].(string))
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		var u Date
		uerr := u.UnmarshalText([]byte(s))
		if err != nil {
			var ke *Error
			if !errors.As(err, &ke) || ke.Kind != KindInvalid || ke.Code != "invalid_date" {
				t.Fatalf("ParseDate(%q) = %v, want an invalid_date error", s, err)
			}
			if s == "" {
				if uerr != nil || !u.IsZero() {
					t.Fatalf("UnmarshalText(\"\") = %v, %v; want the zero date", u, uerr)
				}
			} else if uerr == nil {
				t.Fatalf("UnmarshalText accepted %q, which ParseDate refuses", s)
			}
			return
		}
		if uerr != nil || !u.Time().Equal(d.Time()) {
			t.Fatalf("UnmarshalText(%q) = %v, %v; ParseDate gave %v", s, u, uerr, d)
		}
		if d.IsZero() {
			// 0001-01-01 is the zero time, which Date uses for "no date":
			// it reads as missing (an order without nextDueDate is refused).
			if s != "0001-01-01" {
				t.Fatalf("ParseDate(%q) is the zero date", s)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) prints as %q", s, d)
		}
		if tm := d.Time(); tm.Location() != time.UTC || !tm.Equal(tm.Truncate(24*time.Hour)) {
			t.Fatalf("ParseDate(%q) is %v, not midnight UTC", s, tm)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || !back.Time().Equal(d.Time()) {
			t.Fatalf("JSON round trip of %s: %s → %v, %v", d, b, back, err)
		}
	})
}

// FuzzParseDocumentKey: ParseDocumentKey never panics and accepts exactly
// the keys docs/<customerId>/<documentId> of two valid ids: what it returns
// rebuilds the key it was given, and neither id is a path step.
func seedsParseDocumentKey() (out [][]any) {
	for _, s := range []string{"docs/cust-1/k3v7q2m4n5p6r7s8t9u0w1x2y3", "docs/cust-1/doc", "docs/cust-1/", "docs//doc", "docs/cust-1/doc/extra",
		"docs/../cust-1/doc", "docs/cust-1/../../etc", "docs/a/b", "Docs/a/b", "/docs/a/b", "docs/a%2Fb/c", "docs/ä/b",
		"docs/" + strings.Repeat("a", 129) + "/b", "other/cust-1/doc", "", "docs/.hidden/x", "docs/a/b\n"} {
		out = append(out, []any{s})
	}
	return out
}

func FuzzParseDocumentKey(f *testing.F) {
	for _, seed := range seedsParseDocumentKey() {
		f.Add(seed[0].(string))
	}
	f.Fuzz(func(t *testing.T, key string) {
		cust, doc, ok := ParseDocumentKey(key)
		if !ok {
			if cust != "" || doc != "" {
				t.Fatalf("refused %q but returned %q, %q", key, cust, doc)
			}
			return
		}
		// S3 keys are flat ("docs/a../b" is one object, not a path), but
		// no id is "." or "..": ids start with a letter or digit.
		if !ValidID(cust) || !ValidID(doc) || DocumentKey(cust, doc) != key || strings.Count(key, "/") != 2 ||
			strings.HasPrefix(cust, ".") || strings.HasPrefix(doc, ".") {
			t.Fatalf("ParseDocumentKey(%q) = %q, %q: not a key docs/<id>/<id>", key, cust, doc)
		}
	})
}

// FuzzBillingEvent: a billing event's detail, as JSON from the bus or the
// webhook, never panics the decoder; what decodes re-encodes stably; and
// the intake (the real service on an in-memory store that encodes records
// as the DynamoDB store does) either applies it or refuses it with a rule
// error (invalid, not found, conflict), never an internal error. An order it
// accepts stays storable through its later states: its times and due date
// survive the JSON the store writes, also once a timely approval has
// extended the due date.
func seedsBillingEvent() (out [][]any) {
	seeds := []struct {
		typ    uint8
		detail string
	}{
		{0, `{"orderId":"o-1","serviceId":"5001","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z","nextDueDate":"2026-12-26","serverRegion":"hk"}`},
		{0, `{"orderId":"o-2","serviceId":"5002","customerId":"42","productId":"shared-hosting","orderedAt":"2026-11-26T09:00:00+08:00","nextDueDate":"2026-12-26","serverRegion":"hk","email":"chan@example.com","language":"zh-Hant"}`},
		{0, `{"orderId":"o-3","serviceId":"5003","customerId":"42","productId":"kyc-vps","orderedAt":"2027-01-01T00:00:00Z","nextDueDate":"2026-12-26","serverRegion":"hk"}`},
		{0, `{"orderId":"o-4","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z","nextDueDate":"26/12/2026","serverRegion":"hk"}`},
		{0, `{"orderId":"o/../5","serviceId":"5","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z","nextDueDate":"2026-12-26","serverRegion":"hk"}`},
		{0, `{"orderId":"o-6","serviceId":"5006","customerId":"42","productId":"kyc-vps","orderedAt":"0000-01-01T00:00:00+01:00","nextDueDate":"9999-12-31","serverRegion":"hk"}`},
		{0, `{"orderId":"o-8","serviceId":"5008","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z","nextDueDate":"9999-12-31","serverRegion":"hk"}`},
		{0, `{"orderId":"o-7","serviceId":"5007","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z","nextDueDate":"2026-12-26","serverRegion":"hk","email":"not an address"}`},
		{1, `{"orderId":"o-1"}`},
		{2, `{"orderId":"o-1"}`},
		{1, `{"orderId":""}`},
		{3, `{"orderId":"o-1"}`},
		{0, `{"orderId":1}`},
		{0, `[]`},
		{0, `null`},
		{0, `{"orderedAt":"2026-11-26T09:00:00.999999999999Z"}`},
	}
	for _, s := range seeds {
		out = append(out, []any{s.typ, []byte(s.detail)})
	}
	return out
}

func FuzzBillingEvent(f *testing.F) {
	for _, seed := range seedsBillingEvent() {
		f.Add(seed[0].(uint8), seed[1].([]byte))
	}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	types := []EventType{OrderPlaced, OrderCancelled, ServiceExpired, "OrderRefunded"}
	f.Fuzz(func(t *testing.T, typ uint8, detail []byte) {
		var e BillingEvent
		if err := json.Unmarshal(detail, &e); err != nil {
			return
		}
		b1, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
		var e2 BillingEvent
		if err := json.Unmarshal(b1, &e2); err != nil {
			t.Fatalf("an encoded event does not decode: %s: %v", b1, err)
		}
		if b2, _ := json.Marshal(e2); string(b2) != string(b1) {
			t.Fatalf("unstable encoding:\n%s\n%s", b1, b2)
		}

		store := newMemStore()
		svc := NewIntake(store, fakeSealer{}, nopPublisher{}, Config{Products: ProductSet{"kyc-vps": true}},
			WithClock(func() time.Time { return now }))
		ctx := context.Background()
		if e.OrderID != "" && ValidID(e.OrderID) && typ%4 != 0 {
			// A cancellation or expiry finds an order placed before.
			placed := BillingEvent{OrderID: e.OrderID, ServiceID: "5001", CustomerID: "42", ProductID: "kyc-vps",
				OrderedAt: now.Add(-time.Hour), NextDueDate: NewDate(2026, 12, 26), ServerRegion: "hk"}
			if _, err := svc.PlaceOrder(ctx, placed); err != nil {
				t.Fatalf("placing the order to end: %v", err)
			}
		}
		res, err := svc.ApplyBillingEvent(ctx, types[typ%4], e)
		if err != nil {
			if KindOf(err) == KindInternal {
				t.Fatalf("%s %s: internal error %v", types[typ%4], detail, err)
			}
			return
		}
		if res.OrderID != e.OrderID {
			t.Fatalf("result %+v for order %q", res, e.OrderID)
		}
		if types[typ%4] != OrderPlaced || res.State != AwaitingKYC {
			return
		}
		// The hold waits for KYC: an approval within the 3 days extends the
		// due date by up to 3 days, and the record must still be readable.
		ext := e.NextDueDate.AddDays(ExtensionFor(e.OrderedAt, e.OrderedAt.Add(Window)).Days)
		text, err := ext.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Date
		if err := back.UnmarshalText(text); err != nil {
			t.Fatalf("order %s accepted with nextDueDate %s: the extended due date %s cannot be stored and read back: %v",
				e.OrderID, e.NextDueDate, text, err)
		}
	})
}

// memStore is an in-memory Store for the intake: it keeps what it is given
// as JSON, as the DynamoDB store does, so a record that cannot be encoded,
// or read back, fails as it would there.
type memStore struct {
	Store // the methods the intake does not use
	mu    sync.Mutex
	recs  map[string][]byte
}

func newMemStore() *memStore { return &memStore{recs: map[string][]byte{}} }

func (m *memStore) get(key string, v any) error {
	m.mu.Lock()
	b, ok := m.recs[key]
	m.mu.Unlock()
	if !ok {
		return ErrNotExist
	}
	return json.Unmarshal(b, v)
}

func (m *memStore) Customer(_ context.Context, id string) (Customer, error) {
	var c Customer
	err := m.get("CUST#"+id, &c)
	return c, err
}

func (m *memStore) OrderOwner(_ context.Context, orderID string) (string, error) {
	var owner string
	err := m.get("ORDER#"+orderID, &owner)
	return owner, err
}

func (m *memStore) ClosedHold(_ context.Context, customerID, orderID string) (Hold, error) {
	var h Hold
	err := m.get("HOLD#"+customerID+"#"+orderID, &h)
	return h, err
}

func (m *memStore) Commit(_ context.Context, w Work) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := map[string]any{}
	cur, exists := m.recs["CUST#"+w.Customer.ID]
	var stored Customer
	if exists {
		if err := json.Unmarshal(cur, &stored); err != nil {
			return err
		}
	}
	if stored.Version != w.Customer.Version {
		return ErrStale
	}
	c := w.Customer
	c.Version++
	recs["CUST#"+c.ID] = c
	for _, h := range w.Closed {
		recs["HOLD#"+h.CustomerID+"#"+h.OrderID] = h
	}
	if w.NewOrder != "" {
		if _, dup := m.recs["ORDER#"+w.NewOrder]; dup {
			return ErrStale
		}
		recs["ORDER#"+w.NewOrder] = c.ID
	}
	for _, e := range w.Audit {
		recs[fmt.Sprintf("AUDIT#%s#%d", c.ID, e.Seq)] = e
	}
	if w.Outbox != nil {
		recs["OUTBOX#"+w.Outbox.ID] = w.Outbox
	}
	encoded := map[string][]byte{}
	for k, v := range recs {
		b, err := json.Marshal(v)
		if err != nil {
			return err // the DynamoDB store fails the same way: an internal error
		}
		encoded[k] = b
	}
	for k, b := range encoded {
		m.recs[k] = b
	}
	return nil
}

func (m *memStore) DeleteOutbox(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.recs, "OUTBOX#"+id)
	m.mu.Unlock()
	return nil
}

type fakeSealer struct{}

func (fakeSealer) Seal(_ context.Context, _ string, p []byte) (Sealed, error) {
	return Sealed{V: 1, Nonce: make([]byte, 12), Data: p}, nil
}
func (fakeSealer) Open(_ context.Context, _ string, s Sealed) ([]byte, error) { return s.Data, nil }
func (fakeSealer) Fingerprint(context.Context, string) (string, error)        { return "fp", nil }

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, []Event) error { return nil }
