package flows

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// TestCustomerFlow: requirements, two real presigned POST uploads into the
// encrypted bucket, validation from the S3 notification, submission, status.
func TestCustomerFlow(t *testing.T) {
	s := newSys(t)
	tok := s.token("cust-a")

	var req kyc.Requirements
	s.must(http.StatusOK, "GET", "/v1/kyc/requirements", tok, nil, &req)
	if len(req.Categories) != 2 || req.MaxSize != kyc.DefaultMaxUploadBytes || req.Categories[0].Types[0].Label.ZhHant != "身份證" ||
		len(req.ContentTypes) != 3 {
		t.Fatalf("requirements = %+v", req)
	}

	id := s.uploaded("cust-a", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	var bill kyc.NewUpload
	s.must(http.StatusCreated, "POST", "/v1/kyc/documents", tok, map[string]any{
		"category": "address", "type": "utility_bill", "utility": "electricity", "contentType": "application/pdf",
		"size": len(pdfBytes), "fileName": "電費單 2026-10.pdf"}, &bill)
	// The form is signed with the real clock; it may live 15 minutes at most.
	if bill.ExpiresAt.After(time.Now().Add(15*time.Minute)) || bill.Upload.Fields["key"] != "docs/cust-a/"+bill.DocumentID {
		t.Fatalf("upload form = %+v", bill)
	}
	s.upload(bill.Upload, pdfBytes, kyc.PDF)
	s.validate()

	var st kyc.StatusView
	s.must(http.StatusOK, "GET", "/v1/kyc/status", tok, nil, &st)
	if st.Status != kyc.StatusUnverified || len(st.Documents) != 2 {
		t.Fatalf("status = %+v", st)
	}
	for _, d := range st.Documents {
		if d.State != kyc.DocValid {
			t.Fatalf("document %s is %s after validation", d.ID, d.State)
		}
	}

	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", tok,
		map[string]string{"identityDocumentId": id, "addressDocumentId": bill.DocumentID}, &rec)
	if rec.Status != kyc.SubPending || rec.SubmissionID == "" {
		t.Fatalf("receipt = %+v", rec)
	}
	s.must(http.StatusOK, "GET", "/v1/kyc/status", tok, nil, &st)
	if st.Status != kyc.StatusPendingReview || st.SubmissionID != rec.SubmissionID {
		t.Fatalf("status after submission = %+v", st)
	}
	if raw := s.snapshot(); strings.Contains(raw, "電費單") {
		t.Fatal("the file name is stored in clear")
	}
	// The reviewer holding the claim sees the file name, decrypted, and the
	// paths that open the documents.
	rev := s.reviewer("rev-1")
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, nil)
	var view kyc.SubmissionView
	s.must(http.StatusOK, "GET", "/v1/admin/submissions/"+rec.SubmissionID, rev, nil, &view)
	if view.Address.FileName != "電費單 2026-10.pdf" || view.Identity.Open != "/v1/admin/submissions/"+rec.SubmissionID+"/documents/identity" {
		t.Fatalf("review view = %+v", view)
	}
	// The identity document opens as the validator's re-encoded copy, not
	// the uploaded bytes; the PDF as its checked original.
	status, shown := s.fetch(s.open(rec.SubmissionID, rev, kyc.Identity))
	if img, err := jpeg.Decode(bytes.NewReader(shown)); status != 200 || err != nil || img.Bounds().Dx() != 8 || bytes.Equal(shown, jpegBytes) {
		t.Fatalf("the identity document opens as %d, %d bytes (%v): want the re-encoded 8×8 JPEG", status, len(shown), err)
	}
	if status, shown := s.fetch(s.open(rec.SubmissionID, rev, kyc.Address)); status != 200 || !bytes.Equal(shown, pdfBytes) {
		t.Fatalf("the address document opens as %d, %d bytes", status, len(shown))
	}
}

