package kyctest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Sealer is an in-memory kyc.Sealer that really encrypts: each customer gets
// an AES-256 key on first use, values are sealed with AES-GCM and a random
// nonce bound to the customer (a value sealed for one customer does not open
// as another's), and fingerprints are an HMAC-SHA-256 under a fixed key of a
// normalised value, as the KMS sealer (shared/kmsseal) does. Shred deletes a
// customer's key. Sealer is safe for concurrent use.
type Sealer struct {
	mu    sync.Mutex
	keys  map[string]cipher.AEAD
	hooks hooks
}

var _ kyc.Sealer = (*Sealer)(nil)

// ErrTampered is returned by Open for a sealed value that fails
// authentication: changed, or sealed for another customer.
var ErrTampered = errors.New("sealed value fails authentication")

// Sealing format.
const (
	SealVersion = 1  // kyc.Sealed.V written by Seal
	NonceSize   = 12 // bytes of the GCM nonce
)

// fingerprintKey is the fixed HMAC key of Fingerprint.
var fingerprintKey = []byte("kyctest fingerprint key")

// NewSealer returns a sealer with no customer keys.
func NewSealer() *Sealer { return &Sealer{keys: map[string]cipher.AEAD{}} }

func aad(customerID string) []byte { return []byte("kyc:customer:" + customerID) }

// Seal encrypts plaintext with the customer's key, creating the key on the
// customer's first use (also after Shred).
func (s *Sealer) Seal(ctx context.Context, customerID string, plaintext []byte) (kyc.Sealed, error) {
	if err := s.enter(ctx, MethodSeal); err != nil {
		return kyc.Sealed{}, err
	}
	if customerID == "" {
		return kyc.Sealed{}, errors.New("seal: no customer id")
	}
	s.mu.Lock()
	a, ok := s.keys[customerID]
	if !ok {
		key := make([]byte, 32)
		rand.Read(key) // never fails (crypto/rand)
		block, err := aes.NewCipher(key)
		if err != nil {
			s.mu.Unlock()
			return kyc.Sealed{}, fmt.Errorf("seal: %w", err)
		}
		if a, err = cipher.NewGCM(block); err != nil {
			s.mu.Unlock()
			return kyc.Sealed{}, fmt.Errorf("seal: %w", err)
		}
		s.keys[customerID] = a
	}
	s.mu.Unlock()
	nonce := make([]byte, NonceSize)
	rand.Read(nonce)
	return kyc.Sealed{V: SealVersion, Nonce: nonce, Data: a.Seal(nil, nonce, plaintext, aad(customerID))}, nil
}

// Open decrypts a value sealed for the customer: kyc.ErrShredded once the
// customer's key is deleted (or if there never was one), ErrTampered for a
// changed value or one sealed for another customer.
func (s *Sealer) Open(ctx context.Context, customerID string, v kyc.Sealed) ([]byte, error) {
	if err := s.enter(ctx, MethodOpen); err != nil {
		return nil, err
	}
	switch {
	case v.V != SealVersion:
		return nil, fmt.Errorf("open: unknown sealed version %d", v.V)
	case len(v.Nonce) != NonceSize:
		return nil, fmt.Errorf("open: nonce of %d bytes: %w", len(v.Nonce), ErrTampered)
	}
	s.mu.Lock()
	a, ok := s.keys[customerID]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("open: %w", kyc.ErrShredded)
	}
	plain, err := a.Open(nil, v.Nonce, v.Data, aad(customerID))
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrTampered)
	}
	return plain, nil
}

// Fingerprint returns the hex HMAC-SHA-256 of a value trimmed, upper-cased
// and stripped of white space and dashes: equal for the same document number
// however it was typed.
func (s *Sealer) Fingerprint(ctx context.Context, value string) (string, error) {
	if err := s.enter(ctx, MethodFingerprint); err != nil {
		return "", err
	}
	n := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || unicode.Is(unicode.Pd, r) {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(value)))
	if n == "" {
		return "", errors.New("fingerprint: empty value")
	}
	m := hmac.New(sha256.New, fingerprintKey)
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// Shred deletes the customer's key: nothing sealed for the customer opens
// again.
func (s *Sealer) Shred(customerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, customerID)
}

// HasKey reports whether the customer has a key.
func (s *Sealer) HasKey(customerID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[customerID]
	return ok
}

func (s *Sealer) enter(ctx context.Context, m Method) error {
	if err := s.hooks.enter(m); err != nil {
		return err
	}
	return ctx.Err()
}

// Calls returns how many times the method m of Sealer has been called.
func (s *Sealer) Calls(m Method) int { return s.hooks.Calls(m) }

// FailNext makes the next call of the method m of Sealer return err and do
// nothing. Called n times, it fails the next n calls.
func (s *Sealer) FailNext(m Method, err error) { s.hooks.FailNext(m, err) }
