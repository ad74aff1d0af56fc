// Package webtest holds test doubles for package web: an OpenID Connect
// provider that signs in whoever a test names, checking what a real one
// checks (client, redirect URI, PKCE), for the console's tests.
package webtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is an OpenID Connect provider on an httptest server.
type Issuer struct {
	URL      string
	ClientID string
	Key      *rsa.PrivateKey
	// Next is who the next authorization signs in.
	mu      sync.Mutex
	next    Person
	pending map[string]grant
	// Tokens counts the ID tokens issued.
	Tokens int
}

// Person is who the provider signs in.
type Person struct {
	Subject  string
	Groups   []string
	AuthTime time.Time // zero: now
}

type grant struct {
	person                          Person
	clientID, redirect, nonce, pkce string
}

var key = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// NewIssuer starts a provider for clientID.
func NewIssuer(tb testing.TB, clientID string) *Issuer {
	tb.Helper()
	is := &Issuer{ClientID: clientID, Key: key, pending: map[string]grant{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	is.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "authorization_endpoint": is.URL + "/authorize",
			"token_endpoint": is.URL + "/token", "jwks_uri": is.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(is.Key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(is.Key.E)).Bytes())}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		is.mu.Lock()
		g, ok := is.pending[r.PostForm.Get("code")]
		delete(is.pending, r.PostForm.Get("code"))
		is.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || g.clientID != r.PostForm.Get("client_id") || g.redirect != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.pkce {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"id_token": is.IDToken(g.person, g.nonce, is.ClientID), "token_type": "Bearer"})
	})
	return is
}

// SignIn sets who the next authorization signs in.
func (is *Issuer) SignIn(p Person) { is.mu.Lock(); is.next = p; is.mu.Unlock() }

// Authorize plays the browser at the provider: it reads the authorization
// request and returns the callback URL with a code for the next person.
func (is *Issuer) Authorize(tb testing.TB, authURL string) string {
	tb.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
		tb.Fatalf("authorization request without PKCE S256 / code: %s", authURL)
	}
	code := base64.RawURLEncoding.EncodeToString(big.NewInt(time.Now().UnixNano()).Bytes())
	is.mu.Lock()
	is.pending[code] = grant{person: is.next, clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"),
		nonce: q.Get("nonce"), pkce: q.Get("code_challenge")}
	is.mu.Unlock()
	cb, _ := url.Parse(q.Get("redirect_uri"))
	cq := url.Values{"code": {code}, "state": {q.Get("state")}}
	cb.RawQuery = cq.Encode()
	return cb.String()
}

// IDToken signs an ID token for a person.
func (is *Issuer) IDToken(p Person, nonce, aud string) string {
	is.mu.Lock()
	is.Tokens++
	is.mu.Unlock()
	at := p.AuthTime
	if at.IsZero() {
		at = time.Now()
	}
	claims := jwt.MapClaims{"iss": is.URL, "aud": aud, "sub": p.Subject, "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix(), "nonce": nonce, "auth_time": at.Unix(), "token_use": "id"}
	if len(p.Groups) > 0 {
		claims["cognito:groups"] = p.Groups
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = "k1"
	s, err := t.SignedString(is.Key)
	if err != nil {
		panic(err)
	}
	return s
}
