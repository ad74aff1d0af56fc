package kyc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

const day = 24 * time.Hour

func TestParseRetention(t *testing.T) {
	tests := []struct {
		in      string
		want    kyc.Retention
		wantErr bool
	}{
		{"", kyc.DefaultRetention, false},
		{"unsubmitted=48h", kyc.Retention{Unsubmitted: 48 * time.Hour, Rejected: kyc.DefaultRetention.Rejected, AfterExpiry: kyc.DefaultRetention.AfterExpiry}, false},
		{" unsubmitted=1h , rejected=2h,afterExpiry=3h ", kyc.Retention{Unsubmitted: time.Hour, Rejected: 2 * time.Hour, AfterExpiry: 3 * time.Hour}, false},
		{"forever=1h", kyc.Retention{}, true},
		{"rejected", kyc.Retention{}, true},
		{"rejected=soon", kyc.Retention{}, true},
		{"rejected=-1h", kyc.Retention{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := kyc.ParseRetention(tt.in)
			if (err != nil) != tt.wantErr || !tt.wantErr && got != tt.want {
				t.Fatalf("ParseRetention(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestPurgeSchedule: files are kept for the retention of their fate, decided
// when it is known: never submitted, rejected, or approved (until the
// verification expires).
func TestPurgeSchedule(t *testing.T) {
	retention := kyc.Retention{Unsubmitted: 2 * day, Rejected: 30 * day, AfterExpiry: 60 * day}
	w := kyctest.New(t, func(c *kyc.Config) { c.Retention = retention })
	up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
	if d := w.Document("c-1", up.DocumentID); !d.PurgeAt.Equal(w.Now().Add(retention.Unsubmitted)) {
		t.Fatalf("never-submitted document purges at %s", d.PurgeAt)
	}

	sub := w.Submit("c-1")
	rej := w.Reject("rev-1", sub)
	decided := w.Submission(sub)
	for _, id := range []string{decided.IdentityDocumentID, decided.AddressDocumentID} {
		if d := w.Document("c-1", id); !d.PurgeAt.Equal(decided.DecidedAt.Add(retention.Rejected)) {
			t.Fatalf("document of a rejected submission (%s) purges at %s, want decision + %s", rej.Status, d.PurgeAt, retention.Rejected)
		}
	}

	sub = w.Submit("c-1")
	res := w.Approve("rev-1", sub)
	decided = w.Submission(sub)
	for _, id := range []string{decided.IdentityDocumentID, decided.AddressDocumentID} {
		if d := w.Document("c-1", id); !d.PurgeAt.Equal(res.ExpiresAt.Add(retention.AfterExpiry)) {
			t.Fatalf("document of an approved submission purges at %s, want expiry + %s", d.PurgeAt, retention.AfterExpiry)
		}
	}
}

// TestPurge: the sweep deletes a file whose retention ended and keeps the
// record (state purged, no file name), audited; a legal hold postpones it.
func TestPurge(t *testing.T) {
	w := kyctest.New(t)
	r := kyctest.Request(kyc.Identity)
	r.FileName = "my passport.jpg"
	up := w.CreateDocument("c-1", r)
	key := kyc.DocumentKey("c-1", up.DocumentID)
	w.Validate(key, w.Post(up, kyctest.Content(kyc.JPEG, 2048)))
	sub := w.Submit("c-1")
	w.Reject("rev-1", sub)
	decided := w.Submission(sub)

	w.Clock.Set(kyctest.Epoch.Add(kyc.DefaultRetention.Unsubmitted - time.Nanosecond))
	if rep := w.Sweep(); rep.Purged != 0 {
		t.Fatalf("before the retention ended: %+v", rep)
	}
	w.Clock.Set(kyctest.Epoch.Add(kyc.DefaultRetention.Unsubmitted))
	if rep := w.Sweep(); rep.Purged != 1 {
		t.Fatalf("the never-submitted upload: %+v", rep)
	}
	d := w.Document("c-1", up.DocumentID)
	if d.State != kyc.DocPurged || d.FileName != nil || !d.PurgedAt.Equal(w.Now()) || !d.PurgeAt.IsZero() {
		t.Fatalf("purged document %+v", d)
	}
	if got := w.Files.Versions(key); len(got) != 0 {
		t.Fatalf("versions %v left", got)
	}
	if got := w.Files.Versions(kyc.ReviewedKey("c-1", up.DocumentID)); len(got) != 0 || d.Reviewed != nil {
		t.Fatalf("the reviewed copy is left: versions %v, record %+v", got, d.Reviewed)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "document.purged" || e.DocumentID != up.DocumentID || e.From != string(kyc.DocValid) || e.Actor != kyc.BySweep {
		t.Fatalf("audit %+v", e)
	}

	w.Clock.Set(decided.DecidedAt.Add(kyc.DefaultRetention.Rejected - time.Nanosecond))
	if rep := w.Sweep(); rep.Purged != 0 {
		t.Fatalf("before the rejected submission's retention ended: %+v", rep)
	}
	w.Clock.Set(decided.DecidedAt.Add(kyc.DefaultRetention.Rejected))
	if rep := w.Sweep(); rep.Purged != 2 {
		t.Fatalf("the rejected submission's documents: %+v", rep)
	}
	check := unchanged(t, w)
	if rep := w.Sweep(); rep.Purged != 0 || rep.Changed != 0 {
		t.Fatalf("purged twice: %+v", rep)
	}
	check()
	// The decision records stay.
	if s := w.Submission(sub); s.Status != kyc.SubRejected || s.Address == nil {
		t.Fatalf("submission %+v", s)
	}
}

func TestLegalHoldPostponesThePurge(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
	key := kyc.DocumentKey("c-1", up.DocumentID)
	w.Validate(key, w.Post(up, kyctest.Content(kyc.JPEG, 2048)))
	if _, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", kyc.LegalHoldRequest{Hold: true, Reason: "court order 123"}); err != nil {
		t.Fatal(err)
	}
	w.Advance(kyc.DefaultRetention.Unsubmitted)
	rep := w.Sweep()
	if rep.Purged != 0 || rep.Changed != 2 { // the hold's deadline, and the document moved on
		t.Fatalf("report %+v", rep)
	}
	d := w.Document("c-1", up.DocumentID)
	if d.State != kyc.DocValid || !d.PurgeAt.Equal(w.Now().Add(kyc.LegalHoldRetry)) {
		t.Fatalf("document %+v, want it kept and looked at again in %s", d, kyc.LegalHoldRetry)
	}
	if got := w.Files.Versions(key); len(got) != 1 {
		t.Fatalf("versions %v, want the file kept", got)
	}
	for _, admin := range []string{"admin-1", "admin-2"} { // lifting takes two admins
		if _, err := w.Service.SetLegalHold(ctx, kyctest.Admin(admin), "c-1", kyc.LegalHoldRequest{Hold: false, Reason: "order lifted"}); err != nil {
			t.Fatal(err)
		}
	}
	w.Advance(kyc.LegalHoldRetry)
	if rep := w.Sweep(); rep.Purged != 1 {
		t.Fatalf("after the hold was lifted: %+v", rep)
	}
}

func TestPurgeRaces(t *testing.T) {
	t.Run("a document rescheduled after the index was read is left alone", func(t *testing.T) {
		w := kyctest.New(t)
		up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
		w.Advance(kyc.DefaultRetention.Unsubmitted)
		w.Store.After(kyctest.MethodDue, func() {
			d := w.Document("c-1", up.DocumentID)
			d.PurgeAt = w.Now().Add(day)
			if err := w.Store.UpdateDocument(ctx, d, d.State); err != nil {
				t.Error(err)
			}
		})
		if rep := w.Sweep(); rep.Purged != 0 {
			t.Fatalf("report %+v", rep)
		}
		if d := w.Document("c-1", up.DocumentID); d.State != kyc.DocPendingUpload {
			t.Fatalf("document %s", d.State)
		}
	})
	t.Run("a document gone after the index was read", func(t *testing.T) {
		w := kyctest.New(t)
		up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
		w.Advance(kyc.DefaultRetention.Unsubmitted)
		w.Store.FailNext(kyctest.MethodDocument, kyc.ErrNotExist)
		if rep := w.Sweep(); rep.Purged != 0 || rep.Failed != 0 {
			t.Fatalf("report %+v", rep)
		}
		if d := w.Document("c-1", up.DocumentID); d.State != kyc.DocPendingUpload {
			t.Fatalf("document %s", d.State)
		}
	})
}

func TestPurgePortFailures(t *testing.T) {
	for _, m := range []kyctest.Method{kyctest.MethodCustomer, kyctest.MethodDocument, kyctest.MethodDelete, kyctest.MethodCommit} {
		t.Run(string(m), func(t *testing.T) {
			w := kyctest.New(t)
			up := w.CreateDocument("c-1", kyctest.Request(kyc.Identity))
			w.Advance(kyc.DefaultRetention.Unsubmitted)
			w.Store.FailNext(m, errBoom)
			w.Files.FailNext(m, errBoom)
			rep, err := w.Sweeper.Sweep(ctx, w.Now())
			if err == nil || rep.Failed != 1 || rep.Purged != 0 {
				t.Fatalf("report %+v, %v", rep, err)
			}
			if d := w.Document("c-1", up.DocumentID); d.State == kyc.DocPurged {
				t.Fatal("purged despite the failure")
			}
			if rep := w.Sweep(); rep.Purged != 1 {
				t.Fatalf("the next sweep: %+v", rep)
			}
		})
	}
}

// TestSetLegalHold: one admin sets a legal hold at once; lifting it takes a
// second admin, as a disclosure does: the first admin's request is recorded
// and the hold stays until another admin lifts it within a day. Every step is
// audited with its reason; asking for what already is changes nothing.
func TestSetLegalHold(t *testing.T) {
	hold := func(r string) kyc.LegalHoldRequest { return kyc.LegalHoldRequest{Hold: true, Reason: r} }
	lift := func(r string) kyc.LegalHoldRequest { return kyc.LegalHoldRequest{Hold: false, Reason: r} }
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	v, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", hold("court order 123"))
	if err != nil || !v.LegalHold || !w.Customer("c-1").LegalHold {
		t.Fatalf("set: %+v, %v", v.LegalHold, err)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "customer.legal_hold_set" || e.Detail["reason"] != "court order 123" || e.Actor != kyctest.Admin("admin-1") {
		t.Fatalf("audit %+v", e)
	}
	check := unchanged(t, w)
	if v, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-2"), "c-1", hold("again")); err != nil || !v.LegalHold {
		t.Fatalf("set again: %+v, %v", v.LegalHold, err)
	}
	check()

	// The first admin asks to lift it: the hold stays.
	v, err = w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", lift("investigation closed"))
	if err != nil || !v.LegalHold || v.LegalHoldLift == nil || v.LegalHoldLift.RequestedBy != "admin-1" || !w.Customer("c-1").LegalHold {
		t.Fatalf("a first admin's lift: %+v %+v, %v; want the hold kept with a pending request", v.LegalHold, v.LegalHoldLift, err)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "customer.legal_hold_lift_requested" || e.Actor != kyctest.Admin("admin-1") {
		t.Fatalf("audit %+v", e)
	}
	check = unchanged(t, w)
	_, err = w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", lift("investigation closed"))
	wantErr(t, err, kyc.KindForbidden, "self_approval")
	check()
	if !w.Customer("c-1").LegalHold {
		t.Fatal("one admin lifted the hold alone")
	}

	// A second admin lifts it.
	w.Advance(kyc.LegalHoldLiftWindow - time.Second)
	v, err = w.Service.SetLegalHold(ctx, kyctest.Admin("admin-2"), "c-1", lift("confirmed with legal"))
	if err != nil || v.LegalHold || v.LegalHoldLift != nil || w.Customer("c-1").LegalHold {
		t.Fatalf("the second admin's lift: %+v %+v, %v", v.LegalHold, v.LegalHoldLift, err)
	}
	if e := lastEntry(t, w, "c-1"); e.Action != "customer.legal_hold_lifted" || e.Actor != kyctest.Admin("admin-2") ||
		e.Detail["requestedBy"] != "admin-1" || e.Detail["reason"] != "confirmed with legal" {
		t.Fatalf("audit %+v", e)
	}
	check = unchanged(t, w)
	if v, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", lift("again")); err != nil || v.LegalHold {
		t.Fatalf("lift again: %+v, %v", v.LegalHold, err)
	}
	check()

	t.Run("a request unanswered for a day expires", func(t *testing.T) {
		w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", hold("new order"))
		w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", lift("done"))
		w.Advance(kyc.LegalHoldLiftWindow)
		v, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-2"), "c-1", lift("done"))
		if err != nil || !v.LegalHold || v.LegalHoldLift == nil || v.LegalHoldLift.RequestedBy != "admin-2" {
			t.Fatalf("after the window: %+v %+v, %v; want a new request by admin-2", v.LegalHold, v.LegalHoldLift, err)
		}
	})
	t.Run("setting the hold again cancels a pending lift", func(t *testing.T) {
		v, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-3"), "c-1", hold("new evidence"))
		if err != nil || !v.LegalHold || v.LegalHoldLift != nil {
			t.Fatalf("set: %+v %+v, %v", v.LegalHold, v.LegalHoldLift, err)
		}
		if e := lastEntry(t, w, "c-1"); e.Action != "customer.legal_hold_lift_cancelled" || e.Detail["requestedBy"] != "admin-2" {
			t.Fatalf("audit %+v", e)
		}
		if v, _ := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", lift("x")); !v.LegalHold {
			t.Fatal("the cancelled request was taken as the first admin's")
		}
	})
}

func TestSetLegalHoldRefused(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	for _, reason := range []string{"", "   ", strings.Repeat("r", 201)} {
		_, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", kyc.LegalHoldRequest{Hold: true, Reason: reason})
		wantErr(t, err, kyc.KindInvalid, "invalid_reason")
	}
	for _, id := range []string{"c-9", "c/9"} {
		_, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), id, kyc.LegalHoldRequest{Hold: true, Reason: "x"})
		wantErr(t, err, kyc.KindNotFound, "customer_not_found")
	}
	for _, own := range []kyc.Actor{kyctest.Admin("c-1"), {Kind: kyc.ActorAdmin, ID: "admin-7", Customer: "c-1"}} {
		for _, h := range []bool{true, false} {
			_, err := w.Service.SetLegalHold(ctx, own, "c-1", kyc.LegalHoldRequest{Hold: h, Reason: "x"})
			wantErr(t, err, kyc.KindForbidden, "own_account")
		}
	}
	for _, m := range []kyctest.Method{kyctest.MethodCustomer, kyctest.MethodCommit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Service.SetLegalHold(ctx, kyctest.Admin("admin-1"), "c-1", kyc.LegalHoldRequest{Hold: true, Reason: "x"})
		wantInternal(t, err, errBoom)
	}
	if w.Customer("c-1").LegalHold {
		t.Fatal("a failed request set the hold")
	}
}

// TestVerifyAudit: the audit chain of a customer verifies while intact and
// names the first broken link once an entry was tampered with.
func TestVerifyAudit(t *testing.T) {
	w := kyctest.New(t)
	w.PlaceOrder("c-1", "o-1")
	w.Verify("c-1")
	for _, verify := range []func(string) (kyc.ChainReport, error){
		func(id string) (kyc.ChainReport, error) { return w.Service.VerifyAudit(ctx, id) },
		func(id string) (kyc.ChainReport, error) { return w.Auditor.VerifyAudit(ctx, id) },
	} {
		r, err := verify("c-1")
		if err != nil || !r.OK || r.Entries != len(w.Audit("c-1")) {
			t.Fatalf("intact chain: %+v, %v", r, err)
		}
		for _, id := range []string{"c-9", "c/9"} {
			_, err := verify(id)
			wantErr(t, err, kyc.KindNotFound, "customer_not_found")
		}
	}

	// An entry whose content does not match its hash, appended as a
	// tampering writer with table access could.
	c := w.Customer("c-1")
	forged := kyc.AuditEntry{Seq: c.Audit.Seq + 1, At: w.Now(), Actor: kyc.BySweep, Action: "customer.verified", Prev: c.Audit.Hash, Hash: "forged"}
	c.Audit = forged.HeadOf()
	if err := w.Store.Commit(ctx, kyc.Work{Customer: c, Audit: []kyc.AuditEntry{forged}}); err != nil {
		t.Fatal(err)
	}
	r, err := w.Auditor.VerifyAudit(ctx, "c-1")
	if err != nil || r.OK || r.Broken != forged.Seq || r.Problem != "content does not match its hash" {
		t.Fatalf("tampered chain: %+v, %v", r, err)
	}

	for _, m := range []kyctest.Method{kyctest.MethodCustomer, kyctest.MethodAudit} {
		w.Store.FailNext(m, errBoom)
		_, err := w.Auditor.VerifyAudit(ctx, "c-1")
		wantInternal(t, err, errBoom)
	}
}
