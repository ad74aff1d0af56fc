package billing_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
)

// fuzzBiller counts the commands that reach the billing system.
type fuzzBiller struct {
	mu   sync.Mutex
	seen map[string]int
}

func (b *fuzzBiller) Apply(_ context.Context, c billing.Command) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen[c.ID]++
	return billing.OutcomeApplied, nil
}

// FuzzBillingAdapter: any SQS message body reaching the billing adapter
// never panics it; only a well-formed service command (source kyc, a
// command type, an event id and a service id) reaches the billing system,
// and the same body delivered again does not reach it twice.
func FuzzBillingAdapter(f *testing.F) {
	addBillingAdapterSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		biller := &fuzzBiller{seen: map[string]int{}}
		h := billing.NewHandler(billing.NewApplier(ledgertest.NewMemory(), biller, slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler))
		batch := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body)}, {MessageId: "m2", Body: string(body)}}}
		if _, err := h.Handle(context.Background(), batch); err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		e, err := eventbus.Decode(body)
		for id, n := range biller.seen {
			switch {
			case err != nil:
				t.Fatalf("an undecodable body reached the billing system as %q", id)
			case n != 1:
				t.Fatalf("command %q reached the billing system %d times", id, n)
			case !billing.IsCommand(e.Type) || e.ID == "" || e.ServiceID == "" || id != e.ID:
				t.Fatalf("%+v reached the billing system as %q", e, id)
			case e.Type == kyc.ServiceDueDateExtended && (e.Extension == nil || e.Extension.Days <= 0 || e.Extension.Days > billing.MaxExtensionDays):
				t.Fatalf("an extension without days to add reached the billing system: %s", body)
			}
		}
	})
}

func addBillingAdapterSeeds(f *testing.F) {
	for _, s := range []string{
		`{"version":"0","id":"eb-1","detail-type":"ServiceProvisionRequested","source":"kyc","account":"000000000000","time":"2026-11-26T10:00:00Z","region":"us-east-1","resources":[],"detail":{"type":"ServiceProvisionRequested","eventId":"o-1:provision","at":"2026-11-26T10:00:00Z","customerId":"42","orderId":"o-1","serviceId":"5001","productId":"kyc-vps"}}`,
		`{"detail-type":"ServiceSuspendRequested","source":"kyc","detail":{"eventId":"o-1:suspend","customerId":"42","orderId":"o-1","serviceId":"5001","after":"o-1:provision","reason":"KYC verification not completed within 3 days of ordering","rendered":true}}`,
		`{"detail-type":"ServiceDueDateExtended","source":"kyc","detail":{"eventId":"o-1:extend","serviceId":"5001","after":"o-1:provision","previousDueDate":"2026-12-26","extension":{"exact":183600000000000,"days":3}}}`,
		`{"detail-type":"ServiceDueDateExtended","source":"kyc","detail":{"eventId":"o-1:extend","serviceId":"5001","previousDueDate":"2026-13-29"}}`,
		`{"detail-type":"ServiceDueDateExtended","source":"kyc","detail":{"eventId":"o-1:extend","serviceId":"5001","extension":{"days":-3}}}`,
		`{"detail-type":"ServiceDueDateExtended","source":"kyc","detail":{"eventId":"o-1:extend","serviceId":"5001","extension":{"days":99999999}}}`,
		`{"detail-type":"ServiceProvisionRequested","source":"billing","detail":{"eventId":"o-1:provision","serviceId":"5001"}}`,
		`{"detail-type":"KycVerified","source":"kyc","detail":{"eventId":"cust-1:verified","customerId":"cust-1"}}`,
		`{"detail-type":"ServiceProvisionRequested","source":"kyc","detail":{"serviceId":"5001"}}`,
		`{"detail-type":"ServiceProvisionRequested","source":"kyc","detail":"o-1"}`,
		`{"detail-type":"ServiceProvisionRequested","source":"kyc"}`,
		`{}`, `[]`, `null`, ``, `{"detail":`,
	} {
		f.Add([]byte(s))
	}
}
