package httpapi

// The HTTP API against its OpenAPI document (contract.OpenAPI): the routes
// of contract.Routes are the document's operations, and the real handlers,
// over the use cases of kyctest.World, answer a table of requests covering
// every operation's success and every error status it documents, each
// exchange validated against the document by kin-openapi (apitest).

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi/apitest"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

func TestOpenAPIOperationsAreTheContractRoutes(t *testing.T) {
	c := apitest.Load(t)
	var routes []string
	for _, r := range contract.APIRoutes() {
		routes = append(routes, r.Pattern)
	}
	slices.Sort(routes)
	ops := c.Operations()
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("route %q of contract.Routes is not an operation of the OpenAPI document", r)
		}
	}
	for _, op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("operation %q of the OpenAPI document is not a route of contract.Routes", op)
		}
	}
}

// The document's security of each operation is its route's authorization.
func TestOpenAPISecurityIsTheRoutesAuth(t *testing.T) {
	c := apitest.Load(t)
	for _, r := range contract.APIRoutes() {
		op := c.Operation(r.Pattern)
		if op == nil || op.Security == nil || len(*op.Security) != 1 {
			t.Errorf("%s: want exactly one security requirement", r.Pattern)
			continue
		}
		var schemes []string
		for name := range (*op.Security)[0] {
			schemes = append(schemes, name)
		}
		slices.Sort(schemes)
		want := map[contract.Auth][]string{contract.AuthJWT: {"bearerAuth"}, contract.AuthNone: {"webhookSignature", "webhookTimestamp"}}[r.Auth]
		if !slices.Equal(schemes, want) {
			t.Errorf("%s (%s): security %v, want %v", r.Pattern, r.Auth, schemes, want)
		}
	}
}

// The document's enums are the domain's lists.
func TestOpenAPIEnumsAreTheDomains(t *testing.T) {
	c := apitest.Load(t)
	enum := func(name string) []string {
		ref := c.Doc().Components.Schemas[name]
		if ref == nil {
			t.Fatalf("no schema %s", name)
		}
		var out []string
		for _, v := range ref.Value.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	var reasons, types, utilities, categories []string
	for _, r := range kyc.Reasons {
		reasons = append(reasons, string(r.Code))
	}
	for _, cat := range kyc.Catalogue {
		categories = append(categories, string(cat.Category))
		for _, ts := range cat.Types {
			types = append(types, string(ts.Type))
			for _, u := range ts.Utilities {
				utilities = append(utilities, string(u.Utility))
			}
		}
	}
	var events []string
	for _, e := range kyc.BillingEvents {
		events = append(events, string(e))
	}
	var invalid []string
	for r := range kyc.InvalidTexts {
		invalid = append(invalid, string(r))
	}
	slices.Sort(invalid)
	invalidEnum := enum("InvalidReason")
	slices.Sort(invalidEnum)
	envelopeType := c.Doc().Components.Schemas["BillingEnvelope"].Value.Properties["type"].Value
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"ReasonCode", enum("ReasonCode"), reasons},
		{"DocType", enum("DocType"), types},
		{"Utility", enum("Utility"), utilities},
		{"Category", enum("Category"), categories},
		{"ContentType", enum("ContentType"), kyc.ContentTypes},
		{"InvalidReason (sorted)", invalidEnum, invalid},
		{"BillingEnvelope.type", anyStrings(envelopeType.Enum), events},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s enum %v, want the domain's %v", tc.name, tc.got, tc.want)
		}
	}
}

func anyStrings(vs []any) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.(string))
	}
	return out
}

// apiFixture is the three HTTP APIs over one kyctest.World, mounted as the
// dev server and API Gateway mount them, with a JWT verifier of a test key,
// a rate limiter that refuses one customer and a replay guard in memory.
type apiFixture struct {
	w      *kyctest.World
	h      http.Handler
	replay *memReplay
}

const fixtureIssuer, fixtureAudience = "https://issuer.example", "kyc-app"

var fixtureSecret = []byte("whsec-test-0123456789abcdef0123")

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	w := kyctest.New(t)
	f := &apiFixture{w: w, replay: &memReplay{seen: map[string]bool{}}}
	verifier := JWTVerifier{Issuer: fixtureIssuer, Audiences: []string{fixtureAudience},
		Keys: map[string]*rsa.PublicKey{"k1": &fuzzKey.PublicKey}, Now: w.Now}
	log := fuzzLog
	fns := map[string]http.Handler{
		contract.FunctionCustomerAPI: NewCustomerAPI(kyc.NewService(w.Store, w.Files, w.Sealer, w.Bus, w.Config,
			append(w.Options(), kyc.WithLimiter(limitedOnly{}))...), verifier, log),
		contract.FunctionAdminAPI:      NewAdminAPI(w.Service, verifier, log),
		contract.FunctionBillingIntake: NewBillingWebhook(w.Intake, fixtureSecret, f.replay, w.Now, log),
	}
	mux := http.NewServeMux()
	for _, r := range contract.APIRoutes() {
		mux.Handle(r.Pattern, fns[r.Function])
	}
	mux.Handle("/", Fallback(mux, "no such route"))
	f.h = mux
	return f
}

// token returns an Authorization header value for a subject and groups.
func (f *apiFixture) token(sub string, groups ...string) string {
	return f.linkedToken(sub, "", groups...)
}

