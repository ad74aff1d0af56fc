package flows

// The harness of the fault tests (fault_test.go): the whole system on the
// emulator, built as in harness_test.go but with the faults middleware on
// every SDK client, a fixed clock and deterministic record ids; a normalised
// snapshot of one customer's records; and the downstream side: every event
// the bus routes to the billing and notifier queues, and the billing adapter
// applying the service commands to a contract WHMCS.

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kycgate/kycgate/infra/local/faults"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
	"github.com/kycgate/kycgate/shared/triggers"
	"github.com/kycgate/kycgate/shared/whmcs"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
	"github.com/kycgate/kycgate/shared/wiring"
)

// faultT0 is the server clock of the fault tests.
var faultT0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// outboxGrace is past the time an outbox waits for its own function before
// the sweep publishes it (dynamostore.OutboxGrace is one minute).
const outboxGrace = 2 * time.Minute

// fsys is the system of one fault test.
type fsys struct {
	*sys
	bucket string
	cmk    string

	whmcs      *whmcstest.Server
	adapter    *billing.Handler
	adapterLog *syncBuffer
	cases      atomic.Int64 // cases made

	all *faults.Recorder // every call of the test

	// Routing: see readRoutes.
	routes  []route
	routing bool // the harness routes (the emulator's rules have no targets)
	msgs    atomic.Int64
	qmu     sync.Mutex
	got     map[string][]delivery // events the queues received, by customer id
	tapped  map[string][]delivery // events EventBridge accepted, routed as the rules do, by customer id
	rows    []string              // the fault matrix's outcomes, for the log
}

// route is one of the stack's rules on the bus: the events it matches and
// the function whose queue it delivers to.
type route struct {
	rule     string
	consumer string
	pattern  map[string][]string // top-level field → accepted values
}

// delivery is one event as a queue received it.
type delivery struct {
	queue  string // the consuming function
	id     string // eventId
	typ    string
	detail string // canonical JSON of the detail
	body   string // the SQS message body
	msgID  string
}

