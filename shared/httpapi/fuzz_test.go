package httpapi

// Fuzz targets for the outside input the HTTP API decodes: the customer and
// reviewer request bodies (through the real handlers, on a service whose
// ports are in memory), the billing webhook's body and signature headers,
// and bearer tokens and their claims. `make fuzz` runs each for a while;
// plain `go test` replays the seeds in testdata/fuzz.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// fuzzNow is the clock of every fuzz target.
var fuzzNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

var fuzzLog = slog.New(slog.DiscardHandler)

const fuzzKMSKey = "arn:aws:kms:us-east-1:000000000000:key/fuzz"

// fuzzWorld is the service's records, in memory: customer cust-1 has
// submission sub-1 (documents d1, d2) pending and claimed by rev-1;
// customer cust-2 has two valid documents, d3 and d4, never submitted.
type fuzzWorld struct {
	kyc.Store // methods the handlers under test do not reach
}

func (w *fuzzWorld) Customer(_ context.Context, id string) (kyc.Customer, error) {
	if id != "cust-1" {
		return kyc.Customer{}, kyc.ErrNotExist
	}
	c := kyc.NewCustomer(id, fuzzNow.Add(-time.Hour))
	c.Status, c.Pending, c.Version = kyc.StatusPendingReview, &kyc.PendingSubmission{ID: "sub-1", SubmittedAt: fuzzNow.Add(-time.Hour)}, 3
	return c, nil
}

func (w *fuzzWorld) Submission(_ context.Context, id string) (kyc.Submission, error) {
	if id != "sub-1" {
		return kyc.Submission{}, kyc.ErrNotExist
	}
	return kyc.Submission{ID: id, CustomerID: "cust-1", IdentityDocumentID: "d1", AddressDocumentID: "d2", Status: kyc.SubPending,
		SubmittedAt: fuzzNow.Add(-time.Hour), Version: 2, ClaimedBy: "rev-1", ClaimedAt: fuzzNow.Add(-time.Minute)}, nil
}

func (w *fuzzWorld) Document(_ context.Context, customerID, id string) (kyc.Document, error) {
	docs := map[string]kyc.Document{
		"cust-1/d1": {ID: "d1", Category: kyc.Identity, Type: kyc.Passport, ContentType: kyc.JPEG, SubmissionID: "sub-1"},
		"cust-1/d2": {ID: "d2", Category: kyc.Address, Type: kyc.BankStatement, ContentType: kyc.PDF, SubmissionID: "sub-1"},
		"cust-2/d3": {ID: "d3", Category: kyc.Identity, Type: kyc.Passport, ContentType: kyc.JPEG},
		"cust-2/d4": {ID: "d4", Category: kyc.Address, Type: kyc.BankStatement, ContentType: kyc.PDF},
	}
	d, ok := docs[customerID+"/"+id]
	if !ok {
		return kyc.Document{}, kyc.ErrNotExist
	}
	d.CustomerID, d.Key, d.State, d.Size, d.DeclaredSize, d.VersionID = customerID, kyc.DocumentKey(customerID, id), kyc.DocValid, 1000, 1000, "v1"
	return d, nil
}

// Audit is cust-1's trail: rev-1 has opened both documents of sub-1.
func (w *fuzzWorld) Audit(_ context.Context, id string) ([]kyc.AuditEntry, error) {
	if id != "cust-1" {
		return nil, nil
	}
	rev := kyc.Actor{Kind: kyc.ActorReviewer, ID: "rev-1"}
	return []kyc.AuditEntry{
		{Seq: 1, Actor: rev, Action: "document.opened", SubmissionID: "sub-1", DocumentID: "d1"},
		{Seq: 2, Actor: rev, Action: "document.opened", SubmissionID: "sub-1", DocumentID: "d2"},
	}, nil
}

func (w *fuzzWorld) Account(ctx context.Context, id string) (kyc.Account, error) {
	var a kyc.Account
	if c, err := w.Customer(ctx, id); err == nil {
		a.Customer = &c
	}
	for _, doc := range []string{"d1", "d2", "d3", "d4"} {
		if d, err := w.Document(ctx, id, doc); err == nil {
			a.Documents = append(a.Documents, d)
		}
	}
	return a, nil
}

