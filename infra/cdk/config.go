package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/web"
)

// Config is everything about a deployment that is configuration rather than
// code: who issues the tokens, which origins may upload, which products need
// KYC, how to reach the billing system. It comes from the CDK context (cdk.json
// holds the defaults; `cdk deploy -c key=value` overrides them).
type Config struct {
	JWTIssuer        string    // JWT authorizer issuer (https URL)
	JWTAudience      []string  // accepted "aud" values
	UploadOrigins    []string  // browser origins allowed to POST uploads and call the API
	KYCProducts      []string  // product ids that require KYC
	OtherProducts    []string  // product ids an order may name that need no KYC (any other product is refused)
	Regions          Regions   // server regions and the time zone of each (customer-facing times)
	BillingMode      string    // "whmcs" or "webhook"
	BillingURL       string    // WHMCS API URL or outbound webhook URL
	MailFrom         string    // SES sender address
	MailReplyTo      string    // optional Reply-To
	PortalURL        string    // customer portal linked from emails
	ReviewSLAHours   int       // reviews older than this raise the SLA alarm
	AlarmEmail       string    // optional e-mail subscription of the alarm topic
	APIThrottleRate  float64   // default route steady-state requests per second
	APIThrottleBurst int       // default route burst
	MaxUploadBytes   int64     // largest accepted document
	MetricsNamespace string    // CloudWatch namespace of the sweep's embedded metrics
	Retention        Retention // how long document files are kept
	Tickets          string    // "whmcs" to also open WHMCS tickets, "" for none
	TicketDeptID     string    // WHMCS support department of KYC tickets

	// The pages (docs/runbook.md "The pages").
	PublicURL           string // the gate's origin as browsers reach it (a custom domain); default: the HTTP API's endpoint
	SigninKeys          string // the billing system's sign-in public keys, JSON (signin.ParseKeys); empty: customer sign-in off
	SigninIssuer        string // "iss" of the sign-in tokens; default "whmcs"
	SigninAudience      string // "aud" of the sign-in tokens; default <PublicURL>/verify
	StaffIssuer         string // the staff OpenID Connect issuer; empty: the stack's Cognito user pool
	StaffClientID       string // the console's client id at StaffIssuer (required with it)
	CognitoDomainPrefix string // the Cognito hosted domain's prefix; default kycgate-<account id>
	// WHMCSAdmin is the username of the WHMCS admin the API credential
	// belongs to (ticket replies are that admin's); required with tickets.
	WHMCSAdmin string
	// ProvisioningDeptID is the WHMCS department of the staff tickets that
	// ask for a product without a module to be set up by hand (default
	// TicketDeptID).
	ProvisioningDeptID string
}

// Context keys read by configFromContext (cdk.json "context" holds defaults).
const (
	ctxJWTIssuer        = "jwtIssuer"
	ctxJWTAudience      = "jwtAudience"
	ctxUploadOrigins    = "uploadOrigins"
	ctxKYCProducts      = "kycProducts"
	ctxOtherProducts    = "otherProducts"
	ctxRegions          = "regions"
	ctxBillingMode      = "billingMode"
	ctxBillingURL       = "billingUrl"
	ctxMailFrom         = "mailFrom"
	ctxMailReplyTo      = "mailReplyTo"
	ctxPortalURL        = "portalUrl"
	ctxReviewSLAHours   = "reviewSlaHours"
	ctxAlarmEmail       = "alarmEmail"
	ctxAPIThrottleRate  = "apiThrottleRate"
	ctxAPIThrottleBurst = "apiThrottleBurst"
	ctxMaxUploadBytes   = "maxUploadBytes"
	ctxMetricsNamespace = "metricsNamespace"
	ctxRetention        = "retentionDays"
	ctxTickets          = "tickets"
	ctxTicketDeptID     = "ticketDeptId"
	ctxWHMCSAdmin       = "whmcsAdminUsername"
	ctxProvisioningDept = "provisioningDeptId"
	ctxFunctionsDir     = "functionsDir"
	ctxPublicURL        = "publicUrl"
	ctxSigninKeys       = "signinKeys"
	ctxSigninIssuer     = "signinIssuer"
	ctxSigninAudience   = "signinAudience"
	ctxStaffIssuer      = "staffIssuer"
	ctxStaffClientID    = "staffClientId"
	ctxCognitoDomain    = "cognitoDomainPrefix"
)

