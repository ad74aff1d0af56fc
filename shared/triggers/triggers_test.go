package triggers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/triggers"
)

func batchOf(tb testing.TB, bodies ...any) events.SQSEvent {
	tb.Helper()
	var b events.SQSEvent
	for i, body := range bodies {
		s, ok := body.(string)
		if !ok {
			raw, err := json.Marshal(body)
			if err != nil {
				tb.Fatal(err)
			}
			s = string(raw)
		}
		b.Records = append(b.Records, events.SQSMessage{MessageId: "m" + string(rune('1'+i)), Body: s, EventSource: "aws:sqs"})
	}
	return b
}

func orderPlaced(w *kyctest.World, customer, order string) events.EventBridgeEvent {
	detail, _ := json.Marshal(w.OrderEvent(customer, order))
	return events.EventBridgeEvent{Source: contract.SourceBilling, DetailType: string(kyc.OrderPlaced), Detail: detail}
}

func failed(res events.SQSEventResponse) []string {
	out := []string{}
	for _, f := range res.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

// A message is acknowledged only when its event was applied: a refused event
// and a transient failure that wrote nothing are both reported back, so SQS
// delivers them again (and parks them in the alarmed DLQ in the end).
// Acknowledging the transient failure would lose the order for good.
func TestIntakeAcknowledgesOnlyAppliedEvents(t *testing.T) {
	for _, tt := range []struct {
		name       string
		body       func(w *kyctest.World) any
		breakStore bool
		wantFailed bool
		wantHeld   bool
	}{
		{"an order", func(w *kyctest.World) any { return orderPlaced(w, "c1", "o1") }, false, false, true},
		{"a transient store failure", func(w *kyctest.World) any { return orderPlaced(w, "c1", "o1") }, true, true, false},
		{"an invalid order", func(w *kyctest.World) any {
			e := orderPlaced(w, "c1", "o1")
			e.Detail = json.RawMessage(`{"orderId":"o1"}`)
			return e
		}, false, true, false},
		{"another source", func(w *kyctest.World) any {
			e := orderPlaced(w, "c1", "o1")
			e.Source = "somebody"
			return e
		}, false, true, false},
		{"not an EventBridge event", func(*kyctest.World) any { return "not json" }, false, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			h := triggers.NewIntake(w.Intake, slog.New(slog.DiscardHandler))
			if tt.breakStore {
				w.Store.FailNext(kyctest.MethodCommit, errors.New("ProvisionedThroughputExceededException"))
			}
			res, err := h.HandleSQS(context.Background(), batchOf(t, tt.body(w)))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.BatchItemFailures) == 1; got != tt.wantFailed {
				t.Fatalf("failures %v, want failed=%v", failed(res), tt.wantFailed)
			}
			c, err := w.Store.Customer(context.Background(), "c1")
			_, open := c.Hold("o1")
			if open != tt.wantHeld || (!tt.wantHeld && !errors.Is(err, kyc.ErrNotExist)) {
				t.Fatalf("order held = %v, want %v", open, tt.wantHeld)
			}
		})
	}
}

// In a batch, each message stands alone: the good one is applied and
// acknowledged, the bad one is reported.
func TestIntakeBatchReportsEachMessage(t *testing.T) {
	w := kyctest.New(t)
	h := triggers.NewIntake(w.Intake, slog.New(slog.DiscardHandler))
	bad := orderPlaced(w, "c2", "o2")
	bad.DetailType = "OrderShipped"
	res, err := h.HandleSQS(context.Background(), batchOf(t, orderPlaced(w, "c1", "o1"), bad, orderPlaced(w, "c3", "o3")))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(res); len(f) != 1 || f[0] != "m2" {
		t.Fatalf("failures %v, want [m2]", f)
	}
	for _, c := range []string{"c1", "c3"} {
		if len(w.Customer(c).Holds) != 1 {
			t.Fatalf("%s's order not held", c)
		}
	}
}

// The validator reports a message whose object could not be read, so
// the upload is validated again later; a notification of an object no
// document expects is applied (the object removed) and acknowledged.
func TestValidatorAcknowledgesOnlyValidatedUploads(t *testing.T) {
	w := kyctest.New(t)
	v := triggers.NewValidator(w.Validator, "KycGateTest", io.Discard, w.Now, slog.New(slog.DiscardHandler))
	up := w.CreateDocument("c1", kyctest.Request(kyc.Identity))
	version := w.Post(up, kyctest.Content(kyc.JPEG, int(kyctest.Request(kyc.Identity).Size)))
	note := func(key, ver string) triggers.S3Notification {
		var n triggers.S3Notification
		n.Records = make([]triggers.S3Record, 1)
		n.Records[0].EventName = "ObjectCreated:Post"
		n.Records[0].S3.Object.Key, n.Records[0].S3.Object.VersionID = key, ver
		return n
	}
	key := kyc.DocumentKey("c1", up.DocumentID)

	w.Files.FailNext(kyctest.MethodRead, errors.New("SlowDown"))
	res, err := v.HandleSQS(context.Background(), batchOf(t, note(key, version)))
	if err != nil || len(res.BatchItemFailures) != 1 {
		t.Fatalf("a failed read: %v, %+v; want the message reported", err, res)
	}
	if d := w.Document("c1", up.DocumentID); d.State != kyc.DocPendingUpload {
		t.Fatalf("document %s after a failed inspection", d.State)
	}

	res, err = v.HandleSQS(context.Background(), batchOf(t, note(key, version), note("docs/c1/nobody", "v9"), `{"Records":[]}`))
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %v, %+v", err, res)
	}
	if d := w.Document("c1", up.DocumentID); d.State != kyc.DocValid {
		t.Fatalf("document %s after the redelivery, want valid", d.State)
	}
}

