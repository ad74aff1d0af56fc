package whmcs

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// This file holds the calls of the provisioning checks (an order's payment,
// a product's module, a service's status set by hand) and of the ticket
// case (find, reply, close). Each was checked against the WHMCS API
// reference (developers.whmcs.com/api-reference): GetOrders, GetProducts,
// UpdateClientProduct, GetTickets, AddTicketReply, UpdateTicket.

// Order statuses (tblorders.status) as GetOrders reports them.
const (
	OrderPending   = "Pending"
	OrderActive    = "Active"
	OrderCancelled = "Cancelled"
	OrderFraud     = "Fraud"
)

// PaymentPaid is the payment status (the status of the order's invoice) of
// a paid order.
const PaymentPaid = "Paid"

// Order is what the gate reads about an order.
type Order struct {
	ID            int
	ClientID      int
	Status        string // one of the Order constants (or a custom status)
	InvoiceID     int    // 0: no invoice (a free order)
	PaymentStatus string // the invoice's status ("Paid", "Unpaid", ...); "" without an invoice
}

// Paid reports whether the order may be provisioned as paid: its invoice is
// paid, or it has none (docs/whmcs.md §4: an order without an invoice counts
// as paid).
func (o Order) Paid() bool { return o.InvoiceID == 0 || o.PaymentStatus == PaymentPaid }

// Closed reports whether WHMCS has cancelled the order or marked it as
// fraud: it will never be paid, and nothing of it is to be provisioned.
func (o Order) Closed() bool { return o.Status == OrderCancelled || o.Status == OrderFraud }

// Order returns an order through GetOrders id=<id>. An order WHMCS does not
// have (deleted) is a Rejected error with the message "Order ID not found".
// Only the fields of Order are decoded (the reply also carries the client's
// name, address and fraud data), and the reply is discarded.
func (c *Client) Order(ctx context.Context, id int) (Order, error) {
	if id <= 0 {
		return Order{}, &Error{Action: ActionGetOrders, Kind: KindInvalid, Message: "order id must be a positive integer"}
	}
	p := url.Values{}
	p.Set("id", strconv.Itoa(id))
	body, err := c.call(ctx, ActionGetOrders, p, true, c.opt.Timeout)
	if err != nil {
		return Order{}, err
	}
	var list struct {
		Order []struct {
			ID            flexInt `json:"id"`
			UserID        flexInt `json:"userid"`
			Status        string  `json:"status"`
			InvoiceID     flexInt `json:"invoiceid"`
			PaymentStatus string  `json:"paymentstatus"`
		} `json:"order"`
	}
	if err := listOf(body, "orders", &list); err != nil {
		return Order{}, &Error{Action: ActionGetOrders, Kind: KindUnknown, Message: "unreadable orders", Err: err}
	}
	for _, o := range list.Order {
		if int(o.ID) == id {
			return Order{ID: id, ClientID: int(o.UserID), Status: o.Status, InvoiceID: int(o.InvoiceID), PaymentStatus: o.PaymentStatus}, nil
		}
	}
	return Order{}, &Error{Action: ActionGetOrders, Kind: KindRejected, Message: "Order ID not found"}
}

// Product is what the gate reads about a product.
type Product struct {
	ID   int
	Name string
	// Module is the product's provisioning module ("cpanel", "proxmox",
	// ...); "" for a product set up by hand, which WHMCS's module commands
	// refuse ("Service not assigned to a module").
	Module string
}

// Product returns a product through GetProducts pid=<id>. A product WHMCS
// does not have is a Rejected error with the message "Product ID not
// found".
func (c *Client) Product(ctx context.Context, id int) (Product, error) {
	if id <= 0 {
		return Product{}, &Error{Action: ActionGetProducts, Kind: KindInvalid, Message: "product id must be a positive integer"}
	}
	p := url.Values{}
	p.Set("pid", strconv.Itoa(id))
	body, err := c.call(ctx, ActionGetProducts, p, true, c.opt.Timeout)
	if err != nil {
		return Product{}, err
	}
	var list struct {
		Product []struct {
			PID    flexInt `json:"pid"`
			Name   string  `json:"name"`
			Module string  `json:"module"`
		} `json:"product"`
	}
	if err := listOf(body, "products", &list); err != nil {
		return Product{}, &Error{Action: ActionGetProducts, Kind: KindUnknown, Message: "unreadable products", Err: err}
	}
	for _, pr := range list.Product {
		if int(pr.PID) == id {
			return Product{ID: id, Name: pr.Name, Module: pr.Module}, nil
		}
	}
	return Product{}, &Error{Action: ActionGetProducts, Kind: KindRejected, Message: "Product ID not found"}
}

