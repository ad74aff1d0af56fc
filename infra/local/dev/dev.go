// Package dev is the local stack of `make dev`: the synthesized template
// deployed on an emulator, every function built with the constructors its
// Lambda main uses, and one process that plays the parts of AWS the emulator
// does not run:
//
//   - API Gateway: every route of the template's HTTP API is served by its
//     function's http.Handler (the one the Lambda serves through the API
//     proxy), with JWTs verified as the API's JWT authorizer verifies them,
//     against a local signing key (package localjwt);
//   - Lambda's SQS event source mappings: each function's queues are
//     long-polled and their batches handed to the function as SQS events,
//     with partial batch responses (poller.go);
//   - EventBridge Scheduler: the sweep runs on a timer with the schedule's
//     payload, its time the local clock's;
//   - time: a clock a person or a test moves forward (clock.go), the
//     policy's "now" of every function;
//   - the billing system: a fake WHMCS (shared/whmcs/whmcstest) that records
//     every command it receives.
//
// The emulator itself delivers S3 notifications and bus rules to the queues,
// as the template wires them. What the local stack changes about the
// template is listed by the dev server at start and at GET
// /local/substitutions.
package dev

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kycgate/kycgate/infra/local/dev/localjwt"
	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/whmcs/whmcstest"
	"github.com/kycgate/kycgate/shared/wiring"
)

// Environment variables of the local commands.
const (
	EnvLocalDir   = "KYC_LOCAL_DIR"    // every local file; default .local
	EnvHTTPAddr   = "KYC_HTTP_ADDR"    // the dev server's address; default 127.0.0.1:8080
	EnvSweepEvery = "KYC_SWEEP_EVERY"  // Go duration, or "off"; default: the template's schedule
	EnvTemplate   = "KYC_TEMPLATE"     // the synthesized template; default cdk.out/KycGate.template.json
	EnvPrefix     = "KYC_STACK_PREFIX" // resource name prefix; default "dev" (a unique one on an external emulator)
)

// Defaults.
const (
	DefaultLocalDir = ".local"
	DefaultHTTPAddr = "127.0.0.1:8080"
	DefaultTemplate = "cdk.out/KycGate.template.json"
)

// Files under the local directory.
func StackFile(localDir string) string         { return filepath.Join(localDir, "stack.json") }
func WebhookSecretFile(localDir string) string { return filepath.Join(localDir, "webhook.secret") }
func serverFile(localDir string) string        { return filepath.Join(localDir, "dev.json") }

// LocalDir is $KYC_LOCAL_DIR, or .local.
func LocalDir() string {
	if d := os.Getenv(EnvLocalDir); d != "" {
		return d
	}
	return DefaultLocalDir
}

// TemplateFile is $KYC_TEMPLATE, or the one `make synth` writes.
func TemplateFile() string {
	if t := os.Getenv(EnvTemplate); t != "" {
		return t
	}
	return DefaultTemplate
}

// Config of the dev server.
type Config struct {
	LocalDir string
	Addr     string
	Template string
	Prefix   string
	// SweepEvery: zero for the template's schedule, negative for no timer.
	SweepEvery time.Duration
}

// ConfigFromEnv reads the Config from the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{LocalDir: LocalDir(), Addr: os.Getenv(EnvHTTPAddr), Template: TemplateFile(), Prefix: os.Getenv(EnvPrefix)}
	if c.Addr == "" {
		c.Addr = DefaultHTTPAddr
	}
	switch v := strings.TrimSpace(os.Getenv(EnvSweepEvery)); v {
	case "":
	case "off", "0":
		c.SweepEvery = -1
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("%s=%q: want a positive Go duration such as 30s, or off", EnvSweepEvery, v)
		}
		c.SweepEvery = d
	}
	return c, nil
}

// Server is a running local stack.
type Server struct {
	cfg        Config
	log        *slog.Logger
	emu        *emulator.Emulator
	st         *stack.Stack
	sink       *whmcstest.Server
	subs       []Substitution
	clock      *Clock
	signin     *localSignin
	fns        map[string]*wiring.Function
	sweepEvery time.Duration
	url        string
}

// serverInfo is dev.json: how to reach a running dev server.
type serverInfo struct {
	PID      int    `json:"pid"`
	API      string `json:"api"`
	Emulator string `json:"emulator"`
}