// Defaults used when a context value is absent.
const (
	defaultBillingMode      = "whmcs"
	defaultReviewSLAHours   = 24
	defaultThrottleRate     = 50
	defaultThrottleBurst    = 100
	defaultMaxUploadBytes   = 10 << 20 // 10 MiB
	defaultMetricsNamespace = "KycGate"
	defaultFunctionsDir     = "build/lambda"
	defaultSigninIssuer     = "whmcs"
)

// contextGetter is the part of constructs.Node that configFromContext needs,
// so tests can feed it a plain map.
type contextGetter func(key string) any

// configFromContext reads and validates the deployment configuration.
func configFromContext(get contextGetter) (Config, error) {
	var errs []error
	str := func(key, def string) string {
		v, err := ctxString(get(key), def)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
		return v
	}
	list := func(key string, def []string) []string {
		v, err := ctxList(get(key), def)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
		return v
	}
	num := func(key string, def float64) float64 {
		v, err := ctxNumber(get(key), def)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %w", key, err))
		}
		return v
	}

	c := Config{
		JWTIssuer:        str(ctxJWTIssuer, ""),
		JWTAudience:      list(ctxJWTAudience, nil),
		UploadOrigins:    list(ctxUploadOrigins, nil),
		KYCProducts:      list(ctxKYCProducts, []string{"kyc-vps"}),
		OtherProducts:    list(ctxOtherProducts, nil),
		Regions:          regions(get(ctxRegions), &errs),
		BillingMode:      str(ctxBillingMode, defaultBillingMode),
		BillingURL:       str(ctxBillingURL, ""),
		MailFrom:         str(ctxMailFrom, ""),
		MailReplyTo:      str(ctxMailReplyTo, ""),
		PortalURL:        str(ctxPortalURL, ""),
		ReviewSLAHours:   int(num(ctxReviewSLAHours, defaultReviewSLAHours)),
		AlarmEmail:       str(ctxAlarmEmail, ""),
		APIThrottleRate:  num(ctxAPIThrottleRate, defaultThrottleRate),
		APIThrottleBurst: int(num(ctxAPIThrottleBurst, defaultThrottleBurst)),
		MaxUploadBytes:   int64(num(ctxMaxUploadBytes, defaultMaxUploadBytes)),
		MetricsNamespace: str(ctxMetricsNamespace, defaultMetricsNamespace),
		TicketDeptID:     str(ctxTicketDeptID, ""),
		Retention:        retention(get(ctxRetention), &errs),

		PublicURL:           str(ctxPublicURL, ""),
		SigninKeys:          signinKeys(get(ctxSigninKeys), &errs),
		SigninIssuer:        str(ctxSigninIssuer, defaultSigninIssuer),
		SigninAudience:      str(ctxSigninAudience, ""),
		StaffIssuer:         str(ctxStaffIssuer, ""),
		StaffClientID:       str(ctxStaffClientID, ""),
		CognitoDomainPrefix: str(ctxCognitoDomain, ""),
	}
	// Tickets default to WHMCS's when billing is WHMCS and a support
	// department to open them in is configured.
	defTickets := ""
	if c.BillingMode == "whmcs" && c.TicketDeptID != "" {
		defTickets = "whmcs"
	}
	c.Tickets = str(ctxTickets, defTickets)
	c.WHMCSAdmin = str(ctxWHMCSAdmin, "")
	c.ProvisioningDeptID = str(ctxProvisioningDept, c.TicketDeptID)
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if u, err := url.Parse(c.JWTIssuer); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("jwtIssuer %q: must be an https URL (API Gateway JWT authorizers require it)", c.JWTIssuer)
	}
	if len(c.JWTAudience) == 0 {
		bad("jwtAudience: at least one audience is required")
	}
	if len(c.UploadOrigins) == 0 {
		bad("uploadOrigins: at least one origin is required")
	}
	for _, o := range c.UploadOrigins {
		u, err := url.Parse(o)
		if o == "*" || strings.Contains(o, "*") || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") {
			bad("uploadOrigins %q: must be a scheme://host[:port] origin, no wildcard", o)
		}
	}
	if len(c.KYCProducts) == 0 {
		bad("kycProducts: at least one product id is required")
	}
	for _, p := range c.KYCProducts {
		if p == "" || strings.Contains(p, ",") {
			bad("kycProducts %q: must be non-empty and contain no comma", p)
		}
	}
	for _, p := range c.OtherProducts {
		switch {
		case p == "" || strings.Contains(p, ","):
			bad("otherProducts %q: must be non-empty and contain no comma", p)
		case slices.Contains(c.KYCProducts, p):
			bad("otherProducts %q: also in kycProducts; a product requires KYC or does not", p)
		}
	}
	if _, err := kyc.ParseRegions(c.Regions.Env()); err != nil {
		bad("%v (context regions: {\"hk\": \"Asia/Hong_Kong\", ...})", err)
	}
	switch c.BillingMode {
	case "whmcs", "webhook":
	default:
		bad("billingMode %q: must be \"whmcs\" or \"webhook\"", c.BillingMode)
	}
	if c.BillingURL != "" {
		if u, err := url.Parse(c.BillingURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad("billingUrl %q: must be an http(s) URL", c.BillingURL)
		}
	}
	if !strings.Contains(c.MailFrom, "@") || strings.ContainsAny(c.MailFrom, " <>") {
		bad("mailFrom %q: must be a bare e-mail address (the SES sender identity)", c.MailFrom)
	}
	if u, err := url.Parse(c.PortalURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		bad("portalUrl %q: must be an http(s) URL", c.PortalURL)
	}
	if c.ReviewSLAHours <= 0 {
		bad("reviewSlaHours %d: must be positive", c.ReviewSLAHours)
	}
	if c.AlarmEmail != "" && !strings.Contains(c.AlarmEmail, "@") {
		bad("alarmEmail %q: must be an e-mail address", c.AlarmEmail)
	}
	if c.APIThrottleRate <= 0 || c.APIThrottleBurst <= 0 {
		bad("apiThrottleRate/apiThrottleBurst (%v/%d): must be positive", c.APIThrottleRate, c.APIThrottleBurst)
	}
	if c.MaxUploadBytes <= 0 || c.MaxUploadBytes > 5<<30 {
		bad("maxUploadBytes %d: must be between 1 and 5 GiB (a single POST upload)", c.MaxUploadBytes)
	}
	if c.MetricsNamespace == "" {
		bad("metricsNamespace: must not be empty")
	}
	switch c.Tickets {
	case "", "whmcs":
	default:
		bad("tickets %q: must be \"whmcs\" or empty", c.Tickets)
	}
	if c.PublicURL != "" && !web.ValidOrigin(c.PublicURL) {
		bad("publicUrl %q: must be an origin (https://host[:port], no path)", c.PublicURL)
	}
	if c.SigninKeys != "" {
		if _, err := signin.ParseKeys([]byte(c.SigninKeys)); err != nil {
			bad("signinKeys: %v", err)
		}
	}
	if c.StaffIssuer != "" && !web.ValidIssuer(c.StaffIssuer) {
		bad("staffIssuer %q: must be an https URL", c.StaffIssuer)
	}
	if (c.StaffIssuer == "") != (c.StaffClientID == "") {
		bad("staffIssuer and staffClientId: give both (your own issuer) or neither (the stack's Cognito user pool)")
	}
	if p := c.CognitoDomainPrefix; p != "" && !cognitoPrefix.MatchString(p) {
		bad("cognitoDomainPrefix %q: lower-case letters, digits and hyphens, 1-63, not starting or ending with a hyphen", p)
	}
	if c.Tickets == "whmcs" && c.WHMCSAdmin == "" {
		bad("whmcsAdminUsername: required with tickets \"whmcs\" (the WHMCS admin of the API credential; ticket replies are that admin's)")
	}
	if c.ProvisioningDeptID != "" {
		if n, err := strconv.Atoi(c.ProvisioningDeptID); err != nil || n <= 0 {
			bad("provisioningDeptId %q: must be a WHMCS support department id", c.ProvisioningDeptID)
		}
	}
	return errors.Join(errs...)
}

