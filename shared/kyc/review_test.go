package kyc_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

func TestQueue(t *testing.T) {
	w := kyctest.New(t)
	first := w.Submit("c-1")
	w.Advance(time.Hour)
	second := w.Submit("c-2")
	w.Advance(time.Hour)
	third := w.Submit("c-3")
	w.Claim("rev-1", second)
	w.Approve("rev-1", third)
	w.Advance(30 * time.Minute)
	q, err := w.Service.Queue(ctx, 0) // 0: the default page
	if err != nil {
		t.Fatal(err)
	}
	want := []kyc.QueueItem{
		{SubmissionID: first, CustomerID: "c-1", SubmittedAt: kyctest.Epoch, AgeSeconds: int64((150 * time.Minute).Seconds()), Version: 1},
		{SubmissionID: second, CustomerID: "c-2", SubmittedAt: kyctest.Epoch.Add(time.Hour), AgeSeconds: int64((90 * time.Minute).Seconds()), ClaimedBy: "rev-1", Version: 2},
	}
	if !slices.Equal(q, want) {
		t.Fatalf("queue\n %+v\nwant\n %+v", q, want)
	}
	if q, _ := w.Service.Queue(ctx, 1); len(q) != 1 || q[0].SubmissionID != first {
		t.Fatalf("a page of one: %+v", q)
	}
	w.Store.FailNext(kyctest.MethodPendingSubmissions, errBoom)
	_, err = w.Service.Queue(ctx, 10)
	wantInternal(t, err, errBoom)
}

// TestClaim: a reviewer claims a pending submission; someone else's live
// claim keeps others away until it goes stale (ClaimTTL).
func TestClaim(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(w *kyctest.World, sub string)
		reviewer string
		version  int // 0: refused
		kind     kyc.Kind
		code     string
	}{
		{"an unclaimed submission", func(*kyctest.World, string) {}, "rev-1", 2, 0, ""},
		{"one's own claim is renewed", func(w *kyctest.World, sub string) {
			w.Claim("rev-1", sub)
			w.Advance(kyc.ClaimTTL - time.Minute)
		}, "rev-1", 3, 0, ""},
		{"someone else's live claim", func(w *kyctest.World, sub string) {
			w.Claim("rev-2", sub)
			w.Advance(kyc.ClaimTTL - time.Nanosecond)
		}, "rev-1", 0, kyc.KindConflict, "claimed"},
		{"someone else's stale claim is taken over", func(w *kyctest.World, sub string) {
			w.Claim("rev-2", sub)
			w.Advance(kyc.ClaimTTL)
		}, "rev-1", 3, 0, ""},
		{"a decided submission", func(w *kyctest.World, sub string) { w.Approve("rev-2", sub) }, "rev-1", 0, kyc.KindConflict, "already_decided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			sub := w.Submit("c-1")
			tt.setup(w, sub)
			before := w.Submission(sub)
			check := unchanged(t, w)
			item, err := w.Service.Claim(ctx, kyctest.Reviewer(tt.reviewer), sub)
			if tt.version == 0 {
				wantErr(t, err, tt.kind, tt.code)
				check()
				if after := w.Submission(sub); after.Version != before.Version || after.ClaimedBy != before.ClaimedBy {
					t.Fatalf("a refused claim changed the submission: %+v", after)
				}
				return
			}
			if err != nil || item.ClaimedBy != tt.reviewer || item.Version != tt.version || item.SubmissionID != sub {
				t.Fatalf("claim: %+v, %v; want %s at version %d", item, err, tt.reviewer, tt.version)
			}
			got := w.Submission(sub)
			if got.ClaimedBy != tt.reviewer || !got.ClaimedAt.Equal(w.Now()) || got.Version != tt.version {
				t.Fatalf("stored submission %+v", got)
			}
			if e := lastEntry(t, w, "c-1"); e.Action != "submission.claimed" || e.SubmissionID != sub || e.Actor != kyctest.Reviewer(tt.reviewer) {
				t.Fatalf("audit %+v", e)
			}
		})
	}
}

func TestClaimRefused(t *testing.T) {
	w := kyctest.New(t)
	for _, id := range []string{"sub-unknown", "../sub"} {
		_, err := w.Service.Claim(ctx, kyctest.Reviewer("rev-1"), id)
		wantErr(t, err, kyc.KindNotFound, "submission_not_found")
	}
	sub := w.Submit("c-1")
	for _, m := range []kyctest.Method{kyctest.MethodSubmission, kyctest.MethodCustomer, kyctest.MethodCommit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Service.Claim(ctx, kyctest.Reviewer("rev-1"), sub)
		wantInternal(t, err, errBoom)
	}
}

func TestClaimRace(t *testing.T) {
	w := kyctest.New(t)
	sub := w.Submit("c-1")
	w.Store.Before(kyctest.MethodCommit, func() { w.Claim("rev-2", sub) })
	_, err := w.Service.Claim(ctx, kyctest.Reviewer("rev-1"), sub)
	wantErr(t, err, kyc.KindConflict, "claimed")
	if got := w.Submission(sub); got.ClaimedBy != "rev-2" || got.Version != 2 {
		t.Fatalf("submission %+v, want rev-2's claim at version 2", got)
	}
}