// SubmissionsByDocNumber finds no other submission with the number.
func (w *fuzzWorld) SubmissionsByDocNumber(context.Context, string, int) ([]kyc.Submission, error) {
	return nil, nil
}

func (w *fuzzWorld) CreateDocument(context.Context, kyc.Document) error { return nil }
func (w *fuzzWorld) Commit(context.Context, kyc.Work) error             { return nil }
func (w *fuzzWorld) DeleteOutbox(context.Context, string) error         { return nil }

type fuzzFiles struct{ kyc.Files }

func (fuzzFiles) PresignUpload(_ context.Context, d kyc.Document, _ int64, ttl time.Duration) (kyc.Upload, error) {
	return kyc.Upload{URL: "https://bucket.example/", Fields: map[string]string{"key": d.Key}, ExpiresAt: fuzzNow.Add(ttl)}, nil
}

func (fuzzFiles) Inspect(_ context.Context, key, _ string) (kyc.ObjectInfo, error) {
	head := map[string][]byte{"d3": {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F'}, "d4": []byte("%PDF-1.4")}
	ct := map[string]string{"d3": kyc.JPEG, "d4": kyc.PDF}
	id := key[strings.LastIndex(key, "/")+1:]
	return kyc.ObjectInfo{Exists: true, Size: 1000, ContentType: ct[id], SSE: "aws:kms", KMSKeyID: fuzzKMSKey, Head: head[id], VersionID: "v1"}, nil
}

func (fuzzFiles) MarkSubmitted(context.Context, string, string) error { return nil }

type fuzzSealer struct{}

func (fuzzSealer) Seal(_ context.Context, _ string, p []byte) (kyc.Sealed, error) {
	return kyc.Sealed{V: 1, Nonce: make([]byte, 12), Data: p}, nil
}
func (fuzzSealer) Open(_ context.Context, _ string, s kyc.Sealed) ([]byte, error) { return s.Data, nil }
func (fuzzSealer) Fingerprint(context.Context, string) (string, error)            { return "fp", nil }

type fuzzPublisher struct{}

func (fuzzPublisher) Publish(context.Context, []kyc.Event) error { return nil }

// fuzzAuth authenticates every request as the subject and groups of its
// X-Fuzz-As header: "customer" (cust-2) or "reviewer" (rev-1).
type fuzzAuth struct{}

func (fuzzAuth) Authenticate(r *http.Request) (Identity, error) {
	if r.Header.Get("X-Fuzz-As") == "reviewer" {
		return Identity{Subject: "rev-1", Groups: []string{contract.GroupReviewers}}, nil
	}
	return Identity{Subject: "cust-2"}, nil
}

func fuzzService() *kyc.Service {
	return kyc.NewService(&fuzzWorld{}, fuzzFiles{}, fuzzSealer{}, fuzzPublisher{}, kyc.Config{Products: kyc.ProductSet{"kyc-vps": true}, KMSKeyID: fuzzKMSKey},
		kyc.WithClock(func() time.Time { return fuzzNow }), kyc.WithLogger(fuzzLog))
}

// serveFuzz runs one request through a handler.
func serveFuzz(h http.Handler, method, path, as, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("X-Fuzz-As", as)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// checkAnswer fails on a 5xx, an answer that is not JSON, and an error
// answer that is not problem details with a code.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if w.Code >= 500 || !slices.Contains(allowed, w.Code) {
		t.Fatalf("status %d (want one of %v): %s", w.Code, allowed, w.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("answer is not JSON: %q", w.Body)
	}
	if w.Code >= 400 {
		if ct := w.Header().Get("Content-Type"); ct != ProblemContentType {
			t.Fatalf("error answer of type %q: %s", ct, w.Body)
		}
		if code, _ := body["code"].(string); code == "" || body["status"] != float64(w.Code) {
			t.Fatalf("error answer without its code or status: %s", w.Body)
		}
	}
}

// FuzzCustomerRequests: POST /v1/kyc/documents and POST /v1/kyc/submissions
// with any body and content type: the real customer API never panics, never
// answers 5xx, and answers with one of the statuses of the SPEC's error
// table (or 201); a created document or submission came from a body that
// is strict JSON of the request's shape.
func FuzzCustomerRequests(f *testing.F) {
	addCustomerRequestsSeeds(f, f)
	h := NewCustomerAPI(fuzzService(), fuzzAuth{}, fuzzLog)
	f.Fuzz(func(t *testing.T, submission bool, contentType string, body []byte) {
		path := "/v1/kyc/documents"
		if submission {
			path = "/v1/kyc/submissions"
		}
		w := serveFuzz(h, "POST", path, "customer", contentType, body)
		checkAnswer(t, w, 201, 400, 404, 409, 413, 422)
		if w.Code == 201 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			var v map[string]any
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("created from a body that is not one JSON object: %q", body)
			}
		}
	})
}