var cognitoPrefix = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// signinKeys reads context signinKeys: a JSON list (cdk.json) or a string
// holding one (-c signinKeys='[...]'); it is passed on as JSON.
func signinKeys(v any, errs *[]error) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case []any:
		if len(v) == 0 {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("context signinKeys: %w", err))
		}
		return string(b)
	}
	*errs = append(*errs, fmt.Errorf("context signinKeys: want a JSON list of keys"))
	return ""
}

func ctxString(v any, def string) (string, error) {
	switch v := v.(type) {
	case nil:
		return def, nil
	case string:
		return strings.TrimSpace(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	default:
		return "", fmt.Errorf("want a string, got %T", v)
	}
}

// ctxList accepts a JSON list (cdk.json), or a string (`-c key=...` on the
// command line) holding a JSON list or comma-separated values.
func ctxList(v any, def []string) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return def, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want a list of strings, got element %T", e)
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	case string:
		s := strings.TrimSpace(v)
		if strings.HasPrefix(s, "[") {
			var out []string
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, fmt.Errorf("parse JSON list: %w", err)
			}
			return out, nil
		}
		if s == "" {
			return nil, nil
		}
		var out []string
		for _, part := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(part))
		}
		return out, nil
	default:
		return nil, fmt.Errorf("want a list or a string, got %T", v)
	}
}

