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

// TestVerifyGet: a signed GET covers its path; a POST's signature cannot be
// used on a GET, nor a GET's on a POST.
func TestVerifyGet(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	const path = "/v1/billing/customers/1001/kyc"
	sig := webhooksig.SignGet(hookKey, now.Unix(), path)
	if sig != webhooksig.Sign(hookKey, now.Unix(), []byte("GET "+path)) {
		t.Fatalf("SignGet %q is not the v1 signature of %q", sig, "GET "+path)
	}
	postBody := []byte(`{"type":"OrderCancelled","id":"e-1","detail":{"orderId":"o-1"}}`)
	postSig := webhooksig.Sign(hookKey, now.Unix(), postBody)
	cases := []struct {
		name      string
		sig, path string
		now       time.Time
		wantValid bool
	}{
		{"valid", sig, path, now, true},
		{"rotation list", "v1=00, " + sig, path, now, true},
		{"another path", sig, "/v1/billing/customers/1002/kyc", now, false},
		{"the path with a query", sig, path + "?x=1", now, false},
		{"no leading slash", webhooksig.Sign(hookKey, now.Unix(), []byte("GET v1/x")), "v1/x", now, false},
		{"a POST's signature on a GET", postSig, path, now, false},
		{"signed 6 minutes ago", sig, path, now.Add(6 * time.Minute), false},
		{"other key", webhooksig.SignGet([]byte("another-key-0123456789"), now.Unix(), path), path, now, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := webhooksig.VerifyGet(hookKey, ts, tc.sig, tc.path, tc.now, webhooksig.Tolerance)
			if (err == nil) != tc.wantValid {
				t.Fatalf("VerifyGet = %v, want valid=%v", err, tc.wantValid)
			}
		})
	}
	t.Run("a GET's signature on a POST", func(t *testing.T) {
		for _, body := range [][]byte{nil, []byte("GET " + path)} {
			if err := webhooksig.Verify(hookKey, ts, sig, body, now, webhooksig.Tolerance); err == nil {
				t.Fatalf("a GET's signature verified a POST of %q", body)
			}
		}
		if err := webhooksig.Verify(hookKey, ts, postSig, postBody, now, webhooksig.Tolerance); err != nil {
			t.Fatal(err)
		}
	})
}
