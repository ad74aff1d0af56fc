package kyc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

func TestRequirements(t *testing.T) {
	w := kyctest.New(t)
	r := w.Service.Requirements()
	if r.MaxSize != kyctest.MaxUploadBytes || len(r.ContentTypes) != 3 || len(r.Categories) != 2 {
		t.Fatalf("requirements %+v", r)
	}
	if r.Rule.En == "" || r.Rule.ZhHant == "" {
		t.Fatalf("the completeness rule is not in both languages: %+v", r.Rule)
	}
}

func TestStatus(t *testing.T) {
	t.Run("a customer never seen is unverified with nothing", func(t *testing.T) {
		w := kyctest.New(t)
		v, err := w.Service.Status(ctx, "c-1")
		if err != nil || v.Status != kyc.StatusUnverified || v.Documents == nil || v.Holds == nil || len(v.Documents)+len(v.Holds) != 0 {
			t.Fatalf("status %+v, %v", v, err)
		}
	})
	t.Run("documents, the pending submission and the holds, newest order first", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		w.Advance(time.Hour)
		e := w.OrderEvent("c-1", "o-2")
		e.ProductID = kyctest.ProductPlain
		w.Place(e)
		sub := w.Submit("c-1")
		up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
		v, err := w.Service.Status(ctx, "c-1")
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != kyc.StatusPendingReview || v.SubmissionID != sub || len(v.Documents) != 3 || len(v.Holds) != 2 {
			t.Fatalf("status %+v", v)
		}
		if v.Holds[0].OrderID != "o-2" || v.Holds[0].State != kyc.NotRequired || v.Holds[1].State != kyc.AwaitingKYC {
			t.Fatalf("holds %+v, want o-2 (not_required) then o-1", v.Holds)
		}
		if last := v.Documents[2]; last.ID != up.DocumentID || last.State != kyc.DocPendingUpload || last.Submission != "" {
			t.Fatalf("the newest document %+v", last)
		}
	})
	t.Run("a rejected document explains its reasons in both languages", func(t *testing.T) {
		w := kyctest.New(t)
		sub := w.Submit("c-1")
		w.Reject("rev-1", sub, "too_old")
		v, err := w.Service.Status(ctx, "c-1")
		if err != nil {
			t.Fatal(err)
		}
		addr := v.Documents[1]
		if v.Status != kyc.StatusRejected || addr.Decision == nil || addr.Decision.Result != kyc.ResultResubmit ||
			len(addr.Decision.Reasons) != 1 || addr.Decision.Reasons[0].Text.ZhHant == "" {
			t.Fatalf("status %+v, address document %+v", v, addr.Decision)
		}
	})
	t.Run("an invalid upload says why", func(t *testing.T) {
		w := kyctest.New(t)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		w.Validate(key, w.Files.Put(key, kyctest.Object{Content: kyctest.Content(kyc.JPEG, 2048), ContentType: kyc.JPEG}))
		v, err := w.Service.Status(ctx, "c-1")
		if err != nil {
			t.Fatal(err)
		}
		if d := v.Documents[0]; d.ID != up.DocumentID || d.Invalid == nil || d.Invalid.Code != string(kyc.InvalidEncryption) || d.Invalid.Text.En == "" {
			t.Fatalf("document %+v", d)
		}
	})
	t.Run("a verification past its expiry reads as expired before the sweep", func(t *testing.T) {
		w := kyctest.New(t)
		res := w.Verify("c-1")
		w.Clock.Set(res.ExpiresAt)
		v, err := w.Service.Status(ctx, "c-1")
		if err != nil || v.Status != kyc.StatusExpired || !v.ExpiresAt.Equal(res.ExpiresAt) {
			t.Fatalf("status %+v, %v; want expired", v, err)
		}
	})
	t.Run("a store failure", func(t *testing.T) {
		w := kyctest.New(t)
		w.Store.FailNext(kyctest.MethodAccount, errBoom)
		_, err := w.Service.Status(ctx, "c-1")
		wantInternal(t, err, errBoom)
	})
}

