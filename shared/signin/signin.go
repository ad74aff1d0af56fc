// Package signin verifies the sign-in tokens a billing system issues for its
// logged-in customer, so that the gate can open a session for that customer
// on its own pages (POST /verify/signin) without a second password.
//
// A token is a compact JWS (a JWT) signed with an asymmetric key whose private
// half stays in the billing system (the WHMCS addon signs with Ed25519 through
// PHP's sodium, or RS256 through openssl). Header
// {"alg":"EdDSA"|"RS256","kid":"<key id>","typ":"JWT"}; claims iss, aud, sub
// (the billing customer id), iat, exp (exp − iat ≤ 120 s), jti (≥ 128 random
// bits, base64url) and optionally lang ("en" | "zh-Hant"). docs/whmcs.md
// "Sign-in into the gate" is the contract in prose.
//
// The Verifier refuses a bad signature, an unknown kid, an algorithm other
// than EdDSA and RS256 or one that does not match its key, a wrong issuer or
// audience, an expired token, one issued in the future (beyond a small skew),
// one living longer than 120 s, a missing or short jti, and a jti seen before.
// Every refusal is an *Error with a stable Reason; no error ever carries the
// token or a claim value.
//
// The package imports no AWS code: the replay guard is a port (ReplayGuard)
// that the function wiring implements over its table.
package signin

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms a key may have (the JWS "alg" names).
const (
	AlgEdDSA = "EdDSA" // Ed25519
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// Limits of the contract.
const (
	// MaxLifetime is the longest exp − iat a token may have.
	MaxLifetime = 120 * time.Second
	// DefaultSkew is how far the billing system's clock may be ahead of ours.
	DefaultSkew = 30 * time.Second
	// MaxKeys is how many public keys a Verifier accepts at once (two are
	// needed for a rotation; a few more leave room for several billing
	// systems).
	MaxKeys = 4
	// MinJTIBytes is the least randomness a jti must carry (128 bits).
	MinJTIBytes = 16
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// maxTokenBytes bounds what is parsed at all.
	maxTokenBytes = 8 << 10
	maxSubject    = 128
)

// Languages the lang claim may name; any other value is ignored.
var languages = map[string]bool{"en": true, "zh-Hant": true}

// Reasons of refusal: stable codes for logs, metrics and tests.
const (
	ReasonMalformed      = "malformed"           // not a compact JWS with the expected header and claims
	ReasonUnknownKey     = "unknown_key"         // kid missing or not configured
	ReasonBadAlgorithm   = "bad_algorithm"       // alg not EdDSA/RS256, or not the configured key's
	ReasonBadSignature   = "bad_signature"       // signature does not verify
	ReasonWrongIssuer    = "wrong_issuer"        // iss is not the configured issuer
	ReasonWrongAudience  = "wrong_audience"      // aud does not name the configured audience
	ReasonExpired        = "expired"             // exp has passed (beyond the skew)
	ReasonIssuedInFuture = "issued_in_future"    // iat (or nbf) is later than now + skew
	ReasonMissingClaim   = "missing_claim"       // iss, aud, iat or exp missing
	ReasonLifetime       = "lifetime_too_long"   // exp − iat over MaxLifetime
	ReasonBadJTI         = "bad_jti"             // jti missing, not base64url or under 128 bits
	ReasonBadSubject     = "bad_subject"         // sub empty, too long or with control characters
	ReasonReplayed       = "replayed"            // jti used before
	ReasonReplayCheck    = "replay_check_failed" // the replay guard could not answer: refused (fail closed)
)

// Error is a refused token. Error() names the reason only.
type Error struct {
	Reason string
	cause  error // a sentinel of this package or of the replay guard; never carries the token
}

func (e *Error) Error() string { return "signin: token refused: " + e.Reason }

// Unwrap gives the cause (for example ErrReplayed).
func (e *Error) Unwrap() error { return e.cause }

func refuse(reason string, cause error) *Error { return &Error{Reason: reason, cause: cause} }

// Reason returns the refusal reason of err, or "" when err is not a refusal.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrReplayed is what a ReplayGuard returns (wrapped or not) for a jti it has
// seen before.
var ErrReplayed = errors.New("signin: token id already used")

// ReplayGuard remembers the ids of used tokens. Use records jti until the
// given time (after which the token is expired anyway) and returns an error
// for which errors.Is(err, ErrReplayed) holds if jti was recorded before; any
// other error means it could not tell, and the token is refused.
type ReplayGuard interface {
	Use(ctx context.Context, jti string, until time.Time) error
}

// Key is one configured public key.
type Key struct {
	ID        string           // kid
	Algorithm string           // AlgEdDSA or AlgRS256
	Public    crypto.PublicKey // ed25519.PublicKey or *rsa.PublicKey
}

// keyJSON is one entry of the key configuration.
type keyJSON struct {
	KID       string `json:"kid"`
	Alg       string `json:"alg"`
	PublicKey string `json:"publicKey"`
}

// ParseKeys reads the key configuration: a JSON list of
// {"kid", "alg" ("EdDSA" | "RS256"), "publicKey" (PEM "PUBLIC KEY", SPKI)},
// as the WHMCS addon's settings page prints it and as CDK context signinKeys
// holds it. Kids must be unique; an RSA key must have at least 2048 bits.
func ParseKeys(data []byte) ([]Key, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var raw []keyJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("signin keys: %w", err)
	}
	if dec.More() {
		return nil, errors.New("signin keys: trailing data after the list")
	}
	if len(raw) == 0 {
		return nil, errors.New("signin keys: the list is empty")
	}
	if len(raw) > MaxKeys {
		return nil, fmt.Errorf("signin keys: %d keys, at most %d", len(raw), MaxKeys)
	}
	keys := make([]Key, 0, len(raw))
	for i, r := range raw {
		k, err := parseKey(r)
		if err != nil {
			return nil, fmt.Errorf("signin keys: entry %d: %w", i, err)
		}
		keys = append(keys, k)
	}
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

func parseKey(r keyJSON) (Key, error) {
	if !validKID(r.KID) {
		return Key{}, errors.New("kid must be 1–64 printable ASCII characters")
	}
	block, rest := pem.Decode([]byte(r.PublicKey))
	if block == nil || block.Type != "PUBLIC KEY" || strings.TrimSpace(string(rest)) != "" {
		return Key{}, fmt.Errorf("key %s: publicKey must be one PEM block of type PUBLIC KEY (SPKI)", r.KID)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", r.KID, err)
	}
	k := Key{ID: r.KID, Algorithm: r.Alg, Public: pub}
	if err := checkKeyType(k); err != nil {
		return Key{}, err
	}
	return k, nil
}

func checkKeyType(k Key) error {
	switch k.Algorithm {
	case AlgEdDSA:
		if p, ok := k.Public.(ed25519.PublicKey); !ok || len(p) != ed25519.PublicKeySize {
			return fmt.Errorf("key %s: alg EdDSA needs an Ed25519 public key", k.ID)
		}
	case AlgRS256:
		p, ok := k.Public.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("key %s: alg RS256 needs an RSA public key", k.ID)
		}
		if p.N.BitLen() < MinRSABits {
			return fmt.Errorf("key %s: RSA key of %d bits, at least %d", k.ID, p.N.BitLen(), MinRSABits)
		}
	default:
		return fmt.Errorf("key %s: alg must be %s or %s", k.ID, AlgEdDSA, AlgRS256)
	}
	return nil
}

