package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// The ICAO 9303 specimen passport (TD3): its number, and its MRZ with the
// check digit of the birth date altered (the composite then fails too).
// It expired on 2012-04-15.
const (
	passportNumber = "L898902C3"
	doctoredMRZ    = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\nL898902C36UTO7408123F1204159ZE184226B<<<<<10"
)

// both are the texts a page shows in English and in Traditional Chinese.
type both map[string][]string

// verifiedWith has a reviewer verify a customer, recording the identity
// document's number (the earlier account the same document was used on).
func verifiedWith(t *testing.T, s *site, cust, number string) string {
	t.Helper()
	s.w.PlaceOrder(cust, "o-"+cust)
	sub := s.w.Submit(cust)
	in := kyctest.Approval(s.w.Review("rev-1", sub).Version)
	in.Extracted = &kyc.Extracted{DocumentNumber: number}
	s.w.Decide("rev-1", sub, in)
	return sub
}

// rejectedWith has a reviewer reject a customer's identity document as
// altered, recording its number.
func rejectedWith(t *testing.T, s *site, cust, number string) {
	t.Helper()
	s.w.PlaceOrder(cust, "o-"+cust)
	sub := s.w.Submit(cust)
	in := kyc.DecisionInput{Identity: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"altered"}},
		Address: kyc.Verdict{Result: "approve"}, Version: s.w.Review("rev-1", sub).Version, Extracted: &kyc.Extracted{DocumentNumber: number}}
	s.w.Decide("rev-1", sub, in)
}

// claimed has a reviewer claim a submission in the console and open both
// its documents (as the page does when it shows them); it returns the
// reviewer's browser.
func claimed(t *testing.T, s *site, reviewer, lang, sub string) *browser {
	t.Helper()
	b := s.staff(reviewer, contract.GroupReviewers)
	b.lang = lang
	if p := b.post("/console/submissions/"+sub+"/claim", nil); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d %s", p.status, p.body)
	}
	for _, cat := range []string{"identity", "address"} {
		if p := b.get("/console/submissions/" + sub + "/documents/" + cat); p.status != http.StatusFound {
			t.Fatalf("open %s: %d", cat, p.status)
		}
	}
	return b
}

// reviewing places order 5001 of customer 1001, submits its documents and
// has staff-7 claim and open them (claimed); it returns the submission and
// staff-7's browser.
func reviewing(t *testing.T, s *site, lang string) (string, *browser) {
	t.Helper()
	s.w.PlaceOrder("1001", "5001")
	sub := s.w.Submit("1001")
	return sub, claimed(t, s, "staff-7", lang, sub)
}

// decisionForm is the review page's form as a reviewer fills it in.
func decisionForm(s *site, sub string, fields map[string]string) url.Values {
	f := url.Values{"version": {itoa(s.w.Submission(sub).Version)}, "seenClaimedBy": {s.w.Submission(sub).ClaimedBy},
		"seenStatus": {"pending_review"}}
	for k, v := range fields {
		f.Set(k, v)
	}
	return f
}

// state is what a refused request must leave as it was: the submission and
// the customer's audit trail but the openings a page view writes.
func state(t *testing.T, s *site, cust, sub string) string {
	t.Helper()
	b, _ := json.Marshal(s.w.Submission(sub))
	out := string(b)
	for _, e := range s.w.Audit(cust) {
		if e.Action != "personal_data.opened" && e.Action != "document.opened" {
			out += "\n" + e.Action
		}
	}
	return out + "\n" + string(s.w.Customer(cust).Status)
}

// sees fails unless the page says each text of its language.
func (p page) sees(tb testing.TB, lang string, texts both) {
	tb.Helper()
	p.has(tb, texts[lang]...)
}

// ticked reports whether a reason is ticked for a document in the form.
func ticked(body, doc, reason string) bool {
	return regexp.MustCompile(`name="` + doc + `Reasons" value="` + reason + `"\s+checked`).MatchString(body)
}