func newFaultSys(t *testing.T) *fsys {
	t.Helper()
	st, cfg := stacktest.Deploy(t)
	// Every client records to the context's recorder and takes faults from
	// the context's injector: cases running at once are faulted separately.
	f := &fsys{got: map[string][]delivery{}, tapped: map[string][]delivery{}, all: faults.NewRecorder()}
	faults.Install(&cfg, f.all, nil)
	cfg.APIOptions = append(cfg.APIOptions, f.tap)
	mutant := os.Getenv("KYC_FAULTS_MUTANT")
	switch mutant {
	case "":
	case "drop-outbox":
		cfg.APIOptions = append(cfg.APIOptions, dropOutbox)
	case "split-commit":
		split := cfg.Copy()
		cfg.APIOptions = append(cfg.APIOptions, splitCommit(func() *dynamodb.Client { return dynamodb.NewFromConfig(split) }))
		split.APIOptions = cfg.APIOptions
	case "no-ledger":
	default:
		t.Fatalf("KYC_FAULTS_MUTANT=%q: drop-outbox, split-commit or no-ledger", mutant)
	}
	s := &sys{t: t, st: st, cfg: cfg, c: wiring.NewClients(cfg), clock: &clock{t: faultT0},
		key: testKey, fns: map[string]*wiring.Function{}, metrics: &bytes.Buffer{}}
	s.verifier = httpapi.JWTVerifier{Issuer: st.Authorizer.Issuer, Audiences: st.Authorizer.Audience,
		Keys: map[string]*rsa.PublicKey{"test": &s.key.PublicKey}, Now: s.clock.Now}
	s.table = st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvTable]
	f.bucket = st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvBucket]
	f.cmk = st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvKeyID]
	f.sys = s
	f.readRoutes(t)

	// The billing adapter as the billing-adapter function runs it, on a
	// contract WHMCS where each case has a Pending service.
	creds := whmcs.Credentials{Identifier: "fault-identifier", Secret: "fault-secret"}
	f.whmcs = whmcstest.NewServer(creds)
	ws := httptest.NewServer(f.whmcs)
	t.Cleanup(ws.Close)
	wc, err := whmcs.New(ws.URL+"/includes/api.php", creds, whmcs.Options{Timeout: 5 * time.Second, Backoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var commands ledger.Ledger = ledgertest.NewMemory()
	if mutant == "no-ledger" {
		commands = forgetful{ledgertest.NewMemory()}
	}
	f.adapterLog = &syncBuffer{}
	alog := slog.New(slog.NewTextHandler(f.adapterLog, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f.adapter = billing.NewHandler(billing.NewApplier(commands, billing.NewWHMCS(wc), alog), alog)
	return f
}

// fcase is one case of a fault test: its own customer, order and WHMCS
// service, so cases share the stack and never each other's records, and its
// own functions, built as Lambda builds them, whose record ids are
// <customer>n0001, <customer>n0002, ...: the records a case creates (its
// outboxes among them) are found by key, without reading anyone else's.
type fcase struct {
	f       *fsys
	s       *sys // the system with this case's *testing.T and functions
	t       *testing.T
	n       int
	cust    string
	order   string
	service string
	ids     *atomic.Int64
	log     *syncBuffer // the functions' warnings and errors
	docs    []string    // identity, address
	sub     string
	version int
}

func (f *fsys) newCase(t *testing.T) *fcase {
	t.Helper()
	n := int(f.cases.Add(1))
	c := &fcase{f: f, n: n, cust: fmt.Sprintf("fc%04dz", n), order: fmt.Sprintf("fo%04dz", n),
		service: strconv.Itoa(9000000 + n), ids: &atomic.Int64{}, log: &syncBuffer{}}
	f.whmcs.AddService(whmcstest.Service{ID: 9000000 + n, ClientID: 42})
	s := *f.sys
	s.t, s.fns = t, map[string]*wiring.Function{}
	h := wiring.Host{Clock: s.clock.Now, Log: slog.New(slog.NewTextHandler(c.log, &slog.HandlerOptions{Level: slog.LevelWarn})),
		NewID: func() string { return fmt.Sprintf("%sn%04d", c.cust, c.ids.Add(1)) },
		// Submissions are counted (the limiter's UpdateItem is part of the
		// operation); document creations, only setup here, are not.
		Rates: map[string]httpapi.Rate{"submission": {N: 100000, Per: time.Hour}},
		Auth:  s.verifier, Metrics: s.metrics,
		// The malware scan answers at once (clean unless EICAR): these
		// tests inject faults into the other calls of each operation.
		Scanner: kyctest.NewScanner()}
	for _, def := range []wiring.Definition{wiring.CustomerAPI, wiring.AdminAPI, wiring.BillingIntake, wiring.Validator, wiring.Sweep} {
		name := def.Spec.Name
		fn, err := def.Build(context.Background(), stacktest.Env(s.st, name), s.c, h)
		if err != nil {
			t.Fatalf("build %s: %v", name, err)
		}
		s.fns[name] = fn
	}
	c.s, c.t = &s, t
	return c
}

// on returns the case bound to another test (a later subtest).
func (c *fcase) on(t *testing.T) *fcase {
	cp := *c
	s := *c.s
	s.t = t
	cp.s, cp.t = &s, t
	return &cp
}

// place delivers an OrderPlaced event of the case to billing-intake as its
// SQS queue does, and reports the outcome: "ok", or "retry" when the message
// is handed back to SQS.
func (c *fcase) place(ctx context.Context, orderedAt time.Time, email bool) string {
	e := kyc.BillingEvent{OrderID: c.order, ServiceID: c.service, CustomerID: c.cust, ProductID: "kyc-vps",
		OrderedAt: orderedAt, NextDueDate: kyc.NewDate(2026, 12, 26), ServerRegion: "hk"}
	if email {
		e.Email, e.Language = c.cust+"@example.com", kyc.LangChinese
	}
	body := mustJSON(map[string]any{"source": contract.SourceBilling, "detail-type": kyc.OrderPlaced, "detail": e, "time": c.s.clock.Now()})
	raw := mustJSON(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + c.order, Body: string(body), EventSource: "aws:sqs"}}})
	out, err := c.s.fns[contract.FunctionBillingIntake].Invoke(ctx, raw)
	if err != nil {
		return "error " + err.Error()
	}
	if r := out.(events.SQSEventResponse); len(r.BatchItemFailures) > 0 {
		return "retry"
	}
	return "ok"
}

