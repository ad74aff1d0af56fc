package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Validator takes what the validator queue delivers: S3's notifications of
// new uploads, and the malware scan's results (GuardDuty's events, routed
// there by the stack's rule on the default bus).
type Validator struct {
	svc       *kyc.Validator
	namespace string
	metrics   io.Writer
	clock     func() time.Time
	log       *slog.Logger
}

// NewValidator returns the validator queue's handler. Uploads refused for
// malware, and uploads that could not be scanned, are counted in CloudWatch
// embedded metric format lines written to metrics (the function's standard
// output in Lambda) under namespace: the stack alarms on them.
func NewValidator(v *kyc.Validator, namespace string, metrics io.Writer, clock func() time.Time, log *slog.Logger) *Validator {
	if clock == nil {
		clock = time.Now
	}
	return &Validator{svc: v, namespace: namespace, metrics: metrics, clock: clock, log: log}
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

// validate validates every object of an S3 notification.
func (v *Validator) validate(ctx context.Context, e S3Notification) ([]kyc.ValidationResult, error) {
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
		v.done(ctx, "upload validated", res)
		out = append(out, res)
	}
	return out, nil
}

// scanned applies a malware scan's result event.
func (v *Validator) scanned(ctx context.Context, e events.EventBridgeEvent) (kyc.ValidationResult, error) {
	if e.DetailType != contract.ScanResultDetailType {
		return kyc.ValidationResult{}, kyc.Invalid("unknown_detail_type", "the validator takes %q events of %s only", contract.ScanResultDetailType, contract.ScanResultSource)
	}
	r, err := guardduty.Result(e.Detail, e.Time)
	if err != nil {
		return kyc.ValidationResult{}, err
	}
	res, err := v.svc.ApplyScanResult(ctx, r)
	if err != nil {
		return res, fmt.Errorf("apply scan result: %w", err)
	}
	v.done(ctx, "scan result applied", res)
	return res, nil
}

// done logs what the validator did (ids and codes only) and counts the
// malware found and the scans that failed.
func (v *Validator) done(ctx context.Context, msg string, res kyc.ValidationResult) {
	v.log.InfoContext(ctx, msg, "outcome", res.Outcome, "reason", res.Reason)
	switch {
	case res.Reason == kyc.InvalidMalware && res.Outcome != "ignored":
		v.emit(contract.MetricMalwareFound)
	case res.Reason == kyc.InvalidScanFailed:
		v.emit(contract.MetricMalwareScanFailed)
	}
}

// emit writes a count of one of metric in CloudWatch embedded metric format.
func (v *Validator) emit(metric string) {
	if v.metrics == nil {
		return
	}
	b, _ := json.Marshal(map[string]any{
		"_aws": map[string]any{
			"Timestamp": v.clock().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  v.namespace,
				"Dimensions": [][]string{{}},
				"Metrics":    []any{map[string]string{"Name": metric, "Unit": "Count"}},
			}},
		},
		metric: 1,
	})
	fmt.Fprintln(v.metrics, string(b))
}

// HandleSQS applies the messages of an SQS batch of the validator's queue:
// S3 notifications of uploads, and malware scan results (EventBridge events
// of source aws.guardduty). A message that fails, or that is neither, is
// reported back, so SQS delivers it again and finally parks it in the
// alarmed dead-letter queue.
func (v *Validator) HandleSQS(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	return eachMessage(ctx, batch, v.log, func(ctx context.Context, body []byte) error {
		var probe struct {
			Source  *string         `json:"source"`
			Records json.RawMessage `json:"Records"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return fmt.Errorf("not an S3 event or a scan result: %w", err)
		}
		if probe.Source != nil {
			var e events.EventBridgeEvent
			if err := json.Unmarshal(body, &e); err != nil {
				return fmt.Errorf("not an EventBridge event: %w", err)
			}
			if e.Source != contract.ScanResultSource {
				return kyc.Invalid("unknown_source", "the validator takes events of source %q only", contract.ScanResultSource)
			}
			_, err := v.scanned(ctx, e)
			return err
		}
		var e S3Notification
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("not an S3 event: %w", err)
		}
		_, err := v.validate(ctx, e)
		return err
	}), nil
}