// TestReviewPageShowsTheSignals: the reviewer holding the claim records
// what the documents show with "Check" (POST /console/submissions/{id}/record,
// Service.Record) and, before deciding, sees what the gate found, every text
// in the page's language: the same document on other accounts (linked to
// their customer pages, with what was decided there and when), the check
// digit warnings with the field each names, the expiry and the proof of
// address's age judged on the service region's date, the proposed reasons
// ticked in the rejection form and marked "proposed", and that an approval
// would wait for a second admin. What the reviewer typed in the rest of the
// form is kept. Another reviewer sees none of it.
func TestReviewPageShowsTheSignals(t *testing.T) {
	for _, lang := range []string{"en", "zh-Hant"} {
		t.Run(lang, func(t *testing.T) {
			s := newSite(t)
			verifiedWith(t, s, "c-1", passportNumber)
			s.w.Advance(time.Hour)
			rejectedWith(t, s, "c-3", "l898902c3") // another spelling of the same number
			sub, rev := reviewing(t, s, lang)

			// Nothing recorded yet: the page says so, and that the number is missing.
			fresh := rev.get("/console/submissions/" + sub)
			fresh.sees(t, lang, both{"en": {"Nothing is recorded yet", "Document number", `data-code="missing"`, `id="check"`, "<kbd>k</kbd>", "check what you recorded"},
				"zh-Hant": {"尚未記錄任何資料", "證件號碼", `data-code="missing"`, "檢查已記錄的資料"}})

			// Four hours later it is 04:00 on 3 March in Hong Kong (20:00 on
			// 2 March UTC): the bill of 2 December is more than three months old
			// there, not yet in UTC.
			s.w.Advance(10 * time.Hour)
			before := s.w.Submission(sub).Version
			p := rev.post("/console/submissions/"+sub+"/record", decisionForm(s, sub, map[string]string{
				"identity": "approve", "message": "Please send a newer statement.", "note": "looked at both",
				"docNumber": "L898902C3", "mrz": doctoredMRZ, "addressDate": "2025-12-02", "fullName": "ERIKSSON Anna Maria"}))
			if p.status != http.StatusOK {
				t.Fatalf("check: %d %s", p.status, p.body)
			}
			p.sees(t, lang, both{
				"en": {"Recorded. Read “What the gate found”", "What the gate found", "2026-03-03, Asia/Hong_Kong",
					`href="/console/customers/c-1"`, `href="/console/customers/c-3"`, "verified there", "Approved", "The document appears to have been altered.",
					"Approving this submission needs a second admin", "The identity document has expired: it cannot be approved",
					"MRZ: date of birth", "MRZ: composite check digit", "The check digit does not match the characters it protects",
					"Expired before 2026-03-03", "More than three months old on 2026-03-03", "(judged on 2026-03-03, Asia/Hong_Kong)",
					"Proposed reasons", "proposed", "Please send a newer statement.", "looked at both", "ERIKSSON Anna Maria", "L898902C3"},
				"zh-Hant": {"已記錄。作出決定前,請先閱讀「系統檢查結果」", "系統檢查結果", "2026-03-03, Asia/Hong_Kong",
					`href="/console/customers/c-1"`, `href="/console/customers/c-3"`, "已在該帳戶驗證", "已批准", "文件似乎經過修改。",
					"批准此提交須由第二位管理員確認", "身份證明已過期:不能批准", "機讀區:出生日期", "機讀區:綜合檢查碼", "檢查碼與其所核對的字元不符",
					"於 2026-03-03 之前已過期", "於 2026-03-03 已超過三個月", "(判斷基準:2026-03-03, Asia/Hong_Kong)", "建議原因", "建議",
					"Please send a newer statement.", "looked at both"}})
			for _, code := range []string{kyc.WarnSameDocumentVerified, kyc.WarnDocumentExpired, kyc.WarnAddressTooOld, "check_digit_mismatch"} {
				if !strings.Contains(p.body, `data-code="`+code+`"`) {
					t.Errorf("no %s warning", code)
				}
			}
			if strings.Contains(p.body, `data-code="missing"`) {
				t.Error("the number is recorded, yet the page says it is missing")
			}
			// The proposed reasons are ticked in the rejection form, and marked.
			if !ticked(p.body, "identity", "expired_document") || !ticked(p.body, "address", "too_old") ||
				!strings.Contains(p.body, `data-proposed="expired_document"`) || !strings.Contains(p.body, `data-proposed="too_old"`) {
				t.Error("the proposed reasons are not ticked and marked in the form")
			}
			if ticked(p.body, "identity", "too_old") || ticked(p.body, "address", "unreadable") {
				t.Error("a reason nothing proposed is ticked")
			}
			// The fields a warning names point at it; the entered verdict stays.
			if !regexp.MustCompile(`id="mrz"[^>]*aria-describedby="signal-`).MatchString(p.body) ||
				!regexp.MustCompile(`value="approve" id="identity-approve"\s+checked`).MatchString(p.body) {
				t.Error("the MRZ field does not point at its warnings, or the verdict was lost")
			}
			// Recorded: sealed on the submission, its version moved on, audited.
			after := s.w.Submission(sub)
			if after.Version != before+1 || after.Extracted == nil || after.DocNumberHash == "" {
				t.Fatalf("the check did not record: version %d (was %d), %+v", after.Version, before, after)
			}
			if !strings.Contains(p.body, `name="version" value="`+itoa(after.Version)+`"`) {
				t.Error("the form does not carry the new version")
			}
			var recorded []kyc.AuditEntry
			for _, e := range s.w.Audit("1001") {
				if e.Action == "submission.recorded" {
					recorded = append(recorded, e)
				}
			}
			if len(recorded) != 1 || !strings.Contains(recorded[0].Detail["warnings"], kyc.WarnSameDocumentVerified) || recorded[0].Actor.ID != "staff-7" {
				t.Fatalf("the check's audit: %+v", recorded)
			}
			// The page again later shows what was recorded, and the signals.
			again := rev.get("/console/submissions/" + sub)
			again.has(t, "L898902C3", "ERIKSSON Anna Maria", "2025-12-02", `data-code="same_document_verified"`)
			if !ticked(again.body, "address", "too_old") {
				t.Error("the proposed reason is not ticked on a fresh page")
			}
			for _, value := range []string{"L898902C3", "ERIKSSON", "L898902C36UTO"} {
				if strings.Contains(s.logs.String(), value) || strings.Contains(s.w.Logs(), value) {
					t.Errorf("%s in the log", value)
				}
			}

			// Another reviewer sees none of it.
			other := s.staff("staff-8", contract.GroupReviewers)
			op := other.get("/console/submissions/" + sub)
			for _, leak := range []string{`id="signals"`, "/console/customers/c-1", "L898902C3", "ERIKSSON"} {
				if strings.Contains(op.body, leak) {
					t.Errorf("another reviewer's page shows %s", leak)
				}
			}
		})
	}
}

