package systemtest

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/kycgate/kycgate/infra/local/dev"
	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/wiring"
)

// The notifier as its Lambda runs it (built by wiring from the deployed
// template's environment), against the emulator's SES v2, DynamoDB and KMS:
// the e-mails SES accepted (read the way the dev server reads them, from
// moto or LocalStack), in the customer's language, each sent once.
func TestNotifierSendsThroughSES(t *testing.T) {
	emu := emulator.Shared(t)
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	clients := wiring.NewClients(cfg)
	env := st.Functions[contract.FunctionNotifier].Env
	from := emulator.UniqueName(t, "kyc") + "@provider.example"
	if _, err := clients.SES.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &from}); err != nil {
		t.Fatalf("create sender identity: %v", err)
	}
	fn, err := wiring.Notifier.Build(ctx, func(k string) string {
		if k == contract.EnvMailFrom {
			return from
		}
		return env[k]
	}, clients, wiring.Host{})
	if err != nil {
		t.Fatal(err)
	}

	// Two customers the gate knows, with their sealed contact addresses, as
	// billing's orders leave them.
	table := env[contract.EnvTable]
	intake := kyc.NewIntake(dynamostore.New(clients.DynamoDB, table),
		kmsseal.New(clients.KMS, kmsseal.NewDynamoKeys(clients.DynamoDB, table), env[contract.EnvKeyID], ""),
		nopBus{}, kyc.Config{Products: kyc.ProductSet{"kyc-vps": true}, Regions: regions(t)})
	zh, en := emulator.UniqueName(t, "c-zh"), emulator.UniqueName(t, "c-en")
	for _, o := range []kyc.BillingEvent{
		{OrderID: zh + "-o", ServiceID: "9001", CustomerID: zh, ProductID: "kyc-vps", OrderedAt: time.Now().Add(-time.Hour),
			NextDueDate: kyc.NewDate(2027, 1, 1), ServerRegion: "hk", Email: "zh.customer@example.com", Language: kyc.LangChinese},
		{OrderID: en + "-o", ServiceID: "9002", CustomerID: en, ProductID: "kyc-vps", OrderedAt: time.Now().Add(-time.Hour),
			NextDueDate: kyc.NewDate(2027, 1, 1), ServerRegion: "tw", Email: "other.customer@example.com"},
	} {
		if _, err := intake.PlaceOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	rejected := kyc.Event{Type: kyc.KycRejected, ID: zh + "-sub:rejected", At: time.Now(), CustomerID: zh, SubmissionID: zh + "-sub",
		Reasons: []kyc.ReasonCode{"unreadable"}, Language: kyc.LangChinese,
		Documents:       []kyc.DocVerdict{{Category: kyc.Identity, Type: kyc.Passport, Result: kyc.ResultResubmit, Reasons: []kyc.ReasonCode{"unreadable"}}},
		CustomerMessage: "Please upload a clearer scan."}
	now := time.Now()
	verified := kyc.Event{Type: kyc.KycVerified, ID: en + "-sub:verified", At: now, CustomerID: en, SubmissionID: en + "-sub",
		VerifiedAt: &now, ExpiresAt: &now}

	deliver := func(evs ...kyc.Event) {
		t.Helper()
		var batch events.SQSEvent
		for i, e := range evs {
			detail, _ := json.Marshal(e)
			body, _ := json.Marshal(events.EventBridgeEvent{Source: contract.SourceKYC, DetailType: string(e.Type), Detail: detail})
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: string(rune('a' + i)), Body: string(body)})
		}
		raw, _ := json.Marshal(batch)
		out, err := fn.Invoke(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if res := out.(events.SQSEventResponse); len(res.BatchItemFailures) != 0 {
			t.Fatalf("failed messages %v", res.BatchItemFailures)
		}
	}
	deliver(rejected, rejected, verified)
	deliver(rejected) // a later redelivery

	all, err := dev.SentEmails(ctx, emu.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	var sent []dev.Email
	for _, m := range all {
		if m.From == from {
			sent = append(sent, m)
		}
	}
	if len(sent) != 2 {
		t.Fatalf("SES accepted %d messages from %s, want 2 (the rejection once, the verification once): %+v", len(sent), from, sent)
	}
	rej, ver := sent[0], sent[1]
	if len(rej.To) != 1 || rej.To[0] != "zh.customer@example.com" || rej.Subject != "您的身份驗證需要您處理" {
		t.Fatalf("rejection: to %v, subject %q; want the customer's address and language", rej.To, rej.Subject)
	}
	body := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(rej.Body, ""))
	for _, p := range []string{"文件模糊或無法辨認。", "我們職員的訊息", "Please upload a clearer scan.", env[contract.EnvPortalURL]} {
		if !strings.Contains(body, p) {
			t.Errorf("rejection body lacks %q:\n%s", p, body)
		}
	}
	if strings.Contains(body, "Hello") {
		t.Error("rejection body carries English for a zh-Hant customer")
	}
	if len(ver.To) != 1 || ver.To[0] != "other.customer@example.com" || ver.Subject != "Your identity has been verified / 您的身份已通過驗證" {
		t.Fatalf("verification: %+v", ver)
	}
}

// nopBus publishes nothing: the orders here only leave customer records.
type nopBus struct{}

func (nopBus) Publish(context.Context, []kyc.Event) error { return nil }

// regions are the local catalogue's server regions.
func regions(t *testing.T) kyc.Regions {
	t.Helper()
	rs, err := kyc.ParseRegions("hk=Asia/Hong_Kong,tw=Asia/Taipei")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
