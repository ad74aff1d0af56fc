package kyc_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/idcheck"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// hkid is a Hong Kong identity card number with a valid check digit, as the
// Immigration Department prints it; hkidTyped is the same number as a
// reviewer may type it.
const (
	hkid      = "A123456(3)"
	hkidTyped = "ａ１２３４５６ ３"
	otherHKID = "C668668(E)"
)

// review submits a national ID card and a bank statement for a customer
// with an order and has reviewer claim and open them; it returns the
// submission and its version.
func review(t *testing.T, w *kyctest.World, cust, reviewer string) (string, int) {
	t.Helper()
	w.PlaceOrder(cust, "o-"+cust)
	r := kyctest.Request(kyc.Identity)
	r.Type = kyc.NationalID
	up := w.CreateDocument(cust, r)
	if res := w.Validate(kyc.DocumentKey(cust, up.DocumentID), w.Post(up, kyctest.Content(r.ContentType, int(r.Size)))); res.Outcome != "valid" {
		t.Fatalf("upload: %+v", res)
	}
	sub := w.SubmitDocuments(cust, up.DocumentID, w.Upload(cust, kyc.Address))
	return sub, w.Review(reviewer, sub).Version
}

// record records fields on a claimed submission and returns the answer.
func record(t *testing.T, w *kyctest.World, reviewer, sub string, version int, e kyc.Extracted) kyc.RecordResult {
	t.Helper()
	res, err := w.Service.Record(ctx, kyctest.Reviewer(reviewer), sub, kyc.RecordInput{Extracted: e, Version: version})
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return res
}

// verifiedOnC1 approves customer c-1's national ID card, number hkid (by
// rev-1): the account later submissions of that number are compared with.
func verifiedOnC1(t *testing.T, w *kyctest.World) {
	t.Helper()
	first, v := review(t, w, "c-1", "rev-1")
	in := kyctest.Approval(v)
	in.Extracted = &kyc.Extracted{DocumentNumber: hkid}
	w.Decide("rev-1", first, in)
}

// hkidOnC2 is c-2's submission claimed by rev-2 with hkid recorded, after
// c-1's was verified with it: its approval needs a second admin. It returns
// the submission and its version.
func hkidOnC2(t *testing.T, w *kyctest.World) (string, int) {
	t.Helper()
	verifiedOnC1(t, w)
	sub, v := review(t, w, "c-2", "rev-2")
	return sub, record(t, w, "rev-2", sub, v, kyc.Extracted{DocumentNumber: hkid}).Version
}

// warned reports whether the warnings hold code (on field, if given).
func warned(ws []kyc.Warning, code string, field ...string) bool {
	return slices.ContainsFunc(ws, func(w kyc.Warning) bool {
		return w.Code == code && (len(field) == 0 || w.Field == field[0])
	})
}

func codes(ws []kyc.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Field+":"+w.Code)
	}
	return out
}