// submitNamed submits c-1's documents, the identity one with a file name.
func submitNamed(t *testing.T, w *kyctest.World, fileName string) string {
	t.Helper()
	r := kyctest.Request(kyc.Identity)
	r.FileName = fileName
	up := w.CreateDocument("c-1", r)
	w.Validate(kyc.DocumentKey("c-1", up.DocumentID), w.Post(up, kyctest.Content(kyc.JPEG, int(r.Size))))
	return w.SubmitDocuments("c-1", up.DocumentID, w.Upload("c-1", kyc.Address))
}

// TestViewSubmission: the reviewer holding the claim on a pending submission
// sees its personal data (the customer's file names) and the paths that open
// its documents; the view is audited first, naming who, which fields and
// why. No link is issued by viewing.
func TestViewSubmission(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	const name = "HKID 陳大文.jpg"
	sub := submitNamed(t, w, name)
	w.Claim("rev-1", sub)
	w.Advance(time.Minute)

	v, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub, "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != kyc.SubPending || v.Version != 2 || v.ClaimedBy != "rev-1" || v.AgeSeconds != 60 || v.Withheld != "" ||
		v.CustomerStatus != kyc.StatusPendingReview || len(v.OpenHolds) != 1 || v.Identity.FileName != name {
		t.Fatalf("view %+v", v)
	}
	for _, d := range []kyc.ReviewDocument{v.Identity, v.Address} {
		if d.Open != "/v1/admin/submissions/"+sub+"/documents/"+string(d.Category) || d.Opened {
			t.Fatalf("%s: open %q, opened %v", d.Category, d.Open, d.Opened)
		}
	}
	e := lastEntry(t, w, "c-1")
	if e.Action != "personal_data.opened" || e.SubmissionID != sub || e.Actor != kyctest.Reviewer("rev-1") ||
		e.Detail["purpose"] != kyc.PurposeReview || e.Detail["fields"] != "fileName:identity" {
		t.Fatalf("audit %+v", e)
	}
	if n := w.Files.Calls(kyctest.MethodPresignView); n != 0 {
		t.Fatalf("viewing signed %d links", n)
	}
	w.Open("rev-1", sub, kyc.Address)
	if v, _ := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub, ""); v.Identity.Opened || !v.Address.Opened {
		t.Fatalf("after opening the address document: identity opened %v, address opened %v", v.Identity.Opened, v.Address.Opened)
	}
	noPersonalData(t, w, name)
}

// TestViewSubmissionWithholds: staff who neither hold the claim on the
// pending submission nor give a purpose as an admin, and anyone looking at
// their own account, see status, dates and decisions only: no sealed field
// is opened, no path to a document is given, nothing is audited.
func TestViewSubmissionWithholds(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(w *kyctest.World, sub string)
		staff    kyc.Actor
		withheld string
	}{
		{"unclaimed", func(*kyctest.World, string) {}, kyctest.Reviewer("rev-1"), "claim_required"},
		{"claimed by someone else", func(w *kyctest.World, sub string) { w.Claim("rev-2", sub) }, kyctest.Reviewer("rev-1"), "claim_required"},
		{"an admin without a purpose", func(*kyctest.World, string) {}, kyctest.Admin("adm-1"), "claim_required"},
		{"decided, by the reviewer who decided it", func(w *kyctest.World, sub string) {
			in := kyctest.Rejection(w.Review("rev-1", sub).Version, "name_mismatch")
			in.Note, in.CustomerMessage = "the name differs", "Please upload a statement in your own name."
			in.Extracted = &kyc.Extracted{FullName: "CHAN Tai Man"}
			w.Decide("rev-1", sub, in)
		}, kyctest.Reviewer("rev-1"), "purpose_required"},
		{"one's own account (staff subject = customer id)", func(*kyctest.World, string) {}, kyctest.Reviewer("c-1"), "own_account"},
		{"one's own account (linked billing customer id)", func(*kyctest.World, string) {},
			kyc.Actor{Kind: kyc.ActorReviewer, ID: "rev-9", Customer: "c-1"}, "own_account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			sub := submitNamed(t, w, "passport-scan.jpg")
			tt.setup(w, sub)
			check := unchanged(t, w)
			opens, links := w.Sealer.Calls(kyctest.MethodOpen), w.Files.Calls(kyctest.MethodPresignView)
			v, err := w.Service.ViewSubmission(ctx, tt.staff, sub, "")
			if err != nil {
				t.Fatal(err)
			}
			if v.Withheld == "" || v.Identity.ID == "" || v.Identity.FileName != "" || v.Identity.Open != "" || v.Address.Open != "" ||
				v.Note != "" || v.CustomerMessage != "" || v.Extracted != nil {
				t.Fatalf("view %+v, want documents without personal data or paths", v)
			}
			b, _ := json.Marshal(v)
			for _, leak := range []string{"passport-scan", "differs", "own name", "CHAN", "/documents/"} {
				if strings.Contains(string(b), leak) {
					t.Fatalf("the view shows %q: %s", leak, b)
				}
			}
			check()
			if n := w.Sealer.Calls(kyctest.MethodOpen) - opens; n != 0 {
				t.Fatalf("%d sealed values opened", n)
			}
			if _, err := w.Service.OpenDocument(ctx, tt.staff, sub, kyc.Identity, ""); kyc.CodeOf(err) != tt.withheld || kyc.KindOf(err) != kyc.KindForbidden {
				t.Fatalf("opening the document: %v, want 403 %s", err, tt.withheld)
			}
			check()
			if n := w.Files.Calls(kyctest.MethodPresignView) - links; n != 0 {
				t.Fatalf("%d links signed", n)
			}
		})
	}
}

