package web_test

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/signin/signintest"
	"github.com/kycgate/kycgate/shared/web"
	"github.com/kycgate/kycgate/shared/web/webtest"
)

// clock is the sessions' real time in a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// site is both sets of pages on the in-memory ports, over TLS (the cookies
// are Secure), with a test OIDC provider and a sign-in key.
type site struct {
	t      *testing.T
	w      *kyctest.World
	srv    *httptest.Server
	issuer *webtest.Issuer
	signer signintest.Signer
	guard  *signintest.ReplayGuard
	clock  *clock
	logs   *logBuffer
}

// logBuffer keeps what the pages logged.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

const audience = "https://kyc.test/verify"

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{t: t, w: kyctest.New(t), issuer: webtest.NewIssuer(t, "console-client"), signer: signintest.NewEd25519(t, "k1"),
		guard: signintest.NewReplayGuard(), clock: &clock{t: time.Now()}, logs: &logBuffer{}}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, err := web.NewKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := signin.NewVerifier(signin.Config{Keys: []signin.Key{s.signer.Key}, Issuer: "whmcs", Audience: audience,
		Replay: s.guard})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	cfg := web.Config{PublicURL: s.srv.URL, Keys: keys, Now: s.clock.Now, Log: slog.New(slog.NewTextHandler(s.logs, nil))}
	customer := web.NewCustomerPages(s.w.Service, web.CustomerConfig{Config: cfg, Signin: verifier, FilesOrigin: "https://files.test"})
	console := web.NewConsolePages(s.w.Service, web.ConsoleConfig{Config: cfg, ReviewSLA: 24 * time.Hour, FilesOrigin: "https://files.test",
		OIDC: &web.OIDC{Issuer: s.issuer.URL, ClientID: "console-client", RedirectURL: s.srv.URL + "/console/callback"}})
	for _, r := range contract.Routes {
		switch {
		case r.Auth != contract.AuthPage:
		case r.Function == contract.FunctionCustomerAPI:
			mux.Handle(r.Pattern, customer)
		default:
			mux.Handle(r.Pattern, console)
		}
	}
	return s
}

// browser is a person's browser: its own cookies, redirects not followed.
type browser struct {
	s    *site
	c    *http.Client
	lang string
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *s.srv.Client() // its own copy: the jar is this browser's
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{s: s, c: &c, lang: "en"}
}

// page is an answer.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) has(tb testing.TB, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			tb.Fatalf("page (%d) does not say %q:\n%s", p.status, w, p.body)
		}
	}
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) page {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if !strings.HasPrefix(path, "http") {
		path = b.s.srv.URL + path
	}
	req, _ := http.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", b.lang)
	if method == http.MethodPost { // what a browser sends with a same-origin form
		req.Header.Set("Origin", b.s.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil, nil) }
func (b *browser) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	return b.do(http.MethodPost, path, form, nil)
}

// token is a sign-in token of the billing system for a customer.
func (s *site) token(sub string, mutate ...func(jwt.MapClaims)) string {
	c := jwt.MapClaims{"iss": "whmcs", "aud": audience, "sub": sub, "iat": time.Now().Unix(),
		"exp": time.Now().Add(60 * time.Second).Unix(), "jti": signintest.JTI(s.t)}
	for _, m := range mutate {
		m(c)
	}
	return s.signer.Sign(s.t, c, nil)
}

// customer signs a customer in through POST /verify/signin.
func (s *site) customer(sub string) *browser {
	s.t.Helper()
	b := s.browser()
	p := b.do(http.MethodPost, "/verify/signin", url.Values{"token": {s.token(sub)}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://billing.test"})
	if p.status != http.StatusSeeOther {
		s.t.Fatalf("sign-in: %d %s", p.status, p.body)
	}
	return b
}

// staff signs a staff member in through the console's OIDC flow.
func (s *site) staff(sub string, groups ...string) *browser {
	s.t.Helper()
	b := s.browser()
	s.signInAs(b, webtest.Person{Subject: sub, Groups: groups}, "/console")
	return b
}

func (s *site) signInAs(b *browser, p webtest.Person, next string) page {
	s.t.Helper()
	start := b.get("/console/signin?next=" + url.QueryEscape(next))
	if start.status != http.StatusFound {
		s.t.Fatalf("sign-in start: %d %s", start.status, start.body)
	}
	s.issuer.SignIn(p)
	return b.get(s.issuer.Authorize(s.t, start.header.Get("Location")))
}

// uploaded uploads a valid document of a category as the customer's page
// does: the form from POST /verify/documents, the file to storage, the
// validator on it.
func (s *site) uploaded(b *browser, cat kyc.Category) string {
	s.t.Helper()
	r := kyctest.Request(cat)
	p := b.post("/verify/documents", url.Values{"category": {string(r.Category)}, "type": {string(r.Type)},
		"contentType": {r.ContentType}, "size": {"2048"}})
	if p.status != http.StatusCreated {
		s.t.Fatalf("create document: %d %s", p.status, p.body)
	}
	up := decodeUpload(s.t, p.body)
	v := s.w.Post(up, kyctest.Content(r.ContentType, 2048))
	s.w.Validate(kyc.DocumentKey(customerOf(up), up.DocumentID), v)
	return up.DocumentID
}

func customerOf(up kyc.NewUpload) string {
	k := up.Upload.Fields["key"]
	c, _, _ := kyc.ParseDocumentKey(k)
	return c
}
