package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
)

type customerData struct {
	V     kyc.CustomerAdminView
	Docs  []docRow
	Chain kyc.ChainReport
	Holds []kyc.HoldView
}

// customer is a customer's page: status, documents, orders, the audit
// trail with its verification, and (admins) the legal hold.
func (p *consolePages) customer(w http.ResponseWriter, r *http.Request, me who) {
	id := r.PathValue("id")
	cv, err := p.svc.CustomerView(r.Context(), me.actor(), id)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	chain, err := p.svc.VerifyAudit(r.Context(), id)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	d := customerData{V: cv, Chain: chain, Holds: cv.Holds}
	for _, doc := range cv.Documents {
		row := docRow{DocumentView: doc, Label: docLabel(me.lang, doc.Type, doc.Utility), StateKey: "doc." + string(doc.State)}
		if doc.Decision != nil {
			row.StateKey = "doc." + string(doc.Decision.Result)
			for _, rs := range doc.Decision.Reasons {
				row.Reasons = append(row.Reasons, pick(me.lang, rs.Text))
			}
		}
		d.Docs = append(d.Docs, row)
	}
	slices.Reverse(d.V.Audit)
	p.render(w, r, http.StatusOK, "customer", p.page(r, me, text(me.lang, "customer.title")+" "+id, d))
}

func (p *consolePages) legalHold(w http.ResponseWriter, r *http.Request, me who) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || len(r.PostForm["hold"]) != 1 {
		p.fail(w, r, http.StatusBadRequest, "error.malformed")
		return
	}
	hold := r.PostForm.Get("hold")
	if hold != "true" && hold != "false" {
		p.fail(w, r, http.StatusBadRequest, "error.malformed")
		return
	}
	_, err := p.svc.SetLegalHold(r.Context(), me.actor(), r.PathValue("id"), kyc.LegalHoldRequest{Hold: hold == "true", Reason: r.PostForm.Get("reason")})
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/customers/"+r.PathValue("id"), http.StatusSeeOther)
}

type orderData struct {
	V        kyc.OrderView
	Commands []kyc.HistoryItem
}

// order is an order's page: the hold, its history, and the billing
// commands its steps sent.
func (p *consolePages) order(w http.ResponseWriter, r *http.Request, me who) {
	ov, err := p.svc.OrderView(r.Context(), r.PathValue("id"))
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	d := orderData{V: ov}
	for _, h := range ov.History {
		for k := range h.Detail {
			if strings.HasPrefix(k, "Service") {
				d.Commands = append(d.Commands, h)
				break
			}
		}
	}
	p.render(w, r, http.StatusOK, "order", p.page(r, me, text(me.lang, "order.title")+" "+ov.OrderID, d))
}

func (p *consolePages) disclosures(w http.ResponseWriter, r *http.Request, me who) {
	if id := r.URL.Query().Get("id"); id != "" {
		if !kyc.ValidID(id) {
			p.fail(w, r, http.StatusNotFound, "error.notfound")
			return
		}
		http.Redirect(w, r, "/console/disclosures/"+id, http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "disclosures", p.page(r, me, text(me.lang, "disc.title"), nil))
}

func (p *consolePages) requestDisclosure(w http.ResponseWriter, r *http.Request, me who) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, "error.malformed")
		return
	}
	f := r.PostForm
	var scope []kyc.DisclosureData
	for _, s := range f["scope"] {
		scope = append(scope, kyc.DisclosureData(s))
	}
	d, err := p.svc.RequestDisclosure(r.Context(), me.actor(), kyc.DisclosureRequest{CustomerID: f.Get("customerId"),
		Authority: f.Get("authority"), Jurisdiction: f.Get("jurisdiction"), LegalReference: f.Get("legalReference"), Scope: scope})
	if err != nil {
		if k := kyc.KindOf(err); k == kyc.KindInvalid || k == kyc.KindNotFound {
			v := p.page(r, me, text(me.lang, "disc.title"), nil)
			v.Error = text(me.lang, messageOfKind[k])
			p.render(w, r, statusOf[k], "disclosures", v)
			return
		}
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/disclosures/"+d.ID, http.StatusSeeOther)
}

type disclosureData struct {
	D          kyc.Disclosure
	CanApprove bool
	CanExport  bool
}

func (p *consolePages) disclosure(w http.ResponseWriter, r *http.Request, me who) {
	d, err := p.svc.Disclosure(r.Context(), r.PathValue("id"))
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	data := disclosureData{D: d, CanApprove: d.State == kyc.DisclosurePending && d.RequestedBy != me.Subject,
		CanExport: d.State == kyc.DisclosureApproved && p.svc.Now().Before(d.ExportUntil)}
	p.render(w, r, http.StatusOK, "disclosure", p.page(r, me, text(me.lang, "disc.title"), data))
}

func (p *consolePages) approveDisclosure(w http.ResponseWriter, r *http.Request, me who) {
	if _, err := p.svc.ApproveDisclosure(r.Context(), me.actor(), r.PathValue("id")); err != nil {
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/disclosures/"+r.PathValue("id"), http.StatusSeeOther)
}

func (p *consolePages) exportDisclosure(w http.ResponseWriter, r *http.Request, me who) {
	exp, err := p.svc.ExportDisclosure(r.Context(), me.actor(), r.PathValue("id"))
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "export", p.page(r, me, text(me.lang, "disc.exported"), exp))
}