// FuzzDecisionRequest: POST /v1/admin/submissions/{id}/decision with any
// body: the real admin API (on a pending submission claimed by the caller)
// never panics and never answers 5xx.
func FuzzDecisionRequest(f *testing.F) {
	addDecisionRequestSeeds(f, f)
	h := NewAdminAPI(fuzzService(), fuzzAuth{}, fuzzLog)
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		p := "/v1/admin/submissions/" + id + "/decision"
		if strings.ContainsAny(id, "/?#%") || id == "" || !printable(id) || path.Clean(p) != p {
			return // not one canonical path segment (the mux redirects)
		}
		w := serveFuzz(h, "POST", p, "reviewer", "application/json", body)
		checkAnswer(t, w, 200, 400, 404, 409, 413, 422)
	})
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f || r > 0x7e {
			return false
		}
	}
	return true
}

// The webhook under fuzzing: its secret, an intake that accepts well-formed
// orders, and a replay guard in memory.
var fuzzSecret = []byte("whsec-fuzz-0123456789abcdef")

type fuzzIntake struct{}

func (fuzzIntake) ApplyBillingEvent(_ context.Context, t kyc.EventType, e kyc.BillingEvent) (kyc.IntakeResult, error) {
	if !slices.Contains(kyc.BillingEvents, t) {
		return kyc.IntakeResult{}, kyc.Invalid("unknown_event_type", "unknown type")
	}
	if !kyc.ValidID(e.OrderID) {
		return kyc.IntakeResult{}, kyc.Invalid("invalid_orderId", "bad order id")
	}
	return kyc.IntakeResult{OrderID: e.OrderID, State: kyc.AwaitingKYC}, nil
}

func (fuzzIntake) RecordStaffAction(_ context.Context, a kyc.StaffActionEvent) (kyc.IntakeResult, error) {
	if !kyc.ValidID(a.OrderID) {
		return kyc.IntakeResult{}, kyc.Invalid("invalid_orderId", "bad order id")
	}
	return kyc.IntakeResult{OrderID: a.OrderID, State: kyc.AwaitingKYC}, nil
}

func (fuzzIntake) BillingView(_ context.Context, id string) (kyc.BillingView, error) {
	return kyc.BillingView{CustomerID: id, Status: kyc.StatusUnverified, Holds: []kyc.BillingHold{}, Released: []string{}}, nil
}

func (fuzzIntake) ReviewQueue(context.Context) (kyc.QueueSummary, error) {
	return kyc.QueueSummary{}, nil
}

type fuzzReplay struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (g *fuzzReplay) Seen(_ context.Context, id string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen[id], nil
}

func (g *fuzzReplay) Remember(_ context.Context, id string, _ time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen[id] {
		return kyc.ErrStale
	}
	g.seen[id] = true
	return nil
}

func fuzzWebhook() http.Handler {
	return NewBillingWebhook(fuzzIntake{}, fuzzSecret, &fuzzReplay{seen: map[string]bool{}}, func() time.Time { return fuzzNow }, fuzzLog)
}