// The sweep's "now" is the scheduled event's time, never the clock, and it
// reports the oldest pending review in CloudWatch's embedded metric format.
func TestSweepRunsAtTheScheduledTime(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c1", "o1")
	var metrics bytes.Buffer
	s := triggers.NewSweep(w.Sweeper, "KycGateTest", 24*time.Hour, &metrics, slog.New(slog.DiscardHandler))

	at := w.Now().Add(73 * time.Hour) // the world's clock stays where it is
	rep, err := s.Handle(context.Background(), events.EventBridgeEvent{Source: "aws.scheduler", DetailType: "Scheduled Event", Time: at})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Now.Equal(at) || rep.Suspended != 1 {
		t.Fatalf("report %+v, want the hold suspended at %s", rep, at)
	}
	if h := w.Hold("c1", "o1"); h.State != kyc.SuspendedKYC || !h.SuspendedAt.Equal(at) {
		t.Fatalf("hold %s suspended at %s", h.State, h.SuspendedAt)
	}
	var line struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace string `json:"Namespace"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
		Suspended int `json:"HoldsSuspended"`
	}
	if err := json.Unmarshal(metrics.Bytes(), &line); err != nil || line.Suspended != 1 ||
		len(line.AWS.CloudWatchMetrics) != 1 || line.AWS.CloudWatchMetrics[0].Namespace != "KycGateTest" {
		t.Fatalf("metrics %q (%v)", metrics.String(), err)
	}
	if !strings.Contains(metrics.String(), contract.MetricOldestPendingReview) {
		t.Fatalf("no %s in %s", contract.MetricOldestPendingReview, metrics.String())
	}

	if _, err := s.Handle(context.Background(), events.EventBridgeEvent{Source: "aws.scheduler"}); err == nil {
		t.Fatal("a scheduled event without a time was run")
	}
}

// memGuard is a replay guard in memory.
type memGuard struct{ seen map[string]bool }

func (g *memGuard) Seen(_ context.Context, id string) (bool, error) { return g.seen[id], nil }
func (g *memGuard) Remember(_ context.Context, id string, _ time.Time) error {
	if g.seen[id] {
		return kyc.ErrStale
	}
	g.seen[id] = true
	return nil
}

// A StaffAction from the queue is decoded by its own shape and recorded once
// per EventBridge event id, however often it is delivered; one for an order
// the gate never had is reported (and ends in the DLQ).
func TestIntakeStaffAction(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c1", "o1")
	guard := &memGuard{seen: map[string]bool{}}
	h := triggers.NewIntake(w.Intake, slog.New(slog.DiscardHandler)).WithReplayGuard(guard)
	staff := func(id string, detail string) events.EventBridgeEvent {
		return events.EventBridgeEvent{ID: id, Source: contract.SourceBilling, DetailType: string(kyc.StaffAction), Detail: json.RawMessage(detail)}
	}
	good := `{"orderId":"o1","serviceId":"svc-o1","customerId":"c1","action":"module_create","adminId":"7"}`
	res, err := h.HandleSQS(context.Background(), batchOf(t,
		staff("eb-1", good), // recorded
		staff("eb-1", good), // the same event delivered again: acknowledged, not recorded
		staff("eb-2", `{"orderId":"o1","serviceId":"svc-o1","customerId":"c1","action":"override","adminId":"7","productId":"kyc-vps"}`),
		staff("eb-3", `{"orderId":"o9","serviceId":"svc-o9","customerId":"c1","action":"override","adminId":"7"}`),
		staff("eb-4", `{"orderId":"o1","serviceId":"svc-o1","customerId":"c1","action":"override","adminId":"7"}`), // another event: recorded
	))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(res); strings.Join(f, ",") != "m3,m4" {
		t.Fatalf("failures %v, want m3 (an order's field) and m4 (an order the gate never had)", f)
	}
	var got []string
	for _, e := range w.Audit("c1") {
		got = append(got, e.Action)
	}
	if strings.Join(got, ",") != "order.held,staff.module_create,staff.override" {
		t.Fatalf("audit %v", got)
	}
	if !guard.seen["eventbridge:eb-1"] || guard.seen["eventbridge:eb-3"] {
		t.Fatalf("guard %v: want applied ids only", guard.seen)
	}
}

// scanResult is GuardDuty's scan result event for an object version.
func scanResult(key, version, status string, threats ...string) events.EventBridgeEvent {
	var ts []map[string]string
	for _, t := range threats {
		ts = append(ts, map[string]string{"name": t})
	}
	detail, _ := json.Marshal(map[string]any{"schemaVersion": "1.0", "scanStatus": "COMPLETED", "resourceType": "S3_OBJECT",
		"s3ObjectDetails":   map[string]any{"bucketName": "kyc-docs", "objectKey": key, "versionId": version, "eTag": "e", "s3Throttled": false},
		"scanResultDetails": map[string]any{"scanResultStatus": status, "threats": ts}})
	return events.EventBridgeEvent{Version: "0", ID: "scan-" + version, Source: guardduty.Source, DetailType: guardduty.DetailTypeScanResult,
		Time: time.Date(2026, 3, 2, 10, 1, 0, 0, time.UTC), Detail: detail}
}

// The validator's queue delivers S3's notifications and GuardDuty's scan
// results: an upload that passed the checks waits for its result; a clean
// result makes it valid, a threat refuses it and is counted in the
// MalwareFound metric (embedded metric format) the stack alarms on. Other
// events are reported back, each on its own.
func TestValidatorTakesScanResults(t *testing.T) {
	w := kyctest.New(t)
	w.Scanner.Defer()
	var metrics bytes.Buffer
	v := triggers.NewValidator(w.Validator, "KycGateTest", &metrics, w.Now, slog.New(slog.DiscardHandler))
	upload := func(content []byte) (string, string, string) {
		up := w.CreateDocument("c1", kyc.DocumentRequest{Category: kyc.Address, Type: kyc.BankStatement, ContentType: kyc.PDF, Size: int64(len(content))})
		version := w.Post(up, content)
		key := kyc.DocumentKey("c1", up.DocumentID)
		var n triggers.S3Notification
		n.Records = make([]triggers.S3Record, 1)
		n.Records[0].EventName = "ObjectCreated:Post"
		n.Records[0].S3.Object.Key, n.Records[0].S3.Object.VersionID = key, version
		res, err := v.HandleSQS(context.Background(), batchOf(t, n))
		if err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("upload: %v, %+v", err, res)
		}
		return up.DocumentID, key, version
	}
	clean, cleanKey, cleanVersion := upload(kyctest.Content(kyc.PDF, 4096))
	bad, badKey, badVersion := upload(kyctest.PDFWithEICAR())
	for _, id := range []string{clean, bad} {
		if d := w.Document("c1", id); d.State != kyc.DocScanning {
			t.Fatalf("document %s before its scan result", d.State)
		}
	}
	wrongSource := scanResult(cleanKey, cleanVersion, guardduty.StatusNoThreatsFound)
	wrongSource.Source = "billing"
	wrongType := scanResult(cleanKey, cleanVersion, guardduty.StatusNoThreatsFound)
	wrongType.DetailType = "GuardDuty Malware Protection Plan Status Change"
	res, err := v.HandleSQS(context.Background(), batchOf(t,
		scanResult(cleanKey, cleanVersion, guardduty.StatusNoThreatsFound),
		scanResult(badKey, badVersion, guardduty.StatusThreatsFound, guardduty.EICARThreat),
		wrongSource, wrongType, scanResult(cleanKey, cleanVersion, "SOMETHING"), `{"source":`))
	if err != nil {
		t.Fatal(err)
	}
	if f := failed(res); !slices.Equal(f, []string{"m3", "m4", "m5", "m6"}) {
		t.Fatalf("failures %v, want the four that are not scan results of the documents", f)
	}
	if d := w.Document("c1", clean); d.State != kyc.DocValid {
		t.Fatalf("clean document %s", d.State)
	}
	if d := w.Document("c1", bad); d.State != kyc.DocInvalid || d.Invalid != kyc.InvalidMalware {
		t.Fatalf("document with malware %s %s", d.State, d.Invalid)
	}
	var line struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace string `json:"Namespace"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
		Found int `json:"MalwareFound"`
	}
	if err := json.Unmarshal(metrics.Bytes(), &line); err != nil || line.Found != 1 || len(line.AWS.CloudWatchMetrics) != 1 ||
		line.AWS.CloudWatchMetrics[0].Namespace != "KycGateTest" {
		t.Fatalf("metrics %q (%v)", metrics.String(), err)
	}
	// The same result again deletes what is left and counts nothing twice.
	metrics.Reset()
	if res, err := v.HandleSQS(context.Background(), batchOf(t, scanResult(badKey, badVersion, guardduty.StatusThreatsFound, guardduty.EICARThreat))); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %v, %+v", err, res)
	}
	if metrics.Len() != 0 {
		t.Fatalf("a redelivered threat counted again: %s", metrics.String())
	}
	// A failed scan is counted too.
	w.Scanner.Fail()
	_, failKey, failVersion := upload(kyctest.Content(kyc.PDF, 4096))
	if res, err := v.HandleSQS(context.Background(), batchOf(t, scanResult(failKey, failVersion, guardduty.StatusUnsupported))); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("failed scan: %v, %+v", err, res)
	}
	if !strings.Contains(metrics.String(), `"`+contract.MetricMalwareScanFailed+`":1`) {
		t.Fatalf("metrics %q", metrics.String())
	}
}
