package wiring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/notify"
	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/triggers"
	"github.com/kycgate/kycgate/shared/web"
	"github.com/kycgate/kycgate/shared/whmcs"
)

// Handler runs a function once on a raw event and returns its JSON result,
// exactly as the Lambda runtime calls it.
type Handler func(ctx context.Context, event json.RawMessage) (any, error)

// Function is a built function: Invoke is its Lambda entry point; HTTP is
// its http.Handler when API routes invoke it.
type Function struct {
	Name   string
	Invoke Handler
	HTTP   http.Handler
}

// Definition is a function of the system: its spec (what it needs) and how
// it is built from the resources its spec gives it.
type Definition struct {
	Spec  contract.Spec
	build func(ctx context.Context, r *resources) (*Function, error)
}

// The functions. functions/<name>/main.go runs one of these in Lambda.
var (
	// CustomerAPI serves the customer API.
	CustomerAPI = Definition{contract.SpecOf(contract.FunctionCustomerAPI), customerAPI}
	// AdminAPI serves the reviewer/admin API.
	AdminAPI = Definition{contract.SpecOf(contract.FunctionAdminAPI), adminAPI}
	// BillingIntake takes billing events from its queue and the signed webhook.
	BillingIntake = Definition{contract.SpecOf(contract.FunctionBillingIntake), billingIntake}
	// Validator validates uploads from the S3 notifications on its queue.
	Validator = Definition{contract.SpecOf(contract.FunctionValidator), validator}
	// Sweep runs the time-triggered rules on EventBridge Scheduler's event.
	Sweep = Definition{contract.SpecOf(contract.FunctionSweep), sweep}
	// BillingAdapter applies service commands to the billing system.
	BillingAdapter = Definition{contract.SpecOf(contract.FunctionBillingAdapter), billingAdapter}
	// Notifier sends customer notices.
	Notifier = Definition{contract.SpecOf(contract.FunctionNotifier), notifier}
)

// All is every function, in the order of contract.Specs.
var All = []Definition{CustomerAPI, AdminAPI, BillingIntake, Validator, Sweep, BillingAdapter, Notifier}

// Lookup returns the definition of a function by name.
func Lookup(name string) (Definition, bool) {
	for _, d := range All {
		if d.Spec.Name == name {
			return d, true
		}
	}
	return Definition{}, false
}

// Build reads the function's configuration from env and builds it.
func (d Definition) Build(ctx context.Context, env func(string) string, c Clients, h Host) (*Function, error) {
	cfg, err := Load(d.Spec, env)
	if err != nil {
		return nil, err
	}
	fn, err := d.build(ctx, newResources(cfg, c, h))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Spec.Name, err)
	}
	fn.Name = d.Spec.Name
	return fn, nil
}

func customerAPI(ctx context.Context, r *resources) (*Function, error) {
	// The per-customer limits are the use cases': the JSON API and the
	// pages count the same requests.
	limits := kyc.WithLimiter(httpapi.NewLimiter(r.store, r.host.Rates, r.host.Clock))
	svc := kyc.NewService(r.store, r.files(), r.sealer(), r.bus(), r.cfg.policy(), append(r.options(), limits)...)
	pc, err := r.pages(ctx)
	if err != nil {
		return nil, err
	}
	cc := web.CustomerConfig{Config: pc, FilesOrigin: r.filesOrigin(ctx)}
	if len(r.cfg.SigninKeys) > 0 {
		if cc.Signin, err = signin.NewVerifier(signin.Config{Keys: r.cfg.SigninKeys, Issuer: r.cfg.SigninIssuer,
			Audience: r.cfg.SigninAudience, Replay: dynamostore.NewSigninGuard(r.clients.DynamoDB, r.cfg.Table)}); err != nil {
			return nil, err
		}
	}
	return api(withPages(contract.FunctionCustomerAPI, httpapi.NewCustomerAPI(svc, r.auth(), r.log),
		web.NewCustomerPages(svc, cc))), nil
}

func adminAPI(ctx context.Context, r *resources) (*Function, error) {
	svc := kyc.NewService(r.store, r.files(), r.sealer(), r.bus(), r.cfg.policy(), r.options()...)
	pc, err := r.pages(ctx)
	if err != nil {
		return nil, err
	}
	oidc := &web.OIDC{Issuer: r.cfg.OIDCIssuer, ClientID: r.cfg.OIDCClientID, RedirectURL: r.cfg.PublicURL + "/console/callback"}
	pages := web.NewConsolePages(svc, web.ConsoleConfig{Config: pc, OIDC: oidc, ReviewSLA: r.cfg.ReviewSLA, FilesOrigin: r.filesOrigin(ctx)})
	return api(withPages(contract.FunctionAdminAPI, httpapi.NewAdminAPI(svc, r.auth(), r.log), pages)), nil
}

// withPages serves a function's page routes (contract.AuthPage) with its
// pages and every other request with its JSON API.
func withPages(function string, apiH, pagesH http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range contract.RoutesOf(function) {
		if rt.Auth == contract.AuthPage {
			mux.Handle(rt.Pattern, pagesH)
		} else {
			mux.Handle(rt.Pattern, apiH)
		}
	}
	mux.Handle("/", apiH)
	return mux
}

func billingIntake(ctx context.Context, r *resources) (*Function, error) {
	secret, err := r.secret(ctx, r.cfg.WebhookSecretARN)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	intake := kyc.NewIntake(r.store, r.sealer(), r.bus(), r.cfg.policy(), r.options()...)
	webhook := httpapi.NewBillingWebhook(intake, secret, r.store, nil, r.log)
	queue := triggers.NewIntake(intake, r.log).WithReplayGuard(r.store)
	return &Function{HTTP: webhook, Invoke: queueOrHTTP(typed(queue.HandleSQS), proxy(webhook))}, nil
}