// TestCreateDocument: the upload form pins exactly the document's object and
// its declared size, and the record waits for the upload.
func TestCreateDocument(t *testing.T) {
	w := kyctest.New(t)
	r := kyctest.Request(kyc.Address)
	r.Type, r.Utility, r.FileName = kyc.UtilityBill, kyc.Electricity, "陳大文 electricity bill.pdf"
	up := w.CreateDocument("c-1", r)
	key := kyc.DocumentKey("c-1", up.DocumentID)
	p, err := kyctest.Policy(up.Upload)
	if err != nil {
		t.Fatal(err)
	}
	want := kyctest.UploadPolicy{Expiration: w.Now().Add(10 * time.Minute), Key: key, ContentType: kyc.PDF, MinSize: r.Size,
		MaxSize: r.Size, SSE: kyctest.SSEKMS, KMSKeyID: kyctest.KMSKeyARN, Tagging: kyctest.UnsubmittedTagging}
	if p != want {
		t.Fatalf("the form pins %+v, want %+v", p, want)
	}
	if !up.ExpiresAt.Equal(p.Expiration) || up.Upload.Fields["key"] != key {
		t.Fatalf("upload %+v", up)
	}
	d := w.Document("c-1", up.DocumentID)
	if d.State != kyc.DocPendingUpload || d.Key != key || d.DeclaredSize != r.Size || d.Utility != kyc.Electricity ||
		!d.PurgeAt.Equal(w.Now().Add(kyc.DefaultRetention.Unsubmitted)) || d.FileName == nil {
		t.Fatalf("document %+v", d)
	}
	name, err := w.Sealer.Open(ctx, "c-1", *d.FileName)
	if err != nil || string(name) != r.FileName {
		t.Fatalf("file name opens to %q, %v", name, err)
	}
	noPersonalData(t, w, r.FileName)
	for _, size := range []int{int(r.Size) - 1, int(r.Size) + 1, kyctest.MaxUploadBytes} {
		if _, err := w.Files.Post(up.Upload, kyctest.Content(kyc.PDF, size)); err == nil {
			t.Fatalf("the form took %d bytes for a declared %d", size, r.Size)
		}
	}
	w.Advance(10 * time.Minute)
	if _, err := w.Files.Post(up.Upload, kyctest.Content(kyc.PDF, 100)); err == nil {
		t.Fatal("the form took a file after it expired")
	}
}

func TestCreateDocumentRefused(t *testing.T) {
	tests := []struct {
		name     string
		customer string
		change   func(r *kyc.DocumentRequest)
		kind     kyc.Kind
		code     string
	}{
		{"subject that is not a customer id", "c/1", func(*kyc.DocumentRequest) {}, kyc.KindForbidden, "invalid_subject"},
		{"unknown category", "c-1", func(r *kyc.DocumentRequest) { r.Category = "income" }, kyc.KindInvalid, "unknown_category"},
		{"unknown type", "c-1", func(r *kyc.DocumentRequest) { r.Type = "library_card" }, kyc.KindInvalid, "unknown_type"},
		{"identity type as address", "c-1", func(r *kyc.DocumentRequest) { r.Type = kyc.Passport }, kyc.KindInvalid, "wrong_category"},
		{"utility bill without utility", "c-1", func(r *kyc.DocumentRequest) { r.Type = kyc.UtilityBill }, kyc.KindInvalid, "unknown_utility"},
		{"utility on a bank statement", "c-1", func(r *kyc.DocumentRequest) { r.Utility = kyc.Gas }, kyc.KindInvalid, "unexpected_utility"},
		{"unsupported content type", "c-1", func(r *kyc.DocumentRequest) { r.ContentType = "image/gif" }, kyc.KindInvalid, "unsupported_content_type"},
		{"no size", "c-1", func(r *kyc.DocumentRequest) { r.Size = 0 }, kyc.KindInvalid, "invalid_size"},
		{"over the size limit", "c-1", func(r *kyc.DocumentRequest) { r.Size = kyctest.MaxUploadBytes + 1 }, kyc.KindTooLarge, "too_large"},
		{"file name too long", "c-1", func(r *kyc.DocumentRequest) { r.FileName = strings.Repeat("n", kyc.MaxFileNameLen+1) }, kyc.KindInvalid, "invalid_file_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			r := kyctest.Request(kyc.Address)
			tt.change(&r)
			check := unchanged(t, w)
			_, err := w.Service.CreateDocument(ctx, tt.customer, r)
			wantErr(t, err, tt.kind, tt.code)
			check()
		})
	}
}