// Run starts the local stack, prints what runs where to out, and serves
// until ctx is done; then it stops everything it started (the emulator's
// process group included) and removes the files that say a stack is
// running.
func Run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) (err error) {
	s := &Server{cfg: cfg, log: log, fns: map[string]*wiring.Function{}, clock: NewClock()}
	if err := s.refuseSecond(); err != nil {
		return err
	}
	// Take the port first: a port in use fails before anything starts.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (%s): %w", cfg.Addr, EnvHTTPAddr, err)
	}
	defer ln.Close()
	s.url = "http://" + ln.Addr().String()
	tpl, err := os.ReadFile(cfg.Template)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is missing: run make synth first (make dev does)", cfg.Template)
	} else if err != nil {
		return err
	}

	startCtx, cancel := context.WithTimeout(ctx, emulator.StartTimeout+5*time.Second)
	s.emu, err = emulator.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	defer s.emu.Stop()
	awsCfg, err := s.emu.Config(ctx)
	if err != nil {
		return err
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = "dev"
		if !s.emu.Started() {
			// A long-lived emulator may hold an earlier stack: never share it.
			var b [4]byte
			_, _ = rand.Read(b[:])
			prefix = "dev-" + hex.EncodeToString(b[:])
		}
	}
	log.Info("deploying the synthesized template", "template", cfg.Template, "emulator", s.emu.Endpoint(), "prefix", prefix)
	start := time.Now()
	s.st, err = stack.Deploy(ctx, awsCfg, tpl, stack.Options{Prefix: prefix})
	if err != nil {
		return err
	}
	log.Info("deployed", "took", time.Since(start).Round(time.Millisecond).String(), "created", len(s.st.Created), "functions", s.st.FunctionNames())
	if !s.emu.Started() {
		// Nothing else removes it from an emulator that outlives us.
		defer func() {
			if derr := s.st.Destroy(context.Background()); derr != nil {
				log.Warn("removing the stack from the emulator", "err", derr)
			}
		}()
	}
	if err := s.setUp(ctx, awsCfg); err != nil {
		return err
	}

	mux := http.NewServeMux()
	if err := s.routes(mux); err != nil {
		return err
	}
	pollCtx, stopPolling := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.startPollers(pollCtx, awsCfg, &wg)
	s.startSweep(pollCtx, &wg)
	defer func() {
		for _, f := range []string{StackFile(cfg.LocalDir), serverFile(cfg.LocalDir), WebhookSecretFile(cfg.LocalDir)} {
			_ = os.Remove(f)
		}
	}()

	// The stack is ready: say so where the other commands look, then serve.
	if err := s.st.Save(StackFile(cfg.LocalDir)); err != nil {
		stopPolling()
		return err
	}
	info, _ := json.Marshal(serverInfo{PID: os.Getpid(), API: s.url, Emulator: s.st.Endpoint})
	if err := writePrivate(serverFile(cfg.LocalDir), info); err != nil {
		stopPolling()
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.banner(out)

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("http server: %w", err)
	}
	fmt.Fprintln(out, "\nStopping the local stack ...")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Shutdown(shutCtx)
	cancelShut()
	stopPolling()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		log.Warn("an invocation is still running; stopping anyway")
	}
	return err
}

// refuseSecond fails if a dev server of the same local directory answers.
func (s *Server) refuseSecond() error {
	b, err := os.ReadFile(serverFile(s.cfg.LocalDir))
	if err != nil {
		return nil
	}
	var info serverInfo
	if json.Unmarshal(b, &info) != nil || info.API == "" {
		return nil
	}
	c := &http.Client{Timeout: time.Second}
	res, err := c.Get(info.API + "/local/health")
	if err != nil {
		return nil // stale: that server is gone
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil // something else answers there now
	}
	return fmt.Errorf("a local stack of %s is already running at %s (pid %d); stop it first, or use another %s",
		s.cfg.LocalDir, info.API, info.PID, EnvLocalDir)
}

