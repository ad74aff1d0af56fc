package web

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// ConsoleConfig configures the reviewer console.
type ConsoleConfig struct {
	Config
	// OIDC signs staff in (authorization code with PKCE).
	OIDC *OIDC
	// ReviewSLA is how long a submission may wait (the queue's badges).
	ReviewSLA time.Duration
	// FilesOrigin is the origin of the document links (the documents
	// bucket), allowed in the review page's img-src and connect-src.
	FilesOrigin string
}

type consolePages struct {
	*site
	svc      *kyc.Service
	cfg      ConsoleConfig
	sessions *sessions
}

// NewConsolePages returns the reviewer console (/console): staff sign-in
// with OpenID Connect, the queue, the review page, customers, orders and,
// for admins, disclosures.
func NewConsolePages(svc *kyc.Service, cfg ConsoleConfig) http.Handler {
	if cfg.OIDC == nil {
		panic("web: ConsoleConfig.OIDC is required")
	}
	p := &consolePages{site: newSite(cfg.Config, contract.FunctionAdminAPI, "/console",
		"signin", "queue", "review", "customer", "order", "disclosures", "disclosure", "export"), svc: svc, cfg: cfg}
	p.sessions = &sessions{keys: cfg.Keys, name: staffCookie, idle: StaffIdle, max: StaffMax, now: cfg.now}
	return p.mount(map[string]http.HandlerFunc{
		"GET /console":                                       p.staff(p.queue),
		"GET /console/signin":                                p.signin,
		"GET /console/callback":                              p.callback,
		"POST /console/signout":                              p.signout,
		"GET /console/queue":                                 p.staff(p.queueRows),
		"GET /console/submissions/{id}":                      p.staff(p.review),
		"GET /console/submissions/{id}/documents/{category}": p.staff(p.openDocument),
		"POST /console/submissions/{id}/claim":               p.staff(p.claim),
		"POST /console/submissions/{id}/release":             p.staff(p.release),
		"POST /console/submissions/{id}/decision":            p.staff(p.decide),
		"POST /console/submissions/{id}/record":              p.staff(p.record),
		"POST /console/submissions/{id}/second-approval":     p.admin(p.secondApproval),
		"GET /console/customers/{id}":                        p.staff(p.customer),
		"POST /console/customers/{id}/legal-hold":            p.admin(p.legalHold),
		"GET /console/orders/{id}":                           p.staff(p.order),
		"GET /console/disclosures":                           p.admin(p.disclosures),
		"POST /console/disclosures":                          p.admin(p.reauth(p.requestDisclosure)),
		"GET /console/disclosures/{id}":                      p.admin(p.disclosure),
		"POST /console/disclosures/{id}/approve":             p.admin(p.reauth(p.approveDisclosure)),
		"POST /console/disclosures/{id}/export":              p.admin(p.reauth(p.exportDisclosure)),
		"GET /console/assets/{file}":                         p.asset,
	})
}

// who is the signed-in staff member of a request.
type who struct {
	Session
	lang string
}

func (w who) reviewer() bool { return slices.Contains(w.Groups, contract.GroupReviewers) }
func (w who) admin() bool    { return slices.Contains(w.Groups, contract.GroupAdmins) }

// actor is the staff member as the audit trail records them.
func (w who) actor() kyc.Actor {
	if w.admin() && !w.reviewer() {
		return kyc.Actor{Kind: kyc.ActorAdmin, ID: w.Subject, Customer: w.Customer}
	}
	return kyc.Actor{Kind: kyc.ActorReviewer, ID: w.Subject, Customer: w.Customer}
}

// as is the staff member as the actor of a request that may state a
// purpose (?purpose=) for opening personal data: an admin who states one
// acts as an admin (as the JSON API's withPurpose), whatever other group
// they are in; anyone else stays who they are, and the use case refuses a
// reviewer's purpose.
func (w who) as(purpose string) kyc.Actor {
	a := w.actor()
	if purpose != "" && w.admin() {
		a.Kind = kyc.ActorAdmin
	}
	return a
}

type staffHandler func(w http.ResponseWriter, r *http.Request, me who)

