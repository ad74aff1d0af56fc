package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/kyc"
)

// The billing system's token opens a session: a __Host- cookie that is
// Secure, HttpOnly and SameSite, and the page shows the customer's status,
// what is needed and the held order with its deadline in the region's zone.
func TestCustomerSignsInWithTheBillingToken(t *testing.T) {
	s := newSite(t)
	s.w.PlaceOrder("1001", "5001")
	b := s.customer("1001")
	var cookie *http.Cookie
	for _, c := range b.c.Jar.Cookies(mustURL(s.srv.URL)) {
		if c.Name == "__Host-kyc-verify" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	p := b.get("/verify")
	if p.status != http.StatusOK {
		t.Fatalf("GET /verify = %d", p.status)
	}
	p.has(t, "Not verified", "Customer 1001", "Passport and other travel documents", "Utility bill", "5001",
		"HKT", "UTC", "Waiting for your documents")
	set := b.do(http.MethodGet, "/verify", nil, nil).header.Values("Set-Cookie")
	if len(set) == 0 || !strings.Contains(set[0], "__Host-kyc-verify=") || !strings.Contains(set[0], "Secure") ||
		!strings.Contains(set[0], "HttpOnly") || !strings.Contains(set[0], "SameSite=Lax") || !strings.Contains(set[0], "Path=/") ||
		strings.Contains(strings.ToLower(set[0]), "domain=") {
		t.Fatalf("session cookie %q", set)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "connect-src 'self' https://files.test"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, "onclick") {
		t.Error("a page carries inline script or style")
	}
}

// Traditional Chinese from Accept-Language, and by the switch.
func TestCustomerPageInTraditionalChinese(t *testing.T) {
	s := newSite(t)
	s.w.PlaceOrder("1001", "5001")
	b := s.customer("1001")
	b.lang = "zh-TW,zh;q=0.9,en;q=0.5"
	b.get("/verify").has(t, `lang="zh-Hant"`, "未驗證", "護照或者其他旅行證件", "水電費帳單", "等待您的文件")
	b.lang = "en-GB"
	b.get("/verify?lang=zh-Hant").has(t, "身份驗證")
	b.get("/verify").has(t, "身份驗證") // the choice is remembered
	b.get("/verify?lang=en").has(t, "Identity verification")
}

// A forged, replayed, expired or wrongly addressed token opens nothing.
func TestCustomerSignInRefusesBadTokens(t *testing.T) {
	s := newSite(t)
	good := s.token("1001")
	s.browser().do(http.MethodPost, "/verify/signin", url.Values{"token": {good}}, nil)
	other := s.signerOther()
	for _, tt := range []struct {
		name  string
		token string
		extra url.Values
	}{
		{"replayed", good, nil},
		{"forged (another key, same kid)", other, nil},
		{"expired", s.token("1001", func(c jwt.MapClaims) {
			c["iat"] = time.Now().Add(-5 * time.Minute).Unix()
			c["exp"] = time.Now().Add(-3 * time.Minute).Unix()
		}), nil},
		{"another audience", s.token("1001", func(c jwt.MapClaims) { c["aud"] = "https://elsewhere/verify" }), nil},
		{"too long lived", s.token("1001", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() }), nil},
		{"a subject that is no customer id", s.token("10 01"), nil},
		{"no token", "", nil},
		{"two tokens", s.token("1001"), url.Values{"token": {s.token("1001")}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := s.browser()
			form := url.Values{"token": {tt.token}}
			if tt.token == "" {
				form = url.Values{}
			}
			for k, v := range tt.extra {
				form[k] = append(form[k], v...)
			}
			p := b.do(http.MethodPost, "/verify/signin", form, map[string]string{"Sec-Fetch-Site": "cross-site"})
			if p.status == http.StatusSeeOther || len(b.c.Jar.Cookies(mustURL(s.srv.URL))) > 0 {
				t.Fatalf("signed in: %d", p.status)
			}
			if strings.Contains(p.body, tt.token) && tt.token != "" {
				t.Fatal("the page repeats the token")
			}
			if tt.token != "" && strings.Contains(s.logs.String(), tt.token) {
				t.Fatal("the log has the token")
			}
			if !strings.Contains(s.logs.String(), "customer sign-in refused") && tt.token != "" {
				t.Fatal("the refusal is not logged")
			}
		})
	}
}

// The token is taken from a POST body only.
func TestCustomerSignInOnlyByPost(t *testing.T) {
	s := newSite(t)
	p := s.browser().get("/verify/signin?token=" + s.token("1001"))
	if p.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /verify/signin = %d", p.status)
	}
}

