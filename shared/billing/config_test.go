package billing_test

import (
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
