package kyc_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/kycgate/kycgate/shared/filecheck"
	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// pendingUpload creates a document of a category and returns it with its
// object key; nothing is uploaded.
func pendingUpload(t *testing.T, w *kyctest.World, customerID string, cat kyc.Category) (kyc.NewUpload, string) {
	t.Helper()
	up := w.CreateDocument(customerID, kyctest.Request(cat))
	return up, kyc.DocumentKey(customerID, up.DocumentID)
}

// object is what a browser upload of a valid identity document stores.
func object() kyctest.Object {
	return kyctest.Object{Content: kyctest.Content(kyc.JPEG, 2048), ContentType: kyc.JPEG, SSE: kyctest.SSEKMS, KMSKeyID: kyctest.KMSKeyARN}
}

// sized returns o with content cut or padded to the declared 2048 bytes.
func sized(content []byte) []byte {
	out := make([]byte, 2048)
	copy(out, content)
	return out
}

// TestValidateUpload: an uploaded object is checked against its document
// record and decoded as its declared type; a valid one makes the document
// valid, an invalid one is deleted and the document says why. The hostile
// files a first-bytes check let through are refused here.
func TestValidateUpload(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *kyctest.Object)
		reason kyc.InvalidReason // "" for valid
	}{
		{"valid", func(*kyctest.Object) {}, ""},
		{"a byte more than declared", func(o *kyctest.Object) { o.Content = kyctest.Content(kyc.JPEG, 2049) }, kyc.InvalidSizeMismatch},
		{"a byte less than declared", func(o *kyctest.Object) { o.Content = kyctest.Content(kyc.JPEG, 2047) }, kyc.InvalidSizeMismatch},
		{"a JPEG header with a script spliced in", func(o *kyctest.Object) { o.Content = sized(kyctest.JPEGScript()) }, kyc.InvalidUndecodable},
		{"a JPEG cut short", func(o *kyctest.Object) { o.Content = sized(kyctest.Content(kyc.JPEG, 300)) }, kyc.InvalidUndecodable},
		{"encrypted under the key given by id, not ARN", func(o *kyctest.Object) { o.KMSKeyID = "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b" }, ""},
		{"empty", func(o *kyctest.Object) { o.Content = nil }, kyc.InvalidEmpty},
		{"too large", func(o *kyctest.Object) { o.Content = kyctest.Content(kyc.JPEG, kyctest.MaxUploadBytes+1) }, kyc.InvalidTooLarge},
		{"not encrypted", func(o *kyctest.Object) { o.SSE, o.KMSKeyID = "", "" }, kyc.InvalidEncryption},
		{"encrypted with S3's own key", func(o *kyctest.Object) { o.SSE, o.KMSKeyID = "AES256", "" }, kyc.InvalidEncryption},
		{"encrypted under another KMS key", func(o *kyctest.Object) { o.KMSKeyID = "arn:aws:kms:ap-east-1:111122223333:key/other" }, kyc.InvalidEncryption},
		{"a PNG declared as JPEG", func(o *kyctest.Object) { o.Content = kyctest.Content(kyc.PNG, 2048) }, kyc.InvalidTypeMismatch},
		{"no known signature", func(o *kyctest.Object) { o.Content = kyctest.Content("text/plain", 2048) }, kyc.InvalidTypeMismatch},
		{"stored with another content type", func(o *kyctest.Object) { o.ContentType = kyc.PDF }, kyc.InvalidTypeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			up, key := pendingUpload(t, w, "c-1", kyc.Identity)
			defer func() { noPersonalData(t, w, "<script>") }()
			o := object()
			tt.change(&o)
			v := w.Files.Put(key, o)
			w.Advance(10)
			res := w.Validate(key, v)
			d := w.Document("c-1", up.DocumentID)
			if tt.reason == "" {
				if res.Outcome != "valid" || d.State != kyc.DocValid || d.VersionID != v || d.Size != int64(len(o.Content)) ||
					!d.ValidatedAt.Equal(w.Now()) || d.Invalid != "" {
					t.Fatalf("result %+v, document %+v: want valid at version %s", res, d, v)
				}
				if _, ok := w.Files.Object(key, v); !ok {
					t.Fatal("the valid object was deleted")
				}
				wantReviewedCopy(t, w, d, kyc.JPEG)
				return
			}
			if res.Outcome != "invalid" || res.Reason != tt.reason {
				t.Fatalf("result %+v, want invalid %s", res, tt.reason)
			}
			if d.State != kyc.DocInvalid || d.Invalid != tt.reason || d.VersionID != "" || !d.ValidatedAt.Equal(w.Now()) {
				t.Fatalf("document %+v, want invalid (%s)", d, tt.reason)
			}
			if _, ok := w.Files.Object(key, v); ok {
				t.Fatal("the invalid object version was not deleted")
			}
			if _, ok := kyc.InvalidTexts[d.Invalid]; !ok {
				t.Fatalf("reason %s has no text for the customer", d.Invalid)
			}
			if d.Reviewed != nil || len(w.Files.Versions(kyc.ReviewedKey("c-1", up.DocumentID))) != 0 {
				t.Fatalf("an invalid upload got a reviewed copy: %+v", d.Reviewed)
			}
		})
	}
}