// TestSameDocumentOnOtherAccounts: the number a reviewer records is looked
// up, by its keyed hash and through the document-number index, among every
// other customer's submissions; the reviewer sees which customers used it
// and what was decided there, however the number was typed. The customer's
// own earlier submissions are not "another account".
func TestSameDocumentOnOtherAccounts(t *testing.T) {
	w := kyctest.New(t)
	// c-1 was verified with the card, c-2 rejected as altered, c-3 waits.
	for _, c := range []struct {
		cust, number string
		in           func(version int) kyc.DecisionInput
	}{
		{"c-1", hkid, kyctest.Approval},
		{"c-2", "a1234563", func(v int) kyc.DecisionInput {
			return kyc.DecisionInput{Identity: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"altered"}}, Address: kyc.Verdict{Result: "approve"}, Version: v}
		}},
		{"c-5", otherHKID, kyctest.Approval},
	} {
		sub, v := review(t, w, c.cust, "rev-1")
		in := c.in(v)
		in.Extracted = &kyc.Extracted{DocumentNumber: c.number}
		w.Decide("rev-1", sub, in)
		w.Advance(time.Hour)
	}
	pending, v3 := review(t, w, "c-3", "rev-2")
	record(t, w, "rev-2", pending, v3, kyc.Extracted{DocumentNumber: "A 123456 (3)"})
	w.Advance(time.Hour)

	sub, v := review(t, w, "c-4", "rev-1")
	queries := w.Store.Calls(kyctest.MethodSubmissionsByDocNumber)
	res := record(t, w, "rev-1", sub, v, kyc.Extracted{FullName: "CHAN Tai Man", DocumentNumber: hkidTyped})
	if w.Store.Calls(kyctest.MethodSubmissionsByDocNumber)-queries != 1 {
		t.Fatal("the lookup did not go through the document-number index")
	}
	var got []string
	for _, s := range res.Signals.SameDocument {
		got = append(got, s.CustomerID+":"+string(s.Status)+":"+string(s.Identity)+":"+strings.Join(reasonStrings(s.Reasons), ","))
	}
	if want := []string{"c-3:pending_review::", "c-2:rejected:rejected:altered", "c-1:approved:approved:"}; !slices.Equal(got, want) {
		t.Fatalf("same document %v, want %v (newest first)", got, want)
	}
	if !res.Signals.SameDocument[2].Verified || res.Signals.SameDocument[1].Verified || !res.Signals.SecondApprovalRequired ||
		!warned(res.Signals.Warnings, kyc.WarnSameDocumentVerified, "documentNumber") || res.Signals.NumberFormat != string(idcheck.FormatHKID) {
		t.Fatalf("signals %+v", res.Signals)
	}
	if res.Version != v+1 || w.Submission(sub).DocNumberHash == "" {
		t.Fatalf("record answered version %d (was %d); stored hash %q", res.Version, v, w.Submission(sub).DocNumberHash)
	}
	e := lastEntry(t, w, "c-4")
	if e.Action != "submission.recorded" || e.Detail["fields"] != "fullName,documentNumber" || e.Detail["sameDocument"] != "3" ||
		!strings.Contains(e.Detail["warnings"], kyc.WarnSameDocumentVerified) {
		t.Fatalf("audit %+v", e)
	}
	noPersonalData(t, w, "CHAN Tai Man", hkid, "A1234563", "a1234563")

	// The claimer's view shows the same; another reviewer's does not.
	view, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub, "")
	if err != nil || view.Signals == nil || len(view.Signals.SameDocument) != 3 || view.Extracted == nil || view.Extracted.DocumentNumber != hkidTyped {
		t.Fatalf("claimer's view: %+v, %v", view.Signals, err)
	}
	if view, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-9"), sub, ""); err != nil || view.Signals != nil {
		t.Fatalf("another reviewer's view shows signals: %+v, %v", view.Signals, err)
	}

	// A customer whose number nobody else used sees no match; neither does
	// the customer's own resubmission.
	lone, lv := review(t, w, "c-6", "rev-1")
	if res := record(t, w, "rev-1", lone, lv, kyc.Extracted{DocumentNumber: "Z683365(5)"}); len(res.Signals.SameDocument) != 0 ||
		warned(res.Signals.Warnings, kyc.WarnSameDocumentVerified) || warned(res.Signals.Warnings, kyc.WarnSameDocumentElsewhere) {
		t.Fatalf("signals of a number nobody else used: %+v", res.Signals)
	}
	w.Decide("rev-1", lone, kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"},
		Address: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"too_old"}}, Version: lv + 1})
	again := w.SubmitDocuments("c-6", w.Document("c-6", w.Submission(lone).IdentityDocumentID).ID, w.Upload("c-6", kyc.Address))
	av := w.Review("rev-1", again).Version
	if res := record(t, w, "rev-1", again, av, kyc.Extracted{DocumentNumber: "Z683365(5)"}); len(res.Signals.SameDocument) != 0 {
		t.Fatalf("the customer's own earlier submission counted as another account: %+v", res.Signals.SameDocument)
	}
}

