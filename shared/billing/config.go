package billing

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kycgate/kycgate/shared/whmcs"
)

// Billing modes (contract.EnvBillingMode).
const (
	ModeWHMCS   = "whmcs"
	ModeWebhook = "webhook"
)

// Secret is the JSON of the billing secret in Secrets Manager
// (contract.EnvBillingSecretARN): {"identifier","secret"} (and optionally
// "accesskey") for WHMCS; {"hmacKey"} for the webhook, where "secret" is
// accepted too, so the stack's {"identifier","secret"} placeholder serves
// either mode.
type Secret struct {
	Identifier string `json:"identifier"`
	Secret     string `json:"secret"`
	AccessKey  string `json:"accesskey,omitempty"`
	HMACKey    string `json:"hmacKey,omitempty"`
}

// ParseSecret reads the billing secret. Its values never appear in errors.
func ParseSecret(b []byte) (Secret, error) {
	var s Secret
	if err := json.Unmarshal(b, &s); err != nil {
		return Secret{}, errors.New("billing secret: not a JSON object")
	}
	return s, nil
}

// WHMCSCredentials returns the secret's WHMCS API credentials.
func (s Secret) WHMCSCredentials() (whmcs.Credentials, error) {
	c := whmcs.Credentials{Identifier: s.Identifier, Secret: s.Secret, AccessKey: s.AccessKey}
	if err := c.Valid(); err != nil {
		return whmcs.Credentials{}, fmt.Errorf("billing secret: %w (fill in the secret after deploying)", err)
	}
	return c, nil
}

// WebhookKey returns the secret's webhook HMAC key: its UTF-8 bytes, used as
// they are (receivers use the same string).
func (s Secret) WebhookKey() ([]byte, error) {
	k := s.HMACKey
	if k == "" {
		k = s.Secret
	}
	if len(k) < 16 {
		return nil, errors.New("billing secret: hmacKey must be at least 16 characters (fill in the secret after deploying)")
	}
	return []byte(k), nil
}

// NewBiller builds the Biller of a billing mode: the WHMCS API at endpoint
// (…/includes/api.php) with opts, or the signed webhook POSTed to endpoint.
func NewBiller(mode, endpoint string, secret Secret, opts ...WHMCSOption) (Biller, error) {
	switch mode {
	case ModeWHMCS:
		creds, err := secret.WHMCSCredentials()
		if err != nil {
			return nil, err
		}
		c, err := whmcs.New(endpoint, creds, whmcs.Options{})
		if err != nil {
			return nil, err
		}
		return NewWHMCS(c, opts...), nil
	case ModeWebhook:
		key, err := secret.WebhookKey()
		if err != nil {
			return nil, err
		}
		return NewWebhook(endpoint, key, WebhookOptions{})
	}
	return nil, fmt.Errorf("billing mode %q: must be %q or %q", mode, ModeWHMCS, ModeWebhook)
}
