package dev

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/signin/signintest"
)

func newLocalSignin(t *testing.T) (*localSignin, *httptest.Server) {
	t.Helper()
	_, sk, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	l := &localSignin{base: srv.URL, audience: srv.URL + "/verify", clientID: "console", signKey: sk, idKey: rk, now: time.Now,
		nonces: map[string]pending{}, codes: map[string]grant{}}
	l.routes(mux)
	return l, srv
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// `make -s signin` asks for a nonce with JSON only, for a known role and a
// valid id; a nonce works once; the customer's page carries a token the
// gate's verifier accepts (the local key, the audience, 60 s).
func TestLocalSigninNonces(t *testing.T) {
	l, srv := newLocalSignin(t)
	post := func(ct, body string) *http.Response {
		res, err := http.Post(srv.URL+SigninPath, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, bad := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "role=customer&sub=1001"},
		{"application/json", `{"role":"owner","sub":"1001"}`},
		{"application/json", `{"role":"customer","sub":"10 01"}`},
		{"application/json", `nope`},
	} {
		if res := post(bad.ct, bad.body); res.StatusCode < 400 {
			t.Errorf("%s %s: %d", bad.ct, bad.body, res.StatusCode)
		}
	}
	res := post("application/json", `{"role":"customer","sub":"1001"}`)
	var out struct{ URL string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusCreated || !strings.HasPrefix(out.URL, srv.URL+SigninPath+"/") {
		t.Fatalf("register: %d %+v %v", res.StatusCode, out, err)
	}
	page, err := http.Get(out.URL)
	if err != nil {
		t.Fatal(err)
	}
	b := new(bytes.Buffer)
	_, _ = b.ReadFrom(page.Body)
	tok := between(b.String(), `name="token" value="`, `"`)
	if page.Header.Get("Cache-Control") != "no-store" || tok == "" || strings.Contains(out.URL, tok) {
		t.Fatalf("page: %s", b)
	}
	pub, _ := SigninKeysJSON(l.signKey)
	keys, err := signin.ParseKeys([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := signin.NewVerifier(signin.Config{Keys: keys, Issuer: LocalSigninIssuer, Audience: l.audience, Replay: signintest.NewReplayGuard()})
	if c, err := v.Verify(t.Context(), tok); err != nil || c.Subject != "1001" || c.ExpiresAt.Sub(c.IssuedAt) != time.Minute {
		t.Fatalf("the local token: %+v %v", c, err)
	}
	if again, _ := http.Get(out.URL); again.StatusCode != http.StatusNotFound {
		t.Fatalf("a nonce used twice: %d", again.StatusCode)
	}
}

// The local issuer: authorization only with PKCE S256, the console's client
// and callback; a code redeemed once, with the right verifier.
func TestLocalIssuerChecksPKCE(t *testing.T) {
	_, srv := newLocalSignin(t)
	verifier := "v-" + strings.Repeat("x", 40)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"console"}, "redirect_uri": {srv.URL + "/console/callback"},
		"state": {"s1"}, "nonce": {"n1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	for _, bad := range []func(url.Values){
		func(v url.Values) { v.Set("code_challenge_method", "plain") },
		func(v url.Values) { v.Set("client_id", "other") },
		func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") },
	} {
		v := url.Values{}
		for k, x := range q {
			v[k] = x
		}
		bad(v)
		if res, _ := noRedirect().Get(srv.URL + OIDCPath + "/authorize?" + v.Encode()); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d", v, res.StatusCode)
		}
	}
	// The local sign-in page, clearly marked.
	res, _ := noRedirect().Get(srv.URL + OIDCPath + "/authorize?" + q.Encode())
	b := new(bytes.Buffer)
	_, _ = b.ReadFrom(res.Body)
	if !strings.Contains(b.String(), "LOCAL DEVELOPMENT ONLY") {
		t.Fatal("the local sign-in page is not marked")
	}
	form := url.Values{"role": {"reviewer"}, "sub": {"staff-7"}}
	for k, v := range q {
		form[k] = v
	}
	res, _ = noRedirect().PostForm(srv.URL+OIDCPath+"/authorize", form)
	loc, _ := url.Parse(res.Header.Get("Location"))
	code := loc.Query().Get("code")
	if res.StatusCode != http.StatusFound || code == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("authorize: %d %s", res.StatusCode, loc)
	}
	redeem := func(v string) int {
		r, _ := http.PostForm(srv.URL+OIDCPath+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"client_id": {"console"}, "redirect_uri": {srv.URL + "/console/callback"}, "code_verifier": {v}})
		return r.StatusCode
	}
	if got := redeem("wrong"); got != http.StatusBadRequest {
		t.Fatalf("a wrong verifier: %d", got)
	}

	// The wrong verifier used the code up; a new one redeems once.
	res, _ = noRedirect().PostForm(srv.URL+OIDCPath+"/authorize", form)
	loc, _ = url.Parse(res.Header.Get("Location"))
	code = loc.Query().Get("code")
	if got := redeem(verifier); got != http.StatusOK {
		t.Fatalf("the right verifier: %d", got)
	}
	if got := redeem(verifier); got != http.StatusBadRequest {
		t.Fatalf("a code redeemed twice: %d", got)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}
