package web_test

import (
	"encoding/json"
	"testing"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/signin/signintest"
)

func decodeUpload(tb testing.TB, body string) kyc.NewUpload {
	tb.Helper()
	var up kyc.NewUpload
	if err := json.Unmarshal([]byte(body), &up); err != nil {
		tb.Fatalf("decode %s: %v", body, err)
	}
	return up
}

func signintestNew(tb testing.TB) signintest.Signer { return signintest.NewEd25519(tb, "k1") }
