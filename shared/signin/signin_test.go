package signin_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/signin/signintest"
)

const (
	issuer   = "whmcs"
	audience = "https://kyc.example.com/verify"
)

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func claims(tb testing.TB, edit func(jwt.MapClaims)) jwt.MapClaims {
	tb.Helper()
	c := jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": "1001",
		"iat": now.Unix(), "exp": now.Add(60 * time.Second).Unix(),
		"jti": signintest.JTI(tb), "lang": "zh-Hant",
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func newVerifier(tb testing.TB, keys ...signin.Key) (*signin.Verifier, *signintest.ReplayGuard) {
	tb.Helper()
	guard := signintest.NewReplayGuard()
	v, err := signin.NewVerifier(signin.Config{Keys: keys, Issuer: issuer, Audience: audience, Replay: guard,
		Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	return v, guard
}

// TestVerifyAccepts: good tokens of both algorithms, and two keys at once
// (a rotation: the old and the new key both verify while both are listed).
func TestVerifyAccepts(t *testing.T) {
	ed := signintest.NewEd25519(t, "ed-2026-12")
	ed2 := signintest.NewEd25519(t, "ed-2027-01")
	rs := signintest.NewRSA(t, "rs-2026", 2048)
	v, guard := newVerifier(t, ed.Key, ed2.Key, rs.Key)
	for _, s := range []signintest.Signer{ed, ed2, rs} {
		t.Run(s.Key.ID, func(t *testing.T) {
			c, err := v.Verify(context.Background(), s.Sign(t, claims(t, nil), nil))
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "1001" || c.KeyID != s.Key.ID || c.Lang != "zh-Hant" || c.Issuer != issuer ||
				!c.ExpiresAt.Equal(now.Add(time.Minute)) || len(c.Audience) != 1 || c.Audience[0] != audience {
				t.Fatalf("claims %+v", c)
			}
		})
	}
	if guard.Len() != 3 {
		t.Fatalf("replay guard remembers %d ids, want 3", guard.Len())
	}
	t.Run("audience list naming the gate", func(t *testing.T) {
		tok := ed.Sign(t, claims(t, func(c jwt.MapClaims) { c["aud"] = []string{"other", audience} }), nil)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unknown language ignored", func(t *testing.T) {
		c, err := v.Verify(context.Background(), ed.Sign(t, claims(t, func(c jwt.MapClaims) { c["lang"] = "fr" }), nil))
		if err != nil || c.Lang != "" {
			t.Fatalf("lang %q, err %v", c.Lang, err)
		}
	})
	t.Run("clock skew tolerated", func(t *testing.T) {
		tok := ed.Sign(t, claims(t, func(c jwt.MapClaims) {
			c["iat"] = now.Add(20 * time.Second).Unix()
			c["exp"] = now.Add(80 * time.Second).Unix()
		}), nil)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("rotation: a retired key no longer verifies", func(t *testing.T) {
		v2, _ := newVerifier(t, ed2.Key)
		_, err := v2.Verify(context.Background(), ed.Sign(t, claims(t, nil), nil))
		if signin.Reason(err) != signin.ReasonUnknownKey {
			t.Fatalf("err %v", err)
		}
	})
}

// TestVerifyRefuses: every refusal, each with its stable reason, none with
// the token or a claim value in its message.
func TestVerifyRefuses(t *testing.T) {
	ed := signintest.NewEd25519(t, "ed-1")
	rs := signintest.NewRSA(t, "rs-1", 2048)
	stranger := signintest.NewEd25519(t, "ed-1") // same kid, other key
	other := signintest.NewEd25519(t, "ed-9")    // not configured
	hmacToken := func(tb testing.TB) string {
		// Algorithm confusion: HS256 keyed with the RSA key's public PEM.
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(tb, nil))
		tok.Header["kid"] = "rs-1"
		s, err := tok.SignedString([]byte(rs.PEM))
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	noneToken := func(tb testing.TB) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(tb, nil))
		tok.Header["kid"] = "ed-1"
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	tamper := func(tb testing.TB) string {
		tok := ed.Sign(tb, claims(tb, nil), nil)
		parts := strings.Split(tok, ".")
		other := strings.Split(ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["sub"] = "1002" }), nil), ".")
		return parts[0] + "." + other[1] + "." + parts[2]
	}
	cases := []struct {
		name   string
		token  func(tb testing.TB) string
		reason string
	}{
		{"empty", func(testing.TB) string { return "" }, signin.ReasonMalformed},
		{"garbage", func(testing.TB) string { return "not.a.jwt" }, signin.ReasonMalformed},
		{"two segments", func(tb testing.TB) string {
			p := strings.Split(ed.Sign(tb, claims(tb, nil), nil), ".")
			return p[0] + "." + p[1]
		}, signin.ReasonMalformed},
		{"oversized", func(testing.TB) string { return strings.Repeat("a", 9000) + ".b.c" }, signin.ReasonMalformed},
		{"other typ", func(tb testing.TB) string { return ed.Sign(tb, claims(tb, nil), map[string]any{"typ": "at+jwt"}) }, signin.ReasonMalformed},
		{"tampered claims", tamper, signin.ReasonBadSignature},
		{"other key, same kid", func(tb testing.TB) string { return stranger.Sign(tb, claims(tb, nil), nil) }, signin.ReasonBadSignature},
		{"unknown kid", func(tb testing.TB) string { return other.Sign(tb, claims(tb, nil), nil) }, signin.ReasonUnknownKey},
		{"no kid", func(tb testing.TB) string { return ed.Sign(tb, claims(tb, nil), map[string]any{"kid": nil}) }, signin.ReasonUnknownKey},
		{"alg none", noneToken, signin.ReasonBadAlgorithm},
		{"alg HS256 with the public key", hmacToken, signin.ReasonBadAlgorithm},
		{"EdDSA token under an RS256 kid", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, nil), map[string]any{"kid": "rs-1"})
		}, signin.ReasonBadAlgorithm},
		{"wrong issuer", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["iss"] = "blesta" }), nil)
		}, signin.ReasonWrongIssuer},
		{"no issuer", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { delete(c, "iss") }), nil)
		}, signin.ReasonMissingClaim},
		{"wrong audience", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["aud"] = "https://kyc.example.com/console" }), nil)
		}, signin.ReasonWrongAudience},
		{"no audience", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { delete(c, "aud") }), nil)
		}, signin.ReasonMissingClaim},
		{"expired", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) {
				c["iat"] = now.Add(-2 * time.Minute).Unix()
				c["exp"] = now.Add(-31 * time.Second).Unix()
			}), nil)
		}, signin.ReasonExpired},
		{"issued in the future", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) {
				c["iat"] = now.Add(time.Minute).Unix()
				c["exp"] = now.Add(2 * time.Minute).Unix()
			}), nil)
		}, signin.ReasonIssuedInFuture},
		{"not before in the future", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), nil)
		}, signin.ReasonIssuedInFuture},
		{"no exp", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { delete(c, "exp") }), nil)
		}, signin.ReasonMissingClaim},
		{"no iat", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { delete(c, "iat") }), nil)
		}, signin.ReasonMissingClaim},
		{"lifetime over 120 s", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["exp"] = now.Add(121 * time.Second).Unix() }), nil)
		}, signin.ReasonLifetime},
		{"exp before iat", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) {
				c["iat"] = now.Add(10 * time.Second).Unix()
				c["exp"] = now.Add(5 * time.Second).Unix()
			}), nil)
		}, signin.ReasonLifetime},
		{"no subject", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { delete(c, "sub") }), nil)
		}, signin.ReasonBadSubject},
		{"subject with a newline", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["sub"] = "1001\n" }), nil)
		}, signin.ReasonBadSubject},
		{"no jti", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { delete(c, "jti") }), nil)
		}, signin.ReasonBadJTI},
		{"short jti", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["jti"] = "AAAAAAAAAAAAAAAAAAAA" }), nil) // 15 bytes
		}, signin.ReasonBadJTI},
		{"jti not base64url", func(tb testing.TB) string {
			return ed.Sign(tb, claims(tb, func(c jwt.MapClaims) { c["jti"] = "++++++++++++++++++++++++" }), nil)
		}, signin.ReasonBadJTI},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, guard := newVerifier(t, ed.Key, rs.Key)
			tok := tc.token(t)
			_, err := v.Verify(context.Background(), tok)
			if got := signin.Reason(err); got != tc.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tc.reason)
			}
			if tok != "" && strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "1001") {
				t.Fatalf("error %q repeats the token or a claim", err)
			}
			if guard.Len() != 0 {
				t.Fatal("a refused token was recorded as used")
			}
		})
	}

	t.Run("replayed", func(t *testing.T) {
		v, _ := newVerifier(t, ed.Key)
		tok := ed.Sign(t, claims(t, nil), nil)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		_, err := v.Verify(context.Background(), tok)
		if signin.Reason(err) != signin.ReasonReplayed || !errors.Is(err, signin.ErrReplayed) {
			t.Fatalf("second use: %v", err)
		}
	})
	t.Run("replay guard down: refused", func(t *testing.T) {
		v, guard := newVerifier(t, ed.Key)
		guard.Err = errors.New("dynamodb: throttled")
		_, err := v.Verify(context.Background(), ed.Sign(t, claims(t, nil), nil))
		if signin.Reason(err) != signin.ReasonReplayCheck || strings.Contains(err.Error(), "dynamodb") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestNewVerifierNeedsAFullConfig(t *testing.T) {
	ed := signintest.NewEd25519(t, "ed-1")
	guard := signintest.NewReplayGuard()
	many := []signin.Key{}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		many = append(many, signintest.NewEd25519(t, id).Key)
	}
	cases := map[string]signin.Config{
		"no key":          {Issuer: issuer, Audience: audience, Replay: guard},
		"no issuer":       {Keys: []signin.Key{ed.Key}, Audience: audience, Replay: guard},
		"no audience":     {Keys: []signin.Key{ed.Key}, Issuer: issuer, Replay: guard},
		"no replay guard": {Keys: []signin.Key{ed.Key}, Issuer: issuer, Audience: audience},
		"same kid twice":  {Keys: []signin.Key{ed.Key, ed.Key}, Issuer: issuer, Audience: audience, Replay: guard},
		"too many keys":   {Keys: many, Issuer: issuer, Audience: audience, Replay: guard},
		"alg of another key type": {Keys: []signin.Key{{ID: "x", Algorithm: signin.AlgRS256, Public: ed.Key.Public}},
			Issuer: issuer, Audience: audience, Replay: guard},
		"skew over the lifetime": {Keys: []signin.Key{ed.Key}, Issuer: issuer, Audience: audience, Replay: guard, Skew: 3 * time.Minute},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := signin.NewVerifier(c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	ed := signintest.NewEd25519(t, "ed-1")
	rs := signintest.NewRSA(t, "rs-1", 2048)
	small := signintest.NewRSA(t, "rs-small", 1024)
	entry := func(kid, alg, pem string) map[string]string {
		return map[string]string{"kid": kid, "alg": alg, "publicKey": pem}
	}
	list := func(entries ...map[string]string) []byte {
		b, _ := json.Marshal(entries)
		return b
	}
	keys, err := signin.ParseKeys(list(entry("ed-1", "EdDSA", ed.PEM), entry("rs-1", "RS256", rs.PEM)))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "ed-1" || keys[1].Algorithm != signin.AlgRS256 {
		t.Fatalf("keys %+v", keys)
	}
	bad := map[string][]byte{
		"not JSON":          []byte("ed-1"),
		"empty list":        []byte("[]"),
		"unknown field":     []byte(`[{"kid":"a","alg":"EdDSA","publicKey":"x","use":"sig"}]`),
		"trailing data":     append(list(entry("ed-1", "EdDSA", ed.PEM)), []byte(" []")...),
		"duplicate kid":     list(entry("k", "EdDSA", ed.PEM), entry("k", "RS256", rs.PEM)),
		"alg/key mismatch":  list(entry("k", "RS256", ed.PEM)),
		"unsupported alg":   list(entry("k", "ES256", ed.PEM)),
		"no kid":            list(entry("", "EdDSA", ed.PEM)),
		"not PEM":           list(entry("k", "EdDSA", "MCowBQYDK2VwAyEA")),
		"private key block": list(entry("k", "EdDSA", strings.ReplaceAll(ed.PEM, "PUBLIC KEY", "PRIVATE KEY"))),
		"RSA under 2048":    list(entry("k", "RS256", small.PEM)),
		"five keys": list(entry("a", "EdDSA", ed.PEM), entry("b", "EdDSA", ed.PEM), entry("c", "EdDSA", ed.PEM),
			entry("d", "EdDSA", ed.PEM), entry("e", "EdDSA", ed.PEM)),
	}
	for name, data := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := signin.ParseKeys(data); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
