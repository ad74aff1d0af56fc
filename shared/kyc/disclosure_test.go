package kyc_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// request returns an authority's request for c-1's data in jurisdiction.
func request(jurisdiction string) kyc.DisclosureRequest {
	return kyc.DisclosureRequest{CustomerID: "c-1", Authority: "Hong Kong Police Force", Jurisdiction: jurisdiction,
		LegalReference: "Cap. 200 s. 50", Scope: []kyc.DisclosureData{kyc.DiscloseDocuments, kyc.DisclosePersonalData}}
}

// verifiedWithContact places an order in Region for a customer with a contact
// address and verifies them, with extracted fields.
func verifiedWithContact(t *testing.T, w *kyctest.World) {
	t.Helper()
	e := w.OrderEvent("c-1", "o-1")
	e.Email = "chan@example.com"
	w.Place(e)
	sub := w.Submit("c-1")
	in := kyctest.Approval(w.Review("rev-1", sub).Version)
	in.Extracted = &kyc.Extracted{FullName: "CHAN Tai Man", DocumentNumber: "A1234567"}
	w.Decide("rev-1", sub, in)
}

// TestDisclosure: data is disclosed only to the authorities where the server
// is located (P10), on one admin's request approved by another, within a
// window, every step audited.
func TestDisclosure(t *testing.T) {
	w := kyctest.New(t)
	verifiedWithContact(t, w)
	d, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request(kyctest.Region))
	if err != nil {
		t.Fatal(err)
	}
	if d.State != kyc.DisclosurePending || d.RequestedBy != "admin-1" || d.Version != 1 || !d.RequestedAt.Equal(w.Now()) {
		t.Fatalf("disclosure %+v", d)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "disclosure.requested" || e.Detail["disclosureId"] != d.ID || e.Detail["jurisdiction"] != kyctest.Region {
		t.Fatalf("audit %+v", e)
	}
	_, err = w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-1"), d.ID)
	wantErr(t, err, kyc.KindConflict, "not_approved")

	w.Advance(time.Hour)
	check := unchanged(t, w)
	_, err = w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-1"), d.ID)
	wantErr(t, err, kyc.KindForbidden, "self_approval")
	check()
	approved, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if approved.State != kyc.DisclosureApproved || approved.ApprovedBy != "admin-2" || !approved.ExportUntil.Equal(w.Now().Add(kyc.ExportWindow)) || approved.Version != 2 {
		t.Fatalf("approved %+v", approved)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "disclosure.approved" || e.Actor != kyctest.Admin("admin-2") {
		t.Fatalf("audit %+v", e)
	}
	_, err = w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-3"), d.ID)
	wantErr(t, err, kyc.KindConflict, "already_approved")

	w.Advance(kyc.ExportWindow - time.Minute)
	exp, err := w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Contact != "chan@example.com" || len(exp.Extracted) != 1 || exp.Extracted[0].FullName != "CHAN Tai Man" || exp.Shredded ||
		len(exp.Documents) != 2 || exp.Disclosure.Exports != 1 || exp.Disclosure.Version != 3 {
		t.Fatalf("export %+v", exp)
	}
	for _, doc := range exp.Documents {
		u, err := url.Parse(doc.Link.URL)
		if err != nil {
			t.Fatal(err)
		}
		if stored := w.Document("c-1", doc.ID); u.Query().Get("versionId") != stored.VersionID || !doc.Link.ExpiresAt.Equal(w.Now().Add(kyc.ExportLinkTTL)) {
			t.Fatalf("export link %+v, want the validated version for %s", doc.Link, kyc.ExportLinkTTL)
		}
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "disclosure.exported" || e.Detail["documents"] != "2" || e.Detail["personalData"] != "true" {
		t.Fatalf("audit %+v", e)
	}
	if got, err := w.Service.Disclosure(ctx, d.ID); err != nil || got.Exports != 1 {
		t.Fatalf("disclosure %+v, %v", got, err)
	}
	noPersonalData(t, w, "chan@example.com", "CHAN Tai Man")

	w.Advance(time.Minute)
	check = unchanged(t, w)
	_, err = w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
	wantErr(t, err, kyc.KindConflict, "export_expired")
	check()
}

func TestDisclosureScope(t *testing.T) {
	t.Run("documents only", func(t *testing.T) {
		w := kyctest.New(t)
		verifiedWithContact(t, w)
		r := request(kyctest.Region)
		r.Scope = []kyc.DisclosureData{kyc.DiscloseDocuments}
		exp := approvedExport(t, w, r)
		if len(exp.Documents) != 2 || exp.Contact != "" || exp.Extracted != nil {
			t.Fatalf("export %+v", exp)
		}
	})
	t.Run("personal data only, of a shredded customer", func(t *testing.T) {
		w := kyctest.New(t)
		verifiedWithContact(t, w)
		w.Sealer.Shred("c-1")
		r := request(kyctest.Region)
		r.Scope = []kyc.DisclosureData{kyc.DisclosePersonalData}
		exp := approvedExport(t, w, r)
		if len(exp.Documents) != 0 || exp.Contact != "" || exp.Extracted != nil || !exp.Shredded {
			t.Fatalf("export %+v", exp)
		}
	})
	t.Run("invalid and purged documents are left out", func(t *testing.T) {
		w := kyctest.New(t)
		verifiedWithContact(t, w)
		up, key := pendingUpload(t, w, "c-1", kyc.Identity)
		w.Validate(key, w.Files.Put(key, kyctest.Object{Content: []byte("x")}))
		w.CreateDocument("c-1", kyctest.Request(kyc.Address))
		exp := approvedExport(t, w, request(kyctest.Region))
		for _, d := range exp.Documents {
			if d.ID == up.DocumentID || d.State != kyc.DocValid {
				t.Fatalf("exported %+v", d)
			}
		}
	})
}

// approvedExport requests a disclosure by admin-1, approves it by admin-2
// and exports it.
func approvedExport(t *testing.T, w *kyctest.World, r kyc.DisclosureRequest) kyc.DisclosureExport {
	t.Helper()
	d, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID); err != nil {
		t.Fatal(err)
	}
	exp, err := w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func TestRequestDisclosureRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *kyc.DisclosureRequest)
		kind   kyc.Kind
		code   string
	}{
		{"an authority where no server of the customer's runs", func(r *kyc.DisclosureRequest) { r.Jurisdiction = "tw" }, kyc.KindInvalid, "jurisdiction_mismatch"},
		{"an authority where an order waits, with no server yet", func(r *kyc.DisclosureRequest) {}, kyc.KindInvalid, "jurisdiction_mismatch"},
		{"a customer never seen", func(r *kyc.DisclosureRequest) { r.CustomerID = "c-9" }, kyc.KindNotFound, "customer_not_found"},
		{"an invalid customer id", func(r *kyc.DisclosureRequest) { r.CustomerID = "c 1" }, kyc.KindInvalid, "invalid_customerId"},
		{"no authority", func(r *kyc.DisclosureRequest) { r.Authority = "  " }, kyc.KindInvalid, "invalid_authority"},
		{"an authority too long", func(r *kyc.DisclosureRequest) { r.Authority = strings.Repeat("警", 201) }, kyc.KindInvalid, "invalid_authority"},
		{"no jurisdiction", func(r *kyc.DisclosureRequest) { r.Jurisdiction = "" }, kyc.KindInvalid, "invalid_jurisdiction"},
		{"no legal reference", func(r *kyc.DisclosureRequest) { r.LegalReference = "" }, kyc.KindInvalid, "invalid_legalReference"},
		{"no scope", func(r *kyc.DisclosureRequest) { r.Scope = nil }, kyc.KindInvalid, "invalid_scope"},
		{"an unknown scope", func(r *kyc.DisclosureRequest) { r.Scope = []kyc.DisclosureData{"everything"} }, kyc.KindInvalid, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			w.PlaceOrder("c-1", "o-1")
			r := request(kyctest.Region)
			tt.change(&r)
			check := unchanged(t, w)
			_, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), r)
			wantErr(t, err, tt.kind, tt.code)
			check()
		})
	}
}

