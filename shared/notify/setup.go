package notify

import (
	"context"

	"fmt"
	"log/slog"
	"sync"

	"github.com/kycgate/kycgate/shared/billing"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/whmcs"
)

// TicketModeWHMCS is the value of contract.EnvTicketMode that opens WHMCS tickets.
const TicketModeWHMCS = "whmcs"

// Deps are the notifier's clients and ports.
type Deps struct {
	Customers CustomerReader     // dynamostore.New(ddb, table)
	Sealer    kyc.Sealer         // kmsseal.New(kms, kmsseal.NewDynamoKeys(ddb, table), keyID, "")
	SES       SESAPI             // sesv2.NewFromConfig(cfg)
	DynamoDB  billing.DynamoAPI  // the record of sent notices; nil: none (at least once)
	Secrets   billing.SecretsAPI // WHMCS credentials for tickets
	Log       *slog.Logger
}

// NewFromEnv builds the notifier's SQS handler from its environment:
// contract.EnvTable, EnvMailFrom and EnvPortalURL (required), EnvMailReplyTo,
// and for tickets EnvTicketMode=whmcs with EnvTicketDeptID, EnvBillingURL
// (the WHMCS API URL) and EnvBillingSecretARN. The WHMCS credentials are read
// now, once per cold start (on first use if contract.EnvSecretsPrefetchOff
// is set or the read fails). Tickets configured without a department or URL
// are turned off with a warning, so e-mails still go out.
func NewFromEnv(ctx context.Context, env func(string) string, d Deps) (*Handler, error) {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	var missing []string
	get := func(name string) string {
		v := env(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	table, from, portal := get(contract.EnvTable), get(contract.EnvMailFrom), get(contract.EnvPortalURL)
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment: %v", missing)
	}
	renderer, err := NewRenderer(portal)
	if err != nil {
		return nil, err
	}
	mailer, err := NewSES(d.SES, from, env(contract.EnvMailReplyTo))
	if err != nil {
		return nil, err
	}
	c := Config{Customers: d.Customers, Sealer: d.Sealer, Mailer: mailer, Renderer: renderer, Log: log}
	if d.DynamoDB != nil {
		c.SentEmail = billing.NewDynamoLedger(d.DynamoDB, table, NoticePrefix, SKEmail, NoticeTTL)
		c.SentTicket = billing.NewDynamoLedger(d.DynamoDB, table, NoticePrefix, SKTicket, NoticeTTL)
	}
	switch mode := env(contract.EnvTicketMode); mode {
	case "":
	case TicketModeWHMCS:
		dept, url, arn := env(contract.EnvTicketDeptID), env(contract.EnvBillingURL), env(contract.EnvBillingSecretARN)
		if dept == "" || url == "" || arn == "" || d.Secrets == nil {
			log.Warn("WHMCS tickets are configured without a department, API URL or secret: tickets off",
				"deptSet", dept != "", "urlSet", url != "", "secretSet", arn != "")
			break
		}
		build := func(ctx context.Context) (Tickets, error) {
			s, err := billing.ReadSecret(ctx, d.Secrets, arn)
			if err != nil {
				return nil, err
			}
			creds, err := s.WHMCSCredentials()
			if err != nil {
				return nil, err
			}
			client, err := whmcs.New(url, creds, whmcs.Options{})
			if err != nil {
				return nil, err
			}
			return NewWHMCSTickets(client, dept)
		}
		lt := &lazyTickets{build: build}
		if env(contract.EnvSecretsPrefetchOff) == "" {
			if t, err := build(ctx); err != nil {
				log.Error("WHMCS tickets not ready; retrying on first use", "err", err)
			} else {
				lt.t = t
			}
		}
		c.Tickets = lt
	default:
		return nil, fmt.Errorf("%s %q: must be %q or empty", contract.EnvTicketMode, mode, TicketModeWHMCS)
	}
	n, err := New(c)
	if err != nil {
		return nil, err
	}
	return NewHandler(n), nil
}

// lazyTickets builds its Tickets on first use if it has none yet.
type lazyTickets struct {
	build func(context.Context) (Tickets, error)
	mu    sync.Mutex
	t     Tickets
}

func (l *lazyTickets) Open(ctx context.Context, t Ticket) (string, error) {
	l.mu.Lock()
	if l.t == nil {
		built, err := l.build(ctx)
		if err != nil {
			l.mu.Unlock()
			return "", &ticketsNotReady{err}
		}
		l.t = built
	}
	tk := l.t
	l.mu.Unlock()
	return tk.Open(ctx, t)
}

type ticketsNotReady struct{ err error }

func (e *ticketsNotReady) Error() string    { return "WHMCS tickets not configured: " + e.err.Error() }
func (e *ticketsNotReady) Unwrap() error    { return e.err }
func (e *ticketsNotReady) Transient() bool  { return true }
func (e *ticketsNotReady) Uncertain() bool  { return false }
func (e *ticketsNotReady) KindName() string { return "not_configured" }
