// Package notify turns the gate's customer events (KycRequested, KycRejected,
// KycVerified, KycExpiring, KycExpired) into customer notices: an e-mail
// through SES v2 in the customer's language (English or Traditional
// Chinese, or both when the language is unknown), and optionally a ticket in
// WHMCS: one ticket per KYC case (WHMCSTickets).
//
// A notice carries no image, no document number and no link but the customer
// portal's, where the customer must log in. The recipient is the customer's
// contact address, stored sealed on the customer record and opened only to
// send; a KycRejected event carries the reviewer's message sealed the same
// way, and it too is opened only to send. Logs carry ids and outcomes, never
// addresses or texts.
//
// Each notice is sent once per event id as far as a record of sent notices
// (a ledger.Ledger under NOTIFY#<eventId>) allows: a redelivered event is
// skipped, and a send that failed is retried. If that record cannot be read
// or written, the notice is sent anyway (a duplicate e-mail is better than a
// missing KYC request).
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/eventbus"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
)

// CustomerReader reads a customer's record (kyc.ErrNotExist if there is none).
type CustomerReader interface {
	Customer(ctx context.Context, id string) (kyc.Customer, error)
}

// Mailer sends a rendered notice to one address and returns the provider's
// message id.
type Mailer interface {
	Send(ctx context.Context, to string, m Message) (string, error)
}

// Tickets keeps the customer's KYC case ticket in the billing system: it
// adds a notice to it (opening, replying, closing, as the notice's type
// asks) and returns an outcome word for the notice ledger.
type Tickets interface {
	Notice(ctx context.Context, t Ticket) (string, error)
}

// Ticket is a notice for the customer's case ticket.
type Ticket struct {
	EventID    string
	Type       kyc.EventType
	CustomerID string
	ServiceID  string // "" if the notice is not about one service
	Subject    string // the notice's subject
	Message    string // plain text
	// NotifyCustomer asks the billing system to e-mail the customer about the
	// ticket: set when no e-mail was sent by the gate.
	NotifyCustomer bool
	// Resumed says an earlier attempt at this notice may have reached the
	// billing system (its outcome was unknown).
	Resumed bool
}

// ErrNoTicket is returned by a Tickets that has nothing to do for this
// notice: the customer is not one of the billing system's, or the notice
// (a reminder, a verification) belongs to no open case. The notice goes on.
var ErrNoTicket = errors.New("no ticket for this customer")

// TicketTypes are the notices that go to the customer's case ticket: the
// requests and rejections that open or continue a case, the expiry reminder
// while a case is open, and the verification that closes it.
var TicketTypes = []kyc.EventType{kyc.KycRequested, kyc.KycRejected, kyc.KycExpiring, kyc.KycVerified}

// Ledger key layout of sent notices.
const (
	NoticePrefix = contract.PrefixNotice // pk NOTIFY#<eventId>
	SKEmail      = "email"
	SKTicket     = "ticket"
	// NoticeTTL is how long a sent-notice record is kept: far longer than any
	// redelivery (SQS keeps a message 4 days; the sweep re-publishes an
	// outbox within minutes).
	NoticeTTL = 30 * 24 * time.Hour
)

// Config is what a Notifier is built from.
type Config struct {
	Customers CustomerReader
	Sealer    kyc.Sealer
	Mailer    Mailer
	Renderer  *Renderer
	// Tickets, if set, opens tickets for TicketTypes.
	Tickets Tickets
	// SentEmail and SentTicket record sent notices (nil: none, at least once).
	SentEmail, SentTicket ledger.Ledger
	Log                   *slog.Logger
}

// Notifier sends the notice of a customer event.
type Notifier struct {
	c Config
}

