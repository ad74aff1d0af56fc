package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Session lifetimes.
const (
	// CustomerIdle ends a customer's session after 30 minutes without a request.
	CustomerIdle = 30 * time.Minute
	// CustomerMax ends it 12 hours after sign-in whatever happens.
	CustomerMax = 12 * time.Hour
	// StaffIdle ends a staff session after 8 hours without a request.
	StaffIdle = 8 * time.Hour
	// StaffMax ends it 12 hours after sign-in (a working day).
	StaffMax = 12 * time.Hour
	// Reauth is how recent a staff sign-in must be for a disclosure step.
	Reauth = 10 * time.Minute
	// flowTTL bounds an OpenID Connect sign-in from redirect to callback.
	flowTTL = 10 * time.Minute
)

// Cookie names. __Host- cookies are Secure, Path=/ and carry no Domain: a
// browser keeps them to exactly this origin.
const (
	customerCookie = "__Host-kyc-verify"
	staffCookie    = "__Host-kyc-console"
	flowCookie     = "__Host-kyc-oidc"
)

// Session is a signed-in person. It lives in an encrypted, authenticated
// cookie (AES-256-GCM under a key derived from the stack's session secret,
// with the cookie's purpose as additional data), so a page view reads no
// table and a customer's cookie can never be read as a staff one.
type Session struct {
	Subject string   `json:"s"`
	Groups  []string `json:"g,omitempty"`
	// Customer is the billing customer id a staff account is linked to
	// (contract.ClaimBillingCustomer), if any: the gate refuses them that
	// customer's submissions.
	Customer string `json:"c,omitempty"`
	Start    int64  `json:"t0"` // sign-in, unix seconds
	Auth     int64  `json:"ta"` // last authentication at the identity provider (staff)
	Seen     int64  `json:"ts"` // last request
}

// Keys seal the pages' cookies. Each purpose has its own key (HKDF-SHA256
// of the secret), and its name is bound in as additional data.
type Keys struct {
	customer, staff, flow cipher.AEAD
}

// MinSecretBytes is the least secret material the keys accept.
const MinSecretBytes = 32

// NewKeys derives the cookie keys from the session secret.
func NewKeys(secret []byte) (*Keys, error) {
	if len(secret) < MinSecretBytes {
		return nil, errors.New("web: the session secret is shorter than 32 bytes")
	}
	k := &Keys{}
	for _, p := range []struct {
		dst  *cipher.AEAD
		name string
	}{{&k.customer, customerCookie}, {&k.staff, staffCookie}, {&k.flow, flowCookie}} {
		key, err := hkdf.Key(sha256.New, secret, nil, "kycgate/web/"+p.name, 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if *p.dst, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (k *Keys) aead(name string) cipher.AEAD {
	switch name {
	case customerCookie:
		return k.customer
	case staffCookie:
		return k.staff
	case flowCookie:
		return k.flow
	}
	panic("web: no key for cookie " + name)
}

// seal encrypts v for the cookie name.
func (k *Keys) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	a := k.aead(name)
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, plain, []byte(name))), nil
}

// errNoSession is any cookie that is missing, forged, of another purpose or
// expired.
var errNoSession = errors.New("no valid session")

// open decrypts a cookie value sealed for name into v.
func (k *Keys) open(name, value string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(value)
	a := k.aead(name)
	if err != nil || len(b) < a.NonceSize()+a.Overhead() || len(value) > 3000 {
		return errNoSession
	}
	plain, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], []byte(name))
	if err != nil {
		return errNoSession
	}
	if json.Unmarshal(plain, v) != nil {
		return errNoSession
	}
	return nil
}

// sessions reads and writes one kind of session cookie.
type sessions struct {
	keys      *Keys
	name      string
	idle, max time.Duration
	now       func() time.Time
}

// get returns the request's session, if it has a live one.
func (s *sessions) get(r *http.Request) (Session, error) {
	c, err := r.Cookie(s.name)
	if err != nil {
		return Session{}, errNoSession
	}
	var ses Session
	if err := s.keys.open(s.name, c.Value, &ses); err != nil {
		return Session{}, err
	}
	now := s.now()
	if ses.Subject == "" || now.Sub(time.Unix(ses.Seen, 0)) > s.idle || now.Sub(time.Unix(ses.Start, 0)) > s.max ||
		time.Unix(ses.Start, 0).After(now.Add(time.Minute)) {
		return Session{}, errNoSession
	}
	return ses, nil
}

// put writes the session (its Seen set to now), renewing the idle expiry.
func (s *sessions) put(w http.ResponseWriter, ses Session) error {
	ses.Seen = s.now().Unix()
	v, err := s.keys.seal(s.name, ses)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.name, Value: v, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.idle / time.Second)})
	return nil
}

// clear removes the session cookie.
func (s *sessions) clear(w http.ResponseWriter) { clearCookie(w, s.name) }

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
