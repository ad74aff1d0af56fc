package webhooksig_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/webhooksig"
)

var hookKey = []byte("test-webhook-key-0123456789")

// TestVerify: what a receiver must accept and refuse.
func TestVerify(t *testing.T) {
	body := []byte(`{"eventId":"o-1:provision"}`)
	now := time.Unix(1_780_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := webhooksig.Sign(hookKey, now.Unix(), body)
	if !strings.HasPrefix(sig, "v1=") || len(sig) != 3+64 {
		t.Fatalf("signature %q", sig)
	}
	cases := []struct {
		name      string
		ts, sig   string
		body      []byte
		now       time.Time
		wantValid bool
	}{
		{"valid", ts, sig, body, now, true},
		{"rotation list", ts, "v1=00," + sig, body, now, true},
		{"tampered body", ts, sig, []byte(`{"eventId":"o-2:provision"}`), now, false},
		{"other key", ts, webhooksig.Sign([]byte("wrong-key-wrong-key"), now.Unix(), body), body, now, false},
		{"replayed later", ts, sig, body, now.Add(10 * time.Minute), false},
		{"from the future", ts, sig, body, now.Add(-10 * time.Minute), false},
		{"timestamp changed", strconv.FormatInt(now.Unix()+1, 10), sig, body, now, false},
		{"not a number", "yesterday", sig, body, now, false},
		{"no signature", ts, "", body, now, false},
		{"bare hex", ts, strings.TrimPrefix(sig, "v1="), body, now, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := webhooksig.Verify(hookKey, tc.ts, tc.sig, tc.body, tc.now, webhooksig.Tolerance)
			if (err == nil) != tc.wantValid {
				t.Fatalf("Verify = %v, want valid=%v", err, tc.wantValid)
			}
		})
	}
}