func validator(_ context.Context, r *resources) (*Function, error) {
	v := triggers.NewValidator(kyc.NewValidator(r.store, r.files(), r.scanner(), r.cfg.policy(), r.options()...),
		r.cfg.MetricsNamespace, r.host.Metrics, r.host.Clock, r.log)
	return &Function{Invoke: typed(v.HandleSQS)}, nil
}

func sweep(_ context.Context, r *resources) (*Function, error) {
	s := kyc.NewSweeper(r.store, r.files(), r.bus(), r.cfg.policy(), r.options()...)
	t := triggers.NewSweep(s, r.cfg.MetricsNamespace, r.cfg.ReviewSLA, r.host.Metrics, r.log)
	return &Function{Invoke: typed(t.Handle)}, nil
}

func billingAdapter(ctx context.Context, r *resources) (*Function, error) {
	secret, err := r.billingSecret(ctx)
	if err != nil {
		return nil, err
	}
	var dept int // "" → 0: no department, no setup tickets
	if r.cfg.ProvisioningDeptID != "" {
		if dept, err = whmcs.ParseDeptID(r.cfg.ProvisioningDeptID); err != nil {
			return nil, err
		}
	}
	biller, err := billing.NewBiller(r.cfg.BillingMode, r.cfg.BillingURL, secret, billing.WithHolds(billing.HoldsOf(r.store)),
		billing.WithSetupTickets(billing.SetupTickets{DeptID: dept, Email: r.cfg.MailFrom, AdminUsername: r.cfg.WHMCSAdmin}))
	if err != nil {
		return nil, err
	}
	commands := ledger.NewDynamo(r.clients.DynamoDB, r.cfg.Table, contract.PrefixCommand, contract.SKCommand, 0)
	h := billing.NewHandler(billing.NewApplier(commands, biller, r.log), r.log)
	h.Requeue = billing.SQSRequeue{Client: r.clients.SQS, QueueURL: r.cfg.BillingQueueURL}
	return &Function{Invoke: typed(h.Handle)}, nil
}

func notifier(ctx context.Context, r *resources) (*Function, error) {
	renderer, err := notify.NewRenderer(r.cfg.PortalURL)
	if err != nil {
		return nil, err
	}
	mailer, err := notify.NewSES(r.clients.SES, r.cfg.MailFrom, r.cfg.MailReplyTo)
	if err != nil {
		return nil, err
	}
	c := notify.Config{
		Customers:  r.store,
		Sealer:     r.sealer(),
		Mailer:     mailer,
		Renderer:   renderer,
		SentEmail:  ledger.NewDynamo(r.clients.DynamoDB, r.cfg.Table, notify.NoticePrefix, notify.SKEmail, notify.NoticeTTL),
		SentTicket: ledger.NewDynamo(r.clients.DynamoDB, r.cfg.Table, notify.NoticePrefix, notify.SKTicket, notify.NoticeTTL),
		Log:        r.log,
	}
	if r.cfg.TicketMode == TicketsWHMCS {
		secret, err := r.billingSecret(ctx)
		if err != nil {
			return nil, err
		}
		creds, err := secret.WHMCSCredentials()
		if err != nil {
			return nil, err
		}
		client, err := whmcs.New(r.cfg.BillingURL, creds, whmcs.Options{})
		if err != nil {
			return nil, err
		}
		cases := notify.NewDynamoCases(r.clients.DynamoDB, r.cfg.Table)
		if c.Tickets, err = notify.NewWHMCSTickets(client, r.cfg.TicketDeptID, r.cfg.WHMCSAdmin, cases); err != nil {
			return nil, err
		}
	}
	n, err := notify.New(c)
	if err != nil {
		return nil, err
	}
	return &Function{Invoke: typed(notify.NewHandler(n).Handle)}, nil
}

// api is an API function: API Gateway HTTP API (payload 2.0) events served
// by h through aws-lambda-go-api-proxy.
func api(h http.Handler) *Function { return &Function{HTTP: h, Invoke: proxy(h)} }

// proxy serves an http.Handler for API Gateway HTTP API (payload 2.0) events.
func proxy(h http.Handler) Handler {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("not an API Gateway HTTP API event: %w", err)
		}
		if req.RequestContext.HTTP.Method == "" {
			return nil, errors.New("not an API Gateway HTTP API (payload 2.0) event")
		}
		return adapter.ProxyWithContext(ctx, req)
	}
}

// typed adapts a handler of one event type to a raw Handler. Unknown fields
// are allowed (AWS adds fields to its events), but the event must decode.
func typed[E any, R any](h func(context.Context, E) (R, error)) Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var e E
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decode %T: %w", e, err)
		}
		return h(ctx, e)
	}
}

// queueOrHTTP is the entry point of a function the stack invokes with two
// shapes: its queue's SQS batches ("Records") and the HTTP API's requests
// ("requestContext"). Anything else is refused.
func queueOrHTTP(queue, http Handler) Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Records        json.RawMessage `json:"Records"`
			RequestContext json.RawMessage `json:"requestContext"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("not an event: %w", err)
		}
		switch {
		case probe.Records != nil && probe.RequestContext == nil:
			return queue(ctx, raw)
		case probe.RequestContext != nil && probe.Records == nil:
			return http(ctx, raw)
		}
		return nil, errors.New("neither an SQS batch nor an HTTP API request")
	}
}
