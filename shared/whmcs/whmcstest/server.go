// Package whmcstest is a stand-in for a WHMCS installation: an HTTP server
// that speaks the API actions the KYC gate uses (includes/api.php with
// ModuleCreate, ModuleSuspend, ModuleUnsuspend, UpdateClientProduct,
// GetClientsProducts, GetOrders, GetProducts, OpenTicket, GetTickets,
// GetTicket, AddTicketReply, UpdateTicket) with WHMCS's request fields, credential
// check and {"result":"success"|"error","message":...} replies, and keeps the
// state those actions change (each service's status, suspension reason and
// next due date; orders and their payment; products and their module;
// tickets, their replies and status). A module action on a service whose
// product has no module is refused as WHMCS refuses it ("Service not
// assigned to a module").
//
// It is the contract the billing adapter is tested against, and the local
// billing sink of `make dev`: every command it receives is recorded and shown
// as JSON at GET /commands. It also accepts the generic signed webhook at
// POST /webhook, so a local stack in either billing mode has a sink; as the
// webhook's receivers must, it adds a ServiceDueDateExtended's days to the
// service's due date once per event id.
//
// A test (or a person, through the dev server) moves a service's due date
// as a payment does with SetNextDueDate (POST /services/{id}
// {"nextDueDate":"YYYY-MM-DD"}).
//
// Knobs (Inject) make it answer with errors, slowly, or not in time, and can
// apply an action and then lose the reply.
//
// Where WHMCS leaves a decision to the provisioning module (creating an
// account twice, suspending an account that is not active), the server
// answers as a strict module would: with an error.
package whmcstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kycgate/kycgate/shared/whmcs"
)

// Service is a service (tblhosting row) as the server keeps it.
type Service struct {
	ID            int    `json:"id"`
	ClientID      int    `json:"clientId"`
	Status        string `json:"status"`
	SuspendReason string `json:"suspendReason,omitempty"`
	NextDueDate   string `json:"nextDueDate,omitempty"`
	// ProductID is the service's product (pid); AddService makes 0
	// DefaultProduct (a product with a module).
	ProductID int `json:"productId,omitempty"`
	// OrderID is the order that created the service (0: none).
	OrderID int `json:"orderId,omitempty"`
}

// Order is an order (tblorders row) with its invoice's status.
type Order struct {
	ID            int    `json:"id"`
	ClientID      int    `json:"clientId"`
	Status        string `json:"status"`        // Pending (default), Active, Cancelled, Fraud
	InvoiceID     int    `json:"invoiceId"`     // 0: no invoice (a free order)
	PaymentStatus string `json:"paymentStatus"` // the invoice's status: Unpaid, Paid; "" without an invoice
}

// DefaultProduct is the product every server starts with (a product with a
// provisioning module), the product of a service added without one.
var DefaultProduct = Product{ID: 1, Name: "KYC VPS", Module: "provisioner"}

// Product is a product (tblproducts row).
type Product struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Module string `json:"module"` // "": set up by hand; module commands are refused
}

// Ticket is an opened ticket.
type Ticket struct {
	ID        int    `json:"id"`
	TID       string `json:"tid"`
	DeptID    int    `json:"deptId"`
	ClientID  int    `json:"clientId"`
	ServiceID int    `json:"serviceId,omitempty"`
	Subject   string `json:"subject"`
	Message   string `json:"message"`
	Admin     bool   `json:"admin"`
	NoEmail   bool   `json:"noEmail"`
	Markdown  bool   `json:"markdown"`
	// Name and Email of a ticket opened by a non-client.
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Priority string `json:"priority,omitempty"`
	// Status is Open, Answered, Customer-Reply or Closed.
	Status  string  `json:"status"`
	Replies []Reply `json:"replies,omitempty"`
}

// Reply is a reply added to a ticket.
type Reply struct {
	Message  string `json:"message"`
	Admin    string `json:"admin"`
	NoEmail  bool   `json:"noEmail"`
	Markdown bool   `json:"markdown"`
}

// Command is one request the server received, without its credentials.
type Command struct {
	Seq    int               `json:"seq"`
	At     time.Time         `json:"at"`
	Action string            `json:"action"` // an API action, or "webhook:<type>"
	Params map[string]string `json:"params,omitempty"`
	// Result is "success" or "error" as answered (or as it would have been
	// answered, when an injected fault replaced the reply).
	Result  string `json:"result"`
	Message string `json:"message,omitempty"`
	// Status is the HTTP status sent.
	Status int `json:"status"`
	// Fault says an injected fault shaped the reply.
	Fault bool `json:"fault,omitempty"`
}