// staff lets signed-in reviewers and admins through; anyone else gets the
// sign-in page (a customer's session is another cookie under another key:
// it never opens the console).
func (p *consolePages) staff(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ses, err := p.sessions.get(r)
		me := who{Session: ses, lang: language(r)}
		if err != nil || (!me.reviewer() && !me.admin()) {
			status := http.StatusUnauthorized
			if r.Method == http.MethodGet && r.URL.Path == "/console" {
				status = http.StatusOK
			}
			p.signinPage(w, r, status, "", r.URL.Path, false)
			return
		}
		if err := p.sessions.put(w, ses); err != nil {
			p.failErr(w, r, err)
			return
		}
		h(w, r, me)
	}
}

// admin lets only admins through.
func (p *consolePages) admin(h staffHandler) http.HandlerFunc {
	return p.staff(func(w http.ResponseWriter, r *http.Request, me who) {
		if !me.admin() {
			p.fail(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		h(w, r, me)
	})
}

// reauth asks for a recent sign-in (disclosures).
func (p *consolePages) reauth(h staffHandler) staffHandler {
	return func(w http.ResponseWriter, r *http.Request, me who) {
		if p.cfg.now().Sub(time.Unix(me.Auth, 0)) > Reauth {
			next := "/console/disclosures"
			if id := r.PathValue("id"); kyc.ValidID(id) {
				next += "/" + id
			}
			p.signinPage(w, r, http.StatusUnauthorized, "disc.reauth", next, true)
			return
		}
		h(w, r, me)
	}
}

type signinData struct{ Next string }

// signinPage asks a person to sign in; the link comes back to next, and
// with reauth the provider asks for the credentials again.
func (p *consolePages) signinPage(w http.ResponseWriter, r *http.Request, status int, msg, next string, reauth bool) {
	lang := language(r)
	q := url.Values{"next": {next}}
	if reauth {
		q.Set("reauth", "1")
	}
	v := view{Lang: lang, Title: text(lang, "console.title"), Path: "/console", Data: signinData{Next: "/console/signin?" + q.Encode()}}
	if msg != "" {
		v.Error = text(lang, msg)
	}
	p.render(w, r, status, "signin", v)
}

// signin starts the OpenID Connect flow: a state, a nonce and a PKCE
// verifier sealed in a short-lived cookie, and a redirect to the provider.
func (p *consolePages) signin(w http.ResponseWriter, r *http.Request) {
	f := newFlow(localPath(r.URL.Query().Get("next"), "/console"), r.URL.Query().Get("reauth") == "1", p.cfg.now())
	u, err := p.cfg.OIDC.authURL(r.Context(), f, language(r))
	if err != nil {
		p.cfg.log().ErrorContext(r.Context(), "oidc", "err", err)
		p.fail(w, r, http.StatusBadGateway, "console.signinfailed")
		return
	}
	v, err := p.cfg.Keys.seal(flowCookie, f)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: v, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(flowTTL / time.Second)})
	http.Redirect(w, r, u, http.StatusFound)
}