// held places the case's order, as the starting state of a later
// operation: its records are those of an order placed and published, but
// its KycRequested is never put on the bus (the emulator takes a tenth of a
// second to route each event, and the request is not what is tested).
func (c *fcase) held(orderedAt time.Time) {
	c.t.Helper()
	inj := faults.NewInjector(faults.Fault{Op: "EventBridge.PutEvents", Call: 1, Times: -1, Kind: faults.ServiceUnavailable})
	if out := c.place(faults.WithInjector(context.Background(), inj), orderedAt, false); out != "ok" {
		c.t.Fatalf("order: %s", out)
	}
	ctx := context.Background()
	for i := int64(1); i <= c.ids.Load(); i++ {
		if _, err := c.s.c.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &c.s.table,
			Key: dbKey(fmt.Sprintf("OUTBOX#%sn%04d", c.cust, i), "OUTBOX")}); err != nil {
			c.t.Fatal(err)
		}
	}
}

// upload creates a document, puts its object as the presigned form would
// (SSE-KMS under the stack's key, the unsubmitted tag) and validates it as
// the validator does on the S3 event.
func (c *fcase) upload(cat kyc.Category, typ kyc.DocType, ct string, data []byte) string {
	c.t.Helper()
	ctx := context.Background()
	r := c.serve(ctx, contract.FunctionCustomerAPI, "POST", "/v1/kyc/documents", c.s.token(c.cust),
		map[string]any{"category": cat, "type": typ, "contentType": ct, "size": len(data)})
	if r.status != http.StatusCreated {
		c.t.Fatalf("create document = %d %s", r.status, r.body)
	}
	var up kyc.NewUpload
	r.decode(c.t, &up)
	out, err := c.s.c.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &c.f.bucket, Key: aws.String(up.Upload.Fields["key"]), Body: bytes.NewReader(data), ContentType: &ct,
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: &c.f.cmk,
		Tagging: aws.String(contract.TagState + "=" + contract.StateUnsubmitted),
	})
	if err != nil {
		c.t.Fatalf("put object: %v", err)
	}
	var n triggers.S3Notification
	n.Records = make([]triggers.S3Record, 1)
	n.Records[0].EventName = "ObjectCreated:Put"
	n.Records[0].S3.Bucket.Name = c.f.bucket
	n.Records[0].S3.Object.Key = up.Upload.Fields["key"]
	n.Records[0].S3.Object.VersionID = aws.ToString(out.VersionId)
	raw := mustJSON(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + up.DocumentID, Body: string(mustJSON(n)), EventSource: "aws:sqs"}}})
	res, err := c.s.fns[contract.FunctionValidator].Invoke(ctx, raw)
	if err != nil || len(res.(events.SQSEventResponse).BatchItemFailures) > 0 {
		c.t.Fatalf("validate: %v, %+v", err, res)
	}
	return up.DocumentID
}

// uploadBoth uploads an identity and an address document.
func (c *fcase) uploadBoth() {
	c.t.Helper()
	c.docs = []string{
		c.upload(kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes),
		c.upload(kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes),
	}
}

// submit submits the case's documents.
func (c *fcase) submit(ctx context.Context) resp {
	return c.serve(ctx, contract.FunctionCustomerAPI, "POST", "/v1/kyc/submissions", c.s.token(c.cust),
		map[string]string{"identityDocumentId": c.docs[0], "addressDocumentId": c.docs[1]})
}

// serve runs one request through a function's handler with ctx (the
// context carries the case's recorder and injector).
func (c *fcase) serve(ctx context.Context, function, method, path, token string, body any) resp {
	var b []byte
	if body != nil {
		b = mustJSON(body)
	}
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	c.s.fns[function].HTTP.ServeHTTP(w, req)
	return resp{status: w.Code, body: w.Body.Bytes(), header: w.Header()}
}

func (r resp) outcome() string {
	if code := r.code(); code != "" {
		return fmt.Sprintf("%d %s", r.status, code)
	}
	return strconv.Itoa(r.status)
}

// sweep runs the sweep function at now; it reports "ok" or the error.
func (c *fcase) sweep(ctx context.Context, now time.Time) string {
	raw := mustJSON(events.EventBridgeEvent{Source: "aws.scheduler", DetailType: "Scheduled Event", Time: now, Detail: json.RawMessage("{}")})
	if _, err := c.s.fns[contract.FunctionSweep].Invoke(ctx, raw); err != nil {
		return "error"
	}
	return "ok"
}