// TestCustomerBadInput: every malformed, oversized, wrong-type, wrong-owner,
// unauthenticated and replayed request gets the SPEC error and leaves the
// table unchanged.
func TestCustomerBadInput(t *testing.T) {
	s := newSys(t)
	// Another customer's valid documents, and the caller's own state.
	otherID := s.uploaded("cust-other", kyc.Identity, kyc.NationalID, kyc.JPEG, jpegBytes)
	otherAddr := s.uploaded("cust-other", kyc.Address, kyc.TaxReturn, kyc.PDF, pdfBytes)
	myID := s.uploaded("cust-me", kyc.Identity, kyc.DrivingLicense, kyc.JPEG, jpegBytes)
	myID2 := s.uploaded("cust-me", kyc.Identity, kyc.Visa, kyc.JPEG, jpegBytes)
	myAddr := s.uploaded("cust-me", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	fake := s.uploaded("cust-me", kyc.Address, kyc.BankStatement, kyc.JPEG, htmlBytes) // HTML declared as image/jpeg
	notUploaded := s.newDocument("cust-me", kyc.Address, kyc.TaxReturn, kyc.PDF, 100).DocumentID
	// Files a first-bytes check let through: each starts with the signature
	// of its declared type. The validator decodes them and refuses them; the
	// table below shows they cannot be submitted.
	hostile := []struct {
		name   string
		cat    kyc.Category
		typ    kyc.DocType
		ct     string
		data   []byte
		reason kyc.InvalidReason
		id     string
	}{
		{"a JPEG header with a script spliced in", kyc.Identity, kyc.Passport, kyc.JPEG, kyctest.JPEGScript(), kyc.InvalidUndecodable, ""},
		{"a PNG signature followed by HTML", kyc.Identity, kyc.NationalID, kyc.PNG, kyctest.PNGHTML(), kyc.InvalidUndecodable, ""},
		{"a PDF with /OpenAction /JavaScript", kyc.Address, kyc.BankStatement, kyc.PDF, kyctest.PDFJavaScript(), kyc.InvalidPDFActiveContent, ""},
		{"a decompression bomb", kyc.Identity, kyc.Passport, kyc.PNG, kyctest.PNGBomb(), kyc.InvalidTooManyPixels, ""},
		// Malware: the EICAR test file, alone and inside files the checks
		// accept; the malware scan (the dev server's stand-in of GuardDuty,
		// its result through the template's rule) refuses them.
		{"the EICAR test file", kyc.Address, kyc.BankStatement, kyc.PDF, kyctest.EICAR(), kyc.InvalidMalware, ""},
		{"a PDF carrying the EICAR test file", kyc.Address, kyc.TaxReturn, kyc.PDF, kyctest.PDFWithEICAR(), kyc.InvalidMalware, ""},
		{"a JPEG followed by the EICAR test file", kyc.Identity, kyc.Passport, kyc.JPEG, kyctest.JPEGWithEICAR(), kyc.InvalidMalware, ""},
	}
	for i, h := range hostile {
		hostile[i].id = s.uploaded("cust-me", h.cat, h.typ, h.ct, h.data)
	}
	// A file of another size than declared (the emulator does not enforce
	// the form's content-length-range; S3 does, and the validator too).
	resized := s.newDocument("cust-me", kyc.Identity, kyc.Passport, kyc.JPEG, len(jpegBytes)+1)
	s.upload(resized.Upload, jpegBytes, kyc.JPEG)
	s.validate()
	// A verified customer with a spare valid document pair.
	s.verified("cust-done", "rev-1")
	doneID := s.uploaded("cust-done", kyc.Identity, kyc.Passport, kyc.JPEG, jpegBytes)
	doneAddr := s.uploaded("cust-done", kyc.Address, kyc.TaxReturn, kyc.PDF, pdfBytes)

	var st kyc.StatusView
	s.must(http.StatusOK, "GET", "/v1/kyc/status", s.token("cust-me"), nil, &st)
	wantInvalid := map[string]kyc.InvalidReason{fake: kyc.InvalidTypeMismatch, resized.DocumentID: kyc.InvalidSizeMismatch}
	for _, h := range hostile {
		wantInvalid[h.id] = h.reason
	}
	for _, d := range st.Documents {
		if want, ok := wantInvalid[d.ID]; ok && (d.State != kyc.DocInvalid || d.Invalid == nil || d.Invalid.Code != string(want) ||
			d.Invalid.Text.ZhHant == "" || d.Invalid.Text.En == "") {
			t.Fatalf("upload %s is %+v, want invalid (%s) with a readable reason", d.ID, d, want)
		}
		delete(wantInvalid, d.ID)
	}
	if len(wantInvalid) != 0 {
		t.Fatalf("documents missing from the status: %v", wantInvalid)
	}
	for _, h := range hostile {
		if n := s.versions(kyc.DocumentKey("cust-me", h.id)); n != 0 {
			t.Fatalf("%s: %d versions kept, want it deleted", h.name, n)
		}
	}

	me := s.token("cust-me")
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := s.clock.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": s.st.Authorizer.Issuer, "aud": s.st.Authorizer.Audience[0], "sub": "cust-me",
			"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
		mod(c)
		return c
	}
	expired := s.signed(s.key, "test", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() }))
	forged := s.signed(otherKey, "test", claims(func(jwt.MapClaims) {}))
	wrongAud := s.signed(s.key, "test", claims(func(c jwt.MapClaims) { c["aud"] = "another-app" }))
	wrongIss := s.signed(s.key, "test", claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))
	unknownKid := s.signed(s.key, "other", claims(func(jwt.MapClaims) {}))
	noneAlg, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(func(jwt.MapClaims) {})).SignedString(jwt.UnsafeAllowNoneSignatureType)
	badSub := s.token("cust/../me")

	doc := func(mod func(map[string]any)) map[string]any {
		b := map[string]any{"category": "identity", "type": "passport", "contentType": "image/jpeg", "size": 1000}
		mod(b)
		return b
	}
	sub := func(id, addr string) map[string]string {
		return map[string]string{"identityDocumentId": id, "addressDocumentId": addr}
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"malformed JSON", "POST", "/v1/kyc/documents", me, `{"category": "identity",`, 400, "malformed"},
		{"not JSON at all", "POST", "/v1/kyc/documents", me, `category=identity`, 400, "malformed"},
		{"empty body", "POST", "/v1/kyc/documents", me, ``, 400, "malformed"},
		{"unknown field", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["owner"] = "cust-other" }), 400, "malformed"},
		{"wrong JSON type for size", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["size"] = "ten" }), 400, "malformed"},
		{"body over 4 KiB", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["fileName"] = strings.Repeat("a", 5000) }), 413, "body_too_large"},
		{"unknown document type", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["type"] = "library_card" }), 422, "unknown_type"},
		{"unknown category", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["category"] = "selfie" }), 422, "unknown_category"},
		{"type of the other category", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["type"] = "tax_return" }), 422, "wrong_category"},
		{"utility bill without utility", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["category"], b["type"] = "address", "utility_bill" }), 422, "unknown_utility"},
		{"wrong content type", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["contentType"] = "text/html" }), 422, "unsupported_content_type"},
		{"missing content type", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { delete(b, "contentType") }), 422, "unsupported_content_type"},
		{"size 0", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["size"] = 0 }), 422, "invalid_size"},
		{"size over the limit", "POST", "/v1/kyc/documents", me, doc(func(b map[string]any) { b["size"] = kyc.DefaultMaxUploadBytes + 1 }), 413, "too_large"},
		{"missing token", "POST", "/v1/kyc/documents", "", doc(func(map[string]any) {}), 401, "unauthorized"},
		{"expired token", "POST", "/v1/kyc/documents", expired, doc(func(map[string]any) {}), 401, "unauthorized"},
		{"forged token", "POST", "/v1/kyc/documents", forged, doc(func(map[string]any) {}), 401, "unauthorized"},
		{"token for another audience", "GET", "/v1/kyc/status", wrongAud, nil, 401, "unauthorized"},
		{"token from another issuer", "GET", "/v1/kyc/status", wrongIss, nil, 401, "unauthorized"},
		{"token signed by an unknown key", "GET", "/v1/kyc/status", unknownKid, nil, 401, "unauthorized"},
		{"unsigned token (alg none)", "GET", "/v1/kyc/status", noneAlg, nil, 401, "unauthorized"},
		{"subject that is not a customer id", "POST", "/v1/kyc/documents", badSub, doc(func(map[string]any) {}), 403, "invalid_subject"},
		{"submission of another customer's documents", "POST", "/v1/kyc/submissions", me, sub(otherID, otherAddr), 404, "document_not_found"},
		{"submission mixing in another customer's document", "POST", "/v1/kyc/submissions", me, sub(myID, otherAddr), 404, "document_not_found"},
		{"submission of unknown documents", "POST", "/v1/kyc/submissions", me, sub("nosuchdoc1", "nosuchdoc2"), 404, "document_not_found"},
		{"submission of one document twice", "POST", "/v1/kyc/submissions", me, sub(myID, myID), 422, "same_document"},
		{"submission of two identity documents", "POST", "/v1/kyc/submissions", me, sub(myID, myID2), 422, "wrong_category"},
		{"submission of a document never uploaded", "POST", "/v1/kyc/submissions", me, sub(myID, notUploaded), 409, "upload_missing"},
		{"submission of HTML declared as image/jpeg", "POST", "/v1/kyc/submissions", me, sub(myID, fake), 422, "document_invalid"},
		{"submission of " + hostile[0].name, "POST", "/v1/kyc/submissions", me, sub(hostile[0].id, myAddr), 422, "document_invalid"},
		{"submission of " + hostile[1].name, "POST", "/v1/kyc/submissions", me, sub(hostile[1].id, myAddr), 422, "document_invalid"},
		{"submission of " + hostile[2].name, "POST", "/v1/kyc/submissions", me, sub(myID, hostile[2].id), 422, "document_invalid"},
		{"submission of " + hostile[3].name, "POST", "/v1/kyc/submissions", me, sub(hostile[3].id, myAddr), 422, "document_invalid"},
		{"submission of " + hostile[4].name, "POST", "/v1/kyc/submissions", me, sub(myID, hostile[4].id), 422, "document_invalid"},
		{"submission of " + hostile[5].name, "POST", "/v1/kyc/submissions", me, sub(myID, hostile[5].id), 422, "document_invalid"},
		{"submission of " + hostile[6].name, "POST", "/v1/kyc/submissions", me, sub(hostile[6].id, myAddr), 422, "document_invalid"},
		{"submission of a file of another size than declared", "POST", "/v1/kyc/submissions", me, sub(resized.DocumentID, myAddr), 422, "document_invalid"},
		{"a reviewer's token on the customer API", "GET", "/v1/kyc/status", s.reviewer("cust-me"), nil, 403, "staff_token"},
		{"an admin's token on the customer API", "POST", "/v1/kyc/documents", s.token("cust-me", contract.GroupAdmins), doc(func(map[string]any) {}), 403, "staff_token"},
		{"submission with a missing id", "POST", "/v1/kyc/submissions", me, map[string]string{"identityDocumentId": myID}, 422, "invalid_document_id"},
		{"submission by a verified customer", "POST", "/v1/kyc/submissions", s.token("cust-done"), sub(doneID, doneAddr), 409, "already_verified"},
		{"unknown route", "GET", "/v1/kyc/secrets", me, nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.snapshot()
			r := s.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status || (tt.code != "" && r.code() != tt.code) {
				t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if tt.status == 500 || strings.Contains(string(r.body), "cust-other") {
				t.Fatalf("the answer leaks: %s", r.body)
			}
			if after := s.snapshot(); after != before {
				t.Fatal("a refused request changed the table")
			}
		})
	}

	t.Run("replayed submission", func(t *testing.T) {
		s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", me, sub(myID, myAddr), nil)
		before := s.snapshot()
		r := s.do("POST", "/v1/kyc/submissions", me, sub(myID, myAddr))
		if r.status != 409 || r.code() != "submission_pending" {
			t.Fatalf("replay = %d %s", r.status, r.body)
		}
		if s.snapshot() != before {
			t.Fatal("the replay changed the table")
		}
	})
}

