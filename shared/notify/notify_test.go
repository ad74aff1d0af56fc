package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/notify"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
)

const address = "customer.1001@example.com"

// customers is a CustomerReader over a map.
type customers map[string]kyc.Customer

func (c customers) Customer(_ context.Context, id string) (kyc.Customer, error) {
	cu, ok := c[id]
	if !ok {
		return kyc.Customer{}, kyc.ErrNotExist
	}
	return cu, nil
}

// sealer is a kyc.Sealer that "seals" by reversing the bytes and binds the
// customer id, so a wrong id fails as kmsseal does.
type sealer struct{ fail error }

func (s sealer) Seal(_ context.Context, customerID string, p []byte) (kyc.Sealed, error) {
	b := slices.Clone(p)
	slices.Reverse(b)
	return kyc.Sealed{V: 1, Nonce: []byte(customerID), Data: b}, nil
}

func (s sealer) Open(_ context.Context, customerID string, v kyc.Sealed) ([]byte, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	if string(v.Nonce) != customerID {
		return nil, errors.New("sealed for another customer")
	}
	b := slices.Clone(v.Data)
	slices.Reverse(b)
	return b, nil
}

func (s sealer) Fingerprint(context.Context, string) (string, error) { return "", errors.New("unused") }

// sesFake records SendEmail inputs.
type sesFake struct {
	mu   sync.Mutex
	sent []*sesv2.SendEmailInput
	fail error
}

func (f *sesFake) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.sent = append(f.sent, in)
	return &sesv2.SendEmailOutput{MessageId: aws.String("msg-" + string(rune('0'+len(f.sent))))}, nil
}

func (f *sesFake) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sent) }

type nrig struct {
	ses     *sesFake
	cust    customers
	handler *notify.Handler
	logs    *bytes.Buffer
	whmcs   *whmcstest.Server
	cases   *notify.MemoryCases
}

type rigOpts struct {
	tickets bool
	ledger  bool
	sealer  kyc.Sealer
}

func newNotifyRig(t *testing.T, o rigOpts) *nrig {
	t.Helper()
	s := sealer{}
	contact, _ := s.Seal(context.Background(), "1001", []byte(address))
	cust := customers{
		"1001": {ID: "1001", Language: kyc.LangChinese, Contact: &contact},
		"1002": {ID: "1002"}, // no contact, no language
	}
	if o.sealer == nil {
		o.sealer = s
	}
	r := &nrig{ses: &sesFake{}, cust: cust, logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(r.logs, nil))
	renderer, _ := notify.NewRenderer(portal)
	mailer, err := notify.NewSES(r.ses, "kyc@provider.example", "support@provider.example")
	if err != nil {
		t.Fatal(err)
	}
	c := notify.Config{Customers: cust, Sealer: o.sealer, Mailer: mailer, Renderer: renderer, Log: log}
	if o.ledger {
		c.SentEmail, c.SentTicket = ledgertest.NewMemory(), ledgertest.NewMemory()
	}
	if o.tickets {
		r.whmcs = whmcstest.NewServer(whmcs.Credentials{Identifier: "id", Secret: "secret"})
		r.whmcs.AddService(whmcstest.Service{ID: 9001, ClientID: 1001, Status: whmcs.StatusPending})
		r.whmcs.AddClient(1002)
		r.whmcs.AddDepartment(4)
		srv := httptest.NewServer(r.whmcs)
		t.Cleanup(srv.Close)
		client, _ := whmcs.New(srv.URL+"/includes/api.php", whmcs.Credentials{Identifier: "id", Secret: "secret"}, whmcs.Options{})
		r.cases = notify.NewMemoryCases()
		tk, err := notify.NewWHMCSTickets(client, "4", "kyc-gate", r.cases)
		if err != nil {
			t.Fatal(err)
		}
		c.Tickets = tk
	}
	n, err := notify.New(c)
	if err != nil {
		t.Fatal(err)
	}
	r.handler = notify.NewHandler(n)
	return r
}

func envelope(tb testing.TB, e kyc.Event) string {
	tb.Helper()
	detail, _ := json.Marshal(e)
	b, _ := json.Marshal(events.EventBridgeEvent{Version: "0", ID: "eb-" + e.ID, DetailType: string(e.Type),
		Source: contract.SourceKYC, Time: e.At, Region: "us-east-1", Detail: detail})
	return string(b)
}

