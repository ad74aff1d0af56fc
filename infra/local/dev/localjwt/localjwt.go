// Package localjwt is the local stack's identity provider: an RSA signing key
// generated on first use under the local directory, and tokens for the three
// roles of the API, signed with it. Only the local dev server trusts the key
// (it verifies with it exactly as the HTTP API's JWT authorizer verifies
// tokens: RS256 by key id, issuer, audience, exp/nbf/iat); nothing deployed
// ever sees it.
package localjwt

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// KeyID is the "kid" of every local token.
const KeyID = "local"

// TTL is how long a local token is valid.
const TTL = 12 * time.Hour

// KeyFile is where the signing key lives under the local directory.
func KeyFile(localDir string) string { return filepath.Join(localDir, "jwt", "key.pem") }

// LoadOrCreateKey reads the local signing key, generating it (RSA 2048,
// PKCS#8 PEM, mode 0600) on first use. Two processes racing to create it end
// up with the same key: the file is written under a temporary name and
// linked into place only if no key exists yet.
func LoadOrCreateKey(localDir string) (*rsa.PrivateKey, error) {
	path := KeyFile(localDir)
	if k, err := readKey(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*.pem") // created 0600
	if err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	// Link fails if another process created the key meanwhile: use theirs.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	return readKey(path)
}

func readKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("local signing key %s: not PEM (delete it to get a new one)", path)
	}
	var k any
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		err = fmt.Errorf("PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("local signing key %s: %w (delete it to get a new one)", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("local signing key %s: not an RSA key (delete it to get a new one)", path)
	}
	return rk, nil
}

// Roles of the API and the groups their tokens carry.
var Roles = map[string][]string{
	"customer": nil,
	"reviewer": {contract.GroupReviewers},
	"admin":    {contract.GroupAdmins},
}

// RoleNames returns the role names, sorted.
func RoleNames() []string {
	names := make([]string, 0, len(Roles))
	for r := range Roles {
		names = append(names, r)
	}
	slices.Sort(names)
	return names
}

// Authorizer is what a token must match: the HTTP API's JWT authorizer.
type Authorizer struct {
	Issuer   string
	Audience []string
}

// Token signs a token for role and subject, valid from now for TTL. Staff
// roles carry their group in "cognito:groups", as Cognito puts it.
func Token(key *rsa.PrivateKey, a Authorizer, role, sub string, now time.Time) (string, error) {
	groups, ok := Roles[role]
	if !ok {
		return "", fmt.Errorf("unknown role %q: want one of %s", role, strings.Join(RoleNames(), ", "))
	}
	if sub == "" {
		return "", errors.New("a subject (SUB) is required: the customer or staff id")
	}
	if !kyc.ValidID(sub) {
		return "", fmt.Errorf("subject %q: 1-128 letters, digits or . _ : - only", sub)
	}
	if a.Issuer == "" || len(a.Audience) == 0 {
		return "", errors.New("the authorizer has no issuer or audience")
	}
	claims := jwt.MapClaims{
		"iss":       a.Issuer,
		"aud":       a.Audience[0],
		"sub":       sub,
		"iat":       now.Add(-30 * time.Second).Unix(), // tolerate a clock a little behind
		"nbf":       now.Add(-30 * time.Second).Unix(),
		"exp":       now.Add(TTL).Unix(),
		"token_use": "access",
	}
	if len(groups) > 0 {
		claims["cognito:groups"] = groups
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = KeyID
	return t.SignedString(key)
}

// FromTemplate returns the JWT authorizer of a synthesized template (its one
// AWS::ApiGatewayV2::Authorizer of type JWT, with literal issuer and audience).
func FromTemplate(template []byte) (Authorizer, error) {
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				AuthorizerType   string
				JwtConfiguration struct {
					Issuer   any
					Audience []any
				}
			}
		}
	}
	if err := json.Unmarshal(template, &tpl); err != nil {
		return Authorizer{}, fmt.Errorf("read template: %w", err)
	}
	var found []Authorizer
	for id, r := range tpl.Resources {
		if r.Type != "AWS::ApiGatewayV2::Authorizer" || r.Properties.AuthorizerType != "JWT" {
			continue
		}
		iss, ok := r.Properties.JwtConfiguration.Issuer.(string)
		if !ok || iss == "" {
			return Authorizer{}, fmt.Errorf("template authorizer %s: the issuer is not a literal string", id)
		}
		a := Authorizer{Issuer: iss}
		for _, v := range r.Properties.JwtConfiguration.Audience {
			s, ok := v.(string)
			if !ok {
				return Authorizer{}, fmt.Errorf("template authorizer %s: an audience is not a literal string", id)
			}
			a.Audience = append(a.Audience, s)
		}
		found = append(found, a)
	}
	switch len(found) {
	case 0:
		return Authorizer{}, errors.New("the template has no JWT authorizer (AWS::ApiGatewayV2::Authorizer)")
	case 1:
		return found[0], nil
	}
	return Authorizer{}, errors.New("the template has more than one JWT authorizer")
}
