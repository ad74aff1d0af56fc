package kyc_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// uploadRaw creates a document of type typ declared as contentType, stores
// content through its form and returns its id, key and object version; the
// validator has not seen it.
func uploadRaw(t *testing.T, w *kyctest.World, cust string, cat kyc.Category, typ kyc.DocType, contentType string, content []byte) (string, string, string) {
	t.Helper()
	up := w.CreateDocument(cust, kyc.DocumentRequest{Category: cat, Type: typ, ContentType: contentType, Size: int64(len(content))})
	return up.DocumentID, kyc.DocumentKey(cust, up.DocumentID), w.Post(up, content)
}

// malwareAudited checks the one document.malware entry of a customer's
// trail for a document.
func malwareAudited(t *testing.T, w *kyctest.World, cust, docID string) kyc.AuditEntry {
	t.Helper()
	var found []kyc.AuditEntry
	for _, e := range w.Audit(cust) {
		if e.Action == "document.malware" && e.DocumentID == docID {
			found = append(found, e)
		}
	}
	if len(found) != 1 || found[0].Actor != kyc.ByValidator || found[0].Detail["threats"] != guardduty.EICARThreat {
		t.Fatalf("malware audit entries %+v, want one by the validator naming the threat", found)
	}
	if _, err := w.Auditor.VerifyAudit(ctx, cust); err != nil {
		t.Fatal(err)
	}
	return found[0]
}

// TestMalwareIsRefused: the scanner sees every upload the validator reads. A
// threat refuses the document (malware, with its text in both languages),
// deletes the object, is audited, and the document can never be submitted,
// whether the file otherwise passes the checks (a PDF or a JPEG carrying the
// EICAR test file) or not (the test file alone, declared as a PDF).
func TestMalwareIsRefused(t *testing.T) {
	for _, tt := range []struct {
		name        string
		cat         kyc.Category
		typ         kyc.DocType
		contentType string
		content     []byte
	}{
		{"the EICAR test file declared as a PDF", kyc.Address, kyc.BankStatement, kyc.PDF, kyctest.EICAR()},
		{"a valid PDF carrying the test file", kyc.Address, kyc.TaxReturn, kyc.PDF, kyctest.PDFWithEICAR()},
		{"a valid JPEG followed by the test file", kyc.Identity, kyc.Passport, kyc.JPEG, kyctest.JPEGWithEICAR()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			id, key, version := uploadRaw(t, w, "c-1", tt.cat, tt.typ, tt.contentType, tt.content)
			res := w.Validate(key, version)
			if res.Outcome != "invalid" || res.Reason != kyc.InvalidMalware || !slices.Equal(res.Threats, []string{guardduty.EICARThreat}) {
				t.Fatalf("result %+v", res)
			}
			d := w.Document("c-1", id)
			if d.State != kyc.DocInvalid || d.Invalid != kyc.InvalidMalware || d.VersionID != "" || d.Reviewed != nil {
				t.Fatalf("document %+v", d)
			}
			if _, ok := w.Files.Object(key, version); ok {
				t.Fatal("the object with malware is still stored")
			}
			malwareAudited(t, w, "c-1", id)
			st, err := w.Service.Status(ctx, "c-1")
			if err != nil {
				t.Fatal(err)
			}
			dv := st.Documents[0]
			text := kyc.InvalidTexts[kyc.InvalidMalware]
			if dv.Invalid == nil || dv.Invalid.Code != "malware" || dv.Invalid.Text != text || text.En == "" || text.ZhHant == "" {
				t.Fatalf("the customer sees %+v", dv.Invalid)
			}
			other := w.Upload("c-1", map[kyc.Category]kyc.Category{kyc.Identity: kyc.Address, kyc.Address: kyc.Identity}[tt.cat])
			ids := [2]string{id, other}
			if tt.cat == kyc.Address {
				ids = [2]string{other, id}
			}
			_, err = w.Service.Submit(ctx, "c-1", ids[0], ids[1])
			wantErr(t, err, kyc.KindInvalid, "document_invalid")
			// The same event again deletes, and records nothing twice.
			if res := w.Validate(key, version); res.Outcome != "ignored" {
				t.Fatalf("redelivery: %+v", res)
			}
			malwareAudited(t, w, "c-1", id)
		})
	}
}

