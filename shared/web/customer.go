package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/signin"
)

// CustomerConfig configures the customer's verification page.
type CustomerConfig struct {
	Config
	// Signin verifies the billing system's sign-in tokens; nil when no key
	// is configured (the page then says sign-in is not set up).
	Signin *signin.Verifier
	// FilesOrigin is the origin of the presigned upload forms (the
	// documents bucket), allowed in the page's connect-src.
	FilesOrigin string
}

type customerPages struct {
	*site
	svc      *kyc.Service
	cfg      CustomerConfig
	sessions *sessions
}

// maxForm bounds a page's form body.
const maxForm = 16 << 10

// NewCustomerPages returns the customer's verification page (/verify):
// sign-in with the billing system's token, status, requirements, held
// orders with their deadlines, documents, upload and submission.
func NewCustomerPages(svc *kyc.Service, cfg CustomerConfig) http.Handler {
	p := &customerPages{site: newSite(cfg.Config, contract.FunctionCustomerAPI, "/verify", "verify", "signin"), svc: svc, cfg: cfg}
	p.sessions = &sessions{keys: cfg.Keys, name: customerCookie, idle: CustomerIdle, max: CustomerMax, now: cfg.now}
	return p.mount(map[string]http.HandlerFunc{
		"GET /verify":                p.page,
		"POST /verify/signin":        p.signin,
		"POST /verify/signout":       p.signout,
		"POST /verify/documents":     p.createDocument,
		"GET /verify/documents/{id}": p.document,
		"POST /verify/submit":        p.submit,
		"GET /verify/assets/{file}":  p.asset,
	},
		// The billing system posts the sign-in token from its own origin:
		// the token (signed, audience-bound, single use, 2 minutes) is the
		// proof, not the origin.
		"POST /verify/signin")
}

// session returns the customer's session and renews its idle expiry.
func (p *customerPages) session(w http.ResponseWriter, r *http.Request) (Session, bool) {
	ses, err := p.sessions.get(r)
	if err != nil {
		return Session{}, false
	}
	if err := p.sessions.put(w, ses); err != nil {
		return Session{}, false
	}
	return ses, true
}

func (p *customerPages) signinPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	lang := language(r)
	v := view{Lang: lang, Title: text(lang, "signin.title"), Path: "/verify"}
	if msg != "" {
		v.Error = text(lang, msg)
	}
	p.render(w, r, status, "signin", v)
}

