package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

type adminAPI struct {
	svc *kyc.Service
}

// NewAdminAPI returns the reviewer/admin API. Every route needs the
// kyc-reviewers or kyc-admins group. What a staff member may see of a
// submission's personal data is the service's decision (kyc.ViewSubmission,
// kyc.OpenDocument): the reviewer holding the claim, or an admin who gives
// ?purpose=.
func NewAdminAPI(svc *kyc.Service, auth Authenticator, log *slog.Logger) http.Handler {
	a := &adminAPI{svc: svc}
	return mount(contract.FunctionAdminAPI, map[string]handler{
		"GET /v1/admin/submissions":                           staff(a.queue),
		"GET /v1/admin/submissions/{id}":                      staff(a.submission),
		"GET /v1/admin/submissions/{id}/documents/{category}": staff(a.openDocument),
		"POST /v1/admin/submissions/{id}/claim":               staff(a.claim),
		"POST /v1/admin/submissions/{id}/decision":            staff(a.decide),
		"POST /v1/admin/submissions/{id}/record":              staff(a.record),
		"POST /v1/admin/submissions/{id}/second-approval":     admin(a.secondApproval),
		"GET /v1/admin/customers/{id}":                        staff(a.customer),
		"GET /v1/admin/orders/{id}":                           staff(a.order),
		"GET /v1/admin/reasons":                               staff(a.reasons),
		"POST /v1/admin/customers/{id}/legal-hold":            admin(a.legalHold),
		"GET /v1/admin/customers/{id}/audit/verify":           admin(a.verifyAudit),
		"POST /v1/admin/disclosures":                          admin(a.requestDisclosure),
		"GET /v1/admin/disclosures/{id}":                      admin(a.disclosure),
		"POST /v1/admin/disclosures/{id}/approve":             admin(a.approveDisclosure),
		"GET /v1/admin/disclosures/{id}/export":               admin(a.exportDisclosure),
	}, auth, log)
}

// withPurpose returns the caller as the actor of a request that may state a
// purpose (?purpose=) for opening personal data: only an admin may, and acts
// as an admin when they do.
func withPurpose(r *http.Request) (kyc.Actor, string, error) {
	id := identity(r)
	actor, purpose := id.Actor(), r.URL.Query().Get("purpose")
	if purpose == "" {
		return actor, "", nil
	}
	if !id.Admin() {
		return kyc.Actor{}, "", errNotAdmin
	}
	actor.Kind = kyc.ActorAdmin
	return actor, purpose, nil
}

// admin lets only admins through.
func admin(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !identity(r).Admin() {
			return errNotAdmin
		}
		return h(w, r)
	}
}