// A customer uploads both documents through the page, sees the validator's
// verdict, submits, and the page says they are in review and what follows.
func TestCustomerUploadsAndSubmits(t *testing.T) {
	s := newSite(t)
	s.w.PlaceOrder("1001", "5001")
	b := s.customer("1001")
	b.get("/verify").has(t, "Upload a document", "Upload one identity and one address document")
	id := s.uploaded(b, kyc.Identity)
	st := b.get("/verify/documents/" + id)
	if st.status != http.StatusOK || !strings.Contains(st.body, `"state":"valid"`) {
		t.Fatalf("document state %d %s", st.status, st.body)
	}
	addr := s.uploaded(b, kyc.Address)
	b.get("/verify").has(t, "Uploaded and checked", "Send both documents for review")
	p := b.post("/verify/submit", url.Values{"identity": {id}, "address": {addr}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("submit = %d %s", p.status, p.body)
	}
	b.get("/verify?submitted=1").has(t, "In review", "What happens next", "A reviewer checks both documents", "Paused while we review")
	if st := s.w.Customer("1001"); st.Status != kyc.StatusPendingReview {
		t.Fatalf("customer %s", st.Status)
	}
}

// A refused upload shows why, in the customer's language.
func TestCustomerSeesARefusedUpload(t *testing.T) {
	s := newSite(t)
	b := s.customer("1001")
	html := []byte("<html><script>alert(1)</script></html>")
	p := b.post("/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"image/jpeg"},
		"size": {strconv.Itoa(len(html))}})
	up := decodeUpload(t, p.body)
	v := s.w.Post(up, html)
	s.w.Validate(kyc.DocumentKey("1001", up.DocumentID), v)
	b.lang = "zh-Hant"
	b.get("/verify/documents/"+up.DocumentID).has(t, `"state":"invalid"`, "文件類型與您聲明的不符")
	b.get("/verify").has(t, "被拒絕", "文件類型與您聲明的不符")
}

// Bad input to the page's script endpoints: a clear error, nothing stored.
func TestCustomerPageBadInput(t *testing.T) {
	s := newSite(t)
	b := s.customer("1001")
	other := s.customer("1002")
	theirs := s.uploaded(other, kyc.Identity)
	before := s.w.Store.Snapshot()
	for _, tt := range []struct {
		name   string
		method string
		path   string
		form   url.Values
		hdr    map[string]string
		status int
		code   string
	}{
		{"unknown type", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"selfie"}, "contentType": {"image/jpeg"}, "size": {"10"}}, nil, 422, "unknown_type"},
		{"HTML declared", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"text/html"}, "size": {"10"}}, nil, 422, "unsupported_content_type"},
		{"too large", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"image/jpeg"}, "size": {"999999999"}}, nil, 413, "too_large"},
		{"size not a number", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"image/jpeg"}, "size": {"ten"}}, nil, 422, "invalid_size"},
		{"field twice", "POST", "/verify/documents", url.Values{"category": {"identity", "address"}, "type": {"passport"}, "contentType": {"image/jpeg"}, "size": {"10"}}, nil, 422, "missing_category"},
		{"no session", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"image/jpeg"}, "size": {"10"}}, map[string]string{"Cookie": "__Host-kyc-verify=forged"}, 401, "unauthorized"},
		{"cross-origin post", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"image/jpeg"}, "size": {"10"}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"}, 403, ""},
		{"another customer's document", "GET", "/verify/documents/" + theirs, nil, nil, 404, "document_not_found"},
		{"another customer's document submitted", "POST", "/verify/submit", url.Values{"identity": {theirs}, "address": {theirs + "x"}}, nil, 404, ""},
		{"cross-origin submit", "POST", "/verify/submit", url.Values{"identity": {theirs}, "address": {"x"}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"}, 403, ""},
		{"submit without fields", "POST", "/verify/submit", url.Values{}, nil, 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			br := b
			if tt.hdr["Cookie"] != "" {
				br = s.browser()
			}
			p := br.do(tt.method, tt.path, tt.form, tt.hdr)
			if p.status != tt.status {
				t.Fatalf("%d %s, want %d", p.status, p.body, tt.status)
			}
			if tt.code != "" && !strings.Contains(p.body, `"code":"`+tt.code+`"`) {
				t.Fatalf("body %s, want code %s", p.body, tt.code)
			}
			if after := s.w.Store.Snapshot(); after != before {
				t.Fatal("the records changed")
			}
		})
	}
}

// A session ends after 30 idle minutes.
func TestCustomerSessionIdleExpiry(t *testing.T) {
	s := newSite(t)
	b := s.customer("1001")
	s.clock.Advance(29 * time.Minute)
	b.get("/verify").has(t, "Customer 1001")
	s.clock.Advance(29 * time.Minute) // renewed by the last request
	b.get("/verify").has(t, "Customer 1001")
	s.clock.Advance(31 * time.Minute)
	p := b.get("/verify")
	if strings.Contains(p.body, "Customer 1001") {
		t.Fatal("the session outlived 30 idle minutes")
	}
	p.has(t, "Sign in to verify your identity")
}

// A rejected document shows the reasons and the reviewer's message, in the
// customer's language.
func TestCustomerSeesARejectionInTheirLanguage(t *testing.T) {
	s := newSite(t)
	b := s.customer("1001")
	sub := s.w.Submit("1001")
	in := rejection(s.w.Claim("rev-1", sub).Version)
	s.w.Open("rev-1", sub, kyc.Identity) // an approved document must have been opened
	in.CustomerMessage = "請上載最近三個月的對帳單。"
	s.w.Decide("rev-1", sub, in)
	b.lang = "zh-Hant"
	b.get("/verify").has(t, "需要處理", "對帳單或帳單已超過三個月。", "請上載最近三個月的對帳單。", "職員留言")
	b.lang = "en"
	b.get("/verify").has(t, "Action needed", "The statement or bill is more than three months old.")
}

func rejection(version int) kyc.DecisionInput {
	return kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"}, Address: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"too_old"}}, Version: version}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// signerOther signs with another key under the same kid (a forgery).
func (s *site) signerOther() string {
	other := signintestNew(s.t)
	return other.Sign(s.t, jwt.MapClaims{"iss": "whmcs", "aud": audience, "sub": "1001", "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Minute).Unix(), "jti": "AAAAAAAAAAAAAAAAAAAAAA"}, nil)
}
