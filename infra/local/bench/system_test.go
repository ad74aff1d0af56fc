package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/infra/local/dev"
	"github.com/kycgate/kycgate/infra/local/faults"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/wiring"
)

// clock is the server clock of the system: it stands still unless moved.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// system is the whole system in this process, as the flows system tests build
// it: the synthesized template deployed on the emulator, every function built
// by the constructor its Lambda main uses, with clients whose every call
// goes through the call recorder (faults.Recorder) and the capacity meter.
// The harness itself (reading queues, uploading as a browser) uses clients
// of its own, which are not counted.
type system struct {
	tb     testing.TB
	st     *stack.Stack
	rec    *faults.Recorder
	meter  *Meter
	cfg    aws.Config     // not counted: the harness's configuration
	c      wiring.Clients // counted: the functions' clients
	plain  wiring.Clients // not counted: the harness's clients
	clock  *clock
	key    *rsa.PrivateKey
	fns    map[string]*wiring.Function
	mux    *http.ServeMux
	secret []byte
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// start is when the system's clock starts.
var start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func newSystem(tb testing.TB) *system {
	tb.Helper()
	st, cfg := stacktest.Deploy(tb)
	s := &system{tb: tb, st: st, rec: faults.NewRecorder(), meter: NewMeter(), plain: wiring.NewClients(cfg),
		clock: &clock{t: start}, key: testKey(), fns: map[string]*wiring.Function{}, mux: http.NewServeMux()}
	cfg.Logger = logging.Nop{} // the SDK's warnings about unchecked range reads
	patient(&cfg)
	s.cfg = cfg
	counted := cfg.Copy()
	// The recorder counts API calls as the code makes them, above the SDK's
	// retry loop: a call the SDK retried (moto answers 500 to some
	// concurrent transactions) is still one call.
	faults.Install(&counted, s.rec, nil)
	counted.APIOptions = append(counted.APIOptions, s.meter.Option())
	s.c = wiring.NewClients(counted)

	verifier := httpapi.JWTVerifier{Issuer: st.Authorizer.Issuer, Audiences: st.Authorizer.Audience,
		Keys: map[string]*rsa.PublicKey{"bench": &s.key.PublicKey}, Now: s.clock.Now}
	// The per-customer limits stay the defaults: the counter they keep is one
	// of the calls measured.
	h := wiring.Host{Clock: s.clock.Now, Log: slog.New(slog.DiscardHandler), Auth: verifier, Metrics: io.Discard,
		Scanner: dev.MalwareScanner(st, s.c, s.clock.Now)}
	ctx := context.Background()
	for _, name := range []string{contract.FunctionCustomerAPI, contract.FunctionAdminAPI, contract.FunctionBillingIntake,
		contract.FunctionValidator, contract.FunctionSweep} {
		fn, err := dev.Build(ctx, st, name, s.c, h) // as the Lambda mains build them
		if err != nil {
			tb.Fatal(err)
		}
		s.fns[name] = fn
	}
	s.buildDownstream(ctx, h)
	for _, r := range contract.Routes {
		s.mux.Handle(r.Pattern, s.fns[r.Function].HTTP)
	}
	sec, err := s.plain.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(st.Functions[contract.FunctionBillingIntake].Env[contract.EnvWebhookSecretARN])})
	if err != nil {
		tb.Fatal(err)
	}
	s.secret = []byte(aws.ToString(sec.SecretString))
	s.reset()
	return s
}

// buildDownstream builds the two consumers of the gate's events as the dev
// server does (dev.Localize): the billing adapter against the local WHMCS
// sink, whose credentials go into the billing secret, the notifier with its
// sender known to the emulator's SES.
func (s *system) buildDownstream(ctx context.Context, h wiring.Host) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	s.tb.Cleanup(srv.Close)
	sink, _, err := dev.Localize(ctx, s.cfg, s.st, srv.URL, filepath.Join(s.tb.TempDir(), "webhook.secret"))
	if err != nil {
		s.tb.Fatal(err)
	}
	mux.Handle(dev.SinkPath+"/", http.StripPrefix(dev.SinkPath, sink))
	for _, name := range []string{contract.FunctionBillingAdapter, contract.FunctionNotifier} {
		fn, err := dev.Build(ctx, s.st, name, s.c, h)
		if err != nil {
			s.tb.Fatal(err)
		}
		s.fns[name] = fn
	}
}

