package flows

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/wiring"
)

// TestSweepSuspendsThenApprovalUnsuspends: an order received 4 days ago
// without KYC is provisioned and suspended by the sweep (rendered); a later
// approval unsuspends it and leaves the due date alone.
func TestSweepSuspendsThenApprovalUnsuspends(t *testing.T) {
	s := newSys(t)
	now := s.clock.Now()
	s.orderReceivedAt("o-late", "cust-s", "kyc-vps", now.Add(-96*time.Hour), now.Add(-96*time.Hour))
	s.published(contract.FunctionNotifier)

	rep := s.sweep(now)
	if rep.Suspended != 1 || rep.CustomersDue != 1 {
		t.Fatalf("sweep = %+v", rep)
	}
	if c := s.published(contract.FunctionBillingAdapter); !slices.Equal(types(c), []string{"ServiceProvisionRequested o-late", "ServiceSuspendRequested o-late"}) {
		t.Fatalf("commands = %v", types(c))
	} else {
		for _, e := range c {
			if e.Type == kyc.ServiceSuspendRequested && (!e.Rendered || e.Reason == "" || e.After != "o-late:provision") {
				t.Fatalf("suspend = %s", e.Raw)
			}
		}
	}
	if rep := s.sweep(now); rep.Changed != 0 || rep.CustomersDue != 0 {
		t.Fatalf("second sweep = %+v", rep)
	}
	s.clock.Add(5 * time.Hour)
	s.verified("cust-s", "rev-1")
	if c := types(s.published(contract.FunctionBillingAdapter)); !slices.Equal(c, []string{"ServiceUnsuspendRequested o-late"}) {
		t.Fatalf("after approval = %v", c)
	}
	var order kyc.OrderView
	s.must(http.StatusOK, "GET", "/v1/admin/orders/o-late", s.reviewer("rev-1"), nil, &order)
	if order.State != kyc.Released || order.NextDueDate != kyc.NewDate(2026, 12, 26) || !order.Rendered || order.Extension != nil {
		t.Fatalf("order = %+v", order)
	}
}

// TestSweepReadsOnlyDueRecords: among many customers only the due ones are
// read, and "now" is the scheduled event's time, not the clock.
func TestSweepReadsOnlyDueRecords(t *testing.T) {
	s := newSys(t)
	now := s.clock.Now()
	for i := range 30 {
		s.order(fmt.Sprintf("o-fresh-%d", i), fmt.Sprintf("cust-f%d", i), "kyc-vps", now.Add(-time.Hour))
	}
	for i := range 3 {
		s.orderReceivedAt(fmt.Sprintf("o-old-%d", i), fmt.Sprintf("cust-o%d", i), "kyc-vps", now.Add(-80*time.Hour), now.Add(-80*time.Hour))
	}
	s.published(contract.FunctionNotifier)
	if rep := s.sweep(now); rep.CustomersDue != 3 || rep.Suspended != 3 {
		t.Fatalf("sweep at now = %+v", rep)
	}
	// The fresh orders, placed an hour ago and received now, are due 3 days
	// after they were received: a sweep stamped exactly then is still within
	// the 3 days, one stamped a second later is not.
	if rep := s.sweep(now.Add(72 * time.Hour)); rep.CustomersDue != 0 {
		t.Fatalf("sweep at the deadline = %+v", rep)
	}
	if rep := s.sweep(now.Add(72*time.Hour + time.Second)); rep.CustomersDue != 30 || rep.Suspended != 30 {
		t.Fatalf("sweep whose event time is past the deadline = %+v", rep)
	}
}

// TestSweepConcurrencyAndRaces: two sweeps at once, or a sweep racing an
// approval, never double-suspend, double-extend or lose a transition.
func TestSweepConcurrencyAndRaces(t *testing.T) {
	s := newSys(t)
	now := s.clock.Now()
	for i := range 6 {
		s.orderReceivedAt(fmt.Sprintf("o-%d", i), fmt.Sprintf("cust-%d", i), "kyc-vps", now.Add(-73*time.Hour), now.Add(-73*time.Hour))
	}
	s.published(contract.FunctionNotifier)
	var wg sync.WaitGroup
	reports := make([]kyc.SweepReport, 4)
	for i := range reports {
		wg.Add(1)
		go func() { defer wg.Done(); reports[i] = s.sweep(now) }()
	}
	wg.Wait()
	total := 0
	for _, r := range reports {
		total += r.Suspended
	}
	if total != 6 {
		t.Fatalf("4 concurrent sweeps suspended %d holds in all, want 6: %+v", total, reports)
	}
	cmds := s.published(contract.FunctionBillingAdapter)
	seen := map[string]int{}
	for _, c := range cmds {
		seen[c.ID]++
	}
	if len(cmds) != 12 || len(seen) != 12 {
		t.Fatalf("commands = %v", types(cmds))
	}

	// A sweep racing an approval of an overdue hold: whichever commits
	// first, the order ends released with its due date unchanged, and no
	// command is sent twice.
	s.orderReceivedAt("o-race", "cust-race", "kyc-vps", now.Add(-73*time.Hour), now.Add(-73*time.Hour))
	id := s.uploaded("cust-race", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("cust-race", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-race"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	rev := s.reviewer("rev-1")
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, &item)
	s.open(rec.SubmissionID, rev, kyc.Identity)
	s.open(rec.SubmissionID, rev, kyc.Address)
	wg.Add(2)
	go func() { defer wg.Done(); s.sweep(now) }()
	go func() {
		defer wg.Done()
		s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/decision", rev, map[string]any{
			"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}},
			"version":   item.Version}, nil)
	}()
	wg.Wait()
	var order kyc.OrderView
	s.must(http.StatusOK, "GET", "/v1/admin/orders/o-race", rev, nil, &order)
	if order.State != kyc.Released || order.NextDueDate != kyc.NewDate(2026, 12, 26) {
		t.Fatalf("raced order = %+v", order)
	}
	got := types(s.published(contract.FunctionBillingAdapter))
	if !slices.Equal(got, []string{"ServiceProvisionRequested o-race"}) &&
		!slices.Equal(got, []string{"ServiceProvisionRequested o-race", "ServiceSuspendRequested o-race", "ServiceUnsuspendRequested o-race"}) {
		t.Fatalf("raced commands = %v", got)
	}
}

