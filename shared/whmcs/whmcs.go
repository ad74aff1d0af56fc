// Package whmcs is a small client of the WHMCS API (includes/api.php): the
// actions the KYC gate needs to provision, suspend, unsuspend and re-date a
// service, read a service's status, its order's payment and its product's
// module, and keep support tickets (open, find, reply, close).
//
// Every call is a form POST with the API credential pair (identifier/secret)
// and responsetype=json; WHMCS answers {"result":"success"|"error",
// "message":...}. Failures are *Error values whose Kind says what a caller may
// do about them: retry (Unavailable: the request was not processed; Unknown:
// it may have been), or not (Rejected: WHMCS or its provisioning module
// refused; Denied: credentials, IP allow-list or API role; Invalid: the
// request was never sent). The client retries Unavailable calls itself, and
// Unknown ones of actions that are safe to repeat, a few times with backoff.
//
// Credentials never appear in errors or logs.
package whmcs

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
	"strings"
	"time"
)

// Credentials authenticate API calls: an API credential pair created in
// WHMCS (System Settings > API Credentials) for an admin whose API role
// allows the actions below, and optionally the API access key of WHMCS's
// configuration.php, which lifts the IP allow-list.
type Credentials struct {
	Identifier string `json:"identifier"`
	Secret     string `json:"secret"`
	AccessKey  string `json:"accesskey,omitempty"`
}

// Valid reports whether the pair is filled in.
func (c Credentials) Valid() error {
	if c.Identifier == "" || c.Secret == "" {
		return errors.New("whmcs credentials: identifier and secret are required")
	}
	return nil
}

// Actions the client calls.
const (
	ActionModuleCreate        = "ModuleCreate"
	ActionModuleSuspend       = "ModuleSuspend"
	ActionModuleUnsuspend     = "ModuleUnsuspend"
	ActionUpdateClientProduct = "UpdateClientProduct"
	ActionGetClientsProducts  = "GetClientsProducts"
	ActionOpenTicket          = "OpenTicket"
	ActionGetOrders           = "GetOrders"
	ActionGetProducts         = "GetProducts"
	ActionGetTickets          = "GetTickets"
	ActionGetTicket           = "GetTicket"
	ActionAddTicketReply      = "AddTicketReply"
	ActionUpdateTicket        = "UpdateTicket"
)

// Service statuses (tblhosting.domainstatus) as GetClientsProducts reports them.
const (
	StatusPending    = "Pending"
	StatusActive     = "Active"
	StatusSuspended  = "Suspended"
	StatusTerminated = "Terminated"
	StatusCancelled  = "Cancelled"
	StatusFraud      = "Fraud"
	StatusCompleted  = "Completed"
)

// Defaults of Options.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultCreateTimeout = 30 * time.Second
	DefaultAttempts      = 2
	DefaultBackoff       = 500 * time.Millisecond
	maxReplyBytes        = 1 << 20
	maxRetryAfter        = 5 * time.Second
)

// Options tune a Client. Zero values take the defaults.
type Options struct {
	// HTTPClient sends the requests (default: a client of its own). Its
	// Timeout, if any, applies on top of the per-call timeouts below.
	HTTPClient *http.Client
	// Timeout bounds one HTTP request (default 10 s).
	Timeout time.Duration
	// CreateTimeout bounds a ModuleCreate request, which waits for the
	// provisioning module to set up the service on its server (default 30 s).
	CreateTimeout time.Duration
	// Attempts is how often a retryable call is tried in all (default 2).
	Attempts int
	// Backoff is the wait before the first retry, doubled for each further
	// one (default 500 ms). A 429/503 reply's Retry-After (up to 5 s) wins.
	Backoff time.Duration
}

// Client calls one WHMCS installation's API.
type Client struct {
	url   string
	creds Credentials
	http  *http.Client
	opt   Options
}

// New returns a client of the API at apiURL (https://billing.example.com/includes/api.php).
func New(apiURL string, creds Credentials, o Options) (*Client, error) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("whmcs: API URL %q must be an absolute http(s) URL", apiURL)
	}
	if u.User != nil {
		return nil, errors.New("whmcs: the API URL must not carry credentials")
	}
	if err := creds.Valid(); err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CreateTimeout <= 0 {
		o.CreateTimeout = DefaultCreateTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	return &Client{url: apiURL, creds: creds, http: o.HTTPClient, opt: o}, nil
}

