package wiring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/s3docs"
	"github.com/kycgate/kycgate/shared/web"
)

// Clients are the SDK clients, built once per process from one configuration.
type Clients struct {
	DynamoDB    *dynamodb.Client
	S3          *s3.Client
	KMS         *kms.Client
	EventBridge *eventbridge.Client
	Secrets     *secretsmanager.Client
	SES         *sesv2.Client
	SQS         *sqs.Client
}

// NewClients builds every client from cfg. Building a client does no I/O.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB:    dynamodb.NewFromConfig(cfg),
		S3:          awsenv.S3(cfg),
		KMS:         kms.NewFromConfig(cfg),
		EventBridge: eventbridge.NewFromConfig(cfg),
		Secrets:     secretsmanager.NewFromConfig(cfg),
		SES:         sesv2.NewFromConfig(cfg),
		SQS:         sqs.NewFromConfig(cfg),
	}
}

// Host is what differs between Lambda, the dev server and the tests.
type Host struct {
	// Clock is the policy's "now" (time.Now when nil): the time a decision
	// commits, an order is received, a document is created, and the windows
	// of the per-customer limits. The dev server's is a clock a person can
	// move forward. Token and signature checks always use real time.
	Clock func() time.Time
	// NewID makes new record ids (128 random bits when nil; tests make them
	// deterministic).
	NewID func() string
	Log   *slog.Logger
	// Auth authenticates API callers: API Gateway's verified claims in
	// Lambda, a JWT verifier locally. Required by the API functions.
	Auth httpapi.Authenticator
	// Metrics receives the sweep's embedded-metric lines (standard output in
	// Lambda).
	Metrics io.Writer
	// Rates are the per-customer limits, by kyc.Action (httpapi.DefaultRates
	// when nil); they count with Clock.
	Rates map[string]httpapi.Rate
	// Scanner is the validator's malware scanner: GuardDuty Malware
	// Protection for S3 when nil (it scans every upload by itself and its
	// results come on the validator's queue). Where GuardDuty cannot run,
	// the dev server gives a stand-in (guarddutytest) that answers the same
	// way.
	Scanner kyc.Scanner
}

// Main is the whole of a Lambda's main: JSON logs with the request id, the
// SDK configuration and clients built once per cold start, the function
// built from its environment, then the runtime loop. A function that cannot
// start logs why and exits; handlers return their errors to the runtime.
func Main(d Definition) {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	fn, err := d.Build(ctx, os.Getenv, NewClients(cfg), Host{Log: log, Auth: httpapi.APIGatewayJWT{}, Metrics: os.Stdout})
	if err != nil {
		log.Error("function not configured", "err", err)
		os.Exit(1)
	}
	lambda.Start(fn.Invoke)
}

// resources builds the ports a function's configuration gives it.
type resources struct {
	cfg     Config
	clients Clients
	host    Host
	log     *slog.Logger
	store   *dynamostore.Store
}

func newResources(cfg Config, c Clients, h Host) *resources {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	return &resources{cfg: cfg, clients: c, host: h, log: log, store: dynamostore.New(c.DynamoDB, cfg.Table)}
}

// options are the policy engine's options from the host.
func (r *resources) options() []kyc.Option {
	opts := []kyc.Option{kyc.WithLogger(r.log)}
	if r.host.Clock != nil {
		opts = append(opts, kyc.WithClock(r.host.Clock))
	}
	if r.host.NewID != nil {
		opts = append(opts, kyc.WithIDs(r.host.NewID))
	}
	return opts
}

func (r *resources) files() kyc.Files { return s3docs.New(r.clients.S3, r.cfg.Bucket, r.cfg.KeyID) }

// sealer seals with the customer's data key; fingerprints need the HMAC key,
// which only the functions that record document numbers have.
func (r *resources) sealer() kyc.Sealer {
	return kmsseal.New(r.clients.KMS, kmsseal.NewDynamoKeys(r.clients.DynamoDB, r.cfg.Table), r.cfg.KeyID, r.cfg.MacKeyID)
}

func (r *resources) bus() kyc.Publisher { return eventbus.New(r.clients.EventBridge, r.cfg.EventBus) }

// scanner is the host's malware scanner, GuardDuty's by default.
func (r *resources) scanner() kyc.Scanner {
	if r.host.Scanner != nil {
		return r.host.Scanner
	}
	return guardduty.Scanner{}
}

func (r *resources) auth() httpapi.Authenticator {
	if r.host.Auth == nil {
		panic("wiring: an API function needs Host.Auth")
	}
	return r.host.Auth
}

// secret reads a Secrets Manager secret's string, once, at cold start. Errors
// never carry the value.
func (r *resources) secret(ctx context.Context, arn string) ([]byte, error) {
	out, err := r.clients.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	if out.SecretString == nil {
		return nil, errors.New("read secret: it has no string value")
	}
	return []byte(*out.SecretString), nil
}

// pages is the pages' configuration: the public origin and the cookie keys
// from the session secret (read once, at cold start).
func (r *resources) pages(ctx context.Context) (web.Config, error) {
	secret, err := r.secret(ctx, r.cfg.SessionSecretARN)
	if err != nil {
		return web.Config{}, fmt.Errorf("session secret: %w", err)
	}
	keys, err := web.NewKeys(secret)
	if err != nil {
		return web.Config{}, fmt.Errorf("session secret: %w", err)
	}
	return web.Config{PublicURL: r.cfg.PublicURL, Keys: keys, Log: r.log}, nil
}

// filesOrigin is the origin of the documents bucket's presigned URLs (the
// pages' CSP allows it): presigning is computed locally, without a call.
func (r *resources) filesOrigin(ctx context.Context) string {
	d := kyc.Document{Key: kyc.DocumentKey("origin", "probe"), ContentType: kyc.JPEG, CustomerID: "origin", ID: "probe", DeclaredSize: 1}
	up, err := r.files().PresignUpload(ctx, d, 1, time.Minute)
	if err != nil {
		r.log.Warn("documents origin unknown: the pages' CSP will refuse uploads", "err", err)
		return ""
	}
	u, err := url.Parse(up.URL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// billingSecret reads and parses the billing secret.
func (r *resources) billingSecret(ctx context.Context) (billing.Secret, error) {
	b, err := r.secret(ctx, r.cfg.BillingSecretARN)
	if err != nil {
		return billing.Secret{}, fmt.Errorf("billing secret: %w", err)
	}
	return billing.ParseSecret(b)
}
