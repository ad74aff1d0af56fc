package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kycgate/kycgate/infra/local/dev"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// The load: loadCustomers customers, at most loadConcurrency of them at a
// time, each placing an order through the signed webhook, uploading two
// documents and submitting, while loadReviewers reviewers decide.
const (
	loadCustomers   = 200
	loadConcurrency = 20
	loadReviewers   = 5
	loadDeadline    = 20 * time.Minute // each upload is checked, then scanned: two validator runs
	loadSweepEvery  = "20s"            // the dev server's sweep timer: it races the approvals
)

// Each customer's case: what its order is and how the review ends, and the
// state the policy gives the order (case 4 places a second order once
// verified).
type loadCase struct {
	product string
	age     time.Duration // how long before placing it the order was made (orderedAt)
	approve bool
	want    kyc.HoldState
	days    int  // the due date moves by the whole days taken since the order (P6)
	second  bool // a second order after the approval: provisioned, never held
}

var loadCases = []loadCase{
	{product: "kyc-vps", age: time.Hour, approve: true, want: kyc.ProvisionedExtended, days: 1},
	{product: "shared-hosting", age: time.Hour, approve: true, want: kyc.NotRequired},
	// Reported 5 days after the order: its 3 days run from its arrival, so the
	// approval is in time, and the extension counts from the order (5 days
	// and the load's minutes: 6).
	{product: "kyc-vps", age: 5 * 24 * time.Hour, approve: true, want: kyc.ProvisionedExtended, days: 6},
	{product: "kyc-vps", age: time.Hour, approve: false, want: kyc.AwaitingKYC}, // rejected before its deadline: still waiting
	{product: "kyc-vps", age: time.Hour, approve: true, want: kyc.ProvisionedExtended, days: 1, second: true},
}

var baseDueDate = kyc.NewDate(2027, 1, 15)

// loadClient sends requests to the dev server and records each.
type loadClient struct {
	base    string
	secret  []byte
	http    *http.Client
	mu      sync.Mutex
	samples map[string][]float64
	errs    []string
	n       atomic.Int64
	failed  sync.Map // customer index → true: one of its requests (or its review's) failed
	decided sync.Map // customer index → true: its submission was decided
}

func (c *loadClient) record(route string, d time.Duration, err error) {
	c.n.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples[route] = append(c.samples[route], ms(d))
	if err != nil {
		c.errs = append(c.errs, route+": "+err.Error())
	}
}

// do sends a JSON request and decodes the answer; a status other than want
// is an error (recorded, and returned).
func (c *loadClient) do(route, method, path, token string, body any, want int, into any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(route, req, want, into)
}

func (c *loadClient) send(route string, req *http.Request, want int, into any) error {
	t0 := time.Now()
	res, err := c.http.Do(req)
	var body []byte
	if err == nil {
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			err = fmt.Errorf("%d %s", res.StatusCode, bytes.TrimSpace(body))
		}
	}
	c.record(route, time.Since(t0), err)
	if err == nil && into != nil {
		err = json.Unmarshal(body, into)
	}
	return err
}

// webhook places an order as the billing system does.
func (c *loadClient) order(orderID, cust string, lc loadCase, orderedAt time.Time) error {
	body, _ := json.Marshal(httpapi.BillingEnvelope{Type: kyc.OrderPlaced, ID: "evt-" + orderID, Detail: kyc.BillingEvent{
		OrderID: orderID, ServiceID: fmt.Sprint(100000 + hash(orderID)), CustomerID: cust, ProductID: lc.product,
		OrderedAt: orderedAt, NextDueDate: baseDueDate, ServerRegion: "hk"}})
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", c.base+"/v1/billing/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooksig.HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(c.secret, ts, body))
	return c.send("POST /v1/billing/events", req, http.StatusOK, nil)
}

func hash(s string) int {
	h := 0
	for _, r := range s {
		h = (h*31 + int(r)) % 1_000_000
	}
	return h
}

// BenchmarkThroughput runs the load against the `make dev` server, started
// as its own process (its own KYC_LOCAL_DIR, port and emulator), then checks
// every order's state through GET /v1/admin/orders/{id}.
func BenchmarkThroughput(b *testing.B) {
	for i := 0; i < b.N; i++ {
		throughput(b)
	}
}

