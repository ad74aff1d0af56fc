package dev

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/infra/local/dev/localjwt"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/signin"
)

// The local sign-in pieces of the dev server (SPEC §4 `make -s signin`):
//
//   - the billing system's part for customers: a local Ed25519 key whose
//     public half the customer-api trusts (KYC_SIGNIN_KEYS, substituted),
//     and a page that posts a token it signs to POST /verify/signin, as the
//     WHMCS addon's page does;
//   - the staff identity provider's part: an OpenID Connect issuer at
//     /local/oidc (discovery, keys, authorization with a clearly marked
//     local sign-in page, token endpoint checking PKCE), whose URL the
//     admin-api's KYC_OIDC_ISSUER points at;
//   - POST /local/signin {role, sub}: a one-time nonce, and the URL
//     /local/signin/<nonce> that signs that person in. No token is ever in
//     a URL: the nonce only names what the dev server will do once.

// SigninPath is where the local sign-in lives; OIDCPath the local issuer.
const (
	SigninPath = "/local/signin"
	OIDCPath   = "/local/oidc"
	// LocalSigninKID is the kid of the local sign-in key.
	LocalSigninKID = "local-ed25519"
	// LocalSigninIssuer is the "iss" of local sign-in tokens (the WHMCS
	// addon's default).
	LocalSigninIssuer = "whmcs"
	nonceTTL          = 10 * time.Minute
	loginCookie       = "kyc-local-login"
)

//go:embed localpages
var localPages embed.FS

var localTemplates = template.Must(template.ParseFS(localPages, "localpages/*.html"))

// SigninKeyFile is the local sign-in key (Ed25519, PKCS#8 PEM, 0600).
func SigninKeyFile(localDir string) string { return filepath.Join(localDir, "signin", "ed25519.pem") }

// LoadOrCreateSigninKey reads the local sign-in key, creating it on first use.
func LoadOrCreateSigninKey(localDir string) (ed25519.PrivateKey, error) {
	path := SigninKeyFile(localDir)
	if b, err := os.ReadFile(path); err == nil {
		block, _ := pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("%s: not PEM (delete it to get a new one)", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (delete it to get a new one)", path, err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: not an Ed25519 key (delete it to get a new one)", path)
		}
		return ek, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	if err := writePrivate(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	return LoadOrCreateSigninKey(localDir)
}

// SigninKeysJSON is the KYC_SIGNIN_KEYS value of a key (signin.ParseKeys).
func SigninKeysJSON(k ed25519.PrivateKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return "", err
	}
	b, err := json.Marshal([]map[string]string{{"kid": LocalSigninKID, "alg": signin.AlgEdDSA,
		"publicKey": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}})
	return string(b), err
}

// localSignin is the dev server's sign-in state: pending nonces and codes.
type localSignin struct {
	base     string // the dev server's URL
	audience string // the customer-api's sign-in audience
	clientID string // the console's client id
	signKey  ed25519.PrivateKey
	idKey    *rsa.PrivateKey
	now      func() time.Time

	mu     sync.Mutex
	nonces map[string]pending
	codes  map[string]grant
}

type pending struct {
	role, sub string
	until     time.Time
}

type grant struct {
	role, sub, nonce, challenge, redirect, clientID string
	until                                           time.Time
}

func (l *localSignin) issuer() string { return l.base + OIDCPath }

func newNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// take removes and returns a pending nonce.
func (l *localSignin) take(nonce string) (pending, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.nonces[nonce]
	delete(l.nonces, nonce)
	if !ok || l.now().After(p.until) {
		return pending{}, false
	}
	return p, true
}

// routes mounts the local sign-in and the local issuer.
func (l *localSignin) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+SigninPath, l.register)
	mux.HandleFunc("GET "+SigninPath+"/{nonce}", l.open)
	mux.HandleFunc("GET "+SigninPath+"/assets/autopost.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		b, _ := localPages.ReadFile("localpages/autopost.js")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET "+OIDCPath+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"issuer": l.issuer(), "authorization_endpoint": l.issuer() + "/authorize",
			"token_endpoint": l.issuer() + "/token", "jwks_uri": l.issuer() + "/jwks", "response_types_supported": []string{"code"},
			"code_challenge_methods_supported": []string{"S256"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET "+OIDCPath+"/jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": localjwt.KeyID, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(l.idKey.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(l.idKey.E)).Bytes())}}})
	})
	mux.HandleFunc("GET "+OIDCPath+"/authorize", l.authorize)
	mux.HandleFunc("POST "+OIDCPath+"/authorize", l.authorize)
	mux.HandleFunc("POST "+OIDCPath+"/token", l.token)
}

