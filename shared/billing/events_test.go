package billing_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

// The sample events of events/billing-adapter parse as SQS batches of
// service commands and apply, in their story's order, to a WHMCS holding
// their service.
func TestSampleEvents(t *testing.T) {
	dir := filepath.Join("..", "..", "events", "billing-adapter")
	order := []struct {
		file string
		typ  kyc.EventType
	}{
		{"sqs-provision.json", kyc.ServiceProvisionRequested},
		{"sqs-extend.json", kyc.ServiceDueDateExtended},
		{"sqs-suspend.json", kyc.ServiceSuspendRequested},
		{"sqs-unsuspend.json", kyc.ServiceUnsuspendRequested},
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(order) {
		t.Fatalf("%d sample files in %s, the test knows %d: add the new one here", len(files), dir, len(order))
	}
	r := newRig(t, "memory", whmcs.Options{})
	r.fake.AddService(whmcstest.Service{ID: 9001, ClientID: 1001, NextDueDate: "2026-12-24"})
	for _, o := range order {
		raw, err := os.ReadFile(filepath.Join(dir, o.file))
		if err != nil {
			t.Fatal(err)
		}
		var batch events.SQSEvent
		if err := json.Unmarshal(raw, &batch); err != nil {
			t.Fatalf("%s: %v", o.file, err)
		}
		if len(batch.Records) == 0 {
			t.Fatalf("%s: no records", o.file)
		}
		for _, rec := range batch.Records {
			e, err := eventbus.Decode([]byte(rec.Body))
			if err != nil || e.Type != o.typ || e.ServiceID != "9001" || e.ID == "" || rec.EventSource != "aws:sqs" {
				t.Fatalf("%s: %+v, %v", o.file, e, err)
			}
		}
		resp, err := r.handler.Handle(context.Background(), batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v\n%s", o.file, resp.BatchItemFailures, err, r.logs)
		}
	}
	sv, _ := r.fake.Service(9001)
	if sv.Status != whmcs.StatusActive || sv.NextDueDate != "2026-12-26" {
		t.Fatalf("service after the samples: %+v", sv)
	}
}