func reasonStrings(rs []kyc.ReasonCode) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r))
	}
	return out
}

// TestApprovalOfADocumentVerifiedElsewhereNeedsASecondAdmin: four eyes.
// The reviewer's approval is recorded as waiting, nothing is decided; a
// different admin who opened the identity document confirms it, and only
// then is the customer verified and the order released.
func TestApprovalOfADocumentVerifiedElsewhereNeedsASecondAdmin(t *testing.T) {
	w := kyctest.New(t)
	verifiedOnC1(t, w)

	sub, v := review(t, w, "c-2", "rev-2")
	w.Advance(2 * time.Hour)
	in := kyctest.Approval(v)
	in.Extracted = &kyc.Extracted{DocumentNumber: hkidTyped}
	res := w.Decide("rev-2", sub, in)
	if res.Status != kyc.SubPending || res.ApprovalRequest == nil || res.ApprovalRequest.RequestedBy != "rev-2" ||
		!slices.Equal(res.ApprovalRequest.Customers, []string{"c-1"}) || !warned(res.Warnings, kyc.WarnSameDocumentVerified) {
		t.Fatalf("decision %+v", res)
	}
	if c := w.Customer("c-2"); c.Status != kyc.StatusPendingReview || w.Hold("c-2", "o-c-2").State != kyc.AwaitingKYC {
		t.Fatalf("decided before the second approval: %s, hold %s", c.Status, w.Hold("c-2", "o-c-2").State)
	}
	if e := lastEntry(t, w, "c-2"); e.Action != "submission.approval_requested" || e.Detail["customers"] != "c-1" {
		t.Fatalf("audit %+v", e)
	}
	wantEvents(t, w, kyc.KycRequested, kyc.KycVerified, kyc.ServiceProvisionRequested, kyc.KycRequested)

	version := w.Submission(sub).Version
	check := unchanged(t, w)
	for _, tt := range []struct {
		name  string
		admin kyc.Actor
		in    kyc.SecondApprovalInput
		kind  kyc.Kind
		code  string
	}{
		{"a reviewer", kyctest.Reviewer("rev-3"), kyc.SecondApprovalInput{Approve: true, Version: version}, kyc.KindForbidden, "admin_only"},
		{"the requester", kyctest.Admin("rev-2"), kyc.SecondApprovalInput{Approve: true, Version: version}, kyc.KindForbidden, "self_approval"},
		{"the customer", kyc.Actor{Kind: kyc.ActorAdmin, ID: "adm-9", Customer: "c-2"}, kyc.SecondApprovalInput{Approve: true, Version: version}, kyc.KindForbidden, "own_account"},
		{"a stale version", kyctest.Admin("adm-1"), kyc.SecondApprovalInput{Approve: true, Version: version - 1}, kyc.KindConflict, "stale_version"},
		{"no version", kyctest.Admin("adm-1"), kyc.SecondApprovalInput{Approve: true}, kyc.KindInvalid, "version_required"},
		{"an admin who has not opened the identity document", kyctest.Admin("adm-1"), kyc.SecondApprovalInput{Approve: true, Version: version}, kyc.KindConflict, "documents_not_opened"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.Service.SecondApproval(ctx, tt.admin, sub, tt.in)
			wantErr(t, err, tt.kind, tt.code)
		})
	}
	check()

	const purpose = "second approval: same HKID as c-1"
	if _, err := w.Service.OpenDocument(ctx, kyctest.Admin("adm-1"), sub, kyc.Identity, purpose); err != nil {
		t.Fatal(err)
	}
	w.Advance(time.Hour)
	res, err := w.Service.SecondApproval(ctx, kyctest.Admin("adm-1"), sub, kyc.SecondApprovalInput{Approve: true, Version: version})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != kyc.SubApproved || res.CustomerStatus != kyc.StatusVerified || res.SecondApprovalBy != "adm-1" ||
		!warned(res.Warnings, kyc.WarnSameDocumentVerified) {
		t.Fatalf("second approval %+v", res)
	}
	stored := w.Submission(sub)
	if stored.DecidedBy != "rev-2" || stored.SecondApprovalBy != "adm-1" || stored.ApprovalRequest != nil || !stored.DecidedAt.Equal(w.Now()) {
		t.Fatalf("stored %+v", stored)
	}
	if h := w.Hold("c-2", "o-c-2"); h.State != kyc.ProvisionedExtended || h.Extension.Days != 1 {
		t.Fatalf("hold %s %+v: the approval time is the second approval's", h.State, h.Extension)
	}
	var decided kyc.AuditEntry
	for _, e := range w.Audit("c-2") {
		if e.Action == "submission.decided" {
			decided = e
		}
	}
	if decided.Actor != kyctest.Admin("adm-1") || decided.Detail["requestedBy"] != "rev-2" || decided.Detail["secondApproval"] != "adm-1" {
		t.Fatalf("audit %+v", decided)
	}
	_, err = w.Service.SecondApproval(ctx, kyctest.Admin("adm-3"), sub, kyc.SecondApprovalInput{Approve: true, Version: stored.Version})
	wantErr(t, err, kyc.KindConflict, "already_decided")
}

