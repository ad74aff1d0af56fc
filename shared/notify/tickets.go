package notify

import (
	"context"
	"fmt"

	"github.com/kycgate/kycgate/shared/whmcs"
)

// WHMCSTickets opens notices as WHMCS support tickets (OpenTicket) in a
// department, in the client's name as staff: the customer id is the WHMCS
// client id, and the service id, if any, links the ticket to the service.
type WHMCSTickets struct {
	c    *whmcs.Client
	dept int
}

var _ Tickets = (*WHMCSTickets)(nil)

// NewWHMCSTickets returns a ticket opener for department deptID.
func NewWHMCSTickets(c *whmcs.Client, deptID string) (*WHMCSTickets, error) {
	id, err := whmcs.ParseClientID(deptID) // a positive integer, like a client id
	if err != nil {
		return nil, fmt.Errorf("notify: ticket department %q is not a WHMCS department id", deptID)
	}
	return &WHMCSTickets{c: c, dept: id}, nil
}

// Open implements Tickets. A customer id that is not a WHMCS client id gives
// ErrNoTicket; a service id that is not a WHMCS service id is left out.
func (w *WHMCSTickets) Open(ctx context.Context, t Ticket) (string, error) {
	client, err := whmcs.ParseClientID(t.CustomerID)
	if err != nil {
		return "", ErrNoTicket
	}
	service, _ := whmcs.ParseServiceID(t.ServiceID)
	ref, err := w.c.OpenTicket(ctx, whmcs.Ticket{
		DeptID: w.dept, ClientID: client, ServiceID: service,
		Subject: t.Subject, Message: t.Message, NoEmail: !t.NotifyCustomer,
	})
	if err != nil {
		return "", err
	}
	return ref.TID, nil
}