// linkedToken returns an Authorization header value for a staff member
// whose account is linked to their own billing customer id (claim
// contract.ClaimBillingCustomer), if customer is not empty.
func (f *apiFixture) linkedToken(sub, customer string, groups ...string) string {
	now := f.w.Now()
	c := jwt.MapClaims{"iss": fixtureIssuer, "aud": fixtureAudience, "sub": sub,
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	if len(groups) > 0 {
		c["cognito:groups"] = groups
	}
	if customer != "" {
		c[contract.ClaimBillingCustomer] = customer
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(fuzzKey)
	if err != nil {
		panic(err)
	}
	return "Bearer " + s
}

// limitedOnly refuses the customer "limited" and allows everyone else.
type limitedOnly struct{}

func (limitedOnly) Allow(_ context.Context, customerID string, _ kyc.Action) error {
	if customerID == "limited" {
		return kyc.RateLimited(time.Minute, "at most a few requests per hour; try again later")
	}
	return nil
}

// memReplay is a replay guard in memory whose next Seen can fail.
type memReplay struct {
	mu       sync.Mutex
	seen     map[string]bool
	failNext error
}

func (g *memReplay) Seen(_ context.Context, id string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.failNext; err != nil {
		g.failNext = nil
		return false, err
	}
	return g.seen[id], nil
}

func (g *memReplay) Remember(_ context.Context, id string, _ time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen[id] {
		return kyc.ErrStale
	}
	g.seen[id] = true
	return nil
}

// apiCase is one request of the table and what it must get.
type apiCase struct {
	name         string
	method, path string
	auth         string            // the Authorization header, if any
	body         string            // sent as application/json unless contentType says otherwise
	contentType  string            // "-" sends none
	header       map[string]string // more headers
	before       func()            // runs just before the request (fault injection)
	status       int
	code         string // the problem's code, for an error
	// docRefuses: the document itself calls the request invalid (what the
	// handlers refuse as malformed, the document refuses too).
	docRefuses bool
}

// signed returns the webhook headers of a body signed at t.
func signed(body string, t time.Time) map[string]string {
	return map[string]string{
		webhooksig.HeaderTimestamp: strconv.FormatInt(t.Unix(), 10),
		webhooksig.HeaderSignature: webhooksig.Sign(fixtureSecret, t.Unix(), []byte(body)),
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// run sends one case through the fixture and checks it against the document
// and its wants; it returns the operation and the answer.
func (f *apiFixture) run(t *testing.T, c *apitest.Checker, tc apiCase) (string, *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
	if tc.auth != "" {
		req.Header.Set("Authorization", tc.auth)
	}
	switch {
	case tc.contentType == "-":
	case tc.contentType != "":
		req.Header.Set("Content-Type", tc.contentType)
	case tc.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range tc.header {
		req.Header.Set(k, v)
	}
	if tc.before != nil {
		tc.before()
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	res, err := c.Check(context.Background(), apitest.Exchange{Request: req, RequestBody: []byte(tc.body),
		Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()})
	if err != nil {
		t.Errorf("disagrees with the OpenAPI document: %v\nanswer: %s", err, rec.Body)
	}
	if rec.Code != tc.status {
		t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
	}
	if tc.docRefuses && res.RequestErr == nil {
		t.Errorf("the document accepts the request; want it refused as the handler refuses it")
	}
	if tc.code != "" {
		var p Problem
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if p.Code != tc.code {
			t.Errorf("code %q, want %q: %s", p.Code, tc.code, rec.Body)
		}
	}
	return res.Operation, rec
}

// TestHandlersAnswerAsDocumented runs the table. Every operation's success
// and every status the document gives it must be in the table: an error
// status documented but never produced, or produced but not documented,
// fails.
func TestHandlersAnswerAsDocumented(t *testing.T) {
	c := apitest.Load(t)
	f := newAPIFixture(t)
	w := f.w
	boom := errors.New("store down")
	fail := func(m kyctest.Method, n int, err error) func() {
		return func() {
			for range n {
				w.Store.FailNext(m, err)
			}
		}
	}
	stale := func(m kyctest.Method) func() { return fail(m, 5, kyc.ErrStale) }
	ctx := context.Background()

	// The records the table works on. First a submission rejected long
	// ago, whose files the sweep has purged under the retention policy.
	s7 := w.Submit("cust-7")
	w.Reject("rev-9", s7)
	w.Advance(kyc.DefaultRetention.Rejected + 24*time.Hour)
	if rep := w.Sweep(); rep.Purged != 2 {
		t.Fatalf("the sweep purged %d files of the rejected submission, want 2", rep.Purged)
	}
	w.PlaceOrder("cust-1", "o-1")
	s1 := w.Submit("cust-1") // pending, unclaimed
	id2, addr2 := w.Upload("cust-2", kyc.Identity), w.Upload("cust-2", kyc.Address)
	idL, addrL := w.Upload("limited", kyc.Identity), w.Upload("limited", kyc.Address)
	w.PlaceOrder("cust-3", "o-3")
	s3 := w.Submit("cust-3")
	v3 := w.Claim("rev-1", s3).Version // rev-1 decides it, once it has opened both documents (the table does)
	s4 := w.Submit("cust-4")
	w.Claim("rev-2", s4) // rev-2's claim
	w.Verify("cust-5")
	w.PlaceOrder("cust-5", "o-5") // provisioned at once: a server in the region, so a disclosure may name it
	// An upload the validator has not seen yet, beside a valid one, and one
	// it refused (a PDF declared as a JPEG).
	idU, addrU := w.Upload("cust-8", kyc.Identity), w.CreateDocument("cust-8", kyctest.Request(kyc.Address))
	w.Post(addrU, kyctest.Content(kyc.PDF, int(kyctest.Request(kyc.Address).Size)))
	bad := w.CreateDocument("cust-8", kyctest.Request(kyc.Identity))
	if res := w.Validate(kyc.DocumentKey("cust-8", bad.DocumentID), w.Post(bad, kyctest.Content(kyc.PDF, int(kyctest.Request(kyc.Identity).Size)))); res.Reason != kyc.InvalidTypeMismatch {
		t.Fatalf("a PDF declared as a JPEG: %+v", res)
	}
	// A business customer, whose requirements list a business registration.
	business, yes := w.OrderEvent("cust-b", "o-b"), true
	business.Business = &yes
	w.Place(business)
	disclose := func() kyc.Disclosure {
		d, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("adm-1"), kyc.DisclosureRequest{CustomerID: "cust-5",
			Authority: "Hong Kong Police Force", Jurisdiction: kyctest.Region, LegalReference: "Cap. 1 s. 2", Scope: []kyc.DisclosureData{kyc.DiscloseDocuments}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1, d2, d3 := disclose(), disclose(), disclose()
	// Signals: sig-1 was verified with an HKID; sig-2 and sig-5 submit the
	// same card (sig-2's approval is asked over HTTP, sig-5's waits for a
	// second admin already, and adm-1 has opened its identity document);
	// sig-3's card expired; rev-1 records fields for sig-4.
	const hkid = "A123456(3)"
	reviewed := func(cust string) (string, int) {
		sub := w.Submit(cust)
		return sub, w.Review("rev-1", sub).Version
	}
	sg1, vg1 := reviewed("sig-1")
	ing1 := kyctest.Approval(vg1)
	ing1.Extracted = &kyc.Extracted{DocumentNumber: hkid}
	w.Decide("rev-1", sg1, ing1)
	sg2, vg2 := reviewed("sig-2")
	sg3, vg3 := reviewed("sig-3")
	sg4, vg4 := reviewed("sig-4")
	sg5, vg5 := reviewed("sig-5")
	ing5 := kyctest.Approval(vg5)
	ing5.Extracted = &kyc.Extracted{DocumentNumber: hkid}
	if res, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sg5, ing5); err != nil || res.ApprovalRequest == nil {
		t.Fatalf("approval of sig-5: %+v, %v", res, err)
	}
	vg5 = w.Submission(sg5).Version
	if _, err := w.Service.OpenDocument(ctx, kyctest.Admin("adm-1"), sg5, kyc.Identity, "second approval"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("adm-2"), d2.ID); err != nil {
		t.Fatal(err)
	}

	customer := func(id string) string { return f.token(id) }
	rev1, rev2 := f.token("rev-1", contract.GroupReviewers), f.token("rev-2", contract.GroupReviewers)
	rev1Admin := f.token("rev-1", contract.GroupAdmins) // the reviewer who asked for sig-5's second approval, as an admin
	adm1, adm2 := f.token("adm-1", contract.GroupAdmins), f.token("adm-2", contract.GroupAdmins)
	// Staff whose own customer accounts are cust-3 (a reviewer) and cust-5
	// (an admin), linked by the identity provider's claim.
	rev3 := f.linkedToken("rev-3", "cust-3", contract.GroupReviewers)
	adm3 := f.linkedToken("adm-3", "cust-5", contract.GroupAdmins)
	gate := func(sub, cat string) string { return "/v1/admin/submissions/" + sub + "/documents/" + cat }
	big := func(n int) string { return `{"note":"` + strings.Repeat("a", n) + `"}` }
	doc := func(m map[string]any) string {
		base := map[string]any{"category": "identity", "type": "passport", "contentType": "image/jpeg", "size": 2048}
		for k, v := range m {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		return jsonOf(base)
	}
	decision := func(version int, address map[string]any) string {
		return jsonOf(map[string]any{"version": version, "decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": address}})
	}
	approve := map[string]any{"result": "approve", "reasons": nil} // null reasons, as a Go client sends them
	disclosureReq := func(m map[string]any) string {
		base := map[string]any{"customerId": "cust-5", "authority": "Hong Kong Police Force", "jurisdiction": "hk", "legalReference": "Cap. 1 s. 2", "scope": []string{"documents"}}
		for k, v := range m {
			base[k] = v
		}
		return jsonOf(base)
	}
	now := w.Now()
	event := func(typ, id string, detail map[string]any) string {
		return jsonOf(map[string]any{"type": typ, "id": id, "detail": detail})
	}
	placed := func(order, cust string) map[string]any {
		return map[string]any{"orderId": order, "serviceId": "svc-" + order, "customerId": cust, "productId": kyctest.ProductKYC,
			"orderedAt": now.Add(-time.Hour).Format(time.RFC3339), "nextDueDate": "2026-04-02", "serverRegion": "hk"}
	}
	hook := func(name, body string, status int, code string) apiCase {
		return apiCase{name: name, method: "POST", path: "/v1/billing/events", body: body, header: signed(body, now), status: status, code: code}
	}
	docRefuses := func(c apiCase) apiCase { c.docRefuses = true; return c }
	order9 := event("OrderPlaced", "evt-9", placed("o-9", "cust-9"))
	with := func(m map[string]any, changes map[string]any) map[string]any {
		for k, v := range changes {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	bigEvent := event("OrderPlaced", "evt-big", map[string]any{"orderId": strings.Repeat("9", 70<<10)})

	cases := []apiCase{
		// GET /v1/kyc/requirements
		{name: "requirements", method: "GET", path: "/v1/kyc/requirements", auth: customer("cust-1"), status: 200},
		{name: "requirements, business customer", method: "GET", path: "/v1/kyc/requirements", auth: customer("cust-b"), status: 200},
		{name: "requirements, no token", method: "GET", path: "/v1/kyc/requirements", status: 401, code: "unauthorized"},
		{name: "requirements, staff token", method: "GET", path: "/v1/kyc/requirements", auth: rev1, status: 403, code: "staff_token"},
		{name: "requirements, store down", method: "GET", path: "/v1/kyc/requirements", auth: customer("cust-1"), before: fail(kyctest.MethodCustomer, 1, boom), status: 500, code: "internal"},
		// GET /v1/kyc/status, and the Authorization scheme in any case
		{name: "status", method: "GET", path: "/v1/kyc/status", auth: customer("cust-1"), status: 200},
		{name: "status, scheme in lower case", method: "GET", path: "/v1/kyc/status", auth: "bearer " + strings.TrimPrefix(customer("cust-1"), "Bearer "), status: 200},
		{name: "status, scheme in upper case", method: "GET", path: "/v1/kyc/status", auth: "BEARER " + strings.TrimPrefix(customer("cust-1"), "Bearer "), status: 200},
		{name: "status of a customer never seen", method: "GET", path: "/v1/kyc/status", auth: customer("cust-new"), status: 200},
		{name: "status with an upload the validator refused", method: "GET", path: "/v1/kyc/status", auth: customer("cust-8"), status: 200},
		{name: "status, Basic scheme", method: "GET", path: "/v1/kyc/status", auth: "Basic Y3VzdDpwdw==", status: 401, code: "unauthorized"},
		{name: "status, forged token", method: "GET", path: "/v1/kyc/status", auth: customer("cust-1") + "x", status: 401, code: "unauthorized"},
		{name: "status, staff token with a customer's subject", method: "GET", path: "/v1/kyc/status", auth: f.token("cust-1", contract.GroupAdmins), status: 403, code: "staff_token"},
		{name: "status, store down", method: "GET", path: "/v1/kyc/status", auth: customer("cust-1"), before: fail(kyctest.MethodAccount, 1, boom), status: 500, code: "internal"},
		// POST /v1/kyc/documents
		{name: "document", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(nil), status: 201},
		{name: "document, utility bill", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"),
			body: doc(map[string]any{"category": "address", "type": "utility_bill", "utility": "electricity", "contentType": "application/pdf", "fileName": "電費單.pdf"}), status: 201},
		{name: "document, unknown field", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(map[string]any{"owner": "cust-1"}), status: 400, code: "malformed", docRefuses: true},
		{name: "document, wrong JSON type", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(map[string]any{"size": "big"}), status: 400, code: "malformed"},
		{name: "document, trailing data", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(nil) + "{}", status: 400, code: "malformed"},
		{name: "document, form body", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: "category=identity", contentType: "application/x-www-form-urlencoded", status: 400, code: "malformed"},
		{name: "document, unknown type", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(map[string]any{"type": "library_card"}), status: 422, code: "unknown_type"},
		{name: "document, type of the other category", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(map[string]any{"type": "tax_return"}), status: 422, code: "wrong_category"},
		{name: "document, utility bill without utility", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"),
			body: doc(map[string]any{"category": "address", "type": "utility_bill"}), status: 422, code: "unknown_utility"},
		{name: "document, business registration of a customer who is not a business", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"),
			body: doc(map[string]any{"type": "business_registration", "contentType": "application/pdf"}), status: 422, code: "business_only"},
		{name: "document, business registration of a business", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-b"),
			body: doc(map[string]any{"type": "business_registration", "contentType": "application/pdf"}), status: 201},
		{name: "document, staff token", method: "POST", path: "/v1/kyc/documents", auth: rev1, body: doc(nil), status: 403, code: "staff_token"},
		{name: "document, file over the limit", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(map[string]any{"size": kyctest.MaxUploadBytes + 1}), status: 413, code: "too_large"},
		{name: "document, body over 4 KiB", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(map[string]any{"fileName": strings.Repeat("a", 5000)}), status: 413, code: "body_too_large"},
		{name: "document, subject not a customer id", method: "POST", path: "/v1/kyc/documents", auth: customer("not/a/customer"), body: doc(nil), status: 403, code: "invalid_subject"},
		{name: "document, over the rate limit", method: "POST", path: "/v1/kyc/documents", auth: customer("limited"), body: doc(nil), status: 429, code: "rate_limited"},
		{name: "document, no token", method: "POST", path: "/v1/kyc/documents", body: doc(nil), status: 401, code: "unauthorized"},
		{name: "document, store down", method: "POST", path: "/v1/kyc/documents", auth: customer("cust-5"), body: doc(nil), before: fail(kyctest.MethodCreateDocument, 1, boom), status: 500, code: "internal"},
		// POST /v1/kyc/submissions
		{name: "submission, not JSON", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"), body: "{", status: 400, code: "malformed"},
		{name: "submission, unknown documents", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"),
			body: jsonOf(map[string]string{"identityDocumentId": "nope-1", "addressDocumentId": "nope-2"}), status: 404, code: "document_not_found"},
		{name: "submission, another customer's documents", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-6"),
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": addr2}), status: 404, code: "document_not_found"},
		{name: "submission, one document twice", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"),
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": id2}), status: 422, code: "same_document"},
		{name: "submission, missing field", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"),
			body: jsonOf(map[string]string{"identityDocumentId": id2}), status: 422, code: "invalid_document_id"},
		{name: "submission while one is pending", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-1"),
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": addr2}), status: 409, code: "submission_pending"},
		{name: "submission, an upload not validated yet", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-8"),
			body: jsonOf(map[string]string{"identityDocumentId": idU, "addressDocumentId": addrU.DocumentID}), status: 409, code: "upload_not_validated"},
		{name: "submission, staff token", method: "POST", path: "/v1/kyc/submissions", auth: adm1,
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": addr2}), status: 403, code: "staff_token"},
		{name: "submission, body over 4 KiB", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"), body: big(5000), status: 413, code: "body_too_large"},
		{name: "submission, subject not a customer id", method: "POST", path: "/v1/kyc/submissions", auth: customer("not/a/customer"),
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": addr2}), status: 403, code: "invalid_subject"},
		{name: "submission, over the rate limit", method: "POST", path: "/v1/kyc/submissions", auth: customer("limited"),
			body: jsonOf(map[string]string{"identityDocumentId": idL, "addressDocumentId": addrL}), status: 429, code: "rate_limited"},
		{name: "submission, no token", method: "POST", path: "/v1/kyc/submissions", body: "{}", status: 401, code: "unauthorized"},
		{name: "submission, store down", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"),
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": addr2}), before: fail(kyctest.MethodAccount, 1, boom), status: 500, code: "internal"},
		{name: "submission", method: "POST", path: "/v1/kyc/submissions", auth: customer("cust-2"),
			body: jsonOf(map[string]string{"identityDocumentId": id2, "addressDocumentId": addr2}), status: 201},
		// GET /v1/admin/submissions
		{name: "queue", method: "GET", path: "/v1/admin/submissions", auth: rev1, status: 200},
		{name: "queue, status and limit", method: "GET", path: "/v1/admin/submissions?status=pending_review&limit=2", auth: adm1, status: 200},
		{name: "queue, limit 0", method: "GET", path: "/v1/admin/submissions?limit=0", auth: rev1, status: 422, code: "invalid_limit"},
		{name: "queue, another status", method: "GET", path: "/v1/admin/submissions?status=approved", auth: rev1, status: 422, code: "unsupported_status"},
		{name: "queue, customer token", method: "GET", path: "/v1/admin/submissions", auth: customer("cust-1"), status: 403, code: "forbidden"},
		{name: "queue, no token", method: "GET", path: "/v1/admin/submissions", status: 401, code: "unauthorized"},
		{name: "queue, store down", method: "GET", path: "/v1/admin/submissions", auth: rev1, before: fail(kyctest.MethodPendingSubmissions, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/submissions/{id}
		{name: "submission view, not claimed", method: "GET", path: "/v1/admin/submissions/" + s1, auth: rev1, status: 200},
		{name: "submission view with personal data, by the claimer", method: "GET", path: "/v1/admin/submissions/" + s4, auth: rev2, status: 200},
		{name: "submission view, an admin's purpose", method: "GET", path: "/v1/admin/submissions/" + s7 + "?purpose=complaint+4411", auth: adm1, status: 200},
		{name: "submission view, unknown", method: "GET", path: "/v1/admin/submissions/nope", auth: rev1, status: 404, code: "submission_not_found"},
		{name: "submission view, busy", method: "GET", path: "/v1/admin/submissions/" + s4, auth: rev2, before: stale(kyctest.MethodCommit), status: 409, code: "busy"},
		{name: "submission view, customer token", method: "GET", path: "/v1/admin/submissions/" + s1, auth: customer("cust-1"), status: 403, code: "forbidden"},
		{name: "submission view, a reviewer's purpose", method: "GET", path: "/v1/admin/submissions/" + s1 + "?purpose=curious", auth: rev1, status: 403, code: "forbidden"},
		{name: "submission view, a purpose on the admin's own account", method: "GET", path: "/v1/admin/submissions/" + s7 + "?purpose=mine", auth: f.linkedToken("adm-3", "cust-7", contract.GroupAdmins), status: 403, code: "own_account"},
		{name: "submission view, a purpose with a control character", method: "GET", path: "/v1/admin/submissions/" + s7 + "?purpose=a%01b", auth: adm1, status: 422, code: "invalid_purpose"},
		{name: "submission view, a purpose over 200 characters", method: "GET", path: "/v1/admin/submissions/" + s7 + "?purpose=" + strings.Repeat("a", 201), auth: adm1, status: 422, code: "invalid_purpose", docRefuses: true},
		{name: "submission view, no token", method: "GET", path: "/v1/admin/submissions/" + s1, status: 401, code: "unauthorized"},
		{name: "submission view, store down", method: "GET", path: "/v1/admin/submissions/" + s1, auth: rev1, before: fail(kyctest.MethodSubmission, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/submissions/{id}/documents/{category}
		{name: "open a document, by the claimer", method: "GET", path: gate(s4, "identity"), auth: rev2, status: 302},
		{name: "open a document, an admin's purpose", method: "GET", path: gate(s1, "address") + "?purpose=complaint+4411", auth: adm1, status: 302},
		{name: "open a document, without the claim", method: "GET", path: gate(s4, "identity"), auth: rev1, status: 403, code: "claim_required"},
		{name: "open a document, a reviewer's purpose", method: "GET", path: gate(s4, "identity") + "?purpose=curious", auth: rev2, status: 403, code: "forbidden"},
		{name: "open a document, a purpose on the admin's own account", method: "GET", path: gate(s7, "identity") + "?purpose=mine", auth: f.linkedToken("adm-3", "cust-7", contract.GroupAdmins), status: 403, code: "own_account"},
		{name: "open a document, customer token", method: "GET", path: gate(s4, "identity"), auth: customer("cust-4"), status: 403, code: "forbidden"},
		{name: "open a document, no token", method: "GET", path: gate(s4, "identity"), status: 401, code: "unauthorized"},
		{name: "open a document, unknown submission", method: "GET", path: gate("nope", "identity"), auth: rev2, status: 404, code: "submission_not_found"},
		{name: "open a document, no such category", method: "GET", path: gate(s4, "selfie"), auth: rev2, status: 404, code: "document_not_found", docRefuses: true},
		{name: "open a document, purged", method: "GET", path: gate(s7, "address") + "?purpose=complaint+4411", auth: adm1, status: 409, code: "document_purged"},
		{name: "open a document, busy", method: "GET", path: gate(s4, "address"), auth: rev2, before: stale(kyctest.MethodCommit), status: 409, code: "busy"},
		{name: "open a document, a purpose with a control character", method: "GET", path: gate(s4, "identity") + "?purpose=%7F", auth: adm1, status: 422, code: "invalid_purpose"},
		{name: "open a document, store down", method: "GET", path: gate(s4, "identity"), auth: rev2, before: fail(kyctest.MethodSubmission, 1, boom), status: 500, code: "internal"},
		// POST /v1/admin/submissions/{id}/claim
		{name: "claim", method: "POST", path: "/v1/admin/submissions/" + s1 + "/claim", auth: rev1, status: 200},
		{name: "claim of another reviewer's claim", method: "POST", path: "/v1/admin/submissions/" + s4 + "/claim", auth: rev1, status: 409, code: "claimed"},
		{name: "claim, unknown", method: "POST", path: "/v1/admin/submissions/nope/claim", auth: rev1, status: 404, code: "submission_not_found"},
		{name: "claim, customer token", method: "POST", path: "/v1/admin/submissions/" + s1 + "/claim", auth: customer("cust-1"), status: 403, code: "forbidden"},
		{name: "claim of the reviewer's own account", method: "POST", path: "/v1/admin/submissions/" + s3 + "/claim", auth: rev3, status: 403, code: "own_account"},
		{name: "claim, no token", method: "POST", path: "/v1/admin/submissions/" + s1 + "/claim", status: 401, code: "unauthorized"},
		{name: "claim, store down", method: "POST", path: "/v1/admin/submissions/" + s1 + "/claim", auth: rev1, before: fail(kyctest.MethodSubmission, 1, boom), status: 500, code: "internal"},
		// POST /v1/admin/submissions/{id}/decision
		{name: "decision, not JSON", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: `{"version":`, status: 400, code: "malformed"},
		{name: "decision, body over 64 KiB", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: big(70 << 10), status: 413, code: "body_too_large"},
		{name: "decision, no decisions", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: `{"version":2}`, status: 422, code: "decisions_required"},
		{name: "decision, unknown reason", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1,
			body: decision(v3, map[string]any{"result": "reject", "reasons": []string{"ugly"}}), status: 422, code: "unknown_reason"},
		{name: "decision, stale version", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: decision(v3+5, approve), status: 409, code: "stale_version"},
		{name: "decision by a reviewer without the claim", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev2, body: decision(v3, approve), status: 409, code: "not_claimed"},
		{name: "decision, unknown", method: "POST", path: "/v1/admin/submissions/nope/decision", auth: rev1, body: decision(v3, approve), status: 404, code: "submission_not_found"},
		{name: "decision, customer token", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: customer("cust-3"), body: decision(v3, approve), status: 403, code: "forbidden"},
		{name: "decision, no token", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", body: decision(v3, approve), status: 401, code: "unauthorized"},
		{name: "decision, store down", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: decision(v3, approve), before: fail(kyctest.MethodSubmission, 1, boom), status: 500, code: "internal"},
		{name: "decision of the reviewer's own account", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev3, body: decision(v3, approve), status: 403, code: "own_account"},
		{name: "decision, documents not opened", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: decision(v3, approve), status: 409, code: "documents_not_opened"},
		{name: "open the identity document to decide", method: "GET", path: gate(s3, "identity"), auth: rev1, status: 302},
		{name: "decision, the address document not opened", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: decision(v3, approve), status: 409, code: "documents_not_opened"},
		{name: "open the address document to decide", method: "GET", path: gate(s3, "address"), auth: rev1, status: 302},
		{name: "submission view, both documents opened", method: "GET", path: "/v1/admin/submissions/" + s3, auth: rev1, status: 200},
		{name: "decision", method: "POST", path: "/v1/admin/submissions/" + s3 + "/decision", auth: rev1, body: decision(v3, approve), status: 200},
		{name: "open a document of a decided submission", method: "GET", path: gate(s3, "identity"), auth: rev1, status: 403, code: "purpose_required"},
		{name: "submission view, decided", method: "GET", path: "/v1/admin/submissions/" + s3, auth: rev1, status: 200},
		{name: "decision of a document verified on another account", method: "POST", path: "/v1/admin/submissions/" + sg2 + "/decision", auth: rev1,
			body: jsonOf(map[string]any{"version": vg2, "decisions": map[string]any{"identity": approve, "address": approve},
				"extracted": map[string]string{"documentNumber": "a1234563"}}), status: 202},
		{name: "decision, an expired document", method: "POST", path: "/v1/admin/submissions/" + sg3 + "/decision", auth: rev1,
			body: jsonOf(map[string]any{"version": vg3, "decisions": map[string]any{"identity": approve, "address": approve},
				"extracted": map[string]string{"documentExpiry": "2020-01-01"}}), status: 422, code: "document_expired"},
		// POST /v1/admin/submissions/{id}/record
		{name: "record", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1,
			body: jsonOf(map[string]any{"version": vg4, "extracted": map[string]string{"documentNumber": hkid, "documentExpiry": "2031-12-31",
				"addressDate": "2026-02-20", "mrz": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"}}), status: 200},
		{name: "record, not JSON", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1, body: `{"version":`, status: 400, code: "malformed"},
		{name: "record, unknown field", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1,
			body: jsonOf(map[string]any{"version": vg4 + 1, "extracted": map[string]string{"passportNumber": hkid}}), status: 400, code: "malformed"},
		{name: "record, body over 64 KiB", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1, body: big(70 << 10), status: 413, code: "body_too_large"},
		{name: "record, no fields", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1, body: `{"version":3}`, status: 422, code: "extracted_required"},
		{name: "record, an expiry that is not a date", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1,
			body: jsonOf(map[string]any{"version": vg4 + 1, "extracted": map[string]string{"documentExpiry": "31.12.2031"}}), status: 422, code: "invalid_documentExpiry"},
		{name: "record by a reviewer without the claim", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev2,
			body: jsonOf(map[string]any{"version": vg4 + 1, "extracted": map[string]string{"documentNumber": hkid}}), status: 409, code: "not_claimed"},
		{name: "record, unknown", method: "POST", path: "/v1/admin/submissions/nope/record", auth: rev1,
			body: jsonOf(map[string]any{"version": 1, "extracted": map[string]string{"documentNumber": hkid}}), status: 404, code: "submission_not_found"},
		{name: "record, customer token", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: customer("sig-4"),
			body: jsonOf(map[string]any{"version": vg4 + 1, "extracted": map[string]string{"documentNumber": hkid}}), status: 403, code: "forbidden"},
		{name: "record, no token", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record",
			body: jsonOf(map[string]any{"version": vg4 + 1, "extracted": map[string]string{"documentNumber": hkid}}), status: 401, code: "unauthorized"},
		{name: "record, store down", method: "POST", path: "/v1/admin/submissions/" + sg4 + "/record", auth: rev1,
			body: jsonOf(map[string]any{"version": vg4 + 1, "extracted": map[string]string{"documentNumber": hkid}}), before: fail(kyctest.MethodSubmission, 1, boom), status: 500, code: "internal"},
		// POST /v1/admin/submissions/{id}/second-approval
		{name: "second approval, not JSON", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm1, body: `{"approve":`, status: 400, code: "malformed"},
		{name: "second approval, body over 4 KiB", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm1, body: big(5000), status: 413, code: "body_too_large"},
		{name: "second approval, no answer", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm1, body: jsonOf(map[string]any{"version": vg5}), status: 422, code: "approve_required"},
		{name: "second approval by the requester", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: rev1Admin,
			body: jsonOf(map[string]any{"approve": true, "version": vg5}), status: 403, code: "self_approval"},
		{name: "second approval, reviewer", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: rev2,
			body: jsonOf(map[string]any{"approve": true, "version": vg5}), status: 403, code: "forbidden"},
		{name: "second approval, documents not opened", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm2,
			body: jsonOf(map[string]any{"approve": true, "version": vg5}), status: 409, code: "documents_not_opened"},
		{name: "second approval, stale version", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm1,
			body: jsonOf(map[string]any{"approve": true, "version": vg5 - 1}), status: 409, code: "stale_version"},
		{name: "second approval, unknown", method: "POST", path: "/v1/admin/submissions/nope/second-approval", auth: adm1,
			body: jsonOf(map[string]any{"approve": true, "version": 1}), status: 404, code: "submission_not_found"},
		{name: "second approval, no token", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval",
			body: jsonOf(map[string]any{"approve": true, "version": vg5}), status: 401, code: "unauthorized"},
		{name: "second approval, store down", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm1,
			body: jsonOf(map[string]any{"approve": true, "version": vg5}), before: fail(kyctest.MethodSubmission, 1, boom), status: 500, code: "internal"},
		{name: "second approval", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm1,
			body: jsonOf(map[string]any{"approve": true, "version": vg5}), status: 200},
		{name: "second approval, none waits", method: "POST", path: "/v1/admin/submissions/" + sg5 + "/second-approval", auth: adm2,
			body: jsonOf(map[string]any{"approve": false, "version": vg5 + 1}), status: 409, code: "already_decided"},
		// GET /v1/admin/customers/{id}
		{name: "customer", method: "GET", path: "/v1/admin/customers/cust-1", auth: rev1, status: 200},
		{name: "customer, unknown", method: "GET", path: "/v1/admin/customers/nobody", auth: rev1, status: 404, code: "customer_not_found"},
		{name: "customer, customer token", method: "GET", path: "/v1/admin/customers/cust-1", auth: customer("cust-1"), status: 403, code: "forbidden"},
		{name: "customer, no token", method: "GET", path: "/v1/admin/customers/cust-1", status: 401, code: "unauthorized"},
		{name: "customer, store down", method: "GET", path: "/v1/admin/customers/cust-1", auth: rev1, before: fail(kyctest.MethodAccount, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/orders/{id}
		{name: "order", method: "GET", path: "/v1/admin/orders/o-1", auth: rev1, status: 200},
		{name: "order, released", method: "GET", path: "/v1/admin/orders/o-3", auth: adm1, status: 200},
		{name: "order, unknown", method: "GET", path: "/v1/admin/orders/nope", auth: rev1, status: 404, code: "order_not_found"},
		{name: "order, customer token", method: "GET", path: "/v1/admin/orders/o-1", auth: customer("cust-1"), status: 403, code: "forbidden"},
		{name: "order, no token", method: "GET", path: "/v1/admin/orders/o-1", status: 401, code: "unauthorized"},
		{name: "order, store down", method: "GET", path: "/v1/admin/orders/o-1", auth: rev1, before: fail(kyctest.MethodOrderOwner, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/reasons
		{name: "reasons", method: "GET", path: "/v1/admin/reasons", auth: rev1, status: 200},
		{name: "reasons, admin", method: "GET", path: "/v1/admin/reasons", auth: adm1, status: 200},
		{name: "reasons, customer token", method: "GET", path: "/v1/admin/reasons", auth: customer("cust-1"), status: 403, code: "forbidden"},
		{name: "reasons, no token", method: "GET", path: "/v1/admin/reasons", status: 401, code: "unauthorized"},
		// POST /v1/admin/customers/{id}/legal-hold
		{name: "legal hold", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":true,"reason":"court order 12"}`, status: 200},
		{name: "legal hold, not JSON", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":`, status: 400, code: "malformed"},
		{name: "legal hold, no reason", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":true,"reason":" "}`, status: 422, code: "invalid_reason"},
		{name: "legal hold, body over 4 KiB", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"reason":"` + strings.Repeat("a", 5000) + `"}`, status: 413, code: "body_too_large"},
		{name: "legal hold, unknown customer", method: "POST", path: "/v1/admin/customers/nobody/legal-hold", auth: adm1, body: `{"hold":true,"reason":"court order"}`, status: 404, code: "customer_not_found"},
		{name: "legal hold, busy", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":false,"reason":"order lifted"}`, before: stale(kyctest.MethodCommit), status: 409, code: "busy"},
		{name: "legal hold, lift requested", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":false,"reason":"order lifted"}`, status: 202},
		{name: "customer, a lift waiting for a second admin", method: "GET", path: "/v1/admin/customers/cust-1", auth: adm2, status: 200},
		{name: "legal hold, lifted by the same admin", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":false,"reason":"order lifted"}`, status: 403, code: "self_approval"},
		{name: "legal hold, lifted by a second admin", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm2, body: `{"hold":false,"reason":"order lifted"}`, status: 200},
		{name: "legal hold, the admin's own account", method: "POST", path: "/v1/admin/customers/cust-5/legal-hold", auth: adm3, body: `{"hold":true,"reason":"x"}`, status: 403, code: "own_account"},
		{name: "legal hold, reviewer", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: rev1, body: `{"hold":true,"reason":"x"}`, status: 403, code: "forbidden"},
		{name: "legal hold, no token", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", body: `{"hold":true,"reason":"x"}`, status: 401, code: "unauthorized"},
		{name: "legal hold, store down", method: "POST", path: "/v1/admin/customers/cust-1/legal-hold", auth: adm1, body: `{"hold":true,"reason":"x"}`, before: fail(kyctest.MethodCustomer, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/customers/{id}/audit/verify
		{name: "audit verify", method: "GET", path: "/v1/admin/customers/cust-1/audit/verify", auth: adm1, status: 200},
		{name: "audit verify, unknown", method: "GET", path: "/v1/admin/customers/nobody/audit/verify", auth: adm1, status: 404, code: "customer_not_found"},
		{name: "audit verify, reviewer", method: "GET", path: "/v1/admin/customers/cust-1/audit/verify", auth: rev1, status: 403, code: "forbidden"},
		{name: "audit verify, no token", method: "GET", path: "/v1/admin/customers/cust-1/audit/verify", status: 401, code: "unauthorized"},
		{name: "audit verify, store down", method: "GET", path: "/v1/admin/customers/cust-1/audit/verify", auth: adm1, before: fail(kyctest.MethodCustomer, 1, boom), status: 500, code: "internal"},
		// POST /v1/admin/disclosures
		{name: "disclosure request", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(nil), status: 201},
		{name: "disclosure request, not JSON", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: "[", status: 400, code: "malformed"},
		{name: "disclosure request, body over 4 KiB", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(map[string]any{"authority": strings.Repeat("a", 5000)}), status: 413, code: "body_too_large"},
		{name: "disclosure request, no server there", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(map[string]any{"jurisdiction": "tw"}), status: 422, code: "jurisdiction_mismatch"},
		{name: "disclosure request, empty scope", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(map[string]any{"scope": []string{}}), status: 422, code: "invalid_scope"},
		{name: "disclosure request, unknown customer", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(map[string]any{"customerId": "nobody"}), status: 404, code: "customer_not_found"},
		{name: "disclosure request, busy", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(nil), before: stale(kyctest.MethodCommit), status: 409, code: "busy"},
		{name: "disclosure request, no server yet", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(map[string]any{"customerId": "cust-1"}), status: 422, code: "jurisdiction_mismatch"},
		{name: "disclosure request, the admin's own account", method: "POST", path: "/v1/admin/disclosures", auth: adm3, body: disclosureReq(nil), status: 403, code: "own_account"},
		{name: "disclosure request, reviewer", method: "POST", path: "/v1/admin/disclosures", auth: rev1, body: disclosureReq(nil), status: 403, code: "forbidden"},
		{name: "disclosure request, no token", method: "POST", path: "/v1/admin/disclosures", body: disclosureReq(nil), status: 401, code: "unauthorized"},
		{name: "disclosure request, store down", method: "POST", path: "/v1/admin/disclosures", auth: adm1, body: disclosureReq(nil), before: fail(kyctest.MethodAccount, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/disclosures/{id}
		{name: "disclosure", method: "GET", path: "/v1/admin/disclosures/" + d1.ID, auth: adm1, status: 200},
		{name: "disclosure, unknown", method: "GET", path: "/v1/admin/disclosures/nope", auth: adm1, status: 404, code: "disclosure_not_found"},
		{name: "disclosure, reviewer", method: "GET", path: "/v1/admin/disclosures/" + d1.ID, auth: rev1, status: 403, code: "forbidden"},
		{name: "disclosure, no token", method: "GET", path: "/v1/admin/disclosures/" + d1.ID, status: 401, code: "unauthorized"},
		{name: "disclosure, store down", method: "GET", path: "/v1/admin/disclosures/" + d1.ID, auth: adm1, before: fail(kyctest.MethodDisclosure, 1, boom), status: 500, code: "internal"},
		// POST /v1/admin/disclosures/{id}/approve
		{name: "disclosure approval by its requester", method: "POST", path: "/v1/admin/disclosures/" + d1.ID + "/approve", auth: adm1, status: 403, code: "self_approval"},
		{name: "disclosure approval, the admin's own account", method: "POST", path: "/v1/admin/disclosures/" + d1.ID + "/approve", auth: adm3, status: 403, code: "own_account"},
		{name: "disclosure approval", method: "POST", path: "/v1/admin/disclosures/" + d1.ID + "/approve", auth: adm2, status: 200},
		{name: "disclosure approval, again", method: "POST", path: "/v1/admin/disclosures/" + d1.ID + "/approve", auth: adm2, status: 409, code: "already_approved"},
		{name: "disclosure approval, unknown", method: "POST", path: "/v1/admin/disclosures/nope/approve", auth: adm2, status: 404, code: "disclosure_not_found"},
		{name: "disclosure approval, no token", method: "POST", path: "/v1/admin/disclosures/" + d3.ID + "/approve", status: 401, code: "unauthorized"},
		{name: "disclosure approval, store down", method: "POST", path: "/v1/admin/disclosures/" + d3.ID + "/approve", auth: adm2, before: fail(kyctest.MethodDisclosure, 1, boom), status: 500, code: "internal"},
		// GET /v1/admin/disclosures/{id}/export
		{name: "disclosure export", method: "GET", path: "/v1/admin/disclosures/" + d2.ID + "/export", auth: adm1, status: 200},
		{name: "disclosure export, not approved", method: "GET", path: "/v1/admin/disclosures/" + d3.ID + "/export", auth: adm1, status: 409, code: "not_approved"},
		{name: "disclosure export, unknown", method: "GET", path: "/v1/admin/disclosures/nope/export", auth: adm1, status: 404, code: "disclosure_not_found"},
		{name: "disclosure export, reviewer", method: "GET", path: "/v1/admin/disclosures/" + d2.ID + "/export", auth: rev1, status: 403, code: "forbidden"},
		{name: "disclosure export, the admin's own account", method: "GET", path: "/v1/admin/disclosures/" + d2.ID + "/export", auth: adm3, status: 403, code: "own_account"},
		{name: "disclosure export, no token", method: "GET", path: "/v1/admin/disclosures/" + d2.ID + "/export", status: 401, code: "unauthorized"},
		{name: "disclosure export, store down", method: "GET", path: "/v1/admin/disclosures/" + d2.ID + "/export", auth: adm1, before: fail(kyctest.MethodDisclosure, 1, boom), status: 500, code: "internal"},
		// POST /v1/billing/events
		hook("order placed", order9, 200, ""),
		hook("the same event again", order9, 409, "replayed"),
		hook("order cancelled", event("OrderCancelled", "evt-10", map[string]any{"orderId": "o-9"}), 200, ""),
		hook("cancellation of an unknown order", event("OrderCancelled", "evt-11", map[string]any{"orderId": "o-nope"}), 404, "order_not_found"),
		hook("cancellation of an order already cancelled", event("OrderCancelled", "evt-16", map[string]any{"orderId": "o-9"}), 200, ""),
		hook("order placed, a business's one-time product without a due date",
			event("OrderPlaced", "evt-17", with(placed("o-17", "cust-17"), map[string]any{"nextDueDate": nil, "business": true})), 200, ""),
		{name: "order without a due date", method: "GET", path: "/v1/admin/orders/o-17", auth: rev1, status: 200},
		docRefuses(hook("order placed, a member the gate does not know in the detail",
			event("OrderPlaced", "evt-18", with(placed("o-18", "cust-18"), map[string]any{"vip": true})), 400, "malformed")),
		docRefuses(hook("a member the gate does not know in the envelope", `{"type":"OrderCancelled","id":"evt-19","detail":{"orderId":"o-9"},"source":"whmcs"}`, 400, "malformed")),
		hook("order placed, data after the object", order9+`{}`, 400, "malformed"), // kin-openapi reads the first JSON value only
		hook("order placed, a product not in the catalogue",
			event("OrderPlaced", "evt-20", with(placed("o-20", "cust-20"), map[string]any{"productId": "kyc-vps-typo"})), 422, "unknown_productId"),
		hook("order placed, a region not configured",
			event("OrderPlaced", "evt-21", with(placed("o-21", "cust-21"), map[string]any{"serverRegion": "sg"})), 422, "unknown_serverRegion"),
		hook("not JSON", `{"type":`, 400, "malformed"),
		hook("id not an id", event("OrderCancelled", "evt/12", map[string]any{"orderId": "o-9"}), 422, "invalid_id"),
		hook("order placed without its fields", event("OrderPlaced", "evt-13", map[string]any{"orderId": "o-13"}), 422, ""),
		hook("body over 64 KiB", bigEvent, 413, "body_too_large"),
		{name: "event, wrong signature", method: "POST", path: "/v1/billing/events", body: order9,
			header: map[string]string{webhooksig.HeaderTimestamp: strconv.FormatInt(now.Unix(), 10), webhooksig.HeaderSignature: "v1=00"}, status: 401, code: "bad_signature"},
		{name: "event, signed 10 minutes ago", method: "POST", path: "/v1/billing/events", body: order9, header: signed(order9, now.Add(-10*time.Minute)), status: 401, code: "bad_signature"},
		{name: "event, no signature", method: "POST", path: "/v1/billing/events", body: order9, status: 401, code: "bad_signature"},
		{name: "event, replay guard down", method: "POST", path: "/v1/billing/events", body: event("OrderCancelled", "evt-14", map[string]any{"orderId": "o-1"}),
			header: signed(event("OrderCancelled", "evt-14", map[string]any{"orderId": "o-1"}), now), before: func() { f.replay.failNext = boom }, status: 500, code: "internal"},
		// POST /v1/billing/events: StaffAction
		hook("staff action", staffEvent("evt-20", staffDetail("o-1", "cust-1", "override")), 200, ""),
		hook("staff action with an order's field", staffEvent("evt-21", map[string]any{"orderId": "o-1", "productId": "kyc-vps"}), 400, "malformed"),
		hook("staff action on an order the gate never had", staffEvent("evt-22", staffDetail("o-nope", "cust-1", "module_create")), 404, "order_not_found"),
		hook("staff action the gate does not know", staffEvent("evt-23", staffDetail("o-1", "cust-1", "terminate")), 422, "invalid_action"),
		// GET /v1/billing/customers/{id}/kyc
		{name: "billing read", method: "GET", path: "/v1/billing/customers/cust-1/kyc", header: signedGet("/v1/billing/customers/cust-1/kyc", now), status: 200},
		{name: "billing read, released", method: "GET", path: "/v1/billing/customers/cust-5/kyc", header: signedGet("/v1/billing/customers/cust-5/kyc", now), status: 200},
		{name: "billing read, a customer never seen", method: "GET", path: "/v1/billing/customers/nobody/kyc", header: signedGet("/v1/billing/customers/nobody/kyc", now), status: 200},
		{name: "billing read, unsigned", method: "GET", path: "/v1/billing/customers/cust-1/kyc", status: 401, code: "bad_signature"},
		{name: "billing read, a POST's signature", method: "GET", path: "/v1/billing/customers/cust-1/kyc", header: signed("", now), status: 401, code: "bad_signature"},
		{name: "billing read, an id that is no id", method: "GET", path: "/v1/billing/customers/a%20b/kyc", header: signedGet("/v1/billing/customers/a%20b/kyc", now), status: 422, code: "invalid_customerId"},
		{name: "billing read, store down", method: "GET", path: "/v1/billing/customers/cust-1/kyc", header: signedGet("/v1/billing/customers/cust-1/kyc", now), before: fail(kyctest.MethodAccount, 1, boom), status: 500, code: "internal"},
		// GET /v1/billing/review-queue
		{name: "review queue numbers", method: "GET", path: "/v1/billing/review-queue", header: signedGet("/v1/billing/review-queue", now), status: 200},
		{name: "review queue numbers, unsigned", method: "GET", path: "/v1/billing/review-queue", status: 401, code: "bad_signature"},
		{name: "review queue numbers, store down", method: "GET", path: "/v1/billing/review-queue", header: signedGet("/v1/billing/review-queue", now), before: fail(kyctest.MethodPendingCount, 1, boom), status: 500, code: "internal"},
		// Paths and methods the API does not have.
		{name: "unknown path", method: "GET", path: "/v1/nothing", auth: customer("cust-1"), status: 404, code: "not_found"},
		{name: "wrong method", method: "GET", path: "/v1/kyc/documents", auth: customer("cust-1"), status: 405, code: "method_not_allowed"},
		{name: "wrong method, admin", method: "DELETE", path: "/v1/admin/submissions/" + s1, auth: rev1, status: 405, code: "method_not_allowed"},
		{name: "wrong method, webhook", method: "PUT", path: "/v1/billing/events", status: 405, code: "method_not_allowed"},
	}

	seen := map[string]bool{} // "operationId status"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op, _ := f.run(t, c, tc)
			seen[fmt.Sprintf("%s %d", op, tc.status)] = true
		})
	}
	for _, r := range contract.APIRoutes() {
		op := c.Operation(r.Pattern)
		for status := range op.Responses.Map() {
			if !seen[op.OperationID+" "+status] {
				t.Errorf("%s (%s): status %s is documented but no case of the table produces it", r.Pattern, op.OperationID, status)
			}
		}
	}
}

// The 405 of each function's own handler (in Lambda, each function serves
// only its routes) lists exactly the methods of the path.
func TestEachFunctionAnswers405WithAllow(t *testing.T) {
	f := newAPIFixture(t)
	verifier := JWTVerifier{Issuer: fixtureIssuer, Audiences: []string{fixtureAudience}, Keys: map[string]*rsa.PublicKey{"k1": &fuzzKey.PublicKey}, Now: f.w.Now}
	for _, tc := range []struct {
		name         string
		h            http.Handler
		method, path string
		allow        string
	}{
		{"customer api", NewCustomerAPI(f.w.Service, verifier, fuzzLog), "GET", "/v1/kyc/submissions", "POST"},
		{"customer api, POST on a GET route", NewCustomerAPI(f.w.Service, verifier, fuzzLog), "POST", "/v1/kyc/status", "GET"},
		{"admin api", NewAdminAPI(f.w.Service, verifier, fuzzLog), "PATCH", "/v1/admin/submissions/s-1/decision", "POST"},
		{"admin api, GET and nothing else", NewAdminAPI(f.w.Service, verifier, fuzzLog), "DELETE", "/v1/admin/disclosures/d-1", "GET"},
		{"webhook", NewBillingWebhook(f.w.Intake, fixtureSecret, f.replay, f.w.Now, fuzzLog), "GET", "/v1/billing/events", "POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tc.allow {
				t.Errorf("%s %s = %d Allow %q, want 405 Allow %q: %s", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.allow, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != ProblemContentType {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	rec := httptest.NewRecorder()
	NewAdminAPI(f.w.Service, verifier, fuzzLog).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/kyc/status", nil))
	if rec.Code != http.StatusNotFound || rec.Header().Get("Allow") != "" {
		t.Errorf("a route of another function = %d Allow %q, want 404 without Allow", rec.Code, rec.Header().Get("Allow"))
	}
}
