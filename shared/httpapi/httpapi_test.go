package httpapi

// The HTTP layer's own parts: the error table and problem details, the body
// decoder, authentication (the local JWT verifier, API Gateway's claims,
// groups, the Authorization scheme), mounting routes, and the webhook's
// signature window and replay protection. The handlers as a whole are in
// openapi_test.go.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != ProblemContentType {
		t.Errorf("Content-Type %q, want %s", ct, ProblemContentType)
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	var p Problem
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("not problem details: %v", err)
	}
	return p
}

// Every error kind answers its status as problem details; a 500 shows
// nothing of its cause, which goes to the log.
func TestWriteErrorMapsEachKind(t *testing.T) {
	for _, tc := range []struct {
		name         string
		err          error
		status       int
		code, detail string
	}{
		{"invalid", kyc.Invalid("unknown_type", "%q is not an accepted document type", "x"), 422, "unknown_type", `"x" is not an accepted document type`},
		{"not found", kyc.NotFound("order_not_found", "no order o-1"), 404, "order_not_found", "no order o-1"},
		{"conflict", fmt.Errorf("decide: %w", kyc.Conflict("stale_version", "changed")), 409, "stale_version", "changed"},
		{"forbidden", kyc.Forbidden("self_approval", "needs a second admin"), 403, "self_approval", "needs a second admin"},
		{"too large", kyc.TooLarge("too_large", "over"), 413, "too_large", "over"},
		{"rate limited", kyc.RateLimited(1200*time.Millisecond, "slow down"), 429, "rate_limited", "slow down"},
		{"decided by the HTTP layer", malformed("bad body"), 400, "malformed", "bad body"},
		{"unauthenticated", errUnauthenticated, 401, "unauthorized", errUnauthenticated.message},
		{"a plain error", fmt.Errorf("load customer cust-1: %w", errors.New("dynamodb: secret table name")), 500, "internal", "internal error"},
		{"a rule error of kind internal", &kyc.Error{Kind: kyc.KindInternal, Code: "oops", Message: "table kyc-secret"}, 500, "internal", "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/v1/kyc/status", nil)
			writeError(rec, req, slog.New(slog.NewTextHandler(&logs, nil)), tc.err)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			body := rec.Body.String()
			p := problemOf(t, rec)
			want := Problem{Type: "urn:kycgate:problem:" + tc.code, Title: http.StatusText(tc.status), Status: tc.status, Detail: tc.detail, Code: tc.code}
			if p != want {
				t.Errorf("problem %+v, want %+v", p, want)
			}
			if tc.status >= 500 {
				if strings.Contains(body, "secret") || strings.Contains(body, "cust-1") {
					t.Errorf("a 500 shows its cause: %s", body)
				}
				if !strings.Contains(logs.String(), "secret") {
					t.Errorf("the cause of a 500 is not in the log: %s", logs.String())
				}
			} else if logs.Len() > 0 {
				t.Errorf("a %d was logged: %s", tc.status, logs.String())
			}
			if ra := rec.Header().Get("Retry-After"); (tc.status == 429) != (ra != "") || (tc.status == 429 && ra != "2") {
				t.Errorf("Retry-After %q (status %d), want 2 (rounded up) on a 429 only", ra, tc.status)
			}
			if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", rec.Header())
			}
		})
	}
}

