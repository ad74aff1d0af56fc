package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/notify"
)

func TestMain(m *testing.M) { emulator.Main(m) }

// sentEmail is a message as moto's SES backend keeps it (GET
// /moto-api/data.json, ses.Message). For simple content with both parts,
// moto keeps the HTML part as the body.
type sentEmail struct {
	ID           string              `json:"id"`
	Source       string              `json:"source"`
	Subject      string              `json:"subject"`
	Body         string              `json:"body"`
	Destinations map[string][]string `json:"destinations"`
}

func sentBy(tb testing.TB, endpoint, from string) []sentEmail {
	tb.Helper()
	resp, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		tb.Fatalf("moto data: %v", err)
	}
	defer resp.Body.Close()
	var data struct {
		SES struct {
			Message []sentEmail `json:"Message"`
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		tb.Fatalf("moto data: %v", err)
	}
	var out []sentEmail
	for _, m := range data.SES.Message {
		if m.Source == from {
			out = append(out, m)
		}
	}
	return out
}

// The notifier against the emulator's SES v2 and DynamoDB: the e-mails SES
// accepted, in the customer's language, each sent once.
func TestNotifierWithEmulatorSES(t *testing.T) {
	emu := emulator.Shared(t)
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	ses := sesv2.NewFromConfig(cfg)
	from := emulator.UniqueName(t, "kyc") + "@provider.example"
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &from}); err != nil {
		t.Fatalf("create sender identity: %v", err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := st.Functions[contract.FunctionNotifier].Env[contract.EnvTable]

	s := sealer{}
	contact, _ := s.Seal(ctx, "1001", []byte(address))
	cust := customers{
		"1001": {ID: "1001", Language: kyc.LangChinese, Contact: &contact},
		"1003": {ID: "1003", Contact: sealedFor(t, "1003", "other.1003@example.com")},
	}
	logs := &bytes.Buffer{}
	env := map[string]string{contract.EnvTable: table, contract.EnvMailFrom: from, contract.EnvPortalURL: portal}
	h, err := notify.NewFromEnv(ctx, func(k string) string { return env[k] }, notify.Deps{
		Customers: cust, Sealer: s, SES: ses, DynamoDB: db, Log: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &nrig{handler: h, logs: logs}
	unknownLang := verifiedEvent()
	unknownLang.CustomerID = "1003"
	if failed := r.deliver(t, rejected(), rejected(), unknownLang); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, logs)
	}
	if failed := r.deliver(t, rejected()); len(failed) != 0 { // a later redelivery
		t.Fatalf("failed %v", failed)
	}

	sent := sentBy(t, emu.Endpoint(), from)
	if len(sent) != 2 {
		t.Fatalf("SES accepted %d messages from %s, want 2 (the rejection once, the verification once): %+v", len(sent), from, sent)
	}
	rej, ver := sent[0], sent[1]
	if to := rej.Destinations["ToAddresses"]; len(to) != 1 || to[0] != address {
		t.Fatalf("rejection sent to %v", rej.Destinations)
	}
	if rej.Subject != "您的身份驗證需要您處理" {
		t.Fatalf("rejection subject %q, want the customer's language", rej.Subject)
	}
	body := htmlText(rej.Body)
	for _, p := range []string{"文件模糊或無法辨認。", "對帳單或帳單已超過三個月。", "我們職員的訊息", "Please upload a clearer scan of passport ***", portal} {
		if !strings.Contains(body, p) {
			t.Errorf("rejection body lacks %q:\n%s", p, body)
		}
	}
	if strings.Contains(body, "Hello") {
		t.Error("rejection body carries English for a zh-Hant customer")
	}
	assertSafe(t, notify.Message{Subject: rej.Subject, Text: portal, HTML: rej.Body})

	if ver.Destinations["ToAddresses"][0] != "other.1003@example.com" ||
		ver.Subject != "Your identity has been verified / 您的身份已通過驗證" {
		t.Fatalf("verification: %+v", ver)
	}
	assertSafe(t, notify.Message{Subject: ver.Subject, Text: portal, HTML: ver.Body})
	r.noPersonalData(t)
	if strings.Contains(logs.String(), "other.1003") {
		t.Fatal("logs carry an address")
	}
}

func sealedFor(tb testing.TB, id, addr string) *kyc.Sealed {
	tb.Helper()
	s, err := sealer{}.Seal(context.Background(), id, []byte(addr))
	if err != nil {
		tb.Fatal(err)
	}
	return &s
}
