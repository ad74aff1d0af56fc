package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
)

// busEnv is the bus of the synthesized stack, deployed on the emulator for
// this test, with one rule of the test's own (source "kyc", some
// detail-types) that targets a queue of its own.
type busEnv struct {
	bus   string
	queue string // URL
	sqs   *sqs.Client
	eb    *eventbridge.Client
}

func newBusEnv(t *testing.T, pattern string) *busEnv {
	t.Helper()
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	e := &busEnv{eb: eventbridge.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg)}
	e.bus = st.Functions[contract.FunctionSweep].Env[contract.EnvEventBus]
	q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(emulator.UniqueName(t, "kyc-out"))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	e.queue = aws.ToString(q.QueueUrl)
	attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue arn: %v", err)
	}
	rule := emulator.UniqueName(t, "service-commands")
	if _, err := e.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(e.bus), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	if _, err := e.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(e.bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}}); err != nil {
		t.Fatalf("put targets: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		e.eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(e.bus), Ids: []string{"queue"}})
		e.eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule), EventBusName: aws.String(e.bus)})
		e.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(e.queue)})
	})
	return e
}

// envelope is an EventBridge event as a rule delivers it.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// receive collects messages until want have arrived, then waits a little
// longer for unexpected extras.
func (e *busEnv) receive(tb testing.TB, want int) []envelope {
	tb.Helper()
	ctx := context.Background()
	var got []envelope
	deadline := time.Now().Add(15 * time.Second)
	extra := false
	for time.Now().Before(deadline) {
		out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			tb.Fatalf("receive: %v", err)
		}
		for _, m := range out.Messages {
			var env envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				tb.Fatalf("message is not an event: %v\n%s", err, aws.ToString(m.Body))
			}
			got = append(got, env)
			e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.queue), ReceiptHandle: m.ReceiptHandle})
		}
		if len(got) >= want {
			if extra {
				break
			}
			extra = true // one more round for messages that should not be there
		}
	}
	return got
}

// mixedEvents returns 23 events of every outbound type for a few orders.
func mixedEvents() []kyc.Event {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var out []kyc.Event
	for i := range 4 {
		o := fmt.Sprint("ord-", i)
		base := kyc.Event{At: at.Add(time.Duration(i) * time.Minute), CustomerID: "cust-1", OrderID: o, ServiceID: "svc-" + o, ProductID: "kyc-vps"}
		prov, susp, unsusp, ext := base, base, base, base
		prov.Type, prov.ID = kyc.ServiceProvisionRequested, o+":provision"
		susp.Type, susp.ID, susp.After, susp.Reason, susp.Rendered = kyc.ServiceSuspendRequested, o+":suspend", o+":provision", kyc.SuspendReasonKYC, true
		unsusp.Type, unsusp.ID, unsusp.After = kyc.ServiceUnsuspendRequested, o+":unsuspend", o+":suspend"
		from := kyc.NewDate(2026, time.April, 1+i)
		ext.Type, ext.ID, ext.After = kyc.ServiceDueDateExtended, o+":extend", o+":provision"
		ext.PreviousDueDate, ext.Extension = &from, &kyc.Extension{Exact: time.Duration(i+1)*24*time.Hour - time.Hour, Days: i + 1}
		out = append(out, prov, susp, unsusp, ext)
	}
	deadline := at.Add(72 * time.Hour)
	for i, t := range []kyc.EventType{kyc.KycRequested, kyc.KycVerified, kyc.KycRejected, kyc.KycExpiring, kyc.KycExpired, kyc.KycRequested, kyc.KycVerified} {
		out = append(out, kyc.Event{Type: t, ID: fmt.Sprint("cust-1:", t, ":", i), At: at, CustomerID: "cust-1", Deadline: &deadline})
	}
	return out // 16 + 7 = 23
}