func (a *adminAPI) legalHold(w http.ResponseWriter, r *http.Request) error {
	var in kyc.LegalHoldRequest
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	v, err := a.svc.SetLegalHold(r.Context(), identity(r).Actor(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !in.Hold && v.LegalHold {
		status = http.StatusAccepted // lifting waits for a second admin
	}
	writeJSON(w, status, v)
	return nil
}

func (a *adminAPI) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.svc.VerifyAudit(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (a *adminAPI) requestDisclosure(w http.ResponseWriter, r *http.Request) error {
	var in kyc.DisclosureRequest
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	d, err := a.svc.RequestDisclosure(r.Context(), identity(r).Actor(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (a *adminAPI) disclosure(w http.ResponseWriter, r *http.Request) error {
	d, err := a.svc.Disclosure(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *adminAPI) approveDisclosure(w http.ResponseWriter, r *http.Request) error {
	d, err := a.svc.ApproveDisclosure(r.Context(), identity(r).Actor(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *adminAPI) exportDisclosure(w http.ResponseWriter, r *http.Request) error {
	exp, err := a.svc.ExportDisclosure(r.Context(), identity(r).Actor(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, exp)
	return nil
}

// staff lets only reviewers and admins through.
func staff(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !identity(r).Staff() {
			return errNotStaff
		}
		return h(w, r)
	}
}

func (a *adminAPI) queue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if st := q.Get("status"); st != "" && st != string(kyc.SubPending) {
		return kyc.Invalid("unsupported_status", "the queue lists status=pending_review only")
	}
	limit := kyc.MaxQueue
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > kyc.MaxQueue {
			return kyc.Invalid("invalid_limit", "limit must be 1..%d", kyc.MaxQueue)
		}
		limit = n
	}
	items, err := a.svc.Queue(r.Context(), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (a *adminAPI) submission(w http.ResponseWriter, r *http.Request) error {
	actor, purpose, err := withPurpose(r)
	if err != nil {
		return err
	}
	v, err := a.svc.ViewSubmission(r.Context(), actor, r.PathValue("id"), purpose)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// openDocument opens a document of a submission: the service audits the
// opening, then the answer redirects to a short-lived link of the reviewed
// copy. The redirect itself is not to be cached, sniffed or sent on as a
// referrer.
func (a *adminAPI) openDocument(w http.ResponseWriter, r *http.Request) error {
	actor, purpose, err := withPurpose(r)
	if err != nil {
		return err
	}
	link, err := a.svc.OpenDocument(r.Context(), actor, r.PathValue("id"), kyc.Category(r.PathValue("category")), purpose)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Location", link.URL)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
	return nil
}

func (a *adminAPI) claim(w http.ResponseWriter, r *http.Request) error {
	item, err := a.svc.Claim(r.Context(), identity(r).Actor(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, item)
	return nil
}

func (a *adminAPI) decide(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Decisions struct {
			Identity *kyc.Verdict `json:"identity"`
			Address  *kyc.Verdict `json:"address"`
		} `json:"decisions"`
		CustomerMessage string         `json:"customerMessage"`
		Note            string         `json:"note"`
		Extracted       *kyc.Extracted `json:"extracted"`
		Version         *int           `json:"version"`
	}
	if err := decode(w, r, decisionBody, &in); err != nil {
		return err
	}
	if in.Decisions.Identity == nil || in.Decisions.Address == nil {
		return kyc.Invalid("decisions_required", "decisions.identity and decisions.address are both required")
	}
	if in.Version == nil {
		return kyc.Invalid("version_required", "version must be the submission's version from GET")
	}
	res, err := a.svc.Decide(r.Context(), identity(r).Actor(), r.PathValue("id"), kyc.DecisionInput{
		Identity: *in.Decisions.Identity, Address: *in.Decisions.Address,
		CustomerMessage: in.CustomerMessage, Note: in.Note, Extracted: in.Extracted, Version: *in.Version,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.ApprovalRequest != nil {
		status = http.StatusAccepted // the approval waits for a second admin
	}
	writeJSON(w, status, res)
	return nil
}

// record stores what the claimer read from the documents and answers with
// its signals.
func (a *adminAPI) record(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Extracted *kyc.Extracted `json:"extracted"`
		Version   *int           `json:"version"`
	}
	if err := decode(w, r, decisionBody, &in); err != nil {
		return err
	}
	if in.Extracted == nil {
		return kyc.Invalid("extracted_required", "extracted must name at least one field")
	}
	if in.Version == nil {
		return kyc.Invalid("version_required", "version must be the submission's version from GET")
	}
	res, err := a.svc.Record(r.Context(), identity(r).Actor(), r.PathValue("id"), kyc.RecordInput{Extracted: *in.Extracted, Version: *in.Version})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// secondApproval is an admin's answer to an approval that waits for one.
func (a *adminAPI) secondApproval(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Approve *bool `json:"approve"`
		Version *int  `json:"version"`
	}
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	if in.Approve == nil {
		return kyc.Invalid("approve_required", "approve must be true (approve) or false (send it back to the reviewer)")
	}
	if in.Version == nil {
		return kyc.Invalid("version_required", "version must be the submission's version from GET")
	}
	actor := identity(r).Actor()
	actor.Kind = kyc.ActorAdmin // the route is for admins only
	res, err := a.svc.SecondApproval(r.Context(), actor, r.PathValue("id"), kyc.SecondApprovalInput{Approve: *in.Approve, Version: *in.Version})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *adminAPI) customer(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.CustomerView(r.Context(), identity(r).Actor(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *adminAPI) order(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.OrderView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// reasons lists the rejection reasons a reviewer may give, with the texts
// the customer is shown in both languages.
func (a *adminAPI) reasons(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"reasons": kyc.Reasons})
	return nil
}