// TestViewSubmissionForAPurpose: an admin opens any submission's personal
// data by stating a purpose, which the audit trail keeps; reviewers cannot,
// and nobody can for their own account.
func TestViewSubmissionForAPurpose(t *testing.T) {
	w := kyctest.New(t)
	sub := submitNamed(t, w, "id-card.jpg")
	in := kyctest.Rejection(w.Review("rev-1", sub).Version, "name_mismatch")
	in.Note, in.CustomerMessage = "name differs from the HKID", "Please upload a statement in your own name."
	in.Extracted = &kyc.Extracted{FullName: "CHAN Tai Man", DocumentNumber: "A123456(7)", BirthDate: "1980-01-02"}
	w.Decide("rev-1", sub, in)
	const purpose = "complaint #4411: the customer disputes the rejection"

	v, err := w.Service.ViewSubmission(ctx, kyctest.Admin("adm-1"), sub, purpose)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != kyc.SubRejected || v.Note != in.Note || v.CustomerMessage != in.CustomerMessage || v.Extracted == nil ||
		*v.Extracted != *in.Extracted || v.DecidedBy != "rev-1" || v.Shredded || v.Identity.FileName != "id-card.jpg" || v.Withheld != "" {
		t.Fatalf("view %+v", v)
	}
	if want := "/v1/admin/submissions/" + sub + "/documents/identity?purpose=" + url.QueryEscape(purpose); v.Identity.Open != want {
		t.Fatalf("open path %q, want %q", v.Identity.Open, want)
	}
	e := lastEntry(t, w, "c-1")
	if e.Action != "personal_data.opened" || e.Actor != kyctest.Admin("adm-1") || e.Detail["purpose"] != purpose ||
		e.Detail["fields"] != "fileName:identity,customerMessage,note,extracted" {
		t.Fatalf("audit %+v", e)
	}
	link, err := w.Service.OpenDocument(ctx, kyctest.Admin("adm-1"), sub, kyc.Address, purpose)
	if err != nil || link.URL == "" {
		t.Fatalf("open for a purpose: %+v, %v", link, err)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "document.opened" || e.Detail["purpose"] != purpose || e.Actor != kyctest.Admin("adm-1") {
		t.Fatalf("audit %+v", e)
	}
	stored := w.Submission(sub)
	if stored.Note == nil || stored.Message == nil || stored.DocNumberHash == "" {
		t.Fatalf("stored submission %+v: want the note and the message sealed and the number hashed", stored)
	}
	noPersonalData(t, w, in.Note, in.CustomerMessage, in.Extracted.FullName, in.Extracted.DocumentNumber, "id-card.jpg")

	check := unchanged(t, w)
	for _, tt := range []struct {
		name    string
		staff   kyc.Actor
		purpose string
		kind    kyc.Kind
		code    string
	}{
		{"a reviewer", kyctest.Reviewer("rev-1"), purpose, kyc.KindForbidden, "admin_only"},
		{"an admin's own account", kyc.Actor{Kind: kyc.ActorAdmin, ID: "adm-2", Customer: "c-1"}, purpose, kyc.KindForbidden, "own_account"},
		{"a purpose too long", kyctest.Admin("adm-1"), strings.Repeat("p", 201), kyc.KindInvalid, "invalid_purpose"},
		{"a purpose with control characters", kyctest.Admin("adm-1"), "audit\nforged: entry", kyc.KindInvalid, "invalid_purpose"},
	} {
		_, err := w.Service.ViewSubmission(ctx, tt.staff, sub, tt.purpose)
		wantErr(t, err, tt.kind, tt.code)
		_, err = w.Service.OpenDocument(ctx, tt.staff, sub, kyc.Identity, tt.purpose)
		wantErr(t, err, tt.kind, tt.code)
	}
	check()

	w.Sealer.Shred("c-1")
	v, err = w.Service.ViewSubmission(ctx, kyctest.Admin("adm-1"), sub, purpose)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Shredded || v.Note != "" || v.Extracted != nil || v.CustomerMessage != "" || v.Identity.FileName != "" {
		t.Fatalf("view after the key was shredded: %+v", v)
	}
}

func TestViewSubmissionRefused(t *testing.T) {
	w := kyctest.New(t)
	_, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), "sub-unknown", "")
	wantErr(t, err, kyc.KindNotFound, "submission_not_found")
	sub := submitNamed(t, w, "id.jpg")
	w.Claim("rev-1", sub)
	for _, f := range []struct {
		m    kyctest.Method
		fail func(kyctest.Method, error)
	}{
		{kyctest.MethodAccount, w.Store.FailNext},
		{kyctest.MethodCommit, w.Store.FailNext},
		{kyctest.MethodAudit, w.Store.FailNext},
		{kyctest.MethodOpen, w.Sealer.FailNext},
	} {
		f.fail(f.m, errBoom)
		_, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub, "")
		wantInternal(t, err, errBoom)
	}
	// Personal data whose opening could not be audited is not opened.
	opens := w.Sealer.Calls(kyctest.MethodOpen)
	w.Store.FailNext(kyctest.MethodCommit, errBoom)
	if v, err := w.Service.ViewSubmission(ctx, kyctest.Reviewer("rev-1"), sub, ""); err == nil || v.Identity.FileName != "" {
		t.Fatalf("view %+v, %v: want nothing opened when the audit fails", v, err)
	}
	if n := w.Sealer.Calls(kyctest.MethodOpen) - opens; n != 0 {
		t.Fatalf("%d values opened although the audit failed", n)
	}
}

