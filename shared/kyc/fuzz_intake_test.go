package kyc_test

// The fuzz target of billing events, which runs the intake on kyctest's
// in-memory ports (an external test package, so it can import kyctest).

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// FuzzBillingEvent: a billing event's detail, as JSON from the bus or the
// webhook, never panics the decoder; what decodes re-encodes stably; and
// the intake (the real service on kyctest's in-memory store, which encodes
// records as the DynamoDB store does) either applies it or refuses it with a rule
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
	addSeeds(f, seedsBillingEvent())
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	catalogue := kyc.ProductSet{"kyc-vps": true, "shared-hosting": false}
	regions, err := kyc.ParseRegions("hk=Asia/Hong_Kong,tw=Asia/Taipei")
	if err != nil {
		f.Fatal(err)
	}
	types := []kyc.EventType{kyc.OrderPlaced, kyc.OrderCancelled, kyc.ServiceExpired, "OrderRefunded"}
	f.Fuzz(func(t *testing.T, typ uint8, detail []byte) {
		var e kyc.BillingEvent
		if err := json.Unmarshal(detail, &e); err != nil {
			return
		}
		b1, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
		var e2 kyc.BillingEvent
		if err := json.Unmarshal(b1, &e2); err != nil {
			t.Fatalf("an encoded event does not decode: %s: %v", b1, err)
		}
		if b2, _ := json.Marshal(e2); string(b2) != string(b1) {
			t.Fatalf("unstable encoding:\n%s\n%s", b1, b2)
		}

		svc := kyc.NewIntake(kyctest.NewStore(), kyctest.NewSealer(), kyctest.NewPublisher(), kyc.Config{Products: catalogue, Regions: regions},
			kyc.WithClock(func() time.Time { return now }))
		ctx := context.Background()
		if e.OrderID != "" && kyc.ValidID(e.OrderID) && typ%4 != 0 {
			// A cancellation or expiry finds an order placed before.
			placed := kyc.BillingEvent{OrderID: e.OrderID, ServiceID: "5001", CustomerID: "42", ProductID: "kyc-vps",
				OrderedAt: now.Add(-time.Hour), NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"}
			if _, err := svc.PlaceOrder(ctx, placed); err != nil {
				t.Fatalf("placing the order to end: %v", err)
			}
		}
		res, err := svc.ApplyBillingEvent(ctx, types[typ%4], e)
		if err != nil {
			if kyc.KindOf(err) == kyc.KindInternal {
				t.Fatalf("%s %s: internal error %v", types[typ%4], detail, err)
			}
			return
		}
		if res.OrderID != e.OrderID {
			t.Fatalf("result %+v for order %q", res, e.OrderID)
		}
		if types[typ%4] != kyc.OrderPlaced || res.State != kyc.AwaitingKYC {
			return
		}
		// The hold waits for KYC: an approval within the 3 days extends the
		// due date by up to 3 days, and the record must still be readable.
		ext := e.NextDueDate.AddDays(kyc.ExtensionFor(e.OrderedAt, e.OrderedAt.Add(kyc.Window)).Days)
		text, err := ext.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back kyc.Date
		if err := back.UnmarshalText(text); err != nil {
			t.Fatalf("order %s accepted with nextDueDate %s: the extended due date %s cannot be stored and read back: %v",
				e.OrderID, e.NextDueDate, text, err)
		}
	})
}

// addSeeds adds a fuzz target's seeds; plain `go test` runs them, with the
// regressions kept in testdata/fuzz/<FuzzName>/.
func addSeeds(f *testing.F, seeds [][]any) {
	f.Helper()
	for _, seed := range seeds {
		f.Add(seed...)
	}
}