func TestCreateDocumentPortFailures(t *testing.T) {
	for _, m := range []kyctest.Method{kyctest.MethodPresignUpload, kyctest.MethodSeal, kyctest.MethodCreateDocument} {
		t.Run(string(m), func(t *testing.T) {
			w := kyctest.New(t)
			w.Files.FailNext(m, errBoom)
			w.Sealer.FailNext(m, errBoom)
			w.Store.FailNext(m, errBoom)
			r := kyctest.Request(kyc.Identity)
			r.FileName = "passport.jpg"
			_, err := w.Service.CreateDocument(ctx, "c-1", r)
			wantInternal(t, err, errBoom)
			if a, _ := w.Store.Account(ctx, "c-1"); len(a.Documents) != 0 {
				t.Fatal("a document was recorded")
			}
		})
	}
}

// TestSubmit: a complete submission is one valid identity and one valid
// address document of the customer (P4).
func TestSubmit(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	idDoc, addrDoc := w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)
	w.Advance(time.Hour)
	r, err := w.Service.Submit(ctx, "c-1", idDoc, addrDoc)
	if err != nil || r.Status != kyc.SubPending {
		t.Fatalf("submit: %+v, %v", r, err)
	}
	c := w.Customer("c-1")
	if c.Status != kyc.StatusPendingReview || c.Pending == nil || c.Pending.ID != r.SubmissionID || !c.Pending.SubmittedAt.Equal(w.Now()) {
		t.Fatalf("customer %+v", c)
	}
	sub := w.Submission(r.SubmissionID)
	if sub.Status != kyc.SubPending || sub.Version != 1 || sub.IdentityDocumentID != idDoc || sub.AddressDocumentID != addrDoc || sub.CustomerID != "c-1" {
		t.Fatalf("submission %+v", sub)
	}
	for _, id := range []string{idDoc, addrDoc} {
		d := w.Document("c-1", id)
		if d.SubmissionID != r.SubmissionID || !d.PurgeAt.IsZero() || d.State != kyc.DocValid {
			t.Fatalf("document %+v: want it in the submission, kept while in review", d)
		}
		if o, ok := w.Files.Object(d.Key, d.VersionID); !ok || o.Tags[kyctest.TagState] != kyctest.StateSubmitted {
			t.Fatalf("object %s: tags %v, want it tagged submitted", d.VersionID, o.Tags)
		}
		if rc := d.Reviewed; rc != nil { // the identity document, a JPEG
			if o, ok := w.Files.Object(rc.Key, rc.VersionID); !ok || o.Tags[kyctest.TagState] != kyctest.StateSubmitted {
				t.Fatalf("reviewed copy %s: tags %v, want it tagged submitted", rc.Key, o.Tags)
			}
		} else if d.ContentType != kyc.PDF {
			t.Fatalf("document %s has no reviewed copy", d.ID)
		}
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "submission.created" || e.SubmissionID != r.SubmissionID || e.To != string(kyc.StatusPendingReview) ||
		e.Actor != (kyc.Actor{Kind: kyc.ActorCustomer, ID: "c-1"}) {
		t.Fatalf("audit %+v", e)
	}
	q, err := w.Service.Queue(ctx, 0)
	if err != nil || len(q) != 1 || q[0].SubmissionID != r.SubmissionID {
		t.Fatalf("queue %+v, %v", q, err)
	}
}

// TestSubmitAnUploadTheValidatorHasNotSeen: only the validator decodes a
// file (and writes the copy reviewers see), so an upload it has not passed
// yet cannot be submitted; once it has, it can.
func TestSubmitAnUploadTheValidatorHasNotSeen(t *testing.T) {
	w := kyctest.New(t)
	up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
	v := w.Post(up, kyctest.Content(kyc.JPEG, 2048)) // the S3 event is late
	addr := w.Upload("c-1", kyc.Address)
	check := unchanged(t, w)
	_, err := w.Service.Submit(ctx, "c-1", up.DocumentID, addr)
	wantErr(t, err, kyc.KindConflict, "upload_not_validated")
	check()
	w.Validate(kyc.DocumentKey("c-1", up.DocumentID), v)
	sub := w.SubmitDocuments("c-1", up.DocumentID, addr)
	d := w.Document("c-1", up.DocumentID)
	if d.State != kyc.DocValid || d.VersionID != v || d.Size != 2048 || d.SubmissionID != sub {
		t.Fatalf("document %+v, want valid at %s in %s", d, v, sub)
	}
}

