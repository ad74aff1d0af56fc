package whmcsaddon

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
)

// holdsOf1001: an order waiting for documents on a Hong Kong server (deadline
// in 2 days 5 hours) and one under review on a Taipei server.
func holdsOf1001(deadline time.Time) customerKYC {
	return customerKYC{CustomerID: "1001", Status: "unverified", Holds: []hold{
		{OrderID: "5001-9001", ServiceID: "9001", ProductID: "kyc-vps", State: "awaiting_kyc", OrderedAt: "2026-11-24T10:00:00Z",
			Deadline: deadline.Format(time.RFC3339), ServerRegion: "hk", TimeZone: "Asia/Hong_Kong"},
		{OrderID: "5009-9009", ServiceID: "9009", ProductID: "kyc-vps", State: "awaiting_review", OrderedAt: "2026-11-20T10:00:00Z",
			ServerRegion: "tw", TimeZone: "Asia/Taipei"},
		{OrderID: "5008-9008", ServiceID: "9008", ProductID: "kyc-vps", State: "cancelled", OrderedAt: "2026-11-01T10:00:00Z",
			ServerRegion: "tw", TimeZone: "Asia/Taipei"},
	}}
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
	g := newFakeGate(t)
	w := newWorld(g)
	deadline := time.Now().UTC().Add(53*time.Hour + 10*time.Minute).Truncate(time.Minute)
	g.setCustomer(holdsOf1001(deadline))
	c := holdsOf1001(deadline)
	c.CustomerID = "1002"
	g.setCustomer(c)
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
		{"zh-Hant", zh, []string{`lang="zh-Hant"`, "未驗證", "等待驗證的訂單", "服務 #9001", "期限", hk, utc,
			"尚餘 2 天 5 小時", "我們正在審核您的文件", "身份證、駕駛執照、護照或者其他旅行證件", "銀行／信用卡對帳單", "立即驗證身份",
			"您的 KYC 工單：#KYC-31", "訂購於 " + localTime(t, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), "Asia/Taipei")}},
		{"en", en, []string{`lang="en"`, "Not verified", "Service #9001", "Deadline", hk, utc, "2 days 5 hours left",
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
		g.setCustomer(customerKYC{CustomerID: "1002", Status: "verified", VerifiedAt: "2026-11-30T04:00:00Z", ExpiresAt: "2028-11-30T04:00:00Z"})
		res := w.run(t, row{"do": "clientarea", "client": 1002})
		var p page
		res.result(0, &p)
		if !strings.Contains(p.HTML, "Verified") || !strings.Contains(p.HTML, "Valid until 2028-11-30") || strings.Contains(p.HTML, "Verify my identity") {
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
	g := newFakeGate(t)
	w := newWorld(g)
	deadline := time.Now().UTC().Add(20*time.Hour + 30*time.Minute + 40*time.Second) // "20 hours 30 minutes" for 40 s
	g.setCustomer(holdsOf1001(deadline))
	g.setCustomer(customerKYC{CustomerID: "1002", Status: "verified"})
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
	g := newFakeGate(t)
	w := newWorld(g)
	g.setCustomer(customerKYC{CustomerID: "1002", Status: "verified"})
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