// callback finishes the flow: the state must be the one this browser
// started, the code is redeemed with the PKCE verifier, the ID token is
// verified (issuer, audience, nonce, expiry), and only members of the staff
// groups get a session.
func (p *consolePages) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(flowCookie)
	clearCookie(w, flowCookie)
	var f flow
	q := r.URL.Query()
	switch {
	case err != nil, p.cfg.Keys.open(flowCookie, c.Value, &f) != nil,
		subtle.ConstantTimeCompare([]byte(f.State), []byte(q.Get("state"))) != 1 || f.State == "",
		p.cfg.now().Sub(time.Unix(f.Started, 0)) > flowTTL,
		q.Get("code") == "":
		p.signinPage(w, r, http.StatusUnauthorized, "console.signinfailed", "/console", false)
		return
	}
	id, err := p.cfg.OIDC.exchange(r.Context(), q.Get("code"), f)
	if err != nil {
		p.cfg.log().WarnContext(r.Context(), "staff sign-in refused", "err", err)
		p.signinPage(w, r, http.StatusUnauthorized, "console.signinfailed", f.Next, false)
		return
	}
	me := who{Session: Session{Subject: id.Subject, Groups: id.Groups, Customer: id.Customer}}
	if !me.reviewer() && !me.admin() {
		p.fail(w, r, http.StatusForbidden, "console.notstaff")
		return
	}
	if f.Reauth && id.AuthTime.Before(time.Unix(f.Started, 0).Add(-time.Minute)) {
		// The provider did not ask again: the step stays refused.
		p.signinPage(w, r, http.StatusUnauthorized, "disc.reauth", f.Next, true)
		return
	}
	now := p.cfg.now().Unix()
	if err := p.sessions.put(w, Session{Subject: id.Subject, Groups: id.Groups, Customer: id.Customer, Start: now, Auth: id.AuthTime.Unix()}); err != nil {
		p.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

func (p *consolePages) signout(w http.ResponseWriter, r *http.Request) {
	p.sessions.clear(w)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// page is a console view for me.
func (p *consolePages) page(r *http.Request, me who, title string, data any) view {
	role := "role.reviewer"
	if me.admin() {
		role = "role.admin"
	}
	return view{Lang: me.lang, Title: title, Who: me.Subject, Role: text(me.lang, role), Admin: me.admin(), Data: data,
		Scripts: []string{"console.js"}}
}

type queueRow struct {
	kyc.QueueItem
	Age   string
	SLA   string // "", "near" or "past"
	Mine  bool
	Other bool
}

type queueData struct {
	Show    string
	Rows    []queueRow
	SLAText string
	Updated time.Time
}

func (p *consolePages) queueData(r *http.Request, me who) (queueData, error) {
	show := r.URL.Query().Get("show")
	if show != "mine" && show != "unclaimed" {
		show = "all"
	}
	items, err := p.svc.Queue(r.Context(), kyc.MaxQueue)
	if err != nil {
		return queueData{}, err
	}
	d := queueData{Show: show, SLAText: (view{Lang: me.lang}).Tf("sla.help", age(me.lang, p.cfg.ReviewSLA)), Updated: p.svc.Now()}
	for _, it := range items {
		row := queueRow{QueueItem: it, Age: age(me.lang, time.Duration(it.AgeSeconds)*time.Second),
			Mine: it.ClaimedBy == me.Subject, Other: it.ClaimedBy != "" && it.ClaimedBy != me.Subject}
		if sla := p.cfg.ReviewSLA; sla > 0 {
			switch a := time.Duration(it.AgeSeconds) * time.Second; {
			case a >= sla:
				row.SLA = "past"
			case a >= sla*3/4:
				row.SLA = "near"
			}
		}
		if (show == "mine" && !row.Mine) || (show == "unclaimed" && it.ClaimedBy != "") {
			continue
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// age is a duration as people read it.
func age(lang string, d time.Duration) string {
	h := int(d / time.Hour)
	m := int(d/time.Minute) % 60
	if lang == LangZhHant {
		if h >= 24 {
			return fmt.Sprintf("%d 天 %d 小時", h/24, h%24)
		}
		return fmt.Sprintf("%d 小時 %d 分鐘", h, m)
	}
	if h >= 24 {
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}

func (p *consolePages) queue(w http.ResponseWriter, r *http.Request, me who) {
	if c := r.URL.Query().Get("customer"); c != "" {
		if !kyc.ValidID(c) {
			p.fail(w, r, http.StatusNotFound, "error.notfound")
			return
		}
		http.Redirect(w, r, "/console/customers/"+c, http.StatusSeeOther)
		return
	}
	d, err := p.queueData(r, me)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "queue", p.page(r, me, text(me.lang, "queue.title"), d))
}

// queueRows is the queue's table alone: the page's script refreshes it.
func (p *consolePages) queueRows(w http.ResponseWriter, r *http.Request, me who) {
	d, err := p.queueData(r, me)
	if err != nil {
		p.failErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	v := p.page(r, me, "", d)
	v.Base = p.base
	if err := p.templates["queue"].ExecuteTemplate(w, "rows", v); err != nil {
		p.cfg.log().ErrorContext(r.Context(), "render", "page", "queue rows", "err", err)
	}
}