// setUp applies the local substitutions and builds every function.
func (s *Server) setUp(ctx context.Context, awsCfg aws.Config) error {
	sink, subs, err := Localize(ctx, awsCfg, s.st, s.url, WebhookSecretFile(s.cfg.LocalDir))
	if err != nil {
		return err
	}
	s.sink, s.subs = sink, subs
	if s.st.Authorizer == nil {
		return errors.New("the template has no JWT authorizer: the API cannot be served")
	}
	key, err := localjwt.LoadOrCreateKey(s.cfg.LocalDir)
	if err != nil {
		return err
	}
	s.subs = append(s.subs, Substitution{
		What: fmt.Sprintf("JWTs (issuer %s, audience %v) are verified against %s (kid %q)",
			s.st.Authorizer.Issuer, s.st.Authorizer.Audience, localjwt.KeyFile(s.cfg.LocalDir), localjwt.KeyID),
		Why: "the issuer's real keys sign no local token; `make -s token` signs with the local key, which nothing deployed trusts",
	})
	l, pageSubs, err := localizePages(ctx, awsCfg, s.st, s.url, s.cfg.LocalDir, key)
	if err != nil {
		return err
	}
	s.signin, s.subs = l, append(s.subs, pageSubs...)
	verifier := httpapi.JWTVerifier{Issuer: s.st.Authorizer.Issuer, Audiences: s.st.Authorizer.Audience,
		Keys: map[string]*rsa.PublicKey{localjwt.KeyID: &key.PublicKey}}
	s.subs = append(s.subs, Substitution{
		What: `the functions' clock (the policy's "now": orders received, decisions, the timer sweep's time) is the dev server's: GET /local/clock, POST /local/clock {"advance":"73h"} moves it forward`,
		Why:  "so a late customer can be staged without waiting 3 days; token and signature checks keep real time",
	})
	clients := wiring.NewClients(awsCfg)
	scanner := MalwareScanner(s.st, clients, s.clock.Now)
	if scanner != nil {
		s.subs = append(s.subs, MalwareSubstitution)
	}
	for _, name := range s.st.FunctionNames() {
		flog := s.log.With("fn", name)
		fn, err := Build(ctx, s.st, name, clients, wiring.Host{Clock: s.clock.Now, Log: flog, Auth: verifier, Metrics: &lineLog{log: flog}, Scanner: scanner})
		if err != nil {
			return err
		}
		s.fns[name] = fn
	}
	return nil
}

// routes mounts every route of the template's HTTP API on its function's
// handler, and the local routes.
func (s *Server) routes(mux *http.ServeMux) error {
	if err := checkRoutes(s.st); err != nil {
		return err
	}
	for _, name := range s.st.FunctionNames() {
		for _, r := range s.st.Functions[name].Routes {
			h := s.fns[name].HTTP
			if h == nil {
				return fmt.Errorf("route %q targets %s, which has no HTTP handler", r.Key, name)
			}
			mux.Handle(r.Key, h)
		}
	}
	s.localRoutes(mux)
	mux.Handle("/", httpapi.Fallback(mux, "no such route (local routes: GET /local/)"))
	return nil
}

// checkRoutes compares the template's routes with contract.Routes, which the
// handlers are built from: they must be the same (pattern, function and
// authorization), or the local API would differ from the deployed one.
func checkRoutes(st *stack.Stack) error {
	var got, want []string
	for name, fn := range st.Functions {
		for _, r := range fn.Routes {
			got = append(got, fmt.Sprintf("%s → %s (%s)", r.Key, name, r.Auth.Gateway()))
		}
	}
	for _, r := range contract.Routes {
		want = append(want, fmt.Sprintf("%s → %s (%s)", r.Pattern, r.Function, r.Auth.Gateway()))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("the template's HTTP API routes differ from contract.Routes (re-run make synth):\n  template: %s\n  contract: %s",
			strings.Join(got, "\n            "), strings.Join(want, "\n            "))
	}
	return nil
}

func (s *Server) startPollers(ctx context.Context, awsCfg aws.Config, wg *sync.WaitGroup) {
	queues := sqs.NewFromConfig(awsCfg)
	for _, name := range s.st.FunctionNames() {
		fn := s.st.Functions[name]
		for _, q := range fn.Queues {
			p := &poller{sqs: queues, fn: s.fns[name], name: name, trigger: q, region: s.st.Region, timeout: fn.Timeout, log: s.log}
			for range max(q.Concurrency, 1) { // as many batches at once as Lambda runs
				wg.Add(1)
				go func() { defer wg.Done(); p.run(ctx) }()
			}
		}
	}
}

