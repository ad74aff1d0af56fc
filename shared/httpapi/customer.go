package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Limits of request bodies.
const (
	smallBody    = 4 << 10  // customer requests
	decisionBody = 64 << 10 // reviewer decisions (messages and notes)
)

type customerAPI struct {
	svc *kyc.Service
}

// NewCustomerAPI returns the customer API: requirements, status, document
// uploads and submissions. The customer is the token's subject; a token of a
// staff member (one that carries a staff group) is refused, so staff and
// customer identities stay apart. The per-customer limits are the service's
// (kyc.WithLimiter): they count only requests that passed every check.
func NewCustomerAPI(svc *kyc.Service, auth Authenticator, log *slog.Logger) http.Handler {
	a := &customerAPI{svc: svc}
	return mount(contract.FunctionCustomerAPI, map[string]handler{
		"GET /v1/kyc/requirements": customerOnly(a.requirements),
		"GET /v1/kyc/status":       customerOnly(a.status),
		"POST /v1/kyc/documents":   customerOnly(a.createDocument),
		"POST /v1/kyc/submissions": customerOnly(a.submit),
	}, auth, log)
}

// customerOnly refuses staff tokens: in AWS one JWT authorizer serves
// customers and staff, and a staff member's subject could be a customer id.
// A staff member who is also a customer signs in with their customer
// account.
func customerOnly(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if identity(r).Staff() {
			return kyc.Forbidden("staff_token", "a staff token cannot be used for the customer API; sign in as the customer")
		}
		return h(w, r)
	}
}

func (a *customerAPI) requirements(w http.ResponseWriter, r *http.Request) error {
	req, err := a.svc.RequirementsFor(r.Context(), identity(r).Subject)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (a *customerAPI) status(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.Status(r.Context(), identity(r).Subject)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *customerAPI) createDocument(w http.ResponseWriter, r *http.Request) error {
	var req kyc.DocumentRequest
	if err := decode(w, r, smallBody, &req); err != nil {
		return err
	}
	up, err := a.svc.CreateDocument(r.Context(), identity(r).Subject, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, up)
	return nil
}

func (a *customerAPI) submit(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		IdentityDocumentID string `json:"identityDocumentId"`
		AddressDocumentID  string `json:"addressDocumentId"`
	}
	if err := decode(w, r, smallBody, &req); err != nil {
		return err
	}
	rec, err := a.svc.Submit(r.Context(), identity(r).Subject, req.IdentityDocumentID, req.AddressDocumentID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rec)
	return nil
}