// ModuleCreate runs the provisioning module's create action for a service
// (WHMCS marks it Active on success). It is not safe to repeat: a module may
// create a second account, so it is never retried after an unknown outcome.
func (c *Client) ModuleCreate(ctx context.Context, serviceID int) error {
	_, err := c.call(ctx, ActionModuleCreate, serviceParams(serviceID), false, c.opt.CreateTimeout)
	return err
}

// ModuleSuspend runs the module's suspend action with a reason WHMCS shows to
// staff and stores on the service.
func (c *Client) ModuleSuspend(ctx context.Context, serviceID int, reason string) error {
	p := serviceParams(serviceID)
	if reason != "" {
		p.Set("suspendreason", reason)
	}
	_, err := c.call(ctx, ActionModuleSuspend, p, false, c.opt.Timeout)
	return err
}

// ModuleUnsuspend runs the module's unsuspend action.
func (c *Client) ModuleUnsuspend(ctx context.Context, serviceID int) error {
	_, err := c.call(ctx, ActionModuleUnsuspend, serviceParams(serviceID), false, c.opt.Timeout)
	return err
}

// UpdateClientProduct sets a service's next due date (and, as WHMCS does with
// it, the next invoice date). It is not retried after an unknown outcome: the
// date was computed from one read of the service's current date, and a
// payment landing between two tries would be undone by the second; the
// caller finds out what happened by reading the date again.
func (c *Client) UpdateClientProduct(ctx context.Context, serviceID int, nextDueDate string) error {
	if _, err := time.Parse(time.DateOnly, nextDueDate); err != nil {
		return &Error{Action: ActionUpdateClientProduct, Kind: KindInvalid, Message: fmt.Sprintf("nextduedate %q is not Y-m-d", nextDueDate)}
	}
	p := serviceParams(serviceID)
	p.Set("nextduedate", nextDueDate)
	_, err := c.call(ctx, ActionUpdateClientProduct, p, false, c.opt.Timeout)
	return err
}

// Service is what the gate reads about a service.
type Service struct {
	ID               int
	ClientID         int
	Status           string // one of the Status constants
	SuspensionReason string
	NextDueDate      string
	ProductID        int // pid: the product (tblproducts.id)
	OrderID          int // orderid: the order that created the service (0: none, e.g. added by staff)
}