func TestPublishThroughRuleToQueue(t *testing.T) {
	emulator.Integration(t)
	e := newBusEnv(t, `{"source":["kyc"],"detail-type":["ServiceSuspendRequested","ServiceDueDateExtended"]}`)
	evs := mixedEvents()
	if len(evs) != 23 {
		t.Fatalf("%d events, want 23", len(evs))
	}
	if err := eventbus.New(e.eb, e.bus).Publish(context.Background(), evs); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	want := map[string]kyc.Event{}
	for _, ev := range evs {
		if ev.Type == kyc.ServiceSuspendRequested || ev.Type == kyc.ServiceDueDateExtended {
			want[ev.ID] = ev
		}
	}
	got := e.receive(t, len(want))
	if len(got) != len(want) {
		t.Errorf("%d events arrived, want the %d matching ones", len(got), len(want))
	}
	var seen []string
	for _, env := range got {
		var d map[string]any
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			t.Fatalf("detail: %v", err)
		}
		id, _ := d["eventId"].(string)
		ev, ok := want[id]
		if !ok {
			t.Errorf("unexpected event %q (%s) arrived", id, env.DetailType)
			continue
		}
		seen = append(seen, id)
		if env.Source != "kyc" || env.DetailType != string(ev.Type) || !env.Time.Equal(ev.At) {
			t.Errorf("%s: source %q detail-type %q time %s; want kyc, %s, %s", id, env.Source, env.DetailType, env.Time, ev.Type, ev.At)
		}
		// The detail is the event's JSON, field for field.
		wantJSON, _ := json.Marshal(ev)
		var wantDetail map[string]any
		json.Unmarshal(wantJSON, &wantDetail)
		if a, b := fmt.Sprint(d), fmt.Sprint(wantDetail); a != b {
			t.Errorf("%s: detail\n got %s\nwant %s", id, a, b)
		}
		if d["orderId"] != ev.OrderID || d["after"] != ev.After || d["customerId"] != "cust-1" || d["at"] != ev.At.Format(time.RFC3339) {
			t.Errorf("%s: ids, after or at wrong in %v", id, d)
		}
		switch ev.Type {
		case kyc.ServiceDueDateExtended:
			ext, _ := d["extension"].(map[string]any)
			if d["previousDueDate"] != ev.PreviousDueDate.String() || d["newDueDate"] != nil ||
				ext["days"] != float64(ev.Extension.Days) || ext["exact"] != float64(ev.Extension.Exact) {
				t.Errorf("%s: extension detail %v", id, d)
			}
			if s, _ := d["previousDueDate"].(string); len(s) != len("2026-04-02") || s[4] != '-' || s[7] != '-' {
				t.Errorf("%s: previousDueDate %q is not YYYY-MM-DD", id, s)
			}
		case kyc.ServiceSuspendRequested:
			if d["rendered"] != true || d["reason"] != kyc.SuspendReasonKYC {
				t.Errorf("%s: suspend detail %v", id, d)
			}
		}
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != len(want) {
		t.Errorf("arrived %v, want each of the %d matching events", seen, len(want))
	}
}

func TestPublishKycNotices(t *testing.T) {
	emulator.Integration(t)
	e := newBusEnv(t, `{"source":["kyc"],"detail-type":[{"prefix":"Kyc"}]}`)
	evs := mixedEvents()
	if err := eventbus.New(e.eb, e.bus).Publish(context.Background(), evs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got := e.receive(t, 7)
	var types []string
	for _, env := range got {
		types = append(types, env.DetailType)
		var d struct {
			Deadline time.Time `json:"deadline"`
		}
		json.Unmarshal(env.Detail, &d)
		if !d.Deadline.Equal(time.Date(2026, 3, 7, 5, 6, 7, 0, time.UTC)) {
			t.Errorf("%s: deadline %s", env.DetailType, d.Deadline)
		}
	}
	slices.Sort(types)
	want := []string{"KycExpired", "KycExpiring", "KycRejected", "KycRequested", "KycRequested", "KycVerified", "KycVerified"}
	if !slices.Equal(types, want) {
		t.Errorf("arrived %v, want %v", types, want)
	}
}
