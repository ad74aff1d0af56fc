package whmcsaddon

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/signin/signintest"
)

const signinAudience = "https://kyc.example.com/verify"

func signinWorld(t *testing.T, g *gate) *world {
	t.Helper()
	w := newWorld(g)
	w.settings["signin_url"] = "https://kyc.example.com/verify/signin"
	return w
}

// verifierFor builds the gate's verifier from the key configuration the
// addon prints for the operator (the value of CDK context signinKeys).
func verifierFor(t *testing.T, keyConfig json.RawMessage) (*signin.Verifier, *signintest.ReplayGuard) {
	t.Helper()
	keys, err := signin.ParseKeys(keyConfig)
	if err != nil {
		t.Fatalf("the addon's key configuration %s: %v", keyConfig, err)
	}
	guard := signintest.NewReplayGuard()
	v, err := signin.NewVerifier(signin.Config{Keys: keys, Issuer: "whmcs", Audience: signinAudience, Replay: guard})
	if err != nil {
		t.Fatal(err)
	}
	return v, guard
}

// TestSignInCrossLanguage: tokens the addon signs in PHP (Ed25519 through
// sodium, RS256 through openssl) verify in Go with the gate's verifier;
// tokens tampered with in PHP are refused, each for its reason.
func TestSignInCrossLanguage(t *testing.T) {
	for _, alg := range []string{"EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			g := newGate(t)
			w := signinWorld(t, g)
			now := time.Now().Unix()
			claims := func(edit func(row)) row {
				c := row{"iss": "whmcs", "aud": signinAudience, "sub": "1001", "iat": now, "exp": now + 60, "jti": "AAAAAAAAAAAAAAAAAAAAAA"}
				edit(c)
				return c
			}
			// Ed25519: a key the addon generates; RS256: one pasted into it (a
			// test key, so no RSA key is generated on every run).
			first := row{"do": "generateKey", "alg": alg, "slot": "active"}
			if alg == "RS256" {
				first = row{"do": "importKey", "alg": alg, "slot": "active", "private": readFile(t, "testdata/rs256-test-key.pem")}
			}
			res := w.run(t,
				first,
				row{"do": "keyConfig"},
				row{"do": "mint", "clientId": 1001, "lang": "zh-Hant"},
				row{"do": "mint", "clientId": 1002, "lang": ""},
				row{"do": "mintTampered", "clientId": 1001, "claims": row{"sub": "1002"}},
				row{"do": "signRaw", "header": row{}, "claims": claims(func(c row) { c["aud"] = "https://kyc.example.com/console" })},
				row{"do": "signRaw", "header": row{}, "claims": claims(func(c row) { c["iss"] = "blesta" })},
				row{"do": "signRaw", "header": row{}, "claims": claims(func(c row) { c["iat"] = now - 300; c["exp"] = now - 240 })},
				row{"do": "signRaw", "header": row{}, "claims": claims(func(c row) { c["exp"] = now + 300 })},
				row{"do": "signRaw", "header": row{}, "claims": claims(func(c row) { c["jti"] = "short" })},
				row{"do": "signRaw", "header": row{}, "claims": claims(func(c row) { c["iat"] = now + 600; c["exp"] = now + 660 })},
				row{"do": "signRaw", "header": row{}, "freshKey": "EdDSA", "claims": claims(func(row) {})},
				row{"do": "signRaw", "header": row{"kid": "whmcs-not-configured"}, "claims": claims(func(row) {})},
				row{"do": "signRaw", "header": row{"alg": map[string]string{"EdDSA": "RS256", "RS256": "EdDSA"}[alg]}, "claims": claims(func(row) {})},
			)
			kid := res.str(0)
			var cfg json.RawMessage
			res.result(1, &cfg)
			v, guard := verifierFor(t, cfg)
			ctx := context.Background()

			tok := res.str(2)
			c, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatalf("a token the addon signed: %v\n%s", err, tok)
			}
			if c.Subject != "1001" || c.Lang != "zh-Hant" || c.KeyID != kid || c.ExpiresAt.Sub(c.IssuedAt) != 60*time.Second || len(c.ID) != 22 {
				t.Fatalf("claims %+v", c)
			}
			if _, err := v.Verify(ctx, tok); signin.Reason(err) != signin.ReasonReplayed {
				t.Fatalf("the same token twice: %v", err)
			}
			if c, err := v.Verify(ctx, res.str(3)); err != nil || c.Subject != "1002" || c.Lang != "" {
				t.Fatalf("second client: %+v %v", c, err)
			}
			refused := []struct {
				name   string
				i      int
				reason string
			}{
				{"claims changed after signing", 4, signin.ReasonBadSignature},
				{"wrong audience", 5, signin.ReasonWrongAudience},
				{"wrong issuer", 6, signin.ReasonWrongIssuer},
				{"expired", 7, signin.ReasonExpired},
				{"lifetime over 120 s", 8, signin.ReasonLifetime},
				{"short jti", 9, signin.ReasonBadJTI},
				{"issued in the future", 10, signin.ReasonIssuedInFuture},
				{"signed by a key the gate does not know (same kid format)", 11, signin.ReasonUnknownKey},
				{"unknown kid", 12, signin.ReasonUnknownKey},
				{"alg not the key's", 13, signin.ReasonBadAlgorithm},
			}
			for _, r := range refused {
				t.Run(r.name, func(t *testing.T) {
					_, err := v.Verify(ctx, res.str(r.i))
					if signin.Reason(err) != r.reason {
						t.Fatalf("reason %q (%v), want %q", signin.Reason(err), err, r.reason)
					}
				})
			}
			if guard.Len() != 2 {
				t.Fatalf("replay guard holds %d ids, want the 2 accepted tokens", guard.Len())
			}
		})
	}
}