// Fault replaces the normal reply to one request.
type Fault struct {
	// Status is the HTTP status of the reply (0: 200).
	Status int
	// Message, if set, is sent as {"result":"error","message":Message}.
	Message string
	// Body, if set, is sent as is (an HTML error page, garbage).
	Body string
	// Delay holds the reply back (a slow WHMCS). The wait ends early when the
	// client gives up; nothing is sent then.
	Delay time.Duration
	// Apply carries the action out before the faulty reply, as a WHMCS that
	// did the work and then failed to answer.
	Apply bool
}

// Server is the fake WHMCS. The zero value is not usable; call NewServer.
type Server struct {
	creds whmcs.Credentials

	mu          sync.Mutex
	services    map[int]*Service
	orders      map[int]*Order
	products    map[int]*Product
	clients     map[int]bool
	departments map[int]bool
	tickets     []Ticket
	lastTicket  int
	commands    []Command
	faults      map[string][]Fault
	autoCreate  bool
	webhookKey  []byte
	extended    map[string]bool // webhook extensions applied, by event id
	now         func() time.Time
}

// NewServer returns a server that accepts exactly these API credentials. It
// knows no services, clients or departments until they are added (or
// SetAutoCreate is on).
func NewServer(creds whmcs.Credentials) *Server {
	return &Server{
		creds:       creds,
		services:    map[int]*Service{},
		orders:      map[int]*Order{},
		products:    map[int]*Product{DefaultProduct.ID: ptr(DefaultProduct)},
		clients:     map[int]bool{},
		departments: map[int]bool{},
		faults:      map[string][]Fault{},
		extended:    map[string]bool{},
		now:         time.Now,
	}
}

// SetAutoCreate makes any positive service id a Pending service of client 0
// on first use (service S of order S, which has no invoice, so it counts as
// paid), and any positive client, department or order id exist: the local
// stack's sink mode, where the services come from whatever orders a person
// places. A person marks an order unpaid, or a product as having no module,
// through the HTTP routes (POST /orders/{id}, POST /products/{id}).
func (s *Server) SetAutoCreate(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoCreate = on
}

// SetWebhookKey sets the HMAC key POST /webhook checks signatures with (nil:
// signatures are not checked, only recorded).
func (s *Server) SetWebhookKey(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookKey = slices.Clone(key)
}

// AddService adds (or replaces) a service; an empty status is Pending, no
// product is DefaultProduct, no order (0) is none (as for a service staff
// added without an order). The service's client exists from then on.
func (s *Server) AddService(sv Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv.Status == "" {
		sv.Status = whmcs.StatusPending
	}
	if sv.ProductID == 0 {
		sv.ProductID = DefaultProduct.ID
	}
	s.services[sv.ID] = &sv
	s.clients[sv.ClientID] = true
}

// SetNextDueDate moves a service's next due date (Y-m-d), as WHMCS does when
// the service's invoice is paid (a renewal) or staff edit it. With
// auto-create a service not seen yet is added (Pending); otherwise an
// unknown service is an error.
func (s *Server) SetNextDueDate(id int, date string) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return fmt.Errorf("nextDueDate %q is not YYYY-MM-DD", date)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.service(strconv.Itoa(id))
	if sv == nil {
		return fmt.Errorf("no service %d", id)
	}
	sv.NextDueDate = date
	return nil
}

// AddOrder adds (or replaces) an order; an empty status is Pending.
func (s *Server) AddOrder(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Status == "" {
		o.Status = whmcs.OrderPending
	}
	s.orders[o.ID] = &o
}

// PayOrder marks an order's invoice Paid, as a payment does.
func (s *Server) PayOrder(id int) error {
	return s.UpdateOrder(id, func(o *Order) { o.PaymentStatus = whmcs.PaymentPaid })
}

// UpdateOrder changes an order (its payment, its status); with auto-create
// an order not seen yet is added first.
func (s *Server) UpdateOrder(id int, change func(*Order)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.order(id)
	if o == nil {
		return fmt.Errorf("no order %d", id)
	}
	change(o)
	return nil
}

// Order returns an order's current state.
func (s *Server) Order(id int) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// AddProduct adds (or replaces) a product.
func (s *Server) AddProduct(p Product) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.products[p.ID] = &p
}