// SetServiceStatus sets a service's status without its module, as staff do
// in the service form (UpdateClientProduct status=...): the way to
// provision, suspend and unsuspend a product that has no module. Suspended
// stores reason as the suspension reason; Active clears it (unset[] =
// suspendreason). Repeating it is harmless, so an unknown outcome is
// retried.
func (c *Client) SetServiceStatus(ctx context.Context, serviceID int, status, reason string) error {
	p := serviceParams(serviceID)
	switch status {
	case StatusActive:
		p.Set("status", status)
		p.Add("unset[]", "suspendreason")
	case StatusSuspended:
		p.Set("status", status)
		if reason != "" {
			p.Set("suspendreason", reason)
		}
	default:
		return &Error{Action: ActionUpdateClientProduct, Kind: KindInvalid, Message: "status must be Active or Suspended"}
	}
	_, err := c.call(ctx, ActionUpdateClientProduct, p, true, c.opt.Timeout)
	return err
}

// TicketQuery selects tickets (GetTickets).
type TicketQuery struct {
	ClientID int // 0: any
	DeptID   int // 0: any
	// Subject is what the subject contains; WHMCS matches it approximately,
	// so FindTickets keeps only the tickets whose subject holds it exactly.
	Subject string
	// Status is a ticket status or one of WHMCS's groups; "" is
	// StatusAllActive.
	Status string
}

// StatusAllActive is GetTickets's group of every status that is not closed.
const StatusAllActive = "All Active Tickets"

// TicketStatusClosed is the status of a closed ticket.
const TicketStatusClosed = "Closed"