// TestCheckRefusesBadInput: a check with a value that cannot be recorded, or
// none, is answered on the page with why, naming the field, with everything
// entered kept; nothing is recorded. So are a check on a stale version, a
// form that cannot be read, a check by a reviewer without the claim, and a
// check from another origin.
func TestCheckRefusesBadInput(t *testing.T) {
	for _, lang := range []string{"en", "zh-Hant"} {
		t.Run(lang, func(t *testing.T) {
			s := newSite(t)
			sub, rev := reviewing(t, s, lang)
			path := "/console/submissions/" + sub + "/record"
			v := s.w.Submission(sub).Version
			for _, tt := range []struct {
				name   string
				form   url.Values
				hdr    map[string]string
				by     *browser
				status int
				says   both
				input  string
			}{
				{"a date that is not one", decisionForm(s, sub, map[string]string{"docExpiry": "2031-02-30", "message": "kept"}), nil, rev, 422,
					both{"en": {"Document expiry: this cannot be recorded", "kept"}, "zh-Hant": {"證件到期日:無法記錄此值", "kept"}}, "docExpiry"},
				{"a date of the wrong form", decisionForm(s, sub, map[string]string{"addressDate": "02/12/2025"}), nil, rev, 422,
					both{"en": {"Date of the proof of address: this cannot be recorded"}, "zh-Hant": {"地址證明日期:無法記錄此值"}}, "addressDate"},
				{"a control character", decisionForm(s, sub, map[string]string{"fullName": "Chan\x01"}), nil, rev, 422,
					both{"en": {"Full name: this cannot be recorded"}, "zh-Hant": {"全名:無法記錄此值"}}, "fullName"},
				{"an MRZ too long", decisionForm(s, sub, map[string]string{"mrz": strings.Repeat("<", 2000)}), nil, rev, 422,
					both{"en": {"MRZ: this cannot be recorded"}, "zh-Hant": {"機讀區(MRZ):無法記錄此值"}}, "mrz"},
				{"nothing recorded", decisionForm(s, sub, map[string]string{"message": "kept"}), nil, rev, 422,
					both{"en": {"Record at least one field before pressing “Check”.", "kept"}, "zh-Hant": {"按「檢查」前請至少記錄一項資料。"}}, ""},
				{"a stale version", decisionForm(s, sub, map[string]string{"version": itoa(v - 1), "docNumber": "X1"}), nil, rev, 409,
					both{"en": {"This submission changed since you opened it", "X1"}, "zh-Hant": {"此提交在您開啟後已被更改", "X1"}}, ""},
				{"a field twice", url.Values{"version": {itoa(v)}, "docNumber": {"X1", "X2"}}, nil, rev, 400,
					both{"en": {"The request could not be read."}, "zh-Hant": {"無法讀取此請求。"}}, ""},
				{"no version", url.Values{"docNumber": {"X1"}}, nil, rev, 400, both{"en": {"The request could not be read."}, "zh-Hant": {"無法讀取此請求。"}}, ""},
				{"from another origin", decisionForm(s, sub, map[string]string{"docNumber": "X1"}),
					map[string]string{"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}, rev, 403,
					both{"en": {"did not come from this site"}, "zh-Hant": {"此請求並非來自本網站"}}, ""},
			} {
				t.Run(tt.name, func(t *testing.T) {
					before := state(t, s, "1001", sub)
					p := tt.by.do(http.MethodPost, path, tt.form, tt.hdr)
					if p.status != tt.status {
						t.Fatalf("%d, want %d: %s", p.status, tt.status, p.body)
					}
					p.sees(t, lang, tt.says)
					if tt.input != "" && !regexp.MustCompile(`id="`+tt.input+`"[^>]*aria-invalid="true"`).MatchString(p.body) {
						t.Errorf("the %s field is not marked as the one refused", tt.input)
					}
					if got := state(t, s, "1001", sub); got != before {
						t.Errorf("the refused check changed the state:\n%s\nwas\n%s", got, before)
					}
				})
			}
			// A reviewer without the claim records nothing either.
			other := s.staff("staff-8", contract.GroupReviewers)
			before := state(t, s, "1001", sub)
			if p := other.post(path, decisionForm(s, sub, map[string]string{"docNumber": "X1"})); p.status != http.StatusConflict ||
				strings.Contains(p.body, `id="decision"`) {
				t.Fatalf("a check without the claim: %d", p.status)
			}
			if state(t, s, "1001", sub) != before {
				t.Fatal("a check without the claim changed the state")
			}
		})
	}
}

// TestExpiredDocumentCannotBeApprovedInTheConsole: an approval of an
// identity document that expired before today in the service region's time
// zone is refused (422 document_expired) in the form, which keeps what was
// entered and points at the expiry; nothing is decided. The decision records
// what the form holds (as the API's does): the MRZ and the date of the proof
// of address too.
func TestExpiredDocumentCannotBeApprovedInTheConsole(t *testing.T) {
	for _, lang := range []string{"en", "zh-Hant"} {
		t.Run(lang, func(t *testing.T) {
			s := newSite(t)
			sub, rev := reviewing(t, s, lang)
			s.w.Advance(10 * time.Hour) // 20:00 UTC on 2 March: 3 March in Hong Kong
			before := state(t, s, "1001", sub)
			fields := map[string]string{"identity": "approve", "address": "approve", "docNumber": passportNumber,
				"docExpiry": "2026-03-02", "message": "Thank you.", "note": "expiry read from the card"}
			p := rev.post("/console/submissions/"+sub+"/decision", decisionForm(s, sub, fields))
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("approval of an expired document: %d %s", p.status, p.body)
			}
			p.sees(t, lang, both{"en": {"The identity document expired before today (2026-03-03, Asia/Hong_Kong): it cannot be approved.",
				"Thank you.", "expiry read from the card", passportNumber, `value="2026-03-02"`},
				"zh-Hant": {"身份證明在今天(2026-03-03, Asia/Hong_Kong)之前已過期:不能批准。", "Thank you.", passportNumber}})
			if !regexp.MustCompile(`id="form-error"`).MatchString(p.body) || !regexp.MustCompile(`id="docExpiry"[^>]*aria-invalid="true"`).MatchString(p.body) ||
				!regexp.MustCompile(`value="approve" id="address-approve"\s+checked`).MatchString(p.body) {
				t.Error("the refusal is not in the form, or the form lost what was entered")
			}
			if state(t, s, "1001", sub) != before || s.w.Submission(sub).Status != kyc.SubPending {
				t.Fatal("the refused approval changed the state")
			}

			// The reviewer rejects it as expired, recording everything in the form.
			fields["identity"] = "reject"
			form := decisionForm(s, sub, fields)
			form["identityReasons"] = []string{"expired_document"}
			form.Set("mrz", doctoredMRZ)
			form.Set("addressDate", "2026-02-20")
			form.Set("birthDate", "1974-08-12")
			form.Set("postalAddress", "1 Harbour Road\r\nWan Chai")
			if p := rev.post("/console/submissions/"+sub+"/decision", form); p.status != http.StatusSeeOther {
				t.Fatalf("rejection: %d %s", p.status, p.body)
			}
			adm := s.staff("admin-1", contract.GroupAdmins)
			v, err := s.w.Service.ViewSubmission(t.Context(), kyctest.Admin("admin-1"), sub, "test")
			if err != nil || v.Extracted == nil || v.Extracted.MRZ != strings.TrimSpace(doctoredMRZ) || v.Extracted.AddressDate != "2026-02-20" ||
				v.Extracted.BirthDate != "1974-08-12" || v.Extracted.DocumentExpiry != "2026-03-02" || !strings.Contains(v.Extracted.Address, "Wan Chai") {
				t.Fatalf("the decision did not record the form: %+v %v", v.Extracted, err)
			}
			if sv := s.w.Submission(sub); sv.Status != kyc.SubRejected || sv.Identity.Reasons[0] != "expired_document" {
				t.Fatalf("decided %+v", sv)
			}
			// An admin who states a purpose sees what was recorded, read-only.
			adm.lang = lang
			ap := adm.get("/console/submissions/" + sub + "?purpose=quality+check")
			ap.has(t, `id="recorded"`, "1 Harbour Road", "L898902C36UTO", `id="signals"`)
			if strings.Contains(ap.body, `id="decision"`) {
				t.Error("an admin sees the decision form of a decided submission")
			}
		})
	}
}