// The decoder refuses what is not strict JSON of the request's shape, and
// its messages quote at most a short prefix of the input.
func TestDecode(t *testing.T) {
	type shape struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
	}
	longField := strings.Repeat("f", 200)
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		detail                  string // a part of the detail
	}{
		{"strict JSON", "application/json", `{"name":"a","size":1}`, 0, ""},
		{"charset parameter", "application/json; charset=utf-8", `{"name":"a"}`, 0, ""},
		{"media type in capitals", "Application/JSON", `{"name":"a"}`, 0, ""},
		{"no content type", "", `{"name":"a"}`, 0, ""},
		{"text/plain", "text/plain", `{"name":"a"}`, 400, "Content-Type must be application/json"},
		{"a longer media type", "application/jsonx", `{"name":"a"}`, 400, "Content-Type must be application/json"},
		{"unparsable content type", "application/json; =", `{"name":"a"}`, 400, "Content-Type"},
		{"unknown field", "application/json", `{"name":"a","owner":"b"}`, 400, `unknown field "owner"`},
		{"long unknown field", "application/json", `{"` + longField + `":1}`, 400, `unknown field "` + longField[:kyc.MaxQuote] + `…"`},
		{"wrong type", "application/json", `{"size":"big"}`, 400, `field "size" must be int64`},
		{"syntax error", "application/json", `{"name":`, 400, "not valid JSON"},
		{"trailing data", "application/json", `{"name":"a"} {}`, 400, "data after the JSON value"},
		{"empty body", "application/json", ``, 400, "a JSON body is required"},
		{"over the limit", "application/json", `{"name":"` + strings.Repeat("a", 2000) + `"}`, 413, "over 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			var v shape
			err := decode(httptest.NewRecorder(), req, 1024, &v)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != tc.status || !strings.Contains(ae.message, tc.detail) {
				t.Fatalf("decode = %v, want %d with %q", err, tc.status, tc.detail)
			}
			if strings.Contains(ae.message, longField[:kyc.MaxQuote+1]) {
				t.Errorf("the message quotes a long input: %s", ae.message)
			}
		})
	}
}

// The verifier checks tokens as API Gateway's JWT authorizer does.
func TestJWTVerifier(t *testing.T) {
	pub, _ := x509.MarshalPKIXPublicKey(&fuzzKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	sign := func(method jwt.SigningMethod, kid string, key any, mod func(jwt.MapClaims)) string {
		return fuzzToken(t, method, kid, key, fuzzClaims(mod))
	}
	rs := func(mod func(jwt.MapClaims)) string { return sign(jwt.SigningMethodRS256, "k1", fuzzKey, mod) }
	for _, tc := range []struct {
		name   string
		header string
		ok     bool
		groups []string
	}{
		{"valid", "Bearer " + rs(nil), true, nil},
		{"scheme in lower case", "bearer " + rs(nil), true, nil},
		{"scheme in capitals", "BEARER " + rs(nil), true, nil},
		{"two spaces", "Bearer  " + rs(nil), true, nil},
		{"cognito groups", "Bearer " + rs(func(c jwt.MapClaims) { c["cognito:groups"] = []string{"kyc-reviewers"} }), true, []string{"kyc-reviewers"}},
		{"groups as a string", "Bearer " + rs(func(c jwt.MapClaims) { c["groups"] = "[kyc-admins kyc-reviewers]" }), true, []string{"kyc-admins", "kyc-reviewers"}},
		{"audience in client_id", "Bearer " + rs(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "kyc-app" }), true, nil},
		{"no scheme", rs(nil), false, nil},
		{"Basic scheme", "Basic " + rs(nil), false, nil},
		{"scheme glued to the token", "Bearer" + rs(nil), false, nil},
		{"no token", "Bearer ", false, nil},
		{"a space in the token", "Bearer " + rs(nil) + " x", false, nil},
		{"wrong issuer", "Bearer " + rs(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), false, nil},
		{"wrong audience", "Bearer " + rs(func(c jwt.MapClaims) { c["aud"] = "other-app" }), false, nil},
		{"expired", "Bearer " + rs(func(c jwt.MapClaims) { c["exp"] = fuzzNow.Add(-time.Second).Unix() }), false, nil},
		{"no expiry", "Bearer " + rs(func(c jwt.MapClaims) { delete(c, "exp") }), false, nil},
		{"not yet valid", "Bearer " + rs(func(c jwt.MapClaims) { c["nbf"] = fuzzNow.Add(time.Hour).Unix() }), false, nil},
		{"no subject", "Bearer " + rs(func(c jwt.MapClaims) { c["sub"] = "" }), false, nil},
		{"unknown key id", "Bearer " + sign(jwt.SigningMethodRS256, "k2", fuzzKey, nil), false, nil},
		{"alg none", "Bearer " + sign(jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, nil), false, nil},
		{"HS256 keyed with the public key", "Bearer " + sign(jwt.SigningMethodHS256, "k1", pubPEM, nil), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", tc.header)
			id, err := fuzzVerifier.Authenticate(req)
			if (err == nil) != tc.ok {
				t.Fatalf("Authenticate = %+v, %v; want ok %v", id, err, tc.ok)
			}
			if tc.ok && (id.Subject != "cust-1" || !slices.Equal(id.Groups, tc.groups)) {
				t.Errorf("identity %+v, want cust-1 with groups %v", id, tc.groups)
			}
			if !tc.ok && !errors.Is(err, errUnauthenticated) {
				t.Errorf("error %v, want the 401 of the API", err)
			}
		})
	}
}