// snap is a normalised snapshot of a case's records.
type snap struct {
	records  string   // one normalised record a line, sorted
	outboxes []string // the case's outbox records still in the table (ids)
	chain    kyc.ChainReport
}

// genID is a generated id once the customer id is replaced.
var genID = regexp.MustCompile(`<cust>n[0-9]{4}`)

// snapshot reads every record of the case that the operations change: the
// customer record, its closed holds and documents, its audit trail, the
// order mapping and its submissions. They are normalised so that two cases
// in the same state compare equal: the case's ids become <cust>, <order>,
// <svc>; generated record ids become <id1>, <id2>, ... in order of creation;
// S3 version ids, sealed values (random nonces) and audit hashes (which hash
// the ids) are masked, the chain being verified first. Left out, and said
// so: the customer's wrapped data key (created on first use and kept even
// when the operation that needed it failed: a key with nothing sealed under
// it is no state), rate counters (they count attempts), and outbox records,
// which are returned apart: they are the mechanism, not the state (a
// committed change whose publication failed keeps its outbox until the
// sweep publishes it).
func (c *fcase) snapshot() snap {
	c.t.Helper()
	ctx := context.Background()
	var items []map[string]ddbtypes.AttributeValue
	for _, pk := range []string{"CUST#" + c.cust, "AUDIT#" + c.cust} {
		items = append(items, c.query(ctx, &dynamodb.QueryInput{TableName: &c.s.table,
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrPK},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
			ConsistentRead:            aws.Bool(true)})...)
	}
	// The order mapping, and every submission and outbox the case's
	// functions may have written: by key, with every id they generated.
	key := dbKey
	keys := []map[string]ddbtypes.AttributeValue{key("ORDER#"+c.order, "ORDER")}
	for i := int64(1); i <= c.ids.Load(); i++ {
		id := fmt.Sprintf("%sn%04d", c.cust, i)
		keys = append(keys, key("SUB#"+id, "SUB"), key("OUTBOX#"+id, "OUTBOX"))
	}
	var sn snap
	for len(keys) > 0 {
		n := min(len(keys), 100)
		req := map[string]ddbtypes.KeysAndAttributes{c.s.table: {Keys: keys[:n], ConsistentRead: aws.Bool(true)}}
		keys = keys[n:]
		for len(req) > 0 {
			out, err := c.s.c.DynamoDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				c.t.Fatal(err)
			}
			for _, it := range out.Responses[c.s.table] {
				if str(it[contract.AttrSK]) == "OUTBOX" {
					sn.outboxes = append(sn.outboxes, str(it[contract.AttrPK]))
					continue
				}
				items = append(items, it)
			}
			req = out.UnprocessedKeys
		}
	}
	sort.Strings(sn.outboxes)

	// The audit chain must hold in every state.
	var trail []kyc.AuditEntry
	var head kyc.AuditHead
	for _, it := range items {
		pk, sk := str(it[contract.AttrPK]), str(it[contract.AttrSK])
		switch {
		case strings.HasPrefix(pk, "AUDIT#"):
			var e kyc.AuditEntry
			if err := json.Unmarshal([]byte(str(it["data"])), &e); err != nil {
				c.t.Fatal(err)
			}
			trail = append(trail, e)
		case sk == "CUSTOMER":
			var cu kyc.Customer
			if err := json.Unmarshal([]byte(str(it["data"])), &cu); err != nil {
				c.t.Fatal(err)
			}
			head = cu.Audit
		}
	}
	slices.SortFunc(trail, func(a, b kyc.AuditEntry) int { return int(a.Seq - b.Seq) })
	sn.chain = kyc.VerifyChain(trail, head)

	var lines []string
	for _, it := range items {
		sk := str(it[contract.AttrSK])
		if sk == "KEY" {
			continue
		}
		rec := map[string]any{}
		for k, v := range it {
			rec[k] = attr(v)
		}
		if d, ok := rec["data"].(string); ok {
			var data any
			if err := json.Unmarshal([]byte(d), &data); err != nil {
				c.t.Fatalf("data of %v: %v", rec[contract.AttrPK], err)
			}
			rec["data"] = data
		}
		lines = append(lines, string(mustJSON(mask(rec))))
	}
	text := strings.Join(lines, "\n")
	text = strings.ReplaceAll(text, c.cust, "<cust>")
	text = strings.ReplaceAll(text, c.order, "<order>")
	text = strings.ReplaceAll(text, strconv.Quote(c.service), `"<svc>"`)
	text = renumber(text)
	lines = strings.Split(text, "\n")
	sort.Strings(lines)
	sn.records = strings.Join(lines, "\n")
	return sn
}

