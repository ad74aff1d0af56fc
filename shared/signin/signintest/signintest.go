// Package signintest holds test doubles for package signin: an in-memory
// replay guard and helpers that mint tokens with throw-away keys. It is for
// tests only; the functions implement signin.ReplayGuard over their table.
package signintest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/signin"
)

// ReplayGuard is an in-memory signin.ReplayGuard. Err, when set, is returned
// by every Use (a guard that cannot answer).
type ReplayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
	Err  error
}

var _ signin.ReplayGuard = (*ReplayGuard)(nil)

// NewReplayGuard returns an empty guard.
func NewReplayGuard() *ReplayGuard { return &ReplayGuard{seen: map[string]time.Time{}} }

// Use implements signin.ReplayGuard.
func (g *ReplayGuard) Use(_ context.Context, jti string, until time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.Err != nil {
		return g.Err
	}
	if _, ok := g.seen[jti]; ok {
		return signin.ErrReplayed
	}
	g.seen[jti] = until
	return nil
}

// Len is the number of remembered ids.
func (g *ReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// Signer is a throw-away key pair for tests.
type Signer struct {
	Key     signin.Key
	private any // ed25519.PrivateKey or *rsa.PrivateKey
	PEM     string
}

// NewEd25519 returns a fresh Ed25519 signer with the given kid.
func NewEd25519(tb testing.TB, kid string) Signer {
	tb.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return Signer{Key: signin.Key{ID: kid, Algorithm: signin.AlgEdDSA, Public: pub}, private: priv, PEM: publicPEM(tb, pub)}
}

// NewRSA returns a fresh RSA signer (RS256) of the given size.
func NewRSA(tb testing.TB, kid string, bits int) Signer {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatal(err)
	}
	return Signer{Key: signin.Key{ID: kid, Algorithm: signin.AlgRS256, Public: &priv.PublicKey}, private: priv, PEM: publicPEM(tb, &priv.PublicKey)}
}

func publicPEM(tb testing.TB, pub any) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Sign signs claims with the signer's key and its kid. header entries
// override the defaults (alg, kid, typ); a nil value removes one.
func (s Signer) Sign(tb testing.TB, claims jwt.MapClaims, header map[string]any) string {
	tb.Helper()
	method := jwt.SigningMethod(jwt.SigningMethodEdDSA)
	if s.Key.Algorithm == signin.AlgRS256 {
		method = jwt.SigningMethodRS256
	}
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = s.Key.ID
	for k, v := range header {
		if v == nil {
			delete(t.Header, k)
		} else {
			t.Header[k] = v
		}
	}
	out, err := t.SignedString(s.private)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// JTI returns a fresh 128-bit base64url token id.
func JTI(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
