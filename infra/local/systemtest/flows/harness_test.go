package flows

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/infra/local/dev"
	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/httpapi/apitest"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
	"github.com/kycgate/kycgate/shared/wiring"
)

func TestMain(m *testing.M) { emulator.Main(m) }

// clock is the server clock of a test: it stands still unless moved.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// sys is the whole system of one test: the synthesized stack on the
// emulator, every function built as Lambda builds it, the HTTP API served as
// `make dev` serves it, and tokens signed by a key the authenticator trusts.
type sys struct {
	t        *testing.T
	st       *stack.Stack
	cfg      aws.Config
	c        wiring.Clients
	clock    *clock
	key      *rsa.PrivateKey
	srv      *httptest.Server
	fns      map[string]*wiring.Function
	table    string
	secret   []byte
	metrics  *bytes.Buffer
	verifier httpapi.JWTVerifier
	// client sends the tests' requests to the API and holds every exchange
	// to the OpenAPI document (apitest).
	client *http.Client
}

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// newSys builds the system with per-customer limits high enough for long
// tables of requests; TestUploadRateLimit uses the defaults.
func newSys(t *testing.T) *sys {
	t.Helper()
	return newSysWith(t, map[string]httpapi.Rate{"document": {N: 1000, Per: time.Hour}, "submission": {N: 1000, Per: time.Hour}})
}

func newSysWith(t *testing.T, rates map[string]httpapi.Rate) *sys {
	t.Helper()
	st, cfg := stacktest.Deploy(t)
	s := &sys{t: t, st: st, cfg: cfg, c: wiring.NewClients(cfg), clock: &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)},
		key: testKey, fns: map[string]*wiring.Function{}, metrics: &bytes.Buffer{}}
	s.build(rates)
	return s
}

// newSysFrom builds a second set of functions (new processes: empty caches)
// on the stack and clock of s.
func newSysFrom(t *testing.T, s *sys) *sys {
	t.Helper()
	n := &sys{t: t, st: s.st, cfg: s.cfg, c: s.c, clock: s.clock, key: s.key, fns: map[string]*wiring.Function{}, metrics: &bytes.Buffer{}}
	n.build(nil)
	return n
}

func (s *sys) build(rates map[string]httpapi.Rate) {
	t, st := s.t, s.st
	s.verifier = httpapi.JWTVerifier{Issuer: st.Authorizer.Issuer, Audiences: st.Authorizer.Audience,
		Keys: map[string]*rsa.PublicKey{"test": &s.key.PublicKey}, Now: s.clock.Now}
	s.table = st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvTable]
	// The malware scan is the dev server's stand-in of GuardDuty: its result
	// events reach the validator's queue through the template's rule.
	h := wiring.Host{Clock: s.clock.Now, Rates: rates, Auth: firstOf{httpapi.APIGatewayJWT{}, s.verifier}, Metrics: s.metrics,
		Scanner: dev.MalwareScanner(st, s.c, s.clock.Now)}
	ctx := context.Background()
	for _, name := range []string{contract.FunctionCustomerAPI, contract.FunctionAdminAPI, contract.FunctionBillingIntake,
		contract.FunctionValidator, contract.FunctionSweep} {
		fn, err := dev.Build(ctx, st, name, s.c, h) // as the Lambda mains build them
		if err != nil {
			t.Fatal(err)
		}
		s.fns[name] = fn
	}
	mux := http.NewServeMux()
	for _, r := range contract.Routes {
		mux.Handle(r.Pattern, s.fns[r.Function].HTTP)
	}
	mux.Handle("/", httpapi.Fallback(mux, "no such route")) // as the dev server: 404 and 405 as problem details
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	// Every exchange is checked against the OpenAPI document; a redirect
	// (the document gate) is handed back, not followed.
	s.client = &http.Client{Transport: apitest.Load(t).Transport(t, nil), CheckRedirect: noRedirect.CheckRedirect}
	sec, err := s.c.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(st.Functions[contract.FunctionBillingIntake].Env[contract.EnvWebhookSecretARN])})
	if err != nil {
		t.Fatal(err)
	}
	s.secret = []byte(aws.ToString(sec.SecretString))
}

