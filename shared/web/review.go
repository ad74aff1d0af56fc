package web

import (
	"fmt"
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
// with an error, a change or the signals of a check).
type decisionForm struct {
	Identity, Address              string // "approve", "reject" or ""
	IdentityReasons, AddrReasons   []string
	Message, Note                  string
	FullName, DocNumber, DocExpiry string
	// The rest of what a reviewer records (kyc.Extracted): the birth date,
	// the MRZ as pasted, the address and the date of the proof of address.
	BirthDate, MRZ, PostalAddress, AddressDate string
	Version                                    int
	ClaimedBy, Status                          string
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

// extracted is what the form records.
func (f decisionForm) extracted() kyc.Extracted {
	return kyc.Extracted{FullName: f.FullName, Address: f.PostalAddress, DocumentNumber: f.DocNumber, BirthDate: f.BirthDate,
		DocumentExpiry: f.DocExpiry, MRZ: f.MRZ, AddressDate: f.AddressDate}
}

// recordedForm is a form holding what was recorded (nothing: an empty one).
func recordedForm(e *kyc.Extracted) decisionForm {
	if e == nil {
		return decisionForm{}
	}
	return decisionForm{FullName: e.FullName, PostalAddress: e.Address, DocNumber: e.DocumentNumber, BirthDate: e.BirthDate,
		DocExpiry: e.DocumentExpiry, MRZ: e.MRZ, AddressDate: e.AddressDate}
}

// propose ticks the reasons the signals propose (the reviewer sees them
// marked as proposed and may untick them).
func (f *decisionForm) propose(ps []kyc.Proposal) {
	for _, p := range ps {
		r := string(p.Reason)
		if p.Category == kyc.Identity && !slices.Contains(f.IdentityReasons, r) {
			f.IdentityReasons = append(f.IdentityReasons, r)
		}
		if p.Category == kyc.Address && !slices.Contains(f.AddrReasons, r) {
			f.AddrReasons = append(f.AddrReasons, r)
		}
	}
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
	Done    string

	// Signals are the submission's signals in words, for whoever sees its
	// personal data (the claimer, an admin with a purpose).
	Signals *signalsView
	// Approval is an approval waiting for a second admin.
	Approval *approvalView
	// Purpose is the admin's stated purpose of this view ("" for none);
	// AskPurpose: the viewer is an admin who may open the withheld personal
	// data by stating one (audited), SuggestedPurpose its default.
	Purpose          string
	AskPurpose       bool
	SuggestedPurpose string
	// Recorded is what was recorded, shown read-only to a viewer who sees
	// the personal data without the decision form (an admin).
	Recorded *kyc.Extracted
	// FormError is why the decision form (or the second approval) was
	// refused, ErrInput the input it is about.
	FormError, ApprovalError string
	ErrInput                 string
}

// reviewState is how the review page comes back after a request.
type reviewState struct {
	status int
	// form is what the reviewer entered (nil: what is recorded); propose
	// ticks the reasons the signals propose (a fresh page, or a check).
	form    *decisionForm
	propose bool
	// problem is why the gate refused the decision form (the check, or
	// with onApproval the answer to a waiting approval): said beside it.
	problem    error
	onApproval bool
	// pageErr is a catalogue key shown at the top; notice a catalogue key
	// of what was done.
	pageErr, notice string
	changes         []string
}

// purposeOf is the purpose an admin stated for opening a submission's
// personal data (?purpose=), "" for none.
func purposeOf(r *http.Request) string { return strings.TrimSpace(r.URL.Query().Get("purpose")) }

// review is the review page: the submission, its documents side by side
// (to the reviewer holding the claim: ViewSubmission issues the links and
// audits each issue), what the gate found (the signals), an approval
// waiting for a second admin, the customer's held orders and earlier
// decisions, and the decision form.
func (p *consolePages) review(w http.ResponseWriter, r *http.Request, me who) {
	st := reviewState{status: http.StatusOK, propose: true}
	switch r.URL.Query().Get("done") {
	case "1":
		st.notice = "review.done"
	case "waiting":
		st.notice = "review.done.waiting"
	case "approved":
		st.notice = "review.done.approved"
	case "returned":
		st.notice = "review.done.returned"
	}
	p.showReview(w, r, me, st)
}

func (p *consolePages) showReview(w http.ResponseWriter, r *http.Request, me who, st reviewState) {
	id := r.PathValue("id")
	purpose := purposeOf(r)
	sv, err := p.svc.ViewSubmission(r.Context(), me.as(purpose), id, purpose)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	d := reviewData{V: sv, Mine: sv.ClaimedBy == me.Subject, Other: sv.ClaimedBy != "" && sv.ClaimedBy != me.Subject,
		Pending: sv.Status == kyc.SubPending, Holds: sv.OpenHolds, Reasons: kyc.Reasons, Changes: st.changes,
		Done: r.URL.Query().Get("done"), Purpose: purpose, AskPurpose: sv.Withheld != "" && me.admin()}
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
			if purpose != "" {
				rd.DocURL += "?purpose=" + url.QueryEscape(purpose)
			}
		}
		d.Docs = append(d.Docs, rd)
	}
	if sv.Signals != nil {
		d.Signals = newSignalsView(me.lang, *sv.Signals, sv.Extracted)
	}
	docsShown := sv.Identity.Open != ""
	d.Approval = newApprovalView(me.lang, sv.ApprovalRequest, me, purpose, docsShown)
	if d.AskPurpose && sv.ApprovalRequest != nil {
		d.SuggestedPurpose = text(me.lang, "review.purpose.second")
	}
	// Earlier submissions and decisions: the customer's record.
	if cv, err := p.svc.CustomerView(r.Context(), me.actor(), sv.CustomerID); err == nil {
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
	formShown := d.Pending && d.Mine
	if st.form != nil {
		d.Form = *st.form
	} else {
		d.Form = recordedForm(sv.Extracted)
	}
	if st.propose && sv.Signals != nil {
		d.Form.propose(sv.Signals.Proposed)
	}
	if sv.Extracted != nil && !formShown {
		d.Recorded = sv.Extracted
	}
	d.Form.Version, d.Form.ClaimedBy, d.Form.Status = sv.Version, sv.ClaimedBy, string(sv.Status)
	v := p.page(r, me, text(me.lang, "review.title")+" "+sv.SubmissionID, d)
	// The page's own address (for the language switch), also when it
	// answers a POST.
	v.Path = "/console/submissions/" + sv.SubmissionID
	if st.problem != nil {
		msg, input := problemText(me.lang, st.problem, sv.Signals)
		switch {
		case st.onApproval && d.Approval != nil:
			d.ApprovalError = msg
		case !st.onApproval && formShown:
			d.FormError, d.ErrInput = msg, input
		default:
			v.Error = msg
		}
	}
	if st.pageErr != "" {
		v.Error = text(me.lang, st.pageErr)
	}
	if st.notice != "" {
		v.Notice = text(me.lang, st.notice)
	}
	v.Data = d
	extra := map[string][]string{"frame-src": {"blob:"}}
	if p.cfg.FilesOrigin != "" {
		extra["img-src"] = []string{"'self'", "data:", "blob:", p.cfg.FilesOrigin}
		extra["connect-src"] = []string{"'self'", p.cfg.FilesOrigin}
	}
	w.Header().Set("Content-Security-Policy", csp(extra))
	p.render(w, r, st.status, "review", v)
}

func (p *consolePages) claim(w http.ResponseWriter, r *http.Request, me who) {
	if _, err := p.svc.Claim(r.Context(), me.actor(), r.PathValue("id")); err != nil {
		if k := kyc.KindOf(err); k == kyc.KindConflict {
			p.showReview(w, r, me, reviewState{status: http.StatusConflict, pageErr: "error.conflict"})
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
			p.showReview(w, r, me, reviewState{status: http.StatusConflict, pageErr: "error.conflict"})
			return
		}
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// singleFields are the decision form's fields sent at most once.
var singleFields = []string{"identity", "address", "version", "message", "note", "fullName", "docNumber", "docExpiry",
	"birthDate", "mrz", "postalAddress", "addressDate", "seenClaimedBy", "seenStatus"}

// readDecision reads the decision form (the check posts the same form).
func readDecision(r *http.Request) (decisionForm, kyc.DecisionInput, error) {
	var f decisionForm
	if err := r.ParseForm(); err != nil {
		return f, kyc.DecisionInput{}, errBadForm
	}
	pf := r.PostForm
	for _, k := range singleFields {
		if len(pf[k]) > 1 {
			return f, kyc.DecisionInput{}, errBadForm
		}
	}
	field := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f = decisionForm{Identity: pf.Get("identity"), Address: pf.Get("address"), IdentityReasons: pf["identityReasons"],
		AddrReasons: pf["addressReasons"], Message: pf.Get("message"), Note: pf.Get("note"), FullName: field("fullName"),
		DocNumber: field("docNumber"), DocExpiry: field("docExpiry"), BirthDate: field("birthDate"), MRZ: field("mrz"),
		PostalAddress: field("postalAddress"), AddressDate: field("addressDate"),
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
	// The decision records what the form holds, as the API's decision
	// records its "extracted" (a form with nothing keeps what was recorded).
	if e := f.extracted(); e != (kyc.Extracted{}) {
		in.Extracted = &e
	}
	return f, in, nil
}

// decide records a decision. A stale version, someone else's claim or a
// decision made meanwhile shows the page again with what changed; a
// refused value (an expired identity document, a missing reason, a date
// that is not one) shows the form again with why, as entered. An approval
// of a document verified on another account waits for a second admin.
func (p *consolePages) decide(w http.ResponseWriter, r *http.Request, me who) {
	f, in, ok := p.postedDecision(w, r, me)
	if !ok {
		return
	}
	res, err := p.svc.Decide(r.Context(), me.actor(), r.PathValue("id"), in)
	if err == nil {
		done := "1"
		if res.ApprovalRequest != nil {
			done = "waiting"
		}
		http.Redirect(w, r, "/console/submissions/"+r.PathValue("id")+"?done="+done, http.StatusSeeOther)
		return
	}
	p.refused(w, r, me, f, err)
}

// record is the form's "Check": it records what the reviewer read from the
// documents (Service.Record: sealed, the number's keyed hash looked up,
// audited) and shows the page again with the signals of it, the reasons
// they propose ticked, and everything else entered kept.
func (p *consolePages) record(w http.ResponseWriter, r *http.Request, me who) {
	f, _, ok := p.postedDecision(w, r, me)
	if !ok {
		return
	}
	if _, err := p.svc.Record(r.Context(), me.actor(), r.PathValue("id"), kyc.RecordInput{Extracted: f.extracted(), Version: f.Version}); err != nil {
		p.refused(w, r, me, f, err)
		return
	}
	p.showReview(w, r, me, reviewState{status: http.StatusOK, form: &f, propose: true, notice: "review.checked"})
}

// postedDecision reads the decision form of a POST (at most 64 KiB); one that
// cannot be read is answered with the page and the form as entered (ok
// false).
func (p *consolePages) postedDecision(w http.ResponseWriter, r *http.Request, me who) (decisionForm, kyc.DecisionInput, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	f, in, err := readDecision(r)
	if err != nil {
		p.showReview(w, r, me, reviewState{status: http.StatusBadRequest, form: &f, problem: errMalformedForm})
		return f, in, false
	}
	return f, in, true
}

// refused shows the review page again after the decision form was refused,
// with what was entered.
func (p *consolePages) refused(w http.ResponseWriter, r *http.Request, me who, f decisionForm, err error) {
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
		st := reviewState{status: http.StatusConflict, form: &f, changes: changes, pageErr: "review.changed"}
		if len(changes) == 0 { // nothing the page knew changed: say what the gate refused
			st.pageErr, st.problem = "", err
		}
		p.showReview(w, r, me, st)
	case kyc.KindInvalid, kyc.KindTooLarge:
		p.showReview(w, r, me, reviewState{status: statusOf[kyc.KindOf(err)], form: &f, problem: err})
	default:
		p.failErr(w, r, err)
	}
}

// errMalformedForm is a form that cannot be read (a field twice, no version).
var errMalformedForm = kyc.Invalid("malformed", "the form cannot be read")

// problemText says, in the page's language, why the gate refused a form:
// the catalogue's text of the error's code (with the day and time zone an
// expiry was judged in), else of its kind; and the form input it is about.
func problemText(lang string, err error, sig *kyc.Signals) (msg, input string) {
	code := kyc.CodeOf(err)
	if field, ok := strings.CutPrefix(code, "invalid_"); ok && inputOf(field) != "" {
		return fmt.Sprintf(text(lang, "problem.invalid_field"), fieldText(lang, field)), inputOf(field)
	}
	key := "problem." + code
	if _, ok := messages[key]; !ok {
		return text(lang, messageOfKind[kyc.KindOf(err)]), ""
	}
	if code == "document_expired" {
		judged := ""
		if sig != nil {
			judged = sig.Today.String() + ", " + sig.TimeZone
		}
		return fmt.Sprintf(text(lang, key), judged), "docExpiry"
	}
	return text(lang, key), ""
}

// secondApproval is an admin's answer to an approval waiting for a second
// admin (Service.SecondApproval, audited there): approve commits it, send
// back withdraws it. The admin must be another than the requester and must
// have opened the identity document (the page opens it when the admin
// states a purpose). No fresh sign-in is asked for: this is a review step,
// not a disclosure.
func (p *consolePages) secondApproval(w http.ResponseWriter, r *http.Request, me who) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	perr := r.ParseForm()
	approve := r.PostForm.Get("approve")
	version, verr := strconv.Atoi(r.PostForm.Get("version"))
	if perr != nil || len(r.PostForm["approve"]) != 1 || len(r.PostForm["version"]) != 1 ||
		(approve != "true" && approve != "false") || verr != nil || version < 1 {
		p.showReview(w, r, me, reviewState{status: http.StatusBadRequest, problem: errMalformedForm, onApproval: true})
		return
	}
	admin := me.actor()
	admin.Kind = kyc.ActorAdmin // the route is for admins only
	_, err := p.svc.SecondApproval(r.Context(), admin, r.PathValue("id"), kyc.SecondApprovalInput{Approve: approve == "true", Version: version})
	if err != nil {
		k := kyc.KindOf(err)
		if k == kyc.KindInternal || k == kyc.KindNotFound {
			p.failErr(w, r, err)
			return
		}
		p.showReview(w, r, me, reviewState{status: statusOf[k], problem: err, onApproval: true})
		return
	}
	done := "approved"
	if approve == "false" {
		done = "returned"
	}
	http.Redirect(w, r, "/console/submissions/"+r.PathValue("id")+"?done="+done, http.StatusSeeOther)
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
	purpose := purposeOf(r)
	link, err := p.svc.OpenDocument(r.Context(), me.as(purpose), r.PathValue("id"), kyc.Category(r.PathValue("category")), purpose)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.Redirect(w, r, link.URL, http.StatusFound)
}
