package billing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/billing"
)

func TestNewBillerFromSecret(t *testing.T) {
	const whmcsSecret = `{"identifier":"abc","secret":"def-secret-value"}`
	cases := []struct {
		name, mode, url, secret string
		ok                      bool
	}{
		{"whmcs", billing.ModeWHMCS, "https://billing.example.com/includes/api.php", whmcsSecret, true},
		{"whmcs with access key", billing.ModeWHMCS, "https://billing.example.com/includes/api.php", `{"identifier":"a","secret":"b","accesskey":"k"}`, true},
		{"whmcs placeholder not filled in", billing.ModeWHMCS, "https://billing.example.com/includes/api.php", `{"identifier":"","secret":""}`, false},
		{"whmcs without URL", billing.ModeWHMCS, "", whmcsSecret, false},
		{"webhook hmacKey", billing.ModeWebhook, "https://billing.example.com/kyc", `{"hmacKey":"0123456789abcdef0123"}`, true},
		{"webhook from the stack's placeholder shape", billing.ModeWebhook, "https://billing.example.com/kyc", `{"identifier":"","secret":"0123456789abcdef0123"}`, true},
		{"webhook short key", billing.ModeWebhook, "https://billing.example.com/kyc", `{"hmacKey":"short"}`, false},
		{"unknown mode", "email", "https://billing.example.com/kyc", whmcsSecret, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := billing.ParseSecret([]byte(tc.secret))
			if err != nil {
				t.Fatal(err)
			}
			_, err = billing.NewBiller(tc.mode, tc.url, s)
			if (err == nil) != tc.ok {
				t.Fatalf("NewBiller: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && (strings.Contains(err.Error(), "def-secret-value") || strings.Contains(err.Error(), "0123456789abcdef")) {
				t.Fatalf("error carries the secret: %v", err)
			}
		})
	}
	if _, err := billing.ParseSecret([]byte(`"just a string"`)); err == nil {
		t.Fatal("non-object secret accepted")
	}
}

type countingBiller struct{ n int }

func (c *countingBiller) Apply(context.Context, billing.Command) (string, error) {
	c.n++
	return billing.OutcomeApplied, nil
}

func TestLazyBuildsOnceAndRetriesFailures(t *testing.T) {
	builds, fail := 0, true
	inner := &countingBiller{}
	b := billing.Lazy(func(context.Context) (billing.Biller, error) {
		builds++
		if fail {
			return nil, errors.New("secret is empty")
		}
		return inner, nil
	})
	_, err := b.Apply(context.Background(), billing.Command{Event: provision()})
	if c := billing.Classify(err); err == nil || !c.Transient || c.Uncertain || c.Kind != "not_configured" {
		t.Fatalf("first apply: %v (%+v)", err, c)
	}
	fail = false
	for range 3 {
		if _, err := b.Apply(context.Background(), billing.Command{Event: provision()}); err != nil {
			t.Fatal(err)
		}
	}
	if builds != 2 || inner.n != 3 {
		t.Fatalf("builds %d, applies %d", builds, inner.n)
	}
}