// TicketSummary is a ticket as GetTickets lists it.
type TicketSummary struct {
	ID       int    `json:"id"`
	TID      string `json:"tid"`
	ClientID int    `json:"clientId"`
	DeptID   int    `json:"deptId"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
}

// FindTickets returns the tickets a query selects whose subject contains
// q.Subject exactly (case-insensitively), newest (highest id) first. It
// ignores the API admin's department assignments (ignore_dept_assignments),
// so a ticket in any department is found.
func (c *Client) FindTickets(ctx context.Context, q TicketQuery) ([]TicketSummary, error) {
	p := url.Values{}
	if q.ClientID > 0 {
		p.Set("clientid", strconv.Itoa(q.ClientID))
	}
	if q.DeptID > 0 {
		p.Set("deptid", strconv.Itoa(q.DeptID))
	}
	if q.Subject != "" {
		p.Set("subject", q.Subject)
	}
	status := q.Status
	if status == "" {
		status = StatusAllActive
	}
	p.Set("status", status)
	p.Set("ignore_dept_assignments", "true")
	p.Set("limitnum", "100")
	body, err := c.call(ctx, ActionGetTickets, p, true, c.opt.Timeout)
	if err != nil {
		return nil, err
	}
	var list struct {
		Ticket []struct {
			ID      flexInt `json:"id"`
			TID     string  `json:"tid"`
			UserID  flexInt `json:"userid"`
			DeptID  flexInt `json:"deptid"`
			Subject string  `json:"subject"`
			Status  string  `json:"status"`
		} `json:"ticket"`
	}
	if err := listOf(body, "tickets", &list); err != nil {
		return nil, &Error{Action: ActionGetTickets, Kind: KindUnknown, Message: "unreadable tickets", Err: err}
	}
	var out []TicketSummary
	for _, t := range list.Ticket {
		if q.Subject != "" && !strings.Contains(strings.ToLower(t.Subject), strings.ToLower(q.Subject)) {
			continue
		}
		if q.ClientID > 0 && int(t.UserID) != q.ClientID {
			continue
		}
		out = append(out, TicketSummary{ID: int(t.ID), TID: t.TID, ClientID: int(t.UserID), DeptID: int(t.DeptID), Subject: t.Subject, Status: t.Status})
	}
	for i := 1; i < len(out); i++ { // newest first (few tickets: insertion sort)
		for j := i; j > 0 && out[j].ID > out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// TicketReply is a reply to a ticket by an admin.
type TicketReply struct {
	TicketID int
	Message  string
	// AdminUsername is the admin the reply is from (the API credential's
	// admin); WHMCS requires a replier.
	AdminUsername string
	Markdown      bool
	// NoEmail stops WHMCS from e-mailing the client about the reply.
	NoEmail bool
	// Status, if set, is the ticket's status after the reply (Closed).
	Status string
}

// ReplyTicket adds a reply to a ticket (AddTicketReply). A reply reopens a
// ticket the client closed. It is not safe to repeat (a second reply would
// be added), so it is retried only when the request was not processed. A
// ticket WHMCS does not have (staff deleted it) is a Rejected error that
// TicketNotFound recognises.
func (c *Client) ReplyTicket(ctx context.Context, r TicketReply) error {
	switch {
	case r.TicketID <= 0:
		return &Error{Action: ActionAddTicketReply, Kind: KindInvalid, Message: "ticketid must be a positive integer"}
	case r.Message == "" || r.AdminUsername == "":
		return &Error{Action: ActionAddTicketReply, Kind: KindInvalid, Message: "message and adminusername are required"}
	}
	p := url.Values{}
	p.Set("ticketid", strconv.Itoa(r.TicketID))
	p.Set("message", r.Message)
	p.Set("adminusername", r.AdminUsername)
	if r.Markdown {
		p.Set("markdown", "true")
	}
	if r.NoEmail {
		p.Set("noemail", "true")
	}
	if r.Status != "" {
		p.Set("status", r.Status)
	}
	_, err := c.call(ctx, ActionAddTicketReply, p, false, c.opt.Timeout)
	return err
}

// LastTicketMessage returns the newest message of a ticket (GetTicket
// repliessort=DESC: its last reply, or the message it was opened with), as
// WHMCS gives it back. A reply of unknown outcome is not repeated by
// ReplyTicket; its caller reads this to learn whether the reply went in. A
// ticket WHMCS does not have is a Rejected error that TicketNotFound
// recognises.
func (c *Client) LastTicketMessage(ctx context.Context, ticketID int) (string, error) {
	if ticketID <= 0 {
		return "", &Error{Action: ActionGetTicket, Kind: KindInvalid, Message: "ticketid must be a positive integer"}
	}
	p := url.Values{}
	p.Set("ticketid", strconv.Itoa(ticketID))
	p.Set("repliessort", "DESC")
	body, err := c.call(ctx, ActionGetTicket, p, true, c.opt.Timeout)
	if err != nil {
		return "", err
	}
	var list struct {
		Reply []struct {
			Message string `json:"message"`
		} `json:"reply"`
	}
	if err := listOf(body, "replies", &list); err != nil {
		return "", &Error{Action: ActionGetTicket, Kind: KindUnknown, Message: "unreadable ticket", Err: err}
	}
	if len(list.Reply) == 0 {
		return "", nil
	}
	return list.Reply[0].Message, nil
}

// SetTicketStatus sets a ticket's status (UpdateTicket status=...), for
// instance Closed. Repeating it is harmless, so an unknown outcome is
// retried.
func (c *Client) SetTicketStatus(ctx context.Context, ticketID int, status string) error {
	if ticketID <= 0 || status == "" {
		return &Error{Action: ActionUpdateTicket, Kind: KindInvalid, Message: "ticketid and status are required"}
	}
	p := url.Values{}
	p.Set("ticketid", strconv.Itoa(ticketID))
	p.Set("status", status)
	_, err := c.call(ctx, ActionUpdateTicket, p, true, c.opt.Timeout)
	return err
}

// TicketNotFound reports whether err is WHMCS's refusal of a ticket id it
// does not have ("Ticket ID not found", "Ticket ID Not Found").
func TicketNotFound(err error) bool {
	var e *Error
	return asError(err, &e) && e.Kind == KindRejected && strings.EqualFold(strings.TrimSpace(e.Message), "Ticket ID not found")
}

// listOf decodes the list under key of a reply ({"<key>": {"<item>":
// [...]}}); WHMCS answers an empty result with "" or an empty array there.
func listOf(body json.RawMessage, key string, v any) error {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	if p := bytes.TrimSpace(r[key]); len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, v)
	}
	return nil
}
