package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/httpapi"
)

// Handler runs a function once on a raw event and returns its JSON result,
// exactly as the Lambda runtime calls it.
type Handler func(ctx context.Context, event json.RawMessage) (any, error)

// Function is a built function: Invoke is its Lambda entry point; HTTP is
// its http.Handler for API functions (nil otherwise).
type Function struct {
	Invoke Handler
	HTTP   http.Handler
}

// Constructor builds a function from its environment and clients.
type Constructor func(ctx context.Context, env Env, c Clients, o Options, b Bindings) (*Function, error)

// Bindings are what a function is bound to outside AWS's own wiring: how API
// callers are authenticated and where metric lines go.
type Bindings struct {
	Auth    httpapi.Authenticator // API Gateway's verified claims in Lambda; a JWT verifier locally
	Metrics io.Writer             // standard output in Lambda
}

// Main is the whole of a Lambda's main: JSON logs with the request id,
// the SDK configuration and clients built once per cold start, the function
// built from the environment, then the runtime loop. A function that cannot
// start logs why and exits; handlers return their errors to the runtime.
func Main(build Constructor) {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	fn, err := build(ctx, os.Getenv, NewClients(cfg), Options{Log: log}, Bindings{Auth: httpapi.APIGatewayJWT{}, Metrics: os.Stdout})
	if err != nil {
		log.Error("function not configured", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Invoke)
}

// proxy serves an http.Handler for API Gateway HTTP API (payload 2.0) events.
func proxy(h http.Handler) Handler {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("not an API Gateway HTTP API event: %w", err)
		}
		return adapter.ProxyWithContext(ctx, req)
	}
}

// typed adapts a handler of one event type to a raw Handler.
func typed[E any, R any](h func(context.Context, E) (R, error)) Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var e E
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decode %T: %w", e, err)
		}
		return h(ctx, e)
	}
}

// NewCustomerAPI is the customer-api function.
func NewCustomerAPI(_ context.Context, env Env, c Clients, o Options, b Bindings) (*Function, error) {
	h, err := CustomerAPI(env, c, b.Auth, o)
	if err != nil {
		return nil, err
	}
	return &Function{Invoke: proxy(h), HTTP: h}, nil
}

// NewAdminAPI is the admin-api function.
func NewAdminAPI(_ context.Context, env Env, c Clients, o Options, b Bindings) (*Function, error) {
	h, err := AdminAPI(env, c, b.Auth, o)
	if err != nil {
		return nil, err
	}
	return &Function{Invoke: proxy(h), HTTP: h}, nil
}

// NewBillingIntake is the billing-intake function. Its one Lambda receives
// three shapes of event: its SQS queue's batches (billing events from the
// bus), a billing event from EventBridge directly, and the webhook's HTTP
// requests from API Gateway.
func NewBillingIntake(ctx context.Context, env Env, c Clients, o Options, _ Bindings) (*Function, error) {
	in, err := BillingIntake(ctx, env, c, o)
	if err != nil {
		return nil, err
	}
	web, sqs, eb := proxy(in.Webhook), typed(in.HandleSQS), typed(in.HandleEvent)
	return &Function{HTTP: in.Webhook, Invoke: func(ctx context.Context, raw json.RawMessage) (any, error) {
		switch shapeOf(raw) {
		case shapeHTTP:
			return web(ctx, raw)
		case shapeSQS:
			return sqs(ctx, raw)
		default:
			return eb(ctx, raw)
		}
	}}, nil
}

// NewValidatorFunction is the validator function: SQS batches of S3 events,
// or an S3 event directly.
func NewValidatorFunction(_ context.Context, env Env, c Clients, o Options, _ Bindings) (*Function, error) {
	v, err := NewValidator(env, c, o)
	if err != nil {
		return nil, err
	}
	sqs, s3 := typed(v.HandleSQS), typed(v.HandleS3)
	return &Function{Invoke: func(ctx context.Context, raw json.RawMessage) (any, error) {
		if shapeOf(raw) == shapeSQS {
			return sqs(ctx, raw)
		}
		return s3(ctx, raw)
	}}, nil
}

// NewSweep is the sweep function.
func NewSweep(_ context.Context, env Env, c Clients, o Options, b Bindings) (*Function, error) {
	s, err := NewSweeper(env, c, b.Metrics, o)
	if err != nil {
		return nil, err
	}
	return &Function{Invoke: typed(s.Handle)}, nil
}

type shape int

const (
	shapeOther shape = iota
	shapeHTTP
	shapeSQS
)

// shapeOf tells API Gateway requests and SQS batches from other events.
func shapeOf(raw json.RawMessage) shape {
	var probe struct {
		RouteKey       string `json:"routeKey"`
		RequestContext *struct {
			HTTP *struct{} `json:"http"`
		} `json:"requestContext"`
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return shapeOther
	}
	switch {
	case probe.RequestContext != nil && probe.RequestContext.HTTP != nil:
		return shapeHTTP
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs":
		return shapeSQS
	}
	return shapeOther
}
