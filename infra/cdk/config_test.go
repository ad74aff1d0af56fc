package main

import (
	"github.com/kycgate/kycgate/shared/kyc"

	"slices"
	"strings"
	"testing"
)

// cdk.json's context gives the documented defaults, through the same parser
// the app uses when it runs without the CDK CLI.
func TestConfigFromCDKJSON(t *testing.T) {
	ctx, err := cdkJSONContext("../../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatalf("cdk.json context is not a valid config: %v", err)
	}
	if cfg.JWTIssuer != "https://kyc.local/issuer" || !slices.Equal(cfg.JWTAudience, []string{"kyc-gate"}) {
		t.Errorf("issuer/audience = %q/%q", cfg.JWTIssuer, cfg.JWTAudience)
	}
	if !slices.Equal(cfg.UploadOrigins, []string{"http://127.0.0.1:8080", "http://localhost:8080"}) {
		t.Errorf("uploadOrigins = %q", cfg.UploadOrigins)
	}
	if !slices.Equal(cfg.OtherProducts, []string{"shared-hosting"}) || cfg.Regions.Env() != "hk=Asia/Hong_Kong,tw=Asia/Taipei" {
		t.Errorf("catalogue: other products %q, regions %q", cfg.OtherProducts, cfg.Regions.Env())
	}
	if !slices.Equal(cfg.KYCProducts, []string{"kyc-vps"}) || cfg.BillingMode != "whmcs" || cfg.ReviewSLAHours != 24 ||
		cfg.MaxUploadBytes != 10485760 || cfg.MailFrom != "kyc@example.com" || cfg.PortalURL != "http://127.0.0.1:8080" {
		t.Errorf("defaults = %+v", cfg)
	}
	if cfg.AlarmEmail != "" {
		t.Errorf("alarmEmail default = %q, want none", cfg.AlarmEmail)
	}
	for _, flag := range []string{"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", "@aws-cdk/aws-events:eventsTargetQueueSameAccount"} {
		if ctx[flag] != true {
			t.Errorf("cdk.json: feature flag %s = %v, the stack relies on it being true", flag, ctx[flag])
		}
	}
}

func TestConfigDefaultsWhenContextIsEmpty(t *testing.T) {
	get := func(k string) any {
		return map[string]any{
			ctxJWTIssuer: "https://issuer.example", ctxJWTAudience: "a", ctxUploadOrigins: "https://portal.example",
			ctxMailFrom: "kyc@example.com", ctxPortalURL: "https://portal.example",
		}[k]
	}
	cfg, err := configFromContext(get)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		JWTIssuer: "https://issuer.example", JWTAudience: []string{"a"}, UploadOrigins: []string{"https://portal.example"},
		KYCProducts: []string{"kyc-vps"}, BillingMode: "whmcs", MailFrom: "kyc@example.com", PortalURL: "https://portal.example",
		ReviewSLAHours: 24, APIThrottleRate: 50, APIThrottleBurst: 100, MaxUploadBytes: 10485760, MetricsNamespace: "KycGate",
		Tickets: "", // WHMCS tickets only when a support department is configured
	}
	if got := cfg; !slices.Equal(got.KYCProducts, want.KYCProducts) || got.BillingMode != want.BillingMode ||
		got.ReviewSLAHours != want.ReviewSLAHours || got.APIThrottleRate != want.APIThrottleRate || got.APIThrottleBurst != want.APIThrottleBurst ||
		got.MaxUploadBytes != want.MaxUploadBytes || got.MetricsNamespace != want.MetricsNamespace || got.Tickets != want.Tickets {
		t.Errorf("config = %+v, want %+v", got, want)
	}
}