func postWebhook(h http.Handler, body []byte, ts, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/v1/billing/events", bytes.NewReader(body))
	req.Header.Set(webhooksig.HeaderTimestamp, ts)
	req.Header.Set(webhooksig.HeaderSignature, sig)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

var webhookSeeds = []string{
	`{"type":"OrderPlaced","id":"evt-1","detail":{"orderId":"o-1","serviceId":"5001","customerId":"42","productId":"kyc-vps","orderedAt":"2026-11-26T09:00:00Z","nextDueDate":"2026-12-26","serverRegion":"hk"}}`,
	`{"type":"OrderCancelled","id":"evt-2","detail":{"orderId":"o-1"}}`,
	`{"type":"ServiceExpired","id":"evt-3","detail":{"orderId":"o-1"}}`,
	`{"type":"StaffAction","id":"evt-3s","detail":{"orderId":"o-1","serviceId":"5001","customerId":"42","action":"override","adminId":"7"}}`,
	`{"type":"OrderRefunded","id":"evt-4","detail":{"orderId":"o-1"}}`,
	`{"type":"OrderPlaced","id":"evt/../5","detail":{"orderId":"o-1"}}`,
	`{"type":"OrderPlaced","id":"evt-6","detail":{"orderId":"o-1","orderedAt":"yesterday"}}`,
	`{"type":"OrderPlaced","id":`,
	``,
	`[]`,
}

// FuzzWebhook: POST /v1/billing/events with any body, timestamp and
// signature header never panics and never answers 5xx; whatever gets past
// the signature check (any answer but 401) carries the HMAC of its own
// timestamp and body under the secret, with a timestamp within 5 minutes.
func FuzzWebhook(f *testing.F) {
	addWebhookSeeds(f, f)
	h := fuzzWebhook()
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string) {
		w := postWebhook(h, body, ts, sig)
		if w.Code >= 500 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if w.Code == http.StatusUnauthorized {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if err != nil {
			t.Fatalf("passed the signature check with timestamp %q", ts)
		}
		if d := fuzzNow.Sub(time.Unix(n, 0)); d > webhooksig.Tolerance || d < -webhooksig.Tolerance {
			t.Fatalf("passed the signature check with a timestamp %s off", d)
		}
		if !hmac.Equal([]byte(webhooksig.Sign(fuzzSecret, n, body)), []byte(strings.TrimSpace(sig))) {
			t.Fatalf("passed the signature check without the body's signature: %q %q", sig, body)
		}
	})
}

// FuzzWebhookSigned: a body signed with the secret and a timestamp within
// 5 minutes passes the signature check (whatever it holds, but a body that
// is a signed GET's message, "GET ...", which is refused); the same request
// with any one byte of the body changed is refused with 401.
func FuzzWebhookSigned(f *testing.F) {
	addWebhookSignedSeeds(f, f)
	f.Fuzz(func(t *testing.T, body []byte, skew int16, at uint16, bits uint8) {
		if skew > 300 || skew < -300 {
			skew %= 300
		}
		n := fuzzNow.Unix() + int64(skew)
		ts, sig := strconv.FormatInt(n, 10), webhooksig.Sign(fuzzSecret, n, body)
		h := fuzzWebhook()
		if bytes.HasPrefix(body, []byte("GET ")) {
			if w := postWebhook(h, body, ts, sig); w.Code != http.StatusUnauthorized {
				t.Fatalf("a body that is a GET's signed message got %d: %s", w.Code, w.Body)
			}
			return
		}
		if w := postWebhook(h, body, ts, sig); w.Code == http.StatusUnauthorized || w.Code >= 500 {
			t.Fatalf("a signed request got %d: %s", w.Code, w.Body)
		}
		changed := bytes.Clone(body)
		if len(changed) == 0 {
			changed = []byte{bits}
		} else {
			if bits == 0 {
				bits = 1
			}
			changed[int(at)%len(changed)] ^= bits
		}
		if w := postWebhook(h, changed, ts, sig); w.Code != http.StatusUnauthorized {
			t.Fatalf("a changed body with the original signature got %d: %s", w.Code, w.Body)
		}
	})
}