// purge deletes the case's records once it is checked.
func (c *fcase) purge() {
	c.t.Helper()
	ctx := context.Background()
	var keys []map[string]ddbtypes.AttributeValue
	for _, pk := range []string{"CUST#" + c.cust, "AUDIT#" + c.cust} {
		for _, it := range c.query(ctx, &dynamodb.QueryInput{TableName: &c.s.table,
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": contract.AttrPK},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
			ProjectionExpression:      aws.String("#pk, sk")}) {
			keys = append(keys, map[string]ddbtypes.AttributeValue{contract.AttrPK: it[contract.AttrPK], contract.AttrSK: it[contract.AttrSK]})
		}
	}
	keys = append(keys, dbKey("ORDER#"+c.order, "ORDER"))
	for i := int64(1); i <= c.ids.Load(); i++ {
		id := fmt.Sprintf("%sn%04d", c.cust, i)
		keys = append(keys, dbKey("SUB#"+id, "SUB"), dbKey("OUTBOX#"+id, "OUTBOX"))
	}
	for len(keys) > 0 {
		n := min(len(keys), 25)
		var reqs []ddbtypes.WriteRequest
		for _, k := range keys[:n] {
			reqs = append(reqs, ddbtypes.WriteRequest{DeleteRequest: &ddbtypes.DeleteRequest{Key: k}})
		}
		keys = keys[n:]
		for items := map[string][]ddbtypes.WriteRequest{c.s.table: reqs}; len(items) > 0; {
			out, err := c.s.c.DynamoDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: items})
			if err != nil {
				c.t.Fatal(err)
			}
			items = out.UnprocessedItems
		}
	}
}

func dbKey(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{contract.AttrPK: &ddbtypes.AttributeValueMemberS{Value: pk}, contract.AttrSK: &ddbtypes.AttributeValueMemberS{Value: sk}}
}

// renumber replaces generated ids (after <cust> replaced the customer id)
// by <id1>, <id2>, ... in order of creation.
func renumber(text string) string {
	found := genID.FindAllString(text, -1)
	slices.Sort(found) // fixed width: string order is creation order
	found = slices.Compact(found)
	rank := map[string]string{}
	for i, id := range found {
		rank[id] = fmt.Sprintf("<id%d>", i+1)
	}
	return genID.ReplaceAllStringFunc(text, func(id string) string { return rank[id] })
}

// mask hides what differs between equal states: sealed values, S3 version
// ids and audit hashes.
func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["n"]; ok && len(x) == 3 {
			if _, ok := x["c"]; ok {
				return "<sealed>"
			}
		}
		out := map[string]any{}
		for k, e := range x {
			switch s, _ := e.(string); {
			// (docNumberHash, docHash: each case records its own card's
			// number, see decision)
			case (k == "hash" || k == "prev" || k == "versionId" || k == "VersionID" || k == "docNumberHash" || k == contract.AttrDocHash) && s != "":
				out[k] = "<" + k + ">"
			default:
				out[k] = mask(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mask(e)
		}
		return out
	}
	return v
}

func attr(v ddbtypes.AttributeValue) any {
	switch a := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return a.Value
	case *ddbtypes.AttributeValueMemberN:
		return json.Number(a.Value)
	case *ddbtypes.AttributeValueMemberBOOL:
		return a.Value
	case *ddbtypes.AttributeValueMemberB:
		return "<binary>"
	case *ddbtypes.AttributeValueMemberNULL:
		return nil
	case *ddbtypes.AttributeValueMemberM:
		out := map[string]any{}
		for k, e := range a.Value {
			out[k] = attr(e)
		}
		return out
	case *ddbtypes.AttributeValueMemberL:
		out := make([]any, len(a.Value))
		for i, e := range a.Value {
			out[i] = attr(e)
		}
		return out
	case *ddbtypes.AttributeValueMemberSS:
		return a.Value
	}
	return fmt.Sprintf("%T", v)
}