func throughput(b *testing.B) {
	root, err := stacktest.Root()
	if err != nil {
		b.Fatal(err)
	}
	bin := b.TempDir()
	for _, cmd := range []string{"kycdev", "kyctoken"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, cmd), "./infra/local/cmd/"+cmd)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", cmd, err, out)
		}
	}
	localDir := b.TempDir()
	addr := freeAddr(b)
	env := append(os.Environ(), dev.EnvLocalDir+"="+localDir, dev.EnvHTTPAddr+"="+addr, dev.EnvSweepEvery+"="+loadSweepEvery,
		dev.EnvTemplate+"="+filepath.Join(root, stacktest.TemplateFile), "AWS_ENDPOINT_URL=")
	logFile := filepath.Join(b.TempDir(), "kycdev.log")
	if dir := outDir(); dir != "" {
		logFile = filepath.Join(dir, "kycdev.log")
	}
	logw, err := os.Create(logFile)
	if err != nil {
		b.Fatal(err)
	}
	defer logw.Close()
	srv := exec.Command(filepath.Join(bin, "kycdev"))
	srv.Dir, srv.Env, srv.Stdout, srv.Stderr = root, env, logw, logw
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		_ = srv.Process.Signal(syscall.SIGINT) // kycdev stops its emulator on the way out
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
	}()
	base := "http://" + addr
	if err := waitReady(base, localDir, exited); err != nil {
		log, _ := os.ReadFile(logFile)
		b.Fatalf("dev server: %v\n%s", err, log)
	}
	secret, err := os.ReadFile(dev.WebhookSecretFile(localDir))
	if err != nil {
		b.Fatal(err)
	}
	token := func(role, sub string) string {
		cmd := exec.Command(filepath.Join(bin, "kyctoken"), "-role", role, "-sub", sub)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("token: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	// Tokens first (`make -s token` does the same): the load sends requests only.
	custTokens := make([]string, loadCustomers)
	for i := range custTokens {
		custTokens[i] = token("customer", custID(i))
	}
	revTokens := make([]string, loadReviewers)
	for i := range revTokens {
		revTokens[i] = token("reviewer", fmt.Sprintf("rev-%d", i))
	}

	c := &loadClient{base: base, secret: secret, samples: map[string][]float64{},
		http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: loadConcurrency + loadReviewers},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	type placed struct {
		id        string
		c         loadCase
		orderedAt time.Time
	}
	var (
		mu     sync.Mutex
		orders []placed
	)
	place := func(orderID string, i int, lc loadCase) error {
		orderedAt := time.Now().Add(-lc.age).Truncate(time.Second)
		if err := c.order(orderID, custID(i), lc, orderedAt); err != nil {
			return err
		}
		mu.Lock()
		orders = append(orders, placed{orderID, lc, orderedAt})
		mu.Unlock()
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	start := time.Now()
	var decided, submitted, gaveUp atomic.Int64
	var wg sync.WaitGroup
	for r := range loadReviewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			review(ctx, c, r, revTokens[r], &decided, &gaveUp)
		}()
	}
	sem := make(chan struct{}, loadConcurrency)
	var cwg sync.WaitGroup
	for i := range loadCustomers {
		cwg.Add(1)
		sem <- struct{}{}
		go func() {
			defer cwg.Done()
			defer func() { <-sem }()
			ok := false
			defer func() {
				if !ok {
					c.failed.Store(i, true)
				}
			}()
			lc := loadCases[i%len(loadCases)]
			tok := custTokens[i]
			if place("ord-"+custID(i), i, lc) != nil {
				return
			}
			if c.do("GET /v1/kyc/requirements", "GET", "/v1/kyc/requirements", tok, nil, http.StatusOK, nil) != nil {
				return
			}
			var ids []string
			for _, d := range []struct {
				cat       kyc.Category
				typ       kyc.DocType
				ct        string
				data      []byte
				uploading string
			}{{kyc.Identity, kyc.Passport, kyc.JPEG, stacktest.JPEG, "identity"}, {kyc.Address, kyc.BankStatement, kyc.PDF, stacktest.PDF, "address"}} {
				var up kyc.NewUpload
				if c.do("POST /v1/kyc/documents", "POST", "/v1/kyc/documents", tok,
					map[string]any{"category": d.cat, "type": d.typ, "contentType": d.ct, "size": len(d.data)}, http.StatusCreated, &up) != nil {
					return
				}
				t0 := time.Now()
				err := stacktest.PostForm(c.http, up.Upload, d.data, d.ct)
				c.record("POST presigned upload (S3 on the emulator)", time.Since(t0), err)
				if err != nil {
					return
				}
				ids = append(ids, up.DocumentID)
			}
			// As the customer's page does: wait for the validator's verdict
			// (and, since the malware scan, the scanner's) before submitting.
			if !validated(ctx, c, tok, ids) {
				return
			}
			if c.do("POST /v1/kyc/submissions", "POST", "/v1/kyc/submissions", tok,
				map[string]string{"identityDocumentId": ids[0], "addressDocumentId": ids[1]}, http.StatusCreated, nil) != nil {
				return
			}
			submitted.Add(1)
			if !lc.second {
				ok = true
				return
			}
			// Wait for the approval (at most 3 minutes), then order again.
			for wait := time.Now().Add(3 * time.Minute); ctx.Err() == nil && time.Now().Before(wait); {
				var st kyc.StatusView
				if c.do("GET /v1/kyc/status", "GET", "/v1/kyc/status", tok, nil, http.StatusOK, &st) != nil {
					return
				}
				if st.Status == kyc.StatusVerified {
					// Ordered after the approval (orderedAt is cut to the
					// second): provisioned at once, never held.
					time.Sleep(1100 * time.Millisecond)
					ok = place("ord2-"+custID(i), i, loadCase{product: "kyc-vps", want: kyc.Provisioned}) == nil
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
			}
		}()
	}
	cwg.Wait()
	for decided.Load()+gaveUp.Load() < submitted.Load() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	elapsed := time.Since(start)

	res := ThroughputResult{Customers: loadCustomers, Reviewers: loadReviewers, Seconds: elapsed.Seconds(),
		Server: fmt.Sprintf("The dev server of `make dev` (infra/local/cmd/kycdev) as its own process with its own emulator, KYC_LOCAL_DIR and port (%s), "+
			"the sweep every %s (KYC_SWEEP_EVERY) so that it races the approvals; tokens from kyctoken (what `make -s token` runs). "+
			"The load comes from this process over loopback: %d customers, at most %d at a time, each placing an order through the signed webhook "+
			"(POST /v1/billing/events), reading the requirements, creating two documents and uploading them to the presigned forms, reading its status "+
			"and submitting; %d reviewers at once list the queue, claim, open and decide (each its own share of the customers, so no two race for a claim). "+
			"One customer in five is rejected; one in five orders a product that needs no KYC; one in five ordered 5 days before billing reports it (its 3 days run "+
			"from its arrival, its extension from the order); one in five orders again once verified.", addr, loadSweepEvery, loadCustomers, loadConcurrency, loadReviewers)}
	var all []float64
	for route, xs := range c.samples {
		sort.Float64s(xs)
		all = append(all, xs...)
		res.ByRoute = append(res.ByRoute, RouteResult{Route: route, Requests: len(xs), P50MS: Percentile(xs, 50), P99MS: Percentile(xs, 99)})
	}
	sort.Slice(res.ByRoute, func(i, j int) bool { return res.ByRoute[i].Route < res.ByRoute[j].Route })
	sort.Float64s(all)
	res.Requests, res.Errors = len(all), len(c.errs)
	res.RPS = float64(len(all)) / elapsed.Seconds()
	res.P50MS, res.P99MS = Percentile(all, 50), Percentile(all, 99)
	res.ErrorKinds = firstN(c.errs, 10)
	res.Submitted, res.Decided = int(submitted.Load()), int(decided.Load())

	// What the server logged as failed requests, and how many of those are
	// moto answering 500 to a transaction (its concurrent-write bug).
	if log, err := os.ReadFile(logFile); err == nil {
		for _, l := range strings.Split(string(log), "\n") {
			if strings.Contains(l, "level=ERROR") && strings.Contains(l, `msg="request failed"`) {
				res.ServerErrors++
				if strings.Contains(l, "TransactWriteItems") && strings.Contains(l, "StatusCode: 500") {
					res.ServerErrorsMoto++
				}
			}
		}
	}

	// Afterwards: every order in exactly the state the policy gives it.
	admin := token("reviewer", "checker")
	res.States = map[string]int{}
	for _, o := range orders {
		res.Orders++
		var v kyc.OrderView
		if err := c.do("check", "GET", "/v1/admin/orders/"+o.id, admin, nil, http.StatusOK, &v); err != nil {
			res.Mismatches = append(res.Mismatches, o.id+": "+err.Error())
			continue
		}
		res.States[string(v.State)]++
		want := baseDueDate.AddDays(o.c.days) // approved within a day of its arrival
		if v.State != o.c.want || v.NextDueDate.String() != want.String() {
			var i int
			_, _ = fmt.Sscanf(v.CustomerID, "load-%d", &i)
			why := "UNEXPLAINED"
			_, failed := c.failed.Load(i)
			_, reviewed := c.decided.Load(i)
			switch {
			case failed:
				why = "after a failed request of this customer's flow"
				res.AfterErrors++
			case !reviewed:
				why = "its submission was not decided before the load's deadline"
				res.NotDecided++
			}
			res.Mismatches = append(res.Mismatches, fmt.Sprintf("%s: %s due %s, want %s due %s (%s)", o.id, v.State, v.NextDueDate, o.c.want, want, why))
			continue
		}
		res.OrdersOK++
	}
	delete(c.samples, "check")
	sort.Slice(res.Mismatches, func(i, j int) bool {
		return strings.Contains(res.Mismatches[i], "UNEXPLAINED") && !strings.Contains(res.Mismatches[j], "UNEXPLAINED")
	})
	res.Mismatches = firstN(res.Mismatches, 20)
	b.ReportMetric(res.RPS, "req/s")
	b.ReportMetric(res.P99MS, "p99-ms")
	b.ReportMetric(float64(res.Errors), "errors")
	b.Logf("%d requests in %.1f s: %.1f/s, p50 %.0f ms, p99 %.0f ms, %d errors %v; orders %d/%d as expected %v",
		res.Requests, res.Seconds, res.RPS, res.P50MS, res.P99MS, res.Errors, res.ErrorKinds, res.OrdersOK, res.Orders, res.Mismatches)
	save(b, FileThroughput, res)
}

func custID(i int) string { return fmt.Sprintf("load-%03d", i) }

// validated polls the customer's status until every document of ids is
// valid: first after two seconds, then every three (the polls share the
// emulator with the validator they wait for). A refused document, a failed
// request or three minutes without a verdict is a failed flow.
func validated(ctx context.Context, c *loadClient, tok string, ids []string) bool {
	pause := 2 * time.Second
	for wait := time.Now().Add(3 * time.Minute); ctx.Err() == nil && time.Now().Before(wait); pause = 3 * time.Second {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		var st kyc.StatusView
		if c.do("GET /v1/kyc/status", "GET", "/v1/kyc/status", tok, nil, http.StatusOK, &st) != nil {
			return false
		}
		valid := 0
		for _, d := range st.Documents {
			switch {
			case !slices.Contains(ids, d.ID):
			case d.State == kyc.DocValid:
				valid++
			case d.State == kyc.DocInvalid:
				return false
			}
		}
		if valid == len(ids) {
			return true
		}
	}
	return false
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(xs[:n:n], fmt.Sprintf("… %d more", len(xs)-n))
	}
	return xs
}