func (p *customerPages) signin(w http.ResponseWriter, r *http.Request) {
	if p.cfg.Signin == nil {
		p.signinPage(w, r, http.StatusServiceUnavailable, "signin.unavailable")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || len(r.PostForm["token"]) != 1 {
		p.signinPage(w, r, http.StatusBadRequest, "signin.failed")
		return
	}
	claims, err := p.cfg.Signin.Verify(r.Context(), r.PostForm.Get("token"))
	if err == nil && !kyc.ValidID(claims.Subject) {
		err = &signin.Error{Reason: signin.ReasonBadSubject}
	}
	if err != nil {
		// The reason only: never the token or a claim.
		p.cfg.log().WarnContext(r.Context(), "customer sign-in refused", "reason", signin.Reason(err))
		status := http.StatusUnauthorized
		if signin.Reason(err) == signin.ReasonReplayCheck {
			status = http.StatusServiceUnavailable
		}
		p.signinPage(w, r, status, "signin.failed")
		return
	}
	now := p.cfg.now().Unix()
	if err := p.sessions.put(w, Session{Subject: claims.Subject, Start: now, Auth: now}); err != nil {
		p.failErr(w, r, err)
		return
	}
	next := "/verify"
	if claims.Lang != "" {
		next += "?lang=" + claims.Lang
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *customerPages) signout(w http.ResponseWriter, r *http.Request) {
	p.sessions.clear(w)
	http.Redirect(w, r, "/verify", http.StatusSeeOther)
}

// docRow is one document as the customer's page lists it.
type docRow struct {
	kyc.DocumentView
	Label    string
	StateKey string   // catalogue key of its state
	Reasons  []string // why it was refused or not accepted, in the page's language
	Message  string   // the reviewer's message, on a decided document
}

type holdRow struct {
	kyc.HoldView
	Left   string // time left, or "" when none runs
	Paused bool   // the clock stands still while the customer's submission is reviewed
}

type verifyData struct {
	Status     kyc.StatusView
	Categories []kyc.CategorySpec
	Rule       string
	Holds      []holdRow
	Docs       []docRow
	Identity   []docRow // documents that can be submitted as proof of identity
	Address    []docRow
	CanSubmit  bool
	CanUpload  bool
	Submitted  bool
	OnTime     bool
	MaxSize    int64
	Now        time.Time // the policy's now, which the countdowns start from
}

func (p *customerPages) page(w http.ResponseWriter, r *http.Request) {
	ses, ok := p.session(w, r)
	if !ok {
		p.signinPage(w, r, http.StatusOK, "")
		return
	}
	p.show(w, r, ses, http.StatusOK, "", "")
}

// show renders the customer's page, with a notice or an error.
func (p *customerPages) show(w http.ResponseWriter, r *http.Request, ses Session, status int, notice, errKey string) {
	lang := language(r)
	st, err := p.svc.Status(r.Context(), ses.Subject)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	req := p.svc.RequirementsOf(st.Business)
	d := verifyData{Status: st, Categories: req.Categories,
		Rule: (view{Lang: lang}).Tf("needed.rule", humanSize(req.MaxSize)), Submitted: r.URL.Query().Get("submitted") == "1"}
	policyNow := p.svc.Now() // the policy's "now" (the dev server's movable clock locally)
	d.MaxSize, d.Now = req.MaxSize, policyNow
	for _, h := range st.Holds {
		if !h.State.Open() {
			continue
		}
		row := holdRow{HoldView: h}
		switch {
		case st.Status == kyc.StatusPendingReview && h.State.Open():
			// The 3-day clock stops while a submission waits for review.
			row.Left, row.Paused = text(lang, "orders.paused"), true
		case h.State == kyc.AwaitingKYC && !h.Deadline.IsZero():
			row.Left = countdown(lang, h.Deadline.Sub(policyNow))
		}
		if h.State == kyc.AwaitingReview {
			d.OnTime = true
		}
		d.Holds = append(d.Holds, row)
	}
	message := p.latestMessage(r.Context(), ses.Subject, st)
	for _, doc := range st.Documents {
		row := docRow{DocumentView: doc, Label: docLabel(lang, doc.Type, doc.Utility), StateKey: "doc." + string(doc.State)}
		switch {
		case doc.Decision != nil:
			row.StateKey = "doc." + string(doc.Decision.Result)
			for _, rs := range doc.Decision.Reasons {
				row.Reasons = append(row.Reasons, pick(lang, rs.Text))
			}
			if doc.Decision.Result != kyc.ResultApproved && doc.Submission == message.submission {
				row.Message = message.text
			}
		case doc.State == kyc.DocInvalid && doc.Invalid != nil:
			row.Reasons = []string{pick(lang, doc.Invalid.Text)}
		case doc.State == kyc.DocValid && doc.Submission != "":
			row.StateKey = "doc.in_review"
		}
		d.Docs = append(d.Docs, row)
		usable := doc.State == kyc.DocValid && (doc.Submission == "" || (doc.Decision != nil && doc.Decision.Result == kyc.ResultApproved))
		if usable && doc.Category == kyc.Identity {
			d.Identity = append(d.Identity, row)
		}
		if usable && doc.Category == kyc.Address {
			d.Address = append(d.Address, row)
		}
	}
	slices.SortStableFunc(d.Docs, func(a, b docRow) int { return b.CreatedAt.Compare(a.CreatedAt) })
	open := st.Status != kyc.StatusPendingReview && st.Status != kyc.StatusVerified
	d.CanUpload = open
	d.CanSubmit = open && len(d.Identity) > 0 && len(d.Address) > 0
	v := view{Lang: lang, Title: text(lang, "verify.title"), Who: ses.Subject, Data: d, Scripts: []string{"verify.js"}}
	if notice != "" {
		v.Notice = text(lang, notice)
	}
	if errKey != "" {
		v.Error = text(lang, errKey)
	}
	extra := map[string][]string{}
	if p.cfg.FilesOrigin != "" {
		extra["connect-src"] = []string{"'self'", p.cfg.FilesOrigin}
	}
	w.Header().Set("Content-Security-Policy", csp(extra))
	p.render(w, r, status, "verify", v)
}

type notice struct{ submission, text string }

// latestMessage is the reviewer's message on the customer's most recently
// decided submission (one read, only when there is a decision).
func (p *customerPages) latestMessage(ctx context.Context, customerID string, st kyc.StatusView) notice {
	var latest *kyc.DocumentView
	for i, d := range st.Documents {
		if d.Decision != nil && d.Submission != "" && (latest == nil || d.Decision.At.After(latest.Decision.At)) {
			latest = &st.Documents[i]
		}
	}
	if latest == nil || latest.Decision.Result == kyc.ResultApproved && st.Status == kyc.StatusVerified {
		return notice{}
	}
	msg, err := p.svc.DecisionMessage(ctx, customerID, latest.Submission)
	if err != nil {
		p.cfg.log().WarnContext(ctx, "decision message", "err", err)
		return notice{}
	}
	return notice{submission: latest.Submission, text: msg}
}

// countdown says how long is left, in whole minutes.
func countdown(lang string, d time.Duration) string {
	if d <= 0 {
		return text(lang, "orders.passed")
	}
	m := int(d / time.Minute)
	return (view{Lang: lang}).Tf("orders.countdown", m/(24*60), m/60%24, m%60)
}

// docLabel is a document type's label, with its utility kind.
func docLabel(lang string, t kyc.DocType, u kyc.Utility) string {
	_, spec, ok := kyc.LookupType(t)
	if !ok {
		return string(t)
	}
	l := pick(lang, spec.Label)
	for _, us := range spec.Utilities {
		if us.Utility == u {
			l += " (" + pick(lang, us.Label) + ")"
		}
	}
	return l
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// noSession answers a script's request without a live session.
func noSession(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, problem{Type: "urn:kycgate:problem:unauthorized", Title: http.StatusText(http.StatusUnauthorized),
		Status: http.StatusUnauthorized, Detail: text(language(r), "error.session"), Code: "unauthorized"})
}

func (p *customerPages) jsonErr(w http.ResponseWriter, r *http.Request, err error) {
	_, pr := p.problemOf(r, err)
	writeProblem(w, pr)
}

func writeProblem(w http.ResponseWriter, pr problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(pr.Status)
	_ = json.NewEncoder(w).Encode(pr)
}

// createDocument is the page's upload step 1: the document record and its
// presigned form (the script then posts the file straight to S3).
func (p *customerPages) createDocument(w http.ResponseWriter, r *http.Request) {
	ses, ok := p.session(w, r)
	if !ok {
		noSession(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		p.jsonErr(w, r, kyc.Invalid("malformed", "the form cannot be read"))
		return
	}
	f := r.PostForm
	for _, k := range []string{"category", "type", "contentType", "size"} {
		if len(f[k]) != 1 {
			p.jsonErr(w, r, kyc.Invalid("missing_"+k, "%s is required once", k))
			return
		}
	}
	size, err := strconv.ParseInt(f.Get("size"), 10, 64)
	if err != nil {
		p.jsonErr(w, r, kyc.Invalid("invalid_size", "size must be a whole number of bytes"))
		return
	}
	up, err := p.svc.CreateDocument(r.Context(), ses.Subject, kyc.DocumentRequest{
		Category: kyc.Category(f.Get("category")), Type: kyc.DocType(f.Get("type")), Utility: kyc.Utility(f.Get("utility")),
		ContentType: f.Get("contentType"), Size: size})
	if err != nil {
		p.jsonErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, up)
}

// docState is what the page's script polls after an upload.
type docState struct {
	State   kyc.DocState `json:"state"`
	Message string       `json:"message,omitempty"`
}

func (p *customerPages) document(w http.ResponseWriter, r *http.Request) {
	ses, ok := p.session(w, r)
	if !ok {
		noSession(w, r)
		return
	}
	st, err := p.svc.Status(r.Context(), ses.Subject)
	if err != nil {
		p.jsonErr(w, r, err)
		return
	}
	id := r.PathValue("id")
	for _, d := range st.Documents {
		if d.ID == id {
			out := docState{State: d.State}
			if d.Invalid != nil {
				out.Message = pick(language(r), d.Invalid.Text)
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	p.jsonErr(w, r, kyc.NotFound("document_not_found", "no such document"))
}

func (p *customerPages) submit(w http.ResponseWriter, r *http.Request) {
	ses, ok := p.session(w, r)
	if !ok {
		p.signinPage(w, r, http.StatusUnauthorized, "error.session")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil || len(r.PostForm["identity"]) != 1 || len(r.PostForm["address"]) != 1 {
		p.show(w, r, ses, http.StatusBadRequest, "", "error.malformed")
		return
	}
	_, err := p.svc.Submit(r.Context(), ses.Subject, r.PostForm.Get("identity"), r.PostForm.Get("address"))
	if err != nil {
		k := kyc.KindOf(err)
		if k == kyc.KindInternal {
			p.failErr(w, r, err)
			return
		}
		p.show(w, r, ses, statusOf[k], "", messageOfKind[k])
		return
	}
	http.Redirect(w, r, "/verify?submitted=1", http.StatusSeeOther)
}