// TestDocumentValidOnlyAfterACleanScan: with a scanner that answers later
// (GuardDuty), a document that passed the checks is being checked
// (scanning) and cannot be submitted; the clean result makes it valid, a
// threat refuses it, a failed scan refuses it (scan_failed); a result that
// arrives before the validator checked the upload is kept and applied by
// the check. Results of another version change nothing.
func TestDocumentValidOnlyAfterACleanScan(t *testing.T) {
	t.Run("clean", func(t *testing.T) {
		w := kyctest.New(t)
		w.Scanner.Defer()
		id := uploadScanning(t, w, "c-1", kyc.Identity)
		addr := uploadScanning(t, w, "c-1", kyc.Address)
		_, err := w.Service.Submit(ctx, "c-1", id, addr)
		wantErr(t, err, kyc.KindConflict, "upload_not_validated")
		st, _ := w.Service.Status(ctx, "c-1")
		if st.Documents[0].State != kyc.DocScanning {
			t.Fatalf("the customer sees %s", st.Documents[0].State)
		}
		w.Advance(30)
		res := w.DeliverScans()
		if len(res) != 2 || res[0].Outcome != "valid" || res[1].Outcome != "valid" {
			t.Fatalf("scan results %+v", res)
		}
		d := w.Document("c-1", id)
		if d.State != kyc.DocValid || !d.ValidatedAt.Equal(w.Now()) || d.Scan == nil || d.Scan.Status != kyc.ScanClean {
			t.Fatalf("document %+v", d)
		}
		w.SubmitDocuments("c-1", id, addr)
	})
	t.Run("threat", func(t *testing.T) {
		w := kyctest.New(t)
		w.Scanner.Defer()
		id, key, version := uploadRaw(t, w, "c-1", kyc.Address, kyc.BankStatement, kyc.PDF, kyctest.PDFWithEICAR())
		if res := w.Validate(key, version); res.Outcome != "scanning" {
			t.Fatalf("result %+v", res)
		}
		if res := w.DeliverScans(); len(res) != 1 || res[0].Reason != kyc.InvalidMalware {
			t.Fatalf("scan results %+v", res)
		}
		if d := w.Document("c-1", id); d.State != kyc.DocInvalid || d.Invalid != kyc.InvalidMalware {
			t.Fatalf("document %+v", d)
		}
		if _, ok := w.Files.Object(key, version); ok {
			t.Fatal("the object with malware is still stored")
		}
		malwareAudited(t, w, "c-1", id)
	})
	t.Run("failed", func(t *testing.T) {
		w := kyctest.New(t)
		w.Scanner.Defer()
		w.Scanner.Fail()
		id, key, version := uploadRaw(t, w, "c-1", kyc.Identity, kyc.Passport, kyc.JPEG, kyctest.Content(kyc.JPEG, 2048))
		w.Validate(key, version)
		if res := w.DeliverScans(); len(res) != 1 || res[0].Reason != kyc.InvalidScanFailed {
			t.Fatalf("scan results %+v", res)
		}
		if d := w.Document("c-1", id); d.State != kyc.DocInvalid || d.Invalid != kyc.InvalidScanFailed {
			t.Fatalf("document %+v", d)
		}
		if _, ok := w.Files.Object(key, version); ok {
			t.Fatal("an object that could not be scanned is still stored")
		}
	})
	t.Run("the result before the check", func(t *testing.T) {
		w := kyctest.New(t)
		id, key, version := uploadRaw(t, w, "c-1", kyc.Identity, kyc.Passport, kyc.JPEG, kyctest.Content(kyc.JPEG, 2048))
		res, err := w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: key, VersionID: version, Status: kyc.ScanClean})
		if err != nil || res.Outcome != "recorded" || w.Document("c-1", id).State != kyc.DocPendingUpload {
			t.Fatalf("early result: %+v, %v", res, err)
		}
		scans := w.Scanner.Scanned()
		if res := w.Validate(key, version); res.Outcome != "valid" {
			t.Fatalf("check %+v", res)
		}
		if w.Scanner.Scanned() != scans {
			t.Fatal("the upload was scanned again though its result was known")
		}
	})
	t.Run("another version's result", func(t *testing.T) {
		w := kyctest.New(t)
		w.Scanner.Defer()
		id := uploadScanning(t, w, "c-1", kyc.Identity)
		w.Scanner.Results()
		d := w.Document("c-1", id)
		res, err := w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: d.Key, VersionID: "older", Status: kyc.ScanClean})
		if err != nil || res.Outcome != "ignored" || w.Document("c-1", id).State != kyc.DocScanning {
			t.Fatalf("another version's result: %+v, %v", res, err)
		}
	})
	t.Run("bad results", func(t *testing.T) {
		w := kyctest.New(t)
		check := unchanged(t, w)
		_, err := w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: "docs/c-1/d-1", VersionID: "v", Status: "maybe"})
		wantErr(t, err, kyc.KindInvalid, "invalid_scan_status")
		for _, key := range []string{"elsewhere/file", "docs/c-1/no-such-document"} {
			if res, err := w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: key, VersionID: "v", Status: kyc.ScanClean}); err != nil || res.Outcome != "ignored" {
				t.Fatalf("%s: %+v, %v", key, res, err)
			}
		}
		check()
	})
	t.Run("a scanner that fails", func(t *testing.T) {
		w := kyctest.New(t)
		_, key, version := uploadRaw(t, w, "c-1", kyc.Identity, kyc.Passport, kyc.JPEG, kyctest.Content(kyc.JPEG, 2048))
		w.Scanner.FailNext(kyctest.MethodScan, errBoom)
		_, err := w.Validator.ValidateUpload(ctx, key, version)
		if !errors.Is(err, errBoom) {
			t.Fatalf("error %v: the message must be delivered again", err)
		}
		if res := w.Validate(key, version); res.Outcome != "valid" {
			t.Fatalf("redelivery %+v", res)
		}
	})
}