func (r *nrig) deliver(t *testing.T, evs ...kyc.Event) []string {
	t.Helper()
	var b events.SQSEvent
	for _, e := range evs {
		b.Records = append(b.Records, events.SQSMessage{MessageId: "m-" + e.ID, Body: envelope(t, e)})
	}
	resp, err := r.handler.Handle(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// noPersonalData checks the logs never carry the address or texts.
func (r *nrig) noPersonalData(t *testing.T) {
	t.Helper()
	l := r.logs.String()
	for _, s := range []string{address, "customer.1001", "clearer scan", "Please upload"} {
		if strings.Contains(l, s) {
			t.Fatalf("logs carry %q:\n%s", s, l)
		}
	}
}

func TestEmailInCustomersLanguage(t *testing.T) {
	r := newNotifyRig(t, rigOpts{})
	if failed := r.deliver(t, rejected()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	if r.ses.count() != 1 {
		t.Fatalf("%d e-mails", r.ses.count())
	}
	in := r.ses.sent[0]
	if got := in.Destination.ToAddresses; len(got) != 1 || got[0] != address {
		t.Fatalf("to %v", got)
	}
	if *in.FromEmailAddress != "kyc@provider.example" || len(in.ReplyToAddresses) != 1 || in.ReplyToAddresses[0] != "support@provider.example" {
		t.Fatalf("from %v reply-to %v", *in.FromEmailAddress, in.ReplyToAddresses)
	}
	simple := in.Content.Simple
	if *simple.Subject.Data != "您的身份驗證需要您處理" || *simple.Subject.Charset != "UTF-8" {
		t.Fatalf("subject %q (customer language zh-Hant)", *simple.Subject.Data)
	}
	text, htmlBody := *simple.Body.Text.Data, *simple.Body.Html.Data
	for _, p := range []string{"文件模糊或無法辨認。", "我們職員的訊息", "***", portal} {
		if !strings.Contains(text, p) {
			t.Errorf("text lacks %q", p)
		}
	}
	if strings.Contains(text, "Hello") || !strings.Contains(htmlBody, `lang="zh-Hant"`) {
		t.Errorf("not Chinese only")
	}
	assertSafe(t, notify.Message{Subject: *simple.Subject.Data, Text: text, HTML: htmlBody})
	r.noPersonalData(t)
	if !strings.Contains(r.logs.String(), `"eventId":"sub-77:rejected"`) {
		t.Errorf("logs lack the event id:\n%s", r.logs)
	}
}

func TestEventLanguageWinsAndUnknownGetsBoth(t *testing.T) {
	r := newNotifyRig(t, rigOpts{})
	e := verifiedEvent()
	e.Language = kyc.LangEnglish
	if failed := r.deliver(t, e); len(failed) != 0 {
		t.Fatal(failed)
	}
	if s := *r.ses.sent[0].Content.Simple.Subject.Data; s != "Your identity has been verified" {
		t.Fatalf("subject %q, want the event's language (en)", s)
	}
	// A customer with neither language gets both: customer 1001 without language.
	c := r.cust["1001"]
	c.Language = ""
	r.cust["1001"] = c
	if failed := r.deliver(t, expiring()); len(failed) != 0 {
		t.Fatal(failed)
	}
	if s := *r.ses.sent[1].Content.Simple.Subject.Data; !strings.Contains(s, "expires on") || !strings.Contains(s, "到期") {
		t.Fatalf("subject %q, want both languages", s)
	}
}

func TestSkippedNotices(t *testing.T) {
	r := newNotifyRig(t, rigOpts{})
	noContact := verifiedEvent()
	noContact.CustomerID = "1002"
	unknown := verifiedEvent()
	unknown.CustomerID = "9999"
	command := kyc.Event{Type: kyc.ServiceProvisionRequested, ID: "o-1:provision", CustomerID: "1001", ServiceID: "9001"}
	if failed := r.deliver(t, noContact, unknown, command); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if r.ses.count() != 0 {
		t.Fatalf("%d e-mails sent", r.ses.count())
	}
	l := r.logs.String()
	for _, p := range []string{"no contact address", "no customer record", "not a customer notice"} {
		if !strings.Contains(l, p) {
			t.Errorf("logs lack %q:\n%s", p, l)
		}
	}
}

func TestFailuresAreRetried(t *testing.T) {
	t.Run("sealer", func(t *testing.T) {
		r := newNotifyRig(t, rigOpts{sealer: sealer{fail: errors.New("kms throttled")}})
		if failed := r.deliver(t, verifiedEvent()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
	})
	t.Run("ses error carries only its code", func(t *testing.T) {
		r := newNotifyRig(t, rigOpts{ledger: true})
		r.ses.fail = &smithy.GenericAPIError{Code: "MessageRejected", Message: "Email address is not verified: " + address}
		if failed := r.deliver(t, verifiedEvent()); len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		if !strings.Contains(r.logs.String(), "MessageRejected") {
			t.Fatalf("logs:\n%s", r.logs)
		}
		r.noPersonalData(t)
		// Fixed: the retry sends.
		r.ses.fail = nil
		if failed := r.deliver(t, verifiedEvent()); len(failed) != 0 {
			t.Fatalf("retry failed %v", failed)
		}
		if r.ses.count() != 1 {
			t.Fatalf("%d e-mails", r.ses.count())
		}
	})
	t.Run("malformed message", func(t *testing.T) {
		r := newNotifyRig(t, rigOpts{})
		resp, _ := r.handler.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "x", Body: "nope"}}})
		if len(resp.BatchItemFailures) != 1 {
			t.Fatalf("%v", resp.BatchItemFailures)
		}
	})
}

func TestDuplicateEventSendsOnce(t *testing.T) {
	r := newNotifyRig(t, rigOpts{ledger: true, tickets: true})
	if failed := r.deliver(t, requested(), requested()); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	if failed := r.deliver(t, requested()); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if r.ses.count() != 1 || len(r.whmcs.Tickets()) != 1 {
		t.Fatalf("%d e-mails, %d tickets; want one of each", r.ses.count(), len(r.whmcs.Tickets()))
	}
	// Without a record of sent notices, delivery is at least once.
	r2 := newNotifyRig(t, rigOpts{})
	r2.deliver(t, requested(), requested())
	if r2.ses.count() != 2 {
		t.Fatalf("without a ledger: %d e-mails", r2.ses.count())
	}
}