func str(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (c *fcase) query(ctx context.Context, in *dynamodb.QueryInput) []map[string]ddbtypes.AttributeValue {
	c.t.Helper()
	var items []map[string]ddbtypes.AttributeValue
	for {
		out, err := c.s.c.DynamoDB.Query(ctx, in)
		if err != nil {
			c.t.Fatal(err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Routing. The stack's rules route the bus to the billing and notifier
// queues, and the clean run of every scenario goes that way. But moto 5.2.1
// spends about 100 ms of CPU on every event a rule delivers (it builds a
// jsonpath parser eight times per event: moto/events/utils.py), which over
// the fault matrix would take minutes. So once the clean run has shown that
// the queues receive exactly what the harness routes, the harness takes the
// routing over: the rules lose their targets, and a middleware behind the
// fault injector (it sees the call as sent, and the answer as received)
// delivers every entry EventBridge accepted to the consumer whose rule
// matches it, as the rule would have.

// readRoutes reads the stack's rules on the bus: patterns and target queues.
func (f *fsys) readRoutes(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(f.cfg)
	consumers := map[string]string{} // queue ARN → function
	for name, fn := range f.st.Functions {
		for _, q := range fn.Queues {
			consumers[q.ARN] = name
		}
	}
	for id, r := range f.st.Resources {
		// The rules on the default bus route AWS services' events (the
		// malware scan's results), which no scenario here publishes.
		if r.Type != "AWS::Events::Rule" || r.Attrs["EventBusName"] == "" || r.Attrs["EventBusName"] == "default" {
			continue
		}
		name, bus := r.Attrs["Name"], r.Attrs["EventBusName"]
		d, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: &name, EventBusName: &bus})
		if err != nil {
			t.Fatal(err)
		}
		if d.EventPattern == nil {
			continue // a schedule
		}
		var pattern map[string][]string
		if err := json.Unmarshal([]byte(aws.ToString(d.EventPattern)), &pattern); err != nil {
			t.Fatalf("rule %s: a pattern other than lists of values per top-level field: %v", id, err)
		}
		targets, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: &name, EventBusName: &bus})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets.Targets {
			if consumers[aws.ToString(tg.Arn)] == "" {
				t.Fatalf("rule %s targets %s, not a function's queue", id, aws.ToString(tg.Arn))
			}
			f.routes = append(f.routes, route{rule: name, consumer: consumers[aws.ToString(tg.Arn)], pattern: pattern})
		}
	}
	if len(f.routes) == 0 {
		t.Fatal("the stack has no rules routing the bus to queues")
	}
}

// takeOverRouting removes the targets of the stack's rules: the emulator
// keeps accepting events, and only the harness routes them.
func (f *fsys) takeOverRouting(t *testing.T) {
	t.Helper()
	if f.routing {
		return
	}
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(f.cfg)
	for _, r := range f.st.Resources {
		if r.Type != "AWS::Events::Rule" || r.Attrs["EventBusName"] == "" || r.Attrs["EventBusName"] == "default" {
			continue
		}
		name, bus := r.Attrs["Name"], r.Attrs["EventBusName"]
		targets, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: &name, EventBusName: &bus})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tg := range targets.Targets {
			ids = append(ids, aws.ToString(tg.Id))
		}
		if len(ids) > 0 {
			if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: &name, EventBusName: &bus, Ids: ids}); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.routing = true
}

// tap is the routing middleware (an API option: inside the fault injector).
func (f *fsys) tap(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("fault-test-routing", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		out, md, err := next.HandleInitialize(ctx, in)
		req, ok := in.Parameters.(*eventbridge.PutEventsInput)
		if err != nil || !ok {
			return out, md, err
		}
		res, ok := out.Result.(*eventbridge.PutEventsOutput)
		if !ok {
			return out, md, err
		}
		for i, e := range req.Entries {
			if i < len(res.Entries) && res.Entries[i].EventId != nil && res.Entries[i].ErrorCode == nil {
				f.route(e, aws.ToString(res.Entries[i].EventId))
			}
		}
		return out, md, err
	}), middleware.After)
}

