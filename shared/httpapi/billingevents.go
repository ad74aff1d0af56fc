package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// webhookBody bounds the body of the signed billing webhook.
const webhookBody = 64 << 10

// BillingEnvelope is the webhook body of an order's event: the same
// payloads billing publishes on EventBridge, with the event's type and a
// unique id. (A StaffAction's detail is a kyc.StaffActionEvent: the handler
// reads each type's detail by that type's own shape.)
type BillingEnvelope struct {
	Type   kyc.EventType    `json:"type"`
	ID     string           `json:"id"`
	Detail kyc.BillingEvent `json:"detail"`
}

// Intake applies billing events and answers the billing system's reads
// (kyc.Intake).
type Intake interface {
	ApplyBillingEvent(ctx context.Context, t kyc.EventType, e kyc.BillingEvent) (kyc.IntakeResult, error)
	RecordStaffAction(ctx context.Context, a kyc.StaffActionEvent) (kyc.IntakeResult, error)
	BillingView(ctx context.Context, customerID string) (kyc.BillingView, error)
	ReviewQueue(ctx context.Context) (kyc.QueueSummary, error)
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

// NewBillingWebhook returns the handler of billing-intake's routes, for
// billing systems that cannot publish to EventBridge (WHMCS hooks): POST
// /v1/billing/events, and the signed reads GET
// /v1/billing/customers/{id}/kyc and GET /v1/billing/review-queue. A request
// with a bad signature or a timestamp more than 5 minutes off, and an event
// id already seen, is refused and changes nothing. now is the clock of the
// signatures' timestamps (real time; time.Now when nil).
func NewBillingWebhook(intake Intake, secret []byte, replay ReplayGuard, now func() time.Time, log *slog.Logger) http.Handler {
	if now == nil {
		now = time.Now
	}
	h := &webhook{intake: intake, secret: secret, replay: replay, now: now}
	return mount(contract.FunctionBillingIntake, map[string]handler{
		"POST /v1/billing/events":            h.receive,
		"GET /v1/billing/customers/{id}/kyc": h.customerKYC,
		"GET /v1/billing/review-queue":       h.reviewQueue,
	}, nil, log)
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
	var env struct {
		Type   kyc.EventType   `json:"type"`
		ID     string          `json:"id"`
		Detail json.RawMessage `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return malformed("the body is not a billing event: %s", jsonProblem(err))
	}
	if dec.More() {
		return malformed("the body has data after the JSON value")
	}
	apply, err := h.applier(env.Type, env.Detail)
	if err != nil {
		return err
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
	res, err := apply(ctx)
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

// applier decodes an event's detail by its type, strictly (a field the
// type does not have is refused, not ignored: 400), and returns what applies
// it. An unknown type is 422 unknown_event_type.
func (h *webhook) applier(t kyc.EventType, detail json.RawMessage) (func(context.Context) (kyc.IntakeResult, error), error) {
	switch t {
	case kyc.StaffAction:
		var a kyc.StaffActionEvent
		if err := strictDetail(detail, &a); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (kyc.IntakeResult, error) { return h.intake.RecordStaffAction(ctx, a) }, nil
	case kyc.OrderPlaced, kyc.OrderCancelled, kyc.ServiceExpired:
		var e kyc.BillingEvent
		if err := strictDetail(detail, &e); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (kyc.IntakeResult, error) { return h.intake.ApplyBillingEvent(ctx, t, e) }, nil
	}
	return nil, kyc.Invalid("unknown_event_type", "type must be one of %s", eventTypeList(kyc.BillingEvents))
}

// eventTypeList is a list of event types quoted whole in a message (not a
// string, so not shortened).
type eventTypeList []kyc.EventType

func (l eventTypeList) String() string {
	out := make([]string, len(l))
	for i, t := range l {
		out[i] = string(t)
	}
	return strings.Join(out, ", ")
}

// strictDetail decodes an event's detail into v, refusing unknown fields and
// wrong types (400 malformed). A missing detail is an empty one.
func strictDetail(detail json.RawMessage, v any) error {
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("the detail is not of its event type: %s", jsonProblem(err))
	}
	return nil
}

// customerKYC serves GET /v1/billing/customers/{id}/kyc: the customer's
// status, holds and released services (docs/whmcs.md §7.3). A customer the
// gate does not know is unverified with empty lists, not 404.
func (h *webhook) customerKYC(w http.ResponseWriter, r *http.Request) error {
	if !h.signedGet(r) {
		return errBadSignature
	}
	v, err := h.intake.BillingView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// reviewQueue serves GET /v1/billing/review-queue: the number of
// submissions waiting for review and the oldest wait in seconds.
func (h *webhook) reviewQueue(w http.ResponseWriter, r *http.Request) error {
	if !h.signedGet(r) {
		return errBadSignature
	}
	q, err := h.intake.ReviewQueue(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

// signedGet checks a read's signature: over "GET " + the path as the
// request carries it (escaped, without host or query), with the webhook's
// secret and tolerance.
func (h *webhook) signedGet(r *http.Request) bool {
	return webhooksig.VerifyGet(h.secret, r.Header.Get(webhooksig.HeaderTimestamp), r.Header.Get(webhooksig.HeaderSignature),
		r.URL.EscapedPath(), h.now(), webhooksig.Tolerance) == nil
}

// ReplayWindow is how long a webhook event id is remembered: far longer than
// the signature tolerance, so a captured request cannot be replayed.
const ReplayWindow = 24 * time.Hour

// signed checks the timestamp and the HMAC in constant time.
func (h *webhook) signed(r *http.Request, body []byte) bool {
	return webhooksig.Verify(h.secret, r.Header.Get(webhooksig.HeaderTimestamp), r.Header.Get(webhooksig.HeaderSignature),
		body, h.now(), webhooksig.Tolerance) == nil
}