// TestOpenDocument: the claimer opens a document; the opening is audited
// before the link is returned, and the link shows the reviewed copy (the
// re-encoded image, never the original bytes) inline for at most 5 minutes.
func TestOpenDocument(t *testing.T) {
	w := kyctest.New(t)
	sub := w.Submit("c-1")
	w.Claim("rev-1", sub)
	stored := w.Submission(sub)
	for _, tt := range []struct {
		cat  kyc.Category
		id   string
		copy string
	}{{kyc.Identity, stored.IdentityDocumentID, "reviewed"}, {kyc.Address, stored.AddressDocumentID, "original"}} {
		link, err := w.Service.OpenDocument(ctx, kyctest.Reviewer("rev-1"), sub, tt.cat, "")
		if err != nil {
			t.Fatal(err)
		}
		d := w.Document("c-1", tt.id)
		key, version, ct := d.ViewObject()
		u, _ := url.Parse(link.URL)
		q := u.Query()
		if u.Path != "/"+key || q.Get("versionId") != version || q.Get("response-content-type") != ct ||
			!strings.HasPrefix(q.Get("response-content-disposition"), "inline") || !link.ExpiresAt.Equal(w.Now().Add(kyc.MaxLinkTTL)) {
			t.Fatalf("%s: link %s expiring %s", tt.cat, link.URL, link.ExpiresAt)
		}
		if (tt.copy == "reviewed") != (key == kyc.ReviewedKey("c-1", tt.id)) {
			t.Fatalf("%s: the link shows %s, want the %s copy", tt.cat, key, tt.copy)
		}
		e := lastEntry(t, w, "c-1")
		if e.Action != "document.opened" || e.DocumentID != tt.id || e.SubmissionID != sub || e.Actor != kyctest.Reviewer("rev-1") ||
			e.Detail["category"] != string(tt.cat) || e.Detail["copy"] != tt.copy || e.Detail["purpose"] != kyc.PurposeReview ||
			e.Detail["linkTTL"] != kyc.MaxLinkTTL.String() {
			t.Fatalf("%s: audit %+v", tt.cat, e)
		}
	}

	check := unchanged(t, w)
	_, err := w.Service.OpenDocument(ctx, kyctest.Reviewer("rev-1"), sub, "selfie", "")
	wantErr(t, err, kyc.KindNotFound, "document_not_found")
	_, err = w.Service.OpenDocument(ctx, kyctest.Reviewer("rev-1"), "sub-x", kyc.Identity, "")
	wantErr(t, err, kyc.KindNotFound, "submission_not_found")
	for _, f := range []struct {
		m    kyctest.Method
		fail func(kyctest.Method, error)
	}{
		{kyctest.MethodSubmission, w.Store.FailNext},
		{kyctest.MethodAccount, w.Store.FailNext},
		{kyctest.MethodPresignView, w.Files.FailNext},
	} {
		f.fail(f.m, errBoom)
		_, err := w.Service.OpenDocument(ctx, kyctest.Reviewer("rev-1"), sub, kyc.Identity, "")
		wantInternal(t, err, errBoom)
	}
	check()
	// A link whose opening could not be audited is not given out.
	w.Store.FailNext(kyctest.MethodCommit, errBoom)
	if link, err := w.Service.OpenDocument(ctx, kyctest.Reviewer("rev-1"), sub, kyc.Identity, ""); err == nil || link.URL != "" {
		t.Fatalf("link %+v, %v: want none when the audit fails", link, err)
	}
}