// TestSignInRotation: a pending key is listed for the gate before it signs;
// after activation the new key signs and both verify while both are listed.
func TestSignInRotation(t *testing.T) {
	g := newGate(t)
	w := signinWorld(t, g)
	res := w.run(t,
		row{"do": "mint", "clientId": 1001},
		row{"do": "adminOutput", "admin": 7, "method": "POST",
			"post": row{"token": "csrf-token-0123456789", "kycgate_action": "generate_key", "alg": "RS256"}},
		row{"do": "keyConfig"},
		row{"do": "adminOutput", "admin": 7, "method": "POST",
			"post": row{"token": "csrf-token-0123456789", "kycgate_action": "activate_key"}},
		row{"do": "mint", "clientId": 1001},
		row{"do": "importKey", "alg": "EdDSA", "private": "bm90IGEga2V5", "slot": "pending"},
		row{"do": "importKey", "alg": "EdDSA", "slot": "pending",
			"private": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n"},
	)
	if !strings.Contains(res.str(1), "added as pending") {
		t.Fatalf("admin page:\n%s", res.str(1))
	}
	var cfg []map[string]string
	res.result(2, &cfg)
	if len(cfg) != 2 || cfg[0]["alg"] != "EdDSA" || cfg[1]["alg"] != "RS256" {
		t.Fatalf("key configuration during a rotation: %v", cfg)
	}
	raw, _ := json.Marshal(cfg)
	v, _ := verifierFor(t, raw)
	for _, i := range []int{0, 4} {
		if _, err := v.Verify(context.Background(), res.str(i)); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if h := strings.Split(res.str(4), ".")[0]; !strings.Contains(string(mustB64(t, h)), `"alg":"RS256"`) {
		t.Fatalf("after activation the new key does not sign: %s", mustB64(t, h))
	}
	if !strings.HasPrefix(res.str(5), "refused:") || !strings.HasPrefix(res.str(6), "whmcs-") {
		t.Fatalf("imports: %q, %q", res.str(5), res.str(6))
	}
	log := res.logText()
	if !strings.Contains(log, "added sign-in key whmcs-") || !strings.Contains(log, "activated sign-in key whmcs-") {
		t.Fatalf("activity log:\n%s", log)
	}
	for _, r := range res.Tables["mod_kycgate_secrets"] {
		if strings.Contains(r["value"].(string), "PRIVATE KEY") {
			t.Fatal("a private key is stored unencrypted")
		}
	}
}

// TestSignInFlow: the client's button POSTs (with WHMCS's CSRF token) to the
// addon, which answers with a form that POSTs a fresh token to the gate's
// /verify/signin; the token is never in a URL. A GET, or a POST without the
// CSRF token, mints nothing.
func TestSignInFlow(t *testing.T) {
	g := newGate(t)
	w := signinWorld(t, g)
	res := w.run(t,
		row{"do": "clientarea", "client": 1001, "method": "POST", "get": row{"action": "signin"}, "post": row{"token": "csrf-token-0123456789"}},
		row{"do": "clientarea", "client": 1001, "method": "GET", "get": row{"action": "signin"}},
		row{"do": "clientarea", "client": 1001, "method": "POST", "get": row{"action": "signin"}, "post": row{"token": "forged"}},
		row{"do": "keyConfig"},
		row{"do": "clientarea", "client": 1001, "admin": 7, "masquerade": true, "method": "POST", "get": row{"action": "signin"},
			"post": row{"token": "csrf-token-0123456789"}},
	)
	var page struct {
		HTML string `json:"html"`
	}
	res.result(0, &page)
	form := regexp.MustCompile(`<form id="kycgate-signin" method="post" action="([^"]*)" enctype="application/x-www-form-urlencoded" data-autosubmit="1"><input type="hidden" name="token" value="([^"]+)">`).FindStringSubmatch(page.HTML)
	if form == nil {
		t.Fatalf("no self-submitting form:\n%s", page.HTML)
	}
	if form[1] != "https://kyc.example.com/verify/signin" {
		t.Fatalf("form posts to %s", form[1])
	}
	token := html.UnescapeString(form[2])
	if strings.Count(page.HTML, token) != 1 {
		t.Fatal("the token appears elsewhere than in the form's hidden field")
	}
	for _, attr := range regexp.MustCompile(`(?:href|src|action)="([^"]*)"`).FindAllStringSubmatch(page.HTML, -1) {
		if strings.Contains(attr[1], token[:20]) || strings.Contains(attr[1], "token=") {
			t.Fatalf("token in a URL: %s", attr[1])
		}
	}
	if !strings.Contains(page.HTML, `<script src="modules/addons/kycgate/assets/kycgate.js" defer></script>`) || !strings.Contains(page.HTML, ">繼續</button>") {
		t.Fatalf("no script or no visible fallback button:\n%s", page.HTML)
	}
	var cfg json.RawMessage
	res.result(3, &cfg)
	v, _ := verifierFor(t, cfg)
	c, err := v.Verify(context.Background(), token)
	if err != nil || c.Subject != "1001" || c.Lang != "zh-Hant" {
		t.Fatalf("token: %+v %v", c, err)
	}
	for _, i := range []int{1, 2} {
		res.result(i, &page)
		if strings.Contains(page.HTML, "kycgate-signin\"") || !strings.Contains(page.HTML, "連結已過期") {
			t.Fatalf("step %d minted a token:\n%s", i, page.HTML)
		}
	}
	res.result(4, &page)
	if strings.Contains(page.HTML, "kycgate-signin\"") || !strings.Contains(page.HTML, "只有客戶本人可以") {
		t.Fatalf("an admin logged in as the client was signed in:\n%s", page.HTML)
	}
	js := readFile(t, addonDir+"/assets/kycgate.js")
	if !strings.Contains(js, "getElementById('kycgate-signin')") || !strings.Contains(js, "form.submit()") {
		t.Fatal("kycgate.js does not submit the sign-in form")
	}
}
