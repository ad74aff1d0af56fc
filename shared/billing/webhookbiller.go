package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/webhooksig"
)

// HeaderEventID carries a command's eventId (also in the body). The
// signature headers and scheme are webhooksig's.
const HeaderEventID = "X-KYC-Event-Id"

// WebhookCommand is the JSON body of a webhook request. A
// ServiceDueDateExtended carries the extension (extension.days, whole days)
// and the due date the gate knew (previousDueDate, billing's at the order):
// the receiver adds the days to the due date it holds when it applies the
// command, once per eventId (a renewal since the order has moved that date).
type WebhookCommand struct {
	EventID         string         `json:"eventId"`
	Type            kyc.EventType  `json:"type"`
	OrderID         string         `json:"orderId,omitempty"`
	ServiceID       string         `json:"serviceId"`
	CustomerID      string         `json:"customerId,omitempty"`
	Reason          string         `json:"reason,omitempty"`
	PreviousDueDate *kyc.Date      `json:"previousDueDate,omitempty"`
	Extension       *kyc.Extension `json:"extension,omitempty"`
	Rendered        bool           `json:"rendered"`
	At              time.Time      `json:"at"`
}

// WebhookOptions tune a Webhook. Zero values take the defaults.
type WebhookOptions struct {
	HTTPClient *http.Client
	Timeout    time.Duration // one request (default 10 s)
	Attempts   int           // tries in all for a transient failure (default 3)
	Backoff    time.Duration // before the first retry, doubled after (default 500 ms)
	Now        func() time.Time
}

// Webhook applies commands by POSTing them, signed, to the billing system's
// endpoint. A 2xx reply means applied; 429, 5xx, timeouts and network errors
// are retried (a few times here, then by the queue); other 4xx are permanent.
// Since a retry may repeat a request the receiver did process, receivers
// must apply each X-KYC-Event-Id once.
type Webhook struct {
	url  string
	key  []byte
	http *http.Client
	opt  WebhookOptions
}

var _ Biller = (*Webhook)(nil)

// NewWebhook returns a Biller POSTing to endpoint, signing with key.
func NewWebhook(endpoint string, key []byte, o WebhookOptions) (*Webhook, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("webhook: URL %q must be an absolute http(s) URL", endpoint)
	}
	if len(key) < 16 {
		return nil, errors.New("webhook: the HMAC key must be at least 16 bytes")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Webhook{url: endpoint, key: bytes.Clone(key), http: o.HTTPClient, opt: o}, nil
}

// WebhookError is a failed webhook delivery.
type WebhookError struct {
	Status int // HTTP status, 0 if no reply
	Err    error
}

func (e *WebhookError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("webhook: HTTP %d", e.Status)
	}
	return "webhook: " + e.Err.Error()
}

func (e *WebhookError) Unwrap() error { return e.Err }

// Transient: no reply, 408, 429 or 5xx.
func (e *WebhookError) Transient() bool {
	return e.Status == 0 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Uncertain: the receiver may have processed the request.
func (e *WebhookError) Uncertain() bool { return e.Transient() }

// KindName implements the kind word of Classify.
func (e *WebhookError) KindName() string {
	if e.Transient() {
		return "webhook_transient"
	}
	return "webhook_rejected"
}

// Apply implements Biller.
func (w *Webhook) Apply(ctx context.Context, cmd Command) (string, error) {
	body, err := json.Marshal(WebhookCommand{
		EventID: cmd.ID, Type: cmd.Type, OrderID: cmd.OrderID, ServiceID: cmd.ServiceID, CustomerID: cmd.CustomerID,
		Reason: cmd.Reason, PreviousDueDate: cmd.PreviousDueDate, Extension: cmd.Extension,
		Rendered: cmd.Rendered, At: cmd.At.UTC(),
	})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	wait := w.opt.Backoff
	for attempt := 1; ; attempt++ {
		err := w.post(ctx, cmd.ID, body)
		if err == nil {
			return OutcomeApplied, nil
		}
		var we *WebhookError
		if !errors.As(err, &we) || !we.Transient() || attempt >= w.opt.Attempts {
			return "", err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+w.opt.Timeout/2 {
			return "", err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", err
		case <-t.C:
		}
		wait *= 2
	}
}

func (w *Webhook) post(ctx context.Context, eventID string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return &WebhookError{Err: err}
	}
	ts := w.opt.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kycgate-billing-adapter")
	req.Header.Set(webhooksig.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(w.key, ts, body))
	req.Header.Set(HeaderEventID, eventID)
	resp, err := w.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a token in its query; keep it out of logs
		}
		var op *net.OpError
		if errors.As(err, &op) {
			err = op
		}
		return &WebhookError{Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &WebhookError{Status: resp.StatusCode}
	}
	return nil
}