// TestSecondApprovalDeclined: a declined request goes back to the reviewer,
// who may then reject; recording other fields withdraws a request; a
// document only rejected elsewhere needs no second admin.
func TestSecondApprovalDeclined(t *testing.T) {
	w := kyctest.New(t)
	sub, v := hkidOnC2(t, w)
	res := w.Decide("rev-2", sub, kyctest.Approval(v))
	if res.ApprovalRequest == nil {
		t.Fatalf("no approval request: %+v", res)
	}
	res, err := w.Service.SecondApproval(ctx, kyctest.Admin("adm-1"), sub, kyc.SecondApprovalInput{Approve: false, Version: res.Version})
	if err != nil || res.Status != kyc.SubPending || w.Submission(sub).ApprovalRequest != nil {
		t.Fatalf("decline: %+v, %v", res, err)
	}
	if e := lastEntry(t, w, "c-2"); e.Action != "submission.approval_declined" || e.Detail["requestedBy"] != "rev-2" {
		t.Fatalf("audit %+v", e)
	}
	// The reviewer asks again, then records another number: the request is
	// withdrawn, and the approval of a number verified nowhere goes through.
	res = w.Decide("rev-2", sub, kyctest.Approval(res.Version))
	if res.ApprovalRequest == nil {
		t.Fatal("no request the second time")
	}
	rec := record(t, w, "rev-2", sub, res.Version, kyc.Extracted{DocumentNumber: otherHKID})
	if w.Submission(sub).ApprovalRequest != nil || lastEntry(t, w, "c-2").Detail["approvalRequestWithdrawn"] != "rev-2" {
		t.Fatalf("recording did not withdraw the request: %+v", w.Submission(sub).ApprovalRequest)
	}
	if res := w.Decide("rev-2", sub, kyctest.Approval(rec.Version)); res.Status != kyc.SubApproved {
		t.Fatalf("approval %+v", res)
	}

	// Rejected elsewhere only: a warning, no second admin.
	third, tv := review(t, w, "c-3", "rev-1")
	in := kyc.DecisionInput{Identity: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"altered"}}, Address: kyc.Verdict{Result: "approve"}, Version: tv}
	in.Extracted = &kyc.Extracted{DocumentNumber: "Z683365(5)"}
	w.Decide("rev-1", third, in)
	fourth, v4 := review(t, w, "c-4", "rev-1")
	in = kyctest.Approval(v4)
	in.Extracted = &kyc.Extracted{DocumentNumber: "Z683365(5)"}
	if res := w.Decide("rev-1", fourth, in); res.Status != kyc.SubApproved || !warned(res.Warnings, kyc.WarnSameDocumentElsewhere) ||
		res.ApprovalRequest != nil {
		t.Fatalf("decision %+v", res)
	}
}

