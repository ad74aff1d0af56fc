package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
)

// reviewDoc is one document of the review page.
type reviewDoc struct {
	kyc.ReviewDocument
	Key   string // "identity" or "address"
	Title string
	Label string
	PDF   bool
	Image bool
	// DocURL opens the document through the console's audited route; empty
	// when the viewer may not open it (no claim, or decided).
	DocURL string
}

// decisionForm is what a reviewer entered (kept when the page comes back
// with an error or a change).
type decisionForm struct {
	Identity, Address              string // "approve", "reject" or ""
	IdentityReasons, AddrReasons   []string
	Message, Note                  string
	FullName, DocNumber, DocExpiry string
	Version                        int
	ClaimedBy, Status              string
}

// Has reports whether a reason is ticked for a document.
func (f decisionForm) Has(doc, reason string) bool {
	if doc == "identity" {
		return slices.Contains(f.IdentityReasons, reason)
	}
	return slices.Contains(f.AddrReasons, reason)
}

// Verdict is the result ticked for a document.
func (f decisionForm) Verdict(doc string) string {
	if doc == "identity" {
		return f.Identity
	}
	return f.Address
}

type historyRow struct {
	kyc.AuditEntry
}

type reviewData struct {
	V       kyc.SubmissionView
	Mine    bool
	Other   bool
	Pending bool
	Docs    []reviewDoc
	Holds   []kyc.HoldView
	History []historyRow
	Earlier []docRow
	Reasons []kyc.ReasonSpec
	Form    decisionForm
	Changes []string
	Done    bool
}

// review is the review page: the submission, its documents side by side
// (to the reviewer holding the claim: ViewSubmission issues the links and
// audits each issue), the customer's held orders and earlier decisions, and
// the decision form.
func (p *consolePages) review(w http.ResponseWriter, r *http.Request, me who) {
	p.showReview(w, r, me, http.StatusOK, nil, "", nil)
}

func (p *consolePages) showReview(w http.ResponseWriter, r *http.Request, me who, status int, form *decisionForm, errKey string, changes []string) {
	id := r.PathValue("id")
	sv, err := p.svc.ViewSubmission(r.Context(), me.actor(), id, r.URL.Query().Get("purpose"))
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	d := reviewData{V: sv, Mine: sv.ClaimedBy == me.Subject, Other: sv.ClaimedBy != "" && sv.ClaimedBy != me.Subject,
		Pending: sv.Status == kyc.SubPending, Holds: sv.OpenHolds, Reasons: kyc.Reasons, Changes: changes,
		Done: r.URL.Query().Get("done") == "1"}
	for _, x := range []struct {
		key, title string
		doc        kyc.ReviewDocument
	}{{"identity", "review.identity", sv.Identity}, {"address", "review.address", sv.Address}} {
		rd := reviewDoc{ReviewDocument: x.doc, Key: x.key, Title: text(me.lang, x.title), Label: docLabel(me.lang, x.doc.Type, x.doc.Utility),
			PDF: x.doc.ContentType == kyc.PDF, Image: x.doc.ContentType == kyc.JPEG || x.doc.ContentType == kyc.PNG}
		if x.doc.Open != "" {
			// Opened through the console's own audited route (the JSON API's
			// path would need a bearer token).
			rd.DocURL = "/console/submissions/" + url.PathEscape(sv.SubmissionID) + "/documents/" + x.key
			if purpose := r.URL.Query().Get("purpose"); purpose != "" {
				rd.DocURL += "?purpose=" + url.QueryEscape(purpose)
			}
		}
		d.Docs = append(d.Docs, rd)
	}
	// Earlier submissions and decisions: the customer's record.
	if cv, err := p.svc.CustomerView(r.Context(), sv.CustomerID); err == nil {
		for _, e := range cv.Audit {
			if strings.HasPrefix(e.Action, "submission.") && e.SubmissionID != sv.SubmissionID {
				d.History = append(d.History, historyRow{e})
			}
		}
		slices.Reverse(d.History)
		for _, doc := range cv.Documents {
			if doc.Submission != "" && doc.Submission != sv.SubmissionID && doc.Decision != nil {
				row := docRow{DocumentView: doc, Label: docLabel(me.lang, doc.Type, doc.Utility), StateKey: "doc." + string(doc.Decision.Result)}
				for _, rs := range doc.Decision.Reasons {
					row.Reasons = append(row.Reasons, pick(me.lang, rs.Text))
				}
				d.Earlier = append(d.Earlier, row)
			}
		}
	} else if kyc.KindOf(err) != kyc.KindNotFound {
		p.failErr(w, r, err)
		return
	}
	if form != nil {
		d.Form = *form
	}
	d.Form.Version, d.Form.ClaimedBy, d.Form.Status = sv.Version, sv.ClaimedBy, string(sv.Status)
	v := p.page(r, me, text(me.lang, "review.title")+" "+sv.SubmissionID, d)
	if errKey != "" {
		v.Error = text(me.lang, errKey)
	}
	if d.Done {
		v.Notice = text(me.lang, "review.done")
	}
	extra := map[string][]string{"frame-src": {"blob:"}}
	if p.cfg.FilesOrigin != "" {
		extra["img-src"] = []string{"'self'", "data:", "blob:", p.cfg.FilesOrigin}
		extra["connect-src"] = []string{"'self'", p.cfg.FilesOrigin}
	}
	w.Header().Set("Content-Security-Policy", csp(extra))
	p.render(w, r, status, "review", v)
}