// TestSubmitRefused: incomplete, foreign, invalid, rejected, purged,
// missing, replayed and untimely submissions are refused, and nothing is
// written.
func TestSubmitRefused(t *testing.T) {
	type docs struct{ customer, identity, address string }
	valid := func(w *kyctest.World) docs {
		return docs{"c-1", w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, w *kyctest.World) docs
		kind  kyc.Kind
		code  string
	}{
		{"subject that is not a customer id", func(t *testing.T, w *kyctest.World) docs { d := valid(w); d.customer = "c 1"; return d }, kyc.KindForbidden, "invalid_subject"},
		{"no identity document", func(t *testing.T, w *kyctest.World) docs { d := valid(w); d.identity = ""; return d }, kyc.KindInvalid, "invalid_document_id"},
		{"one document for both", func(t *testing.T, w *kyctest.World) docs { d := valid(w); d.address = d.identity; return d }, kyc.KindInvalid, "same_document"},
		{"an address document as identity", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			d.identity = w.Upload("c-1", kyc.Address)
			return d
		}, kyc.KindInvalid, "wrong_category"},
		{"another customer's document", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			d.identity = w.Upload("c-2", kyc.Identity)
			return d
		}, kyc.KindNotFound, "document_not_found"},
		{"a document that failed validation", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			up, key := pendingUpload(t, w, "c-1", kyc.Identity)
			w.Validate(key, w.Files.Put(key, kyctest.Object{Content: []byte("x")}))
			d.identity = up.DocumentID
			return d
		}, kyc.KindInvalid, "document_invalid"},
		{"a document whose object no longer passes", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			doc := w.Document("c-1", d.address)
			w.Files.DeleteVersion(ctx, doc.Key, doc.VersionID)
			return d
		}, kyc.KindInvalid, "document_invalid"},
		{"an upload that has not arrived", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			up, _ := pendingUpload(t, w, "c-1", kyc.Identity)
			d.identity = up.DocumentID
			return d
		}, kyc.KindConflict, "upload_missing"},
		{"an upload the validator has not passed yet", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			up, _ := pendingUpload(t, w, "c-1", kyc.Identity)
			w.Post(up, kyctest.Content(kyc.JPEG, 2048))
			d.identity = up.DocumentID
			return d
		}, kyc.KindConflict, "upload_not_validated"},
		{"a purged document", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			w.Advance(kyc.DefaultRetention.Unsubmitted)
			w.Sweep()
			return d
		}, kyc.KindInvalid, "document_purged"},
		{"a rejected document", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			w.Reject("rev-1", w.SubmitDocuments("c-1", d.identity, d.address))
			return d // the address document was rejected
		}, kyc.KindInvalid, "document_rejected"},
		{"a document in a submission under review", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			doc := w.Document("c-1", d.identity)
			doc.SubmissionID = "sub-other"
			if err := w.Store.UpdateDocument(ctx, doc, doc.State); err != nil {
				t.Fatal(err)
			}
			return d
		}, kyc.KindConflict, "document_in_review"},
		{"the same submission again", func(t *testing.T, w *kyctest.World) docs {
			d := valid(w)
			w.SubmitDocuments("c-1", d.identity, d.address)
			return d
		}, kyc.KindConflict, "submission_pending"},
		{"a second submission while one waits", func(t *testing.T, w *kyctest.World) docs {
			valid(w)
			w.Submit("c-1")
			return valid(w)
		}, kyc.KindConflict, "submission_pending"},
		{"a verified customer before the expiry reminder", func(t *testing.T, w *kyctest.World) docs {
			res := w.Verify("c-1")
			w.Clock.Set(res.ExpiresAt.Add(-kyc.ReminderBefore - time.Second))
			return valid(w)
		}, kyc.KindConflict, "already_verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			d := tt.setup(t, w)
			check := unchanged(t, w)
			_, err := w.Service.Submit(ctx, d.customer, d.identity, d.address)
			wantErr(t, err, tt.kind, tt.code)
			check()
		})
	}
}

