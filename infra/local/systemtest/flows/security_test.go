package flows

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// personal is the personal data the walk below plants, by where it lives.
var personal = map[string]string{
	"file name":          "陳大文-HKID.jpg",
	"customer message":   "Dear Mr Chan Tai Man, your statement is too old",
	"note":               "matches the HKID photo, checked by phone",
	"extracted name":     "CHAN Tai Man",
	"extracted number":   "K7654321",
	"contact address":    "chan.taiman@example.com",
	"document link":      "X-Amz-",
	"path to a document": "/documents/",
}

// adminOnly are the details of admin matters the walk below plants: a
// disclosure, a legal hold, an admin's opening for a purpose. Other staff
// see that these happened, never these words (they may name an
// investigation).
var adminOnly = map[string]string{
	"disclosure authority":       "Hong Kong Police Force",
	"disclosure legal reference": "Court order 2026/88",
	"legal hold reason":          "fraud inquiry FI-2026-17",
	"admin's purpose":            "police request PR-5521",
}

// withheld is what no unprivileged reviewer may see: the personal data and
// the admin-only details.
func withheld() map[string]string {
	out := maps.Clone(personal)
	maps.Copy(out, adminOnly)
	return out
}

// walkWorld plants a pending submission (with a file name) claimed by rev-1,
// a rejected one (with a message, a note and extracted fields), an order, an
// order whose 3 days ran out (provisioned and suspended: a server in hk, so a
// disclosure may name the customer), an approved disclosure, a legal hold
// and an admin's opening of the decided submission for a purpose, and
// returns their ids.
func walkWorld(t *testing.T, s *sys) (pending, decided, disclosure string) {
	t.Helper()
	fourDaysAgo := s.clock.Now().Add(-96 * time.Hour)
	s.orderReceivedAt("o-w0", "cust-w", "kyc-vps", fourDaysAgo, fourDaysAgo)
	if rep := s.sweep(s.clock.Now()); rep.Suspended != 1 {
		t.Fatalf("the sweep suspended %d holds, want o-w0's", rep.Suspended)
	}
	s.placeWithContact("o-w", "cust-w", "hk", personal["contact address"])
	var named kyc.NewUpload
	s.must(http.StatusCreated, "POST", "/v1/kyc/documents", s.token("cust-w"), map[string]any{"category": "identity", "type": "passport",
		"contentType": kyc.JPEG, "size": len(jpegBytes), "fileName": personal["file name"]}, &named)
	s.upload(named.Upload, jpegBytes, kyc.JPEG)
	s.validate()
	addr := s.uploaded("cust-w", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-w"), map[string]string{"identityDocumentId": named.DocumentID, "addressDocumentId": addr}, &rec)
	rev := s.reviewer("rev-1")
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, &item)
	s.open(rec.SubmissionID, rev, kyc.Identity)
	s.open(rec.SubmissionID, rev, kyc.Address)
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/decision", rev, map[string]any{
		"decisions": map[string]any{"identity": map[string]any{"result": "approve"},
			"address": map[string]any{"result": "reject", "reasons": []string{"too_old"}}},
		"version": item.Version, "customerMessage": personal["customer message"], "note": personal["note"],
		"extracted": map[string]string{"fullName": personal["extracted name"], "documentNumber": personal["extracted number"]}}, nil)
	decided = rec.SubmissionID

	named2 := s.newDocument("cust-w", kyc.Address, kyc.TaxReturn, kyc.PDF, len(pdfBytes))
	s.upload(named2.Upload, pdfBytes, kyc.PDF)
	s.validate()
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-w"), map[string]string{"identityDocumentId": named.DocumentID, "addressDocumentId": named2.DocumentID}, &rec)
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, nil)
	pending = rec.SubmissionID

	a1, a2 := s.token("adm-1", contract.GroupAdmins), s.token("adm-2", contract.GroupAdmins)
	var d kyc.Disclosure
	s.must(http.StatusCreated, "POST", "/v1/admin/disclosures", a1, map[string]any{"customerId": "cust-w", "authority": adminOnly["disclosure authority"],
		"jurisdiction": "hk", "legalReference": adminOnly["disclosure legal reference"], "scope": []string{"documents", "personal_data"}}, &d)
	s.must(http.StatusOK, "POST", "/v1/admin/disclosures/"+d.ID+"/approve", a2, nil, nil)
	s.must(http.StatusOK, "POST", "/v1/admin/customers/cust-w/legal-hold", a1, map[string]any{"hold": true, "reason": adminOnly["legal hold reason"]}, nil)
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+decided+"?purpose="+url.QueryEscape(adminOnly["admin's purpose"]), a2, nil, nil)
	return pending, decided, d.ID
}