// TestApprovalNeedsOpenedDocuments: a document is approved only by a
// reviewer who opened it; the API says so with a 409, and nothing changes.
func TestApprovalNeedsOpenedDocuments(t *testing.T) {
	tests := []struct {
		name   string
		opened []kyc.Category // opened by rev-1, the deciding reviewer
		other  []kyc.Category // opened by rev-2 while it held the claim
		input  func(version int) kyc.DecisionInput
		code   string // "" for accepted
	}{
		{"approval, nothing opened", nil, nil, kyctest.Approval, "documents_not_opened"},
		{"approval, the identity document opened only", []kyc.Category{kyc.Identity}, nil, kyctest.Approval, "documents_not_opened"},
		{"approval, both opened by another reviewer", nil, []kyc.Category{kyc.Identity, kyc.Address}, kyctest.Approval, "documents_not_opened"},
		{"approval, both opened", []kyc.Category{kyc.Identity, kyc.Address}, nil, kyctest.Approval, ""},
		{"identity approved, address rejected: the identity document opened", []kyc.Category{kyc.Identity}, nil,
			func(v int) kyc.DecisionInput { return kyctest.Rejection(v) }, ""},
		{"identity approved, address rejected: only the address document opened", []kyc.Category{kyc.Address}, nil,
			func(v int) kyc.DecisionInput { return kyctest.Rejection(v) }, "documents_not_opened"},
		{"both rejected, nothing opened", nil, nil, func(v int) kyc.DecisionInput {
			in := kyctest.Rejection(v, "wrong_type")
			in.Identity = kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"wrong_type"}}
			return in
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			sub := w.Submit("c-1")
			if len(tt.other) > 0 {
				w.Claim("rev-2", sub)
				for _, c := range tt.other {
					w.Open("rev-2", sub, c)
				}
				w.Advance(kyc.ClaimTTL)
			}
			w.Claim("rev-1", sub)
			for _, c := range tt.opened {
				w.Open("rev-1", sub, c)
			}
			in := tt.input(w.Submission(sub).Version)
			check := unchanged(t, w)
			_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, in)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, kyc.KindConflict, tt.code)
			check()
			if s := w.Submission(sub); s.Status != kyc.SubPending {
				t.Fatalf("submission %s after a refused decision", s.Status)
			}
			if n := w.Sealer.Calls(kyctest.MethodSeal); n != 0 {
				t.Fatalf("%d values sealed for a refused decision", n)
			}
		})
	}
	t.Run("the audit trail cannot be read", func(t *testing.T) {
		w := kyctest.New(t)
		sub := w.Submit("c-1")
		v := w.Review("rev-1", sub).Version
		w.Store.FailNext(kyctest.MethodAudit, errBoom)
		_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, kyctest.Approval(v))
		wantInternal(t, err, errBoom)
	})
}

// TestDecide: approval verifies the customer for 2 years and releases every
// hold by its own order time (P2, P6, SPEC "one verification releases every
// hold"); rejection lets the customer resubmit.
func TestDecide(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	w.Advance(10 * time.Hour)
	w.PlaceOrder("c-1", "o-2")
	w.Advance(5 * time.Hour)
	sub := w.Submit("c-1")
	item := w.Review("rev-1", sub)
	w.Advance(20 * time.Hour) // 35 h after o-1, 25 h after o-2
	w.Bus.Reset()
	res := w.Decide("rev-1", sub, kyctest.Approval(item.Version))
	now := w.Now()
	if res.Status != kyc.SubApproved || res.Version != item.Version+1 || res.CustomerStatus != kyc.StatusVerified ||
		!res.ExpiresAt.Equal(kyc.VerificationExpiry(now)) || len(res.Holds) != 2 {
		t.Fatalf("decision %+v", res)
	}
	for _, want := range []struct {
		order string
		days  int
		exact time.Duration
	}{{"o-1", 2, 35 * time.Hour}, {"o-2", 2, 25 * time.Hour}} {
		h := w.Hold("c-1", want.order)
		if h.State != kyc.ProvisionedExtended || h.Extension == nil || h.Extension.Days != want.days || h.Extension.Exact != want.exact ||
			h.NextDueDate != h.OriginalDueDate.AddDays(want.days) {
			t.Fatalf("hold %s: %+v ext %+v, want extended by %d days (%s)", want.order, h, h.Extension, want.days, want.exact)
		}
	}
	wantEvents(t, w, kyc.KycVerified, kyc.ServiceProvisionRequested, kyc.ServiceDueDateExtended, kyc.ServiceProvisionRequested, kyc.ServiceDueDateExtended)
	c := w.Customer("c-1")
	if c.Status != kyc.StatusVerified || !c.VerifiedAt.Equal(now) || c.Pending != nil || len(c.Holds) != 0 {
		t.Fatalf("customer %+v", c)
	}
	stored := w.Submission(sub)
	if stored.Status != kyc.SubApproved || stored.Identity.Result != kyc.ResultApproved || !stored.DecidedAt.Equal(now) || stored.DecidedBy != "rev-1" {
		t.Fatalf("submission %+v", stored)
	}
	for _, id := range []string{stored.IdentityDocumentID, stored.AddressDocumentID} {
		if d := w.Document("c-1", id); d.Decision == nil || d.Decision.Result != kyc.ResultApproved {
			t.Fatalf("document %+v", d)
		}
	}
	if q, _ := w.Service.Queue(ctx, 10); len(q) != 0 {
		t.Fatalf("queue %+v after the decision", q)
	}
	got := actions(t, w, "c-1")
	if want := []string{"submission.decided", "customer.verified", "hold.approved", "hold.approved"}; !slices.Equal(got[len(got)-4:], want) {
		t.Fatalf("audit %v, want it to end with %v", got, want)
	}
}