// TestUploadRateLimit: a customer may create a few documents an hour: a
// script hammering the endpoint gets 429 with Retry-After, others are not
// affected. Only requests that passed every check count, and a refused one
// writes nothing (not even for a subject that is not a customer id). The
// window slides: a new hour does not reset it, the oldest request leaving
// it does.
func TestUploadRateLimit(t *testing.T) {
	s := newSysWith(t, nil)
	body := map[string]any{"category": "identity", "type": "passport", "contentType": "image/jpeg", "size": 1000}
	bad := map[string]any{"category": "identity", "type": "library_card", "contentType": "image/jpeg", "size": 1000}
	before := s.snapshot()
	for range 30 {
		if r := s.do("POST", "/v1/kyc/documents", s.token("cust-busy"), bad); r.status != 422 {
			t.Fatalf("invalid request = %d %s", r.status, r.body)
		}
		if r := s.do("POST", "/v1/kyc/documents", s.token("cust/../x"), body); r.status != 403 || r.code() != "invalid_subject" {
			t.Fatalf("bad subject = %d %s", r.status, r.body)
		}
	}
	if s.snapshot() != before {
		t.Fatal("refused requests wrote to the table")
	}
	start := s.clock.Now() // 10:00
	for i := range 20 {
		s.clock.Set(start.Add(time.Duration(i) * 3 * time.Minute)) // 10:00 … 10:57
		if r := s.do("POST", "/v1/kyc/documents", s.token("cust-busy"), body); r.status != 201 {
			t.Fatalf("request %d = %d %s", i+1, r.status, r.body)
		}
	}
	s.clock.Set(start.Add(time.Hour - time.Second)) // 10:59:59
	before = s.snapshot()
	r := s.do("POST", "/v1/kyc/documents", s.token("cust-busy"), body)
	if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") != "1" {
		t.Fatalf("21st request = %d %s (Retry-After %q, want 1)", r.status, r.body, r.header.Get("Retry-After"))
	}
	if s.snapshot() != before {
		t.Fatal("a refused request wrote to the table")
	}
	if r := s.do("POST", "/v1/kyc/documents", s.token("cust-calm"), body); r.status != 201 {
		t.Fatalf("another customer = %d %s", r.status, r.body)
	}
	s.clock.Set(start.Add(time.Hour)) // 11:00: the 10:00 request has left the window, one place is free
	if r := s.do("POST", "/v1/kyc/documents", s.token("cust-busy"), body); r.status != 201 {
		t.Fatalf("at 11:00 = %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/v1/kyc/documents", s.token("cust-busy"), body); r.status != 429 || r.header.Get("Retry-After") != "180" {
		t.Fatalf("again at 11:00 = %d %s (Retry-After %q): a new hour must not reset the window", r.status, r.body, r.header.Get("Retry-After"))
	}
}