// TestApprovalRequestEndsWithTheClaim: an approval waiting for a second
// admin belongs to the reviewer who holds the claim. Releasing the claim, or
// another reviewer taking it over once it expired, withdraws the request
// (audited), so an admin cannot confirm it in the name of someone who no
// longer reviews the submission; the reviewer's own renewal keeps it.
func TestApprovalRequestEndsWithTheClaim(t *testing.T) {
	w := kyctest.New(t)
	sub, v := hkidOnC2(t, w)
	ask := func(reviewer string, version int) int {
		t.Helper()
		res := w.Decide(reviewer, sub, kyctest.Approval(version))
		if res.ApprovalRequest == nil || res.ApprovalRequest.RequestedBy != reviewer {
			t.Fatalf("no approval request from %s: %+v", reviewer, res)
		}
		return res.Version
	}
	ask("rev-2", v)

	// Renewing one's own claim keeps the request.
	renewed, err := w.Service.Claim(ctx, kyctest.Reviewer("rev-2"), sub)
	if err != nil || w.Submission(sub).ApprovalRequest == nil {
		t.Fatalf("renewal: %+v, %v, request %+v", renewed, err, w.Submission(sub).ApprovalRequest)
	}

	// Released: withdrawn.
	if _, err := w.Service.Release(ctx, kyctest.Reviewer("rev-2"), sub); err != nil {
		t.Fatal(err)
	}
	if r := w.Submission(sub).ApprovalRequest; r != nil {
		t.Fatalf("release kept the request %+v", r)
	}
	if e := lastEntry(t, w, "c-2"); e.Action != "submission.released" || e.Detail["approvalRequestWithdrawn"] != "rev-2" {
		t.Fatalf("audit %+v", e)
	}
	_, err = w.Service.SecondApproval(ctx, kyctest.Admin("adm-1"), sub, kyc.SecondApprovalInput{Approve: true, Version: w.Submission(sub).Version})
	wantErr(t, err, kyc.KindConflict, "no_approval_request")

	// Asked again, then the claim expires and rev-3 takes it over: withdrawn.
	v = ask("rev-2", w.Review("rev-2", sub).Version)
	w.Advance(kyc.ClaimTTL + time.Minute)
	taken, err := w.Service.Claim(ctx, kyctest.Reviewer("rev-3"), sub)
	if err != nil {
		t.Fatal(err)
	}
	if stored := w.Submission(sub); stored.ApprovalRequest != nil || stored.ClaimedBy != "rev-3" || taken.Version != v+1 {
		t.Fatalf("takeover: stored %+v, answer %+v", stored, taken)
	}
	if e := lastEntry(t, w, "c-2"); e.Action != "submission.claimed" || e.Detail["approvalRequestWithdrawn"] != "rev-2" {
		t.Fatalf("audit %+v", e)
	}
	if _, err := w.Service.OpenDocument(ctx, kyctest.Admin("adm-1"), sub, kyc.Identity, "second approval"); err != nil {
		t.Fatal(err)
	}
	_, err = w.Service.SecondApproval(ctx, kyctest.Admin("adm-1"), sub, kyc.SecondApprovalInput{Approve: true, Version: taken.Version})
	wantErr(t, err, kyc.KindConflict, "no_approval_request")
	if c := w.Customer("c-2"); c.Status != kyc.StatusPendingReview {
		t.Fatalf("customer %s", c.Status)
	}
}