func ctxNumber(v any, def float64) (float64, error) {
	switch v := v.(type) {
	case nil:
		return def, nil
	case float64:
		return v, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("want a number: %w", err)
		}
		return f, nil
	default:
		return 0, fmt.Errorf("want a number, got %T", v)
	}
}

// cdkJSONContext returns the "context" object of a cdk.json file.
func cdkJSONContext(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return f.Context, nil
}

// Regions are the server regions (billing's serverRegion, the
// jurisdictions of disclosures) with the IANA time zone customer-facing times
// of each are shown in.
type Regions map[string]string

// DefaultRegions are the local catalogue's: Hong Kong and Taiwan.
var DefaultRegions = Regions{"hk": "Asia/Hong_Kong", "tw": "Asia/Taipei"}

// Env is the functions' KYC_REGIONS value (kyc.ParseRegions), sorted.
func (r Regions) Env() string {
	var parts []string
	for id, zone := range r {
		parts = append(parts, id+"="+zone)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// regions reads context regions: {"hk": "Asia/Hong_Kong", "tw": "Asia/Taipei"}
// (or, from the command line, the same as a JSON string).
func regions(v any, errs *[]error) Regions {
	if v == nil {
		return DefaultRegions
	}
	if s, ok := v.(string); ok {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			*errs = append(*errs, fmt.Errorf("regions: %w", err))
			return nil
		}
		v = m
	}
	m, ok := v.(map[string]any)
	if !ok {
		*errs = append(*errs, fmt.Errorf("regions: want an object of region ids and time zones"))
		return nil
	}
	r := Regions{}
	for id, raw := range m {
		zone, ok := raw.(string)
		if !ok || strings.ContainsAny(id, "=,") || strings.ContainsAny(zone, "=,") {
			*errs = append(*errs, fmt.Errorf("regions.%s: want an IANA time zone name", id))
			continue
		}
		r[id] = zone
	}
	return r
}

// Retention is how many days document files are kept (kyc.Retention): never
// submitted; after a rejection; after the verification expires. The bucket's
// lifecycle rule and the functions' KYC_RETENTION both come from it.
type Retention struct {
	UnsubmittedDays, RejectedDays, AfterExpiryDays int
}

// DefaultRetention is kyc.DefaultRetention in days.
var DefaultRetention = Retention{UnsubmittedDays: 7, RejectedDays: 90, AfterExpiryDays: 90}

// Env is the functions' KYC_RETENTION value.
func (r Retention) Env() string {
	return fmt.Sprintf("unsubmitted=%dh,rejected=%dh,afterExpiry=%dh", r.UnsubmittedDays*24, r.RejectedDays*24, r.AfterExpiryDays*24)
}

// retention reads context retentionDays: {"unsubmitted": 7, "rejected": 90, "afterExpiry": 90}.
func retention(v any, errs *[]error) Retention {
	r := DefaultRetention
	if v == nil {
		return r
	}
	if s, ok := v.(string); ok { // -c retentionDays='{"rejected":30}'
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			*errs = append(*errs, fmt.Errorf("retentionDays: %w", err))
			return r
		}
		v = m
	}
	m, ok := v.(map[string]any)
	if !ok {
		*errs = append(*errs, fmt.Errorf("retentionDays: want an object of day counts"))
		return r
	}
	for k, raw := range m {
		n, ok := raw.(float64)
		if !ok || n < 1 || n != float64(int(n)) {
			*errs = append(*errs, fmt.Errorf("retentionDays.%s: want a whole number of days ≥ 1", k))
			continue
		}
		switch k {
		case "unsubmitted":
			r.UnsubmittedDays = int(n)
		case "rejected":
			r.RejectedDays = int(n)
		case "afterExpiry":
			r.AfterExpiryDays = int(n)
		default:
			*errs = append(*errs, fmt.Errorf("retentionDays.%s: unknown period (unsubmitted, rejected, afterExpiry)", k))
		}
	}
	return r
}