// route delivers an accepted entry to the consumer of every matching rule.
func (f *fsys) route(e ebtypes.PutEventsRequestEntry, id string) {
	fields := map[string]string{"source": aws.ToString(e.Source), "detail-type": aws.ToString(e.DetailType)}
	var detail map[string]any
	if json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail) != nil {
		return
	}
	at := time.Now().UTC()
	if e.Time != nil {
		at = e.Time.UTC()
	}
	body := string(mustJSON(events.EventBridgeEvent{Version: "0", ID: id, DetailType: fields["detail-type"], Source: fields["source"],
		AccountID: f.st.Account, Time: at, Region: f.st.Region, Resources: []string{}, Detail: json.RawMessage(aws.ToString(e.Detail))}))
	for _, r := range f.routes {
		match := true
		for k, values := range r.pattern {
			if !slices.Contains(values, fields[k]) {
				match = false
			}
		}
		if !match {
			continue
		}
		cust, _ := detail["customerId"].(string)
		eid, _ := detail["eventId"].(string)
		f.qmu.Lock()
		f.tapped[cust] = append(f.tapped[cust], delivery{queue: r.consumer, id: eid, typ: fields["detail-type"],
			detail: string(mustJSON(detail)), body: body, msgID: fmt.Sprintf("routed-%d", f.msgs.Add(1))})
		f.qmu.Unlock()
	}
}