func (p *consolePages) claim(w http.ResponseWriter, r *http.Request, me who) {
	if _, err := p.svc.Claim(r.Context(), me.actor(), r.PathValue("id")); err != nil {
		if k := kyc.KindOf(err); k == kyc.KindConflict {
			p.showReview(w, r, me, http.StatusConflict, nil, "error.conflict", nil)
			return
		}
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/submissions/"+r.PathValue("id"), http.StatusSeeOther)
}

func (p *consolePages) release(w http.ResponseWriter, r *http.Request, me who) {
	if _, err := p.svc.Release(r.Context(), me.actor(), r.PathValue("id")); err != nil {
		if kyc.KindOf(err) == kyc.KindConflict {
			p.showReview(w, r, me, http.StatusConflict, nil, "error.conflict", nil)
			return
		}
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// readDecision reads the decision form.
func readDecision(r *http.Request) (decisionForm, kyc.DecisionInput, error) {
	var f decisionForm
	if err := r.ParseForm(); err != nil {
		return f, kyc.DecisionInput{}, errBadForm
	}
	pf := r.PostForm
	for _, k := range []string{"identity", "address", "version", "message", "note", "fullName", "docNumber", "docExpiry", "seenClaimedBy", "seenStatus"} {
		if len(pf[k]) > 1 {
			return f, kyc.DecisionInput{}, errBadForm
		}
	}
	f = decisionForm{Identity: pf.Get("identity"), Address: pf.Get("address"), IdentityReasons: pf["identityReasons"],
		AddrReasons: pf["addressReasons"], Message: pf.Get("message"), Note: pf.Get("note"), FullName: strings.TrimSpace(pf.Get("fullName")),
		DocNumber: strings.TrimSpace(pf.Get("docNumber")), DocExpiry: strings.TrimSpace(pf.Get("docExpiry")),
		ClaimedBy: pf.Get("seenClaimedBy"), Status: pf.Get("seenStatus")}
	v, err := strconv.Atoi(pf.Get("version"))
	if err != nil || v < 1 {
		return f, kyc.DecisionInput{}, errBadForm
	}
	f.Version = v
	verdict := func(result string, reasons []string) kyc.Verdict {
		out := kyc.Verdict{Result: result}
		if result == "reject" {
			for _, x := range reasons {
				out.Reasons = append(out.Reasons, kyc.ReasonCode(x))
			}
		}
		return out
	}
	in := kyc.DecisionInput{Identity: verdict(f.Identity, f.IdentityReasons), Address: verdict(f.Address, f.AddrReasons),
		CustomerMessage: strings.TrimSpace(f.Message), Note: strings.TrimSpace(f.Note), Version: v}
	if f.FullName != "" || f.DocNumber != "" || f.DocExpiry != "" {
		in.Extracted = &kyc.Extracted{FullName: f.FullName, DocumentNumber: f.DocNumber, DocumentExpiry: f.DocExpiry}
	}
	return f, in, nil
}

// decide records a decision. A stale version, someone else's claim or a
// decision made meanwhile shows the page again with what changed.
func (p *consolePages) decide(w http.ResponseWriter, r *http.Request, me who) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	f, in, err := readDecision(r)
	if err != nil {
		p.showReview(w, r, me, http.StatusBadRequest, &f, "error.malformed", nil)
		return
	}
	_, err = p.svc.Decide(r.Context(), me.actor(), r.PathValue("id"), in)
	if err == nil {
		http.Redirect(w, r, "/console/submissions/"+r.PathValue("id")+"?done=1", http.StatusSeeOther)
		return
	}
	switch kyc.KindOf(err) {
	case kyc.KindConflict:
		sv, verr := p.svc.ViewSubmission(r.Context(), me.actor(), r.PathValue("id"), "")
		if verr != nil {
			p.failErr(w, r, verr)
			return
		}
		var changes []string
		v := view{Lang: me.lang}
		if sv.Version != f.Version {
			changes = append(changes, v.Tf("review.changed.version", f.Version, sv.Version))
		}
		if sv.ClaimedBy != f.ClaimedBy {
			changes = append(changes, v.Tf("review.changed.claim", orNobody(me.lang, f.ClaimedBy), orNobody(me.lang, sv.ClaimedBy)))
		}
		if string(sv.Status) != f.Status {
			changes = append(changes, v.Tf("review.changed.status", f.Status, sv.Status))
		}
		p.showReview(w, r, me, http.StatusConflict, &f, "review.changed", changes)
	case kyc.KindInvalid, kyc.KindTooLarge:
		p.showReview(w, r, me, statusOf[kyc.KindOf(err)], &f, "error.invalid", nil)
	default:
		p.failErr(w, r, err)
	}
}

func orNobody(lang, s string) string {
	if s == "" {
		return text(lang, "queue.nobody")
	}
	return s
}

// openDocument opens one document of a submission: the opening is audited
// (the gate's record that the reviewer saw it, which an approval needs),
// then the browser is sent to a link of at most 5 minutes to the reviewed
// copy, shown inline as its validated type only.
func (p *consolePages) openDocument(w http.ResponseWriter, r *http.Request, me who) {
	link, err := p.svc.OpenDocument(r.Context(), me.actor(), r.PathValue("id"), kyc.Category(r.PathValue("category")),
		r.URL.Query().Get("purpose"))
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.Redirect(w, r, link.URL, http.StatusFound)
}
