package contract

// Auth says how API Gateway guards a route.
type Auth string

const (
	AuthJWT  Auth = "jwt"  // the HTTP API's JWT authorizer; roles are checked in the handler
	AuthNone Auth = "none" // no authorizer; the handler checks an HMAC signature itself
)

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