// TestFourEyesInTheConsole: the reviewer approves a document whose number
// was verified on another account: the approval is not committed but waits
// for a second admin, which the page says and shows. Any staff member sees
// the waiting request; the requester and reviewers cannot answer it; an
// admin who has not opened the identity document is refused; another admin
// opens the documents with a purpose (audited) and approves: the customer is
// verified, with both recorded. Sending back withdraws the request.
func TestFourEyesInTheConsole(t *testing.T) {
	for _, lang := range []string{"en", "zh-Hant"} {
		t.Run(lang, func(t *testing.T) {
			s := newSite(t)
			verifiedWith(t, s, "c-1", passportNumber)
			sub, rev := reviewing(t, s, lang)
			p := rev.post("/console/submissions/"+sub+"/decision", decisionForm(s, sub, map[string]string{
				"identity": "approve", "address": "approve", "docNumber": "l898902c3", "docExpiry": "2031-01-01"}))
			if p.status != http.StatusSeeOther || !strings.HasSuffix(p.header.Get("Location"), "?done=waiting") {
				t.Fatalf("approval: %d → %q %s", p.status, p.header.Get("Location"), p.body)
			}
			req := s.w.Submission(sub).ApprovalRequest
			if req == nil || req.RequestedBy != "staff-7" || s.w.Submission(sub).Status != kyc.SubPending {
				t.Fatalf("no approval request: %+v", s.w.Submission(sub))
			}
			waiting := both{"en": {"Approval waiting for a second admin", "Waiting for a second admin (requested by staff-7)",
				"This document number was verified on another customer", `href="/console/customers/c-1"`},
				"zh-Hant": {"等待第二位管理員確認的批准", "等待第二位管理員確認(由 staff-7 提出)", "此證件號碼已在另一客戶帳戶通過驗證", `href="/console/customers/c-1"`}}
			page := rev.get(p.header.Get("Location"))
			page.sees(t, lang, waiting)
			page.sees(t, lang, both{"en": {"Your approval is recorded but not committed", "You requested it: a different admin must confirm it."},
				"zh-Hant": {"您的批准已記錄,但尚未生效", "此請求由您提出,須由另一位管理員確認。"}})
			if strings.Contains(page.body, `id="second-approve"`) {
				t.Fatal("the requester is offered the second approval")
			}
			version := itoa(s.w.Submission(sub).Version)
			answer := url.Values{"approve": {"true"}, "version": {version}}

			// A reviewer sees the request, cannot answer it.
			other := s.staff("staff-8", contract.GroupReviewers)
			other.lang = lang
			op := other.get("/console/submissions/" + sub)
			op.sees(t, lang, waiting)
			if strings.Contains(op.body, `id="second-approve"`) || strings.Contains(op.body, `id="purpose"`) {
				t.Fatal("a reviewer is offered the second approval")
			}
			before := state(t, s, "1001", sub)
			if p := other.post("/console/submissions/"+sub+"/second-approval", answer); p.status != http.StatusForbidden {
				t.Fatalf("a reviewer's second approval: %d", p.status)
			}

			// An admin first states a purpose: the page then opens the documents.
			adm := s.staff("admin-2", contract.GroupAdmins)
			adm.lang = lang
			ap := adm.get("/console/submissions/" + sub)
			ap.sees(t, lang, both{"en": {"To answer, open the documents with a purpose", `name="purpose"`, `value="second approval"`},
				"zh-Hant": {"如要回覆,請說明目的並開啟文件", `value="第二位管理員批准"`}})
			if strings.Contains(ap.body, `id="second-approve"`) || strings.Contains(ap.body, "doc-img") {
				t.Fatal("the admin is offered the answer before opening the documents")
			}
			purpose := "?purpose=" + url.QueryEscape("second approval")
			ap = adm.get("/console/submissions/" + sub + purpose)
			ap.has(t, `id="second-approve"`, `id="second-return"`, `id="signals"`, "/documents/identity?purpose=second&#43;approval",
				`action="/console/submissions/`+sub+`/second-approval?purpose=second%20approval"`)
			ap.sees(t, lang, both{"en": {"Approve (second admin)", "Send back to the reviewer", "Opened for", "second approval (audited)", "In review"},
				"zh-Hant": {"批准(第二位管理員)", "退回審核員", "開啟目的", "second approval(已記錄)", "審核中"}})
			if strings.Contains(ap.body, "Claim the submission to see its documents") || strings.Contains(ap.body, `href="#docNumber"`) {
				t.Error("the admin who sees the documents is told to claim, or pointed at a form they do not have")
			}
			// Not yet opened: refused, said beside the buttons; nothing changes.
			p = adm.post("/console/submissions/"+sub+"/second-approval"+purpose, answer)
			if p.status != http.StatusConflict {
				t.Fatalf("an answer without opening: %d %s", p.status, p.body)
			}
			p.sees(t, lang, both{"en": {"Open each document you approve first"}, "zh-Hant": {"請先開啟您批准的每份文件"}})
			p.has(t, `id="approval-error"`)
			for _, bad := range []url.Values{{"approve": {"yes"}, "version": {version}}, {"approve": {"true"}}, {"approve": {"true", "false"}, "version": {version}},
				{"approve": {"true"}, "version": {"0"}}} {
				if p := adm.post("/console/submissions/"+sub+"/second-approval"+purpose, bad); p.status != http.StatusBadRequest {
					t.Errorf("answer %v: %d", bad, p.status)
				}
			}
			if p := adm.do(http.MethodPost, "/console/submissions/"+sub+"/second-approval"+purpose, answer,
				map[string]string{"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"}); p.status != http.StatusForbidden {
				t.Errorf("a cross-origin answer: %d", p.status)
			}
			if state(t, s, "1001", sub) != before {
				t.Fatal("a refused answer changed the state")
			}

			// Opened: approved, without a fresh sign-in.
			s.clock.Advance(Reauth + time.Hour)
			if d := adm.get("/console/submissions/" + sub + "/documents/identity" + purpose); d.status != http.StatusFound {
				t.Fatalf("open the identity document: %d", d.status)
			}
			p = adm.post("/console/submissions/"+sub+"/second-approval"+purpose, answer)
			if p.status != http.StatusSeeOther || !strings.HasSuffix(p.header.Get("Location"), "?done=approved") {
				t.Fatalf("second approval: %d %s", p.status, p.body)
			}
			done := s.w.Submission(sub)
			if done.Status != kyc.SubApproved || done.SecondApprovalBy != "admin-2" || done.DecidedBy != "staff-7" ||
				s.w.Customer("1001").Status != kyc.StatusVerified {
				t.Fatalf("after the second approval: %+v", done)
			}
			adm.get(p.header.Get("Location")).sees(t, lang, both{"en": {"Approved as the second admin: the customer is verified.", "Second approval by", "admin-2"},
				"zh-Hant": {"已以第二位管理員身份批准:客戶已通過驗證。", "第二位批准者", "admin-2"}})
			found := false
			for _, e := range s.w.Audit("1001") {
				found = found || (e.Action == "submission.decided" && e.Detail["secondApproval"] == "admin-2")
			}
			if !found {
				t.Fatal("the second approval is not audited")
			}
		})
	}
}

