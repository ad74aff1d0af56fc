package flows

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// TestSameDocumentNeedsASecondAdmin, on the whole system (the DynamoDB
// index of keyed hashes): a reviewer records the number of a card already
// verified on another account and sees it; the approval waits (202) for a
// second admin, who opens the card and confirms it; only then is the
// customer verified. Nothing of the number is in the table in clear.
func TestSameDocumentNeedsASecondAdmin(t *testing.T) {
	s := newSys(t)
	rev := s.reviewer("rev-1")
	record := func(sub string, version int, number string) kyc.RecordResult {
		t.Helper()
		var res kyc.RecordResult
		s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+sub+"/record", rev, map[string]any{"version": version,
			"extracted": map[string]string{"documentNumber": number, "documentExpiry": "2031-12-31", "addressDate": s.clock.Now().Format("2006-01-02")}}, &res)
		return res
	}
	reviewed := func(cust string) (string, int) {
		t.Helper()
		id := s.uploaded(cust, kyc.Identity, kyc.NationalID, kyc.JPEG, jpegBytes)
		addr := s.uploaded(cust, kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
		var rec kyc.SubmissionReceipt
		s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token(cust), map[string]string{"identityDocumentId": id, "addressDocumentId": addr}, &rec)
		var item kyc.QueueItem
		s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, &item)
		s.open(rec.SubmissionID, rev, kyc.Identity)
		s.open(rec.SubmissionID, rev, kyc.Address)
		return rec.SubmissionID, item.Version
	}
	approve := func(sub string, version, status int) kyc.DecisionResult {
		t.Helper()
		var res kyc.DecisionResult
		s.must(status, "POST", "/v1/admin/submissions/"+sub+"/decision", rev, map[string]any{"version": version,
			"decisions": map[string]any{"identity": map[string]any{"result": "approve"}, "address": map[string]any{"result": "approve"}}}, &res)
		return res
	}

	first, v1 := reviewed("cust-first")
	if res := record(first, v1, "A123456(3)"); len(res.Signals.SameDocument) != 0 || res.Signals.NumberFormat != "hkid" {
		t.Fatalf("first signals %+v", res.Signals)
	}
	approve(first, v1+1, http.StatusOK)

	second, v2 := reviewed("cust-second")
	res := record(second, v2, "a 123456 3")
	if len(res.Signals.SameDocument) != 1 || res.Signals.SameDocument[0].CustomerID != "cust-first" || !res.Signals.SameDocument[0].Verified ||
		!res.Signals.SecondApprovalRequired {
		t.Fatalf("second signals %+v", res.Signals)
	}
	waiting := approve(second, res.Version, http.StatusAccepted)
	if waiting.ApprovalRequest == nil || waiting.CustomerStatus != kyc.StatusPendingReview {
		t.Fatalf("approval %+v", waiting)
	}
	adm := s.token("adm-1", contract.GroupAdmins)
	if r := s.do("POST", "/v1/admin/submissions/"+second+"/second-approval", adm, map[string]any{"approve": true, "version": waiting.Version}); r.status != 409 || r.code() != "documents_not_opened" {
		t.Fatalf("second approval before opening = %d %s", r.status, r.body)
	}
	s.open(second, adm, kyc.Identity, "purpose=second+approval")
	var done kyc.DecisionResult
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+second+"/second-approval", adm, map[string]any{"approve": true, "version": waiting.Version}, &done)
	if done.Status != kyc.SubApproved || done.CustomerStatus != kyc.StatusVerified || done.SecondApprovalBy != "adm-1" {
		t.Fatalf("second approval %+v", done)
	}
	if raw := s.snapshot(); strings.Contains(raw, "A123456") || strings.Contains(raw, "123456 3") {
		t.Fatal("the document number is in the table in clear")
	}
}
