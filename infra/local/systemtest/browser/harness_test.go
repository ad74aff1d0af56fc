// Package browser tests the pages people use in a real browser: Debian's
// Chromium driven with chromedp against the local stack (the dev server of
// `make dev`, in-process, on the emulator). It signs a customer and staff in
// the way `make -s signin` does, uploads files from disk, reviews with the
// keyboard, checks every page with axe-core (vendored in testdata), and
// writes screenshots of every page to docs/screenshots/.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kycgate/kycgate/infra/local/dev"
	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

func TestMain(m *testing.M) { emulator.Main(m) }

// EnvChromium names the browser; default Debian's /usr/bin/chromium.
const EnvChromium = "KYC_CHROMIUM"

// gate is a running local stack.
type gate struct {
	t        *testing.T
	url      string
	localDir string
	root     string
	logs     *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// startGate runs the dev server in-process, as `make dev` does.
func startGate(t *testing.T) *gate {
	t.Helper()
	emulator.Shared(t)
	root, err := stacktest.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stacktest.Template(); err != nil {
		t.Fatal(err)
	}
	g := &gate{t: t, localDir: t.TempDir(), root: root, logs: &lockedBuffer{}}
	cfg := dev.Config{LocalDir: g.localDir, Addr: "127.0.0.1:0", Template: filepath.Join(root, stacktest.TemplateFile), SweepEvery: -1}
	if p := os.Getenv("KYC_TEMPLATE"); p != "" {
		cfg.Template = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, cfg, io.Discard, slog.New(slog.NewTextHandler(g.logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Log("the dev server did not stop in 30 s")
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the dev server stopped: %v\n%s", err, g.logs.String())
		default:
		}
		if u, err := dev.RunningAPI(g.localDir); err == nil {
			if res, err := http.Get(u + "/local/health"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					g.url = u
					return g
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the dev server did not start:\n%s", g.logs.String())
	return nil
}

// signinURL is what `make -s signin ROLE=role SUB=sub` prints.
func (g *gate) signinURL(role, sub string) string {
	g.t.Helper()
	body, _ := json.Marshal(dev.SigninRequest{Role: role, Sub: sub})
	res, err := http.Post(g.url+dev.SigninPath, "application/json", bytes.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ URL string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusCreated {
		g.t.Fatalf("sign-in URL: %d %v", res.StatusCode, err)
	}
	return out.URL
}

// order reports an order of a KYC product through the signed webhook, as
// WHMCS does.
func (g *gate) order(orderID, serviceID, customerID string, orderedAt time.Time) {
	g.t.Helper()
	secret, err := os.ReadFile(dev.WebhookSecretFile(g.localDir))
	if err != nil {
		g.t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"type": "OrderPlaced", "id": "evt-" + orderID, "detail": map[string]any{
		"orderId": orderID, "serviceId": serviceID, "customerId": customerID, "productId": "kyc-vps",
		"orderedAt": orderedAt.UTC().Format(time.RFC3339), "nextDueDate": orderedAt.AddDate(0, 1, 0).Format("2006-01-02"),
		"serverRegion": "hk", "email": "c" + customerID + "@example.com"}})
	ts := time.Now().Unix()
	req, _ := http.NewRequest(http.MethodPost, g.url+"/v1/billing/events", bytes.NewReader(body))
	req.Header.Set(webhooksig.HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(secret, ts, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		g.t.Fatalf("order %s: %d %s", orderID, res.StatusCode, b)
	}
}

// chromium starts Debian's Chromium for the test: headless, no sandbox as
// root, no background connections (the machine's network is closed), a
// fresh profile. Without Chromium the test skips, or fails when KYC_CI is
// set (CI installs it).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("KYC_CI") != "" {
			t.Fatalf("Chromium is missing (%s): .ci/run installs Debian's chromium and fonts-noto-cjk", path)
		}
		t.Skipf("Chromium is missing (%s): apt-get install chromium fonts-noto-cjk, or set %s", path, EnvChromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"), chromedp.Flag("accept-lang", "en-US,en"),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // start it, with no timeout on this first run
		t.Fatalf("start Chromium: %v", err)
	}
	return browser
}

// person is one browser profile (its own cookies): a tab in its own
// browser context.
type person struct {
	t       *testing.T
	ctx     context.Context
	name    string
	console *lockedBuffer // the page's console messages, exceptions and failed requests
}

func (g *gate) person(t *testing.T, browser context.Context, name string) *person {
	t.Helper()
	p := &person{t: t, name: name, console: &lockedBuffer{}}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			for _, a := range e.Args {
				fmt.Fprintf(p.console, "console.%s %s\n", e.Type, a.Value)
			}
		case *runtime.EventExceptionThrown:
			fmt.Fprintf(p.console, "exception %s\n", e.ExceptionDetails.Text)
		case *network.EventLoadingFailed:
			fmt.Fprintf(p.console, "request failed: %s %s\n", e.ErrorText, e.BlockedReason)
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				fmt.Fprintf(p.console, "%d %s\n", e.Response.Status, strings.Split(e.Response.URL, "?")[0])
			}
		}
	}))
	t.Cleanup(cancel)
	p.ctx = ctx
	enable := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
		return err
	})
	if err := chromedp.Do(ctx, enable); err != nil { // open the tab, with no timeout
		t.Fatal(err)
	}
	return p
}

// do runs steps with a timeout, failing the test with what the page shows.
func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %s: %v\npage: %s", p.name, what, err, p.text())
	}
}

// eval evaluates a script.
func eval[T any](p *person, script string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: eval %q: %v", p.name, script, err)
	}
	return v
}

// text is the page's visible text (for failure messages and checks).
// queuedOf is the submission id of a customer's row in the queue the
// person's console shows ("" if none).
func (p *person) queuedOf(customer string) string {
	return eval[string](p, `(function (customer) {
		var rows = document.querySelectorAll("tr[data-submission]");
		for (var i = 0; i < rows.length; i++) if (rows[i].innerText.indexOf(customer) >= 0) return rows[i].getAttribute("data-submission");
		return "";
	})(`+strconv.Quote(customer)+`)`)
}

func (p *person) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// sees fails unless the page says every one of want.
func (p *person) sees(want ...string) {
	p.t.Helper()
	txt := p.text()
	for _, w := range want {
		if !strings.Contains(txt, w) {
			p.t.Fatalf("%s: the page does not say %q:\n%s", p.name, w, txt)
		}
	}
}

// location is the page's URL.
func (p *person) location() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return u
}

// waitFor polls a script until it is true.
func (p *person) waitFor(what, script string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](script, chromedp.WithPollingInterval(100*time.Millisecond)))
		// A navigation while polling (a form posted, a page reloaded)
		// ends the poll: poll again on the new page.
		if err == nil || ctx.Err() != nil || !(strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context was destroyed") || strings.Contains(err.Error(), "Cannot find context")) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("%s: waiting for %s: %v\npage: %s\nconsole:\n%s", p.name, what, err, p.text(), p.console.String())
	}
}

func contextFor(p *person, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, d)
}
