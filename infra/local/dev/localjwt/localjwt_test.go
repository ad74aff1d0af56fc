package localjwt_test

import (
	"crypto/rsa"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/infra/local/dev/localjwt"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
)

var auth = localjwt.Authorizer{Issuer: "https://kyc.local/issuer", Audience: []string{"kyc-gate"}}

func TestKeyCreatedOnceAndPrivate(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	keys := make([]*rsa.PrivateKey, 4)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := localjwt.LoadOrCreateKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k == nil || !k.Equal(keys[0]) {
			t.Fatal("racing first uses produced different keys")
		}
	}
	fi, err := os.Stat(localjwt.KeyFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := localjwt.LoadOrCreateKey(dir)
	if err != nil || !again.Equal(keys[0]) {
		t.Errorf("second use: %v, same key %v", err, again != nil && again.Equal(keys[0]))
	}
}

func TestBrokenKeyFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if _, err := localjwt.LoadOrCreateKey(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(localjwt.KeyFile(dir), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := localjwt.LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("err = %v, want one that says how to recover", err)
	}
}

// Tokens pass the verifier the dev server uses (the HTTP API's JWT
// authorizer's checks), with the role's groups.
func TestTokensVerifyAsTheAuthorizerChecksThem(t *testing.T) {
	key, err := localjwt.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v := httpapi.JWTVerifier{Issuer: auth.Issuer, Audiences: auth.Audience, Keys: map[string]*rsa.PublicKey{localjwt.KeyID: &key.PublicKey}, Now: func() time.Time { return now }}
	for role, groups := range map[string][]string{"customer": nil, "reviewer": {contract.GroupReviewers}, "admin": {contract.GroupAdmins}} {
		t.Run(role, func(t *testing.T) {
			tok, err := localjwt.Token(key, auth, role, "1001", now)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			id, err := v.Authenticate(req)
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "1001" || !slices.Equal(id.Groups, groups) {
				t.Errorf("identity %+v, want subject 1001, groups %v", id, groups)
			}
			// Valid for 12 hours, not 13.
			late := v
			late.Now = func() time.Time { return now.Add(13 * time.Hour) }
			if _, err := late.Verify(tok); err == nil {
				t.Error("a 13-hour-old token verified")
			}
		})
	}
	other := v
	other.Issuer = "https://elsewhere"
	tok, _ := localjwt.Token(key, auth, "customer", "1001", now)
	if _, err := other.Verify(tok); err == nil {
		t.Error("a token verified against another issuer")
	}
}

func TestTokenRefusesBadInput(t *testing.T) {
	key, err := localjwt.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		role, sub string
		a         localjwt.Authorizer
	}{
		"unknown role":  {"owner", "1001", auth},
		"no subject":    {"customer", "", auth},
		"bad subject":   {"customer", "a b", auth},
		"no issuer":     {"customer", "1001", localjwt.Authorizer{Audience: []string{"x"}}},
		"no audience":   {"customer", "1001", localjwt.Authorizer{Issuer: "https://x"}},
		"empty role":    {"", "1001", auth},
		"role in caps":  {"Admin", "1001", auth},
		"subject space": {"admin", " ", auth},
	} {
		t.Run(name, func(t *testing.T) {
			if tok, err := localjwt.Token(key, c.a, c.role, c.sub, time.Now()); err == nil {
				t.Errorf("token %q, want an error", tok)
			}
		})
	}
}

func TestAuthorizerFromTemplate(t *testing.T) {
	ok := `{"Resources":{"A":{"Type":"AWS::ApiGatewayV2::Authorizer","Properties":{"AuthorizerType":"JWT",
		"JwtConfiguration":{"Issuer":"https://kyc.local/issuer","Audience":["kyc-gate","other"]}}}}}`
	a, err := localjwt.FromTemplate([]byte(ok))
	if err != nil || a.Issuer != "https://kyc.local/issuer" || !slices.Equal(a.Audience, []string{"kyc-gate", "other"}) {
		t.Errorf("FromTemplate = %+v, %v", a, err)
	}
	for name, tpl := range map[string]string{
		"none":          `{"Resources":{"B":{"Type":"AWS::S3::Bucket"}}}`,
		"intrinsic":     `{"Resources":{"A":{"Type":"AWS::ApiGatewayV2::Authorizer","Properties":{"AuthorizerType":"JWT","JwtConfiguration":{"Issuer":{"Ref":"P"},"Audience":["a"]}}}}}`,
		"two":           `{"Resources":{"A":{"Type":"AWS::ApiGatewayV2::Authorizer","Properties":{"AuthorizerType":"JWT","JwtConfiguration":{"Issuer":"https://a","Audience":["a"]}}},"B":{"Type":"AWS::ApiGatewayV2::Authorizer","Properties":{"AuthorizerType":"JWT","JwtConfiguration":{"Issuer":"https://b","Audience":["b"]}}}}}`,
		"not JSON":      `Resources:`,
		"lambda (only)": `{"Resources":{"A":{"Type":"AWS::ApiGatewayV2::Authorizer","Properties":{"AuthorizerType":"REQUEST"}}}}`,
	} {
		if a, err := localjwt.FromTemplate([]byte(tpl)); err == nil {
			t.Errorf("%s: FromTemplate = %+v, want an error", name, a)
		}
	}
}