// The token issuer under fuzzing: a fixed test key (never used anywhere
// else), so the seed tokens are signed by the key the verifier trusts.
const fuzzKeyPEM = `-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDIIWeV7pqRzE9G
i8jiV7Ff9trt4QSUfA7SGpoXsXkQCnMIwPgyUXVnR18/TMZJx5CVN3RQrLVtcCme
OyZM5nM7cZYDv8vOyZ61Z2Rqx4KDAF7Gw+cxtX89Blh8WccRW2LWYoA+QjNQccsA
ZVNQWs21FLSVhFawCnvVdQjqZLf6MZJRfOfyuWYMjuk81kWtj6yUTvFaF1F7bCf/
0LLToEvab9QkLncHf4AXY88F0uTr45nyuBqSCvZfB7bComfgbldBqf0vzra71QHy
fmaH3tU0eJXtPmu0AxaqNdxYQor/6I98pFmPTRAPDPrRd69U9yZj97B4J1xxznJK
MN2tI2L1AgMBAAECggEAE4thmpyX90ug5VaS6nnebm0E8ezC/f5Ek0O6TzyLgmPG
2rC/vGhEoy6u8Fde2Qc2iUAGabeIK1UkF1oW8jUiRUihOiIBtSLvDy+2+I+d4Q3I
87ffjPT45VyIiTJaVMlcNGwfspTT/pPyW4pJseQASWIphZ2MOrp3YAADPCLUbcg7
srwdTiiQrSsjexgpDZ+5hLD4oa6RWrn9Ucx5kbsFYSD7rHc9BdqMxVT/pTY7yS4Y
f69cIWJkxKB8eQJebPvB6z4335d30SaNevTWIU1XC44YhTGWnaUW1f3lhTRLlIAa
uLEtwJqpTPMQw1K06v2827McR3CZtiWvm7xj7Nd8CQKBgQD1jNWOdTL9becv9AfZ
/Z9X8RNptGSbqYySrsgR2Ry/9KdjX/degkvZhQY8eamnS7NAtQAgmKCgLcnszbFm
KFCNdF7b4aHOE6mb93EVitSL8KWl+o3t3YSgrfm8R+XXWeb2b9bciJTdFwssGVvV
+Yj03sQ+B/s5ywA3VBahkXeTuQKBgQDQpb4OnMJNjSxaRM+TH9VTc3b+oGFcqVno
Gg3YCceW5CN2/45xXPhtkZWzf2+6YmLRyP+2BvQx+RLJXfQjoj/4ikK3PLPTw1Lc
kNBBWn9q8BTkRuG8vG/SfQpgb/c7/caC45aaTcUsInX0V5gBKu0Vokf1AtTc2rpH
52nBV/ZfHQKBgEJgk8oyvFntv7UizoyLFuv66ziD3z6FEs8EGGlau37Yb/dZFdGi
f0aJwynN6aKjwA0Z4LLvD1y9g/xTjkUDWOMkNhBSah7/CbZzqUodgV9i6iR4Gq3W
V+fnn77Z4LPaRakQipCLC1LIy+hb4otxLSikn3/1QGBbE+/g900tuZlhAoGAdxgk
A/M2dU2/o0bjtPbWrWua4HxrFpkT2IgGnun2IwrVs3brt4l5xBD1gh+bhqfiABza
2OvfNycUshwO3sgd+5/vtOfRPW6gPYXrWWJumHuxcRuEflaQ/XSiF6nRVUzlopCF
xk3d3fNNoMre2MvHyDF5IUEcf3PaIHDWzKWI24ECgYASM1axPXD61oOs3EYVZOW/
NNU2kV4AX5+OCI38X+A/HNXWEivs79lQSX84zuLElZMzPjH9+vih+662THmfgYBY
bTGbGNNhZKudnc/4VvPn0k/EXtlU5RanNT5X3k88LPgutexEPU6g9xmDzQKxDLuR
tdCngD5PUn9TtAjjGHZtUQ==
-----END PRIVATE KEY-----
`

var fuzzKey = func() *rsa.PrivateKey {
	b, _ := pem.Decode([]byte(fuzzKeyPEM))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
}()