// TestCheckDigitWarnings: the formats and check digits of what a reviewer
// records are warnings with the field they are about, in the record's
// answer, the view and the decision's answer; they never block a decision.
func TestCheckDigitWarnings(t *testing.T) {
	w := kyctest.New(t)
	sub, v := review(t, w, "c-1", "rev-1")
	bad := kyc.Extracted{DocumentNumber: "A123456(4)"}
	res := record(t, w, "rev-1", sub, v, bad)
	if !warned(res.Signals.Warnings, string(idcheck.CodeCheckDigitMismatch), "documentNumber") || res.Signals.NumberFormat != "hkid" {
		t.Fatalf("signals %v", codes(res.Signals.Warnings))
	}
	for _, wn := range res.Signals.Warnings {
		if wn.Category != kyc.Identity || strings.Contains(wn.Message, "A123456") {
			t.Fatalf("warning %+v", wn)
		}
	}
	dec := w.Decide("rev-1", sub, kyctest.Approval(res.Version))
	if dec.Status != kyc.SubApproved || !warned(dec.Warnings, string(idcheck.CodeCheckDigitMismatch), "documentNumber") {
		t.Fatalf("decision %+v: a failed check digit must warn, not block", dec)
	}
	if e := findDecided(w, "c-1"); !strings.Contains(e.Detail["warnings"], string(idcheck.CodeCheckDigitMismatch)) {
		t.Fatalf("the decision's audit entry does not name the warnings: %+v", e)
	}

	// A passport's MRZ (ICAO 9303's specimen) with a corrupted check digit.
	sub2, v2 := review(t, w, "c-2", "rev-1")
	mrz := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
	res = record(t, w, "rev-1", sub2, v2, kyc.Extracted{DocumentNumber: "L898902C3", MRZ: strings.Replace(mrz, "7408122", "7408123", 1)})
	if !warned(res.Signals.Warnings, string(idcheck.CodeCheckDigitMismatch), string(idcheck.FieldMRZBirthDate)) {
		t.Fatalf("MRZ signals %v", codes(res.Signals.Warnings))
	}
	// The good MRZ: no check-digit warning; it expired in 2012, so the
	// document is expired (from the MRZ, no expiry recorded).
	res = record(t, w, "rev-1", sub2, res.Version, kyc.Extracted{DocumentNumber: "L898902C3", MRZ: mrz})
	if warned(res.Signals.Warnings, string(idcheck.CodeCheckDigitMismatch)) || !res.Signals.DocumentExpired {
		t.Fatalf("MRZ signals %v, expired %v", codes(res.Signals.Warnings), res.Signals.DocumentExpired)
	}
	// Nothing recorded: the missing number is the warning.
	sub3, _ := review(t, w, "c-3", "rev-1")
	view, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub3, "")
	if err != nil || view.Signals.Recorded || !warned(view.Signals.Warnings, string(idcheck.CodeMissing), "documentNumber") {
		t.Fatalf("view signals %+v, %v", view.Signals, err)
	}
}

func findDecided(w *kyctest.World, cust string) kyc.AuditEntry {
	for _, e := range w.Audit(cust) {
		if e.Action == "submission.decided" {
			return e
		}
	}
	return kyc.AuditEntry{}
}