// wantReviewedCopy checks that a valid image document has a reviewed copy:
// the picture decoded and re-encoded as its type, stored under its own key
// with SSE-KMS, and not the original bytes.
func wantReviewedCopy(t *testing.T, w *kyctest.World, d kyc.Document, ct string) {
	t.Helper()
	if d.Reviewed == nil || d.Reviewed.Key != kyc.ReviewedKey(d.CustomerID, d.ID) || d.Reviewed.ContentType != ct {
		t.Fatalf("reviewed copy %+v", d.Reviewed)
	}
	copied, ok := w.Files.Object(d.Reviewed.Key, d.Reviewed.VersionID)
	original, _ := w.Files.Object(d.Key, d.VersionID)
	if !ok || copied.SSE != kyctest.SSEKMS || copied.KMSKeyID != kyctest.KMSKeyARN || copied.ContentType != ct ||
		int64(len(copied.Content)) != d.Reviewed.Size || bytes.Equal(copied.Content, original.Content) {
		t.Fatalf("stored copy %+v (%d bytes), original %d bytes", copied.Tags, len(copied.Content), len(original.Content))
	}
	if v := filecheck.Check(ct, copied.Content); !v.Valid() {
		t.Fatalf("the reviewed copy does not decode: %s %s", v.Reason, v.Detail)
	}
}

// TestValidateUploadByType: each accepted type is decoded; a valid image gets
// a re-encoded copy (which drops whatever rode along in it), a PDF is
// reviewed as its checked original; the hostile files of each type and a
// decompression bomb are refused.
func TestValidateUploadByType(t *testing.T) {
	scriptInJPEG := func() []byte { // a valid JPEG with a script in a comment segment
		j := kyctest.Content(kyc.JPEG, kyctest.MinContent(kyc.JPEG))
		payload := []byte("<script>alert(document.domain)</script>")
		seg := append([]byte{0xFF, 0xFE, 0, byte(len(payload) + 2)}, payload...)
		return append(append(append([]byte{}, j[:2]...), seg...), j[2:]...)
	}()
	tests := []struct {
		name     string
		cat      kyc.Category
		ct       string
		content  []byte
		reason   kyc.InvalidReason // "" for valid
		reviewed bool
	}{
		{"a JPEG", kyc.Identity, kyc.JPEG, kyctest.Content(kyc.JPEG, 5000), "", true},
		{"a PNG", kyc.Identity, kyc.PNG, kyctest.Content(kyc.PNG, 5000), "", true},
		{"a PDF", kyc.Address, kyc.PDF, kyctest.Content(kyc.PDF, 5000), "", false},
		{"a JPEG with a script in a comment", kyc.Identity, kyc.JPEG, scriptInJPEG, "", true},
		{"a JPEG header with a script spliced in", kyc.Identity, kyc.JPEG, kyctest.JPEGScript(), kyc.InvalidUndecodable, false},
		{"a PNG signature followed by HTML", kyc.Identity, kyc.PNG, kyctest.PNGHTML(), kyc.InvalidUndecodable, false},
		{"a PDF with /OpenAction /JavaScript", kyc.Address, kyc.PDF, kyctest.PDFJavaScript(), kyc.InvalidPDFActiveContent, false},
		{"a decompression bomb", kyc.Identity, kyc.PNG, kyctest.PNGBomb(), kyc.InvalidTooManyPixels, false},
		{"a PDF without a cross-reference", kyc.Address, kyc.PDF,
			[]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"), kyc.InvalidPDFMalformed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			r := kyctest.Request(tt.cat)
			r.ContentType, r.Size = tt.ct, int64(len(tt.content))
			up := w.CreateDocument("c-1", r)
			key := kyc.DocumentKey("c-1", up.DocumentID)
			res := w.Validate(key, w.Post(up, tt.content))
			d := w.Document("c-1", up.DocumentID)
			if tt.reason != "" {
				if res.Outcome != "invalid" || res.Reason != tt.reason || d.State != kyc.DocInvalid || d.Invalid != tt.reason {
					t.Fatalf("result %+v, document %s (%s); want invalid %s", res, d.State, d.Invalid, tt.reason)
				}
				if _, ok := kyc.InvalidTexts[d.Invalid]; !ok || len(w.Files.Versions(key)) != 0 {
					t.Fatalf("reason %s: no text for the customer, or the file kept", d.Invalid)
				}
				_, err := w.Service.Submit(ctx, "c-1", up.DocumentID, w.Upload("c-1", kyc.Address))
				if tt.cat == kyc.Address {
					_, err = w.Service.Submit(ctx, "c-1", w.Upload("c-1", kyc.Identity), up.DocumentID)
				}
				wantErr(t, err, kyc.KindInvalid, "document_invalid")
				return
			}
			if res.Outcome != "valid" || d.State != kyc.DocValid {
				t.Fatalf("result %+v, document %+v", res, d)
			}
			if !tt.reviewed {
				if d.Reviewed != nil {
					t.Fatalf("a PDF got a reviewed copy %+v", d.Reviewed)
				}
				return
			}
			wantReviewedCopy(t, w, d, tt.ct)
			if copied, _ := w.Files.Object(d.Reviewed.Key, ""); bytes.Contains(copied.Content, []byte("script")) {
				t.Fatal("the reviewed copy kept the script")
			}
		})
	}
}

