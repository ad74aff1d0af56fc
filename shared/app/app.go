// Package app builds each function's handler from its environment and SDK
// clients. The Lambda mains, the local dev server and `make invoke` all call
// these constructors, so every way of running a function runs the same code
// with the same wiring.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kycgate/kycgate/shared/awsenv"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kmsseal"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/s3docs"
)

// Env looks up an environment variable (os.Getenv in Lambda; the local
// stack's resolved environment of the function in `make dev`).
type Env func(string) string

// require returns the values of required variables, or one error naming every
// missing one.
func (e Env) require(names ...string) (map[string]string, error) {
	out := map[string]string{}
	var missing []string
	for _, n := range names {
		if v := e(n); v != "" {
			out[n] = v
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %v", missing)
	}
	return out, nil
}

// Clients are the SDK clients, built once per process from one configuration.
type Clients struct {
	DynamoDB    *dynamodb.Client
	S3          *s3.Client
	KMS         *kms.Client
	EventBridge *eventbridge.Client
	Secrets     *secretsmanager.Client
	SQS         *sqs.Client
	SES         *sesv2.Client
}

// NewClients builds every client from cfg. Building a client does no I/O.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB:    dynamodb.NewFromConfig(cfg),
		S3:          awsenv.S3(cfg),
		KMS:         kms.NewFromConfig(cfg),
		EventBridge: eventbridge.NewFromConfig(cfg),
		Secrets:     secretsmanager.NewFromConfig(cfg),
		SQS:         sqs.NewFromConfig(cfg),
		SES:         sesv2.NewFromConfig(cfg),
	}
}

// Options are what differs between Lambda, the dev server and tests.
type Options struct {
	Now   func() time.Time // the server clock; time.Now when nil
	NewID func() string    // new record ids; 128 random bits when nil (tests make them deterministic)
	Log   *slog.Logger
	Rates map[string]httpapi.Rate // per-customer limits; httpapi.DefaultRates when nil
}

func (o Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.Default()
	}
	return o.Log
}

// ports are the policy engine's ports a function has variables for; the
// others stay nil.
type ports struct {
	store  *dynamostore.Store
	files  kyc.Files
	sealer kyc.Sealer
	bus    kyc.Publisher
	cfg    kyc.Config
	opts   []kyc.Option
}

// service builds the policy engine's ports from the variables a function has.
func service(env Env, c Clients, o Options) (ports, error) {
	v, err := env.require(contract.EnvTable)
	if err != nil {
		return ports{}, err
	}
	p := ports{store: dynamostore.New(c.DynamoDB, v[contract.EnvTable])}
	p.opts = []kyc.Option{kyc.WithLogger(o.log())}
	if o.Now != nil {
		p.opts = append(p.opts, kyc.WithClock(o.Now))
	}
	if o.NewID != nil {
		p.opts = append(p.opts, kyc.WithIDs(o.NewID))
	}
	cfg := kyc.Config{Products: kyc.ParseProducts(env(contract.EnvKYCProducts)), KMSKeyID: env(contract.EnvKeyID)}
	if s := env(contract.EnvMaxUploadBytes); s != "" {
		if cfg.MaxUploadBytes, err = strconv.ParseInt(s, 10, 64); err != nil || cfg.MaxUploadBytes <= 0 {
			return ports{}, fmt.Errorf("%s: %q is not a byte count", contract.EnvMaxUploadBytes, s)
		}
	}
	if s := env(contract.EnvRetention); s != "" {
		if cfg.Retention, err = kyc.ParseRetention(s); err != nil {
			return ports{}, fmt.Errorf("%s: %w", contract.EnvRetention, err)
		}
	}
	p.cfg = cfg
	if bucket := env(contract.EnvBucket); bucket != "" {
		p.files = s3docs.New(c.S3, bucket, cfg.KMSKeyID)
	}
	if cfg.KMSKeyID != "" {
		p.sealer = kmsseal.New(c.KMS, kmsseal.NewDynamoKeys(c.DynamoDB, v[contract.EnvTable]), cfg.KMSKeyID, env(contract.EnvMacKeyID))
	}
	if bus := env(contract.EnvEventBus); bus != "" {
		p.bus = eventbus.New(c.EventBridge, bus)
	}
	return p, nil
}

// secret reads a Secrets Manager secret's string once, at cold start.
func secret(ctx context.Context, c Clients, arn string) ([]byte, error) {
	out, err := c.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	return []byte(aws.ToString(out.SecretString)), nil
}
