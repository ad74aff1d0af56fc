package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Validator takes the S3 notifications delivered to the validator queue.
type Validator struct {
	svc *kyc.Validator
	log *slog.Logger
}

// NewValidator returns the validator queue's handler.
func NewValidator(v *kyc.Validator, log *slog.Logger) *Validator {
	return &Validator{svc: v, log: log}
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
		v.log.InfoContext(ctx, "upload validated", "outcome", res.Outcome, "reason", res.Reason)
		out = append(out, res)
	}
	return out, nil
}

// HandleSQS validates the objects of the S3 notifications of an SQS batch
// (S3 delivers its notifications to the validator queue).
func (v *Validator) HandleSQS(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	return eachMessage(ctx, batch, v.log, func(ctx context.Context, body []byte) error {
		var e S3Notification
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("not an S3 event: %w", err)
		}
		_, err := v.validate(ctx, e)
		return err
	}), nil
}