func TestValidateUploadVersions(t *testing.T) {
	t.Run("a valid new version of a valid document replaces it", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		w.Validate(key, w.Files.Put(key, object()))
		v2 := w.Files.Put(key, object())
		if res := w.Validate(key, v2); res.Outcome != "valid" {
			t.Fatalf("result %+v", res)
		}
		if d := w.Document("c-1", up.DocumentID); d.VersionID != v2 {
			t.Fatalf("document at version %s, want %s", d.VersionID, v2)
		}
	})
	t.Run("an invalid new version of a valid document is deleted; the valid one stays", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		v1 := w.Files.Put(key, object())
		w.Validate(key, v1)
		bad := object()
		bad.SSE = ""
		v2 := w.Files.Put(key, bad)
		check := unchanged(t, w)
		if res := w.Validate(key, v2); res.Outcome != "invalid" || res.Reason != kyc.InvalidEncryption {
			t.Fatalf("result %+v", res)
		}
		check()
		if d := w.Document("c-1", up.DocumentID); d.State != kyc.DocValid || d.VersionID != v1 {
			t.Fatalf("document %+v, want valid at %s", d, v1)
		}
		if got := w.Files.Versions(key); !slices.Equal(got, []string{v1}) {
			t.Fatalf("versions %v, want only %s", got, v1)
		}
	})
	t.Run("an event for a version already gone is ignored", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		check := unchanged(t, w)
		if res := w.Validate(key, "v-gone"); res.Outcome != "ignored" {
			t.Fatalf("result %+v, want ignored", res)
		}
		check()
		if d := w.Document("c-1", up.DocumentID); d.State != kyc.DocPendingUpload {
			t.Fatalf("document %s", d.State)
		}
	})
	t.Run("an event without a version id checks the current version", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		v := w.Files.Put(key, object())
		if res := w.Validate(key, ""); res.Outcome != "valid" {
			t.Fatalf("result %+v", res)
		}
		if d := w.Document("c-1", up.DocumentID); d.VersionID != v {
			t.Fatalf("document at version %q, want %s", d.VersionID, v)
		}
	})
	t.Run("an invalid upload named without a version id is deleted", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		bad := object()
		bad.Content = nil
		w.Files.Put(key, bad)
		if res := w.Validate(key, ""); res.Outcome != "invalid" || res.Reason != kyc.InvalidEmpty {
			t.Fatalf("result %+v", res)
		}
		if got := w.Files.Versions(key); len(got) != 0 {
			t.Fatalf("versions %v left", got)
		}
		if d := w.Document("c-1", up.DocumentID); d.State != kyc.DocInvalid {
			t.Fatalf("document %s", d.State)
		}
	})
}

