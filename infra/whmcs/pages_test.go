package whmcsaddon

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// stageHolds has the gate hold three orders of a customer: one waiting
// for documents on a Hong Kong server whose deadline is deadline (service
// 9001), one under review on a Taipei server (9009: the customer submitted
// in time, the deadline passed), and one cancelled (9008). The customer's
// documents wait for review. prefix makes the order ids (<prefix>001-9001,
// ...). It returns when the order under review was placed.
func stageHolds(g *gate, customer, prefix string, deadline time.Time) time.Time {
	g.t.Helper()
	received := deadline.Add(-kyc.Window)
	placed := received.Add(-80 * time.Hour)
	g.at(placed)
	g.place(order{customer: customer, id: prefix + "009-9009", service: "9009", region: "tw"})
	g.place(order{customer: customer, id: prefix + "008-9008", service: "9008", region: "tw"})
	g.at(placed.Add(time.Hour))
	g.cancel(prefix + "008-9008")
	g.submit(customer)
	g.at(placed.Add(kyc.Window + time.Hour))
	g.sweep() // 9009: awaiting review
	g.at(received)
	g.place(order{customer: customer, id: prefix + "001-9001", service: "9001"})
	if h := g.w.Hold(customer, prefix+"009-9009"); h.State != kyc.AwaitingReview {
		g.t.Fatalf("staging: hold %s", h.State)
	}
	return placed
}

func localTime(t *testing.T, at time.Time, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return at.In(loc).Format("2006-01-02 15:04") + " (" + zone + ")"
}