// TestOutboxSurvivesAFailedPublish: when the function cannot publish after
// its write (the bus is unreachable, or it dies), the events wait in the
// outbox and the next sweep publishes them; nothing is lost.
func TestOutboxSurvivesAFailedPublish(t *testing.T) {
	s := newSys(t)
	broken := func(k string) string {
		if k == contract.EnvEventBus {
			return "no-such-bus"
		}
		return s.st.Functions[contract.FunctionBillingIntake].Env[k]
	}
	fn, err := wiring.BillingIntake.Build(context.Background(), broken, s.c, wiring.Host{Clock: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	body := mustJSON(map[string]any{"source": contract.SourceBilling, "detail-type": kyc.OrderPlaced, "detail": kyc.BillingEvent{
		OrderID: "o-out", ServiceID: "svc-out", CustomerID: "cust-out", ProductID: "kyc-vps",
		OrderedAt: s.clock.Now(), NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"}})
	raw := mustJSON(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-out", Body: string(body), EventSource: "aws:sqs"}}})
	if out, err := fn.Invoke(context.Background(), raw); err != nil || len(out.(events.SQSEventResponse).BatchItemFailures) > 0 {
		t.Fatalf("the order must commit (and its message be acknowledged) even when publishing fails: %v, %+v", err, out)
	}
	if n := s.published(contract.FunctionNotifier); len(n) != 0 {
		t.Fatalf("published through a broken bus? %v", types(n))
	}
	if !strings.Contains(s.snapshot(), "OUTBOX#") {
		t.Fatal("no outbox record kept")
	}
	if rep := s.sweep(s.clock.Now().Add(30 * time.Second)); rep.OutboxesPublished != 0 {
		t.Fatalf("the sweep took the outbox before its grace period: %+v", rep)
	}
	if rep := s.sweep(s.clock.Now().Add(2 * time.Minute)); rep.OutboxesPublished != 1 {
		t.Fatalf("sweep = %+v", rep)
	}
	if n := types(s.published(contract.FunctionNotifier)); !slices.Equal(n, []string{"KycRequested o-out"}) {
		t.Fatalf("after the sweep: %v", n)
	}
	if strings.Contains(s.snapshot(), "OUTBOX#") {
		t.Fatal("outbox record left after publishing")
	}
}

// TestVerificationReminders: KycExpiring 30 days before the 2-year mark,
// KycExpired at it, each once.
func TestVerificationReminders(t *testing.T) {
	s := newSys(t)
	s.verified("cust-x", "rev-1")
	s.published(contract.FunctionNotifier)
	expires := s.clock.Now().AddDate(2, 0, 0)
	s.sweep(expires.Add(-31 * 24 * time.Hour))
	s.sweep(expires.Add(-30 * 24 * time.Hour))
	s.sweep(expires.Add(-29 * 24 * time.Hour))
	s.sweep(expires)
	s.sweep(expires.Add(time.Hour))
	if n := types(s.published(contract.FunctionNotifier)); !slices.Equal(n, []string{"KycExpired ", "KycExpiring "}) {
		t.Fatalf("notices = %v", n)
	}
	var st kyc.StatusView
	s.must(http.StatusOK, "GET", "/v1/kyc/status", s.token("cust-x"), nil, &st)
	if st.Status != kyc.StatusExpired {
		t.Fatalf("status = %s", st.Status)
	}
}

// TestSweepMetrics: the sweep reports the oldest pending review in
// CloudWatch embedded metric format, for the review SLA alarm.
func TestSweepMetrics(t *testing.T) {
	s := newSys(t)
	id := s.uploaded("cust-m", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("cust-m", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-m"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, nil)
	s.metrics.Reset()
	rep := s.sweep(s.clock.Now().Add(90 * time.Minute))
	if rep.OldestPendingReview != 90*time.Minute {
		t.Fatalf("oldest pending = %s", rep.OldestPendingReview)
	}
	line := s.metrics.String()
	if !strings.Contains(line, `"OldestPendingReviewSeconds":5400`) || !strings.Contains(line, `"CloudWatchMetrics"`) {
		t.Fatalf("metrics line = %s", line)
	}
}
