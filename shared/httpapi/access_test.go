package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// headerAuth authenticates a request as the identity its test headers name:
// X-Sub, X-Groups (comma-separated), X-Customer (the linked customer id).
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (httpapi.Identity, error) {
	id := httpapi.Identity{Subject: r.Header.Get("X-Sub"), Customer: r.Header.Get("X-Customer")}
	if g := r.Header.Get("X-Groups"); g != "" {
		id.Groups = strings.Split(g, ",")
	}
	return id, nil
}

type who struct{ sub, groups, customer string }

var (
	customer = who{sub: "c-1"}
	reviewer = who{sub: "rev-1", groups: contract.GroupReviewers}
	other    = who{sub: "rev-2", groups: contract.GroupReviewers}
	admin    = who{sub: "adm-1", groups: contract.GroupAdmins}
	admin2   = who{sub: "adm-2", groups: contract.GroupAdmins}
)

func serve(h http.Handler, as who, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("X-Sub", as.sub)
	req.Header.Set("X-Groups", as.groups)
	req.Header.Set("X-Customer", as.customer)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// code returns the code of a problem answer (RFC 9457 with the extension
// member "code").
func code(w *httptest.ResponseRecorder) string {
	var p httpapi.Problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	return p.Code
}

// TestCustomerAPIRefusesStaffTokens: every customer route answers 403 to a
// token with a staff group, whatever its subject; a customer's token works.
func TestCustomerAPIRefusesStaffTokens(t *testing.T) {
	w := kyctest.New(t)
	h := httpapi.NewCustomerAPI(w.Service, headerAuth{}, slog.New(slog.DiscardHandler))
	body := map[string]string{
		"POST /v1/kyc/documents":   `{"category":"identity","type":"passport","contentType":"image/jpeg","size":1000}`,
		"POST /v1/kyc/submissions": `{"identityDocumentId":"d-1","addressDocumentId":"d-2"}`,
	}
	for _, r := range contract.APIRoutesOf(contract.FunctionCustomerAPI) {
		method, path, _ := strings.Cut(r.Pattern, " ")
		for _, staff := range []who{{sub: "c-1", groups: contract.GroupReviewers}, {sub: "c-1", groups: contract.GroupAdmins}, reviewer} {
			if got := serve(h, staff, method, path, body[r.Pattern]); got.Code != 403 || code(got) != "staff_token" {
				t.Errorf("%s as %+v = %d %s, want 403 staff_token", r.Pattern, staff, got.Code, got.Body)
			}
		}
	}
	if got := serve(h, customer, "GET", "/v1/kyc/status", ""); got.Code != 200 {
		t.Errorf("a customer's status = %d %s", got.Code, got.Body)
	}
	if len(w.Store.Records()) != 0 {
		t.Errorf("refused requests wrote records:\n%s", w.Store.Records())
	}
}

// TestAdminAPIDocumentGate: the claimer opens a document through the gate:
// 302 to the link, not cached, not sniffed, no referrer; a purpose is for
// admins only; a lift of a legal hold by one admin is 202, by the second 200.
func TestAdminAPIDocumentGate(t *testing.T) {
	w := kyctest.New(t)
	h := httpapi.NewAdminAPI(w.Service, headerAuth{}, slog.New(slog.DiscardHandler))
	w.PlaceOrder("c-1", "o-1")
	sub := w.Submit("c-1")
	w.Claim("rev-1", sub)
	gate := "/v1/admin/submissions/" + sub + "/documents/identity"

	got := serve(h, reviewer, "GET", gate, "")
	loc, _ := url.Parse(got.Header().Get("Location"))
	if got.Code != http.StatusFound || loc == nil || !strings.HasPrefix(loc.Path, "/reviewed/c-1/") ||
		got.Header().Get("Cache-Control") != "no-store" || got.Header().Get("X-Content-Type-Options") != "nosniff" ||
		got.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("open = %d %v %s", got.Code, got.Header(), got.Body)
	}
	for _, c := range []struct {
		as     who
		path   string
		status int
		code   string
	}{
		{other, gate, 403, "claim_required"},
		{reviewer, gate + "?purpose=curious", 403, "forbidden"},
		{other, "/v1/admin/submissions/" + sub + "?purpose=curious", 403, "forbidden"},
		{reviewer, "/v1/admin/submissions/" + sub + "/documents/selfie", 404, "document_not_found"},
		{who{sub: "adm-3", groups: contract.GroupAdmins, customer: "c-1"}, gate + "?purpose=mine", 403, "own_account"},
		{customer, gate, 403, "forbidden"},
	} {
		if got := serve(h, c.as, "GET", c.path, ""); got.Code != c.status || code(got) != c.code || got.Header().Get("Location") != "" {
			t.Errorf("GET %s as %+v = %d %s, want %d %s", c.path, c.as, got.Code, got.Body, c.status, c.code)
		}
	}
	if got := serve(h, admin, "GET", gate+"?purpose="+url.QueryEscape("complaint 4411"), ""); got.Code != http.StatusFound {
		t.Fatalf("an admin opening for a purpose = %d %s", got.Code, got.Body)
	}
	trail := w.Audit("c-1")
	if e := trail[len(trail)-1]; e.Action != "document.opened" || e.Actor != kyctest.Admin("adm-1") || e.Detail["purpose"] != "complaint 4411" {
		t.Fatalf("audit %+v", e)
	}

	hold := func(as who, on bool) *httptest.ResponseRecorder {
		b, _ := json.Marshal(kyc.LegalHoldRequest{Hold: on, Reason: "case 7"})
		return serve(h, as, "POST", "/v1/admin/customers/c-1/legal-hold", string(b))
	}
	for _, step := range []struct {
		as     who
		on     bool
		status int
	}{{admin, true, 200}, {admin, false, 202}, {admin2, false, 200}} {
		if got := hold(step.as, step.on); got.Code != step.status {
			t.Fatalf("legal hold %v by %s = %d %s, want %d", step.on, step.as.sub, got.Code, got.Body, step.status)
		}
	}
}

// TestIdentityCarriesTheLinkedCustomer: the billing customer id a staff
// account is linked to (claim custom:billingCustomerId) reaches the actor,
// from API Gateway's verified claims and from a verified token alike.
func TestIdentityCarriesTheLinkedCustomer(t *testing.T) {
	rc := events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
			"sub": "staff-7", "cognito:groups": "[kyc-reviewers]", contract.ClaimBillingCustomer: "1001"}}}}
	rc.HTTP.Method = "GET"
	req, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(context.Background(),
		events.APIGatewayV2HTTPRequest{RawPath: "/v1/admin/submissions", RequestContext: rc})
	if err != nil {
		t.Fatal(err)
	}
	id, err := httpapi.APIGatewayJWT{}.Authenticate(req)
	if err != nil {
		t.Fatal(err)
	}
	if a := id.Actor(); a.ID != "staff-7" || a.Customer != "1001" || a.Kind != kyc.ActorReviewer {
		t.Fatalf("actor %+v", a)
	}
	if b, _ := json.Marshal(id.Actor()); strings.Contains(string(b), "1001") {
		t.Fatalf("the link is written into audit entries: %s", b)
	}
}