// DeleteTicket removes a ticket, as staff deleting it do.
func (s *Server) DeleteTicket(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickets = slices.DeleteFunc(s.tickets, func(t Ticket) bool { return t.ID == id })
}

// SetTicketStatus sets a ticket's status, as the client or staff do in
// WHMCS (a client closing the ticket).
func (s *Server) SetTicketStatus(id int, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.ticket(id); t != nil {
		t.Status = status
	}
}

// AddClient makes a client id exist.
func (s *Server) AddClient(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[id] = true
}

// AddDepartment makes a support department id exist.
func (s *Server) AddDepartment(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.departments[id] = true
}

// Service returns a service's current state.
func (s *Server) Service(id int) (Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.services[id]
	if !ok {
		return Service{}, false
	}
	return *sv, true
}

// Services returns every service, by id.
func (s *Server) Services() []Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Service, 0, len(s.services))
	for _, sv := range s.services {
		out = append(out, *sv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Tickets returns the opened tickets in order.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.tickets)
	for i := range out {
		out[i].Replies = slices.Clone(out[i].Replies)
	}
	return out
}

// Commands returns every request received, in order.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Command, len(s.commands))
	for i, c := range s.commands {
		c.Params = cloneMap(c.Params)
		out[i] = c
	}
	return out
}

// Count returns how many requests of an action were received, and how many
// of those succeeded.
func (s *Server) Count(action string) (received, succeeded int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.commands {
		if c.Action == action {
			received++
			if c.Result == "success" && !c.Fault {
				succeeded++
			}
		}
	}
	return received, succeeded
}

// Inject queues faults for the next requests of an action ("" for any
// action), used in order, one per request.
func (s *Server) Inject(action string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], faults...)
}

// ClearFaults drops the faults still queued for an action ("" for any
// action) that no request has used.
func (s *Server) ClearFaults(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, action)
}

// ServeHTTP serves POST …/includes/api.php (the API), POST /webhook (the
// generic signed webhook), GET /commands, GET /services, GET /orders and GET
// /tickets (JSON), POST /services/{id} {"nextDueDate":"YYYY-MM-DD"}
// (SetNextDueDate: a payment), POST /orders/{id} {"paymentStatus":
// "Paid"|"Unpaid", "status": "..."} (an invoice paid, an order cancelled)
// and POST /products/{id} {"module": ""} (a product without a module).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/orders":
		s.mu.Lock()
		orders := make([]Order, 0, len(s.orders))
		for _, o := range s.orders {
			orders = append(orders, *o)
		}
		s.mu.Unlock()
		sort.Slice(orders, func(i, j int) bool { return orders[i].ID < orders[j].ID })
		writeJSON(w, http.StatusOK, orders)
	case r.Method == http.MethodGet && r.URL.Path == "/tickets":
		writeJSON(w, http.StatusOK, s.Tickets())
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/orders/"):
		s.setOrder(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/products/"):
		s.setProduct(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/includes/api.php"):
		s.api(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/webhook":
		s.webhook(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/commands":
		writeJSON(w, http.StatusOK, s.Commands())
	case r.Method == http.MethodGet && r.URL.Path == "/services":
		writeJSON(w, http.StatusOK, s.Services())
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/services/"):
		s.setDueDate(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "whmcstest: fake WHMCS API at POST /includes/api.php, signed webhook sink at POST /webhook;")
		fmt.Fprintln(w, "GET /commands lists every command received, GET /services the services' state;")
		fmt.Fprintln(w, `POST /services/{id} {"nextDueDate":"YYYY-MM-DD"} moves a service's due date as a payment does.`)
	default:
		http.NotFound(w, r)
	}
}

// setDueDate serves POST /services/{id} {"nextDueDate":"YYYY-MM-DD"}: the
// service as it is afterwards, 400 for a malformed request, 404 for a service
// the server does not have (without auto-create).
func (s *Server) setDueDate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/services/"))
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"result": "error", "message": "no such service"})
		return
	}
	var body struct {
		NextDueDate string `json:"nextDueDate"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"result": "error", "message": `the body must be {"nextDueDate":"YYYY-MM-DD"}`})
		return
	}
	if _, err := time.Parse(time.DateOnly, body.NextDueDate); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"result": "error", "message": "nextDueDate must be YYYY-MM-DD"})
		return
	}
	if err := s.SetNextDueDate(id, body.NextDueDate); err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"result": "error", "message": "no such service"})
		return
	}
	sv, _ := s.Service(id)
	writeJSON(w, http.StatusOK, sv)
}

// setOrder serves POST /orders/{id} {"paymentStatus":..., "status":...}:
// the order as it is afterwards (with auto-create, an order not seen yet is
// added first), 400 for a malformed request, 404 for an unknown order.
func (s *Server) setOrder(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/orders/"))
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"result": "error", "message": "no such order"})
		return
	}
	var body struct {
		PaymentStatus *string `json:"paymentStatus"`
		Status        *string `json:"status"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || (body.PaymentStatus == nil && body.Status == nil) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"result": "error", "message": `the body must be {"paymentStatus":"Paid"|"Unpaid","status":"..."}`})
		return
	}
	err = s.UpdateOrder(id, func(o *Order) {
		if body.PaymentStatus != nil {
			o.PaymentStatus = *body.PaymentStatus
			if o.InvoiceID == 0 && o.PaymentStatus != "" {
				o.InvoiceID = 100000 + o.ID // an invoice to carry the status
			}
		}
		if body.Status != nil {
			o.Status = *body.Status
		}
	})
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"result": "error", "message": "no such order"})
		return
	}
	o, _ := s.Order(id)
	writeJSON(w, http.StatusOK, o)
}