// uploadScanning uploads a valid document of a category and has the
// validator check it; with a deferred scanner it waits for the scan.
func uploadScanning(t *testing.T, w *kyctest.World, cust string, cat kyc.Category) string {
	t.Helper()
	r := kyctest.Request(cat)
	id, key, version := uploadRaw(t, w, cust, cat, r.Type, r.ContentType, kyctest.Content(r.ContentType, int(r.Size)))
	if res := w.Validate(key, version); res.Outcome != "scanning" {
		t.Fatalf("check of %s: %+v, want scanning", cat, res)
	}
	return id
}

// TestLateThreatInASubmittedDocument: a threat found in the reviewed
// version of a submitted document (a scan that answers after a re-scan)
// refuses it: nobody can open it, and it cannot be approved. A threat in
// another version of a submitted document deletes that version only.
func TestLateThreatInASubmittedDocument(t *testing.T) {
	w := kyctest.New(t)
	sub := w.Submit("c-1")
	s := w.Submission(sub)
	item := w.Review("rev-1", sub)
	idDoc := w.Document("c-1", s.IdentityDocumentID)

	res, err := w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: idDoc.Key, VersionID: "another", Status: kyc.ScanThreat, Threats: []string{guardduty.EICARThreat}})
	if err != nil || res.Reason != kyc.InvalidMalware {
		t.Fatalf("threat in another version: %+v, %v", res, err)
	}
	if d := w.Document("c-1", idDoc.ID); d.State != kyc.DocValid || d.VersionID != idDoc.VersionID {
		t.Fatalf("the reviewed version was touched: %+v", d)
	}

	res, err = w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: idDoc.Key, VersionID: idDoc.VersionID, Status: kyc.ScanThreat, Threats: []string{guardduty.EICARThreat}})
	if err != nil || res.Reason != kyc.InvalidMalware {
		t.Fatalf("threat in the reviewed version: %+v, %v", res, err)
	}
	if d := w.Document("c-1", idDoc.ID); d.State != kyc.DocInvalid || d.SubmissionID != sub {
		t.Fatalf("document %+v", d)
	}
	_, err = w.Service.OpenDocument(ctx, kyctest.Reviewer("rev-1"), sub, kyc.Identity, "")
	wantErr(t, err, kyc.KindConflict, "document_refused")
	v, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub, "")
	if err != nil || v.Identity.Open != "" || v.Address.Open == "" {
		t.Fatalf("view: identity open %q, address open %q, %v", v.Identity.Open, v.Address.Open, err)
	}
	_, err = w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, kyctest.Approval(item.Version))
	wantErr(t, err, kyc.KindConflict, "document_not_valid")
	if r := w.Decide("rev-1", sub, kyc.DecisionInput{Identity: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"other"}},
		Address: kyc.Verdict{Result: "approve"}, Version: item.Version}); r.Status != kyc.SubRejected {
		t.Fatalf("rejection %+v", r)
	}
}

