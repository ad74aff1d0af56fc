package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/web/webtest"
)

// Staff sign in with the authorization code flow and PKCE: the console's
// session cookie is set only after the ID token is verified, and only for
// the staff groups.
func TestStaffSignInWithOIDC(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	first := b.get("/console")
	first.has(t, "Staff sign in", `href="/console/signin?next=%2Fconsole"`)
	p := s.signInAs(b, webtest.Person{Subject: "staff-7", Groups: []string{contract.GroupReviewers}}, "/console")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console" {
		t.Fatalf("callback %d → %q", p.status, p.header.Get("Location"))
	}
	b.get("/console").has(t, "Submissions waiting for review", "staff-7", "reviewer")

	// Someone outside the staff groups gets no session.
	c := s.browser()
	p = s.signInAs(c, webtest.Person{Subject: "someone"}, "/console")
	if p.status != http.StatusForbidden || len(c.c.Jar.Cookies(mustURL(s.srv.URL))) > 0 {
		t.Fatalf("a non-staff person: %d, cookies %v", p.status, c.c.Jar.Cookies(mustURL(s.srv.URL)))
	}
}

// The callback refuses a state this browser did not start, a replayed code,
// and an ID token for another client or with another nonce.
func TestStaffCallbackRefusesForgeries(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	start := b.get("/console/signin")
	s.issuer.SignIn(webtest.Person{Subject: "staff-7", Groups: []string{contract.GroupReviewers}})
	cb := s.issuer.Authorize(t, start.header.Get("Location"))
	other := s.browser() // another browser: no flow cookie
	if p := other.get(cb); p.status != http.StatusUnauthorized {
		t.Fatalf("callback in another browser: %d", p.status)
	}
	u := mustURL(cb)
	q := u.Query()
	q.Set("state", "forged")
	u.RawQuery = q.Encode()
	b2 := s.browser()
	b2.get("/console/signin")
	if p := b2.get(u.String()); p.status != http.StatusUnauthorized {
		t.Fatalf("forged state: %d", p.status)
	}
	if p := b.get(cb); p.status != http.StatusSeeOther {
		t.Fatalf("the real callback: %d %s", p.status, p.body)
	}
	if p := b.get(cb); p.status != http.StatusUnauthorized {
		t.Fatalf("the callback replayed: %d", p.status)
	}
	// An open redirect through next is not possible.
	for _, next := range []string{"https://evil.test/", "//evil.test", "/verify", "/console/../verify", "/\\evil.test"} {
		c := s.browser()
		p := s.signInAs(c, webtest.Person{Subject: "staff-7", Groups: []string{contract.GroupReviewers}}, next)
		if loc := p.header.Get("Location"); loc != "/console" {
			t.Errorf("next %q → %q", next, loc)
		}
	}
}

// A customer's session never opens the console, and a staff session never
// opens the customer's page (different cookies under different keys).
func TestSessionsStayApart(t *testing.T) {
	s := newSite(t)
	cust := s.customer("1001")
	v := ""
	for _, c := range cust.c.Jar.Cookies(mustURL(s.srv.URL)) {
		if c.Name == "__Host-kyc-verify" {
			v = c.Value
		}
	}
	b := s.browser()
	for _, path := range []string{"/console", "/console/queue", "/console/customers/1001"} {
		p := b.do(http.MethodGet, path, nil, map[string]string{"Cookie": "__Host-kyc-console=" + v})
		if strings.Contains(p.body, "Submissions waiting") || strings.Contains(p.body, "Audit trail") {
			t.Fatalf("%s opened with a customer's session", path)
		}
	}
	staff := s.staff("staff-7", contract.GroupReviewers)
	staff.get("/verify").has(t, "Sign in to verify your identity")
}

