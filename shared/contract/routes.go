package contract

// Auth says how API Gateway guards a route.
type Auth string

const (
	AuthJWT  Auth = "jwt"  // the HTTP API's JWT authorizer; roles are checked in the handler
	AuthNone Auth = "none" // no authorizer; the handler checks an HMAC signature itself (webhook and signed reads)
	// AuthPage: a page for people (shared/web). API Gateway runs no
	// authorizer (a browser sends no bearer token); the handler reads its own
	// session cookie, and every state change is checked for cross-origin
	// requests.
	AuthPage Auth = "page"
)

// Gateway is how API Gateway authorizes a route of this kind: "JWT" (the
// JWT authorizer) or "NONE" (the handler authenticates).
func (a Auth) Gateway() string {
	if a == AuthJWT {
		return "JWT"
	}
	return "NONE"
}

// Route is one HTTP API route. Pattern uses the syntax shared by API Gateway
// route keys and net/http (Go 1.22+): "METHOD /path/{param}".
type Route struct {
	Pattern  string
	Function string
	Auth     Auth
}

// Routes is every route of the HTTP API. The CDK stack creates exactly these,
// the handlers register exactly these, and the local dev server serves them.
var Routes = []Route{
	{"GET /v1/kyc/requirements", FunctionCustomerAPI, AuthJWT},
	{"GET /v1/kyc/status", FunctionCustomerAPI, AuthJWT},
	{"POST /v1/kyc/documents", FunctionCustomerAPI, AuthJWT},
	{"POST /v1/kyc/submissions", FunctionCustomerAPI, AuthJWT},

	{"GET /v1/admin/submissions", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/submissions/{id}", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/submissions/{id}/documents/{category}", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/submissions/{id}/claim", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/submissions/{id}/decision", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/submissions/{id}/record", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/submissions/{id}/second-approval", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/customers/{id}", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/orders/{id}", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/reasons", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/customers/{id}/legal-hold", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/customers/{id}/audit/verify", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/disclosures", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/disclosures/{id}", FunctionAdminAPI, AuthJWT},
	{"POST /v1/admin/disclosures/{id}/approve", FunctionAdminAPI, AuthJWT},
	{"GET /v1/admin/disclosures/{id}/export", FunctionAdminAPI, AuthJWT},

	{"POST /v1/billing/events", FunctionBillingIntake, AuthNone},

	// The customer's verification page (shared/web).
	{"GET /verify", FunctionCustomerAPI, AuthPage},
	{"POST /verify/signin", FunctionCustomerAPI, AuthPage},
	{"POST /verify/signout", FunctionCustomerAPI, AuthPage},
	{"POST /verify/documents", FunctionCustomerAPI, AuthPage},
	{"GET /verify/documents/{id}", FunctionCustomerAPI, AuthPage},
	{"POST /verify/submit", FunctionCustomerAPI, AuthPage},
	{"GET /verify/assets/{file}", FunctionCustomerAPI, AuthPage},

	// The reviewer console (shared/web).
	{"GET /console", FunctionAdminAPI, AuthPage},
	{"GET /console/signin", FunctionAdminAPI, AuthPage},
	{"GET /console/callback", FunctionAdminAPI, AuthPage},
	{"POST /console/signout", FunctionAdminAPI, AuthPage},
	{"GET /console/queue", FunctionAdminAPI, AuthPage},
	{"GET /console/submissions/{id}", FunctionAdminAPI, AuthPage},
	{"GET /console/submissions/{id}/documents/{category}", FunctionAdminAPI, AuthPage},
	{"POST /console/submissions/{id}/claim", FunctionAdminAPI, AuthPage},
	{"POST /console/submissions/{id}/release", FunctionAdminAPI, AuthPage},
	{"POST /console/submissions/{id}/decision", FunctionAdminAPI, AuthPage},
	{"POST /console/submissions/{id}/record", FunctionAdminAPI, AuthPage},
	{"POST /console/submissions/{id}/second-approval", FunctionAdminAPI, AuthPage},
	{"GET /console/customers/{id}", FunctionAdminAPI, AuthPage},
	{"POST /console/customers/{id}/legal-hold", FunctionAdminAPI, AuthPage},
	{"GET /console/orders/{id}", FunctionAdminAPI, AuthPage},
	{"GET /console/disclosures", FunctionAdminAPI, AuthPage},
	{"POST /console/disclosures", FunctionAdminAPI, AuthPage},
	{"GET /console/disclosures/{id}", FunctionAdminAPI, AuthPage},
	{"POST /console/disclosures/{id}/approve", FunctionAdminAPI, AuthPage},
	{"POST /console/disclosures/{id}/export", FunctionAdminAPI, AuthPage},
	{"GET /console/assets/{file}", FunctionAdminAPI, AuthPage},

	// The billing system's signed reads (docs/whmcs.md §7.3): the signature
	// covers "GET " + the path (shared/webhooksig).
	{"GET /v1/billing/customers/{id}/kyc", FunctionBillingIntake, AuthNone},
	{"GET /v1/billing/review-queue", FunctionBillingIntake, AuthNone},
}

// RoutesOf returns the routes served by one function.
func RoutesOf(function string) []Route {
	var out []Route
	for _, r := range Routes {
		if r.Function == function {
			out = append(out, r)
		}
	}
	return out
}

// APIRoutes returns every JSON API route (every route but the pages): the
// operations of the OpenAPI document.
func APIRoutes() []Route {
	var out []Route
	for _, r := range Routes {
		if r.Auth != AuthPage {
			out = append(out, r)
		}
	}
	return out
}

// APIRoutesOf returns the JSON API routes of one function (every route but
// the pages).
func APIRoutesOf(function string) []Route {
	var out []Route
	for _, r := range RoutesOf(function) {
		if r.Auth != AuthPage {
			out = append(out, r)
		}
	}
	return out
}

// PageRoutesOf returns the page routes of one function.
func PageRoutesOf(function string) []Route {
	var out []Route
	for _, r := range RoutesOf(function) {
		if r.Auth == AuthPage {
			out = append(out, r)
		}
	}
	return out
}

// JWT groups that carry the staff roles (claim "groups" or "cognito:groups").
const (
	GroupReviewers = "kyc-reviewers"
	GroupAdmins    = "kyc-admins"
)

// ClaimBillingCustomer is the token claim that links a staff account to the
// staff member's own customer id in the billing system, if they have one
// (a Cognito custom attribute; docs/runbook.md). Staff never act on that
// customer's KYC.
const ClaimBillingCustomer = "custom:billingCustomerId"