// Values given with `cdk -c key=value` arrive as strings.
func TestConfigAcceptsCommandLineStrings(t *testing.T) {
	ctx := map[string]any{
		ctxJWTIssuer: "https://issuer.example", ctxJWTAudience: `["a","b"]`, ctxUploadOrigins: "https://a.example, https://b.example",
		ctxMailFrom: "kyc@example.com", ctxPortalURL: "https://portal.example", ctxReviewSLAHours: "48", ctxBillingMode: "webhook",
		ctxMaxUploadBytes: "2048",
	}
	cfg, err := configFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.JWTAudience, []string{"a", "b"}) || !slices.Equal(cfg.UploadOrigins, []string{"https://a.example", "https://b.example"}) ||
		cfg.ReviewSLAHours != 48 || cfg.MaxUploadBytes != 2048 || cfg.BillingMode != "webhook" || cfg.Tickets != "" {
		t.Errorf("config = %+v", cfg)
	}
}

func TestConfigRejectsInvalidValues(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			ctxJWTIssuer: "https://issuer.example", ctxJWTAudience: "a", ctxUploadOrigins: []any{"https://portal.example"},
			ctxMailFrom: "kyc@example.com", ctxPortalURL: "https://portal.example",
		}
	}
	tests := []struct {
		name, key string
		value     any
		wantErr   string
	}{
		{"http issuer", ctxJWTIssuer, "http://issuer.example", "jwtIssuer"},
		{"no audience", ctxJWTAudience, []any{}, "jwtAudience"},
		{"wildcard origin", ctxUploadOrigins, []any{"*"}, "uploadOrigins"},
		{"wildcard subdomain origin", ctxUploadOrigins, []any{"https://*.example.com"}, "uploadOrigins"},
		{"origin with a path", ctxUploadOrigins, []any{"https://portal.example/app"}, "uploadOrigins"},
		{"unknown billing mode", ctxBillingMode, "stripe", "billingMode"},
		{"sender with a display name", ctxMailFrom, "KYC <kyc@example.com>", "mailFrom"},
		{"zero SLA", ctxReviewSLAHours, 0.0, "reviewSlaHours"},
		{"negative upload size", ctxMaxUploadBytes, -1.0, "maxUploadBytes"},
		{"list of numbers", ctxKYCProducts, []any{1.0}, "kycProducts"},
		{"product with a comma", ctxKYCProducts, []any{"a,b"}, "kycProducts"},
		{"a product with and without KYC", ctxOtherProducts, []any{"kyc-vps"}, "otherProducts"},
		{"no regions", ctxRegions, map[string]any{}, "regions"},
		{"tickets without the API admin", ctxTickets, "whmcs", "whmcsAdminUsername"},
		{"a provisioning department that is no id", ctxProvisioningDept, "ops", "provisioningDeptId"},
		{"a region without a time zone", ctxRegions, map[string]any{"hk": ""}, "regions"},
		{"an unknown time zone", ctxRegions, map[string]any{"hk": "Asia/Kowloon"}, "regions"},
		{"a time zone that is not a string", ctxRegions, map[string]any{"hk": 8.0}, "regions"},
		{"regions as a list", ctxRegions, []any{"hk"}, "regions"},
		{"number not a number", ctxAPIThrottleRate, "fast", "apiThrottleRate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := base()
			ctx[tt.key] = tt.value
			_, err := configFromContext(func(k string) any { return ctx[k] })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

// regions: the jurisdictions and their time zones, from cdk.json's object or
// a JSON string on the command line; the functions get them as KYC_REGIONS.
func TestRegions(t *testing.T) {
	base := map[string]any{ctxJWTIssuer: "https://issuer.example", ctxJWTAudience: "a", ctxUploadOrigins: "https://portal.example",
		ctxMailFrom: "kyc@example.com", ctxPortalURL: "https://portal.example"}
	cfg, err := configFromContext(func(k string) any { return base[k] })
	if err != nil || cfg.Regions.Env() != "hk=Asia/Hong_Kong,tw=Asia/Taipei" {
		t.Fatalf("default regions %q, %v", cfg.Regions.Env(), err)
	}
	base[ctxRegions] = `{"sg": "Asia/Singapore", "hk": "Asia/Hong_Kong"}`
	cfg, err = configFromContext(func(k string) any { return base[k] })
	if err != nil || cfg.Regions.Env() != "hk=Asia/Hong_Kong,sg=Asia/Singapore" {
		t.Fatalf("regions from the command line %q, %v", cfg.Regions.Env(), err)
	}
	if rs, err := kyc.ParseRegions(cfg.Regions.Env()); err != nil || rs["sg"].String() != "Asia/Singapore" {
		t.Fatalf("KYC_REGIONS %q does not parse as the functions read it: %v", cfg.Regions.Env(), err)
	}
}

// retentionDays sets the bucket's lifecycle rule and the functions'
// KYC_RETENTION together; defaults are the policy engine's.
func TestRetentionDays(t *testing.T) {
	base := map[string]any{ctxJWTIssuer: "https://issuer.example", ctxJWTAudience: "a", ctxUploadOrigins: "https://portal.example",
		ctxMailFrom: "kyc@example.com", ctxPortalURL: "https://portal.example"}
	cfg, err := configFromContext(func(k string) any { return base[k] })
	if err != nil || cfg.Retention != DefaultRetention {
		t.Fatalf("default retention = %+v, %v", cfg.Retention, err)
	}
	if got, err := kyc.ParseRetention(DefaultRetention.Env()); err != nil || got != kyc.DefaultRetention {
		t.Fatalf("the stack's default retention %q is not the policy engine's: %+v, %v", DefaultRetention.Env(), got, err)
	}
	base[ctxRetention] = `{"rejected": 30}`
	if cfg, err = configFromContext(func(k string) any { return base[k] }); err != nil || cfg.Retention.RejectedDays != 30 || cfg.Retention.UnsubmittedDays != 7 {
		t.Fatalf("override = %+v, %v", cfg.Retention, err)
	}
	for _, bad := range []any{`{"rejected": 0}`, `{"forever": 1}`, `{"rejected": 1.5}`, "seven"} {
		base[ctxRetention] = bad
		if _, err := configFromContext(func(k string) any { return base[k] }); err == nil {
			t.Errorf("retentionDays %v accepted", bad)
		}
	}
}

// The pages' context: sign-in keys as a JSON list (cdk.json) or a string
// (-c), the sign-in issuer's default, the staff issuer with its client.
func TestPagesContext(t *testing.T) {
	ctx, err := cdkJSONContext("../../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	key := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
	for _, keys := range []any{
		[]any{map[string]any{"kid": "whmcs-1", "alg": "EdDSA", "publicKey": key}},
		`[{"kid":"whmcs-1","alg":"EdDSA","publicKey":"` + strings.ReplaceAll(key, "\n", `\n`) + `"}]`,
	} {
		c := map[string]any{}
		for k, v := range ctx {
			c[k] = v
		}
		c[ctxSigninKeys] = keys
		c[ctxStaffIssuer], c[ctxStaffClientID] = "https://login.example.com/realms/staff", "kyc-console"
		c[ctxPublicURL] = "https://kyc.example.com"
		cfg, err := configFromContext(func(k string) any { return c[k] })
		if err != nil {
			t.Fatalf("%T keys: %v", keys, err)
		}
		if !strings.Contains(cfg.SigninKeys, `"kid":"whmcs-1"`) || cfg.SigninIssuer != "whmcs" || cfg.StaffClientID != "kyc-console" ||
			cfg.PublicURL != "https://kyc.example.com" {
			t.Errorf("%T keys: %+v", keys, cfg)
		}
	}
	c := map[string]any{}
	for k, v := range ctx {
		c[k] = v
	}
	c[ctxSigninKeys] = 42
	if _, err := configFromContext(func(k string) any { return c[k] }); err == nil || !strings.Contains(err.Error(), "signinKeys") {
		t.Fatalf("signinKeys 42: %v", err)
	}
}
