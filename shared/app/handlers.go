package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
)

// CustomerAPI builds the customer-api function's HTTP handler.
func CustomerAPI(env Env, c Clients, auth httpapi.Authenticator, o Options) (http.Handler, error) {
	if _, err := env.require(contract.EnvBucket, contract.EnvKeyID, contract.EnvEventBus); err != nil {
		return nil, err
	}
	p, err := service(env, c, o)
	if err != nil {
		return nil, err
	}
	svc := kyc.NewService(p.store, p.files, p.sealer, p.bus, p.cfg, p.opts...)
	return httpapi.NewCustomerAPI(svc, auth, httpapi.NewLimiter(p.store, o.Rates, o.Now), o.log()), nil
}

// AdminAPI builds the admin-api function's HTTP handler.
func AdminAPI(env Env, c Clients, auth httpapi.Authenticator, o Options) (http.Handler, error) {
	if _, err := env.require(contract.EnvBucket, contract.EnvKeyID, contract.EnvMacKeyID, contract.EnvEventBus); err != nil {
		return nil, err
	}
	p, err := service(env, c, o)
	if err != nil {
		return nil, err
	}
	return httpapi.NewAdminAPI(kyc.NewService(p.store, p.files, p.sealer, p.bus, p.cfg, p.opts...), auth, o.log()), nil
}

// Intake is the billing-intake function: billing events from the bus (through
// its SQS queue) and the signed webhook.
type Intake struct {
	svc     *kyc.Intake
	Webhook http.Handler
	log     *slog.Logger
}

// BillingIntake builds the billing-intake function. It reads the webhook
// secret once, here.
func BillingIntake(ctx context.Context, env Env, c Clients, o Options) (*Intake, error) {
	v, err := env.require(contract.EnvEventBus, contract.EnvKeyID, contract.EnvWebhookSecretARN)
	if err != nil {
		return nil, err
	}
	p, err := service(env, c, o)
	if err != nil {
		return nil, err
	}
	svc, store := kyc.NewIntake(p.store, p.sealer, p.bus, p.cfg, p.opts...), p.store
	key, err := secret(ctx, c, v[contract.EnvWebhookSecretARN])
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	return &Intake{svc: svc, log: o.log(), Webhook: httpapi.NewBillingWebhook(svc, key, store, o.Now, o.log())}, nil
}

// HandleEvent applies one billing event delivered by EventBridge.
func (in *Intake) HandleEvent(ctx context.Context, e events.EventBridgeEvent) (kyc.IntakeResult, error) {
	if e.Source != contract.SourceBilling {
		return kyc.IntakeResult{}, kyc.Invalid("unknown_source", "source must be %q", contract.SourceBilling)
	}
	var detail kyc.BillingEvent
	if err := json.Unmarshal(e.Detail, &detail); err != nil {
		return kyc.IntakeResult{}, kyc.Invalid("malformed_detail", "detail is not a billing event")
	}
	res, err := in.svc.ApplyBillingEvent(ctx, kyc.EventType(e.DetailType), detail)
	in.log.InfoContext(ctx, "billing event", "type", e.DetailType, "order", res.OrderID, "state", res.State,
		"duplicate", res.Duplicate, "error", kyc.CodeOf(err))
	return res, err
}

// HandleSQS applies the billing events of an SQS batch. A message that fails
// is reported back, so SQS retries it and, after its last receive, moves it to
// the dead-letter queue, where an alarm calls a human.
func (in *Intake) HandleSQS(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	return eachMessage(ctx, batch, in.log, func(ctx context.Context, body []byte) error {
		var e events.EventBridgeEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("not an EventBridge event: %w", err)
		}
		_, err := in.HandleEvent(ctx, e)
		return err
	})
}

// eachMessage runs fn on every message of a batch and reports the failures.
func eachMessage(ctx context.Context, batch events.SQSEvent, log *slog.Logger, fn func(context.Context, []byte) error) (events.SQSEventResponse, error) {
	var res events.SQSEventResponse
	for _, m := range batch.Records {
		if err := fn(ctx, []byte(m.Body)); err != nil {
			log.WarnContext(ctx, "message failed; SQS will retry it", "messageId", m.MessageId, "err", err)
			res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return res, nil
}

// Validator is the validator function: S3 ObjectCreated events (through its
// SQS queue).
type Validator struct {
	svc *kyc.Validator
	log *slog.Logger
}

// NewValidator builds the validator function.
func NewValidator(env Env, c Clients, o Options) (*Validator, error) {
	if _, err := env.require(contract.EnvBucket, contract.EnvKeyID); err != nil {
		return nil, err
	}
	p, err := service(env, c, o)
	if err != nil {
		return nil, err
	}
	return &Validator{svc: kyc.NewValidator(p.store, p.files, p.cfg, p.opts...), log: o.log()}, nil
}

// S3Notification is the part of an S3 event notification the validator
// reads. It is decoded tolerantly (no timestamps), and S3's test event, which
// has no records, validates nothing.
type S3Notification struct {
	Records []S3Record `json:"Records"`
}

// S3Record is one object event of a notification.
type S3Record struct {
	EventName string   `json:"eventName"`
	S3        S3Entity `json:"s3"`
}

// S3Entity names the bucket and the object version of an S3Record.
type S3Entity struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		VersionID string `json:"versionId"`
	} `json:"object"`
}

