// Package whmcsaddon holds the tests of the WHMCS addon module
// (modules/addons/kycgate, PHP). WHMCS is proprietary, so the addon runs
// under testdata/harness.php, a stand-in for the WHMCS functions, classes and
// behaviour it uses, against the gate itself: the real billing-intake
// handlers (shared/httpapi: the signed webhook and the signed reads) over the
// policy engine on kyctest's in-memory ports, served by an httptest server.
// What the addon sends is applied by the gate's intake and what it reads is
// what the gate answers; the tests stage the gate's side (orders, reviews,
// deadlines) through the same use cases.
package whmcsaddon

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

const gateSecret = "webhook-secret-0123456789abcdef"

// ---- the gate ----

type gateEvent struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Detail map[string]any `json:"detail"`
}

// gate is the gate's billing-intake, as API Gateway serves it: the real
// handlers (httpapi.NewBillingWebhook) over a kyctest world whose catalogue
// matches the addon's settings (kyc-vps and kyc-dedicated require KYC,
// shared-hosting does not; regions hk and tw). Signatures are checked
// against real time (PHP signs with time()); the policy's "now" is the
// world's clock, which tests set. A wrapper records what was accepted and
// can make the gate fail (failNext, setReadsDown) as a network or an outage
// would.
type gate struct {
	t   *testing.T
	w   *kyctest.World
	srv *httptest.Server
	h   http.Handler

	mu        sync.Mutex
	events    []gateEvent // events the gate accepted (2xx), in order
	failPosts []int       // statuses the next POSTs are answered with, before the gate sees them
	readsDown bool        // GETs answer 503
	reads     []string
	refusals  []string // why requests were refused with 400 or 401
}

// Catalogue and regions of the gate, as the addon's settings name them.
const (
	productDedicated = "kyc-dedicated"
	productShared    = "shared-hosting"
)

// gateNow is where the gate's clock stands unless a test sets it: after
// every order of newWorld (the latest, 5003, is of 2026-11-26 04:00 UTC).
var gateNow = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newGate(t *testing.T) *gate {
	t.Helper()
	w := kyctest.New(t, func(c *kyc.Config) {
		c.Products = kyc.ProductSet{kyctest.ProductKYC: true, productDedicated: true, productShared: false}
	})
	w.Clock.Set(gateNow)
	g := &gate{t: t, w: w}
	replay := &replayGuard{seen: map[string]bool{}}
	g.h = httpapi.NewBillingWebhook(w.Intake, []byte(gateSecret), replay, time.Now, slog.New(slog.DiscardHandler))
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

// replayGuard is the webhook's replay guard in memory.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *replayGuard) Seen(_ context.Context, id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id], nil
}

func (r *replayGuard) Remember(_ context.Context, id string, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[id] {
		return kyc.ErrStale
	}
	r.seen[id] = true
	return nil
}

func problem(w http.ResponseWriter, status int, code string) {
	httpapi.WriteProblem(w, status, code, code)
}

func (g *gate) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.mu.Lock()
	if r.Method == http.MethodGet {
		g.reads = append(g.reads, r.URL.Path)
		if g.readsDown {
			g.mu.Unlock()
			problem(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
	}
	if r.Method == http.MethodPost && len(g.failPosts) > 0 {
		status := g.failPosts[0]
		g.failPosts = g.failPosts[1:]
		g.mu.Unlock()
		problem(w, status, map[int]string{429: "throttled", 500: "internal", 503: "unavailable", 422: "invalid_customerId"}[status])
		return
	}
	g.mu.Unlock()
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, r)
	g.mu.Lock()
	switch {
	case rec.Code == http.StatusBadRequest || rec.Code == http.StatusUnauthorized:
		g.refusals = append(g.refusals, r.Method+" "+r.URL.Path+": "+strings.TrimSpace(rec.Body.String()))
	case r.Method == http.MethodPost && rec.Code == http.StatusOK:
		var ev gateEvent
		if err := json.Unmarshal(body, &ev); err == nil {
			g.events = append(g.events, ev)
		}
	}
	g.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (g *gate) failNext(statuses ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failPosts = append(g.failPosts, statuses...)
}

func (g *gate) setReadsDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readsDown = down
}

// take returns the events accepted so far and forgets them.
func (g *gate) take() []gateEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.events
	g.events = nil
	return out
}

func (g *gate) readCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.reads)
}

// ---- staging the gate's side through its use cases ----

// order is an order as WHMCS reports it to the gate (the addon's orderId:
// "<order id>-<service id>").
type order struct {
	customer, id, service, product, region string
	orderedAt                              time.Time
}

// place has the gate receive an order (OrderPlaced) now, by its clock.
func (g *gate) place(o order) kyc.IntakeResult {
	g.t.Helper()
	if o.product == "" {
		o.product = kyctest.ProductKYC
	}
	if o.region == "" {
		o.region = kyctest.Region
	}
	if o.orderedAt.IsZero() {
		o.orderedAt = g.w.Now()
	}
	return g.w.Place(kyc.BillingEvent{OrderID: o.id, ServiceID: o.service, CustomerID: o.customer, ProductID: o.product,
		OrderedAt: o.orderedAt, ServerRegion: o.region})
}