func checkKeys(keys []Key) error {
	if len(keys) == 0 {
		return errors.New("signin: no public key configured")
	}
	if len(keys) > MaxKeys {
		return fmt.Errorf("signin: %d keys, at most %d", len(keys), MaxKeys)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !validKID(k.ID) {
			return errors.New("signin: a key id must be 1–64 printable ASCII characters")
		}
		if seen[k.ID] {
			return fmt.Errorf("signin: key id %s configured twice", k.ID)
		}
		seen[k.ID] = true
		if err := checkKeyType(k); err != nil {
			return err
		}
	}
	return nil
}

func validKID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// Config configures a Verifier.
type Config struct {
	Keys     []Key
	Issuer   string           // the billing system's iss, e.g. "whmcs"
	Audience string           // the gate's sign-in audience, e.g. "https://kyc.example.com/verify"
	Replay   ReplayGuard      // required
	Now      func() time.Time // default time.Now
	Skew     time.Duration    // default DefaultSkew; at most MaxLifetime
}

// Verifier checks sign-in tokens. It is safe for concurrent use.
type Verifier struct {
	keys     map[string]Key
	issuer   string
	audience string
	replay   ReplayGuard
	now      func() time.Time
	skew     time.Duration
	parser   *jwt.Parser
}

// NewVerifier returns a Verifier, or an error when the configuration is
// incomplete (no key, no issuer or audience, no replay guard).
func NewVerifier(c Config) (*Verifier, error) {
	if err := checkKeys(c.Keys); err != nil {
		return nil, err
	}
	if c.Issuer == "" || c.Audience == "" {
		return nil, errors.New("signin: issuer and audience are required")
	}
	if c.Replay == nil {
		return nil, errors.New("signin: a replay guard is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Skew <= 0 {
		c.Skew = DefaultSkew
	}
	if c.Skew > MaxLifetime {
		return nil, fmt.Errorf("signin: skew %s is over %s", c.Skew, MaxLifetime)
	}
	v := &Verifier{keys: map[string]Key{}, issuer: c.Issuer, audience: c.Audience, replay: c.Replay, now: c.Now, skew: c.Skew}
	for _, k := range c.Keys {
		v.keys[k.ID] = k
	}
	v.parser = jwt.NewParser(
		jwt.WithIssuer(c.Issuer),
		jwt.WithAudience(c.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(c.Skew),
		jwt.WithTimeFunc(c.Now),
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

// Claims are what a verified token says.
type Claims struct {
	Subject   string // the billing customer id
	Issuer    string
	Audience  []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	ID        string // jti
	KeyID     string // the kid that verified it
	Lang      string // "en", "zh-Hant" or ""
}

type tokenClaims struct {
	jwt.RegisteredClaims
	Lang string `json:"lang,omitempty"`
}

// Verify checks a token and, if it is good, records its jti with the replay
// guard, so a second Verify of the same token is refused as replayed.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	if token == "" || len(token) > maxTokenBytes || strings.Count(token, ".") != 2 {
		return Claims{}, refuse(ReasonMalformed, nil)
	}
	var kid string
	var tc tokenClaims
	_, err := v.parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		if typ, ok := t.Header["typ"]; ok && typ != "JWT" {
			return nil, refuse(ReasonMalformed, nil)
		}
		id, _ := t.Header["kid"].(string)
		k, ok := v.keys[id]
		if !ok {
			return nil, refuse(ReasonUnknownKey, nil)
		}
		// The algorithm must be the key's own (so an RS256 key can never
		// verify an HS256 token keyed with its public half, and so on).
		if t.Method.Alg() != k.Algorithm {
			return nil, refuse(ReasonBadAlgorithm, nil)
		}
		kid = id
		return k.Public, nil
	})
	if err != nil {
		return Claims{}, classify(err)
	}
	c := Claims{Subject: tc.Subject, Issuer: tc.Issuer, Audience: tc.Audience, ID: tc.ID, KeyID: kid}
	if tc.IssuedAt == nil || tc.ExpiresAt == nil {
		return Claims{}, refuse(ReasonMissingClaim, nil)
	}
	c.IssuedAt, c.ExpiresAt = tc.IssuedAt.Time, tc.ExpiresAt.Time
	if life := c.ExpiresAt.Sub(c.IssuedAt); life > MaxLifetime || life <= 0 {
		return Claims{}, refuse(ReasonLifetime, nil)
	}
	if !validSubject(c.Subject) {
		return Claims{}, refuse(ReasonBadSubject, nil)
	}
	if !validJTI(c.ID) {
		return Claims{}, refuse(ReasonBadJTI, nil)
	}
	if languages[tc.Lang] {
		c.Lang = tc.Lang
	}
	if err := v.replay.Use(ctx, c.ID, c.ExpiresAt.Add(v.skew)); err != nil {
		if errors.Is(err, ErrReplayed) {
			return Claims{}, refuse(ReasonReplayed, ErrReplayed)
		}
		return Claims{}, refuse(ReasonReplayCheck, nil)
	}
	return c, nil
}

// classify maps the JWT library's errors to reasons.
func classify(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refuse(ReasonBadSignature, nil)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// The library refused the algorithm before asking for a key
		// (none, HS256, ES256, ...).
		return refuse(ReasonBadAlgorithm, nil)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse(ReasonMissingClaim, nil)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return refuse(ReasonWrongIssuer, nil)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refuse(ReasonWrongAudience, nil)
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse(ReasonExpired, nil)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return refuse(ReasonIssuedInFuture, nil)
	}
	return refuse(ReasonMalformed, nil)
}

func validSubject(s string) bool {
	if s == "" || len(s) > maxSubject || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func validJTI(s string) bool {
	if len(s) > 128 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) >= MinJTIBytes
}