// TestUnprivilegedReviewerWalksEveryAdminRoute: a reviewer who holds no
// claim calls every route of the admin API, on a pending submission someone
// else holds and on a decided one. No answer carries a sealed field, a file
// name, a document link or a path to a document; every admin-only route
// answers 403; nothing is written (no claim taken, no decision, no audit
// entry of an opening). A route added to the API without a line here fails
// the test, so nobody can open one to reviewers unnoticed.
func TestUnprivilegedReviewerWalksEveryAdminRoute(t *testing.T) {
	s := newSys(t)
	pending, decided, disclosure := walkWorld(t, s)
	rev := s.reviewer("rev-9")
	approve := map[string]any{"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}},
		"version": 2}
	type call struct {
		path   string
		body   any
		status int
		code   string
	}
	sub := func(id, rest string) string { return "/v1/admin/submissions/" + id + rest }
	forbidden := func(path string, body any) []call { return []call{{path, body, 403, "forbidden"}} }
	walk := map[string][]call{
		"GET /v1/admin/submissions": {{"/v1/admin/submissions", nil, 200, ""}},
		"GET /v1/admin/submissions/{id}": {{sub(pending, ""), nil, 200, ""}, {sub(decided, ""), nil, 200, ""},
			{sub(decided, "?purpose=curious"), nil, 403, "forbidden"}},
		"GET /v1/admin/submissions/{id}/documents/{category}": {{sub(pending, "/documents/identity"), nil, 403, "claim_required"},
			{sub(pending, "/documents/address"), nil, 403, "claim_required"}, {sub(decided, "/documents/identity"), nil, 403, "purpose_required"},
			{sub(decided, "/documents/address?purpose=curious"), nil, 403, "forbidden"}},
		"POST /v1/admin/submissions/{id}/claim":     {{sub(pending, "/claim"), nil, 409, "claimed"}, {sub(decided, "/claim"), nil, 409, "already_decided"}},
		"POST /v1/admin/submissions/{id}/decision":  {{sub(pending, "/decision"), approve, 409, "not_claimed"}, {sub(decided, "/decision"), approve, 409, "already_decided"}},
		"GET /v1/admin/customers/{id}":              {{"/v1/admin/customers/cust-w", nil, 200, ""}},
		"GET /v1/admin/orders/{id}":                 {{"/v1/admin/orders/o-w", nil, 200, ""}},
		"GET /v1/admin/reasons":                     {{"/v1/admin/reasons", nil, 200, ""}},
		"POST /v1/admin/customers/{id}/legal-hold":  forbidden("/v1/admin/customers/cust-w/legal-hold", map[string]any{"hold": true, "reason": "x"}),
		"GET /v1/admin/customers/{id}/audit/verify": forbidden("/v1/admin/customers/cust-w/audit/verify", nil),
		"POST /v1/admin/disclosures": forbidden("/v1/admin/disclosures", map[string]any{"customerId": "cust-w", "authority": "x", "jurisdiction": "hk",
			"legalReference": "x", "scope": []string{"documents"}}),
		"GET /v1/admin/disclosures/{id}":          forbidden("/v1/admin/disclosures/"+disclosure, nil),
		"POST /v1/admin/disclosures/{id}/approve": forbidden("/v1/admin/disclosures/"+disclosure+"/approve", nil),
		"GET /v1/admin/disclosures/{id}/export":   forbidden("/v1/admin/disclosures/"+disclosure+"/export", nil),
	}
	record := map[string]any{"version": 2, "extracted": map[string]string{"documentNumber": "A123456(3)"}}
	walk["POST /v1/admin/submissions/{id}/record"] = []call{{sub(pending, "/record"), record, 409, "not_claimed"},
		{sub(decided, "/record"), record, 409, "already_decided"}}
	walk["POST /v1/admin/submissions/{id}/second-approval"] = forbidden(sub(pending, "/second-approval"), map[string]any{"approve": true, "version": 2})
	var routes []string
	for _, r := range contract.APIRoutesOf(contract.FunctionAdminAPI) {
		routes = append(routes, r.Pattern)
		calls, ok := walk[r.Pattern]
		if !ok {
			t.Errorf("route %s is not walked: say what an unprivileged reviewer gets from it", r.Pattern)
			continue
		}
		method, _, _ := strings.Cut(r.Pattern, " ")
		for _, c := range calls {
			before := s.snapshot()
			got := s.do(method, c.path, rev, c.body)
			if got.status != c.status || got.code() != c.code {
				t.Errorf("%s %s = %d %s, want %d %s", method, c.path, got.status, got.body, c.status, c.code)
			}
			for what, value := range withheld() {
				if strings.Contains(string(got.body), value) {
					t.Errorf("%s %s shows the %s: %s", method, c.path, what, got.body)
				}
			}
			if loc := got.header.Get("Location"); loc != "" {
				t.Errorf("%s %s redirects to %s", method, c.path, loc)
			}
			if s.snapshot() != before {
				t.Errorf("%s %s changed the table", method, c.path)
			}
		}
	}
	for pattern := range walk {
		if !slices.Contains(routes, pattern) {
			t.Errorf("the walk names %s, which is not a route of the admin API", pattern)
		}
	}

	// The same data is there, for those whose work needs it.
	var v kyc.SubmissionView
	s.must(http.StatusOK, "GET", sub(pending, ""), s.reviewer("rev-1"), nil, &v)
	if v.Identity.FileName != personal["file name"] || v.Identity.Open == "" {
		t.Fatalf("the claimer's view = %+v", v)
	}
	s.must(http.StatusOK, "GET", sub(decided, "?purpose=quality+check"), s.token("adm-1", contract.GroupAdmins), nil, &v)
	if v.Note != personal["note"] || v.CustomerMessage != personal["customer message"] || v.Extracted == nil ||
		v.Extracted.DocumentNumber != personal["extracted number"] {
		t.Fatalf("the admin's view for a purpose = %+v", v)
	}
	table := s.snapshot()
	for what, value := range personal {
		if strings.Contains(table, value) {
			t.Errorf("the table holds the %s in clear", what)
		}
	}
	for _, e := range s.published(contract.FunctionNotifier) {
		if e.Type == kyc.KycRejected && (e.SealedMessage == nil || strings.Contains(string(e.Raw), "statement is too old")) {
			t.Errorf("KycRejected on the bus carries the message in clear, or not at all: %s", e.Raw)
		}
	}
}