var fuzzVerifier = JWTVerifier{Issuer: "https://issuer.example", Audiences: []string{"kyc-app"},
	Keys: map[string]*rsa.PublicKey{"k1": &fuzzKey.PublicKey}, Now: func() time.Time { return fuzzNow }}

func fuzzToken(tb testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func fuzzClaims(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": "https://issuer.example", "aud": "kyc-app", "sub": "cust-1",
		"iat": fuzzNow.Add(-time.Minute).Unix(), "exp": fuzzNow.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

// signedByKey reports whether a token is an RS256 JWS signed by the key id
// k1's key: the only tokens the verifier may accept.
func signedByKey(raw string) bool {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return false
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "RS256" || hdr.Kid != "k1" {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(&fuzzKey.PublicKey, crypto.SHA256, sum[:], sig) == nil
}

// FuzzJWTVerify: Verify never panics on any string, and accepts only RS256
// tokens signed by the trusted key (with a subject): no other algorithm
// (none, HS256 keyed with the public key), key id or forged signature.
func FuzzJWTVerify(f *testing.F) {
	addJWTVerifySeeds(f, f)
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := fuzzVerifier.Verify(raw)
		if err != nil {
			return
		}
		if !signedByKey(raw) {
			t.Fatalf("accepted a token not signed by the key: %q", raw)
		}
		if id.Subject == "" {
			t.Fatalf("accepted a token without a subject: %q", raw)
		}
	})
}

// FuzzJWTClaims: any claims set, signed by the trusted key, never panics
// the verifier, and is accepted only with the issuer, an accepted audience
// (aud or client_id), a subject and an unexpired exp; its groups are the
// names the token carries.
func FuzzJWTClaims(f *testing.F) {
	addJWTClaimsSeeds(f, f)
	f.Fuzz(func(t *testing.T, claims []byte) {
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`))
		input := hdr + "." + base64.RawURLEncoding.EncodeToString(claims)
		sum := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(nil, fuzzKey, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		id, err := fuzzVerifier.Verify(input + "." + base64.RawURLEncoding.EncodeToString(sig))
		if err != nil {
			return
		}
		var c struct {
			Iss      string          `json:"iss"`
			Aud      json.RawMessage `json:"aud"`
			ClientID string          `json:"client_id"`
			Sub      string          `json:"sub"`
			Exp      json.Number     `json:"exp"` // golang-jwt also reads "exp":"<digits>"
		}
		if err := json.Unmarshal(claims, &c); err != nil {
			t.Fatalf("accepted claims that are not a JSON object of the standard claims: %s (%v)", claims, err)
		}
		var auds []string
		var one string
		if json.Unmarshal(c.Aud, &one) == nil {
			auds = []string{one}
		} else {
			_ = json.Unmarshal(c.Aud, &auds)
		}
		switch {
		case c.Iss != "https://issuer.example":
			t.Fatalf("accepted issuer %q", c.Iss)
		case !slices.Contains(auds, "kyc-app") && c.ClientID != "kyc-app":
			t.Fatalf("accepted audience %s / client_id %q", c.Aud, c.ClientID)
		case c.Sub == "" || id.Subject != c.Sub:
			t.Fatalf("accepted subject %q as %q", c.Sub, id.Subject)
		case expired(c.Exp):
			t.Fatalf("accepted exp %v", c.Exp)
		}
		for _, g := range id.Groups {
			if !bytes.Contains(claims, []byte(g)) && !bytes.Contains(claims, mustJSONString(g)) {
				t.Fatalf("group %q is not in the claims %s", g, claims)
			}
		}
	})
}

func expired(exp json.Number) bool {
	f, err := exp.Float64()
	return err != nil || f <= float64(fuzzNow.Unix())
}

func mustJSONString(s string) []byte {
	b, _ := json.Marshal(s)
	return bytes.Trim(b, `"`)
}

// FuzzParseGroups: parseGroups never panics, and reads a list of group
// names the same in each form API Gateway may pass it: "[a b]", "a,b" and
// a JSON array.
func FuzzParseGroups(f *testing.F) {
	addParseGroupsSeeds(f, f)
	f.Fuzz(func(t *testing.T, s string) {
		_ = parseGroups(s)
		_ = jsonGroups(json.RawMessage(s))
		names := strings.FieldsFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ':')
		})
		if len(names) == 0 {
			return
		}
		arr, _ := json.Marshal(names)
		for _, form := range []string{"[" + strings.Join(names, " ") + "]", strings.Join(names, ","), string(arr)} {
			if got := parseGroups(form); !slices.Equal(got, names) {
				t.Fatalf("parseGroups(%q) = %q, want %q", form, got, names)
			}
		}
	})
}

