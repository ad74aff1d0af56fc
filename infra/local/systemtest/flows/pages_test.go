package flows

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/signin/signintest"
	"github.com/kycgate/kycgate/shared/web/webtest"
	"github.com/kycgate/kycgate/shared/wiring"
)

// pages is the pages of the two API functions, built as Lambda builds them
// from the deployed stack's environment, with a sign-in key and a staff
// issuer of the test's own (the stack leaves them to the operator).
type pages struct {
	s      *sys
	srv    *httptest.Server
	signer signintest.Signer
	issuer *webtest.Issuer
}

func newPages(t *testing.T, s *sys) *pages {
	t.Helper()
	p := &pages{s: s, signer: signintest.NewEd25519(t, "k1")}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	fn := s.st.Functions[contract.FunctionAdminAPI]
	p.issuer = webtest.NewIssuer(t, fn.Env[contract.EnvOIDCClientID])
	keys := `[{"kid":"k1","alg":"EdDSA","publicKey":` + jsonString(p.signer.PEM) + `}]`
	over := map[string]string{contract.EnvPublicURL: p.srv.URL, contract.EnvSigninKeys: keys,
		contract.EnvSigninAudience: p.srv.URL + "/verify", contract.EnvOIDCIssuer: p.issuer.URL}
	h := wiring.Host{Clock: s.clock.Now, Auth: s.verifier}
	for _, name := range []string{contract.FunctionCustomerAPI, contract.FunctionAdminAPI} {
		env := s.st.Functions[name].Env
		def, _ := wiring.Lookup(name)
		f, err := def.Build(context.Background(), func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return env[k]
		}, s.c, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range contract.PageRoutesOf(name) {
			mux.Handle(r.Pattern, f.HTTP)
		}
	}
	return p
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// token is a billing-system sign-in token for a customer.
func (p *pages) token(sub string, mutate ...func(jwt.MapClaims)) string {
	c := jwt.MapClaims{"iss": "whmcs", "aud": p.srv.URL + "/verify", "sub": sub, "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Minute).Unix(), "jti": signintest.JTI(p.s.t)}
	for _, m := range mutate {
		m(c)
	}
	return p.signer.Sign(p.s.t, c, nil)
}

// request sends a page request with the given cookies and headers; a POST
// is same-origin unless hdr says otherwise.
func (p *pages) request(method, path string, form url.Values, cookies map[string]string, hdr map[string]string) resp {
	p.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", p.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for k, v := range cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		p.s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b, header: res.Header}
}

func cookiesOf(r resp) map[string]string {
	out := map[string]string{}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		out[c.Name] = c.Value
	}
	return out
}

// customer signs a customer in and returns their cookies.
func (p *pages) customer(sub string) map[string]string {
	p.s.t.Helper()
	r := p.request(http.MethodPost, "/verify/signin", url.Values{"token": {p.token(sub)}}, nil, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if r.status != http.StatusSeeOther || cookiesOf(r)["__Host-kyc-verify"] == "" {
		p.s.t.Fatalf("customer sign-in: %d %s", r.status, r.body)
	}
	return cookiesOf(r)
}

// staff signs a staff member in through the console's OIDC flow.
func (p *pages) staff(sub string, groups ...string) map[string]string {
	p.s.t.Helper()
	start := p.request(http.MethodGet, "/console/signin", nil, nil, nil)
	p.issuer.SignIn(webtest.Person{Subject: sub, Groups: groups})
	cb, _ := url.Parse(p.issuer.Authorize(p.s.t, start.header.Get("Location")))
	r := p.request(http.MethodGet, cb.RequestURI(), nil, cookiesOf(start), nil)
	if r.status != http.StatusSeeOther || cookiesOf(r)["__Host-kyc-console"] == "" {
		p.s.t.Fatalf("staff sign-in: %d %s", r.status, r.body)
	}
	return cookiesOf(r)
}

// The pages' bad-input table, on the whole system: forged and replayed
// sign-in tokens, a customer's session on the console, cross-origin posts,
// another customer's ids. Each is refused with a clear answer and leaves
// the table as it was.
func TestPagesBadInput(t *testing.T) {
	emulator.Integration(t)
	s := newSys(t)
	p := newPages(t, s)
	s.order("5101", "3001", "kyc-vps", s.clock.Now().Add(-time.Hour))
	mine := p.customer("3001")
	theirs := s.uploaded("3002", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	theirAddr := s.uploaded("3002", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("3002"), map[string]string{"identityDocumentId": theirs, "addressDocumentId": theirAddr}, &rec)
	reviewer := p.staff("staff-7", contract.GroupReviewers)
	used := p.token("3001")
	if r := p.request(http.MethodPost, "/verify/signin", url.Values{"token": {used}}, nil, nil); r.status != http.StatusSeeOther {
		t.Fatalf("a good token: %d", r.status)
	}
	other := signintest.NewEd25519(t, "k1") // another key under the configured kid: a forgery
	forged := other.Sign(t, jwt.MapClaims{"iss": "whmcs", "aud": p.srv.URL + "/verify", "sub": "3001", "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Minute).Unix(), "jti": signintest.JTI(t)}, nil)
	customerOnConsole := map[string]string{"__Host-kyc-console": mine["__Host-kyc-verify"]}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}

	before := s.snapshot()
	for _, tt := range []struct {
		name    string
		method  string
		path    string
		form    url.Values
		cookies map[string]string
		hdr     map[string]string
		status  int
		code    string // for the pages' JSON answers
		notSays string
	}{
		{"forged sign-in token", "POST", "/verify/signin", url.Values{"token": {forged}}, nil, nil, 401, "", ""},
		{"replayed sign-in token", "POST", "/verify/signin", url.Values{"token": {used}}, nil, nil, 401, "", ""},
		{"expired sign-in token", "POST", "/verify/signin", url.Values{"token": {p.token("3001", func(c jwt.MapClaims) {
			c["iat"], c["exp"] = time.Now().Add(-10*time.Minute).Unix(), time.Now().Add(-9*time.Minute).Unix()
		})}}, nil, nil, 401, "", ""},
		{"sign-in token for another audience", "POST", "/verify/signin", url.Values{"token": {p.token("3001", func(c jwt.MapClaims) { c["aud"] = "https://other.example/verify" })}}, nil, nil, 401, "", ""},
		{"sign-in token in the URL", "GET", "/verify/signin?token=" + p.token("3001"), nil, nil, nil, 405, "", ""},
		{"sign-in token as JSON", "POST", "/verify/signin", nil, nil, map[string]string{"Content-Type": "application/json"}, 400, "", ""},
		{"a customer's session on the console", "GET", "/console/queue", nil, customerOnConsole, nil, 401, "", rec.SubmissionID},
		{"a customer's session claims", "POST", "/console/submissions/" + rec.SubmissionID + "/claim", url.Values{}, customerOnConsole, nil, 401, "", ""},
		{"a customer's session on a customer page of the console", "GET", "/console/customers/3002", nil, customerOnConsole, nil, 401, "", "Audit trail"},
		{"a forged session", "GET", "/verify/documents/" + theirs, nil, map[string]string{"__Host-kyc-verify": "AAAA" + mine["__Host-kyc-verify"][4:]}, nil, 401, "unauthorized", ""},
		{"cross-origin upload form", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"image/jpeg"}, "size": {"10"}}, mine, crossSite, 403, "", ""},
		{"cross-origin submission", "POST", "/verify/submit", url.Values{"identity": {theirs}, "address": {theirAddr}}, mine, crossSite, 403, "", ""},
		{"cross-origin claim", "POST", "/console/submissions/" + rec.SubmissionID + "/claim", url.Values{}, reviewer, crossSite, 403, "", ""},
		{"cross-origin decision", "POST", "/console/submissions/" + rec.SubmissionID + "/decision", url.Values{"identity": {"approve"}, "address": {"approve"}, "version": {"1"}}, reviewer, crossSite, 403, "", ""},
		{"another customer's document", "GET", "/verify/documents/" + theirs, nil, mine, nil, 404, "document_not_found", ""},
		{"another customer's documents submitted", "POST", "/verify/submit", url.Values{"identity": {theirs}, "address": {theirAddr}}, mine, nil, 404, "", ""},
		{"an unknown document type", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"selfie"}, "contentType": {"image/jpeg"}, "size": {"10"}}, mine, nil, 422, "unknown_type", ""},
		{"HTML declared as a document", "POST", "/verify/documents", url.Values{"category": {"identity"}, "type": {"passport"}, "contentType": {"text/html"}, "size": {"10"}}, mine, nil, 422, "unsupported_content_type", ""},
		{"a decision without the claim", "POST", "/console/submissions/" + rec.SubmissionID + "/decision", url.Values{"identity": {"approve"}, "address": {"approve"}, "version": {"1"}}, reviewer, nil, 409, "", ""},
		{"cross-origin check", "POST", "/console/submissions/" + rec.SubmissionID + "/record", url.Values{"docNumber": {"A123456(3)"}, "version": {"1"}}, reviewer, crossSite, 403, "", ""},
		{"a check without the claim", "POST", "/console/submissions/" + rec.SubmissionID + "/record", url.Values{"docNumber": {"A123456(3)"}, "version": {"1"}}, reviewer, nil, 409, "", ""},
		{"a reviewer's second approval", "POST", "/console/submissions/" + rec.SubmissionID + "/second-approval", url.Values{"approve": {"true"}, "version": {"1"}}, reviewer, nil, 403, "", ""},
		{"cross-origin second approval", "POST", "/console/submissions/" + rec.SubmissionID + "/second-approval", url.Values{"approve": {"true"}, "version": {"1"}}, reviewer, crossSite, 403, "", ""},
		{"a reviewer on the disclosures", "POST", "/console/disclosures", url.Values{"customerId": {"3002"}, "authority": {"x"}, "jurisdiction": {"hk"}, "legalReference": {"y"}, "scope": {"documents"}}, reviewer, nil, 403, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := p.request(tt.method, tt.path, tt.form, tt.cookies, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("%d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.code != "" && r.code() != tt.code {
				t.Errorf("code %q, want %q", r.code(), tt.code)
			}
			if tt.notSays != "" && strings.Contains(string(r.body), tt.notSays) {
				t.Errorf("the answer shows %q", tt.notSays)
			}
			// A live session is renewed; no other request gets one.
			live := tt.cookies != nil && (tt.cookies["__Host-kyc-verify"] == mine["__Host-kyc-verify"] && mine["__Host-kyc-verify"] != "" ||
				tt.cookies["__Host-kyc-console"] == reviewer["__Host-kyc-console"] && reviewer["__Host-kyc-console"] != "")
			if c := cookiesOf(r); !live && (c["__Host-kyc-verify"] != "" || c["__Host-kyc-console"] != "") {
				t.Errorf("a refused request opened a session")
			}
			if after := s.snapshot(); after != before {
				t.Fatal("the table changed")
			}
		})
	}
}
