package flows

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// TestReviewFlow: an order placed two days ago and reported now is held
// for 3 days from now, and KycRequested goes out; the customer uploads and submits; a reviewer sees the queue, claims,
// gets short-lived attachment links (audited), approves; the customer is
// verified for two years and the order is provisioned with its due date
// extended by the time taken, all visible on the order and the customer.
func TestReviewFlow(t *testing.T) {
	s := newSys(t)
	orderedAt := s.clock.Now().Add(-48 * time.Hour)
	if res := s.order("ord-1", "cust-r", "kyc-vps", orderedAt); res.State != kyc.AwaitingKYC {
		t.Fatalf("order = %+v", res)
	}
	notices := s.published(contract.FunctionNotifier)
	if len(notices) != 1 || notices[0].Type != kyc.KycRequested || notices[0].Source != contract.SourceKYC ||
		notices[0].Deadline == nil || !notices[0].Deadline.Equal(s.clock.Now().Add(72*time.Hour)) || notices[0].TimeZone != "Asia/Hong_Kong" {
		t.Fatalf("notices = %+v", notices)
	}

	id := s.uploaded("cust-r", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("cust-r", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-r"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)

	s.clock.Add(2 * time.Hour)
	rev := s.reviewer("rev-1")
	var q struct{ Items []kyc.QueueItem }
	s.must(http.StatusOK, "GET", "/v1/admin/submissions?status=pending_review", rev, nil, &q)
	if len(q.Items) != 1 || q.Items[0].SubmissionID != rec.SubmissionID || q.Items[0].AgeSeconds != 7200 {
		t.Fatalf("queue = %+v", q.Items)
	}

	var before kyc.SubmissionView
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID, rev, nil, &before)
	if before.Identity.Open != "" || before.Withheld == "" {
		t.Fatalf("paths to the documents before the claim: %+v", before)
	}
	if r := s.do("GET", "/v1/admin/submissions/"+rec.SubmissionID+"/documents/identity", rev, nil); r.status != 403 || r.code() != "claim_required" {
		t.Fatalf("opening a document before the claim = %d %s", r.status, r.body)
	}
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, &item)
	var view kyc.SubmissionView
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID, rev, nil, &view)
	// Approving before the documents were opened is refused.
	approve := map[string]any{"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}},
		"version": view.Version}
	if r := s.do("POST", "/v1/admin/submissions/"+rec.SubmissionID+"/decision", rev, approve); r.status != 409 || r.code() != "documents_not_opened" {
		t.Fatalf("approval before opening = %d %s", r.status, r.body)
	}
	for _, d := range []kyc.ReviewDocument{view.Identity, view.Address} {
		r := s.do("GET", d.Open, rev, nil)
		if r.status != http.StatusFound || r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("open %s = %d %v", d.Category, r.status, r.header)
		}
		u, _ := url.Parse(r.header.Get("Location"))
		q := u.Query()
		exp, _ := strconv.Atoi(q.Get("X-Amz-Expires"))
		if exp < 1 || exp > 300 || !strings.HasPrefix(q.Get("response-content-disposition"), "inline") ||
			q.Get("response-content-type") != d.ContentType || q.Get("versionId") == "" {
			t.Fatalf("link %s: expires %d, disposition %q, type %q", d.ID, exp, q.Get("response-content-disposition"), q.Get("response-content-type"))
		}
		if d.Category == kyc.Identity && !strings.Contains(u.Path, "/reviewed/cust-r/") {
			t.Fatalf("the identity document's link shows %s, want its reviewed copy", u.Path)
		}
		if status, _ := s.fetch(u.String()); status != 200 {
			t.Fatalf("download = %d", status)
		}
	}
	other := s.do("GET", "/v1/admin/submissions/"+rec.SubmissionID, s.reviewer("rev-2"), nil)
	if other.status != 200 || strings.Contains(string(other.body), "/documents/") {
		t.Fatalf("a reviewer without the claim got paths to the documents: %s", other.body)
	}

	s.clock.Add(time.Hour)
	rev = s.reviewer("rev-1") // a fresh token: the first one has expired
	var res kyc.DecisionResult
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/decision", rev, map[string]any{
		"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}},
		"version":   view.Version, "note": "checked against the passport chip",
		"extracted": map[string]string{"fullName": "陳大文", "documentNumber": "K1234567(8)", "birthDate": "1990-01-01"},
	}, &res)
	approvedAt := s.clock.Now()
	if res.Status != kyc.SubApproved || res.CustomerStatus != kyc.StatusVerified || !res.ExpiresAt.Equal(approvedAt.AddDate(2, 0, 0)) {
		t.Fatalf("decision = %+v", res)
	}

	var order kyc.OrderView
	s.must(http.StatusOK, "GET", "/v1/admin/orders/ord-1", rev, nil, &order)
	// Ordered 48h before the start, approved 3h after it: 51h, rounded up to 3 days.
	if order.State != kyc.ProvisionedExtended || order.NextDueDate != kyc.NewDate(2026, 12, 29) ||
		order.Extension == nil || order.Extension.Exact != 51*time.Hour || order.Rendered {
		t.Fatalf("order = %+v", order)
	}
	var actions []string
	for _, h := range order.History {
		actions = append(actions, h.Action)
	}
	if !slices.Equal(actions, []string{"order.held", "hold.approved"}) || order.History[1].Actor.ID != "rev-1" {
		t.Fatalf("history = %+v", order.History)
	}

	cmds := s.published(contract.FunctionBillingAdapter)
	if got := types(cmds); !slices.Equal(got, []string{"ServiceDueDateExtended ord-1", "ServiceProvisionRequested ord-1"}) {
		t.Fatalf("billing commands = %v", got)
	}
	for _, c := range cmds {
		if c.Type == kyc.ServiceDueDateExtended {
			if c.PreviousDueDate.String() != "2026-12-26" || c.Extension.Days != 3 ||
				c.After != "ord-1:provision" || c.Extension.Exact != 51*time.Hour {
				t.Fatalf("extension event = %s", c.Raw)
			}
		}
	}
	if n := types(s.published(contract.FunctionNotifier)); !slices.Equal(n, []string{"KycVerified "}) {
		t.Fatalf("notices = %v", n)
	}

	var cust kyc.CustomerAdminView
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-r", rev, nil, &cust)
	var trail []string
	for _, e := range cust.Audit {
		trail = append(trail, e.Action)
	}
	want := []string{"order.held", "submission.created", "submission.claimed", "personal_data.opened", "document.opened", "document.opened",
		"submission.decided", "customer.verified", "hold.approved"}
	if !slices.Equal(trail, want) || cust.Status != kyc.StatusVerified {
		t.Fatalf("audit = %v, status %s", trail, cust.Status)
	}
	if r := kyc.VerifyChain(cust.Audit, cust.Audit[len(cust.Audit)-1:][0].HeadOf()); !r.OK {
		t.Fatalf("audit chain: %+v", r)
	}
	if raw := s.snapshot(); strings.Contains(raw, "陳大文") || strings.Contains(raw, "K1234567") || strings.Contains(raw, "passport chip") {
		t.Fatal("personal fields stored in clear")
	}
	// Once decided, the personal data is withheld even from the reviewer who
	// decided; an admin opens it for a stated purpose, which is audited.
	var decided kyc.SubmissionView
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID, rev, nil, &decided)
	if decided.Extracted != nil || decided.Note != "" || decided.Withheld == "" {
		t.Fatalf("decided view for the reviewer = %+v", decided)
	}
	admin := s.token("adm-1", contract.GroupAdmins)
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID+"?purpose="+url.QueryEscape("complaint 4411"), admin, nil, &decided)
	if decided.Extracted == nil || decided.Extracted.FullName != "陳大文" || decided.Note != "checked against the passport chip" {
		t.Fatalf("decided view for an admin with a purpose = %+v", decided)
	}
	s.must(http.StatusOK, "GET", "/v1/admin/customers/cust-r", admin, nil, &cust)
	if e := cust.Audit[len(cust.Audit)-1]; e.Action != "personal_data.opened" || e.Detail["purpose"] != "complaint 4411" || e.Actor.ID != "adm-1" {
		t.Fatalf("the admin's opening is audited as %+v", e)
	}
}