// TestClientPage: index.php?m=kycgate in both languages: status, what is
// needed, each open hold with its deadline in the service region's time zone
// (UTC beside it) and a countdown, the sign-in button, the KYC ticket.
func TestClientPage(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	deadline := time.Now().UTC().Add(53*time.Hour + 10*time.Minute).Truncate(time.Minute)
	reviewed := stageHolds(g, "1001", "5", deadline)
	stageHolds(g, "1002", "6", deadline)
	res := w.run(t,
		row{"do": "clientarea", "client": 1001},                                        // client's language: Chinese
		row{"do": "clientarea", "client": 1002},                                        // English
		row{"do": "clientarea", "client": 1001, "session": row{"Language": "english"}}, // the session's language wins
	)
	type page struct {
		PageTitle    string            `json:"pagetitle"`
		TemplateFile string            `json:"templatefile"`
		RequireLogin bool              `json:"requirelogin"`
		HTML         string            `json:"html"`
		Breadcrumb   map[string]string `json:"breadcrumb"`
	}
	var zh, en, en2 page
	res.result(0, &zh)
	res.result(1, &en)
	res.result(2, &en2)
	if zh.PageTitle != "身份驗證（KYC）" || en.PageTitle != "Identity verification (KYC)" {
		t.Fatalf("page titles %q, %q", zh.PageTitle, en.PageTitle)
	}
	hk := localTime(t, deadline, "Asia/Hong_Kong")
	utc := deadline.Format("2006-01-02 15:04") + " UTC"
	checks := []struct {
		name string
		p    page
		want []string
	}{
		{"zh-Hant", zh, []string{`lang="zh-Hant"`, "文件審核中", "等待驗證的訂單", "服務 #9001", "期限", hk, utc,
			"尚餘 2 天 5 小時", "我們正在審核您的文件", "身份證、駕駛執照、護照或者其他旅行證件", "銀行／信用卡對帳單", "立即驗證身份",
			"您的 KYC 工單：#KYC-31", "訂購於 " + localTime(t, reviewed, "Asia/Taipei")}},
		{"en", en, []string{`lang="en"`, "Documents under review", "Service #9001", "Deadline", hk, utc, "2 days 5 hours left",
			"The 3-day clock is stopped while we review", "national ID card, driving licence, passport", "Verify my identity"}},
		{"en by session", en2, []string{`lang="en"`, "Verify my identity", "Your KYC ticket: #KYC-31"}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.p.RequireLogin || c.p.TemplateFile != "templates/clientarea" || c.p.Breadcrumb["index.php?m=kycgate"] != c.p.PageTitle {
				t.Fatalf("page %+v", c.p)
			}
			for _, s := range c.want {
				if !strings.Contains(c.p.HTML, html.EscapeString(s)) && !strings.Contains(c.p.HTML, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if strings.Contains(c.p.HTML, "9008") {
				t.Error("a cancelled hold is shown")
			}
			if !regexp.MustCompile(`<form method="post" action="index.php\?m=kycgate&amp;action=signin"[^>]*><input type="hidden" name="token" value="csrf-token-0123456789">`).MatchString(c.p.HTML) {
				t.Errorf("no sign-in form posting with WHMCS's CSRF token:\n%s", c.p.HTML)
			}
			if !strings.Contains(c.p.HTML, `class="kycgate-countdown" data-deadline="`+deadline.Format(time.RFC3339)+`"`) {
				t.Errorf("no countdown element")
			}
			if t.Failed() {
				t.Logf("page:\n%s", c.p.HTML)
			}
		})
	}

	t.Run("verified customer", func(t *testing.T) {
		g.w.Approve("rev-1", g.w.Customer("1002").Pending.ID) // the documents under review pass
		taipei, _ := time.LoadLocation("Asia/Taipei")         // the default region's time zone
		until := kyc.VerificationExpiry(g.w.Now()).In(taipei).Format("2006-01-02")
		res := w.run(t, row{"do": "clientarea", "client": 1002})
		var p page
		res.result(0, &p)
		if !strings.Contains(p.HTML, "Verified") || !strings.Contains(p.HTML, "Valid until "+until) || strings.Contains(p.HTML, "Verify my identity") {
			t.Fatalf("page:\n%s", p.HTML)
		}
	})
	t.Run("gate unreachable", func(t *testing.T) {
		g.setReadsDown(true)
		defer g.setReadsDown(false)
		res := w.run(t, row{"do": "clientarea", "client": 1001})
		var p page
		res.result(0, &p)
		if !strings.Contains(p.HTML, "暫時無法顯示您的驗證狀態") || !strings.Contains(p.HTML, "立即驗證身份") {
			t.Fatalf("page:\n%s", p.HTML)
		}
	})
}

// TestHomePanel: a panel on the client area home page for clients with a
// held order, in their language, with the nearest deadline; none otherwise.
func TestHomePanel(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	deadline := time.Now().UTC().Add(20*time.Hour + 30*time.Minute + 40*time.Second) // "20 hours 30 minutes" for 40 s
	stageHolds(g, "1001", "5", deadline)
	g.verify("1002")
	res := w.run(t, row{"do": "homepage", "client": 1001}, row{"do": "homepage", "client": 1002},
		row{"do": "homepage", "client": 1001, "session": row{"Language": "english"}})
	var zh, none, en map[string]map[string]any
	res.result(0, &zh)
	res.result(1, &none)
	res.result(2, &en)
	p := zh["kycgate"]
	if p == nil || p["label"] != "需要身份驗證" || !strings.Contains(p["bodyHtml"].(string), "有 2 張訂單正等待您的身份驗證") ||
		!strings.Contains(p["bodyHtml"].(string), localTime(t, deadline, "Asia/Hong_Kong")) ||
		!strings.Contains(p["bodyHtml"].(string), "尚餘 20 小時") {
		t.Fatalf("panel %v", p)
	}
	extras, _ := json.Marshal(p["extras"])
	if !strings.Contains(string(extras), `"btn-link":"index.php?m=kycgate"`) {
		t.Fatalf("panel extras %s", extras)
	}
	if len(none) != 0 {
		t.Fatalf("a verified client without holds gets a panel: %v", none)
	}
	if en["kycgate"]["label"] != "Identity verification needed" || !strings.Contains(en["kycgate"]["bodyHtml"].(string), "20 hours 30 minutes left") {
		t.Fatalf("English panel %v", en["kycgate"])
	}
}

// TestCheckoutNotice: an unverified (or not logged-in) client ordering a KYC
// product is told what is needed and that they have 3 days.
func TestCheckoutNotice(t *testing.T) {
	g := newGate(t)
	w := newWorld(g)
	g.verify("1002")
	kycCart := row{"products": []row{{"pid": 40}, {"pid": 12}}}
	res := w.run(t,
		row{"do": "checkoutPage", "cartData": kycCart, "session": row{"Language": "chinese"}},
		row{"do": "checkoutPage", "cartData": kycCart, "client": 1001, "session": row{"Language": "english"}},
		row{"do": "checkoutPage", "cartData": row{"products": []row{{"pid": 40}}}, "client": 1001},
		row{"do": "checkoutPage", "cartData": kycCart, "client": 1002},
		row{"do": "checkoutPage", "cartData": row{}, "client": 1001, "session": row{"cart": row{"products": []row{{"pid": 13}}}}},
	)
	notice := func(i int) string {
		var out []string
		res.result(i, &out)
		return strings.Join(out, "")
	}
	if n := notice(0); !strings.Contains(n, "需要身份驗證") || !strings.Contains(n, "KYC VPS 需要身份驗證（KYC）") || !strings.Contains(n, "3 天") {
		t.Fatalf("Chinese notice: %s", n)
	}
	if n := notice(1); !strings.Contains(n, "KYC VPS requires identity verification (KYC)") || !strings.Contains(n, "you have 3 days") || strings.Contains(n, "Shared hosting") {
		t.Fatalf("English notice: %s", n)
	}
	if n := notice(2); n != "" {
		t.Fatalf("notice for a cart without KYC products: %s", n)
	}
	if n := notice(3); n != "" {
		t.Fatalf("notice for a verified client: %s", n)
	}
	if n := notice(4); !strings.Contains(n, "Dedicated server 需要身份驗證") {
		t.Fatalf("notice from the session's cart: %s", n)
	}
}