// In Lambda the caller comes from the claims API Gateway's authorizer
// verified, in any of the forms API Gateway passes groups.
func TestAPIGatewayJWT(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]string
		ok     bool
		sub    string
		groups []string
	}{
		{"customer", map[string]string{"sub": "1001"}, true, "1001", nil},
		{"cognito groups", map[string]string{"sub": "rev-1", "cognito:groups": "[kyc-reviewers kyc-admins]"}, true, "rev-1", []string{"kyc-reviewers", "kyc-admins"}},
		{"groups as JSON", map[string]string{"sub": "rev-1", "groups": `["kyc-admins"]`}, true, "rev-1", []string{"kyc-admins"}},
		{"groups comma-separated", map[string]string{"sub": "rev-1", "groups": "kyc-reviewers,kyc-admins"}, true, "rev-1", []string{"kyc-reviewers", "kyc-admins"}},
		{"no subject", map[string]string{"groups": "kyc-admins"}, false, "", nil},
		{"no claims", nil, false, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{RawPath: "/v1/kyc/status", RequestContext: events.APIGatewayV2HTTPRequestContext{
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/kyc/status"}}}
			if tc.claims != nil {
				ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: tc.claims}}
			}
			req, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			id, err := APIGatewayJWT{}.Authenticate(req)
			if (err == nil) != tc.ok || id.Subject != tc.sub || !slices.Equal(id.Groups, tc.groups) {
				t.Errorf("Authenticate = %+v, %v; want ok %v, %s %v", id, err, tc.ok, tc.sub, tc.groups)
			}
		})
	}
	// A plain request (no API Gateway event) has no caller.
	if _, err := (APIGatewayJWT{}).Authenticate(httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Error("a request without API Gateway's context was authenticated")
	}
}

func TestIdentityRoles(t *testing.T) {
	for _, tc := range []struct {
		groups                 []string
		staff, reviewer, admin bool
		actor                  kyc.ActorKind
	}{
		{nil, false, false, false, kyc.ActorReviewer},
		{[]string{"kyc-reviewers"}, true, true, false, kyc.ActorReviewer},
		{[]string{"kyc-admins"}, true, false, true, kyc.ActorAdmin},
		{[]string{"kyc-admins", "kyc-reviewers"}, true, true, true, kyc.ActorReviewer},
		{[]string{"KYC-ADMINS", "kyc-admin"}, false, false, false, kyc.ActorReviewer},
	} {
		id := Identity{Subject: "s", Groups: tc.groups}
		if id.Staff() != tc.staff || id.Reviewer() != tc.reviewer || id.Admin() != tc.admin || id.Actor().Kind != tc.actor {
			t.Errorf("%v: staff %v reviewer %v admin %v actor %s", tc.groups, id.Staff(), id.Reviewer(), id.Admin(), id.Actor().Kind)
		}
	}
}

// mount serves exactly a function's routes: a missing or extra handler is
// a programming error found at start.
func TestMountPanicsOnARouteWithoutHandlerAndAHandlerWithoutRoute(t *testing.T) {
	ok := func(http.ResponseWriter, *http.Request) error { return nil }
	full := map[string]handler{}
	for _, r := range contract.APIRoutesOf(contract.FunctionCustomerAPI) {
		full[r.Pattern] = ok
	}
	mustPanic := func(name string, handlers map[string]handler, want string) {
		t.Helper()
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
				t.Errorf("%s: recovered %v, want a panic naming %q", name, r, want)
			}
		}()
		mount(contract.FunctionCustomerAPI, handlers, fuzzAuth{}, fuzzLog)
	}
	missing := map[string]handler{}
	for p, h := range full {
		if p != "GET /v1/kyc/status" {
			missing[p] = h
		}
	}
	mustPanic("a route without a handler", missing, "GET /v1/kyc/status")
	extra := map[string]handler{"GET /v1/kyc/secret": ok}
	for p, h := range full {
		extra[p] = h
	}
	mustPanic("a handler without a route", extra, "GET /v1/kyc/secret")
	mux := mount(contract.FunctionCustomerAPI, full, fuzzAuth{}, fuzzLog) // the exact set mounts
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/kyc/status/", nil))
	if rec.Code != http.StatusNotFound || problemOf(t, rec).Code != "not_found" {
		t.Errorf("a path of no route = %d %s", rec.Code, rec.Body)
	}
}