// token signs a token the way the identity provider would.
func (s *sys) token(sub string, groups ...string) string {
	return s.signed(s.key, "test", jwt.MapClaims{
		"iss": s.st.Authorizer.Issuer, "aud": s.st.Authorizer.Audience[0], "sub": sub,
		"iat": s.clock.Now().Add(-time.Minute).Unix(), "exp": s.clock.Now().Add(time.Hour).Unix(), "cognito:groups": groups,
	})
}

func (s *sys) signed(key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	raw, err := tok.SignedString(key)
	if err != nil {
		s.t.Fatal(err)
	}
	return raw
}

func (s *sys) reviewer(sub string) string { return s.token(sub, contract.GroupReviewers) }

// resp is an HTTP answer.
type resp struct {
	status int
	body   []byte
	header http.Header
}

// code is an error answer's machine-readable code (RFC 9457 problem
// details, member "code").
func (r resp) code() string {
	var p httpapi.Problem
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

func (r resp) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request; body is JSON-encoded unless it is a string (sent as is).
func (s *sys) do(method, path, token string, body any) resp {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b, header: res.Header}
}

// noRedirect is a client that hands back a redirect rather than following
// it: the document gate answers 302 to a presigned link.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// open opens a document of a submission through the gate route and returns
// the link it redirects to; it fails the test on any other answer.
func (s *sys) open(sub, token string, cat kyc.Category, query ...string) string {
	s.t.Helper()
	path := "/v1/admin/submissions/" + sub + "/documents/" + string(cat)
	if len(query) > 0 {
		path += "?" + strings.Join(query, "&")
	}
	r := s.do("GET", path, token, nil)
	if r.status != http.StatusFound || r.header.Get("Location") == "" {
		s.t.Fatalf("open the %s document = %d %s", cat, r.status, r.body)
	}
	return r.header.Get("Location")
}

// fetch GETs a presigned link and returns its status and body.
func (s *sys) fetch(link string) (int, []byte) {
	s.t.Helper()
	res, err := http.Get(link)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// must sends a request and fails the test unless it gets want.
func (s *sys) must(want int, method, path, token string, body, into any) {
	s.t.Helper()
	r := s.do(method, path, token, body)
	if r.status != want {
		s.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	if into != nil {
		r.decode(s.t, into)
	}
}

// Test files: a real JPEG, a real PDF, and HTML pretending to be a JPEG.
var (
	jpegBytes = stacktest.JPEG
	pdfBytes  = stacktest.PDF
	htmlBytes = []byte("<html><body><script>alert(1)</script></body></html>")
)

// newDocument asks for an upload form.
func (s *sys) newDocument(cust string, cat kyc.Category, typ kyc.DocType, ct string, size int) kyc.NewUpload {
	s.t.Helper()
	var up kyc.NewUpload
	s.must(http.StatusCreated, "POST", "/v1/kyc/documents", s.token(cust),
		map[string]any{"category": cat, "type": typ, "contentType": ct, "size": size}, &up)
	return up
}

// upload posts a file to a presigned form as a browser does.
func (s *sys) upload(up kyc.Upload, data []byte, contentType string) {
	s.t.Helper()
	if err := stacktest.PostForm(http.DefaultClient, up, data, contentType); err != nil {
		s.t.Fatal(err)
	}
}

// uploaded creates a document and uploads data to it, then lets the
// validator handle what S3 notified.
func (s *sys) uploaded(cust string, cat kyc.Category, typ kyc.DocType, ct string, data []byte) string {
	s.t.Helper()
	up := s.newDocument(cust, cat, typ, ct, len(data))
	s.upload(up.Upload, data, ct)
	s.validate()
	return up.DocumentID
}

// validate feeds the validator queue's messages to the validator function,
// as the event source mapping does, until the queue is empty: S3's
// notifications of uploads, then the malware scan's results they caused.
func (s *sys) validate() {
	s.t.Helper()
	q := s.st.Functions[contract.FunctionValidator].Queues[0].URL
	for ms := s.receive(q); len(ms) > 0; ms = s.receive(q) {
		s.validateMessages(q, ms)
	}
}

// validateMessages hands messages of the validator's queue to the validator
// and deletes them.
func (s *sys) validateMessages(q string, ms []sqsMessage) {
	s.t.Helper()
	for _, m := range ms {
		raw, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), EventSource: "aws:sqs"}}})
		out, err := s.fns[contract.FunctionValidator].Invoke(context.Background(), raw)
		if err != nil {
			s.t.Fatalf("validator: %v", err)
		}
		if r := out.(events.SQSEventResponse); len(r.BatchItemFailures) > 0 {
			s.t.Fatalf("validator failed a message: %+v", r)
		}
		_, _ = sqs.NewFromConfig(s.cfg).DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &q, ReceiptHandle: m.ReceiptHandle})
	}
}