// startSweep invokes the scheduled function on a timer, with the payload
// EventBridge Scheduler would send at that time.
func (s *Server) startSweep(ctx context.Context, wg *sync.WaitGroup) {
	for _, name := range s.st.FunctionNames() {
		fn := s.st.Functions[name]
		if fn.Schedule == nil {
			continue
		}
		every := fn.Schedule.Every
		switch {
		case s.cfg.SweepEvery < 0:
			every = 0
		case s.cfg.SweepEvery > 0:
			every = s.cfg.SweepEvery
		}
		s.sweepEvery = every
		if every <= 0 {
			continue
		}
		f, sched, timeout := s.fns[name], fn.Schedule, fn.Timeout
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					ictx, cancel := context.WithTimeout(context.Background(), timeout)
					res, err := f.Invoke(ictx, json.RawMessage(sched.Event(s.clock.Now())))
					cancel()
					if err != nil {
						s.log.Warn("scheduled invocation failed", "fn", name, "err", err)
					} else {
						b, _ := json.Marshal(res)
						s.log.Info("scheduled invocation", "fn", name, "result", string(b))
					}
				}
			}
		}()
	}
}

// banner prints what runs where.
func (s *Server) banner(out io.Writer) {
	emu := s.st.Endpoint + " (moto_server, started by this command; stopped with it)"
	if !s.emu.Started() {
		emu = s.st.Endpoint + " (" + emulator.EnvEndpoint + "; the stack is removed from it on exit)"
	}
	var queues []string
	for _, name := range s.st.FunctionNames() {
		for _, q := range s.st.Functions[name].Queues {
			queues = append(queues, fmt.Sprintf("%s ← %s", name, q.URL[strings.LastIndex(q.URL, "/")+1:]))
		}
	}
	sweep := "off (" + EnvSweepEvery + "=off)"
	if s.sweepEvery > 0 {
		sweep = "every " + s.sweepEvery.String()
		if s.cfg.SweepEvery == 0 {
			sweep += " (the template's schedule; " + EnvSweepEvery + " overrides)"
		}
	}
	p := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	p("")
	p("KYC gate: local stack %q is running", s.st.Prefix)
	p("  API            %s   customer, admin and billing webhook routes (same handlers as the Lambdas)", s.url)
	p("  emulator       %s", emu)
	p("  billing sink   %s%s/includes/api.php   fake WHMCS; commands: GET %s/local/billing/commands", s.url, SinkPath, s.url)
	p("  e-mails        GET %s/local/emails   what SES accepted", s.url)
	p("  OpenAPI        GET %s%s   the HTTP API's OpenAPI 3.1 document; local routes: GET %s/local/", s.url, OpenAPIPath, s.url)
	p("  clock          GET %s/local/clock; POST {\"advance\":\"73h\"} moves the functions' \"now\" forward", s.url)
	p("  queue pollers  %s", strings.Join(queues, ", "))
	p("  sweep          %s", sweep)
	p("  stack file     %s", StackFile(s.cfg.LocalDir))
	p("Local substitutions (everything else is the synthesized template):")
	for _, sub := range s.subs {
		p("  - %s", sub.What)
		p("      why: %s", sub.Why)
	}
	p("Pages:   %s/verify (customers)   %s/console (staff)", s.url, s.url)
	p("Sign-in: make -s signin ROLE=customer|reviewer|admin SUB=<id>   prints a URL that signs that person in")
	p("Tokens:  make -s token ROLE=customer|reviewer|admin SUB=<id>")
	p("Invoke:  make -s invoke FN=<function> EVENT=events/<function>/<file>.json")
	p("Stop:    Ctrl-C (stops the pollers, the HTTP server and the emulator this command started)")
	p("")
}

// lineLog writes each line it is given (the sweep's embedded-metric lines)
// to a log.
type lineLog struct {
	log *slog.Logger
	mu  sync.Mutex
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		if line != "" {
			l.log.Info("metrics", "emf", line)
		}
	}
	return len(p), nil
}
