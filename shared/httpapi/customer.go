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

// Limiter bounds how often a customer may do something (document creations,
// submissions); it returns a kyc rate-limited error when over the limit.
type Limiter interface {
	Allow(r *http.Request, customerID, action string) error
}

type customerAPI struct {
	svc     *kyc.Service
	limiter Limiter
}

// NewCustomerAPI returns the customer API: requirements, status, document
// uploads and submissions. The customer is the token's subject.
func NewCustomerAPI(svc *kyc.Service, auth Authenticator, limiter Limiter, log *slog.Logger) http.Handler {
	a := &customerAPI{svc: svc, limiter: limiter}
	return mount(contract.FunctionCustomerAPI, map[string]handler{
		"GET /v1/kyc/requirements": a.requirements,
		"GET /v1/kyc/status":       a.status,
		"POST /v1/kyc/documents":   a.createDocument,
		"POST /v1/kyc/submissions": a.submit,
	}, auth, log)
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

func (a *customerAPI) allow(r *http.Request, action string) error {
	if a.limiter == nil {
		return nil
	}
	return a.limiter.Allow(r, identity(r).Subject, action)
}

func (a *customerAPI) createDocument(w http.ResponseWriter, r *http.Request) error {
	var req kyc.DocumentRequest
	if err := decode(w, r, smallBody, &req); err != nil {
		return err
	}
	if err := a.allow(r, "document"); err != nil {
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
	if err := a.allow(r, "submission"); err != nil {
		return err
	}
	rec, err := a.svc.Submit(r.Context(), identity(r).Subject, req.IdentityDocumentID, req.AddressDocumentID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rec)
	return nil
}
