package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// OIDC is the console's OpenID Connect client: authorization code with PKCE
// (S256), as a public client (no client secret: nothing in a Lambda's
// environment could sign staff in). The provider's endpoints and keys are
// read from its discovery document on first use (never at cold start: the
// local issuer is the dev server, which builds the functions before it
// serves), and kept for an hour.
type OIDC struct {
	Issuer   string
	ClientID string
	// RedirectURL is the console's callback, registered with the client.
	RedirectURL string
	// HTTP fetches discovery, keys and tokens (http.DefaultClient when nil).
	HTTP *http.Client
	Now  func() time.Time

	mu      sync.Mutex
	disc    *discovery
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

type discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	EndSessionEndpoint    string `json:"end_session_endpoint,omitempty"`
}

// ValidIssuer reports whether s can be an OIDC issuer: an https URL, or http
// on a loopback address (the dev server's local issuer).
func ValidIssuer(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname()))
}

// ValidOrigin reports whether s is an origin the pages can be served from:
// https://host[:port], or http on a loopback address; no path.
func ValidOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname()))
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *OIDC) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *OIDC) client() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (o *OIDC) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := o.client().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v)
}

// load reads discovery and keys when missing, stale, or when force is set
// (a token names a key id not seen yet: the provider rotated its keys).
func (o *OIDC) load(ctx context.Context, force bool) (*discovery, map[string]*rsa.PublicKey, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.disc != nil && !force && o.now().Sub(o.fetched) < time.Hour {
		return o.disc, o.keys, nil
	}
	var d discovery
	if err := o.getJSON(ctx, strings.TrimSuffix(o.Issuer, "/")+"/.well-known/openid-configuration", &d); err != nil {
		return nil, nil, fmt.Errorf("oidc discovery: %w", err)
	}
	if d.Issuer != o.Issuer || d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" {
		return nil, nil, errors.New("oidc discovery: the document does not match the configured issuer")
	}
	var set struct {
		Keys []struct {
			Kty, Kid, Use, Alg, N, E string
		} `json:"keys"`
	}
	if err := o.getJSON(ctx, d.JWKSURI, &set); err != nil {
		return nil, nil, fmt.Errorf("oidc keys: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			continue
		}
		keys[k.Kid] = pub
	}
	o.disc, o.keys, o.fetched = &d, keys, o.now()
	return o.disc, o.keys, nil
}

// flow is what the console keeps between the redirect to the provider and
// the callback (sealed in a short-lived cookie).
type flow struct {
	State    string `json:"st"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"nx"`
	Reauth   bool   `json:"ra,omitempty"`
	Started  int64  `json:"t"`
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newFlow(next string, reauth bool, now time.Time) flow {
	return flow{State: random(), Nonce: random(), Verifier: random(), Next: next, Reauth: reauth, Started: now.Unix()}
}

// challenge is the PKCE S256 code challenge of the verifier.
func (f flow) challenge() string {
	sum := sha256.Sum256([]byte(f.Verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthURL is where the browser goes to sign in.
func (o *OIDC) authURL(ctx context.Context, f flow, lang string) (string, error) {
	d, _, err := o.load(ctx, false)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(d.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("oidc: authorization endpoint: %w", err)
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", o.ClientID)
	q.Set("redirect_uri", o.RedirectURL)
	q.Set("scope", "openid profile email")
	q.Set("state", f.State)
	q.Set("nonce", f.Nonce)
	q.Set("code_challenge", f.challenge())
	q.Set("code_challenge_method", "S256")
	q.Set("ui_locales", lang)
	if f.Reauth {
		q.Set("prompt", "login")
		q.Set("max_age", "0")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// staffIdentity is a verified ID token's person.
type staffIdentity struct {
	Subject  string
	Groups   []string
	Customer string // the linked billing customer id, if any
	AuthTime time.Time
}

// exchange redeems a code (with the flow's PKCE verifier) and verifies the
// ID token it returns.
func (o *OIDC) exchange(ctx context.Context, code string, f flow) (staffIdentity, error) {
	d, _, err := o.load(ctx, false)
	if err != nil {
		return staffIdentity{}, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {o.RedirectURL},
		"client_id":     {o.ClientID},
		"code_verifier": {f.Verifier},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return staffIdentity{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := o.client().Do(req)
	if err != nil {
		return staffIdentity{}, fmt.Errorf("oidc token: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return staffIdentity{}, fmt.Errorf("oidc token: %s", res.Status)
	}
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&tok); err != nil || tok.IDToken == "" {
		return staffIdentity{}, errors.New("oidc token: no id_token in the answer")
	}
	return o.verify(ctx, tok.IDToken, f.Nonce)
}

type idClaims struct {
	jwt.RegisteredClaims
	Nonce         string          `json:"nonce"`
	AuthTime      int64           `json:"auth_time"`
	TokenUse      string          `json:"token_use"`
	Groups        json.RawMessage `json:"groups"`
	CognitoGroups json.RawMessage `json:"cognito:groups"`
	Customer      string          `json:"custom:billingCustomerId"` // contract.ClaimBillingCustomer
}

// verify checks an ID token: RS256 by a key of the provider, issuer,
// audience = client id, expiry, and the flow's nonce.
func (o *OIDC) verify(ctx context.Context, raw, nonce string) (staffIdentity, error) {
	parse := func(keys map[string]*rsa.PublicKey) (*idClaims, error) {
		var c idClaims
		_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			if k, ok := keys[kid]; ok {
				return k, nil
			}
			return nil, errUnknownKey
		}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(o.Issuer), jwt.WithAudience(o.ClientID),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(time.Minute), jwt.WithTimeFunc(o.now))
		return &c, err
	}
	_, keys, err := o.load(ctx, false)
	if err != nil {
		return staffIdentity{}, err
	}
	c, err := parse(keys)
	if errors.Is(err, errUnknownKey) {
		if _, keys, err = o.load(ctx, true); err == nil {
			c, err = parse(keys)
		}
	}
	if err != nil {
		return staffIdentity{}, fmt.Errorf("oidc id token: %w", err)
	}
	switch {
	case c.Nonce == "" || c.Nonce != nonce:
		return staffIdentity{}, errors.New("oidc id token: nonce does not match")
	case c.TokenUse != "" && c.TokenUse != "id":
		return staffIdentity{}, errors.New("oidc id token: not an ID token")
	case c.Subject == "":
		return staffIdentity{}, errors.New("oidc id token: no subject")
	}
	id := staffIdentity{Subject: c.Subject, Customer: c.Customer, AuthTime: o.now()}
	if c.AuthTime > 0 {
		id.AuthTime = time.Unix(c.AuthTime, 0)
	}
	for _, g := range [][]string{groupsOf(c.CognitoGroups), groupsOf(c.Groups)} {
		for _, x := range g {
			if !slices.Contains(id.Groups, x) {
				id.Groups = append(id.Groups, x)
			}
		}
	}
	return id, nil
}

var errUnknownKey = errors.New("unknown key id")

func groupsOf(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var arr []string
	if json.Unmarshal(raw, &arr) == nil {
		return arr
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	return nil
}