func TestDisclosureJurisdictionOfAClosedHold(t *testing.T) {
	w := kyctest.New(t)
	e := w.OrderEvent("c-1", "o-1")
	e.ServerRegion = "tw"
	w.Verify("c-1")
	w.Place(e) // provisioned at once: a closed hold
	if _, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request("tw")); err != nil {
		t.Fatalf("request in the region of a provisioned service: %v", err)
	}
}

// TestDisclosureJurisdictionIsWhereAServerWasProvisioned: Decision (amended
// 2026-12-03): Jurisdiction = where a server actually runs: only holds whose
// service was provisioned count for P10. Orders still waiting, or cancelled
// before they were provisioned, never had a server there.
func TestDisclosureJurisdictionIsWhereAServerWasProvisioned(t *testing.T) {
	place := func(w *kyctest.World, order, region string) {
		e := w.OrderEvent("c-1", order)
		e.ServerRegion = region
		w.Place(e)
	}
	tests := []struct {
		name  string
		setup func(w *kyctest.World)
		allow bool
	}{
		{"an order awaiting KYC", func(w *kyctest.World) { place(w, "o-1", "tw") }, false},
		{"an order cancelled while awaiting KYC", func(w *kyctest.World) {
			place(w, "o-1", "tw")
			if _, err := w.Intake.CancelOrder(ctx, "o-1"); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"an order whose service expired before it was provisioned", func(w *kyctest.World) {
			place(w, "o-1", "tw")
			if _, err := w.Intake.ServiceExpired(ctx, "o-1"); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a product without KYC (the gate provisioned nothing)", func(w *kyctest.World) {
			e := w.OrderEvent("c-1", "o-1")
			e.ServerRegion, e.ProductID = "tw", kyctest.ProductPlain
			w.Place(e)
		}, false},
		{"a suspended service (provisioned, then suspended)", func(w *kyctest.World) {
			place(w, "o-1", "tw")
			w.Advance(kyc.Window + time.Hour)
			w.Sweep()
		}, true},
		{"a suspended service since cancelled", func(w *kyctest.World) {
			place(w, "o-1", "tw")
			w.Advance(kyc.Window + time.Hour)
			w.Sweep()
			if _, err := w.Intake.CancelOrder(ctx, "o-1"); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a service released by an approval", func(w *kyctest.World) {
			place(w, "o-1", "tw")
			w.Verify("c-1")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := kyctest.New(t)
			place(w, "o-0", kyctest.Region) // the customer exists, with an order elsewhere
			tt.setup(w)
			_, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request("tw"))
			if tt.allow && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.allow {
				wantErr(t, err, kyc.KindInvalid, "jurisdiction_mismatch")
			}
		})
	}
}