// TestUnprivilegedReviewerWalksTheConsole is the walk above through the
// reviewer console: a reviewer who holds no claim, signed in to the console,
// requests every console route on the same records. No page shows a sealed
// field, a file name, a document link or a path that opens a document;
// every admin-only page answers 403; nothing is written. A console route
// added without a line here fails the test.
func TestUnprivilegedReviewerWalksTheConsole(t *testing.T) {
	emulator.Integration(t)
	s := newSys(t)
	pending, decided, disclosure := walkWorld(t, s)
	p := newPages(t, s)
	rev := p.staff("rev-9", contract.GroupReviewers)
	type call struct {
		method, path string
		form         url.Values
		status       int
	}
	sub := func(id, rest string) string { return "/console/submissions/" + id + rest }
	decide := url.Values{"identity": {"approve"}, "address": {"approve"}, "version": {"2"}}
	walk := map[string][]call{
		"GET /console":                  {{"GET", "/console", nil, 200}},
		"GET /console/signin":           {{"GET", "/console/signin", nil, 302}},
		"GET /console/callback":         {{"GET", "/console/callback?code=x&state=y", nil, 401}},
		"POST /console/signout":         nil, // walked last: it ends the session
		"GET /console/queue":            {{"GET", "/console/queue", nil, 200}},
		"GET /console/submissions/{id}": {{"GET", sub(pending, ""), nil, 200}, {"GET", sub(decided, ""), nil, 200}, {"GET", sub(decided, "?purpose=curious"), nil, 403}},
		"GET /console/submissions/{id}/documents/{category}": {{"GET", sub(pending, "/documents/identity"), nil, 403},
			{"GET", sub(decided, "/documents/address"), nil, 403}, {"GET", sub(decided, "/documents/address?purpose=curious"), nil, 403}},
		"POST /console/submissions/{id}/claim":    {{"POST", sub(pending, "/claim"), url.Values{}, 409}, {"POST", sub(decided, "/claim"), url.Values{}, 409}},
		"POST /console/submissions/{id}/release":  {{"POST", sub(pending, "/release"), url.Values{}, 409}},
		"POST /console/submissions/{id}/decision": {{"POST", sub(pending, "/decision"), decide, 409}, {"POST", sub(decided, "/decision"), decide, 409}},
		"GET /console/customers/{id}":             {{"GET", "/console/customers/cust-w", nil, 200}},
		"POST /console/customers/{id}/legal-hold": {{"POST", "/console/customers/cust-w/legal-hold", url.Values{"hold": {"true"}, "reason": {"x"}}, 403}},
		"GET /console/orders/{id}":                {{"GET", "/console/orders/o-w", nil, 200}},
		"GET /console/disclosures":                {{"GET", "/console/disclosures", nil, 403}},
		"POST /console/disclosures": {{"POST", "/console/disclosures", url.Values{"customerId": {"cust-w"}, "authority": {"x"},
			"jurisdiction": {"hk"}, "legalReference": {"y"}, "scope": {"documents"}}, 403}},
		"GET /console/disclosures/{id}":          {{"GET", "/console/disclosures/" + disclosure, nil, 403}},
		"POST /console/disclosures/{id}/approve": {{"POST", "/console/disclosures/" + disclosure + "/approve", url.Values{}, 403}},
		"POST /console/disclosures/{id}/export":  {{"POST", "/console/disclosures/" + disclosure + "/export", url.Values{}, 403}},
		"GET /console/assets/{file}":             {{"GET", "/console/assets/app.css", nil, 200}},
	}
	record := url.Values{"docNumber": {"A123456(3)"}, "version": {"2"}}
	walk["POST /console/submissions/{id}/record"] = []call{{"POST", sub(pending, "/record"), record, 409}, {"POST", sub(decided, "/record"), record, 409}}
	walk["POST /console/submissions/{id}/second-approval"] = []call{{"POST", sub(pending, "/second-approval"), url.Values{"approve": {"true"}, "version": {"2"}}, 403}}
	check := func(c call) {
		t.Helper()
		before := s.snapshot()
		got := p.request(c.method, c.path, c.form, rev, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if got.status != c.status {
			t.Errorf("%s %s = %d, want %d: %.300s", c.method, c.path, got.status, c.status, got.body)
		}
		// The page may name its own address (a language switch); any other
		// path that opens a document is a leak.
		own, _, _ := strings.Cut(c.path, "?")
		body := strings.ReplaceAll(string(got.body), own, "")
		for what, value := range withheld() {
			if strings.Contains(body, value) {
				t.Errorf("%s %s shows the %s", c.method, c.path, what)
			}
		}
		if loc := got.header.Get("Location"); strings.Contains(loc, "X-Amz-") || strings.Contains(loc, "/documents/") {
			t.Errorf("%s %s redirects to %s", c.method, c.path, loc)
		}
		if s.snapshot() != before {
			t.Errorf("%s %s changed the table", c.method, c.path)
		}
	}
	var routes []string
	for _, r := range contract.PageRoutesOf(contract.FunctionAdminAPI) {
		routes = append(routes, r.Pattern)
		calls, ok := walk[r.Pattern]
		if !ok {
			t.Errorf("console route %s is not walked: say what an unprivileged reviewer gets from it", r.Pattern)
		}
		for _, c := range calls {
			check(c)
		}
	}
	for pattern := range walk {
		if !slices.Contains(routes, pattern) {
			t.Errorf("the walk names %s, which is not a console route", pattern)
		}
	}
	check(call{"POST", "/console/signout", url.Values{}, 303})
}

// TestNoOneReviewsTheirOwnAccount: staff and customer identities are kept
// apart. A staff token cannot use the customer API; a staff member cannot
// claim, open, view the personal data of or decide a submission of their own
// customer account, whether their staff subject is that customer id or their
// staff account is linked to it (claim custom:billingCustomerId).
func TestNoOneReviewsTheirOwnAccount(t *testing.T) {
	s := newSys(t)
	id := s.uploaded("1001", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("1001", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("1001"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)

	sameSubject := s.reviewer("1001")
	linked := s.signed(s.key, "test", map[string]any{"iss": s.st.Authorizer.Issuer, "aud": s.st.Authorizer.Audience[0], "sub": "staff-7",
		"iat": s.clock.Now().Unix() - 60, "exp": s.clock.Now().Unix() + 3600, "cognito:groups": []string{contract.GroupReviewers, contract.GroupAdmins},
		contract.ClaimBillingCustomer: "1001"})
	for _, tok := range []struct{ name, token string }{{"staff subject = customer id", sameSubject}, {"staff account linked to the customer", linked}} {
		t.Run(tok.name, func(t *testing.T) {
			before := s.snapshot()
			for _, c := range []struct {
				method, path string
				body         any
				status       int
				code         string
			}{
				{"GET", "/v1/kyc/status", nil, 403, "staff_token"},
				{"POST", "/v1/kyc/submissions", map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, 403, "staff_token"},
				{"POST", "/v1/admin/submissions/" + rec.SubmissionID + "/claim", nil, 403, "own_account"},
				{"GET", "/v1/admin/submissions/" + rec.SubmissionID + "/documents/identity", nil, 403, "own_account"},
				{"POST", "/v1/admin/submissions/" + rec.SubmissionID + "/decision", map[string]any{"decisions": map[string]any{
					"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}}, "version": 1}, 403, "own_account"},
			} {
				if r := s.do(c.method, c.path, tok.token, c.body); r.status != c.status || r.code() != c.code {
					t.Errorf("%s %s = %d %s, want %d %s", c.method, c.path, r.status, r.body, c.status, c.code)
				}
			}
			var v kyc.SubmissionView
			s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID, tok.token, nil, &v)
			if v.Withheld == "" || v.Identity.Open != "" {
				t.Errorf("the view of one's own submission = %+v", v)
			}
			if s.snapshot() != before {
				t.Error("a refused request changed the table")
			}
		})
	}
	if r := s.do("GET", "/v1/admin/submissions/"+rec.SubmissionID+"?purpose=mine", linked, nil); r.status != 403 || r.code() != "own_account" {
		t.Fatalf("an admin opening their own account for a purpose = %d %s", r.status, r.body)
	}
	// Any other reviewer reviews it.
	s.decide(rec.SubmissionID, "rev-1", true)
}