// TestValidateUploadRemoves: objects no document expects, and new versions
// of documents already submitted or purged, are deleted; the reviewed
// version stays.
func TestValidateUploadRemoves(t *testing.T) {
	t.Run("an object outside the document layout", func(t *testing.T) {
		w := kyctest.New(t)
		v := w.Files.Put("uploads/evil.exe", object())
		if res := w.Validate("uploads/evil.exe", v); res.Outcome != "removed" {
			t.Fatalf("result %+v", res)
		}
		if _, ok := w.Files.Object("uploads/evil.exe", v); ok {
			t.Fatal("not deleted")
		}
	})
	t.Run("an object without a document record", func(t *testing.T) {
		w := kyctest.New(t)
		key := kyc.DocumentKey("c-1", "doc-unknown")
		v := w.Files.Put(key, object())
		if res := w.Validate(key, v); res.Outcome != "removed" {
			t.Fatalf("result %+v", res)
		}
		if _, ok := w.Files.Object(key, v); ok {
			t.Fatal("not deleted")
		}
	})
	t.Run("an object without a record named without a version id", func(t *testing.T) {
		w := kyctest.New(t)
		key := kyc.DocumentKey("c-1", "doc-unknown")
		w.Files.Put(key, object())
		w.Files.Put(key, object())
		if res := w.Validate(key, ""); res.Outcome != "removed" {
			t.Fatalf("result %+v", res)
		}
		if got := w.Files.Versions(key); len(got) != 0 {
			t.Fatalf("versions %v left", got)
		}
	})
	for _, named := range []bool{true, false} {
		name := "a new version of a submitted document"
		if !named {
			name += " named without a version id"
		}
		t.Run(name, func(t *testing.T) {
			w := kyctest.New(t)
			id := w.Upload("c-1", kyc.Identity)
			sub := w.SubmitDocuments("c-1", id, w.Upload("c-1", kyc.Address))
			d := w.Document("c-1", id)
			v := w.Files.Put(d.Key, object())
			if !named {
				v = ""
			}
			check := unchanged(t, w)
			if res := w.Validate(d.Key, v); res.Outcome != "removed" {
				t.Fatalf("result %+v, want removed", res)
			}
			check()
			if got := w.Files.Versions(d.Key); !slices.Equal(got, []string{d.VersionID}) {
				t.Fatalf("versions %v, want only the reviewed %s", got, d.VersionID)
			}
			if got := w.Document("c-1", id); got.VersionID != d.VersionID || got.SubmissionID != sub {
				t.Fatalf("document %+v changed", got)
			}
		})
	}
	t.Run("the reviewed version's own event is ignored", func(t *testing.T) {
		w := kyctest.New(t)
		id := w.Upload("c-1", kyc.Identity)
		w.SubmitDocuments("c-1", id, w.Upload("c-1", kyc.Address))
		d := w.Document("c-1", id)
		for _, v := range []string{d.VersionID, ""} {
			if res := w.Validate(d.Key, v); res.Outcome != "ignored" {
				t.Fatalf("event for %q: %+v, want ignored", v, res)
			}
		}
		if got := w.Files.Versions(d.Key); !slices.Equal(got, []string{d.VersionID}) {
			t.Fatalf("versions %v", got)
		}
	})
	t.Run("a new version of a purged document", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		w.Advance(kyc.DefaultRetention.Unsubmitted)
		w.Sweep()
		if d := w.Document("c-1", up.DocumentID); d.State != kyc.DocPurged {
			t.Fatalf("document %s, want purged", d.State)
		}
		v := w.Files.Put(key, object())
		if res := w.Validate(key, v); res.Outcome != "removed" {
			t.Fatalf("result %+v", res)
		}
		if got := w.Files.Versions(key); len(got) != 0 {
			t.Fatalf("versions %v left", got)
		}
	})
}

// TestValidatorRacesSubmission: a submission of a document whose upload the
// validator is checking (it read the record, it has not written yet) is
// refused: only a document the validator passed can be submitted. The
// validator's write then goes through, and the submission with it.
func TestValidatorRacesSubmission(t *testing.T) {
	w := kyctest.New(t)
	addr := w.Upload("c-1", kyc.Address)
	up, key := pendingUpload(t, w, "c-1", kyc.Identity)
	v := w.Post(up, kyctest.Content(kyc.JPEG, 2048))
	var submitErr error
	w.Store.After(kyctest.MethodDocument, func() { _, submitErr = w.Service.Submit(ctx, "c-1", up.DocumentID, addr) })
	if res := w.Validate(key, v); res.Outcome != "valid" {
		t.Fatalf("result %+v", res)
	}
	wantErr(t, submitErr, kyc.KindConflict, "upload_not_validated")
	sub := w.SubmitDocuments("c-1", up.DocumentID, addr)
	d := w.Document("c-1", up.DocumentID)
	if d.State != kyc.DocValid || d.SubmissionID != sub || d.VersionID != v || !d.PurgeAt.IsZero() {
		t.Fatalf("document %+v: want it submitted at version %s, no purge", d, v)
	}
	if res := w.Validate(key, v); res.Outcome != "ignored" {
		t.Fatalf("the redelivered event: %+v, want ignored", res)
	}
	for _, o := range []struct{ key, version string }{{key, v}, {d.Reviewed.Key, d.Reviewed.VersionID}} {
		if obj, ok := w.Files.Object(o.key, o.version); !ok || obj.Tags[kyctest.TagState] != kyctest.StateSubmitted {
			t.Fatalf("%s: %+v, %v; want it kept and tagged submitted", o.key, obj.Tags, ok)
		}
	}
}