// TestSubmittedDocumentKeepsItsReviewedVersion: an upload the validator has
// not passed cannot be submitted; once submitted, a late S3 event (the
// emulator's carry no version id) leaves its file alone, and a new upload to
// its key through the still-valid form is removed, so the reviewed version
// stays the current one and the reviewer is shown its re-encoded copy.
func TestSubmittedDocumentKeepsItsReviewedVersion(t *testing.T) {
	s := newSys(t)
	addr := s.uploaded("cust-v", kyc.Address, kyc.BankStatement, kyc.PDF, pdfBytes)
	up := s.newDocument("cust-v", kyc.Identity, kyc.Passport, kyc.JPEG, len(jpegBytes))
	s.upload(up.Upload, jpegBytes, kyc.JPEG)
	submission := map[string]string{"identityDocumentId": up.DocumentID, "addressDocumentId": addr}
	before := s.snapshot()
	if r := s.do("POST", "/v1/kyc/submissions", s.token("cust-v"), submission); r.status != 409 || r.code() != "upload_not_validated" {
		t.Fatalf("submission before the validator = %d %s", r.status, r.body)
	}
	if s.snapshot() != before {
		t.Fatal("the refused submission changed the table")
	}
	s.validate()
	var rec kyc.SubmissionReceipt
	s.must(http.StatusCreated, "POST", "/v1/kyc/submissions", s.token("cust-v"), submission, &rec)
	key := kyc.DocumentKey("cust-v", up.DocumentID)
	s.upload(up.Upload, jpegBytes, kyc.JPEG) // the same bytes again: an event for the new version…
	s.validate()
	if n := s.versions(key); n != 1 {
		t.Fatalf("after a late event the submitted file has %d versions, want 1", n)
	}
	s.upload(up.Upload, htmlBytes, kyc.JPEG) // the form is still valid for a few minutes
	s.validate()
	if n := s.versions(key); n != 1 {
		t.Fatalf("after a replacement upload the file has %d versions, want the reviewed one only", n)
	}
	rev := s.reviewer("rev-1")
	s.must(http.StatusOK, "POST", "/v1/admin/submissions/"+rec.SubmissionID+"/claim", rev, nil, nil)
	status, got := s.fetch(s.open(rec.SubmissionID, rev, kyc.Identity))
	if _, err := jpeg.Decode(bytes.NewReader(got)); status != 200 || err != nil {
		t.Fatalf("the reviewer's link gives %d, %d bytes (%v); want the submitted JPEG's re-encoded copy", status, len(got), err)
	}
}