// TestScanResultRacesTheCheck: the malware scan's result and the
// validator's check of the same upload run at once (GuardDuty scans on its
// own; Lambda runs batches of one queue side by side). Whichever writes
// second finds the document changed, reads it again and finishes the job
// itself: the document is valid at once, not after the queue's visibility
// timeout.
func TestScanResultRacesTheCheck(t *testing.T) {
	t.Run("the result recorded while the check runs", func(t *testing.T) {
		w := kyctest.New(t)
		w.Scanner.Defer()
		r := kyctest.Request(kyc.Identity)
		id, key, version := uploadRaw(t, w, "c-1", kyc.Identity, r.Type, r.ContentType, kyctest.Content(r.ContentType, int(r.Size)))
		var recorded []kyc.ValidationResult
		w.Store.Before(kyctest.MethodUpdateDocument, func() { recorded = w.DeliverScans() })
		res, err := w.Validator.ValidateUpload(ctx, key, version)
		if err != nil || res.Outcome != "valid" {
			t.Fatalf("check: %+v, %v; want valid", res, err)
		}
		if len(recorded) != 1 || recorded[0].Outcome != "recorded" {
			t.Fatalf("the racing result: %+v, want recorded before the check's write", recorded)
		}
		if d := w.Document("c-1", id); d.State != kyc.DocValid || d.VersionID != version || d.Scan == nil || d.Scan.Status != kyc.ScanClean {
			t.Fatalf("document %+v", d)
		}
	})
	t.Run("the check written while the result is applied", func(t *testing.T) {
		w := kyctest.New(t)
		w.Scanner.Defer()
		r := kyctest.Request(kyc.Identity)
		id, key, version := uploadRaw(t, w, "c-1", kyc.Identity, r.Type, r.ContentType, kyctest.Content(r.ContentType, int(r.Size)))
		var checked kyc.ValidationResult
		w.Store.Before(kyctest.MethodUpdateDocument, func() {
			w.Scanner.Defer() // the check's own scan is pending again
			checked = w.Validate(key, version)
		})
		// The scan's result of the upload, as GuardDuty sends it.
		res, err := w.Validator.ApplyScanResult(ctx, kyc.ScanResult{Key: key, VersionID: version, Status: kyc.ScanClean, At: w.Now()})
		if err != nil || res.Outcome != "valid" {
			t.Fatalf("scan result: %+v, %v; want valid", res, err)
		}
		if checked.Outcome != "scanning" {
			t.Fatalf("the racing check: %+v, want scanning", checked)
		}
		if d := w.Document("c-1", id); d.State != kyc.DocValid || d.Scan == nil || d.Scan.VersionID != version {
			t.Fatalf("document %+v", d)
		}
	})
}