// TestExpiredDocumentCannotBeApproved: the expiry is judged by today's date
// in the service region's time zone (Hong Kong here), and an expired
// identity document cannot be approved; the signals propose
// expired_document, and a rejection with it goes through.
func TestExpiredDocumentCannotBeApproved(t *testing.T) {
	// 2026-03-02T17:30Z is 3 March, 01:30 in Hong Kong.
	w := kyctest.New(t)
	sub, v := review(t, w, "c-1", "rev-1")
	w.Clock.Set(time.Date(2026, 3, 2, 17, 30, 0, 0, time.UTC))
	for _, tt := range []struct {
		expiry  string
		expired bool
	}{
		{"2026-03-03", false}, // today in Hong Kong: valid through the day
		{"2026-03-02", true},  // yesterday in Hong Kong (today in UTC)
		{"2031-12-31", false},
		{"2020-01-01", true},
	} {
		res := record(t, w, "rev-1", sub, v, kyc.Extracted{DocumentExpiry: tt.expiry})
		v = res.Version
		if res.Signals.DocumentExpired != tt.expired || warned(res.Signals.Warnings, kyc.WarnDocumentExpired, "documentExpiry") != tt.expired ||
			slices.Contains(res.Signals.Proposed, kyc.Proposal{Category: kyc.Identity, Reason: kyc.ReasonExpiredDocument}) != tt.expired ||
			res.Signals.TimeZone != kyctest.Zone || res.Signals.Today.String() != "2026-03-03" {
			t.Fatalf("expiry %s: signals %+v", tt.expiry, res.Signals)
		}
	}
	v = record(t, w, "rev-1", sub, v, kyc.Extracted{DocumentExpiry: "2026-03-02"}).Version
	check := unchanged(t, w)
	_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, kyctest.Approval(v))
	wantErr(t, err, kyc.KindInvalid, "document_expired")
	// The decision may carry the expiry itself.
	in := kyctest.Approval(v)
	in.Extracted = &kyc.Extracted{DocumentExpiry: "2025-12-31"}
	_, err = w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, in)
	wantErr(t, err, kyc.KindInvalid, "document_expired")
	check()
	res := w.Decide("rev-1", sub, kyc.DecisionInput{Identity: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{kyc.ReasonExpiredDocument}},
		Address: kyc.Verdict{Result: "approve"}, Version: v})
	if res.Status != kyc.SubRejected || !warned(res.Warnings, kyc.WarnDocumentExpired) {
		t.Fatalf("rejection %+v", res)
	}
}

// TestProofOfAddressAge: a proof of address issued more than three calendar
// months before today (the service region's date) is flagged and too_old
// proposed; it does not block an approval.
func TestProofOfAddressAge(t *testing.T) {
	w := kyctest.New(t)
	sub, v := review(t, w, "c-1", "rev-1")
	w.Clock.Set(time.Date(2026, 5, 30, 16, 30, 0, 0, time.UTC)) // 31 May, 00:30 in Hong Kong
	for _, tt := range []struct {
		issued string
		old    bool
		future bool
	}{
		{"2026-02-28", false, false}, // 31 May less three months is 28 February
		{"2026-02-27", true, false},
		{"2026-05-31", false, false},
		{"2026-06-01", false, true},
		{"2025-11-30", true, false},
	} {
		res := record(t, w, "rev-1", sub, v, kyc.Extracted{AddressDate: tt.issued})
		v = res.Version
		if res.Signals.AddressTooOld != tt.old || warned(res.Signals.Warnings, kyc.WarnAddressTooOld, "addressDate") != tt.old ||
			slices.Contains(res.Signals.Proposed, kyc.Proposal{Category: kyc.Address, Reason: kyc.ReasonTooOld}) != tt.old ||
			warned(res.Signals.Warnings, kyc.WarnAddressDateFuture) != tt.future {
			t.Fatalf("issued %s: signals %+v", tt.issued, res.Signals)
		}
	}
	v = record(t, w, "rev-1", sub, v, kyc.Extracted{AddressDate: "2025-01-15"}).Version
	if res := w.Decide("rev-1", sub, kyctest.Approval(v)); res.Status != kyc.SubApproved || !warned(res.Warnings, kyc.WarnAddressTooOld) {
		t.Fatalf("approval %+v: an old proof of address warns, it does not block", res)
	}
}