// setProduct serves POST /products/{id} {"module": "..."}: the product as it
// is afterwards (added if new).
func (s *Server) setProduct(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/products/"))
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"result": "error", "message": "no such product"})
		return
	}
	var body struct {
		Module *string `json:"module"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Module == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"result": "error", "message": `the body must be {"module":"..."}`})
		return
	}
	s.mu.Lock()
	p, ok := s.products[id]
	if !ok {
		p = &Product{ID: id, Name: fmt.Sprintf("Product %d", id)}
		s.products[id] = p
	}
	p.Module = *body.Module
	out := *p
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// reply is an API answer: the JSON fields besides result/message.
type reply struct {
	status  int
	result  string
	message string
	fields  map[string]any
}

func ok(fields map[string]any) reply {
	return reply{status: http.StatusOK, result: "success", fields: fields}
}
func fail(msg string) reply { return reply{status: http.StatusOK, result: "error", message: msg} }
func denied(msg string) reply {
	return reply{status: http.StatusForbidden, result: "error", message: msg}
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"result": "error", "message": "Invalid request"})
		return
	}
	f := r.PostForm
	action := f.Get("action")
	params := map[string]string{}
	for k := range f {
		switch k {
		case "identifier", "secret", "username", "password", "accesskey", "action", "responsetype":
		default:
			params[k] = f.Get(k)
		}
	}

	s.mu.Lock()
	fault, faulty := s.nextFault(action)
	var rep reply
	switch {
	case !s.authenticated(f):
		rep = denied(s.authMessage(f))
	case faulty && !fault.Apply:
		rep = fail("not applied: injected fault")
	default:
		rep = s.do(action, f)
	}
	cmd := Command{Seq: len(s.commands) + 1, At: s.now().UTC(), Action: action, Params: params,
		Result: rep.result, Message: rep.message, Status: rep.status, Fault: faulty}
	if faulty && fault.Status != 0 {
		cmd.Status = fault.Status
	}
	s.commands = append(s.commands, cmd)
	s.mu.Unlock()

	if faulty {
		s.sendFault(w, r, fault)
		return
	}
	if f.Get("responsetype") != "json" {
		// WHMCS's default format is name=value pairs joined by ";".
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(rep.status)
		fmt.Fprintf(w, "result=%s;message=%s", rep.result, rep.message)
		return
	}
	body := map[string]any{"result": rep.result}
	if rep.message != "" {
		body["message"] = rep.message
	}
	for k, v := range rep.fields {
		body[k] = v
	}
	writeJSON(w, rep.status, body)
}

func (s *Server) sendFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return // the client gave up
		case <-t.C:
		}
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case f.Body != "":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, f.Body)
	case f.Message != "":
		writeJSON(w, status, map[string]any{"result": "error", "message": f.Message})
	default:
		writeJSON(w, status, map[string]any{"result": "success"})
	}
}

// nextFault pops the next fault for an action. s.mu is held.
func (s *Server) nextFault(action string) (Fault, bool) {
	for _, k := range []string{action, ""} {
		if q := s.faults[k]; len(q) > 0 {
			s.faults[k] = q[1:]
			return q[0], true
		}
	}
	return Fault{}, false
}

// authenticated checks the API credential pair, passed as identifier/secret
// or (WHMCS's forward-compatible form) as username/password. s.mu is held.
func (s *Server) authenticated(f url.Values) bool {
	id, secret := f.Get("identifier"), f.Get("secret")
	if id == "" && secret == "" {
		id, secret = f.Get("username"), f.Get("password")
	}
	if s.creds.AccessKey != "" && f.Get("accesskey") != s.creds.AccessKey {
		return false
	}
	return id != "" && secret != "" &&
		hmac.Equal([]byte(id), []byte(s.creds.Identifier)) && hmac.Equal([]byte(secret), []byte(s.creds.Secret))
}

func (s *Server) authMessage(f url.Values) string {
	switch {
	case s.creds.AccessKey != "" && f.Get("accesskey") != s.creds.AccessKey:
		return "Invalid Access Key"
	case f.Get("identifier") == "" && f.Get("username") == "", f.Get("secret") == "" && f.Get("password") == "":
		return "Invalid or missing credentials"
	}
	return "Authentication Failed"
}

// do carries out an authenticated action. s.mu is held.
func (s *Server) do(action string, f url.Values) reply {
	switch action {
	case whmcs.ActionModuleCreate:
		return s.module(f, func(sv *Service) reply {
			if sv.Status != whmcs.StatusPending {
				return fail("An account already exists for this service (status " + sv.Status + ")")
			}
			sv.Status = whmcs.StatusActive
			return ok(nil)
		})
	case whmcs.ActionModuleSuspend:
		return s.module(f, func(sv *Service) reply {
			switch sv.Status {
			case whmcs.StatusActive:
			case whmcs.StatusSuspended:
				return fail("Account is already suspended")
			default:
				return fail("Service is not provisioned (status " + sv.Status + ")")
			}
			reason := f.Get("suspendreason")
			if reason == "" || reason == "Overdue on Payment" {
				reason = "" // as WHMCS stores the default reason
			}
			sv.Status, sv.SuspendReason = whmcs.StatusSuspended, reason
			return ok(nil)
		})
	case whmcs.ActionModuleUnsuspend:
		return s.module(f, func(sv *Service) reply {
			if sv.Status != whmcs.StatusSuspended {
				return fail("Account is not suspended (status " + sv.Status + ")")
			}
			sv.Status, sv.SuspendReason = whmcs.StatusActive, ""
			return ok(nil)
		})
	case whmcs.ActionUpdateClientProduct:
		sv := s.service(f.Get("serviceid"))
		if sv == nil {
			return fail("Service ID Not Found")
		}
		if d := f.Get("nextduedate"); d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return fail("Invalid Date Format. Expected Y-m-d")
			}
			sv.NextDueDate = d
		}
		if st := f.Get("status"); st != "" {
			sv.Status = st
		}
		if _, ok := f["suspendreason"]; ok {
			sv.SuspendReason = f.Get("suspendreason")
		}
		if slices.Contains(f["unset[]"], "suspendreason") {
			sv.SuspendReason = ""
		}
		return ok(map[string]any{"serviceid": sv.ID})
	case whmcs.ActionGetClientsProducts:
		return s.clientsProducts(f)
	case whmcs.ActionGetOrders:
		return s.getOrders(f)
	case whmcs.ActionGetProducts:
		return s.getProducts(f)
	case whmcs.ActionOpenTicket:
		return s.openTicket(f)
	case whmcs.ActionGetTickets:
		return s.getTickets(f)
	case whmcs.ActionGetTicket:
		return s.getTicket(f)
	case whmcs.ActionAddTicketReply:
		return s.addTicketReply(f)
	case whmcs.ActionUpdateTicket:
		t := s.ticket(atoi(f.Get("ticketid")))
		if t == nil {
			return fail("Ticket ID Not Found")
		}
		if st := f.Get("status"); st != "" {
			if !slices.Contains(ticketStatuses, st) {
				return fail("Invalid Ticket Status. Valid statuses are: " + strings.Join(ticketStatuses, ","))
			}
			t.Status = st
		}
		return ok(map[string]any{"ticketid": t.ID})
	}
	return denied(fmt.Sprintf("Invalid API Action: %q is not a valid API action", action))
}

// module applies a module action to an existing service, with WHMCS's own
// checks first.
func (s *Server) module(f url.Values, apply func(*Service) reply) reply {
	raw := f.Get("serviceid")
	if raw == "" {
		raw = f.Get("accountid")
	}
	if n, err := strconv.Atoi(raw); err != nil || n <= 0 {
		return fail("Service ID is required")
	}
	sv := s.service(raw)
	if sv == nil {
		return fail("Service ID not found")
	}
	if p, ok := s.products[sv.ProductID]; ok && p.Module == "" {
		return fail("Service not assigned to a module")
	}
	return apply(sv)
}

// service finds (or, with auto-create, makes) a service. s.mu is held.
func (s *Server) service(raw string) *Service {
	id, err := strconv.Atoi(raw)
	if err != nil || id <= 0 {
		return nil
	}
	if sv, ok := s.services[id]; ok {
		return sv
	}
	if !s.autoCreate {
		return nil
	}
	sv := &Service{ID: id, Status: whmcs.StatusPending, OrderID: id, ProductID: DefaultProduct.ID}
	s.services[id] = sv
	return sv
}

// order finds (or, with auto-create, makes: an order without an invoice,
// which counts as paid) an order. s.mu is held.
func (s *Server) order(id int) *Order {
	if id <= 0 {
		return nil
	}
	if o, ok := s.orders[id]; ok {
		return o
	}
	if !s.autoCreate {
		return nil
	}
	o := &Order{ID: id, Status: whmcs.OrderActive}
	s.orders[id] = o
	return o
}

// ticket finds a ticket by id. s.mu is held.
func (s *Server) ticket(id int) *Ticket {
	for i := range s.tickets {
		if s.tickets[i].ID == id {
			return &s.tickets[i]
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func atoi(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// ticketStatuses are the statuses UpdateTicket accepts.
var ticketStatuses = []string{"Open", "Answered", "Customer-Reply", "On Hold", "In Progress", whmcs.TicketStatusClosed}

func (s *Server) clientsProducts(f url.Values) reply {
	var list []map[string]any
	if raw := f.Get("serviceid"); raw != "" {
		if sv := s.service(raw); sv != nil { // with auto-create, a service the sink has not seen yet is pending
			list = append(list, productFields(sv))
		}
	} else {
		for _, sv := range s.services {
			list = append(list, productFields(sv))
		}
	}
	fields := map[string]any{"serviceid": f.Get("serviceid"), "totalresults": len(list), "startnumber": 0, "numreturned": len(list)}
	if len(list) == 0 {
		fields["products"] = "" // as WHMCS answers an empty result
	} else {
		fields["products"] = map[string]any{"product": list}
	}
	return ok(fields)
}

func productFields(sv *Service) map[string]any {
	return map[string]any{
		"id": sv.ID, "clientid": sv.ClientID, "status": sv.Status, "suspensionreason": sv.SuspendReason,
		"nextduedate": sv.NextDueDate, "pid": strconv.Itoa(sv.ProductID), "orderid": strconv.Itoa(sv.OrderID),
		"password": "", "username": "", "domain": "",
	}
}

// getOrders answers GetOrders id=<id> as WHMCS does: orders.order[] with the
// order's fields (and the client's name, which the gate must not keep);
// an unknown order is an empty result.
func (s *Server) getOrders(f url.Values) reply {
	var list []map[string]any
	if o := s.order(atoi(f.Get("id"))); o != nil {
		list = append(list, map[string]any{"id": o.ID, "ordernum": 7000000000 + o.ID, "userid": o.ClientID, "status": o.Status,
			"invoiceid": o.InvoiceID, "paymentstatus": o.PaymentStatus, "name": "Client Name", "amount": "10.00"})
	}
	fields := map[string]any{"totalresults": len(list), "startnumber": 0, "numreturned": len(list)}
	if len(list) == 0 {
		fields["orders"] = ""
	} else {
		fields["orders"] = map[string]any{"order": list}
	}
	return ok(fields)
}

// getProducts answers GetProducts pid=<id>: products.product[] with pid,
// name and module; an unknown product is an empty result.
func (s *Server) getProducts(f url.Values) reply {
	var list []map[string]any
	if p, ok := s.products[atoi(f.Get("pid"))]; ok {
		list = append(list, map[string]any{"pid": p.ID, "gid": 1, "type": "server", "name": p.Name, "module": p.Module, "paytype": "recurring"})
	}
	fields := map[string]any{"totalresults": len(list)}
	if len(list) == 0 {
		fields["products"] = ""
	} else {
		fields["products"] = map[string]any{"product": list}
	}
	return ok(fields)
}

// getTickets answers GetTickets: the tickets of a client and department
// whose subject contains the given one (WHMCS matches approximately; this
// server by case-insensitive containment), in a status or "All Active
// Tickets" (any status but Closed), newest first.
func (s *Server) getTickets(f url.Values) reply {
	client, dept := atoi(f.Get("clientid")), atoi(f.Get("deptid"))
	subject, status := strings.ToLower(f.Get("subject")), f.Get("status")
	var list []map[string]any
	for i := len(s.tickets) - 1; i >= 0; i-- {
		t := s.tickets[i]
		switch {
		case client > 0 && t.ClientID != client, dept > 0 && t.DeptID != dept,
			subject != "" && !strings.Contains(strings.ToLower(t.Subject), subject),
			status == whmcs.StatusAllActive && t.Status == whmcs.TicketStatusClosed,
			status != "" && status != whmcs.StatusAllActive && t.Status != status:
			continue
		}
		list = append(list, map[string]any{"id": strconv.Itoa(t.ID), "tid": t.TID, "deptid": strconv.Itoa(t.DeptID),
			"userid": strconv.Itoa(t.ClientID), "subject": t.Subject, "status": t.Status, "name": t.Name, "email": t.Email})
	}
	fields := map[string]any{"totalresults": len(list), "startnumber": 0, "numreturned": len(list)}
	if len(list) == 0 {
		fields["tickets"] = ""
	} else {
		fields["tickets"] = map[string]any{"ticket": list}
	}
	return ok(fields)
}

// getTicket answers GetTicket (by ticketid): the ticket with its messages
// under replies.reply, the message it was opened with first (replyid 0),
// newest first with repliessort=DESC.
func (s *Server) getTicket(f url.Values) reply {
	t := s.ticket(atoi(f.Get("ticketid")))
	if t == nil {
		return fail("Ticket ID Not Found")
	}
	opener := ""
	if t.Admin {
		opener = "KYC gate"
	}
	msgs := []map[string]any{{"replyid": "0", "userid": strconv.Itoa(t.ClientID), "admin": opener, "message": t.Message}}
	for i, r := range t.Replies {
		msgs = append(msgs, map[string]any{"replyid": strconv.Itoa(i + 1), "userid": "0", "admin": r.Admin, "message": r.Message})
	}
	if strings.EqualFold(f.Get("repliessort"), "DESC") {
		slices.Reverse(msgs)
	}
	return ok(map[string]any{"ticketid": t.ID, "tid": t.TID, "deptid": t.DeptID, "userid": t.ClientID, "subject": t.Subject,
		"status": t.Status, "replies": map[string]any{"reply": msgs}})
}

// addTicketReply answers AddTicketReply: a reply by an admin (adminusername),
// a client or a named person; the ticket takes the given status, else
// Answered for an admin's reply (a reply reopens a closed ticket).
func (s *Server) addTicketReply(f url.Values) reply {
	t := s.ticket(atoi(f.Get("ticketid")))
	switch {
	case t == nil:
		return fail("Ticket ID not found")
	case f.Get("message") == "":
		return fail("Message is required")
	case f.Get("adminusername") == "" && f.Get("clientid") == "" && (f.Get("name") == "" || f.Get("email") == ""):
		return fail("Name and email address are required if not a client")
	}
	t.Replies = append(t.Replies, Reply{Message: f.Get("message"), Admin: f.Get("adminusername"),
		NoEmail: truthy(f.Get("noemail")), Markdown: truthy(f.Get("markdown"))})
	switch st := f.Get("status"); {
	case st != "":
		t.Status = st
	case f.Get("adminusername") != "":
		t.Status = "Answered"
	default:
		t.Status = "Customer-Reply"
	}
	return ok(nil)
}

func (s *Server) openTicket(f url.Values) reply {
	clientID, _ := strconv.Atoi(f.Get("clientid"))
	if clientID <= 0 {
		if f.Get("name") == "" || f.Get("email") == "" {
			return fail("Name and email address are required if not a client")
		}
	} else if !s.clients[clientID] && !s.autoCreate {
		return fail("Client ID Not Found")
	}
	deptID, _ := strconv.Atoi(f.Get("deptid"))
	if deptID <= 0 || (!s.departments[deptID] && !s.autoCreate) {
		return fail("Department ID not found")
	}
	if f.Get("subject") == "" {
		return fail("Subject is required")
	}
	if f.Get("message") == "" {
		return fail("Message is required")
	}
	serviceID := 0
	if raw := f.Get("serviceid"); raw != "" {
		id, err := strconv.Atoi(raw)
		sv, ok := s.services[id]
		if err != nil || !ok || (sv.ClientID != clientID && !s.autoCreate) {
			return fail("Service ID Not Found")
		}
		serviceID = id
	}
	s.lastTicket++
	t := Ticket{ID: s.lastTicket, DeptID: deptID, ClientID: clientID, ServiceID: serviceID,
		Subject: f.Get("subject"), Message: f.Get("message"), Admin: truthy(f.Get("admin")),
		NoEmail: truthy(f.Get("noemail")), Markdown: truthy(f.Get("markdown")),
		Name: f.Get("name"), Email: f.Get("email"), Priority: f.Get("priority"), Status: "Open"}
	t.TID = fmt.Sprintf("KYC-%06d", 100000+t.ID)
	s.tickets = append(s.tickets, t)
	return ok(map[string]any{"id": t.ID, "tid": t.TID, "c": fmt.Sprintf("c%07d", t.ID)})
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// webhook records a generic signed webhook command: X-KYC-Timestamp,
// X-KYC-Signature ("v1=" + hex HMAC-SHA256 of timestamp + "." + body) and
// X-KYC-Event-Id, body JSON with at least eventId and type. A wrong
// signature is 401, a malformed body 400. Every delivery is recorded, so a
// redelivered event id shows up twice (receivers must de-duplicate by it).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	key := s.webhookKey
	fault, faulty := s.nextFault("webhook")
	s.mu.Unlock()
	var cmd struct {
		EventID   string `json:"eventId"`
		Type      string `json:"type"`
		ServiceID string `json:"serviceId"`
		Extension *struct {
			Days int `json:"days"`
		} `json:"extension"`
	}
	status, msg := http.StatusOK, ""
	switch {
	case key != nil && !validSignature(key, r.Header.Get("X-KYC-Timestamp"), r.Header.Get("X-KYC-Signature"), body):
		status, msg = http.StatusUnauthorized, "bad signature"
	case json.Unmarshal(body, &cmd) != nil || cmd.EventID == "" || cmd.Type == "":
		status, msg = http.StatusBadRequest, "body must be JSON with eventId and type"
	case r.Header.Get("X-KYC-Event-Id") != cmd.EventID:
		status, msg = http.StatusBadRequest, "X-KYC-Event-Id does not match the body"
	}
	var params map[string]string
	if status == http.StatusOK {
		var all map[string]any
		_ = json.Unmarshal(body, &all)
		params = map[string]string{}
		for k, v := range all {
			if v == nil {
				continue
			}
			if b, err := json.Marshal(v); err == nil {
				params[k] = strings.Trim(string(b), `"`)
			}
		}
	}
	s.mu.Lock()
	result := "success"
	if status != http.StatusOK {
		result = "error"
	}
	c := Command{Seq: len(s.commands) + 1, At: s.now().UTC(), Action: "webhook:" + cmd.Type, Params: params,
		Result: result, Message: msg, Status: status, Fault: faulty}
	if faulty && fault.Status != 0 {
		c.Status = fault.Status
	}
	s.commands = append(s.commands, c)
	if status == http.StatusOK && (!faulty || fault.Apply) {
		s.applyWebhook(cmd.EventID, cmd.Type, cmd.ServiceID, cmd.Extension)
	}
	s.mu.Unlock()
	if faulty {
		s.sendFault(w, r, fault)
		return
	}
	writeJSON(w, status, map[string]any{"result": result, "message": msg})
}

// applyWebhook does what a receiver of the webhook must: add an extension's
// days to the due date the service has now, once per event id. s.mu is held.
func (s *Server) applyWebhook(eventID, typ, serviceID string, ext *struct {
	Days int `json:"days"`
}) {
	if typ != "ServiceDueDateExtended" || ext == nil || ext.Days <= 0 || s.extended[eventID] {
		return
	}
	sv := s.service(serviceID)
	if sv == nil {
		return
	}
	d, err := time.Parse(time.DateOnly, sv.NextDueDate)
	if err != nil {
		return // no due date: nothing to extend
	}
	sv.NextDueDate = d.AddDate(0, 0, ext.Days).Format(time.DateOnly)
	s.extended[eventID] = true
}

func validSignature(key []byte, ts, sig string, body []byte) bool {
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := "v1=" + hex.EncodeToString(m.Sum(nil))
	for _, part := range strings.Split(sig, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(part)), []byte(want)) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