// The review flow in the console: find the submission, claim it, both
// documents shown with links issued (and audited), approve; a second
// reviewer sees the claim and cannot decide.
func TestReviewInTheConsole(t *testing.T) {
	s := newSite(t)
	s.w.PlaceOrder("1001", "5001")
	sub := s.w.Submit("1001")
	rev := s.staff("staff-7", contract.GroupReviewers)
	q := rev.get("/console")
	q.has(t, sub, "1001", "nobody")
	rev.get("/console?show=mine").has(t, "Nothing is waiting")
	page := rev.get("/console/submissions/" + sub)
	page.has(t, "Claim the submission to see its documents")
	if strings.Contains(page.body, "doc-img") {
		t.Fatal("documents shown before the claim")
	}
	if p := rev.post("/console/submissions/"+sub+"/claim", nil); p.status != http.StatusSeeOther {
		t.Fatalf("claim %d %s", p.status, p.body)
	}
	page = rev.get("/console/submissions/" + sub)
	page.has(t, `class="doc-img"`, `class="doc-pdf"`, "Record decision", "Message to the customer", "Internal note",
		"The statement or bill is more than three months old.", "對帳單或帳單已超過三個月。", "Keyboard shortcuts", "5001")
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' data: blob: https://files.test") || !strings.Contains(csp, "frame-src blob:") {
		t.Fatalf("review CSP %q", csp)
	}
	// Each document opens through the console's audited route: a redirect
	// to a short-lived link, and an audit entry per opening.
	for _, cat := range []string{"identity", "address"} {
		path := "/console/submissions/" + sub + "/documents/" + cat
		if !strings.Contains(page.body, path) {
			t.Fatalf("the page does not open the %s document through %s", cat, path)
		}
		d := rev.get(path)
		if d.status != http.StatusFound || !strings.HasPrefix(d.header.Get("Location"), kyctest.DownloadURL) ||
			d.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("open %s: %d, Location %q, Cache-Control %q", cat, d.status, d.header.Get("Location"), d.header.Get("Cache-Control"))
		}
	}
	opened := 0
	for _, e := range s.w.Audit("1001") {
		if e.Action == "document.opened" {
			opened++
		}
	}
	if opened != 2 {
		t.Fatalf("%d openings audited, want 2", opened)
	}

	other := s.staff("staff-8", contract.GroupReviewers)
	other.get("/console").has(t, "staff-7")
	op := other.get("/console/submissions/" + sub)
	if strings.Contains(op.body, `class="doc-img"`) || strings.Contains(op.body, `id="decision"`) {
		t.Fatal("a second reviewer sees the documents or the decision form")
	}
	version := s.w.Submission(sub).Version
	p := other.post("/console/submissions/"+sub+"/decision", url.Values{"identity": {"approve"}, "address": {"approve"},
		"version": {itoa(version)}, "seenClaimedBy": {"staff-7"}, "seenStatus": {"pending_review"}})
	if p.status != http.StatusConflict {
		t.Fatalf("second reviewer's decision: %d", p.status)
	}
	if s.w.Submission(sub).Status != kyc.SubPending {
		t.Fatal("the second reviewer decided")
	}

	p = rev.post("/console/submissions/"+sub+"/decision", url.Values{"identity": {"approve"}, "address": {"approve"},
		"version": {itoa(version)}, "seenClaimedBy": {"staff-7"}, "seenStatus": {"pending_review"}, "fullName": {"Chan Tai Man"},
		"docNumber": {"K1234567"}, "docExpiry": {"2031-05-01"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("decision %d %s", p.status, p.body)
	}
	if s.w.Customer("1001").Status != kyc.StatusVerified {
		t.Fatal("not verified")
	}
	rev.get("/console/submissions/"+sub+"?done=1").has(t, "Decision recorded", "This submission is decided")
	if strings.Contains(s.logs.String(), "Chan Tai Man") || strings.Contains(s.logs.String(), "K1234567") {
		t.Fatal("personal data in the log")
	}
}

// A decision on a stale version shows what changed instead of failing
// silently.
func TestStaleDecisionShowsWhatChanged(t *testing.T) {
	s := newSite(t)
	sub := s.w.Submit("1001")
	rev := s.staff("staff-7", contract.GroupReviewers)
	rev.post("/console/submissions/"+sub+"/claim", nil)
	v := s.w.Submission(sub).Version
	rev.post("/console/submissions/"+sub+"/claim", nil) // renewed elsewhere: the version moved on
	p := rev.post("/console/submissions/"+sub+"/decision", url.Values{"identity": {"approve"}, "address": {"reject"},
		"addressReasons": {"too_old"}, "message": {"Please send a newer statement."}, "version": {itoa(v)},
		"seenClaimedBy": {"staff-7"}, "seenStatus": {"pending_review"}})
	if p.status != http.StatusConflict {
		t.Fatalf("stale decision %d", p.status)
	}
	p.has(t, "This submission changed since you opened it", "Version: "+itoa(v)+" → "+itoa(v+1), "Please send a newer statement.")
	if !regexp.MustCompile(`value="too_old"\s+checked`).MatchString(p.body) {
		t.Fatal("the reviewer's ticks were lost")
	}
}

// Release gives the submission back; only the claimer can.
func TestReleaseClaim(t *testing.T) {
	s := newSite(t)
	sub := s.w.Submit("1001")
	rev := s.staff("staff-7", contract.GroupReviewers)
	rev.post("/console/submissions/"+sub+"/claim", nil)
	other := s.staff("staff-8", contract.GroupReviewers)
	if p := other.post("/console/submissions/"+sub+"/release", nil); p.status != http.StatusConflict {
		t.Fatalf("release by another: %d", p.status)
	}
	if p := rev.post("/console/submissions/"+sub+"/release", nil); p.status != http.StatusSeeOther {
		t.Fatalf("release: %d", p.status)
	}
	if c := s.w.Submission(sub).ClaimedBy; c != "" {
		t.Fatalf("still claimed by %s", c)
	}
	found := false
	for _, e := range s.w.Audit("1001") {
		found = found || e.Action == "submission.released"
	}
	if !found {
		t.Fatal("the release is not audited")
	}
}

// Customer and order pages; admins see the legal hold and disclosures,
// reviewers do not; disclosure steps need a recent sign-in.
func TestCustomerOrderAndAdminPages(t *testing.T) {
	s := newSite(t)
	s.w.PlaceOrder("1001", "5001")
	s.w.Advance(5 * time.Hour) // verified 5 hours after ordering: a day's extension
	s.w.Verify("1001")
	rev := s.staff("staff-7", contract.GroupReviewers)
	rev.get("/console/customers/1001").has(t, "Verified", "Audit trail", "The audit chain is intact", "5001",
		"Submission decided <code class=\"small muted\">submission.decided", "billing ")
	rev.get("/console/orders/5001").has(t, "provisioned_extended", "Billing commands sent", "ServiceProvisionRequested", "History",
		"Verification approved for the order <code class=\"small muted\">hold.approved awaiting_kyc → provisioned_extended")
	// The trail in the reviewer's language: who and what in words, the code beside.
	rev.lang = "zh-Hant"
	rev.get("/console/customers/1001").has(t, "已作出審核決定 <code class=\"small muted\">submission.decided", "帳單系統 ", "審核員 ")
	rev.get("/console/orders/5001").has(t, "訂單的驗證已批准 <code class=\"small muted\">hold.approved")
	rev.lang = ""
	if p := rev.get("/console/disclosures"); p.status != http.StatusForbidden {
		t.Fatalf("reviewer on disclosures: %d", p.status)
	}
	if p := rev.post("/console/customers/1001/legal-hold", url.Values{"hold": {"true"}, "reason": {"x"}}); p.status != http.StatusForbidden {
		t.Fatalf("reviewer sets a legal hold: %d", p.status)
	}
	if p := rev.get("/console/customers/nobody"); p.status != http.StatusNotFound {
		t.Fatalf("unknown customer: %d", p.status)
	}

	adm := s.staff("admin-1", contract.GroupAdmins)
	if p := adm.post("/console/customers/1001/legal-hold", url.Values{"hold": {"true"}, "reason": {"authority request 42"}}); p.status != http.StatusSeeOther {
		t.Fatalf("legal hold: %d %s", p.status, p.body)
	}
	adm.get("/console/customers/1001").has(t, "On: nothing of this customer is purged")
	p := adm.post("/console/disclosures", url.Values{"customerId": {"1001"}, "authority": {"HK Police"}, "jurisdiction": {"hk"},
		"legalReference": {"Cap. 1"}, "scope": {"documents"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("disclosure request %d %s", p.status, p.body)
	}
	loc := p.header.Get("Location")
	adm.get(loc).has(t, "Waiting for a second admin")
	if strings.Contains(adm.get(loc).body, "Approve (second admin)") {
		t.Fatal("the requester may approve")
	}
	adm2 := s.staff("admin-2", contract.GroupAdmins)
	s.clock.Advance(Reauth + time.Minute)
	if p := adm2.post(loc+"/approve", nil); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "recent sign-in") || !strings.Contains(p.body, "reauth=1") {
		t.Fatalf("approval without a recent sign-in: %d", p.status)
	}
	s.signInAs(adm2, webtest.Person{Subject: "admin-2", Groups: []string{contract.GroupAdmins}, AuthTime: s.clock.Now()}, loc)
	if p := adm2.post(loc+"/approve", nil); p.status != http.StatusSeeOther {
		t.Fatalf("approval: %d %s", p.status, p.body)
	}
	exp := adm2.post(loc+"/export", nil)
	if exp.status != http.StatusOK || !strings.Contains(exp.body, "Download") {
		t.Fatalf("export %d %s", exp.status, exp.body)
	}
	if exp.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the export may be cached")
	}
}

// Reauth mirrors web.Reauth.
const Reauth = 10 * time.Minute

// Every page renders in both languages with no missing text.
func TestEveryPageInBothLanguages(t *testing.T) {
	s := newSite(t)
	s.w.PlaceOrder("1001", "5001")
	sub := s.w.Submit("1001")
	s.w.PlaceOrder("1002", "5002")
	rej := s.w.Submit("1002")
	s.w.Reject("rev-9", rej)
	adm := s.staff("admin-1", contract.GroupAdmins, contract.GroupReviewers)
	adm.post("/console/submissions/"+sub+"/claim", nil)
	// The signals of many findings, and an approval waiting for a second admin.
	verifiedWith(t, s, "1009", passportNumber)
	if p := adm.post("/console/submissions/"+sub+"/record", decisionForm(s, sub, map[string]string{"docNumber": passportNumber,
		"docExpiry": "2020-01-01", "addressDate": "2025-01-01", "mrz": "abc"})); p.status != http.StatusOK {
		t.Fatalf("check: %d %s", p.status, p.body)
	}
	s.w.PlaceOrder("1003", "5003")
	waiting := s.w.Submit("1003")
	in := kyctest.Approval(s.w.Review("rev-2", waiting).Version)
	in.Extracted = &kyc.Extracted{DocumentNumber: passportNumber}
	if res := s.w.Decide("rev-2", waiting, in); res.ApprovalRequest == nil {
		t.Fatal("the approval does not wait")
	}
	cust := s.customer("1002")
	for _, lang := range []string{"en", "zh-Hant"} {
		for _, tt := range []struct {
			b    *browser
			path string
		}{
			{s.browser(), "/verify"}, {cust, "/verify"}, {s.browser(), "/console"}, {adm, "/console"}, {adm, "/console/queue"},
			{adm, "/console/submissions/" + sub}, {adm, "/console/submissions/" + rej}, {adm, "/console/customers/1001"},
			{adm, "/console/orders/5001"}, {adm, "/console/disclosures"}, {adm, "/console/submissions/" + waiting},
			{adm, "/console/submissions/" + waiting + "?purpose=second+approval"}, {adm, "/console/submissions/" + rej + "?purpose=audit"},
		} {
			sep := "?"
			if strings.Contains(tt.path, "?") {
				sep = "&"
			}
			p := tt.b.get(tt.path + sep + "lang=" + lang)
			if p.status != http.StatusOK {
				t.Fatalf("%s %s: %d", lang, tt.path, p.status)
			}
			if strings.Contains(p.body, "no message") || strings.Contains(p.body, "%!") || strings.Contains(p.body, "A check found something") ||
				strings.Contains(p.body, "檢查發現需要留意") {
				t.Fatalf("%s %s: a missing or broken text", lang, tt.path)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