// drain moves every message of the billing and notifier queues into the
// deliveries, by customer. One drain at a time: a case that drains after its
// operation finds every event of its own, wherever another case drained it.
func (f *fsys) drain(t *testing.T) {
	t.Helper()
	f.qmu.Lock()
	defer f.qmu.Unlock()
	ctx := context.Background()
	for _, fn := range []string{contract.FunctionBillingAdapter, contract.FunctionNotifier} {
		q := f.st.Functions[fn].Queues[0].URL
		for {
			res, err := sqs.NewFromConfig(f.cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Messages) == 0 {
				break
			}
			for _, m := range res.Messages {
				var env struct {
					DetailType string          `json:"detail-type"`
					Detail     json.RawMessage `json:"detail"`
				}
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
					t.Fatal(err)
				}
				var detail map[string]any
				if err := json.Unmarshal(env.Detail, &detail); err != nil {
					t.Fatal(err)
				}
				cust, _ := detail["customerId"].(string)
				id, _ := detail["eventId"].(string)
				f.got[cust] = append(f.got[cust], delivery{queue: fn, id: id, typ: env.DetailType,
					detail: string(mustJSON(detail)), body: aws.ToString(m.Body), msgID: aws.ToString(m.MessageId)})
			}
			var del []sqstypes.DeleteMessageBatchRequestEntry
			for i, m := range res.Messages {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
			}
			if _, err := sqs.NewFromConfig(f.cfg).DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &q, Entries: del}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// downstream is what reached the consumers of a case.
type downstream struct {
	events []string // queue, type and eventId of each distinct event, normalised, sorted
	whmcs  []string // the WHMCS calls that change a service, normalised, in order
	billed string   // the WHMCS service afterwards
}

// deliver drains the queues, checks that every delivery of one eventId
// carries the same detail, feeds the case's billing deliveries (every
// delivery, duplicates included) through the billing adapter until none is
// deferred, and returns what reached the consumers.
func (c *fcase) deliver() downstream {
	c.t.Helper()
	c.f.qmu.Lock()
	routing := c.f.routing
	c.f.qmu.Unlock()
	if !routing {
		c.f.drain(c.t)
	}
	c.f.qmu.Lock()
	dels := slices.Clone(c.f.tapped[c.cust])
	queued := slices.Clone(c.f.got[c.cust])
	c.f.qmu.Unlock()
	if !routing {
		// The emulator routed: its queues got what the harness routes.
		key := func(ds []delivery) []string {
			var out []string
			for _, d := range ds {
				out = append(out, d.queue+" "+d.id+" "+d.detail)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(key(queued), key(dels)) {
			c.t.Fatalf("the queues received\n%s\nthe harness routed\n%s", strings.Join(key(queued), "\n"), strings.Join(key(dels), "\n"))
		}
	}
	seen := map[string]delivery{}
	var ds downstream
	var batch events.SQSEvent
	for _, d := range dels {
		if prev, ok := seen[d.id]; ok {
			if prev.detail != d.detail {
				c.t.Fatalf("event %s delivered twice with different details:\n%s\n%s", d.id, prev.detail, d.detail)
			}
			continue
		}
		seen[d.id] = d
		ds.events = append(ds.events, d.queue+" "+d.typ+" "+d.id)
	}
	for _, d := range dels {
		if d.queue == contract.FunctionBillingAdapter {
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: d.msgID, Body: d.body, EventSource: "aws:sqs"})
		}
	}
	for round := 0; len(batch.Records) > 0; round++ {
		if round == 5 {
			c.t.Fatalf("the billing adapter still fails %d deliveries; its log:\n%s", len(batch.Records), c.f.adapterLog.String())
		}
		res, err := c.f.adapter.Handle(context.Background(), batch)
		if err != nil {
			c.t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range res.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		batch.Records = slices.DeleteFunc(batch.Records, func(m events.SQSMessage) bool { return !failed[m.MessageId] })
	}
	for _, cmd := range c.f.whmcs.Commands() {
		if cmd.Params["serviceid"] != c.service {
			continue
		}
		switch cmd.Action {
		case "ModuleCreate", "ModuleSuspend", "ModuleUnsuspend", "UpdateClientProduct":
			ds.whmcs = append(ds.whmcs, cmd.Action+" "+cmd.Params["nextduedate"])
		}
	}
	if id, err := strconv.Atoi(c.service); err == nil {
		if sv, ok := c.f.whmcs.Service(id); ok {
			ds.billed = fmt.Sprintf("%s %s %s", sv.Status, sv.SuspendReason, sv.NextDueDate)
		}
	}
	text := strings.Join(ds.events, "\n")
	text = strings.ReplaceAll(strings.ReplaceAll(text, c.cust, "<cust>"), c.order, "<order>")
	ds.events = strings.Split(renumber(text), "\n")
	sort.Strings(ds.events)
	return ds
}

// syncBuffer is a buffer for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Mutants: KYC_FAULTS_MUTANT breaks the system on purpose, to see the fault
// tests fail (they must):
//
//	drop-outbox   commits without the outbox record: a failed publication
//	              loses its events ((ii) and (iii) fail);
//	split-commit  writes each item of a transaction in a call of its own: a
//	              fault between them leaves half a change ((i) fails);
//	no-ledger     the billing adapter forgets applied commands: a
//	              re-published command reaches WHMCS twice ((iii) fails).

// dropOutbox removes outbox records from every transaction.
func dropOutbox(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("mutant-drop-outbox", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error,
	) {
		if req, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
			cp := *req
			cp.TransactItems = slices.DeleteFunc(slices.Clone(req.TransactItems), func(it ddbtypes.TransactWriteItem) bool {
				return it.Put != nil && strings.HasPrefix(str(it.Put.Item[contract.AttrPK]), "OUTBOX#")
			})
			in.Parameters = &cp
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

type splitting struct{}

// splitCommit turns a transaction into one call per item (outermost: each
// call is recorded and faulted on its own).
func splitCommit(client func() *dynamodb.Client) func(*middleware.Stack) error {
	var once sync.Once
	var db *dynamodb.Client
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("mutant-split-commit", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error,
		) {
			req, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput)
			if !ok || len(req.TransactItems) < 2 || ctx.Value(splitting{}) != nil {
				return next.HandleInitialize(ctx, in)
			}
			once.Do(func() { db = client() })
			ctx = context.WithValue(ctx, splitting{}, true)
			for _, it := range req.TransactItems {
				if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{it}}); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
			}
			return middleware.InitializeOutput{Result: &dynamodb.TransactWriteItemsOutput{}}, middleware.Metadata{}, nil
		}), middleware.Before)
	}
}

// forgetful is a ledger that never finds a command applied.
type forgetful struct{ *ledgertest.Memory }

func (l forgetful) Claim(ctx context.Context, id string, note map[string]string) (ledger.Claim, error) {
	if e, ok, _ := l.Entry(ctx, id); ok {
		e.State = ledger.StateFailed
		e.InDoubt = false
		l.Set(e)
	}
	return l.Memory.Claim(ctx, id, note)
}