// TestSecondApprovalSentBackAndSelfApproval: an admin sends a waiting
// approval back (the request is withdrawn, the submission waits for the
// reviewer); an admin who is also the reviewer who asked cannot confirm
// their own approval.
func TestSecondApprovalSentBackAndSelfApproval(t *testing.T) {
	s := newSite(t)
	verifiedWith(t, s, "c-1", passportNumber)
	s.w.PlaceOrder("1001", "5001")
	sub := s.w.Submit("1001")
	boss := s.staff("boss", contract.GroupReviewers, contract.GroupAdmins)
	boss.post("/console/submissions/"+sub+"/claim", nil)
	for _, cat := range []string{"identity", "address"} {
		boss.get("/console/submissions/" + sub + "/documents/" + cat)
	}
	if p := boss.post("/console/submissions/"+sub+"/decision", decisionForm(s, sub, map[string]string{
		"identity": "approve", "address": "approve", "docNumber": passportNumber})); p.status != http.StatusSeeOther {
		t.Fatalf("approval: %d %s", p.status, p.body)
	}
	purpose := "?purpose=second+approval"
	boss.get("/console/submissions/" + sub + "/documents/identity" + purpose)
	version := itoa(s.w.Submission(sub).Version)
	before := state(t, s, "1001", sub)
	p := boss.post("/console/submissions/"+sub+"/second-approval"+purpose, url.Values{"approve": {"true"}, "version": {version}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "You requested this approval: a different admin must confirm it.") {
		t.Fatalf("self approval: %d %s", p.status, p.body)
	}
	if state(t, s, "1001", sub) != before {
		t.Fatal("the refused self approval changed the state")
	}

	adm := s.staff("admin-2", contract.GroupAdmins)
	p = adm.post("/console/submissions/"+sub+"/second-approval"+purpose, url.Values{"approve": {"false"}, "version": {version}})
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.header.Get("Location"), "?done=returned") {
		t.Fatalf("send back: %d %s", p.status, p.body)
	}
	if got := s.w.Submission(sub); got.ApprovalRequest != nil || got.Status != kyc.SubPending || got.ClaimedBy != "boss" {
		t.Fatalf("after sending back: %+v", got)
	}
	boss.get("/console/submissions/"+sub+"?done=returned").has(t, "Sent back: the approval request is withdrawn", `id="decision"`)
	if strings.Contains(boss.get("/console/submissions/"+sub).body, `id="approval"`) {
		t.Fatal("the withdrawn request is still shown")
	}
}