// reset forgets the calls recorded so far.
func (s *system) reset() {
	s.rec.Reset()
	s.meter.Reset()
}

func (s *system) token(sub string, groups ...string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": s.st.Authorizer.Issuer, "aud": s.st.Authorizer.Audience[0], "sub": sub,
		"iat": s.clock.Now().Add(-time.Minute).Unix(), "exp": s.clock.Now().Add(time.Hour).Unix(), "cognito:groups": groups,
	})
	tok.Header["kid"] = "bench"
	raw, err := tok.SignedString(s.key)
	if err != nil {
		s.tb.Fatal(err)
	}
	return raw
}

func (s *system) reviewer(sub string) string { return s.token(sub, contract.GroupReviewers) }

// must serves a request through the API's routes (the handlers the Lambdas
// serve) and fails unless the status is want.
func (s *system) must(want int, method, path, token string, body, into any) {
	s.tb.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	s.mux.ServeHTTP(w, req)
	if w.Code != want {
		s.tb.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body, want)
	}
	if into != nil {
		if err := json.Unmarshal(w.Body.Bytes(), into); err != nil {
			s.tb.Fatalf("decode %s: %v", w.Body, err)
		}
	}
}

// newDocument asks for an upload form (POST /v1/kyc/documents).
func (s *system) newDocument(cust string, cat kyc.Category, typ kyc.DocType, ct string, size int) kyc.NewUpload {
	s.tb.Helper()
	var up kyc.NewUpload
	s.must(http.StatusCreated, "POST", "/v1/kyc/documents", s.token(cust),
		map[string]any{"category": cat, "type": typ, "contentType": ct, "size": size}, &up)
	return up
}

// upload posts a file to a presigned form as a browser does.
func upload(tb testing.TB, up kyc.Upload, data []byte, contentType string) {
	tb.Helper()
	if err := stacktest.PostForm(http.DefaultClient, up, data, contentType); err != nil {
		tb.Fatal(err)
	}
}

// pending returns the messages waiting on a function's first queue, as SQS
// event records (the harness's own client: not counted).
func (s *system) pending(function string) []events.SQSMessage {
	s.tb.Helper()
	q := s.st.Functions[function].Queues[0].URL
	var out []events.SQSMessage
	for {
		res, err := sqs.NewFromConfig(s.cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &q, MaxNumberOfMessages: 10, VisibilityTimeout: 30})
		if err != nil {
			s.tb.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			out = append(out, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), EventSource: "aws:sqs"})
			_, _ = sqs.NewFromConfig(s.cfg).DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &q, ReceiptHandle: m.ReceiptHandle})
		}
	}
}

// drain empties a function's queue.
func (s *system) drain(function string) { s.pending(function) }

// validate hands each message waiting on the validator's queue to the
// validator function, one SQS batch of one message each, as the event source
// mapping does with batch size 1, until the queue is empty: S3's
// notifications of uploads, then the malware scan results they caused.
func (s *system) validate() {
	s.tb.Helper()
	for ms := s.pending(contract.FunctionValidator); len(ms) > 0; ms = s.pending(contract.FunctionValidator) {
		for _, m := range ms {
			s.invoke(contract.FunctionValidator, events.SQSEvent{Records: []events.SQSMessage{m}})
		}
	}
}

// invoke runs a function's Lambda entry point on an event.
func (s *system) invoke(function string, event any) any {
	s.tb.Helper()
	raw, _ := json.Marshal(event)
	out, err := s.fns[function].Invoke(context.Background(), raw)
	if err != nil {
		s.tb.Fatalf("%s: %v", function, err)
	}
	if r, ok := out.(events.SQSEventResponse); ok && len(r.BatchItemFailures) > 0 {
		s.tb.Fatalf("%s failed a message: %+v", function, r)
	}
	return out
}

// uploaded creates a document, uploads data to it and validates it.
func (s *system) uploaded(cust string, cat kyc.Category, typ kyc.DocType, ct string, data []byte) string {
	s.tb.Helper()
	up := s.newDocument(cust, cat, typ, ct, len(data))
	upload(s.tb, up.Upload, data, ct)
	s.validate()
	return up.DocumentID
}