func TestDecideReject(t *testing.T) {
	tests := []struct {
		name    string
		reasons []kyc.ReasonCode
		result  kyc.DocResult
	}{
		{"a fixable reason asks for a new document", []kyc.ReasonCode{"too_old", "address_missing"}, kyc.ResultResubmit},
		{"an altered document is rejected outright", []kyc.ReasonCode{"too_old", "altered"}, kyc.ResultRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			w.PlaceOrder("c-1", "o-1")
			sub := w.Submit("c-1")
			in := kyctest.Rejection(w.Review("rev-1", sub).Version, tt.reasons...)
			in.CustomerMessage = "Please upload a statement from the last three months, 陳大文."
			w.Bus.Reset()
			res := w.Decide("rev-1", sub, in)
			if res.Status != kyc.SubRejected || res.CustomerStatus != kyc.StatusRejected {
				t.Fatalf("decision %+v", res)
			}
			if h := w.Hold("c-1", "o-1"); h.State != kyc.AwaitingKYC {
				t.Fatalf("hold %s: before the deadline a rejection leaves the customer time", h.State)
			}
			ev := w.Events()
			if len(ev) != 1 || ev[0].Type != kyc.KycRejected || !slices.Equal(ev[0].Reasons, tt.reasons) || ev[0].CustomerMessage != "" ||
				ev[0].SealedMessage == nil || len(ev[0].Documents) != 2 || ev[0].Documents[1].Result != tt.result {
				t.Fatalf("events %+v", ev)
			}
			// The event carries the message sealed with the customer's key,
			// as it is stored; the notifier opens it to send.
			if msg, err := w.Sealer.Open(ctx, "c-1", *ev[0].SealedMessage); err != nil || string(msg) != in.CustomerMessage {
				t.Fatalf("the sealed message opens to %q, %v", msg, err)
			}
			if s := w.Submission(sub); s.Message == nil || !bytes.Equal(s.Message.Data, ev[0].SealedMessage.Data) {
				t.Fatalf("stored message %+v", s.Message)
			}
			noPersonalData(t, w, in.CustomerMessage, "陳大文")
			s := w.Submission(sub)
			if s.Identity.Result != kyc.ResultApproved || s.Address.Result != tt.result {
				t.Fatalf("submission decisions %+v %+v", s.Identity, s.Address)
			}
			if c := w.Customer("c-1"); c.Pending != nil || c.Status != kyc.StatusRejected {
				t.Fatalf("customer %+v", c)
			}
		})
	}
}

func TestDecideRefused(t *testing.T) {
	approve := func(w *kyctest.World, sub string) kyc.DecisionInput {
		return kyctest.Approval(w.Submission(sub).Version)
	}
	tests := []struct {
		name     string
		setup    func(w *kyctest.World, sub string)
		reviewer string
		input    func(w *kyctest.World, sub string) kyc.DecisionInput
		kind     kyc.Kind
		code     string
	}{
		{"not claimed", func(*kyctest.World, string) {}, "rev-1", approve, kyc.KindConflict, "not_claimed"},
		{"claimed by someone else", func(w *kyctest.World, sub string) { w.Claim("rev-2", sub) }, "rev-1", approve, kyc.KindConflict, "not_claimed"},
		{"a stale version", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(*kyctest.World, string) kyc.DecisionInput { return kyctest.Approval(1) }, kyc.KindConflict, "stale_version"},
		{"already decided", func(w *kyctest.World, sub string) { w.Reject("rev-1", sub) }, "rev-1",
			func(*kyctest.World, string) kyc.DecisionInput { return kyctest.Approval(2) }, kyc.KindConflict, "already_decided"},
		{"no version", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(*kyctest.World, string) kyc.DecisionInput { return kyctest.Approval(0) }, kyc.KindInvalid, "version_required"},
		{"a rejection without reasons", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(w *kyctest.World, sub string) kyc.DecisionInput {
				in := approve(w, sub)
				in.Address.Result = "reject"
				return in
			}, kyc.KindInvalid, "reasons_required"},
		{"an unknown reason", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(w *kyctest.World, sub string) kyc.DecisionInput {
				return kyctest.Rejection(w.Submission(sub).Version, "ugly")
			}, kyc.KindInvalid, "unknown_reason"},
		{"an approval with reasons", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(w *kyctest.World, sub string) kyc.DecisionInput {
				in := approve(w, sub)
				in.Identity.Reasons = []kyc.ReasonCode{"other"}
				return in
			}, kyc.KindInvalid, "reasons_on_approval"},
		{"neither approve nor reject", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(w *kyctest.World, sub string) kyc.DecisionInput {
				in := approve(w, sub)
				in.Identity.Result = "maybe"
				return in
			}, kyc.KindInvalid, "invalid_result"},
		{"a message too long", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(w *kyctest.World, sub string) kyc.DecisionInput {
				in := approve(w, sub)
				in.CustomerMessage = strings.Repeat("字", kyc.MaxCustomerMessage+1)
				return in
			}, kyc.KindInvalid, "message_too_long"},
		{"a note too long", func(w *kyctest.World, sub string) { w.Claim("rev-1", sub) }, "rev-1",
			func(w *kyctest.World, sub string) kyc.DecisionInput {
				in := approve(w, sub)
				in.Note = strings.Repeat("n", kyc.MaxNote+1)
				return in
			}, kyc.KindInvalid, "note_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			sub := w.Submit("c-1")
			tt.setup(w, sub)
			before := w.Submission(sub)
			check := unchanged(t, w)
			_, err := w.Service.Decide(ctx, kyctest.Reviewer(tt.reviewer), sub, tt.input(w, sub))
			wantErr(t, err, tt.kind, tt.code)
			check()
			if after := w.Submission(sub); after.Version != before.Version || after.Status != before.Status {
				t.Fatalf("a refused decision changed the submission: %+v", after)
			}
			if n := w.Sealer.Calls(kyctest.MethodSeal); n != 0 {
				t.Fatalf("%d values sealed for a refused decision", n)
			}
		})
	}
	t.Run("unknown submission", func(t *testing.T) {
		w := kyctest.New(t)
		_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), "sub-x", kyctest.Approval(2))
		wantErr(t, err, kyc.KindNotFound, "submission_not_found")
	})
}