// review is one reviewer: it decides the submissions of its share of the
// customers (index mod loadReviewers), approving or rejecting by case. A
// submission whose claim, view or decision fails is tried again on the next
// pass, at most 3 times in all.
func review(ctx context.Context, c *loadClient, r int, tok string, decided, gaveUp *atomic.Int64) {
	done := map[string]bool{}
	tries := map[string]int{}
	for ctx.Err() == nil {
		var q struct{ Items []kyc.QueueItem }
		_ = c.do("GET /v1/admin/submissions", "GET", "/v1/admin/submissions?status=pending_review", tok, nil, http.StatusOK, &q)
		mine := 0
		for _, it := range q.Items {
			var i int
			if _, err := fmt.Sscanf(it.CustomerID, "load-%d", &i); err != nil || i%loadReviewers != r || done[it.SubmissionID] {
				continue
			}
			mine++
			if tries[it.SubmissionID]++; tries[it.SubmissionID] > 3 {
				done[it.SubmissionID] = true
				gaveUp.Add(1)
				continue
			}
			var claimed kyc.QueueItem
			if c.do("POST /v1/admin/submissions/{id}/claim", "POST", "/v1/admin/submissions/"+it.SubmissionID+"/claim", tok, nil, http.StatusOK, &claimed) != nil {
				c.failed.Store(i, true)
				continue
			}
			if c.do("GET /v1/admin/submissions/{id}", "GET", "/v1/admin/submissions/"+it.SubmissionID, tok, nil, http.StatusOK, nil) != nil {
				c.failed.Store(i, true)
				continue
			}
			opened := true
			for _, cat := range []string{"identity", "address"} { // an approval needs both opened
				if c.do("GET /v1/admin/submissions/{id}/documents/{category}", "GET", "/v1/admin/submissions/"+it.SubmissionID+"/documents/"+cat,
					tok, nil, http.StatusFound, nil) != nil {
					opened = false
				}
			}
			if !opened {
				c.failed.Store(i, true)
				continue
			}
			address := map[string]any{"result": "approve"}
			if !loadCases[i%len(loadCases)].approve {
				address = map[string]any{"result": "reject", "reasons": []string{"too_old"}}
			}
			if c.do("POST /v1/admin/submissions/{id}/decision", "POST", "/v1/admin/submissions/"+it.SubmissionID+"/decision", tok, map[string]any{
				"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": address},
				"version":   claimed.Version,
			}, http.StatusOK, nil) != nil {
				c.failed.Store(i, true)
				continue
			}
			done[it.SubmissionID] = true
			c.decided.Store(i, true)
			decided.Add(1)
		}
		if mine == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady waits until the dev server has written its files and answers.
func waitReady(base, localDir string, exited <-chan error) error {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if _, err := os.Stat(dev.WebhookSecretFile(localDir)); err == nil {
			if res, err := http.Get(base + "/v1/kyc/requirements"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusUnauthorized {
					return nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("not ready after 3 minutes")
}