func TestDisclosureNotFound(t *testing.T) {
	w := kyctest.New(t)
	for _, id := range []string{"disc-9", "disc/9"} {
		_, err := w.Service.Disclosure(ctx, id)
		wantErr(t, err, kyc.KindNotFound, "disclosure_not_found")
		_, err = w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), id)
		wantErr(t, err, kyc.KindNotFound, "disclosure_not_found")
		_, err = w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-2"), id)
		wantErr(t, err, kyc.KindNotFound, "disclosure_not_found")
	}
}

func TestDisclosureRaces(t *testing.T) {
	t.Run("two approvals: one wins", func(t *testing.T) {
		w := kyctest.New(t)
		w.Verify("c-1")
		w.PlaceOrder("c-1", "o-1") // provisioned: a server runs in Region
		d, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request(kyctest.Region))
		if err != nil {
			t.Fatal(err)
		}
		w.Store.Before(kyctest.MethodCommit, func() {
			if _, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-3"), d.ID); err != nil {
				t.Error(err)
			}
		})
		_, err = w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
		wantErr(t, err, kyc.KindConflict, "already_approved")
		if got, _ := w.Service.Disclosure(ctx, d.ID); got.ApprovedBy != "admin-3" {
			t.Fatalf("approved by %q, want admin-3", got.ApprovedBy)
		}
	})
	t.Run("two exports: both counted", func(t *testing.T) {
		w := kyctest.New(t)
		w.Verify("c-1")
		w.PlaceOrder("c-1", "o-1") // provisioned: a server runs in Region
		d, _ := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request(kyctest.Region))
		if _, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID); err != nil {
			t.Fatal(err)
		}
		w.Store.Before(kyctest.MethodCommit, func() {
			if _, err := w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-2"), d.ID); err != nil {
				t.Error(err)
			}
		})
		exp, err := w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-1"), d.ID)
		if err != nil || exp.Disclosure.Exports != 2 {
			t.Fatalf("export %+v, %v; want the second of two", exp.Disclosure, err)
		}
		n := 0
		for _, a := range actions(t, w, "c-1") {
			if a == "disclosure.exported" {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%d exports audited, want 2", n)
		}
	})
}

