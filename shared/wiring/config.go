// Package wiring builds each function of the KYC gate from one typed
// configuration, read once from the environment at cold start, and the SDK
// clients. The Lambda mains, the local dev server, `make invoke` and the
// system tests all build functions here, so every way of running a function
// runs the same code wired the same way. What a function needs is its
// contract.Spec; the CDK stack sets the environment and grants from the same
// spec.
package wiring

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/web"
)

// Config is a function's configuration. Only the fields of the variables its
// spec lists are set.
type Config struct {
	Table    string // contract.EnvTable
	Bucket   string // contract.EnvBucket
	KeyID    string // contract.EnvKeyID: the CMK (SSE-KMS of documents, customer data keys)
	MacKeyID string // contract.EnvMacKeyID: the HMAC key of document numbers
	EventBus string // contract.EnvEventBus

	Products       kyc.ProductSet // contract.EnvKYCProducts (true) and contract.EnvOtherProducts (false)
	Regions        kyc.Regions    // contract.EnvRegions
	MaxUploadBytes int64          // contract.EnvMaxUploadBytes
	Retention      kyc.Retention  // contract.EnvRetention

	WebhookSecretARN string // contract.EnvWebhookSecretARN

	BillingMode      string // contract.EnvBillingMode: billing.ModeWHMCS or billing.ModeWebhook
	BillingURL       string // contract.EnvBillingURL
	BillingSecretARN string // contract.EnvBillingSecretARN

	MailFrom     string // contract.EnvMailFrom
	MailReplyTo  string // contract.EnvMailReplyTo
	PortalURL    string // contract.EnvPortalURL
	TicketMode   string // contract.EnvTicketMode: "" or TicketsWHMCS
	TicketDeptID string // contract.EnvTicketDeptID

	WHMCSAdmin         string // contract.EnvWHMCSAdmin
	ProvisioningDeptID string // contract.EnvProvisioningDeptID
	BillingQueueURL    string // contract.EnvBillingQueueURL

	ReviewSLA        time.Duration // contract.EnvReviewSLA
	MetricsNamespace string        // contract.EnvMetricsNamespace

	PublicURL        string       // contract.EnvPublicURL: scheme://host[:port], no path
	SessionSecretARN string       // contract.EnvSessionSecretARN
	SigninKeys       []signin.Key // contract.EnvSigninKeys (none: customer sign-in is off)
	SigninIssuer     string       // contract.EnvSigninIssuer
	SigninAudience   string       // contract.EnvSigninAudience
	OIDCIssuer       string       // contract.EnvOIDCIssuer
	OIDCClientID     string       // contract.EnvOIDCClientID
}

// TicketsWHMCS is the value of contract.EnvTicketMode that also opens WHMCS
// tickets for customer notices.
const TicketsWHMCS = "whmcs"

