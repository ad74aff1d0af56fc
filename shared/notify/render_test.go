package notify_test

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/notify"
)

const portal = "https://portal.example.com/login?next=%2Fkyc&lang=auto"

func renderer(tb testing.TB) *notify.Renderer {
	tb.Helper()
	r, err := notify.NewRenderer(portal)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

var (
	at       = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	deadline = at.Add(72 * time.Hour)
	verified = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	expires  = kyc.VerificationExpiry(verified)
)

// sample events of each notice type.
func requested() kyc.Event {
	return kyc.Event{Type: kyc.KycRequested, ID: "ord-5001:kyc-requested", At: at, CustomerID: "1001",
		OrderID: "ord-5001", ServiceID: "9001", ProductID: "kyc-vps", Deadline: &deadline}
}

func rejected() kyc.Event {
	return kyc.Event{Type: kyc.KycRejected, ID: "sub-77:rejected", At: at, CustomerID: "1001", SubmissionID: "sub-77",
		Reasons: []kyc.ReasonCode{"unreadable", "too_old"},
		Documents: []kyc.DocVerdict{
			{Category: kyc.Identity, Type: kyc.Passport, Result: kyc.ResultResubmit, Reasons: []kyc.ReasonCode{"unreadable"}},
			{Category: kyc.Address, Result: kyc.ResultResubmit, Reasons: []kyc.ReasonCode{"too_old"}},
		},
		CustomerMessage: "Please upload a clearer scan of passport K12345678; see https://evil.example/upload or www.example.org.\nThanks!"}
}

func verifiedEvent() kyc.Event {
	return kyc.Event{Type: kyc.KycVerified, ID: "sub-78:verified", At: verified, CustomerID: "1001", VerifiedAt: &verified, ExpiresAt: &expires}
}

func expiring() kyc.Event {
	return kyc.Event{Type: kyc.KycExpiring, ID: "1001:expiring:x", At: at, CustomerID: "1001", VerifiedAt: &verified, ExpiresAt: &expires}
}

func expired() kyc.Event {
	return kyc.Event{Type: kyc.KycExpired, ID: "1001:expired:x", At: at, CustomerID: "1001", VerifiedAt: &verified, ExpiresAt: &expires}
}

func allNotices() []kyc.Event {
	return []kyc.Event{requested(), rejected(), verifiedEvent(), expiring(), expired()}
}

// htmlText is an HTML body's text: tags dropped, entities decoded.
func htmlText(s string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, ""))
}

var linkRe = regexp.MustCompile(`(?i)(?:https?://|www\.)[^\s"'<>）)]*`)

// assertSafe checks what every notice must satisfy: no image, no document
// number, and no link but the portal's.
func assertSafe(t *testing.T, m notify.Message) {
	t.Helper()
	for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": html.UnescapeString(m.HTML)} {
		for _, l := range linkRe.FindAllString(s, -1) {
			if l != portal {
				t.Errorf("%s carries link %q; only the portal %q is allowed", part, l, portal)
			}
		}
		if strings.Contains(s, "K12345678") {
			t.Errorf("%s carries a document number", part)
		}
	}
	lower := strings.ToLower(m.HTML)
	for _, bad := range []string{"<img", "<script", "background=", "url(", "data:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(m.HTML, -1)
	if len(hrefs) == 0 {
		t.Error("HTML has no portal link")
	}
	for _, h := range hrefs {
		if html.UnescapeString(h[1]) != portal {
			t.Errorf("HTML links to %q", h[1])
		}
	}
	if !strings.Contains(m.Text, portal) {
		t.Error("text part lacks the portal URL")
	}
}