func addCustomerRequestsSeeds(tb testing.TB, f *testing.F) {
	for _, s := range []struct {
		submission bool
		ct, body   string
	}{
		{false, "application/json", `{"category":"identity","type":"passport","contentType":"image/jpeg","size":1000}`},
		{false, "application/json", `{"category":"address","type":"utility_bill","utility":"electricity","contentType":"application/pdf","size":52000,"fileName":"電費單 2026-10.pdf"}`},
		{false, "application/json", `{"category":"address","type":"utility_bill","contentType":"application/pdf","size":52000}`},
		{false, "application/json", `{"category":"identity","type":"passport","contentType":"text/html","size":1000}`},
		{false, "application/json", `{"category":"identity","type":"passport","contentType":"image/jpeg","size":-1}`},
		{false, "application/json", `{"category":"identity","type":"passport","contentType":"image/jpeg","size":1e300}`},
		{false, "application/json", `{"category":"identity","type":"passport","contentType":"image/jpeg","size":1000,"owner":"cust-1"}`},
		{false, "application/json", `{"category":"identity",`},
		{false, "text/plain", `category=identity`},
		{false, "", ``},
		{false, "application/json", `{"category":"identity","type":"passport","contentType":"image/jpeg","size":1000} {}`},
		{true, "application/json", `{"identityDocumentId":"d3","addressDocumentId":"d4"}`},
		{true, "application/json", `{"identityDocumentId":"d4","addressDocumentId":"d3"}`},
		{true, "application/json", `{"identityDocumentId":"d1","addressDocumentId":"d2"}`},
		{true, "application/json", `{"identityDocumentId":"d3","addressDocumentId":"d3"}`},
		{true, "application/json", `{"identityDocumentId":"../d3","addressDocumentId":"d4"}`},
		{true, "application/json; charset=utf-8", `{"identityDocumentId":"d3"}`},
		{true, "application/json", `{"identityDocumentId":["d3"],"addressDocumentId":"d4"}`},
		{true, "application/json", "\xff\xfe{}"},
	} {
		f.Add(s.submission, s.ct, []byte(s.body))
	}
}

func addDecisionRequestSeeds(tb testing.TB, f *testing.F) {
	for _, s := range []string{
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}},"version":2}`,
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"reject","reasons":["too_old"]}},"version":2,"customerMessage":"Please send a statement from the last three months."}`,
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}},"version":2,"note":"checked against the passport chip","extracted":{"fullName":"陳大文","documentNumber":"K1234567(8)","birthDate":"1990-01-01"}}`,
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}},"version":1}`,
		`{"decisions":{"identity":{"result":"reject"},"address":{"result":"approve"}},"version":2}`,
		`{"decisions":{"identity":{"result":"reject","reasons":["no_such_reason"]},"address":{"result":"approve"}},"version":2}`,
		`{"decisions":{"identity":{"result":"maybe"},"address":{"result":"approve"}},"version":2}`,
		`{"decisions":{"identity":{"result":"approve"}},"version":2}`,
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}}}`,
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}},"version":"2"}`,
		`{"decisions":null,"version":2}`,
		`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}},"version":2,"extracted":{"birthDate":"1990-13-45"}}`,
		`{}`, `[]`, `null`, ``,
	} {
		f.Add("sub-1", []byte(s))
	}
	f.Add("sub-2", []byte(`{"decisions":{"identity":{"result":"approve"},"address":{"result":"approve"}},"version":2}`))
	f.Add("..", []byte(`{}`))
}

