package notify

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/whmcs"
)

// WHMCSTickets keeps one WHMCS ticket per KYC case (docs/whmcs.md §6): a
// case opens with the first KycRequested or KycRejected while the customer
// has none and closes with KycVerified. The first notice of a case opens the
// ticket in the client's name as staff (or recovers an open one, found by
// the subject's tag: a record lost, or an OpenTicket whose reply was lost);
// later notices are replies; KycVerified replies, closes the ticket and
// forgets the case. The customer id is the WHMCS client id; the ticket is
// kept in Cases (TICKET#<customerId>).
//
// Two first notices of one customer may run at once (two orders placed
// together, in two batches): the one that records the case first (StartCase)
// opens the ticket, and the other notices of the customer wait (ErrBusy, so
// the queue delivers them again) until the ticket is recorded, or until
// the opening is older than ledger.DefaultStaleAfter (its attempt died:
// the next notice takes the opening over and finds the ticket by its tag
// if it was opened).
type WHMCSTickets struct {
	c     *whmcs.Client
	dept  int
	admin string
	cases Cases
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

var _ Tickets = (*WHMCSTickets)(nil)

// NewWHMCSTickets returns the case tickets of department deptID, replied to
// as the WHMCS admin adminUsername (the API credential's admin), kept in
// cases.
func NewWHMCSTickets(c *whmcs.Client, deptID, adminUsername string, cases Cases) (*WHMCSTickets, error) {
	id, err := whmcs.ParseDeptID(deptID)
	if err != nil {
		return nil, fmt.Errorf("notify: ticket department %q is not a WHMCS department id", deptID)
	}
	if adminUsername == "" || cases == nil {
		return nil, errors.New("notify: WHMCS tickets need the API admin's username and a record of open cases")
	}
	return &WHMCSTickets{c: c, dept: id, admin: adminUsername, cases: cases}, nil
}

// CaseSubject is the subject of a customer's case ticket; its tag
// ([KYC-<customerId>]) finds the ticket again, and lets the WHMCS addon
// recognise it.
func CaseSubject(customerID string) string {
	return "Identity verification (KYC) / 身份驗證 " + CaseTag(customerID)
}

// CaseTag is the subject tag of a customer's case ticket.
func CaseTag(customerID string) string { return "[KYC-" + customerID + "]" }

// Ticket outcomes (kept in the notice ledger).
const (
	TicketOpened    = "opened"
	TicketRecovered = "recovered"
	TicketReplied   = "replied"
	TicketClosed    = "closed"
)

// Notice implements Tickets. A customer id that is not a WHMCS client id,
// and a notice of no open case (a reminder or a verification of a customer
// without one), give ErrNoTicket; a service id that is not a WHMCS service
// id is left out.
func (w *WHMCSTickets) Notice(ctx context.Context, t Ticket) (string, error) {
	client, err := whmcs.ParseClientID(t.CustomerID)
	if err != nil {
		return "", ErrNoTicket
	}
	c, open, err := w.cases.Case(ctx, t.CustomerID)
	if err != nil {
		return "", fmt.Errorf("case record: %w", err)
	}
	opener := t.Type == kyc.KycRequested || t.Type == kyc.KycRejected
	var prev *Case // the record an opening replaces
	if open {
		prev = &c
	}
	if open && c.Opening() {
		own := c.OpenedBy == t.EventID // its earlier attempt was opening it
		stale := w.now().Sub(c.OpeningSince) > ledger.DefaultStaleAfter
		switch {
		case opener && (own || stale):
			return w.open(ctx, client, t, prev)
		case !stale:
			return "", errCaseOpening
		}
		open = false // an opening whose attempt died: as if there were no case
	}
	switch t.Type {
	case kyc.KycRequested, kyc.KycRejected:
		if open {
			out, err := w.reply(ctx, c, t, "")
			if !errors.Is(err, errTicketGone) {
				return out, err
			}
		}
		return w.open(ctx, client, t, prev)
	case kyc.KycExpiring:
		if !open {
			return "", ErrNoTicket
		}
		out, err := w.reply(ctx, c, t, "")
		if errors.Is(err, errTicketGone) {
			return "", w.forget(ctx, c.CustomerID, ErrNoTicket)
		}
		return out, err
	case kyc.KycVerified:
		if !open {
			found, err := w.find(ctx, client, t.CustomerID)
			if err != nil || found == nil {
				if err == nil {
					err = ErrNoTicket
				}
				return "", err
			}
			c = *found
		}
		return w.close(ctx, c, t)
	}
	return "", ErrNoTicket
}

func (w *WHMCSTickets) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// forget removes the record of a case whose ticket was deleted, then
// returns err.
func (w *WHMCSTickets) forget(ctx context.Context, customerID string, err error) error {
	if ferr := w.cases.ForgetCase(ctx, customerID); ferr != nil {
		return fmt.Errorf("forget a deleted case ticket: %w", ferr)
	}
	return err
}

// errTicketGone: the case's ticket is no longer in WHMCS (staff deleted it).
var errTicketGone = errors.New("the case ticket was deleted")

// errCaseOpening: another notice of the customer is opening the case's
// ticket; this one is to be delivered again (nothing was done).
var errCaseOpening = fmt.Errorf("another notice is opening the customer's case ticket: %w", ledger.ErrBusy)

// open starts a case, once it holds the opening (StartCase over prev, the
// record as read: nil if there was none): an open case ticket found by its
// tag is taken over with this notice as a reply (which a resumed attempt
// leaves out when the ticket's newest message is already this notice: its
// earlier try opened that very ticket with it, or replied); none →
// OpenTicket. The case is recorded either way.
func (w *WHMCSTickets) open(ctx context.Context, client int, t Ticket, prev *Case) (string, error) {
	opening := Case{CustomerID: t.CustomerID, OpenedBy: t.EventID, OpeningSince: w.now().UTC()}
	switch err := w.cases.StartCase(ctx, opening, prev); {
	case errors.Is(err, ErrCaseChanged):
		return "", errCaseOpening
	case err != nil:
		return "", fmt.Errorf("record the case's opening: %w", err)
	}
	found, err := w.find(ctx, client, t.CustomerID)
	if err != nil {
		return "", err
	}
	if found != nil {
		switch _, err := w.reply(ctx, *found, t, ""); {
		case errors.Is(err, errTicketGone): // deleted since it was found: open a new one
			found = nil
		case err != nil:
			return "", err
		}
	}
	if found != nil {
		found.OpenedBy = t.EventID
		if err := w.cases.SaveCase(ctx, *found); err != nil {
			return "", fmt.Errorf("record the case: %w", err)
		}
		return TicketRecovered, nil
	}
	service, _ := whmcs.ParseServiceID(t.ServiceID)
	ref, err := w.c.OpenTicket(ctx, whmcs.Ticket{
		DeptID: w.dept, ClientID: client, ServiceID: service,
		Subject: CaseSubject(t.CustomerID), Message: t.Message, NoEmail: !t.NotifyCustomer,
	})
	if err != nil {
		return "", err
	}
	c := Case{CustomerID: t.CustomerID, TicketID: ref.ID, TID: ref.TID, OpenedBy: t.EventID}
	if err := w.cases.SaveCase(ctx, c); err != nil {
		// Opened but not recorded: the retry finds it by its tag.
		return "", fmt.Errorf("record the case: %w", err)
	}
	return TicketOpened, nil
}

// find returns the customer's newest open case ticket in WHMCS, or nil.
func (w *WHMCSTickets) find(ctx context.Context, client int, customerID string) (*Case, error) {
	found, err := w.c.FindTickets(ctx, whmcs.TicketQuery{ClientID: client, Subject: CaseTag(customerID), Status: whmcs.StatusAllActive})
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &Case{CustomerID: customerID, TicketID: found[0].ID, TID: found[0].TID}, nil
}

// reply adds the notice to the case ticket, setting status if given. A
// resumed attempt first reads the ticket's newest message: when it is this
// notice, the earlier try's reply (or OpenTicket) went in although its
// answer was lost, and nothing is added again. The status is then set by
// the caller's UpdateTicket where it matters (close). An API role without
// GetTicket (installed before it was needed) gets the reply anyway: at
// worst twice, rather than a notice stuck on the queue.
func (w *WHMCSTickets) reply(ctx context.Context, c Case, t Ticket, status string) (string, error) {
	var err error
	if t.Resumed {
		var last string
		last, err = w.c.LastTicketMessage(ctx, c.TicketID)
		var we *whmcs.Error
		switch {
		case err == nil && sameMessage(last, t.Message):
			return TicketReplied, nil
		case errors.As(err, &we) && we.Kind == whmcs.KindDenied:
			err = nil
		}
	}
	if err == nil {
		err = w.c.ReplyTicket(ctx, whmcs.TicketReply{TicketID: c.TicketID, Message: t.Message, AdminUsername: w.admin,
			NoEmail: !t.NotifyCustomer, Status: status})
	}
	if whmcs.TicketNotFound(err) {
		return "", errTicketGone
	}
	if err != nil {
		return "", err
	}
	return TicketReplied, nil
}

// close ends a case: the verified notice as a reply that closes the ticket
// (recorded on the case, so a retry does not reply twice), UpdateTicket
// status=Closed in case the reply could not set it, then the case is
// forgotten (the next request opens a new one).
func (w *WHMCSTickets) close(ctx context.Context, c Case, t Ticket) (string, error) {
	if c.Closing != t.EventID {
		if _, err := w.reply(ctx, c, t, whmcs.TicketStatusClosed); err != nil {
			if errors.Is(err, errTicketGone) {
				return "", w.forget(ctx, c.CustomerID, ErrNoTicket)
			}
			return "", err
		}
		c.Closing = t.EventID
		if err := w.cases.SaveCase(ctx, c); err != nil {
			return "", fmt.Errorf("record the closing reply: %w", err)
		}
	}
	if err := w.c.SetTicketStatus(ctx, c.TicketID, whmcs.TicketStatusClosed); err != nil && !whmcs.TicketNotFound(err) {
		return "", err
	}
	if err := w.cases.ForgetCase(ctx, c.CustomerID); err != nil {
		return "", fmt.Errorf("forget the case: %w", err)
	}
	return TicketClosed, nil
}

// sameMessage reports whether a message WHMCS gives back is the notice
// sent: WHMCS may store line breaks as CRLF, trim the text, or give it
// back with HTML entities.
func sameMessage(stored, sent string) bool {
	norm := func(s string) string {
		return strings.TrimSpace(strings.ReplaceAll(html.UnescapeString(s), "\r\n", "\n"))
	}
	return norm(stored) == norm(sent)
}