// New returns a notifier.
func New(c Config) (*Notifier, error) {
	if c.Customers == nil || c.Sealer == nil || c.Mailer == nil || c.Renderer == nil {
		return nil, errors.New("notify: customers, sealer, mailer and renderer are required")
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &Notifier{c: c}, nil
}

// Notify sends the notice of e. Events that are not customer notices, and
// customers the gate has no record or no contact address of, are skipped
// (logged, no error). An error means the notice (or its ticket) must be
// retried.
func (n *Notifier) Notify(ctx context.Context, e kyc.Event) error {
	log := n.c.Log.With("eventId", e.ID, "type", e.Type, "customerId", e.CustomerID)
	if !slices.Contains(kyc.CustomerNotices, e.Type) {
		log.WarnContext(ctx, "not a customer notice: ignored")
		return nil
	}
	if e.ID == "" || e.CustomerID == "" {
		return fmt.Errorf("notify: event without eventId or customerId")
	}
	cust, err := n.c.Customers.Customer(ctx, e.CustomerID)
	if errors.Is(err, kyc.ErrNotExist) {
		log.WarnContext(ctx, "no customer record: notice skipped")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read customer: %w", err)
	}
	if e.SealedMessage != nil {
		// The reviewer's message travels sealed with the customer's key,
		// as it is stored: opened here, only to send it.
		msg, err := n.c.Sealer.Open(ctx, e.CustomerID, *e.SealedMessage)
		switch {
		case errors.Is(err, kyc.ErrShredded):
			log.InfoContext(ctx, "the customer's data key is deleted: the notice goes without the reviewer's message")
		case err != nil:
			return fmt.Errorf("open message: %w", err)
		default:
			e.CustomerMessage = string(msg)
		}
	}
	lang := e.Language
	if lang == "" {
		lang = cust.Language
	}
	langs := LanguagesFor(lang)
	msg, err := n.c.Renderer.Render(e, langs)
	if err != nil {
		return err
	}

	emailed := false
	if cust.Contact == nil {
		log.InfoContext(ctx, "customer has no contact address: no e-mail")
	} else {
		sent, err := n.once(ctx, log, n.c.SentEmail, e.ID, func(ctx context.Context, _ bool) (string, error) {
			return n.email(ctx, log, e, cust, msg)
		})
		if err != nil {
			return err
		}
		emailed = sent
	}

	if n.c.Tickets != nil && slices.Contains(TicketTypes, e.Type) {
		_, err := n.once(ctx, log, n.c.SentTicket, e.ID, func(ctx context.Context, resumed bool) (string, error) {
			out, err := n.c.Tickets.Notice(ctx, Ticket{EventID: e.ID, Type: e.Type, CustomerID: e.CustomerID, ServiceID: e.ServiceID,
				Subject: msg.Subject, Message: msg.Text, NotifyCustomer: !emailed, Resumed: resumed})
			if errors.Is(err, ErrNoTicket) {
				log.InfoContext(ctx, "no ticket for this customer or notice")
				return "none", nil
			}
			if err != nil {
				return "", err
			}
			log.InfoContext(ctx, "case ticket", "outcome", out)
			return out, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// email opens the contact address and sends. An address that does not parse
// is skipped: no retry can fix it.
func (n *Notifier) email(ctx context.Context, log *slog.Logger, e kyc.Event, cust kyc.Customer, msg Message) (string, error) {
	raw, err := n.c.Sealer.Open(ctx, cust.ID, *cust.Contact)
	if err != nil {
		return "", fmt.Errorf("open contact: %w", err)
	}
	addr, err := mail.ParseAddress(string(raw))
	if err != nil {
		log.WarnContext(ctx, "contact address does not parse: no e-mail")
		return "invalid_address", nil
	}
	id, err := n.c.Mailer.Send(ctx, addr.Address, msg)
	if err != nil {
		return "", fmt.Errorf("send e-mail: %w", err)
	}
	log.InfoContext(ctx, "e-mail sent", "messageId", id, "languages", LanguagesFor(e.Language))
	return "sent", nil
}

// once runs send unless the ledger shows it done for this event. It reports
// whether the notice has gone out (now or before).
func (n *Notifier) once(ctx context.Context, log *slog.Logger, l ledger.Ledger, eventID string, send func(ctx context.Context, resumed bool) (string, error)) (bool, error) {
	if l == nil {
		out, err := send(ctx, false)
		return err == nil && gone(out), err
	}
	claim, err := l.Claim(ctx, eventID, nil)
	switch {
	case errors.Is(err, ledger.ErrDone):
		e, _, _ := l.Entry(ctx, eventID)
		log.InfoContext(ctx, "notice already sent", "outcome", e.Outcome)
		return gone(e.Outcome), nil
	case errors.Is(err, ledger.ErrBusy):
		return false, fmt.Errorf("notice %s: %w", eventID, err)
	case err != nil:
		log.ErrorContext(ctx, "record of sent notices unavailable: sending without de-duplication", "err", err)
		out, err := send(ctx, true)
		return err == nil && gone(out), err
	}
	out, err := send(ctx, claim.Resumed)
	bg := context.WithoutCancel(ctx)
	if err != nil {
		// A send whose outcome is unknown holds the record for the ledger's
		// stale period, so a redelivery in the meantime does not send twice.
		c := ledger.Classify(err)
		if ferr := l.Fail(bg, claim, c.Uncertain, c.Kind); ferr != nil {
			log.ErrorContext(ctx, "recording a failed notice failed", "err", ferr)
		}
		return false, err
	}
	if derr := l.Done(bg, claim, out); derr != nil {
		log.ErrorContext(ctx, "recording a sent notice failed", "err", derr)
	}
	return gone(out), nil
}

// gone reports whether a notice outcome means the customer was told.
func gone(outcome string) bool {
	switch outcome {
	case "sent", TicketOpened, TicketRecovered, TicketReplied, TicketClosed:
		return true
	}
	return false
}

// Handler is the notifier's SQS handler: each record's body is an
// EventBridge event of a customer notice; records whose notice failed are
// reported for retry (partial batch response).
type Handler struct {
	n   *Notifier
	log *slog.Logger
}

// NewHandler returns the SQS handler of a notifier.
func NewHandler(n *Notifier) *Handler { return &Handler{n: n, log: n.c.Log} }

// Handle processes a batch.
func (h *Handler) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range batch.Records {
		e, err := eventbus.Decode([]byte(rec.Body))
		if err == nil {
			err = h.n.Notify(ctx, e)
		}
		if err != nil {
			h.log.ErrorContext(ctx, "notice failed, will be retried", "messageId", rec.MessageId, "eventId", e.ID, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}
