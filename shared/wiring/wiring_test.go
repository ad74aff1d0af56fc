package wiring

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Every function of contract.Specs has a definition, in the same order, and
// none more.
func TestEveryFunctionIsDefined(t *testing.T) {
	var got []string
	for _, d := range All {
		got = append(got, d.Spec.Name)
		if d.build == nil {
			t.Errorf("%s has no builder", d.Spec.Name)
		}
		if l, ok := Lookup(d.Spec.Name); !ok || l.Spec.Name != d.Spec.Name {
			t.Errorf("Lookup(%s) = %v, %v", d.Spec.Name, l.Spec.Name, ok)
		}
	}
	if !slices.Equal(got, contract.Functions) {
		t.Fatalf("definitions %v, functions %v", got, contract.Functions)
	}
	if _, ok := Lookup("nope"); ok {
		t.Fatal("Lookup found a function that does not exist")
	}
}

// validEnv is a value for every variable the wiring reads.
var validEnv = map[string]string{
	contract.EnvTable: "kyc", contract.EnvBucket: "docs", contract.EnvKeyID: "arn:aws:kms:eu-west-1:1:key/k",
	contract.EnvMacKeyID: "arn:aws:kms:eu-west-1:1:key/m", contract.EnvEventBus: "kyc-bus",
	contract.EnvKYCProducts: "kyc-vps, kyc-dedicated", contract.EnvOtherProducts: "shared-hosting", contract.EnvMaxUploadBytes: "1048576",
	contract.EnvRegions:   "hk=Asia/Hong_Kong,tw=Asia/Taipei",
	contract.EnvRetention: "unsubmitted=24h", contract.EnvWebhookSecretARN: "arn:webhook",
	contract.EnvBillingMode: "whmcs", contract.EnvBillingURL: "https://billing.example.com/includes/api.php",
	contract.EnvBillingSecretARN: "arn:billing", contract.EnvMailFrom: "kyc@example.com",
	contract.EnvMailReplyTo: "support@example.com", contract.EnvPortalURL: "https://portal.example.com/kyc",
	contract.EnvTicketMode: "whmcs", contract.EnvTicketDeptID: "3", contract.EnvReviewSLA: "12h",
	contract.EnvMetricsNamespace: "KycGate",
	contract.EnvPublicURL:        "https://kyc.example.com", contract.EnvSessionSecretARN: "arn:session",
	contract.EnvSigninIssuer: "whmcs", contract.EnvSigninAudience: "https://kyc.example.com/verify",
	contract.EnvSigninKeys: `[{"kid":"k1","alg":"EdDSA","publicKey":"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"}]`,
	contract.EnvOIDCIssuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", contract.EnvOIDCClientID: "client",
	contract.EnvWHMCSAdmin: "kyc-gate", contract.EnvProvisioningDeptID: "5",
	contract.EnvBillingQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/kyc-billing",
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Every variable of every spec is one the wiring reads and parses.
func TestLoadReadsEverySpecVariable(t *testing.T) {
	for _, spec := range contract.Specs {
		c, err := Load(spec, envOf(validEnv))
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		if c.Table != "kyc" {
			t.Errorf("%s: table %q", spec.Name, c.Table)
		}
	}
	c, err := Load(contract.SpecOf(contract.FunctionSweep), envOf(validEnv))
	if err != nil || c.ReviewSLA != 12*time.Hour || c.Retention.Unsubmitted != 24*time.Hour || c.Retention.Rejected != kyc.DefaultRetention.Rejected {
		t.Fatalf("sweep config %+v, %v", c, err)
	}
	c, _ = Load(contract.SpecOf(contract.FunctionCustomerAPI), envOf(validEnv))
	if !c.Products.RequiresKYC("kyc-dedicated") || c.Products.RequiresKYC("shared-hosting") || c.MaxUploadBytes != 1<<20 {
		t.Fatalf("customer-api config %+v", c)
	}
	// The intake knows every product an order may name, and the regions.
	c, _ = Load(contract.SpecOf(contract.FunctionBillingIntake), envOf(validEnv))
	p := c.policy()
	if !p.Products.RequiresKYC("kyc-vps") || !p.Products.Known("shared-hosting") || p.Products.RequiresKYC("shared-hosting") ||
		p.Products.Known("kyc-vsp") || p.Regions.String() != "hk=Asia/Hong_Kong,tw=Asia/Taipei" {
		t.Fatalf("billing-intake policy %+v", p)
	}
	// A variable a spec lists but the wiring does not read is a mistake.
	bogus := contract.SpecOf(contract.FunctionSweep)
	bogus.Env = append(slices.Clone(bogus.Env), "KYC_NOTHING")
	if _, err := Load(bogus, envOf(map[string]string{"KYC_NOTHING": "x"})); err == nil || !strings.Contains(err.Error(), "KYC_NOTHING") {
		t.Fatalf("an unread variable: %v", err)
	}
}

// Missing variables are reported together, bad values each with its name.
func TestLoadRefusesBadConfiguration(t *testing.T) {
	without := func(names ...string) map[string]string {
		m := map[string]string{}
		for k, v := range validEnv {
			if !slices.Contains(names, k) {
				m[k] = v
			}
		}
		return m
	}
	with := func(k, v string) map[string]string {
		m := without()
		m[k] = v
		return m
	}
	for _, tt := range []struct {
		name string
		fn   string
		env  map[string]string
		want []string
	}{
		{"two missing at once", contract.FunctionCustomerAPI, without(contract.EnvTable, contract.EnvBucket), []string{contract.EnvTable, contract.EnvBucket}},
		{"byte count", contract.FunctionValidator, with(contract.EnvMaxUploadBytes, "10MB"), []string{contract.EnvMaxUploadBytes}},
		{"negative byte count", contract.FunctionValidator, with(contract.EnvMaxUploadBytes, "-1"), []string{contract.EnvMaxUploadBytes}},
		{"retention", contract.FunctionSweep, with(contract.EnvRetention, "forever"), []string{contract.EnvRetention}},
		{"SLA", contract.FunctionSweep, with(contract.EnvReviewSLA, "1 day"), []string{contract.EnvReviewSLA}},
		{"billing mode", contract.FunctionBillingAdapter, with(contract.EnvBillingMode, "stripe"), []string{contract.EnvBillingMode}},
		{"billing URL", contract.FunctionBillingAdapter, with(contract.EnvBillingURL, "billing.example.com"), []string{contract.EnvBillingURL}},
		{"sender", contract.FunctionNotifier, with(contract.EnvMailFrom, "KYC <kyc@example.com>"), []string{contract.EnvMailFrom}},
		{"ticket mode", contract.FunctionNotifier, with(contract.EnvTicketMode, "zendesk"), []string{contract.EnvTicketMode}},
		{"tickets without a department", contract.FunctionNotifier, without(contract.EnvTicketDeptID), []string{contract.EnvTicketDeptID}},
		{"tickets without the API admin", contract.FunctionNotifier, without(contract.EnvWHMCSAdmin), []string{contract.EnvWHMCSAdmin}},
		{"a provisioning department that is no id", contract.FunctionBillingAdapter, with(contract.EnvProvisioningDeptID, "ops"), []string{contract.EnvProvisioningDeptID}},
		{"no billing queue", contract.FunctionBillingAdapter, without(contract.EnvBillingQueueURL), []string{contract.EnvBillingQueueURL}},
		{"no regions", contract.FunctionBillingIntake, without(contract.EnvRegions), []string{contract.EnvRegions}},
		{"a region without a time zone", contract.FunctionBillingIntake, with(contract.EnvRegions, "hk"), []string{contract.EnvRegions}},
		{"an unknown time zone", contract.FunctionBillingIntake, with(contract.EnvRegions, "hk=Asia/Kowloon"), []string{contract.EnvRegions}},
		{"a product with and without KYC", contract.FunctionBillingIntake, with(contract.EnvOtherProducts, "shared-hosting,kyc-vps"), []string{contract.EnvOtherProducts}},
		{"public URL with a path", contract.FunctionCustomerAPI, with(contract.EnvPublicURL, "https://kyc.example.com/verify"), []string{contract.EnvPublicURL}},
		{"public URL over http", contract.FunctionAdminAPI, with(contract.EnvPublicURL, "http://kyc.example.com"), []string{contract.EnvPublicURL}},
		{"sign-in keys", contract.FunctionCustomerAPI, with(contract.EnvSigninKeys, `[{"kid":"k","alg":"HS256","publicKey":"x"}]`), []string{contract.EnvSigninKeys}},
		{"staff issuer over http", contract.FunctionAdminAPI, with(contract.EnvOIDCIssuer, "http://login.example.com"), []string{contract.EnvOIDCIssuer}},
		{"no session secret", contract.FunctionAdminAPI, without(contract.EnvSessionSecretARN), []string{contract.EnvSessionSecretARN}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(contract.SpecOf(tt.fn), envOf(tt.env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
	// Products that need no KYC are optional: a catalogue of KYC products only.
	if c, err := Load(contract.SpecOf(contract.FunctionBillingIntake), envOf(without(contract.EnvOtherProducts))); err != nil || len(c.Products) != 2 {
		t.Fatalf("billing-intake without other products: %+v, %v", c.Products, err)
	}
	// Sign-in keys are optional: without them the customer's page says
	// sign-in is not set up; a loopback http origin is the dev server's.
	c, err := Load(contract.SpecOf(contract.FunctionCustomerAPI), envOf(with(contract.EnvPublicURL, "http://127.0.0.1:8080")))
	if err != nil || len(c.SigninKeys) != 1 || c.PublicURL != "http://127.0.0.1:8080" {
		t.Fatalf("customer-api: %+v, %v", c.SigninKeys, err)
	}
	if c, err := Load(contract.SpecOf(contract.FunctionCustomerAPI), envOf(without(contract.EnvSigninKeys))); err != nil || c.SigninKeys != nil {
		t.Fatalf("customer-api without sign-in keys: %v", err)
	}
	// Tickets off: the notifier needs nothing of WHMCS.
	if _, err := Load(contract.SpecOf(contract.FunctionNotifier), envOf(without(contract.EnvTicketMode, contract.EnvTicketDeptID,
		contract.EnvBillingURL, contract.EnvBillingSecretARN))); err != nil {
		t.Fatalf("notifier without tickets: %v", err)
	}
}

// The billing intake takes exactly the two shapes the stack delivers.
func TestQueueOrHTTP(t *testing.T) {
	var got string
	h := queueOrHTTP(
		func(context.Context, json.RawMessage) (any, error) { got = "queue"; return nil, nil },
		func(context.Context, json.RawMessage) (any, error) { got = "http"; return nil, nil })
	for _, tt := range []struct{ event, want string }{
		{`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`, "queue"},
		{`{"version":"2.0","routeKey":"POST /v1/billing/events","requestContext":{"http":{"method":"POST"}}}`, "http"},
		{`{"source":"billing","detail-type":"OrderPlaced","detail":{}}`, ""},
		{`{"Records":[{"eventSource":"aws:s3"}]}`, "queue"},
		{`{"Records":[],"requestContext":{}}`, ""},
		{`[]`, ""},
		{`nope`, ""},
	} {
		got = ""
		_, err := h(context.Background(), json.RawMessage(tt.event))
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("%s → %q, %v; want %q", tt.event, got, err, tt.want)
		}
	}
}

// An API function refuses an event that is not an HTTP API request.
func TestProxyRefusesOtherEvents(t *testing.T) {
	p := proxy(http.NotFoundHandler())
	for _, e := range []string{`{"Records":[]}`, `{"source":"aws.scheduler","time":"2026-01-01T00:00:00Z"}`, `{}`} {
		if _, err := p(context.Background(), json.RawMessage(e)); err == nil {
			t.Errorf("%s accepted", e)
		}
	}
	res, err := p(context.Background(), json.RawMessage(`{"version":"2.0","rawPath":"/x","requestContext":{"http":{"method":"GET","path":"/x"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(res); !strings.Contains(string(b), `"statusCode":404`) {
		t.Fatalf("proxied answer %s", b)
	}
}

// A function whose configuration is refused is not built.
func TestBuildRefusesBadConfiguration(t *testing.T) {
	_, err := Sweep.Build(context.Background(), envOf(map[string]string{}), Clients{}, Host{})
	if err == nil || !strings.Contains(err.Error(), "missing environment") {
		t.Fatalf("Build without environment: %v", err)
	}
	var unused *kyc.Error
	if errors.As(err, &unused) {
		t.Fatal("a configuration error is not a rule violation")
	}
}