func TestEveryNoticeRendersInBothLanguages(t *testing.T) {
	r := renderer(t)
	// Key phrases per type and language: the subject and what the body must say.
	phrases := map[kyc.EventType]map[string][]string{
		kyc.KycRequested: {
			kyc.LangEnglish: {"Action needed: verify your identity for order ord-5001", "2026-11-27 10:00 UTC", "within 3 days of this notice", "the 3 days stop", "suspend it right away",
				"Government-issued photo ID", "Passport and other travel documents", "Utility bill (Water, Electricity, Gas", "Tax return", "2 years"},
			kyc.LangChinese: {"需要您處理：請為訂單 ord-5001 完成身份驗證", "2026-11-27 10:00 UTC", "本通知發出後 3 天內", "暫停計算", "立即暫停",
				"政府發布的帶有照片的證件", "護照或者其他旅行證件", "水電費帳單（水、電、氣", "報稅表", "2 年"},
		},
		kyc.KycRejected: {
			kyc.LangEnglish: {"Your identity verification needs your attention", "Passport and other travel documents: please upload a new document",
				"The document is blurry or cannot be read.", "more than three months old", "Message from our staff", "Please upload a clearer scan of passport ***"},
			kyc.LangChinese: {"您的身份驗證需要您處理", "護照或者其他旅行證件：請重新上傳文件", "文件模糊或無法辨認。", "已超過三個月", "我們職員的訊息"},
		},
		kyc.KycVerified: {
			kyc.LangEnglish: {"Your identity has been verified", "on 2026-11-25", "until 2028-11-25"},
			kyc.LangChinese: {"您的身份已通過驗證", "已於 2026-11-25", "有效至 2028-11-25"},
		},
		kyc.KycExpiring: {
			kyc.LangEnglish: {"Your identity verification expires on 2028-11-25", "existing services are not affected", "You can renew it now", "cannot be used again"},
			kyc.LangChinese: {"您的身份驗證將於 2028-11-25 到期", "現有的服務不受影響", "您現在即可續期", "不可再次使用"},
		},
		kyc.KycExpired: {
			kyc.LangEnglish: {"Your identity verification has expired", "expired on 2028-11-25"},
			kyc.LangChinese: {"您的身份驗證已到期", "已於 2028-11-25"},
		},
	}
	for _, e := range allNotices() {
		for _, lang := range notify.Languages {
			t.Run(string(e.Type)+"/"+lang, func(t *testing.T) {
				m, err := r.Render(e, []string{lang})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range phrases[e.Type][lang] {
					if !strings.Contains(m.Subject+"\n"+m.Text, p) {
						t.Errorf("text lacks %q:\n%s\n%s", p, m.Subject, m.Text)
					}
					if !strings.Contains(htmlText(m.Subject+m.HTML), p) {
						t.Errorf("HTML lacks %q", p)
					}
				}
				// One language only: none of the other's key phrases.
				other := kyc.LangChinese
				if lang == kyc.LangChinese {
					other = kyc.LangEnglish
				}
				if p := phrases[e.Type][other][0]; strings.Contains(m.Text, p) || strings.Contains(m.Subject, p) {
					t.Errorf("%s notice carries the %s subject %q", lang, other, p)
				}
				if !strings.Contains(m.HTML, `lang="`+lang+`"`) {
					t.Errorf("HTML not marked lang=%s", lang)
				}
				assertSafe(t, m)
			})
		}
	}
}

func TestUnknownLanguageGetsBoth(t *testing.T) {
	r := renderer(t)
	for _, lang := range []string{"", "fr", "zh-Hans"} {
		m, err := r.Render(requested(), notify.LanguagesFor(lang))
		if err != nil {
			t.Fatal(err)
		}
		en, zh := strings.Index(m.Text, "Thank you for your order"), strings.Index(m.Text, "感謝您的訂單")
		if en < 0 || zh < 0 || en > zh {
			t.Fatalf("language %q: want English then Chinese, got positions %d, %d", lang, en, zh)
		}
		if m.Subject != "Action needed: verify your identity for order ord-5001 / 需要您處理：請為訂單 ord-5001 完成身份驗證" {
			t.Fatalf("subject %q", m.Subject)
		}
		if strings.Count(m.HTML, "<hr") != 1 || !strings.Contains(m.HTML, `<div lang="zh-Hant">`) {
			t.Fatalf("HTML parts:\n%s", m.HTML)
		}
		assertSafe(t, m)
	}
	if got := notify.LanguagesFor(kyc.LangChinese); len(got) != 1 || got[0] != kyc.LangChinese {
		t.Fatalf("LanguagesFor(zh-Hant) = %v", got)
	}
}

func TestCustomerMessageIsEscapedInHTML(t *testing.T) {
	e := rejected()
	e.CustomerMessage = `<a href="https://phish.example">click</a> <img src=x onerror=alert(1)> & "quotes"`
	m, err := renderer(t).Render(e, []string{kyc.LangEnglish})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<img") || strings.Contains(m.HTML, `<a href="https://phish`) || strings.Contains(m.HTML, "phish.example") {
		t.Fatalf("reviewer markup reached the HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;") {
		t.Fatalf("markup not escaped:\n%s", m.HTML)
	}
	assertSafe(t, m)
}

func TestRejectionWithoutDocumentsListsReasons(t *testing.T) {
	e := rejected()
	e.Documents, e.CustomerMessage = nil, ""
	e.Reasons = []kyc.ReasonCode{"altered", "no-such-code"}
	m, err := renderer(t).Render(e, []string{kyc.LangEnglish})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"The document appears to have been altered.", "Please read the message from our staff."} {
		if !strings.Contains(m.Text, p) || !strings.Contains(htmlText(m.HTML), p) {
			t.Errorf("lacks %q:\n%s", p, m.Text)
		}
	}
	if strings.Contains(m.Text, "Message from our staff") {
		t.Error("an empty staff message is announced")
	}
}

