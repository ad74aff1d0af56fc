// Package whmcsaddon holds the tests of the WHMCS addon module
// (modules/addons/kycgate, PHP). WHMCS is proprietary, so the addon runs
// under testdata/harness.php, a stand-in for the WHMCS functions, classes and
// behaviour it uses, against fakeGate, an httptest server standing in for
// the gate's billing routes (it checks every signature with
// shared/webhooksig and refuses unknown fields, as the gate does).
package whmcsaddon

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/webhooksig"
)

const gateSecret = "webhook-secret-0123456789abcdef"

// ---- the fake gate ----

type gateEvent struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Detail map[string]any `json:"detail"`
}

// customerKYC is the reply of GET /v1/billing/customers/{id}/kyc.
type customerKYC struct {
	CustomerID string   `json:"customerId"`
	Status     string   `json:"status"`
	VerifiedAt string   `json:"verifiedAt,omitempty"`
	ExpiresAt  string   `json:"expiresAt,omitempty"`
	Holds      []hold   `json:"holds"`
	Released   []string `json:"released"`
}

type hold struct {
	OrderID      string `json:"orderId"`
	ServiceID    string `json:"serviceId"`
	ProductID    string `json:"productId"`
	State        string `json:"state"`
	OrderedAt    string `json:"orderedAt"`
	Deadline     string `json:"deadline,omitempty"`
	ServerRegion string `json:"serverRegion"`
	TimeZone     string `json:"timeZone"`
}

type fakeGate struct {
	t         *testing.T
	srv       *httptest.Server
	mu        sync.Mutex
	events    []gateEvent     // accepted events, in order
	seen      map[string]bool // event ids accepted
	held      map[string]bool // order ids the gate holds
	customers map[string]customerKYC
	queue     map[string]int
	failPosts []int // statuses the next POSTs are answered with
	readsDown bool  // GETs answer 503
	reads     []string
	refusals  []string // why requests were refused (signature, fields)
}

func newFakeGate(t *testing.T) *fakeGate {
	t.Helper()
	g := &fakeGate{t: t, seen: map[string]bool{}, held: map[string]bool{}, customers: map[string]customerKYC{},
		queue: map[string]int{"size": 0, "oldestWaitSeconds": 0}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "urn:kycgate:problem:" + code, "title": http.StatusText(status), "status": status,
		"detail": code, "code": code})
}

// Details the gate accepts, per event type: any other field is refused.
var eventFields = map[string][]string{
	"OrderPlaced": {"orderId", "serviceId", "customerId", "productId", "orderedAt", "nextDueDate", "serverRegion",
		"business", "email", "language"},
	"OrderCancelled": {"orderId"},
	"ServiceExpired": {"orderId"},
	"StaffAction":    {"orderId", "serviceId", "customerId", "action", "adminId"},
}

func (g *fakeGate) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	signed := body
	if r.Method == http.MethodGet {
		signed = []byte("GET " + r.URL.Path)
	}
	if err := webhooksig.Verify([]byte(gateSecret), r.Header.Get(webhooksig.HeaderTimestamp), r.Header.Get(webhooksig.HeaderSignature),
		signed, time.Now(), webhooksig.Tolerance); err != nil {
		g.refusals = append(g.refusals, r.Method+" "+r.URL.Path+": "+err.Error())
		problem(w, http.StatusUnauthorized, "bad_signature")
		return
	}
	if r.Method == http.MethodGet {
		g.reads = append(g.reads, r.URL.Path)
		if g.readsDown {
			problem(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/billing/review-queue" {
			_ = json.NewEncoder(w).Encode(g.queue)
			return
		}
		m := regexp.MustCompile(`^/v1/billing/customers/([0-9]+)/kyc$`).FindStringSubmatch(r.URL.Path)
		if m == nil {
			problem(w, http.StatusNotFound, "not_found")
			return
		}
		c, ok := g.customers[m[1]]
		if !ok {
			c = customerKYC{CustomerID: m[1], Status: "unverified"}
		}
		if c.Holds == nil {
			c.Holds = []hold{}
		}
		if c.Released == nil {
			c.Released = []string{}
		}
		_ = json.NewEncoder(w).Encode(c)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/billing/events" || r.Header.Get("Content-Type") != "application/json" {
		problem(w, http.StatusNotFound, "not_found")
		return
	}
	var ev gateEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		g.refusals = append(g.refusals, "event: "+err.Error())
		problem(w, http.StatusBadRequest, "malformed")
		return
	}
	allowed, ok := eventFields[ev.Type]
	if !ok {
		problem(w, http.StatusUnprocessableEntity, "unknown_type")
		return
	}
	for k := range ev.Detail {
		if !contains(allowed, k) {
			g.refusals = append(g.refusals, ev.Type+": unknown field "+k)
			problem(w, http.StatusUnprocessableEntity, "unknown_field")
			return
		}
	}
	if len(g.failPosts) > 0 {
		status := g.failPosts[0]
		g.failPosts = g.failPosts[1:]
		problem(w, status, map[int]string{429: "throttled", 500: "internal", 503: "unavailable", 422: "invalid_customerId"}[status])
		return
	}
	if g.seen[ev.ID] {
		problem(w, http.StatusConflict, "replayed")
		return
	}
	orderID, _ := ev.Detail["orderId"].(string)
	if ev.Type != "OrderPlaced" && !g.held[orderID] {
		problem(w, http.StatusNotFound, "order_not_found")
		return
	}
	g.held[orderID] = true
	g.seen[ev.ID] = true
	g.events = append(g.events, ev)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"orderId":"` + orderID + `","state":"awaiting_kyc"}`))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (g *fakeGate) setCustomer(c customerKYC) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.customers[c.CustomerID] = c
}

func (g *fakeGate) hold(orderIDs ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range orderIDs {
		g.held[id] = true
	}
}

func (g *fakeGate) failNext(statuses ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failPosts = append(g.failPosts, statuses...)
}

func (g *fakeGate) setReadsDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readsDown = down
}

// take returns the events accepted so far and forgets them.
func (g *fakeGate) take() []gateEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.events
	g.events = nil
	return out
}

func (g *fakeGate) readCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.reads)
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
func newWorld(g *fakeGate) *world {
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
