package flows

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// TestSampleEvents runs every sample event of events/ through its function's
// Lambda entry point, as `make invoke` and the Lambda runtime do, so the
// samples never rot. (billing-adapter's and notifier's samples are run by
// their own packages' tests.)
func TestSampleEvents(t *testing.T) {
	root, err := stacktest.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{contract.FunctionBillingIntake, contract.FunctionCustomerAPI, contract.FunctionAdminAPI,
		contract.FunctionValidator, contract.FunctionSweep} {
		files, _ := filepath.Glob(filepath.Join(root, "events", fn, "*.json"))
		if len(files) == 0 {
			t.Errorf("no sample event for %s", fn)
		}
		for _, f := range files {
			t.Run(fn+"/"+filepath.Base(f), func(t *testing.T) {
				s := newSys(t) // each sample on a fresh stack; the samples' times are around the clock's 2026-11-26
				if fn == contract.FunctionBillingIntake && !strings.Contains(f, "placed") {
					placed, _ := os.ReadFile(filepath.Join(root, "events", fn, "sqs-order-placed.json"))
					if out, err := s.fns[fn].Invoke(context.Background(), placed); err != nil || len(out.(events.SQSEventResponse).BatchItemFailures) > 0 {
						t.Fatalf("placing the order first: %v, %+v", err, out)
					}
				}
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				out, err := s.fns[fn].Invoke(context.Background(), raw)
				if err != nil {
					t.Fatalf("invoke: %v", err)
				}
				switch r := out.(type) {
				case events.APIGatewayV2HTTPResponse:
					// Placeholder ids may be unknown (404), never malformed or failing.
					if r.StatusCode >= 500 || r.StatusCode == 400 || r.StatusCode == 401 {
						t.Fatalf("%d %s", r.StatusCode, r.Body)
					}
				case events.SQSEventResponse:
					if len(r.BatchItemFailures) > 0 {
						t.Fatalf("failed messages: %+v", r.BatchItemFailures)
					}
				case kyc.SweepReport:
					if r.Now.IsZero() {
						t.Fatalf("report = %+v", r)
					}
				default:
					b, _ := json.Marshal(out)
					t.Fatalf("unexpected result %T %s", out, b)
				}
				if strings.Contains(f, "api") {
					t.Logf("%s → %T", filepath.Base(f), out)
				}
			})
		}
	}
}