// Service returns a service's status through GetClientsProducts. A service
// WHMCS does not have is a Rejected error with the message "Service ID not
// found". (The reply also carries the service's password and other fields;
// only the ones above are decoded, and the reply is discarded.)
func (c *Client) Service(ctx context.Context, serviceID int) (Service, error) {
	body, err := c.call(ctx, ActionGetClientsProducts, serviceParams(serviceID), true, c.opt.Timeout)
	if err != nil {
		return Service{}, err
	}
	var r struct {
		Products json.RawMessage `json:"products"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return Service{}, &Error{Action: ActionGetClientsProducts, Kind: KindUnknown, Message: "unreadable reply", Err: err}
	}
	var list struct {
		Product []struct {
			ID               flexInt `json:"id"`
			ClientID         flexInt `json:"clientid"`
			Status           string  `json:"status"`
			SuspensionReason string  `json:"suspensionreason"`
			NextDueDate      string  `json:"nextduedate"`
			ProductID        flexInt `json:"pid"`
			OrderID          flexInt `json:"orderid"`
		} `json:"product"`
	}
	if p := bytes.TrimSpace(r.Products); len(p) > 0 && p[0] == '{' {
		if err := json.Unmarshal(p, &list); err != nil {
			return Service{}, &Error{Action: ActionGetClientsProducts, Kind: KindUnknown, Message: "unreadable products", Err: err}
		}
	}
	for _, p := range list.Product {
		if int(p.ID) == serviceID {
			return Service{ID: serviceID, ClientID: int(p.ClientID), Status: p.Status,
				SuspensionReason: p.SuspensionReason, NextDueDate: p.NextDueDate, ProductID: int(p.ProductID), OrderID: int(p.OrderID)}, nil
		}
	}
	return Service{}, &Error{Action: ActionGetClientsProducts, Kind: KindRejected, Message: "Service ID not found"}
}

// Ticket is a support ticket opened by staff for a client, or (ClientID 0)
// one opened in the name of Name and Email, which no client sees: a
// ticket for staff.
type Ticket struct {
	DeptID    int
	ClientID  int
	ServiceID int // 0: not about one service
	Subject   string
	Message   string
	Markdown  bool
	Priority  string // Low (default), Medium or High
	// NoEmail stops WHMCS from e-mailing the client (or Email) about the new
	// ticket.
	NoEmail bool
	// Name and Email open the ticket as a non-client (ClientID 0).
	Name, Email string
}

// TicketRef identifies an opened ticket.
type TicketRef struct {
	ID  int    `json:"id"`
	TID string `json:"tid"`
}

// OpenTicket opens a ticket in the client's name as an admin. It is not safe
// to repeat (a second ticket would open), so it is retried only when the
// request was not processed.
func (c *Client) OpenTicket(ctx context.Context, t Ticket) (TicketRef, error) {
	switch {
	case t.DeptID <= 0:
		return TicketRef{}, &Error{Action: ActionOpenTicket, Kind: KindInvalid, Message: "deptid must be a positive integer"}
	case t.ClientID < 0 || (t.ClientID == 0 && (t.Name == "" || t.Email == "")):
		return TicketRef{}, &Error{Action: ActionOpenTicket, Kind: KindInvalid, Message: "clientid must be a positive integer, or name and email given"}
	case t.Subject == "" || t.Message == "":
		return TicketRef{}, &Error{Action: ActionOpenTicket, Kind: KindInvalid, Message: "subject and message are required"}
	}
	p := url.Values{}
	p.Set("deptid", strconv.Itoa(t.DeptID))
	p.Set("subject", t.Subject)
	p.Set("message", t.Message)
	if t.ClientID > 0 {
		p.Set("clientid", strconv.Itoa(t.ClientID))
		p.Set("admin", "true")
	} else {
		p.Set("name", t.Name)
		p.Set("email", t.Email)
	}
	if t.ServiceID > 0 {
		p.Set("serviceid", strconv.Itoa(t.ServiceID))
	}
	if t.Markdown {
		p.Set("markdown", "true")
	}
	if t.Priority != "" {
		p.Set("priority", t.Priority)
	}
	if t.NoEmail {
		p.Set("noemail", "true")
	}
	body, err := c.call(ctx, ActionOpenTicket, p, false, c.opt.Timeout)
	if err != nil {
		return TicketRef{}, err
	}
	var r struct {
		ID  flexInt `json:"id"`
		TID string  `json:"tid"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return TicketRef{}, &Error{Action: ActionOpenTicket, Kind: KindUnknown, Message: "unreadable reply", Err: err}
	}
	return TicketRef{ID: int(r.ID), TID: r.TID}, nil
}

// ParseServiceID reads a WHMCS service id (tblhosting.id), as the gate's
// events carry it: a positive decimal integer.
func ParseServiceID(s string) (int, error) {
	return parseID("service id", s)
}

// ParseClientID reads a WHMCS client id (tblclients.id, the hook's userid).
func ParseClientID(s string) (int, error) {
	return parseID("client id", s)
}

// ParseDeptID reads a WHMCS support department id (tblticketdepartments.id).
func ParseDeptID(s string) (int, error) {
	return parseID("department id", s)
}

func parseID(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("whmcs %s %q is not a positive integer", what, s)
	}
	return n, nil
}

func serviceParams(id int) url.Values {
	p := url.Values{}
	p.Set("serviceid", strconv.Itoa(id))
	return p
}