func TestDisclosurePortFailures(t *testing.T) {
	w := kyctest.New(t)
	verifiedWithContact(t, w)
	for _, m := range []kyctest.Method{kyctest.MethodAccount, kyctest.MethodCommit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request(kyctest.Region))
		wantInternal(t, err, errBoom)
	}
	d, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request(kyctest.Region))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []kyctest.Method{kyctest.MethodDisclosure, kyctest.MethodCustomer, kyctest.MethodCommit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
		wantInternal(t, err, errBoom)
	}
	if _, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		m    kyctest.Method
		fail func(kyctest.Method, error)
	}{
		{kyctest.MethodCustomer, w.Store.FailNext},
		{kyctest.MethodAccount, w.Store.FailNext},
		{kyctest.MethodPresignExport, w.Files.FailNext},
		{kyctest.MethodOpen, w.Sealer.FailNext},
		{kyctest.MethodSubmission, w.Store.FailNext},
		{kyctest.MethodCommit, w.Store.FailNext},
	} {
		f.fail(f.m, errBoom)
		_, err := w.Service.ExportDisclosure(ctx, kyctest.Admin("admin-2"), d.ID)
		wantInternal(t, err, errBoom)
	}
	if got, _ := w.Service.Disclosure(ctx, d.ID); got.Exports != 0 {
		t.Fatalf("%d exports counted, want none", got.Exports)
	}
}

// TestDisclosureOfOneselfIsRefused: no admin requests, approves or exports a
// disclosure of their own customer account (their subject, or the billing
// customer id their staff account is linked to).
func TestDisclosureOfOneselfIsRefused(t *testing.T) {
	w := kyctest.New(t)
	verifiedWithContact(t, w)
	own := []kyc.Actor{kyctest.Admin("c-1"), {Kind: kyc.ActorAdmin, ID: "admin-9", Customer: "c-1"}}
	check := unchanged(t, w)
	for _, a := range own {
		_, err := w.Service.RequestDisclosure(ctx, a, request(kyctest.Region))
		wantErr(t, err, kyc.KindForbidden, "own_account")
	}
	check()
	d, err := w.Service.RequestDisclosure(ctx, kyctest.Admin("admin-1"), request(kyctest.Region))
	if err != nil {
		t.Fatal(err)
	}
	check = unchanged(t, w)
	for _, a := range own {
		_, err := w.Service.ApproveDisclosure(ctx, a, d.ID)
		wantErr(t, err, kyc.KindForbidden, "own_account")
	}
	check()
	if _, err := w.Service.ApproveDisclosure(ctx, kyctest.Admin("admin-2"), d.ID); err != nil {
		t.Fatal(err)
	}
	check = unchanged(t, w)
	for _, a := range own {
		_, err := w.Service.ExportDisclosure(ctx, a, d.ID)
		wantErr(t, err, kyc.KindForbidden, "own_account")
	}
	check()
}