// SigninRequest is what `make -s signin` posts.
type SigninRequest struct {
	Role string `json:"role"`
	Sub  string `json:"sub"`
}

// register records a one-time nonce for a person and answers its URL.
// JSON only: a cross-site form cannot post it.
func (l *localSignin) register(w http.ResponseWriter, r *http.Request) {
	var in SigninRequest
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in) != nil {
		writeError(w, http.StatusBadRequest, "malformed", `want {"role": "customer|reviewer|admin", "sub": "<id>"} as JSON`)
		return
	}
	if _, ok := localjwt.Roles[in.Role]; !ok {
		writeError(w, http.StatusUnprocessableEntity, "unknown_role", "role must be one of "+strings.Join(localjwt.RoleNames(), ", "))
		return
	}
	if !kyc.ValidID(in.Sub) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_sub", "sub: 1-128 letters, digits or . _ : -")
		return
	}
	n := newNonce()
	l.mu.Lock()
	l.nonces[n] = pending{role: in.Role, sub: in.Sub, until: l.now().Add(nonceTTL)}
	l.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"url": l.base + SigninPath + "/" + n})
}

func localHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// open uses a nonce: a customer gets the page that posts a fresh sign-in
// token to /verify/signin; staff go through the console's OpenID Connect
// sign-in, which the local issuer completes for them.
func (l *localSignin) open(w http.ResponseWriter, r *http.Request) {
	p, ok := l.take(r.PathValue("nonce"))
	localHeaders(w)
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_ = localTemplates.ExecuteTemplate(w, "used.html", nil)
		return
	}
	if p.role != "customer" {
		n := newNonce()
		l.mu.Lock()
		l.nonces[n] = pending{role: p.role, sub: p.sub, until: l.now().Add(2 * time.Minute)}
		l.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: n, Path: OIDCPath, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 120})
		http.Redirect(w, r, "/console/signin?next=%2Fconsole", http.StatusSeeOther)
		return
	}
	tok, err := l.customerToken(p.sub)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = localTemplates.ExecuteTemplate(w, "post.html", map[string]string{"Token": tok, "Sub": p.sub})
}

// jti is 128 random bits, base64url (the contract's token id).
func jti() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// customerToken signs a sign-in token as the billing system does (60 s).
func (l *localSignin) customerToken(sub string) (string, error) {
	now := time.Now() // sign-in checks keep real time
	c := jwt.MapClaims{"iss": LocalSigninIssuer, "aud": l.audience, "sub": sub, "iat": now.Unix(),
		"exp": now.Add(60 * time.Second).Unix(), "jti": jti()}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = LocalSigninKID
	return t.SignedString(l.signKey)
}

// authorize is the local issuer's authorization endpoint. With the cookie
// `make -s signin` set, it signs that person in at once; otherwise it shows
// the local sign-in page (clearly marked) where anyone may be anyone.
func (l *localSignin) authorize(w http.ResponseWriter, r *http.Request) {
	localHeaders(w)
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		q = r.PostForm
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("client_id") != l.clientID || !strings.HasPrefix(q.Get("redirect_uri"), l.base+"/console/callback") {
		writeError(w, http.StatusBadRequest, "invalid_request", "want response_type=code, PKCE S256, this client and the console's callback")
		return
	}
	role, sub := "", ""
	if c, err := r.Cookie(loginCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: OIDCPath, MaxAge: -1})
		if p, ok := l.take(c.Value); ok {
			role, sub = p.role, p.sub
		}
	}
	if r.Method == http.MethodPost {
		role, sub = q.Get("role"), q.Get("sub")
	}
	if role == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = localTemplates.ExecuteTemplate(w, "login.html", q)
		return
	}
	if _, ok := localjwt.Roles[role]; !ok || role == "customer" || !kyc.ValidID(sub) {
		writeError(w, http.StatusUnprocessableEntity, "invalid", "role must be reviewer or admin, sub an id")
		return
	}
	code := newNonce()
	l.mu.Lock()
	l.codes[code] = grant{role: role, sub: sub, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		redirect: q.Get("redirect_uri"), clientID: q.Get("client_id"), until: l.now().Add(time.Minute)}
	l.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