// at sets the gate's clock.
func (g *gate) at(t time.Time) { g.w.Clock.Set(t) }

// submit has the customer send two valid documents now.
func (g *gate) submit(customer string) string { g.t.Helper(); return g.w.Submit(customer) }

// verify has the customer verified now (documents sent and approved).
func (g *gate) verify(customer string) { g.t.Helper(); g.w.Verify(customer) }

// sweep runs the gate's sweep now.
func (g *gate) sweep() { g.t.Helper(); g.w.Sweep() }

// cancel has the gate receive OrderCancelled now.
func (g *gate) cancel(orderID string) {
	g.t.Helper()
	if _, err := g.w.Intake.CancelOrder(context.Background(), orderID); err != nil {
		g.t.Fatal(err)
	}
}

// history returns the actions of an order's history in the gate.
func (g *gate) history(orderID string) []string {
	g.t.Helper()
	v, err := g.w.Service.OrderView(context.Background(), orderID)
	if err != nil {
		g.t.Fatalf("order %s: %v", orderID, err)
	}
	var out []string
	for _, h := range v.History {
		out = append(out, h.Action)
	}
	return out
}

// ---- the WHMCS stand-in ----

type row = map[string]any

// world is a WHMCS installation's data for a scenario.
type world struct {
	settings map[string]string
	tables   map[string][]row
	autoinc  map[string]string // auto-increment column of each table (the harness keeps it across runs)
}

// newWorld: two clients (1001 writes Chinese, 1002 is a company writing
// English), a KYC VPS (pid 12, a module, set up on payment), a dedicated
// server without a module (pid 13, KYC), and shared hosting (pid 40, no
// KYC). Order 5001 of client 1001 (unpaid invoice 7001): service 9001 (KYC
// VPS on server 3 = hk) and 9002 (shared hosting). Order 5002 of client 1002,
// free (no invoice): service 9003 (KYC VPS, free account). Order 5003 of
// client 1002 (paid invoice 7003): service 9004, the dedicated server.
func newWorld(g *gate) *world {
	return &world{
		settings: map[string]string{
			"gate_url":       g.srv.URL,
			"trigger":        "paid",
			"products":       "12=kyc-vps\n13=kyc-dedicated",
			"server_regions": "3=hk",
			"default_region": "tw",
			"db_timezone":    "Asia/Hong_Kong",
			"console_url":    "https://kyc-console.example.com/console",
		},
		tables: map[string][]row{
			"tblclients": {
				{"id": 1001, "email": "chan@example.com", "language": "chinese", "companyname": "", "firstname": "Tai Man"},
				{"id": 1002, "email": "ops@acme.example", "language": "english", "companyname": "ACME Ltd", "firstname": "Ann"},
			},
			"tblproducts": {
				{"id": 12, "name": "KYC VPS", "servertype": "proxmox", "autosetup": "payment"},
				{"id": 13, "name": "Dedicated server", "servertype": "", "autosetup": ""},
				{"id": 40, "name": "Shared hosting", "servertype": "cpanel", "autosetup": "payment"},
			},
			"tblorders": {
				{"id": 5001, "userid": 1001, "date": "2026-11-24 18:00:00", "invoiceid": 7001, "status": "Pending"},
				{"id": 5002, "userid": 1002, "date": "2026-11-25 09:30:00", "invoiceid": 0, "status": "Pending"},
				{"id": 5003, "userid": 1002, "date": "2026-11-26 12:00:00", "invoiceid": 7003, "status": "Active"},
			},
			"tblinvoices": {
				{"id": 7001, "userid": 1001, "status": "Unpaid"},
				{"id": 7003, "userid": 1002, "status": "Paid"},
			},
			"tblhosting": {
				{"id": 9001, "userid": 1001, "orderid": 5001, "packageid": 12, "server": 3, "domain": "vps1.example", "domainstatus": "Pending",
					"nextduedate": "2026-12-24", "billingcycle": "Monthly", "suspendreason": ""},
				{"id": 9002, "userid": 1001, "orderid": 5001, "packageid": 40, "server": 3, "domain": "site.example", "domainstatus": "Pending",
					"nextduedate": "2026-12-24", "billingcycle": "Monthly", "suspendreason": ""},
				{"id": 9003, "userid": 1002, "orderid": 5002, "packageid": 12, "server": 0, "domain": "free.example", "domainstatus": "Pending",
					"nextduedate": "0000-00-00", "billingcycle": "Free Account", "suspendreason": ""},
				{"id": 9004, "userid": 1002, "orderid": 5003, "packageid": 13, "server": 0, "domain": "", "domainstatus": "Pending",
					"nextduedate": "2026-12-26", "billingcycle": "Monthly", "suspendreason": ""},
			},
			"tbltickets": {
				{"id": 31, "tid": "KYC-31", "c": "abc", "userid": 1001, "title": "Identity verification needed [KYC-1001]", "status": "Open"},
				{"id": 32, "tid": "ABC-32", "c": "def", "userid": 1002, "title": "Reverse DNS please", "status": "Open"},
			},
		},
	}
}