// call posts one action, retrying what may be retried. safe says the action
// may be repeated even when an earlier try's outcome is unknown.
func (c *Client) call(ctx context.Context, action string, params url.Values, safe bool, timeout time.Duration) (json.RawMessage, error) {
	if id := params.Get("serviceid"); id != "" {
		if n, err := strconv.Atoi(id); err != nil || n <= 0 {
			return nil, &Error{Action: action, Kind: KindInvalid, Message: "serviceid must be a positive integer"}
		}
	}
	wait := c.opt.Backoff
	for attempt := 1; ; attempt++ {
		body, retryAfter, err := c.once(ctx, action, params, timeout)
		if err == nil {
			return body, nil
		}
		var e *Error
		if !errors.As(err, &e) || attempt >= c.opt.Attempts || !(e.Kind == KindUnavailable || (safe && e.Kind == KindUnknown)) {
			return nil, err
		}
		d := wait
		if retryAfter > 0 {
			d = min(retryAfter, maxRetryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+timeout/2 {
			return nil, err // no time for another useful try
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		wait *= 2
	}
}

// once sends one request and classifies its outcome.
func (c *Client) once(ctx context.Context, action string, params url.Values, timeout time.Duration) (json.RawMessage, time.Duration, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("action", action)
	form.Set("responsetype", "json")
	form.Set("identifier", c.creds.Identifier)
	form.Set("secret", c.creds.Secret)
	if c.creds.AccessKey != "" {
		form.Set("accesskey", c.creds.AccessKey)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, &Error{Action: action, Kind: KindInvalid, Message: "build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kycgate-billing-adapter")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, &Error{Action: action, Kind: transportKind(err), Message: "request failed", Err: redact(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return nil, 0, &Error{Action: action, Kind: KindUnknown, Status: resp.StatusCode, Message: "reading the reply failed", Err: redact(err)}
	}
	var head struct {
		Result  string `json:"result"`
		Message string `json:"message"`
	}
	jsonErr := json.Unmarshal(body, &head)
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		return nil, retryAfter(resp.Header.Get("Retry-After")), &Error{Action: action, Kind: KindUnavailable, Status: s, Message: head.Message}
	case s >= 500:
		return nil, 0, &Error{Action: action, Kind: KindUnknown, Status: s, Message: head.Message}
	case s >= 400:
		// 401/403: authentication, IP allow-list, API role; 404: wrong URL.
		return nil, 0, &Error{Action: action, Kind: KindDenied, Status: s, Message: head.Message}
	case s < 200 || s >= 300:
		return nil, 0, &Error{Action: action, Kind: KindUnknown, Status: s, Message: "unexpected HTTP status"}
	case jsonErr != nil:
		// A PHP error page, a proxy's HTML, or the NVP/XML of another responsetype.
		return nil, 0, &Error{Action: action, Kind: KindUnknown, Status: resp.StatusCode, Message: "reply is not WHMCS JSON", Err: jsonErr}
	}
	switch head.Result {
	case "success":
		return body, 0, nil
	case "error":
		kind := KindRejected
		if deniedMessage(head.Message) {
			kind = KindDenied
		}
		return nil, 0, &Error{Action: action, Kind: kind, Status: resp.StatusCode, Message: head.Message}
	}
	return nil, 0, &Error{Action: action, Kind: KindUnknown, Status: resp.StatusCode, Message: fmt.Sprintf("unexpected result %q", head.Result)}
}

// deniedMessage recognises WHMCS's authentication and authorisation refusals
// (WHMCS 7.2+ API middleware), which no retry can fix.
func deniedMessage(m string) bool {
	for _, p := range []string{
		"Authentication Failed", "Invalid or missing credentials", "Invalid IP", "Invalid Access Key",
		"Access Denied", "Invalid Permissions", "Invalid API Action", "Administrator Account Disabled",
		"IP Banned", "Invalid administrative identifier", "Command Not Found",
	} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// transportKind tells a request that never reached WHMCS (safe to resend)
// from one whose outcome is unknown.
func transportKind(err error) Kind {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return KindUnavailable
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return KindUnavailable
	}
	return KindUnknown
}

// redact drops the URL's query (and any userinfo) from a *url.Error so an
// error never repeats more of the URL than its scheme, host and path.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User, u.Fragment = "", nil, ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func retryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// flexInt decodes a JSON number or a string holding one, as WHMCS replies
// carry ids either way depending on the version.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*f = flexInt(n)
	return nil
}