func TestSubmitAfterARejectionReplacesOnlyTheRejectedDocument(t *testing.T) {
	w := kyctest.New(t)
	idDoc, addrDoc := w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)
	w.Reject("rev-1", w.SubmitDocuments("c-1", idDoc, addrDoc))
	sub := w.SubmitDocuments("c-1", idDoc, w.Upload("c-1", kyc.Address)) // the approved identity document again
	if res := w.Approve("rev-1", sub); res.CustomerStatus != kyc.StatusVerified {
		t.Fatalf("decision %+v", res)
	}
}

func TestSubmitRaces(t *testing.T) {
	t.Run("a double click: one submission, the other sees it pending", func(t *testing.T) {
		w := kyctest.New(t)
		idDoc, addrDoc := w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)
		var first string
		w.Store.Before(kyctest.MethodCommit, func() { first = w.SubmitDocuments("c-1", idDoc, addrDoc) })
		_, err := w.Service.Submit(ctx, "c-1", idDoc, addrDoc)
		wantErr(t, err, kyc.KindConflict, "submission_pending")
		if c := w.Customer("c-1"); c.Pending == nil || c.Pending.ID != first {
			t.Fatalf("pending %+v, want %s", c.Pending, first)
		}
		if q, _ := w.Service.Queue(ctx, 10); len(q) != 1 {
			t.Fatalf("queue %+v, want one submission", q)
		}
	})
	t.Run("an order committed meanwhile: the submission is retried and made", func(t *testing.T) {
		w := kyctest.New(t)
		idDoc, addrDoc := w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)
		w.Store.Before(kyctest.MethodCommit, func() { w.PlaceOrder("c-1", "o-1") })
		sub := w.SubmitDocuments("c-1", idDoc, addrDoc)
		if c := w.Customer("c-1"); c.Pending == nil || c.Pending.ID != sub || len(c.Holds) != 1 {
			t.Fatalf("customer %+v", c)
		}
	})
}

// limiter is a kyc.Limiter that records what it counts and refuses once
// allow is used up.
type limiter struct {
	allow   int
	counted []string
}

func (l *limiter) Allow(_ context.Context, customerID string, a kyc.Action) error {
	if len(l.counted) >= l.allow {
		return kyc.RateLimited(time.Minute, "too many %s requests", a)
	}
	l.counted = append(l.counted, customerID+" "+string(a))
	return nil
}

// TestLimitsCountOnlyWhatPassed: the per-customer limits count a document
// creation or a submission only once it passed every check; a refused
// request (a bad subject, a bad value, a foreign document) uses up nothing,
// and a request over the limit writes nothing.
func TestLimitsCountOnlyWhatPassed(t *testing.T) {
	l := &limiter{allow: 4}
	w := kyctest.New(t)
	svc := kyc.NewService(w.Store, w.Files, w.Sealer, w.Bus, w.Config, append(w.Options(), kyc.WithLimiter(l))...)
	bad := kyctest.Request(kyc.Identity)
	bad.Type = "library_card"
	for range 10 {
		_, err := svc.CreateDocument(ctx, "c/1", kyctest.Request(kyc.Identity))
		wantErr(t, err, kyc.KindForbidden, "invalid_subject")
		_, err = svc.CreateDocument(ctx, "c-1", bad)
		wantErr(t, err, kyc.KindInvalid, "unknown_type")
		_, err = svc.Submit(ctx, "c-1", "doc-x", "doc-y")
		wantErr(t, err, kyc.KindNotFound, "document_not_found")
		_, err = svc.Submit(ctx, "c 1", "doc-x", "doc-y")
		wantErr(t, err, kyc.KindForbidden, "invalid_subject")
	}
	if len(l.counted) != 0 {
		t.Fatalf("refused requests were counted: %v", l.counted)
	}
	upload := func(cat kyc.Category) string {
		t.Helper()
		r := kyctest.Request(cat)
		up, err := svc.CreateDocument(ctx, "c-1", r)
		if err != nil {
			t.Fatal(err)
		}
		w.Validate(kyc.DocumentKey("c-1", up.DocumentID), w.Post(up, kyctest.Content(r.ContentType, int(r.Size))))
		return up.DocumentID
	}
	id, addr := upload(kyc.Identity), upload(kyc.Address)
	w.Reject("rev-1", w.SubmitDocuments("c-1", id, addr)) // through the world's service: not counted
	addr2 := upload(kyc.Address)
	if _, err := svc.Submit(ctx, "c-1", id, addr2); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c-1 document", "c-1 document", "c-1 document", "c-1 submission"}; !slices.Equal(l.counted, want) {
		t.Fatalf("counted %v, want %v", l.counted, want)
	}
	check := unchanged(t, w)
	_, err := svc.CreateDocument(ctx, "c-1", kyctest.Request(kyc.Identity))
	wantErr(t, err, kyc.KindRateLimited, "rate_limited")
	check()
	if n := w.Files.Calls(kyctest.MethodPresignUpload); n != 3 {
		t.Fatalf("%d forms signed, want none for the refused request", n)
	}
}