// TestDecideRaces: of two decisions racing on one submission exactly one
// wins; a decision racing another write of the customer decides again on the
// fresh record.
func TestDecideRaces(t *testing.T) {
	t.Run("two decisions on one version: one wins, the other is refused", func(t *testing.T) {
		w := kyctest.New(t)
		sub := w.Submit("c-1")
		v := w.Review("rev-1", sub).Version
		var first kyc.DecisionResult
		w.Store.Before(kyctest.MethodCommit, func() { first = w.Decide("rev-1", sub, kyctest.Rejection(v)) })
		_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, kyctest.Approval(v))
		wantErr(t, err, kyc.KindConflict, "already_decided")
		if s := w.Submission(sub); s.Status != kyc.SubRejected || s.Version != first.Version {
			t.Fatalf("submission %+v, want the first decision (rejected)", s)
		}
		wantEvents(t, w, kyc.KycRejected)
	})
	t.Run("a sweep commits between the decision's read and its write", func(t *testing.T) {
		w := kyctest.New(t)
		w.PlaceOrder("c-1", "o-1")
		sub := w.Submit("c-1")
		v := w.Review("rev-1", sub).Version
		w.Advance(kyc.Window + time.Hour) // the timely submission still waits: the sweep moves the hold to awaiting_review
		w.Store.After(kyctest.MethodAccount, func() { w.Sweep() })
		w.Bus.Reset()
		res := w.Decide("rev-1", sub, kyctest.Approval(v))
		h := w.Hold("c-1", "o-1")
		if res.CustomerStatus != kyc.StatusVerified || h.State != kyc.ProvisionedExtended || h.Extension.Days != 4 {
			t.Fatalf("decision %+v hold %+v: want an on-time approval after the sweep's awaiting_review", res, h)
		}
		wantEvents(t, w, kyc.KycVerified, kyc.ServiceProvisionRequested, kyc.ServiceDueDateExtended)
		got := actions(t, w, "c-1")
		if i := slices.Index(got, "hold.deadline"); i < 0 || i > slices.Index(got, "submission.decided") {
			t.Fatalf("audit %v, want the sweep's deadline before the decision", got)
		}
	})
}

func TestDecideSealsAndFingerprints(t *testing.T) {
	w := kyctest.New(t)
	subs := []string{w.Submit("c-1"), w.Submit("c-2")}
	for i, number := range []string{"A123-456 7", "a1234567"} {
		in := kyctest.Approval(w.Review("rev-1", subs[i]).Version)
		in.Extracted = &kyc.Extracted{DocumentNumber: number}
		w.Decide("rev-1", subs[i], in)
	}
	a, b := w.Submission(subs[0]), w.Submission(subs[1])
	if a.DocNumberHash == "" || a.DocNumberHash != b.DocNumberHash {
		t.Fatalf("fingerprints %q and %q of one document number typed twice", a.DocNumberHash, b.DocNumberHash)
	}
	if _, err := w.Sealer.Open(ctx, "c-2", *a.Extracted); err == nil {
		t.Fatal("c-1's sealed fields open as c-2's")
	}
}

func TestDecidePortFailures(t *testing.T) {
	for _, m := range []kyctest.Method{kyctest.MethodSeal, kyctest.MethodFingerprint, kyctest.MethodAccount, kyctest.MethodCommit} {
		t.Run(string(m), func(t *testing.T) {
			w := kyctest.New(t)
			sub := w.Submit("c-1")
			in := kyctest.Approval(w.Review("rev-1", sub).Version)
			in.Extracted = &kyc.Extracted{DocumentNumber: "A1234567"}
			w.Sealer.FailNext(m, errBoom)
			w.Store.FailNext(m, errBoom)
			check := unchanged(t, w)
			_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, in)
			wantInternal(t, err, errBoom)
			if m != kyctest.MethodCommit {
				check()
			}
			if s := w.Submission(sub); s.Status != kyc.SubPending {
				t.Fatalf("submission %s after a failed decision", s.Status)
			}
		})
	}
	t.Run("a note that cannot be sealed", func(t *testing.T) {
		w := kyctest.New(t)
		sub := w.Submit("c-1")
		in := kyctest.Approval(w.Review("rev-1", sub).Version)
		in.Note = "internal"
		w.Sealer.FailNext(kyctest.MethodSeal, errBoom)
		_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, in)
		wantInternal(t, err, errBoom)
	})
	t.Run("a retry that cannot read the submission again", func(t *testing.T) {
		w := kyctest.New(t)
		sub := w.Submit("c-1")
		in := kyctest.Approval(w.Review("rev-1", sub).Version)
		w.Store.FailNext(kyctest.MethodCommit, kyc.ErrStale)
		w.Store.After(kyctest.MethodCommit, func() { w.Store.FailNext(kyctest.MethodSubmission, errBoom) })
		_, err := w.Service.Decide(ctx, kyctest.Reviewer("rev-1"), sub, in)
		wantInternal(t, err, errBoom)
	})
}