// harnessResult is what harness.php prints.
type harnessResult struct {
	Results    []json.RawMessage `json:"results"`
	Tables     map[string][]row  `json:"tables"`
	Log        []string          `json:"log"`
	Violations []string          `json:"violations"`
	Registered []string          `json:"registered"`
	Fired      []string          `json:"fired"`
	Activation json.RawMessage   `json:"activation"`
	Autoinc    map[string]string `json:"autoinc"`
}

func (r harnessResult) result(i int, v any) {
	if err := json.Unmarshal(r.Results[i], v); err != nil {
		panic(fmt.Sprintf("result %d %s: %v", i, r.Results[i], err))
	}
}

func (r harnessResult) str(i int) string {
	var s string
	if err := json.Unmarshal(r.Results[i], &s); err != nil {
		return string(r.Results[i])
	}
	return s
}

func (r harnessResult) logText() string { return strings.Join(r.Log, "\n") }

func (r harnessResult) service(id int) row {
	for _, s := range r.Tables["tblhosting"] {
		if fmt.Sprint(s["id"]) == fmt.Sprint(id) {
			return s
		}
	}
	return nil
}

var (
	firedMu sync.Mutex
	fired   = map[string]bool{}
	runs    int
)

const addonDir = "modules/addons/kycgate"

// php returns the php binary, skipping the test where PHP is missing, and
// failing it in CI (KYC_CI set by .ci/run, which installs PHP).
func php(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("php")
	if err != nil {
		skipOrFail(t, "php is not installed: the WHMCS addon is tested under PHP (apt-get install php-cli php-curl)")
	}
	check := `exit(function_exists("curl_init") && function_exists("sodium_crypto_sign_detached") && function_exists("openssl_sign") ? 0 : 1);`
	if exec.Command(bin, "-r", check).Run() != nil {
		skipOrFail(t, "php lacks curl, sodium or openssl (WHMCS has them): install php-curl")
	}
	return bin
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("KYC_CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// run runs the steps against the world through the harness; the webhook
// secret is set first (step 0 of the results is that).
func (w *world) run(t *testing.T, steps ...row) harnessResult {
	t.Helper()
	all := append([]row{{"do": "secret", "name": "webhook_secret", "value": gateSecret}}, steps...)
	res, code, stderr := w.runRaw(t, addonDir, all)
	if code != 0 || stderr != "" {
		t.Fatalf("harness exit %d\nviolations: %v\nstderr: %s\nlog: %v", code, res.Violations, stderr, res.Log)
	}
	firedMu.Lock()
	runs++
	for _, h := range res.Fired {
		fired[h] = true
	}
	firedMu.Unlock()
	res.Results = res.Results[1:]
	return res
}

func (w *world) runRaw(t *testing.T, dir string, steps []row) (harnessResult, int, string) {
	t.Helper()
	bin := php(t)
	tables := map[string][]row{}
	for k, v := range w.tables {
		if v == nil {
			v = []row{}
		}
		tables[k] = v
	}
	tables["tbladdonmodules"] = nil
	for k, v := range w.settings {
		tables["tbladdonmodules"] = append(tables["tbladdonmodules"], row{"module": "kycgate", "setting": k, "value": v})
	}
	scenario, err := json.Marshal(map[string]any{"tables": tables, "steps": steps, "activate": true, "autoinc": w.autoinc})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	path := filepath.Join(tmp, "scenario.json")
	if err := os.WriteFile(path, scenario, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "display_errors=stderr", "-d", "error_reporting=E_ALL", "-d", "log_errors=0",
		filepath.Join("testdata", "harness.php"), dir, filepath.Join("testdata", "hooks.json"), path)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res harnessResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("harness output: %v\nstdout: %s\nstderr: %s", jerr, out, stderr.String())
	}
	// Persist the world for the next run.
	w.autoinc = res.Autoinc
	w.tables = map[string][]row{}
	for k, v := range res.Tables {
		if k != "tbladdonmodules" {
			w.tables[k] = v
		}
	}
	return res, code, stderr.String()
}

// noSecretsOrPersonalData fails if the activity log carries the webhook
// secret, an e-mail address or a service password.
func noSecretsOrPersonalData(t *testing.T, res harnessResult) {
	t.Helper()
	log := res.logText()
	for _, s := range []string{gateSecret, "chan@example.com", "ops@acme.example", "secret-service-password"} {
		if strings.Contains(log, s) {
			t.Fatalf("activity log carries %q:\n%s", s, log)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