func TestSubmitPortFailures(t *testing.T) {
	for _, m := range []kyctest.Method{kyctest.MethodAccount, kyctest.MethodInspect, kyctest.MethodMarkSubmitted, kyctest.MethodCommit} {
		t.Run(string(m), func(t *testing.T) {
			w := kyctest.New(t)
			idDoc, addrDoc := w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)
			w.Store.FailNext(m, errBoom)
			w.Files.FailNext(m, errBoom)
			_, err := w.Service.Submit(ctx, "c-1", idDoc, addrDoc)
			wantInternal(t, err, errBoom)
			if _, err := w.Store.Customer(ctx, "c-1"); !errors.Is(err, kyc.ErrNotExist) {
				t.Fatalf("a failed submission wrote the customer record: %v", err)
			}
		})
	}
}

// business places an order that tells the gate whether c-1 is a business.
func business(w *kyctest.World, orderID string, is bool) {
	e := w.OrderEvent("c-1", orderID)
	e.ProductID, e.Business = kyctest.ProductPlain, &is
	w.Place(e)
}

// registrationRequest asks to upload a business registration certificate.
var registrationRequest = kyc.DocumentRequest{Category: kyc.Identity, Type: kyc.BusinessRegistration, ContentType: kyc.PDF, Size: 4096}

// uploadRegistration uploads and validates a business registration
// certificate of c-1 (a business customer) and returns its id.
func uploadRegistration(t *testing.T, w *kyctest.World) string {
	t.Helper()
	up := w.CreateDocument("c-1", registrationRequest)
	if res := w.Validate(kyc.DocumentKey("c-1", up.DocumentID), w.Post(up, kyctest.Content(kyc.PDF, 4096))); res.Outcome != "valid" {
		t.Fatalf("validation %+v", res)
	}
	return up.DocumentID
}

// identityTypes lists the identity document types of requirements.
func identityTypes(r kyc.Requirements) []kyc.DocType {
	var out []kyc.DocType
	for _, c := range r.Categories {
		if c.Category == kyc.Identity {
			for _, ts := range c.Types {
				out = append(out, ts.Type)
			}
		}
	}
	return out
}