// A JWT route answers 401 with the Bearer challenge before the handler runs;
// the webhook's route has no JWT.
func TestAuthenticateGuardsJWTRoutesOnly(t *testing.T) {
	ran := false
	h := authenticate(fuzzVerifier, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/kyc/status", nil))
	if ran || rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != "Bearer" || problemOf(t, rec).Code != "unauthorized" {
		t.Errorf("no token: ran %v, %d %v %s", ran, rec.Code, rec.Header(), rec.Body)
	}
}

// The webhook: a signature within 5 minutes either way passes, a refused or
// failed request leaves its id free for a retry, an applied one is refused
// when replayed.
func TestWebhookWindowAndReplay(t *testing.T) {
	w := kyctest.New(t)
	replay := &memReplay{seen: map[string]bool{}}
	h := NewBillingWebhook(w.Intake, fixtureSecret, replay, w.Now, fuzzLog)
	now := w.Now()
	post := func(body string, at time.Time) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/billing/events", strings.NewReader(body))
		for k, v := range signed(body, at) {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ev := func(id, order string) string {
		return jsonOf(map[string]any{"type": "OrderPlaced", "id": id, "detail": map[string]any{"orderId": order, "serviceId": "svc-" + order,
			"customerId": "cust-1", "productId": kyctest.ProductKYC, "orderedAt": now.Add(-time.Hour).Format(time.RFC3339), "nextDueDate": "2026-04-02", "serverRegion": "hk"}})
	}
	for _, tc := range []struct {
		name   string
		at     time.Duration
		status int
	}{
		{"signed 5 minutes ago", -webhooksig.Tolerance, 200},
		{"signed 5 minutes ahead", webhooksig.Tolerance, 200},
		{"signed 5 minutes and a second ago", -webhooksig.Tolerance - time.Second, 401},
		{"signed 5 minutes and a second ahead", webhooksig.Tolerance + time.Second, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			if rec := post(ev(id, "o-"+id), now.Add(tc.at)); rec.Code != tc.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if replay.seen[id] != (tc.status == 200) {
				t.Errorf("id remembered: %v, want %v", replay.seen[id], tc.status == 200)
			}
		})
	}
	// A failing intake leaves the id free: the sender's retry is applied.
	w.Store.FailNext(kyctest.MethodCommit, errors.New("store down"))
	if rec := post(ev("evt-retry", "o-retry"), now); rec.Code != 500 || replay.seen["evt-retry"] {
		t.Fatalf("failed intake: %d, remembered %v", rec.Code, replay.seen["evt-retry"])
	}
	if rec := post(ev("evt-retry", "o-retry"), now); rec.Code != 200 {
		t.Fatalf("retry after a failure: %d %s", rec.Code, rec.Body)
	}
	before := w.Customer("cust-1").Version
	rec := post(ev("evt-retry", "o-retry"), now)
	if rec.Code != 409 || problemOf(t, rec).Code != "replayed" || w.Customer("cust-1").Version != before {
		t.Errorf("replay: %d %s, customer version %d → %d", rec.Code, rec.Body, before, w.Customer("cust-1").Version)
	}
	// An id of more than 32 characters is quoted shortened in the replay's detail.
	long := "evt-" + strings.Repeat("9", 100)
	post(ev(long, "o-long"), now)
	if d := problemOf(t, post(ev(long, "o-long"), now)).Detail; strings.Contains(d, long[:kyc.MaxQuote+1]) {
		t.Errorf("the detail quotes the whole id: %s", d)
	}
}

// docs/policy.md lists every reason code GET /v1/admin/reasons serves, with
// its texts in both languages and whether it is resubmittable.
func TestReasonsAreListedInThePolicy(t *testing.T) {
	b, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range kyc.Reasons {
		resub := map[bool]string{true: "yes", false: "no"}[r.Resubmittable]
		row := fmt.Sprintf("| `%s` | %s | %s | %s |", r.Code, r.Text.En, r.Text.ZhHant, resub)
		if !strings.Contains(string(b), row) {
			t.Errorf("docs/policy.md has no row %s", row)
		}
	}
}