func TestSanitizeMessage(t *testing.T) {
	cases := map[string]string{
		"Your ID A123456(7) is blurry":             "Your ID ***(7) is blurry",
		"See https://x.example/a?b=c for details":  "See […] for details",
		"Visit www.example.com now":                "Visit […] now",
		"ftp://files.example/x":                    "[…]",
		"證件號碼 K12345678 不清楚":                       "證件號碼 *** 不清楚",
		"Tax return for 2025, page 2 of 3":         "Tax return for 2025, page 2 of 3",
		"Call +852 9123 4567":                      "Call +852 9123 4567", // short groups stay; phone numbers are not documents
		"line1\x00\x1b[31m\nline2":                 "line1[31m\nline2",
		"  padded  ":                               "padded",
		"javascript:alert(1) and data:text/html,x": "javascript:alert(1) and data:text/html,x",
	}
	for in, want := range cases {
		if got := notify.SanitizeMessage(in); got != want {
			t.Errorf("SanitizeMessage(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("字", notify.MaxMessageRunes+50)
	if got := []rune(notify.SanitizeMessage(long)); len(got) != notify.MaxMessageRunes+1 {
		t.Errorf("long message kept %d runes", len(got))
	}
}

func TestRendererRejects(t *testing.T) {
	for _, u := range []string{"", "portal.example.com", "javascript:alert(1)", "https://user:pw@portal.example.com"} {
		if _, err := notify.NewRenderer(u); err == nil {
			t.Errorf("portal %q accepted", u)
		}
	}
	r := renderer(t)
	if _, err := r.Render(kyc.Event{Type: kyc.ServiceProvisionRequested}, notify.Languages); err == nil {
		t.Error("service command rendered as a notice")
	}
	if _, err := r.Render(requested(), []string{"fr"}); err == nil {
		t.Error("unknown language rendered")
	}
}

// TestTimesAreShownInTheServiceRegionsTimeZone: customer-facing times are in
// the service region's time zone with UTC beside them (SPEC amended
// 2026-12-03); an event without a zone shows UTC.
func TestTimesAreShownInTheServiceRegionsTimeZone(t *testing.T) {
	r := renderer(t)
	for _, tt := range []struct {
		zone, lang, want string
	}{
		{"Asia/Hong_Kong", kyc.LangEnglish, "2026-11-27 18:00 (Asia/Hong_Kong; 2026-11-27 10:00 UTC)"},
		{"Asia/Taipei", kyc.LangEnglish, "2026-11-27 18:00 (Asia/Taipei; 2026-11-27 10:00 UTC)"},
		{"Asia/Hong_Kong", kyc.LangChinese, "2026-11-27 18:00（Asia/Hong_Kong 時間；UTC 2026-11-27 10:00）"},
		{"", kyc.LangEnglish, "2026-11-27 10:00 UTC"},
		{"Not/AZone", kyc.LangEnglish, "2026-11-27 10:00 UTC"},
	} {
		for _, e := range []kyc.Event{requested(), rejected()} {
			e.Deadline, e.TimeZone = &deadline, tt.zone
			m, err := r.Render(e, []string{tt.lang})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Text, tt.want) || !strings.Contains(htmlText(m.HTML), tt.want) {
				t.Errorf("%s in %q (%s): lacks %q:\n%s", e.Type, tt.zone, tt.lang, tt.want, m.Text)
			}
		}
	}
}

// TestRejectionTellsTheNewDeadline: the rejection notice says until when the
// customer may send new documents (the time left, counted from the
// decision), and says nothing of a deadline when no order waits.
func TestRejectionTellsTheNewDeadline(t *testing.T) {
	r := renderer(t)
	e := rejected()
	e.Deadline, e.TimeZone = &deadline, "Asia/Hong_Kong"
	for lang, want := range map[string]string{kyc.LangEnglish: "Please send new documents by 2026-11-27 18:00", kyc.LangChinese: "請於 2026-11-27 18:00"} {
		m, err := r.Render(e, []string{lang})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, want) || !strings.Contains(htmlText(m.HTML), want) {
			t.Errorf("%s: lacks %q:\n%s", lang, want, m.Text)
		}
	}
	m, err := r.Render(rejected(), []string{kyc.LangEnglish})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "send new documents by") {
		t.Errorf("a deadline without one:\n%s", m.Text)
	}
}

// TestRequestedWhileInReview: a customer whose documents already wait for
// review is told so, not asked for documents again.
func TestRequestedWhileInReview(t *testing.T) {
	r := renderer(t)
	e := requested()
	e.Reviewing = true
	for lang, want := range map[string][]string{
		kyc.LangEnglish: {"Order ord-5001: your documents are being reviewed", "nothing you need to do now", "3 days from their decision"},
		kyc.LangChinese: {"訂單 ord-5001：您的文件正在審核中", "無須採取任何行動", "由其決定起計 3 天"},
	} {
		m, err := r.Render(e, []string{lang})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range want {
			if !strings.Contains(m.Subject+"\n"+m.Text, p) || !strings.Contains(htmlText(m.Subject+m.HTML), p) {
				t.Errorf("%s: lacks %q:\n%s\n%s", lang, p, m.Subject, m.Text)
			}
		}
		for _, asking := range []string{"upload one document from each", "從以下兩類文件中各上傳一份", "Passport and other travel documents", "護照"} {
			if strings.Contains(m.Text, asking) || strings.Contains(m.HTML, asking) {
				t.Errorf("%s: the notice asks for documents again (%q)", lang, asking)
			}
		}
		assertSafe(t, m)
	}
}