// token redeems a code once, with the PKCE verifier, for an ID token.
func (l *localSignin) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	l.mu.Lock()
	g, ok := l.codes[f.Get("code")]
	delete(l.codes, f.Get("code"))
	l.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if !ok || l.now().After(g.until) || f.Get("grant_type") != "authorization_code" || f.Get("client_id") != g.clientID ||
		f.Get("redirect_uri") != g.redirect || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	c := jwt.MapClaims{"iss": l.issuer(), "aud": g.clientID, "sub": g.sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"auth_time": now.Unix(), "nonce": g.nonce, "token_use": "id", "cognito:groups": localjwt.Roles[g.role]}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = localjwt.KeyID
	id, err := t.SignedString(l.idKey)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id_token": id, "token_type": "Bearer", "expires_in": 3600})
}

// localizePages points the pages at the dev server: its URL as their
// origin, its sign-in key as the billing system's, its issuer as the staff
// identity provider's. It changes the functions' environments in st (as
// Localize does) and returns the local sign-in that serves the rest.
func localizePages(ctx context.Context, cfg aws.Config, st *stack.Stack, base, localDir string, idKey *rsa.PrivateKey) (*localSignin, []Substitution, error) {
	var subs []Substitution
	l := &localSignin{base: base, audience: base + "/verify", idKey: idKey, now: time.Now,
		nonces: map[string]pending{}, codes: map[string]grant{}}
	if fn := st.Functions[contract.FunctionCustomerAPI]; fn != nil {
		k, err := LoadOrCreateSigninKey(localDir)
		if err != nil {
			return nil, nil, err
		}
		keys, err := SigninKeysJSON(k)
		if err != nil {
			return nil, nil, err
		}
		l.signKey = k
		if bucket := fn.Env[contract.EnvBucket]; bucket != "" {
			sub, err := allowOrigin(ctx, cfg, bucket, base)
			if err != nil {
				return nil, nil, err
			}
			subs = append(subs, sub)
		}
		why := "the billing system's sign-in key stays in WHMCS; `make -s signin ROLE=customer` signs with the local key " + SigninKeyFile(localDir) + ", which nothing deployed trusts"
		subs = append(subs, override(fn, contract.EnvPublicURL, base, "the pages are served by the dev server"),
			override(fn, contract.EnvSigninKeys, keys, why),
			override(fn, contract.EnvSigninIssuer, LocalSigninIssuer, why),
			override(fn, contract.EnvSigninAudience, l.audience, "the dev server's /verify"))
	}
	if fn := st.Functions[contract.FunctionAdminAPI]; fn != nil {
		l.clientID = fn.Env[contract.EnvOIDCClientID]
		subs = append(subs, override(fn, contract.EnvPublicURL, base, "the pages are served by the dev server"),
			override(fn, contract.EnvOIDCIssuer, l.issuer(), "Cognito's hosted sign-in is not served locally: the dev server is the staff issuer "+
				"(a clearly marked local sign-in page, `make -s signin ROLE=reviewer|admin`), signing with the local key"))
	}
	return l, subs, nil
}

// allowOrigin lets the dev server's pages post uploads to, and read review
// links from, the documents bucket. The template allows the pages' origin
// in AWS (the API's endpoint or publicUrl); locally the pages are the dev
// server's. moto applies every CORS rule to a preflight (not the first that
// matches, as S3 does), so the local rules are merged into one.
func allowOrigin(ctx context.Context, cfg aws.Config, bucket, origin string) (Substitution, error) {
	c := awsenv.S3(cfg)
	merged := s3types.CORSRule{AllowedMethods: []string{"POST", "GET"}, AllowedOrigins: []string{origin},
		AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(3000)}
	if out, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &bucket}); err == nil {
		for _, r := range out.CORSRules {
			merged.AllowedOrigins = append(merged.AllowedOrigins, r.AllowedOrigins...)
		}
	}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &bucket,
		CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{merged}}}); err != nil {
		return Substitution{}, fmt.Errorf("documents bucket CORS: %w", err)
	}
	return Substitution{What: "the documents bucket's CORS allows POST and GET from " + strings.Join(merged.AllowedOrigins, ", ") + " in one rule",
		Why: "the template allows the pages' origin in AWS (the API's endpoint or publicUrl), but locally the pages are the dev server's; " +
			"and moto applies every CORS rule to a preflight rather than the first that matches, so the rules are merged"}, nil
}

// RunningAPI is the URL of the dev server of a local directory, or an error
// that says to start it.
func RunningAPI(localDir string) (string, error) {
	b, err := os.ReadFile(serverFile(localDir))
	if err != nil {
		return "", fmt.Errorf("no local stack is running for %s: start it with make dev", localDir)
	}
	var info serverInfo
	if json.Unmarshal(b, &info) != nil || info.API == "" {
		return "", fmt.Errorf("%s is not a dev server's: start the local stack with make dev", serverFile(localDir))
	}
	return info.API, nil
}