// TestConcurrentDecisions: many decisions on one submission at once; exactly
// one wins, the others get 409, and the customer is verified once.
func TestConcurrentDecisions(t *testing.T) {
	s := newSys(t)
	s.order("ord-c", "cust-c", "kyc-vps", s.clock.Now().Add(-time.Hour))
	s.published(contract.FunctionNotifier)
	id := s.uploaded("cust-c", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("cust-c", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-c"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	rev := s.reviewer("rev-1")
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, &item)
	s.open(rec.SubmissionID, rev, kyc.Identity)
	s.open(rec.SubmissionID, rev, kyc.Address)

	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			result := "approve"
			if i%2 == 1 {
				result = "reject"
			}
			body := map[string]any{"decisions": map[string]any{"identity": map[string]any{"result": "approve"},
				"address": map[string]any{"result": result, "reasons": reasonsFor(result)}}, "version": item.Version}
			statuses[i] = s.do("POST", "/v1/admin/submissions/"+rec.SubmissionID+"/decision", rev, body).status
		}()
	}
	wg.Wait()
	wins := 0
	for _, st := range statuses {
		switch st {
		case 200:
			wins++
		case 409:
		default:
			t.Fatalf("statuses = %v", statuses)
		}
	}
	if wins != 1 {
		t.Fatalf("%d decisions won: %v", wins, statuses)
	}
	cmds := s.published(contract.FunctionBillingAdapter)
	notices := s.published(contract.FunctionNotifier)
	if len(notices) != 1 || (len(cmds) != 2 && len(cmds) != 0) {
		t.Fatalf("one decision must emit one outcome: notices %v, commands %v", types(notices), types(cmds))
	}
}

