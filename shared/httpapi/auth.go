package httpapi

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Identity is the authenticated caller: the token's subject and groups.
type Identity struct {
	Subject string
	Groups  []string
	// Customer is the billing customer id a staff account is linked to
	// (claim contract.ClaimBillingCustomer), if any.
	Customer string
}

// Staff reports whether the caller is a reviewer or an admin.
func (id Identity) Staff() bool { return id.Reviewer() || id.Admin() }

// Reviewer reports whether the caller is in the reviewers group.
func (id Identity) Reviewer() bool { return slices.Contains(id.Groups, contract.GroupReviewers) }

// Admin reports whether the caller is in the admins group.
func (id Identity) Admin() bool { return slices.Contains(id.Groups, contract.GroupAdmins) }

// Actor returns the caller as the actor of audited staff actions.
func (id Identity) Actor() kyc.Actor {
	if id.Admin() && !id.Reviewer() {
		return kyc.Actor{Kind: kyc.ActorAdmin, ID: id.Subject, Customer: id.Customer}
	}
	return kyc.Actor{Kind: kyc.ActorReviewer, ID: id.Subject, Customer: id.Customer}
}

// Authenticator finds the caller of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// APIGatewayJWT reads the claims API Gateway's JWT authorizer verified and put
// in the request context (in Lambda, through aws-lambda-go-api-proxy).
type APIGatewayJWT struct{}

// Authenticate returns the caller from the authorizer's claims.
func (APIGatewayJWT) Authenticate(r *http.Request) (Identity, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Identity{}, errUnauthenticated
	}
	c := rc.Authorizer.JWT.Claims
	if c["sub"] == "" {
		return Identity{}, errUnauthenticated
	}
	groups := parseGroups(c["cognito:groups"])
	groups = append(groups, parseGroups(c["groups"])...)
	return Identity{Subject: c["sub"], Groups: groups, Customer: c[contract.ClaimBillingCustomer]}, nil
}

// parseGroups reads a groups claim as API Gateway passes it: a string such as
// "[kyc-reviewers kyc-admins]", a JSON array, or a comma-separated list.
func parseGroups(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var arr []string
	if json.Unmarshal([]byte(v), &arr) == nil {
		return arr
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
}

// JWTVerifier checks bearer tokens the way API Gateway's JWT authorizer does:
// an RS256 signature by a known key id, the issuer, one of the audiences (in
// "aud" or "client_id"), and exp/nbf/iat. The local stack uses it with a
// local signing key; in AWS the HTTP API does this before the Lambda runs.
type JWTVerifier struct {
	Issuer    string
	Audiences []string
	Keys      map[string]*rsa.PublicKey // by kid
	Now       func() time.Time
}

// claims are the token claims the API reads.
type claims struct {
	jwt.RegisteredClaims
	ClientID      string          `json:"client_id,omitempty"`
	Groups        json.RawMessage `json:"groups,omitempty"`
	CognitoGroups json.RawMessage `json:"cognito:groups,omitempty"`
	Customer      string          `json:"custom:billingCustomerId,omitempty"` // contract.ClaimBillingCustomer
}

// Authenticate verifies the request's bearer token. The scheme is
// case-insensitive (RFC 9110 §11.1): "Bearer", "bearer" and "BEARER" alike.
func (v JWTVerifier) Authenticate(r *http.Request) (Identity, error) {
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return Identity{}, errUnauthenticated
	}
	id, err := v.Verify(raw)
	if err != nil {
		return Identity{}, errUnauthenticated
	}
	return id, nil
}

// bearer returns the token of an Authorization header of the Bearer scheme:
// the scheme in any case, one or more spaces, and a token without spaces.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// Verify checks a token and returns its identity.
func (v JWTVerifier) Verify(raw string) (Identity, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	var c claims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := v.Keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("unknown key id %q", kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(v.Issuer), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithTimeFunc(now))
	if err != nil {
		return Identity{}, fmt.Errorf("verify token: %w", err)
	}
	if !slices.ContainsFunc(v.Audiences, func(a string) bool { return slices.Contains(c.Audience, a) || c.ClientID == a }) {
		return Identity{}, errors.New("verify token: audience not accepted")
	}
	if c.Subject == "" {
		return Identity{}, errors.New("verify token: no subject")
	}
	groups := jsonGroups(c.Groups)
	groups = append(groups, jsonGroups(c.CognitoGroups)...)
	return Identity{Subject: c.Subject, Groups: groups, Customer: c.Customer}, nil
}

func jsonGroups(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var arr []string
	if json.Unmarshal(raw, &arr) == nil {
		return arr
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return parseGroups(s)
	}
	return nil
}

type identityKey struct{}

// authenticate puts the caller into the request context, or answers 401
// with the challenge of the Bearer scheme (RFC 6750).
func authenticate(a Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", "Bearer")
			WriteProblem(w, errUnauthenticated.status, errUnauthenticated.code, errUnauthenticated.message)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

func identity(r *http.Request) Identity {
	id, _ := r.Context().Value(identityKey{}).(Identity)
	return id
}