// versions counts the stored versions of an object.
func (s *sys) versions(key string) int {
	s.t.Helper()
	bucket := s.st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvBucket]
	out, err := s.c.S3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &key})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(out.Versions)
}

// published returns the events that reached a function's queue since the
// last call (the bus's rules route them there), by detail-type.
func (s *sys) published(function string) []kycEvent {
	s.t.Helper()
	q := s.st.Functions[function].Queues[0].URL
	var out []kycEvent
	for _, m := range s.receive(q) {
		var e struct {
			DetailType string          `json:"detail-type"`
			Source     string          `json:"source"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
			s.t.Fatal(err)
		}
		var ev kycEvent
		_ = json.Unmarshal(e.Detail, &ev)
		ev.Type, ev.Source, ev.Raw = kyc.EventType(e.DetailType), e.Source, e.Detail
		out = append(out, ev)
		_, _ = sqs.NewFromConfig(s.cfg).DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &q, ReceiptHandle: m.ReceiptHandle})
	}
	return out
}

// kycEvent is an outbound event as a consumer reads it.
type kycEvent struct {
	kyc.Event
	Type   kyc.EventType
	Source string
	Raw    json.RawMessage
}

func types(evs []kycEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Type)+" "+e.OrderID)
	}
	sort.Strings(out)
	return out
}

func (s *sys) receive(queue string) []sqsMessage {
	s.t.Helper()
	var out []sqsMessage
	for {
		res, err := sqs.NewFromConfig(s.cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30})
		if err != nil {
			s.t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			out = append(out, sqsMessage{MessageId: m.MessageId, Body: m.Body, ReceiptHandle: m.ReceiptHandle})
		}
	}
}

type sqsMessage struct{ MessageId, Body, ReceiptHandle *string }

// webhook posts a billing event to the signed webhook.
func (s *sys) webhook(typ kyc.EventType, id string, detail any, mutate ...func(*http.Request)) resp {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"type": typ, "id": id, "detail": detail})
	ts := time.Now().Unix() // the signature's timestamp is checked against real time
	req, _ := http.NewRequest("POST", s.srv.URL+"/v1/billing/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json") // as the WHMCS addon sends it
	req.Header.Set(webhooksig.HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(s.secret, ts, body))
	for _, m := range mutate {
		m(req)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b}
}

// rawWebhook posts a body with the given timestamp and signature.
func (s *sys) rawWebhook(body []byte, ts int64, sig string) resp {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.srv.URL+"/v1/billing/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json") // as the WHMCS addon sends it
	req.Header.Set(webhooksig.HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(webhooksig.HeaderSignature, sig)
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b}
}

// order places an order through billing-intake's signed webhook and
// returns what became of it.
func (s *sys) order(id, cust, product string, orderedAt time.Time) kyc.IntakeResult {
	s.t.Helper()
	r := s.webhook(kyc.OrderPlaced, fmt.Sprintf("evt-order-%s-%d", id, time.Now().UnixNano()), kyc.BillingEvent{OrderID: id, ServiceID: "svc-" + id, CustomerID: cust, ProductID: product,
		OrderedAt: orderedAt, NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"})
	if r.status != http.StatusOK {
		s.t.Fatalf("order %s: %d %s", id, r.status, r.body)
	}
	var res kyc.IntakeResult
	r.decode(s.t, &res)
	return res
}

// orderReceivedAt places an order as order does, received by the gate at
// receivedAt (the server clock stands there for the call). It stages an order
// whose 3 days are over: they run from when the gate received the order, so
// back-dating orderedAt alone no longer does.
func (s *sys) orderReceivedAt(id, cust, product string, orderedAt, receivedAt time.Time) kyc.IntakeResult {
	s.t.Helper()
	now := s.clock.Now()
	s.clock.Set(receivedAt)
	defer s.clock.Set(now)
	return s.order(id, cust, product, orderedAt)
}

// orderByQueue delivers an OrderPlaced to billing-intake as its queue does
// (an SQS batch of the EventBridge event) and fails the test if the message
// is not acknowledged.
func (s *sys) orderByQueue(id, cust, product string, orderedAt time.Time) {
	s.t.Helper()
	body := mustJSON(events.EventBridgeEvent{Source: contract.SourceBilling, DetailType: string(kyc.OrderPlaced), Time: s.clock.Now(),
		Detail: mustJSON(kyc.BillingEvent{OrderID: id, ServiceID: "svc-" + id, CustomerID: cust, ProductID: product,
			OrderedAt: orderedAt, NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"})})
	raw := mustJSON(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + id, Body: string(body), EventSource: "aws:sqs"}}})
	out, err := s.fns[contract.FunctionBillingIntake].Invoke(context.Background(), raw)
	if err != nil || len(out.(events.SQSEventResponse).BatchItemFailures) > 0 {
		s.t.Fatalf("order %s by the queue: %v, %+v", id, err, out)
	}
}

// sweep runs the sweep function with a scheduled event at now.
func (s *sys) sweep(now time.Time) kyc.SweepReport {
	s.t.Helper()
	raw, _ := json.Marshal(events.EventBridgeEvent{Source: "aws.scheduler", DetailType: "Scheduled Event", Time: now, Detail: json.RawMessage("{}")})
	out, err := s.fns[contract.FunctionSweep].Invoke(context.Background(), raw)
	if err != nil {
		s.t.Fatalf("sweep: %v", err)
	}
	return out.(kyc.SweepReport)
}

// snapshot reads every record of the table in a stable form. A refused
// request writes nothing at all: not even a rate limit's record (limits
// count only requests that passed every check).
func (s *sys) snapshot() string {
	s.t.Helper()
	var items []string
	in := &dynamodb.ScanInput{TableName: &s.table}
	for {
		out, err := s.c.DynamoDB.Scan(context.Background(), in)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, it := range out.Items {
			b, _ := json.Marshal(it)
			items = append(items, string(b))
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.Strings(items)
	return strings.Join(items, "\n")
}

// verified takes a customer through the whole flow to an approval.
func (s *sys) verified(cust, reviewer string) string {
	s.t.Helper()
	id := s.uploaded(cust, kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded(cust, kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token(cust), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	s.decide(rec.SubmissionID, reviewer, true)
	return rec.SubmissionID
}

// decide claims a submission, opens its documents and decides it.
func (s *sys) decide(sub, reviewer string, approve bool) kyc.DecisionResult {
	s.t.Helper()
	tok := s.reviewer(reviewer)
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+sub+"/claim", tok, nil, &item)
	s.open(sub, tok, kyc.Identity)
	s.open(sub, tok, kyc.Address)
	address := map[string]any{"result": "approve"}
	if !approve {
		address = map[string]any{"result": "reject", "reasons": []string{"too_old"}}
	}
	var res kyc.DecisionResult
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+sub+"/decision", tok, map[string]any{
		"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": address},
		"version":   item.Version, "customerMessage": "Please send a statement from the last three months.",
	}, &res)
	return res
}

// firstOf authenticates with the first authenticator that accepts the
// request: an API Gateway event (a sample invoked through a Lambda entry
// point) carries its authorizer's claims, a plain HTTP request a bearer
// token.
type firstOf []httpapi.Authenticator

func (f firstOf) Authenticate(r *http.Request) (httpapi.Identity, error) {
	var err error
	for _, a := range f {
		var id httpapi.Identity
		if id, err = a.Authenticate(r); err == nil {
			return id, nil
		}
	}
	return httpapi.Identity{}, err
}