func reasonsFor(result string) []string {
	if result == "reject" {
		return []string{"unreadable"}
	}
	return nil
}

// TestAdminBadInput: wrong roles, unknown ids, malformed decisions, unknown
// reason codes, stale versions, someone else's claim and decisions on
// decided submissions get the SPEC error and change nothing.
func TestAdminBadInput(t *testing.T) {
	s := newSys(t)
	decided := s.verified("cust-v", "rev-1")
	id := s.uploaded("cust-p", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	addr := s.uploaded("cust-p", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-p"), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
	pending := rec.SubmissionID
	var item kyc.QueueItem
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+pending+"/claim", s.reviewer("rev-1"), nil, &item)

	rev, other, cust := s.reviewer("rev-1"), s.reviewer("rev-2"), s.token("cust-p")
	admin := s.token("adm-1", contract.GroupAdmins)
	ok := map[string]any{"result": "approve"}
	decision := func(identity, address any, version any) map[string]any {
		return map[string]any{"decisions": map[string]any{"identity": identity, "address": address}, "version": version}
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"customer reads the queue", "GET", "/v1/admin/submissions", cust, nil, 403, "forbidden"},
		{"customer claims", "POST", "/v1/admin/submissions/" + pending + "/claim", cust, nil, 403, "forbidden"},
		{"customer decides", "POST", "/v1/admin/submissions/" + pending + "/decision", cust, decision(ok, ok, item.Version), 403, "forbidden"},
		{"customer reads an order", "GET", "/v1/admin/orders/ord-x", cust, nil, 403, "forbidden"},
		{"customer reads a customer", "GET", "/v1/admin/customers/cust-p", cust, nil, 403, "forbidden"},
		{"no token", "GET", "/v1/admin/submissions", "", nil, 401, "unauthorized"},
		{"queue of another status", "GET", "/v1/admin/submissions?status=approved", rev, nil, 422, "unsupported_status"},
		{"queue limit out of range", "GET", "/v1/admin/submissions?limit=0", rev, nil, 422, "invalid_limit"},
		{"unknown submission", "GET", "/v1/admin/submissions/nosuchsub", rev, nil, 404, "submission_not_found"},
		{"claim of an unknown submission", "POST", "/v1/admin/submissions/nosuchsub/claim", rev, nil, 404, "submission_not_found"},
		{"claim held by someone else", "POST", "/v1/admin/submissions/" + pending + "/claim", other, nil, 409, "claimed"},
		{"claim of a decided submission", "POST", "/v1/admin/submissions/" + decided + "/claim", rev, nil, 409, "already_decided"},
		{"decision by a reviewer without the claim", "POST", "/v1/admin/submissions/" + pending + "/decision", other, decision(ok, ok, item.Version), 409, "not_claimed"},
		{"decision on a stale version", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, decision(ok, ok, item.Version-1), 409, "stale_version"},
		{"decision on a decided submission", "POST", "/v1/admin/submissions/" + decided + "/decision", rev, decision(ok, ok, 3), 409, "already_decided"},
		{"decision on an unknown submission", "POST", "/v1/admin/submissions/nosuchsub/decision", rev, decision(ok, ok, 1), 404, "submission_not_found"},
		{"malformed decision", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, `{"decisions": {`, 400, "malformed"},
		{"decision with an unknown field", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, map[string]any{"decisions": map[string]any{}, "version": 1, "force": true}, 400, "malformed"},
		{"decision without the address verdict", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, map[string]any{"decisions": map[string]any{"identity": ok}, "version": item.Version}, 422, "decisions_required"},
		{"decision without a version", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, map[string]any{"decisions": map[string]any{"identity": ok, "address": ok}}, 422, "version_required"},
		{"unknown reason code", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, decision(ok, map[string]any{"result": "reject", "reasons": []string{"ugly"}}, item.Version), 422, "unknown_reason"},
		{"rejection without reasons", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, decision(ok, map[string]any{"result": "reject"}, item.Version), 422, "reasons_required"},
		{"unknown result", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, decision(ok, map[string]any{"result": "maybe"}, item.Version), 422, "invalid_result"},
		{"customer message too long", "POST", "/v1/admin/submissions/" + pending + "/decision", rev, map[string]any{"decisions": map[string]any{"identity": ok, "address": ok}, "version": item.Version, "customerMessage": strings.Repeat("x", 2001)}, 422, "message_too_long"},
		{"unknown order", "GET", "/v1/admin/orders/nosuchorder", admin, nil, 404, "order_not_found"},
		{"unknown customer", "GET", "/v1/admin/customers/nosuchcustomer", admin, nil, 404, "customer_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.snapshot()
			r := s.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if s.snapshot() != before {
				t.Fatal("a refused request changed the table")
			}
		})
	}
}