// HandleS3 validates every object of an S3 event.
func (v *Validator) HandleS3(ctx context.Context, e S3Notification) ([]kyc.ValidationResult, error) {
	out := []kyc.ValidationResult{}
	for _, r := range e.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key) // keys in S3 events are URL-encoded
		if err != nil {
			return out, fmt.Errorf("object key: %w", err)
		}
		res, err := v.svc.ValidateUpload(ctx, key, r.S3.Object.VersionID)
		if err != nil {
			return out, fmt.Errorf("validate object: %w", err)
		}
		v.log.InfoContext(ctx, "upload validated", "outcome", res.Outcome, "reason", res.Reason)
		out = append(out, res)
	}
	return out, nil
}

// HandleSQS validates the S3 events of an SQS batch.
func (v *Validator) HandleSQS(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	return eachMessage(ctx, batch, v.log, func(ctx context.Context, body []byte) error {
		var e S3Notification
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("not an S3 event: %w", err)
		}
		_, err := v.HandleS3(ctx, e)
		return err
	})
}

// Sweeper is the sweep function.
type Sweeper struct {
	svc       *kyc.Sweeper
	namespace string
	sla       time.Duration
	metrics   io.Writer
	log       *slog.Logger
}

// NewSweeper builds the sweep function; metrics (CloudWatch embedded metric
// format lines) go to w, the function's standard output in Lambda.
func NewSweeper(env Env, c Clients, w io.Writer, o Options) (*Sweeper, error) {
	if _, err := env.require(contract.EnvEventBus); err != nil {
		return nil, err
	}
	p, err := service(env, c, o)
	if err != nil {
		return nil, err
	}
	s := &Sweeper{svc: kyc.NewSweeper(p.store, p.files, p.bus, p.cfg, p.opts...), namespace: env(contract.EnvMetricsNamespace), metrics: w, log: o.log(), sla: 24 * time.Hour}
	if s.namespace == "" {
		s.namespace = "KycGate"
	}
	if v := env(contract.EnvReviewSLA); v != "" {
		if s.sla, err = time.ParseDuration(v); err != nil {
			return nil, fmt.Errorf("%s: %w", contract.EnvReviewSLA, err)
		}
	}
	return s, nil
}

// Handle runs one sweep. "Now" is the scheduled event's time, never the clock.
func (s *Sweeper) Handle(ctx context.Context, e events.EventBridgeEvent) (kyc.SweepReport, error) {
	if e.Time.IsZero() {
		return kyc.SweepReport{}, kyc.Invalid("missing_time", "the scheduled event has no time")
	}
	rep, err := s.svc.Sweep(ctx, e.Time)
	s.emit(rep)
	s.log.InfoContext(ctx, "sweep", "now", rep.Now, "due", rep.CustomersDue, "changed", rep.Changed,
		"suspended", rep.Suspended, "awaitingReview", rep.AwaitingReview, "failed", rep.Failed,
		"oldestPendingReview", rep.OldestPendingReview.String(), "overSLA", rep.OldestPendingReview > s.sla)
	return rep, err
}

// emit writes the sweep's metrics in CloudWatch embedded metric format: a log
// line CloudWatch turns into metrics, so the sweep makes no metrics API call.
func (s *Sweeper) emit(rep kyc.SweepReport) {
	if s.metrics == nil {
		return
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": rep.Now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  s.namespace,
				"Dimensions": [][]string{{}},
				"Metrics": []any{
					map[string]string{"Name": contract.MetricOldestPendingReview, "Unit": "Seconds"},
					map[string]string{"Name": "HoldsSuspended", "Unit": "Count"},
					map[string]string{"Name": "SweepFailures", "Unit": "Count"},
				},
			}},
		},
		contract.MetricOldestPendingReview: int64(rep.OldestPendingReview / time.Second),
		"HoldsSuspended":                   rep.Suspended,
		"SweepFailures":                    rep.Failed,
	}
	b, _ := json.Marshal(line)
	fmt.Fprintln(s.metrics, string(b))
}