// TestBusinessRegistrationOnlyForBusinessCustomers: P3 "Business
// registration certificate (business customers)": billing says whether the
// account is a business; only then does the requirements list show the type,
// and only then is it accepted as identity (a clear 422 otherwise).
func TestBusinessRegistrationOnlyForBusinessCustomers(t *testing.T) {
	t.Run("requirements", func(t *testing.T) {
		w := kyctest.New(t)
		for _, tt := range []struct {
			name  string
			setup func()
			want  bool
		}{
			{"a customer never seen", func() {}, false},
			{"a business customer", func() { business(w, "o-1", true) }, true},
			{"a customer who is no longer a business", func() { business(w, "o-2", false) }, false},
		} {
			tt.setup()
			r, err := w.Service.RequirementsFor(ctx, "c-1")
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(identityTypes(r), kyc.BusinessRegistration); got != tt.want || len(identityTypes(r)) < 4 {
				t.Fatalf("%s: identity types %v", tt.name, identityTypes(r))
			}
		}
		if !slices.Contains(identityTypes(w.Service.Requirements()), kyc.BusinessRegistration) {
			t.Fatal("the catalogue itself lost the type")
		}
	})
	t.Run("a customer who is not a business cannot upload one", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		check := unchanged(t, w)
		_, err := w.Service.CreateDocument(ctx, "c-1", registrationRequest)
		wantErr(t, err, kyc.KindInvalid, "business_only")
		check()
	})
	t.Run("a business customer verifies with one", func(t *testing.T) {
		w := kyctest.New(t)
		business(w, "o-1", true)
		sub := w.SubmitDocuments("c-1", uploadRegistration(t, w), w.Upload("c-1", kyc.Address))
		if res := w.Approve("rev-1", sub); res.CustomerStatus != kyc.StatusVerified {
			t.Fatalf("decision %+v", res)
		}
	})
	t.Run("a customer no longer a business cannot submit one uploaded before", func(t *testing.T) {
		w := kyctest.New(t)
		business(w, "o-1", true)
		reg, addr := uploadRegistration(t, w), w.Upload("c-1", kyc.Address)
		business(w, "o-2", false)
		check := unchanged(t, w)
		_, err := w.Service.Submit(ctx, "c-1", reg, addr)
		wantErr(t, err, kyc.KindInvalid, "business_only")
		check()
	})
}

// TestReverificationNeedsNewDocuments: Decision (amended 2026-12-03):
// documents approved under a verification cannot be reused for the next
// one; a re-verification from the expiry reminder on, or after expiry,
// needs new documents.
func TestReverificationNeedsNewDocuments(t *testing.T) {
	for _, tt := range []struct {
		name string
		when func(expires time.Time) time.Time
	}{
		{"from the expiry reminder on", func(e time.Time) time.Time { return e.Add(-kyc.ReminderBefore) }},
		{"after expiry", func(e time.Time) time.Time { return e.Add(24 * time.Hour) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			idDoc, addrDoc := w.Upload("c-1", kyc.Identity), w.Upload("c-1", kyc.Address)
			res := w.Approve("rev-1", w.SubmitDocuments("c-1", idDoc, addrDoc))
			w.Clock.Set(tt.when(res.ExpiresAt))
			newAddr := w.Upload("c-1", kyc.Address)
			check := unchanged(t, w)
			for _, pair := range [][2]string{{idDoc, addrDoc}, {idDoc, newAddr}} {
				_, err := w.Service.Submit(ctx, "c-1", pair[0], pair[1])
				wantErr(t, err, kyc.KindInvalid, "document_used")
			}
			check()
			sub := w.Submit("c-1") // new documents
			if again := w.Approve("rev-1", sub); !again.ExpiresAt.After(res.ExpiresAt) || again.CustomerStatus != kyc.StatusVerified {
				t.Fatalf("re-verification %+v, want a new expiry after %s", again, res.ExpiresAt)
			}
		})
	}
}

// TestViewsCarryTheRegionsTimeZone: customer-facing times are shown in the
// service region's time zone with UTC beside them (SPEC amended
// 2026-12-03): the views carry the region and its zone so pages can.
func TestViewsCarryTheRegionsTimeZone(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	e := w.OrderEvent("c-1", "o-2")
	e.ServerRegion = kyctest.OtherRegion
	w.Place(e)
	v, err := w.Service.Status(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]string{}
	for _, h := range v.Holds {
		zones[h.OrderID] = h.ServerRegion + " " + h.TimeZone
	}
	if zones["o-1"] != kyctest.Region+" "+kyctest.Zone || zones["o-2"] != kyctest.OtherRegion+" "+kyctest.OtherZone {
		t.Fatalf("holds' zones %v", zones)
	}
	o, err := w.Service.OrderView(ctx, "o-2")
	if err != nil || o.TimeZone != kyctest.OtherZone || o.ServerRegion != kyctest.OtherRegion || !o.ReceivedAt.Equal(w.Now()) {
		t.Fatalf("order view %+v, %v", o, err)
	}
}