func TestValidateUploadPortFailures(t *testing.T) {
	valid := func(w *kyctest.World) (string, string) {
		_, key := pendingUpload(t, w, "c-1", kyc.Identity)
		return key, w.Files.Put(key, object())
	}
	invalid := func(w *kyctest.World) (string, string) {
		_, key := pendingUpload(t, w, "c-1", kyc.Identity)
		o := object()
		o.SSE = ""
		return key, w.Files.Put(key, o)
	}
	submitted := func(w *kyctest.World) (string, string) {
		id := w.Upload("c-1", kyc.Identity)
		w.SubmitDocuments("c-1", id, w.Upload("c-1", kyc.Address))
		return kyc.DocumentKey("c-1", id), ""
	}
	orphan := func(w *kyctest.World) (string, string) {
		key := kyc.DocumentKey("c-1", "doc-x")
		return key, w.Files.Put(key, object())
	}
	tests := []struct {
		name   string
		setup  func(w *kyctest.World) (key, version string)
		method kyctest.Method
	}{
		{"reading the document", valid, kyctest.MethodDocument},
		{"reading the object", valid, kyctest.MethodRead},
		{"writing the reviewed copy", valid, kyctest.MethodWriteReviewed},
		{"writing the document", valid, kyctest.MethodUpdateDocument},
		{"deleting an invalid version", invalid, kyctest.MethodDeleteVersion},
		{"inspecting a submitted document's current version", submitted, kyctest.MethodInspect},
		{"deleting an object without a record", orphan, kyctest.MethodDeleteVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			key, v := tt.setup(w)
			w.Store.FailNext(tt.method, errBoom)
			w.Files.FailNext(tt.method, errBoom)
			_, err := w.Validator.ValidateUpload(ctx, key, v)
			wantInternal(t, err, errBoom)
		})
	}
}

// TestValidatorRacesSubmissionOfAValidDocument: the customer posts the form
// of a valid document again, and submits the document while the validator
// checks the new version. The submission keeps the document valid, so the
// state the validator expects has not changed: only the document's version
// tells that its copy is stale. Its write fails; the validator reads the
// document again, finds it submitted and removes the new version; the
// submitted document keeps its submission, its reviewed version and no
// purge date.
func TestValidatorRacesSubmissionOfAValidDocument(t *testing.T) {
	w := kyctest.New(t)
	addr := w.Upload("c-1", kyc.Address)
	id := w.Upload("c-1", kyc.Identity)
	reviewed := w.Document("c-1", id)
	v2 := w.Files.Put(reviewed.Key, object())
	var sub string
	w.Store.After(kyctest.MethodDocument, func() { sub = w.SubmitDocuments("c-1", id, addr) })
	updates := w.Store.Calls(kyctest.MethodUpdateDocument)
	res, err := w.Validator.ValidateUpload(ctx, reviewed.Key, v2)
	if err != nil || res.Outcome != "removed" {
		t.Fatalf("validation racing the submission: %+v, %v; want the new version removed", res, err)
	}
	if n := w.Store.Calls(kyctest.MethodUpdateDocument) - updates; n != 1 {
		t.Fatalf("%d document writes, want the one refused as stale", n)
	}
	d := w.Document("c-1", id)
	if d.SubmissionID != sub || d.VersionID != reviewed.VersionID || !d.PurgeAt.IsZero() {
		t.Fatalf("document in submission %q at version %s purging at %s; want submission %s, the reviewed %s, no purge",
			d.SubmissionID, d.VersionID, d.PurgeAt, sub, reviewed.VersionID)
	}
	if got := w.Files.Versions(reviewed.Key); !slices.Equal(got, []string{reviewed.VersionID}) {
		t.Fatalf("versions %v, want only the reviewed one", got)
	}
}