func TestCustomerView(t *testing.T) {
	w := kyctest.New(t)
	adm := kyctest.Admin("adm-1")
	for _, id := range []string{"c-9", "c/9"} {
		_, err := w.Service.CustomerView(ctx, adm, id)
		wantErr(t, err, kyc.KindNotFound, "customer_not_found")
	}
	w.PlaceOrder("c-1", "o-1")
	w.Verify("c-1")
	v, err := w.Service.CustomerView(ctx, adm, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != kyc.StatusVerified || v.LegalHold || len(v.Holds) != 1 || len(v.Documents) != 2 || len(v.Audit) != len(w.Audit("c-1")) {
		t.Fatalf("view %+v", v)
	}
	if r := kyc.VerifyChain(v.Audit, w.Customer("c-1").Audit); !r.OK {
		t.Fatalf("the view's trail does not verify: %+v", r)
	}
	for _, m := range []kyctest.Method{kyctest.MethodAccount, kyctest.MethodAudit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Service.CustomerView(ctx, adm, "c-1")
		wantInternal(t, err, errBoom)
	}
}

// TestCustomerViewKeepsAdminMattersFromReviewers: "other staff see status,
// dates and decisions only". Of disclosures, legal holds and admins'
// openings for a purpose, a reviewer's view of the trail shows that they
// happened, not the authority, legal reference, reasons or purpose; nor a
// waiting request to lift the hold. Decisions keep their details; an admin
// sees everything; the stored trail is untouched.
func TestCustomerViewKeepsAdminMattersFromReviewers(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	sub := w.Verify("c-1").SubmissionID
	secrets := []string{"Hong Kong Police", "warrant 2026/77", "fraud inquiry 12", "case 88 review", "lift: case closed"}
	if _, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("adm-1"), kyc.DisclosureRequest{CustomerID: "c-1",
		Authority: secrets[0], Jurisdiction: kyctest.Region, LegalReference: secrets[1], Scope: []kyc.DisclosureData{kyc.DiscloseDocuments}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []kyc.LegalHoldRequest{{Hold: true, Reason: secrets[2]}, {Hold: false, Reason: secrets[4]}} {
		if _, err := w.Service.SetLegalHold(ctx, kyctest.Admin("adm-1"), "c-1", r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Service.ViewSubmission(ctx, kyctest.Admin("adm-2"), sub, secrets[3]); err != nil {
		t.Fatal(err)
	}
	stored := w.Audit("c-1")

	admin, err := w.Service.CustomerView(ctx, kyctest.Admin("adm-3"), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := w.Service.CustomerView(ctx, kyctest.Reviewer("rev-9"), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	all, seen := fmt.Sprint(admin), fmt.Sprint(rev)
	for _, s := range secrets {
		if !strings.Contains(all, s) {
			t.Errorf("the admin does not see %q", s)
		}
		if strings.Contains(seen, s) {
			t.Errorf("a reviewer sees %q", s)
		}
	}
	if admin.LegalHoldLift == nil || rev.LegalHoldLift != nil || !rev.LegalHold {
		t.Errorf("legal hold: admin %+v, reviewer %v %+v", admin.LegalHoldLift, rev.LegalHold, rev.LegalHoldLift)
	}
	if len(rev.Audit) != len(stored) {
		t.Fatalf("reviewer's trail has %d entries, stored %d", len(rev.Audit), len(stored))
	}
	for i, e := range rev.Audit {
		if e.Seq != stored[i].Seq || e.Action != stored[i].Action || !e.At.Equal(stored[i].At) || e.Actor != stored[i].Actor {
			t.Errorf("entry %d: %+v, stored %+v", i, e, stored[i])
		}
		if e.Action == "submission.decided" && e.Detail["identity"] != "approved" {
			t.Errorf("the decision's details are withheld: %+v", e)
		}
	}
	if again := w.Audit("c-1"); fmt.Sprint(again) != fmt.Sprint(stored) {
		t.Fatal("the view changed the stored trail")
	}
}

func TestOrderView(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	w.PlaceOrder("c-1", "o-2")
	w.Advance(kyc.Window + time.Hour)
	w.Sweep()
	w.Advance(time.Hour)
	w.Verify("c-1")
	v, err := w.Service.OrderView(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.OrderID != "o-1" || v.CustomerID != "c-1" || v.State != kyc.Released || !v.Rendered || v.Deadline == nil ||
		!v.Deadline.Equal(kyctest.Epoch.Add(kyc.Window)) || v.Extension != nil {
		t.Fatalf("view %+v", v)
	}
	var steps []string
	for _, h := range v.History {
		steps = append(steps, h.Action+":"+h.To)
	}
	if want := []string{"order.held:awaiting_kyc", "hold.deadline:suspended_kyc", "hold.approved:released"}; !slices.Equal(steps, want) {
		t.Fatalf("history %v, want %v (o-1's own steps only)", steps, want)
	}
	e := w.OrderEvent("c-1", "o-3")
	e.ProductID = kyctest.ProductPlain
	w.Place(e)
	if v, err := w.Service.OrderView(ctx, "o-3"); err != nil || v.Deadline != nil || v.State != kyc.NotRequired {
		t.Fatalf("view of a never-held order: %+v, %v", v, err)
	}
	for _, id := range []string{"o-9", "o/9"} {
		_, err := w.Service.OrderView(ctx, id)
		wantErr(t, err, kyc.KindNotFound, "order_not_found")
	}
	for _, m := range []kyctest.Method{kyctest.MethodOrderOwner, kyctest.MethodCustomer, kyctest.MethodAudit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Service.OrderView(ctx, "o-1")
		wantInternal(t, err, errBoom)
	}
}