// submitted uploads two documents and submits them.
func (s *system) submitted(cust string) string {
	s.tb.Helper()
	id := s.uploaded(cust, kyc.Identity, kyc.Passport, kyc.JPEG, stacktest.JPEG)
	addr := s.uploaded(cust, kyc.Address, kyc.BankStatement, kyc.PDF, stacktest.PDF)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token(cust),
		map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	return rec.SubmissionID
}

// claim claims a submission and returns the version a decision quotes.
func (s *system) claim(sub, reviewer string) int {
	s.tb.Helper()
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+sub+"/claim", s.reviewer(reviewer), nil, &item)
	return item.Version
}

// open opens a document of a claimed submission through the gate route (it
// answers with a redirect to a presigned link, which is not followed).
func (s *system) open(sub, reviewer string, cat kyc.Category) {
	s.tb.Helper()
	s.must(http.StatusFound, "GET", "/v1/admin/submissions/"+sub+"/documents/"+string(cat), s.reviewer(reviewer), nil, nil)
}

// approve decides a claimed submission whose documents the reviewer opened:
// both approved.
func (s *system) approve(sub, reviewer string, version int) kyc.DecisionResult {
	s.tb.Helper()
	var res kyc.DecisionResult
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+sub+"/decision", s.reviewer(reviewer), map[string]any{
		"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}},
		"version":   version,
	}, &res)
	return res
}

// verified takes a customer through the whole flow to an approval.
func (s *system) verified(cust string) {
	s.tb.Helper()
	sub := s.submitted(cust)
	v := s.claim(sub, "rev-1")
	s.open(sub, "rev-1", kyc.Identity)
	s.open(sub, "rev-1", kyc.Address)
	s.approve(sub, "rev-1", v)
}

// order places an order as billing-intake's queue delivers it (EventBridge to SQS).
func (s *system) order(id, cust, product string, orderedAt time.Time, email ...string) {
	s.tb.Helper()
	// As the intake queue delivers it: an SQS batch of the EventBridge event.
	body, _ := json.Marshal(s.orderEvent(id, cust, product, orderedAt, email...))
	s.invoke(contract.FunctionBillingIntake, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + id, Body: string(body), EventSource: "aws:sqs"}}})
}

// message returns the message of a given event type waiting on a
// function's queue (the others are dropped).
func (s *system) message(function string, typ kyc.EventType) events.SQSMessage {
	s.tb.Helper()
	for _, m := range s.pending(function) {
		var e events.EventBridgeEvent
		if json.Unmarshal([]byte(m.Body), &e) == nil && e.DetailType == string(typ) {
			return m
		}
	}
	s.tb.Fatalf("no %s on the %s queue", typ, function)
	return events.SQSMessage{}
}

// orderEvent is an OrderPlaced event. Service ids are numbers, as WHMCS's
// are; email, if given, is the customer's contact address.
func (s *system) orderEvent(id, cust, product string, orderedAt time.Time, email ...string) events.EventBridgeEvent {
	e := kyc.BillingEvent{OrderID: id, ServiceID: fmt.Sprint(1000 + seq.Add(1)), CustomerID: cust, ProductID: product,
		OrderedAt: orderedAt, NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"}
	if len(email) > 0 {
		e.Email = email[0]
	}
	detail, _ := json.Marshal(e)
	return events.EventBridgeEvent{Source: contract.SourceBilling, DetailType: string(kyc.OrderPlaced), Detail: detail, Time: s.clock.Now()}
}

// sweep runs the sweep function with a scheduled event at now.
func (s *system) sweep(now time.Time) kyc.SweepReport {
	s.tb.Helper()
	return s.invoke(contract.FunctionSweep, events.EventBridgeEvent{Source: "aws.scheduler", DetailType: "Scheduled Event",
		Time: now, Detail: json.RawMessage("{}")}).(kyc.SweepReport)
}

// calls returns what the recorder and the meter saw since the last reset.
func (s *system) calls() Measured {
	return Measured{Calls: s.rec.Calls(), Capacity: s.meter.Total()}
}

// Measured is what one operation cost.
type Measured struct {
	Calls    []string
	Capacity Capacity
	Duration time.Duration
}

// measure runs op once with the recorder and meter reset, and returns what
// it cost.
func (s *system) measure(op func()) Measured {
	s.reset()
	t0 := time.Now()
	op()
	d := time.Since(t0)
	m := s.calls()
	m.Duration = d
	return m
}

// sameCalls reports whether two call lists hold the same calls, in any order.
func sameCalls(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, ",") == strings.Join(b, ",")
}