func addWebhookSeeds(tb testing.TB, f *testing.F) {
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	for _, b := range webhookSeeds {
		f.Add([]byte(b), ts, webhooksig.Sign(fuzzSecret, fuzzNow.Unix(), []byte(b)))
		f.Add([]byte(b), ts, "v1=00")
	}
	f.Add([]byte(webhookSeeds[0]), strconv.FormatInt(fuzzNow.Unix()-400, 10), webhooksig.Sign(fuzzSecret, fuzzNow.Unix()-400, []byte(webhookSeeds[0])))
	f.Add([]byte(webhookSeeds[0]), " "+ts+" ", " "+webhooksig.Sign(fuzzSecret, fuzzNow.Unix(), []byte(webhookSeeds[0]))+" ")
	f.Add([]byte(webhookSeeds[0]), "1e9", "")
	f.Add([]byte(webhookSeeds[0]), "-9223372036854775808", "v1=")
}

func addWebhookSignedSeeds(tb testing.TB, f *testing.F) {
	for i, b := range webhookSeeds {
		f.Add([]byte(b), int16(i*30-120), uint16(i*7), uint8(1))
	}
}

func addJWTVerifySeeds(tb testing.TB, f *testing.F) {
	valid := fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(nil))
	pub, _ := x509.MarshalPKIXPublicKey(&fuzzKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	seeds := []string{
		valid,
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { c["cognito:groups"] = []string{"kyc-reviewers"} })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { c["groups"] = "[kyc-admins kyc-reviewers]" })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "kyc-app" })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { c["exp"] = fuzzNow.Add(-time.Second).Unix() })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { delete(c, "exp") })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { c["sub"] = "" })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k1", fuzzKey, fuzzClaims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "kyc-app"} })),
		fuzzToken(tb, jwt.SigningMethodRS256, "k2", fuzzKey, fuzzClaims(nil)),
		fuzzToken(tb, jwt.SigningMethodRS256, "", fuzzKey, fuzzClaims(nil)),
		fuzzToken(tb, jwt.SigningMethodHS256, "k1", pubPEM, fuzzClaims(nil)),
		fuzzToken(tb, jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, fuzzClaims(nil)),
		valid[:strings.LastIndex(valid, ".")] + ".",
		valid + "A",
		strings.Replace(valid, ".", "..", 1),
		"Bearer " + valid,
		"eyJhbGciOiJSUzI1NiJ9.e30.",
		"a.b.c", "", ".", "..", "...",
	}
	for _, s := range seeds {
		f.Add(s)
	}
}

func addJWTClaimsSeeds(tb testing.TB, f *testing.F) {
	for _, c := range []string{
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"cust-1","exp":1800000000}`,
		`{"iss":"https://issuer.example","aud":["kyc-app"],"sub":"rev-1","exp":1800000000,"cognito:groups":["kyc-reviewers"]}`,
		`{"iss":"https://issuer.example","client_id":"kyc-app","sub":"rev-1","exp":1800000000,"groups":"[kyc-admins kyc-reviewers]"}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"rev-1","exp":1800000000,"groups":"kyc-admins,kyc-reviewers"}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"rev-1","exp":1800000000,"groups":{"a":1}}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"cust-1","exp":"1800000000"}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"cust-1","exp":1800000000,"nbf":1895000000}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"cust-1","exp":1800000000,"iat":1895000000}`,
		`{"iss":"https://evil.example","aud":"kyc-app","sub":"cust-1","exp":1800000000}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":1,"exp":1800000000}`,
		`{"iss":"https://issuer.example","aud":"kyc-app","sub":"cust-1","exp":1e400}`,
		`[]`, `null`, `{}`,
	} {
		f.Add([]byte(c))
	}
}

func addParseGroupsSeeds(tb testing.TB, f *testing.F) {
	for _, s := range []string{"[kyc-reviewers kyc-admins]", "kyc-reviewers,kyc-admins", `["kyc-reviewers","kyc-admins"]`, "[]", "",
		"kyc-admins", " [kyc-admins] ", `[""]`, `["a b"]`, "[a,b c]", "[[kyc-admins]]", `"kyc-admins"`, "\x00"} {
		f.Add(s)
	}
}