// TestRecordRefused: only the reviewer holding the claim records, on the
// version they read, well-formed fields; a refused recording changes
// nothing and seals nothing.
func TestRecordRefused(t *testing.T) {
	w := kyctest.New(t)
	sub, v := review(t, w, "c-1", "rev-1")
	seals, marks := w.Sealer.Calls(kyctest.MethodSeal), w.Sealer.Calls(kyctest.MethodFingerprint)
	check := unchanged(t, w)
	for _, tt := range []struct {
		name     string
		reviewer kyc.Actor
		in       kyc.RecordInput
		kind     kyc.Kind
		code     string
	}{
		{"another reviewer", kyctest.Reviewer("rev-2"), kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: hkid}, Version: v}, kyc.KindConflict, "not_claimed"},
		{"a stale version", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: hkid}, Version: v - 1}, kyc.KindConflict, "stale_version"},
		{"no version", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: hkid}}, kyc.KindInvalid, "version_required"},
		{"nothing", kyctest.Reviewer("rev-1"), kyc.RecordInput{Version: v}, kyc.KindInvalid, "extracted_required"},
		{"an expiry that is not a date", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{DocumentExpiry: "31/12/2030"}, Version: v}, kyc.KindInvalid, "invalid_documentExpiry"},
		{"an impossible address date", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{AddressDate: "2026-02-30"}, Version: v}, kyc.KindInvalid, "invalid_addressDate"},
		{"a birth date that is not a date", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{BirthDate: "1990-13-45"}, Version: v}, kyc.KindInvalid, "invalid_birthDate"},
		{"a number too long", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: strings.Repeat("1", 65)}, Version: v}, kyc.KindInvalid, "invalid_documentNumber"},
		{"a name with a line break", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{FullName: "CHAN\nTai Man"}, Version: v}, kyc.KindInvalid, "invalid_fullName"},
		{"an MRZ too long", kyctest.Reviewer("rev-1"), kyc.RecordInput{Extracted: kyc.Extracted{MRZ: strings.Repeat("<", 1025)}, Version: v}, kyc.KindInvalid, "invalid_mrz"},
		{"the customer's own account", kyc.Actor{Kind: kyc.ActorReviewer, ID: "rev-1", Customer: "c-1"}, kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: hkid}, Version: v}, kyc.KindForbidden, "own_account"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.Service.Record(ctx, tt.reviewer, sub, tt.in)
			wantErr(t, err, tt.kind, tt.code)
		})
	}
	_, err := w.Service.Record(ctx, kyctest.Reviewer("rev-1"), "no-such-sub", kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: hkid}, Version: 1})
	wantErr(t, err, kyc.KindNotFound, "submission_not_found")
	check()
	if w.Sealer.Calls(kyctest.MethodSeal) != seals || w.Sealer.Calls(kyctest.MethodFingerprint) != marks {
		t.Fatal("a refused recording sealed or hashed something")
	}
	// A decided submission takes no more recording.
	v = record(t, w, "rev-1", sub, v, kyc.Extracted{DocumentNumber: hkid}).Version
	w.Decide("rev-1", sub, kyctest.Approval(v))
	_, err = w.Service.Record(ctx, kyctest.Reviewer("rev-1"), sub, kyc.RecordInput{Extracted: kyc.Extracted{DocumentNumber: hkid}, Version: v + 1})
	wantErr(t, err, kyc.KindConflict, "already_decided")
	// The decision without fields kept what was recorded.
	if stored := w.Submission(sub); stored.Extracted == nil || stored.DocNumberHash == "" {
		t.Fatalf("the decision dropped the recorded fields: %+v", stored)
	}
}

// The dates of the signals: calendar months, clamped at a month's end, and
// the date of an instant in a zone.
func TestDateArithmetic(t *testing.T) {
	for _, tt := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-05-31", -3, "2026-02-28"},
		{"2028-05-31", -3, "2028-02-29"},
		{"2026-03-15", -3, "2025-12-15"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2026-12-31", -12, "2025-12-31"},
	} {
		d, _ := kyc.ParseDate(tt.from)
		if got := d.AddMonths(tt.n).String(); got != tt.want {
			t.Errorf("%s + %d months = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
	hk, _ := time.LoadLocation("Asia/Hong_Kong")
	at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	if got := kyc.DateIn(at, hk).String(); got != "2026-03-03" {
		t.Errorf("date in Hong Kong %s", got)
	}
	if got := kyc.DateIn(at, nil).String(); got != "2026-03-02" {
		t.Errorf("date in UTC %s", got)
	}
}
