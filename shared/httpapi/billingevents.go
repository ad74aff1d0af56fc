package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// webhookBody bounds the body of the signed billing webhook.
const webhookBody = 64 << 10

// BillingEnvelope is the webhook body: the same payloads billing publishes
// on EventBridge, with the event's type and a unique id.
type BillingEnvelope struct {
	Type   kyc.EventType    `json:"type"`
	ID     string           `json:"id"`
	Detail kyc.BillingEvent `json:"detail"`
}

// Intake applies billing events.
type Intake interface {
	ApplyBillingEvent(ctx context.Context, t kyc.EventType, e kyc.BillingEvent) (kyc.IntakeResult, error)
}

// ReplayGuard remembers the ids of applied webhook events. Remember fails
// with kyc.ErrStale for an id it already holds.
type ReplayGuard interface {
	Seen(ctx context.Context, id string) (bool, error)
	Remember(ctx context.Context, id string, until time.Time) error
}

type webhook struct {
	intake Intake
	secret []byte
	replay ReplayGuard
	now    func() time.Time
}

// NewBillingWebhook returns the handler of POST /v1/billing/events for
// billing systems that cannot publish to EventBridge (WHMCS hooks). A request
// with a bad signature, a timestamp more than 5 minutes off, or an event id
// already seen is refused and changes nothing.
func NewBillingWebhook(intake Intake, secret []byte, replay ReplayGuard, now func() time.Time, log *slog.Logger) http.Handler {
	if now == nil {
		now = time.Now
	}
	h := &webhook{intake: intake, secret: secret, replay: replay, now: now}
	return mount(contract.FunctionBillingIntake, map[string]handler{"POST /v1/billing/events": h.receive}, nil, log)
}

var errBadSignature = &apiError{http.StatusUnauthorized, "bad_signature", "the request is not signed with the webhook secret, or its timestamp is more than 5 minutes off"}

func (h *webhook) receive(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhookBody))
	if err != nil {
		return &apiError{http.StatusRequestEntityTooLarge, "body_too_large", "the body is over 64 KiB"}
	}
	if !h.signed(r, body) {
		return errBadSignature
	}
	var env BillingEnvelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // in the detail too: a field the gate does not know is refused, not ignored
	if err := dec.Decode(&env); err != nil {
		return malformed("the body is not a billing event: %s", jsonProblem(err))
	}
	if dec.More() {
		return malformed("the body has data after the JSON value")
	}
	if !kyc.ValidID(env.ID) {
		return kyc.Invalid("invalid_id", "id must be 1-128 letters, digits or . _ : -")
	}
	// A replayed id is refused before anything happens. The id is recorded
	// only once the event is applied, so a refused or failed request leaves
	// nothing behind and its sender may retry it; two copies racing both
	// reach the intake, which applies an order once.
	ctx := r.Context()
	replayed := kyc.Conflict("replayed", "event %s was already received", env.ID)
	if seen, err := h.replay.Seen(ctx, env.ID); err != nil {
		return err
	} else if seen {
		return replayed
	}
	res, err := h.intake.ApplyBillingEvent(ctx, env.Type, env.Detail)
	if err != nil {
		return err
	}
	if err := h.replay.Remember(ctx, env.ID, h.now().Add(ReplayWindow)); err != nil {
		if errors.Is(err, kyc.ErrStale) {
			return replayed
		}
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// ReplayWindow is how long a webhook event id is remembered: far longer than
// the signature tolerance, so a captured request cannot be replayed.
const ReplayWindow = 24 * time.Hour

// signed checks the timestamp and the HMAC in constant time.
func (h *webhook) signed(r *http.Request, body []byte) bool {
	return webhooksig.Verify(h.secret, r.Header.Get(webhooksig.HeaderTimestamp), r.Header.Get(webhooksig.HeaderSignature),
		body, h.now(), webhooksig.Tolerance) == nil
}
