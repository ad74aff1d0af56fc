package notify_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
)

// The sample events of events/notifier parse as SQS batches of customer
// notices and each becomes one e-mail.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "notifier", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	r := newNotifyRig(t, rigOpts{ledger: true})
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var batch events.SQSEvent
		if err := json.Unmarshal(raw, &batch); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, rec := range batch.Records {
			e, err := eventbus.Decode([]byte(rec.Body))
			if err != nil || !isNotice(e.Type) || e.CustomerID != "1001" || e.ID == "" {
				t.Fatalf("%s: %+v, %v", f, e, err)
			}
		}
		before := r.ses.count()
		resp, err := r.handler.Handle(context.Background(), batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v\n%s", f, resp.BatchItemFailures, err, r.logs)
		}
		if r.ses.count() != before+len(batch.Records) {
			t.Fatalf("%s: no e-mail", f)
		}
		if strings.Contains(f, "rejected") {
			text := *r.ses.sent[r.ses.count()-1].Content.Simple.Body.Text.Data
			if !strings.Contains(text, "文件模糊或無法辨認。") || !strings.Contains(text, "sharper scan") {
				t.Fatalf("rejection sample e-mail:\n%s", text)
			}
		}
	}
}

func isNotice(t kyc.EventType) bool {
	for _, n := range kyc.CustomerNotices {
		if n == t {
			return true
		}
	}
	return false
}