// Load reads the configuration of a function from env (os.Getenv in Lambda;
// the function's environment in the synthesized template locally). Every
// variable of spec.Env must be set; every variable read is parsed. All
// problems are reported at once, so a misconfigured function fails at start
// with one clear message.
func Load(spec contract.Spec, env func(string) string) (Config, error) {
	var (
		c                  Config
		errs               []error
		kycList, otherList string
	)
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s: %s", name, why)) }
	var missing []string
	for _, name := range spec.Env {
		if env(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("missing environment: %v", missing))
	}
	for _, name := range append(slices.Clone(spec.Env), spec.OptionalEnv...) {
		v := env(name)
		if v == "" {
			continue
		}
		switch name {
		case contract.EnvTable:
			c.Table = v
		case contract.EnvBucket:
			c.Bucket = v
		case contract.EnvKeyID:
			c.KeyID = v
		case contract.EnvMacKeyID:
			c.MacKeyID = v
		case contract.EnvEventBus:
			c.EventBus = v
		case contract.EnvKYCProducts:
			kycList = v
		case contract.EnvOtherProducts:
			otherList = v
		case contract.EnvRegions:
			r, err := kyc.ParseRegions(v)
			if err != nil {
				bad(name, err.Error())
			}
			c.Regions = r
		case contract.EnvMaxUploadBytes:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				bad(name, fmt.Sprintf("%q is not a byte count", v))
			}
			c.MaxUploadBytes = n
		case contract.EnvRetention:
			r, err := kyc.ParseRetention(v)
			if err != nil {
				bad(name, err.Error())
			}
			c.Retention = r
		case contract.EnvWebhookSecretARN:
			c.WebhookSecretARN = v
		case contract.EnvBillingMode:
			if v != billing.ModeWHMCS && v != billing.ModeWebhook {
				bad(name, fmt.Sprintf("%q: must be %q or %q", v, billing.ModeWHMCS, billing.ModeWebhook))
			}
			c.BillingMode = v
		case contract.EnvBillingURL:
			if !httpURL(v) {
				bad(name, "not an http(s) URL")
			}
			c.BillingURL = v
		case contract.EnvBillingSecretARN:
			c.BillingSecretARN = v
		case contract.EnvMailFrom:
			if !plainAddress(v) {
				bad(name, "not a plain e-mail address")
			}
			c.MailFrom = v
		case contract.EnvMailReplyTo:
			if !plainAddress(v) {
				bad(name, "not a plain e-mail address")
			}
			c.MailReplyTo = v
		case contract.EnvPortalURL:
			if !httpURL(v) {
				bad(name, "not an http(s) URL")
			}
			c.PortalURL = v
		case contract.EnvTicketMode:
			if v != TicketsWHMCS {
				bad(name, fmt.Sprintf("%q: must be %q or empty", v, TicketsWHMCS))
			}
			c.TicketMode = v
		case contract.EnvTicketDeptID:
			c.TicketDeptID = v
		case contract.EnvWHMCSAdmin:
			c.WHMCSAdmin = v
		case contract.EnvProvisioningDeptID:
			if n, err := strconv.Atoi(v); err != nil || n <= 0 || strconv.Itoa(n) != v {
				bad(name, fmt.Sprintf("%q is not a WHMCS department id", v))
			}
			c.ProvisioningDeptID = v
		case contract.EnvBillingQueueURL:
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad(name, "not an http(s) URL")
			}
			c.BillingQueueURL = v
		case contract.EnvReviewSLA:
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				bad(name, fmt.Sprintf("%q is not a positive Go duration", v))
			}
			c.ReviewSLA = d
		case contract.EnvMetricsNamespace:
			c.MetricsNamespace = v
		case contract.EnvPublicURL:
			if !web.ValidOrigin(v) {
				bad(name, "not an origin (https://host[:port], or http on a loopback address)")
			}
			c.PublicURL = v
		case contract.EnvSessionSecretARN:
			c.SessionSecretARN = v
		case contract.EnvSigninKeys:
			keys, err := signin.ParseKeys([]byte(v))
			if err != nil {
				bad(name, err.Error())
			}
			c.SigninKeys = keys
		case contract.EnvSigninIssuer:
			c.SigninIssuer = v
		case contract.EnvSigninAudience:
			c.SigninAudience = v
		case contract.EnvOIDCIssuer:
			if !web.ValidIssuer(v) {
				bad(name, "not an issuer URL (https, or http on a loopback address)")
			}
			c.OIDCIssuer = v
		case contract.EnvOIDCClientID:
			c.OIDCClientID = v
		default:
			bad(name, "the wiring does not read this variable (contract.Specs lists it)")
		}
	}
	if kycList != "" || otherList != "" {
		c.Products = kyc.ParseProducts(kycList)
		for p := range kyc.ParseProducts(otherList) {
			if c.Products[p] {
				bad(contract.EnvOtherProducts, fmt.Sprintf("%q is also in %s: a product requires KYC or does not", p, contract.EnvKYCProducts))
			}
		}
		c.Products.Add(otherList, false)
	}
	if c.TicketMode == TicketsWHMCS {
		for _, need := range []struct{ name, v string }{
			{contract.EnvTicketDeptID, c.TicketDeptID}, {contract.EnvBillingURL, c.BillingURL}, {contract.EnvBillingSecretARN, c.BillingSecretARN},
			{contract.EnvWHMCSAdmin, c.WHMCSAdmin},
		} {
			if need.v == "" {
				bad(need.name, "required when "+contract.EnvTicketMode+"="+TicketsWHMCS)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	return c, nil
}

// httpURL reports whether v is an absolute http(s) URL.
func httpURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// plainAddress reports whether v is an e-mail address and nothing else (no
// display name).
func plainAddress(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v
}

// policy is the policy engine's configuration.
func (c Config) policy() kyc.Config {
	return kyc.Config{Products: c.Products, Regions: c.Regions, MaxUploadBytes: c.MaxUploadBytes, KMSKeyID: c.KeyID, Retention: c.Retention}
}
