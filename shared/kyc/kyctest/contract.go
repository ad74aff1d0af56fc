package kyctest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// TestStore checks a kyc.Store against the contract of the port as the
// DynamoDB store fulfils it: every read, every condition of every write
// (lost races included: nothing of the loser is written), the due and queue
// indexes, the audit order, and that callers get copies. newStore returns a
// new, empty store; each subtest takes its own. Run it on every
// implementation:
//
//	func TestStore(t *testing.T) {
//		kyctest.TestStore(t, func(*testing.T) kyc.Store { return kyctest.NewStore() })
//	}
//
// The subtests run one after another (never in parallel), so a store on a
// shared emulator sees one test's calls at a time.
func TestStore(t *testing.T, newStore func(t *testing.T) kyc.Store) {
	for _, group := range []struct {
		name  string
		tests []storeTest
	}{
		{"Customer", customerTests},
		{"Commit", commitTests},
		{"Account", accountTests},
		{"Order", orderTests},
		{"Document", documentTests},
		{"Submission", submissionTests},
		{"Due", dueTests},
		{"Audit", auditTests},
		{"Disclosure", disclosureTests},
		{"DocNumber", docNumberTests},
		{"Copies", copyTests},
	} {
		t.Run(group.name, func(t *testing.T) {
			for _, tt := range group.tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.run(&storeT{T: t, st: newStore(t), ctx: context.Background()})
				})
			}
		})
	}
}

type storeTest struct {
	name string
	run  func(s *storeT)
}

// storeT is one subtest: its store and the helpers its checks share.
type storeT struct {
	*testing.T
	st  kyc.Store
	ctx context.Context
}

// ct0 is the time the contract's records start at.
var ct0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const hour = time.Hour

// ---- Records ----

func newCustomer(id string) kyc.Customer { return kyc.NewCustomer(id, ct0) }

// openHold returns an awaiting_kyc hold of an order placed at orderedAt.
func openHold(customerID, orderID string, orderedAt time.Time) kyc.Hold {
	return kyc.Hold{
		Order: kyc.Order{OrderID: orderID, ServiceID: "svc-" + orderID, CustomerID: customerID, ProductID: "kyc-vps",
			ServerRegion: "hk", OrderedAt: orderedAt, NextDueDate: kyc.NewDate(2026, 4, 2)},
		State: kyc.AwaitingKYC, Deadline: orderedAt.Add(kyc.Window), OriginalDueDate: kyc.NewDate(2026, 4, 2), UpdatedAt: orderedAt,
	}
}

// closedHold returns a hold that ended at t.
func closedHold(customerID, orderID string, t time.Time) kyc.Hold {
	h := openHold(customerID, orderID, t.Add(-80*hour))
	h.State, h.Rendered, h.ProvisionedAt, h.SuspendedAt, h.ClosedAt, h.UpdatedAt = kyc.Cancelled, true, t.Add(-hour), t.Add(-hour), t, t
	h.Extension = &kyc.Extension{Exact: 30 * hour, Days: 2}
	return h
}

// richCustomer returns a customer record with every field set.
func richCustomer(id string) kyc.Customer {
	c := newCustomer(id)
	c.Status = kyc.StatusPendingReview
	c.VerifiedAt, c.ExpiresAt, c.VerifiedSubmittedAt = ct0.Add(-700*24*hour), kyc.VerificationExpiry(ct0.Add(-700*24*hour)), ct0.Add(-701*24*hour)
	c.Pending = &kyc.PendingSubmission{ID: "sub-1", SubmittedAt: ct0.Add(-hour)}
	c.Holds = []kyc.Hold{openHold(id, "o-1", ct0), openHold(id, "o-2", ct0.Add(time.Minute))}
	c.RemindedFor, c.ExpiredFor = ct0.Add(-24*hour), ct0.Add(-48*hour)
	c.Language = "zh-Hant"
	c.Contact = &kyc.Sealed{V: 1, Nonce: []byte("123456789012"), Data: []byte{0, 1, 2, 250}}
	c.LegalHold = true
	c.LegalHoldLift = &kyc.LegalHoldLift{RequestedBy: "adm-1", RequestedAt: ct0.Add(-hour), Reason: "case closed"}
	c.Audit = kyc.AuditHead{Seq: 0}
	return c
}

// document returns a document record in state st.
func document(customerID, id string, st kyc.DocState, created time.Time) kyc.Document {
	return kyc.Document{ID: id, CustomerID: customerID, Category: kyc.Identity, Type: kyc.Passport, ContentType: kyc.JPEG,
		DeclaredSize: 2048, Key: kyc.DocumentKey(customerID, id), State: st, CreatedAt: created}
}

// richDocument returns a document record with every field set.
func richDocument(customerID, id string) kyc.Document {
	d := document(customerID, id, kyc.DocValid, ct0)
	d.Category, d.Type, d.Utility, d.ContentType = kyc.Address, kyc.UtilityBill, kyc.Gas, kyc.PDF
	d.Invalid, d.Size, d.VersionID = kyc.InvalidEmpty, 2047, "v-1"
	d.FileName = &kyc.Sealed{V: 1, Nonce: []byte("abcdefghijkl"), Data: []byte("sealed")}
	d.ValidatedAt, d.SubmissionID = ct0.Add(time.Minute), "sub-1"
	d.Decision = &kyc.DocDecision{Result: kyc.ResultResubmit, Reasons: []kyc.ReasonCode{"too_old", "other"}, At: ct0.Add(hour), By: "rev-1"}
	d.PurgeAt, d.PurgedAt = ct0.Add(90*24*hour), ct0.Add(-hour)
	d.Reviewed = &kyc.ReviewCopy{Key: kyc.ReviewedKey(customerID, id), VersionID: "r-1", ContentType: kyc.PNG, Size: 1999}
	return d
}

// submission returns a pending submission at version 1.
func submission(customerID, id string, submittedAt time.Time) kyc.Submission {
	return kyc.Submission{ID: id, CustomerID: customerID, IdentityDocumentID: "doc-i", AddressDocumentID: "doc-a",
		Status: kyc.SubPending, SubmittedAt: submittedAt, Version: 1}
}

// richSubmission returns a decided submission with every field set.
func richSubmission(customerID, id string) kyc.Submission {
	s := submission(customerID, id, ct0)
	s.Status, s.Version, s.ClaimedBy, s.ClaimedAt = kyc.SubRejected, 3, "rev-1", ct0.Add(time.Minute)
	s.Identity = &kyc.DocDecision{Result: kyc.ResultApproved, At: ct0.Add(hour), By: "rev-1"}
	s.Address = &kyc.DocDecision{Result: kyc.ResultRejected, Reasons: []kyc.ReasonCode{"altered"}, At: ct0.Add(hour), By: "rev-1"}
	s.Message = &kyc.Sealed{V: 1, Nonce: []byte("mmmmmmmmmmmm"), Data: []byte("message")}
	s.Note = &kyc.Sealed{V: 1, Nonce: []byte("nnnnnnnnnnnn"), Data: []byte("note")}
	s.Extracted = &kyc.Sealed{V: 1, Nonce: []byte("eeeeeeeeeeee"), Data: []byte("fields")}
	s.DocNumberHash, s.DecidedAt, s.DecidedBy, s.SecondApprovalBy = "9f86d081", ct0.Add(hour), "rev-1", "adm-2"
	return s
}

// disclosure returns a pending disclosure at version 1.
func disclosure(customerID, id string) kyc.Disclosure {
	return kyc.Disclosure{ID: id, CustomerID: customerID, Authority: "Hong Kong Police Force", Jurisdiction: "hk",
		LegalReference: "Cap. 1 s. 2", Scope: []kyc.DisclosureData{kyc.DiscloseDocuments, kyc.DisclosePersonalData},
		State: kyc.DisclosurePending, RequestedBy: "admin-1", RequestedAt: ct0, Version: 1}
}

// entries returns n audit entries chained after head, and the new head.
func entries(head kyc.AuditHead, n int, action string) (kyc.AuditHead, []kyc.AuditEntry) {
	var es []kyc.AuditEntry
	for i := range n {
		es = append(es, kyc.AuditEntry{At: ct0.Add(time.Duration(head.Seq+int64(i)) * time.Minute), Actor: kyc.BySweep,
			Action: action, OrderID: "o-1", Detail: map[string]string{"n": fmt.Sprint(i)}})
	}
	return head.Chain(es)
}

// outbox returns an outbox of one event created at t.
func outbox(id string, t time.Time) *kyc.Outbox {
	return &kyc.Outbox{ID: id, CreatedAt: t, Events: []kyc.Event{{Type: kyc.KycRequested, ID: id + ":e", At: t, CustomerID: "c-1",
		OrderID: "o-1", Deadline: ptr(t.Add(kyc.Window))}}}
}

func ptr[T any](v T) *T { return &v }

// ---- Helpers ----

// commit commits w and fails the test on an error.
func (s *storeT) commit(w kyc.Work) {
	s.Helper()
	if err := s.st.Commit(s.ctx, w); err != nil {
		s.Fatalf("commit customer %s at version %d: %v", w.Customer.ID, w.Customer.Version, err)
	}
}

// create stores a new customer and returns its stored record.
func (s *storeT) create(c kyc.Customer) kyc.Customer {
	s.Helper()
	s.commit(kyc.Work{Customer: c})
	return s.customer(c.ID)
}

func (s *storeT) customer(id string) kyc.Customer {
	s.Helper()
	c, err := s.st.Customer(s.ctx, id)
	if err != nil {
		s.Fatalf("customer %s: %v", id, err)
	}
	return c
}

// createDoc stores a new document and returns it as read back (at version 1).
func (s *storeT) createDoc(d kyc.Document) kyc.Document {
	s.Helper()
	if err := s.st.CreateDocument(s.ctx, d); err != nil {
		s.Fatalf("create document %s: %v", d.ID, err)
	}
	return s.document(d.CustomerID, d.ID)
}

func (s *storeT) document(customerID, id string) kyc.Document {
	s.Helper()
	d, err := s.st.Document(s.ctx, customerID, id)
	if err != nil {
		s.Fatalf("document %s: %v", id, err)
	}
	return d
}

// atVersion returns d as the store keeps it after its version-th write.
func atVersion(d kyc.Document, version int) kyc.Document {
	d.Version = version
	return d
}

// stale checks that err is a lost race.
func (s *storeT) stale(err error, what string) {
	s.Helper()
	if !errors.Is(err, kyc.ErrStale) {
		s.Fatalf("%s: got %v, want kyc.ErrStale", what, err)
	}
}

// notExist checks that err says the record is missing.
func (s *storeT) notExist(err error, what string) {
	s.Helper()
	if !errors.Is(err, kyc.ErrNotExist) {
		s.Fatalf("%s: got %v, want kyc.ErrNotExist", what, err)
	}
}

// same checks that got and want encode to the same JSON (times compared as
// instants in UTC, as the records are stored).
func (s *storeT) same(got, want any, what string) {
	s.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		s.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		s.Fatal(err)
	}
	if string(g) != string(w) {
		s.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// version checks a customer's stored version.
func (s *storeT) version(id string, want int) {
	s.Helper()
	if got := s.customer(id).Version; got != want {
		s.Fatalf("customer %s is at version %d, want %d", id, got, want)
	}
}

// nothingOf checks that none of a unit of work's records but the customer
// (checked by the caller) exist: not its closed holds, order, submission,
// audit entries, outbox or disclosure, and its documents are not as written.
func (s *storeT) nothingOf(w kyc.Work) {
	s.Helper()
	for _, h := range w.Closed {
		_, err := s.st.ClosedHold(s.ctx, h.CustomerID, h.OrderID)
		s.notExist(err, "closed hold of a refused commit")
	}
	if w.NewOrder != "" {
		owner, err := s.st.OrderOwner(s.ctx, w.NewOrder)
		if owner == w.Customer.ID || !errors.Is(err, kyc.ErrNotExist) && err != nil {
			s.Fatalf("order %s of a refused commit: owner %q, %v", w.NewOrder, owner, err)
		}
	}
	if w.Submission != nil && w.SubmissionVersion == 0 {
		_, err := s.st.Submission(s.ctx, w.Submission.ID)
		s.notExist(err, "submission of a refused commit")
	}
	if w.Disclosure != nil && w.DisclosureVersion == 0 {
		_, err := s.st.Disclosure(s.ctx, w.Disclosure.ID)
		s.notExist(err, "disclosure of a refused commit")
	}
	trail, err := s.st.Audit(s.ctx, w.Customer.ID)
	if err != nil {
		s.Fatal(err)
	}
	for _, e := range trail {
		for _, x := range w.Audit {
			if e.Hash == x.Hash {
				s.Fatalf("audit entry %d of a refused commit was written", x.Seq)
			}
		}
	}
	if w.Outbox != nil {
		due, err := s.st.Due(s.ctx, w.Outbox.CreatedAt.Add(24*hour), 100)
		if err != nil {
			s.Fatal(err)
		}
		for _, o := range due.Outboxes {
			if o.ID == w.Outbox.ID {
				s.Fatalf("outbox %s of a refused commit was written", o.ID)
			}
		}
	}
	for _, u := range w.Documents {
		d, err := s.st.Document(s.ctx, u.Document.CustomerID, u.Document.ID)
		if err == nil && d.State == u.Document.State && d.SubmissionID == u.Document.SubmissionID && d.VersionID == u.Document.VersionID {
			s.Fatalf("document %s of a refused commit was written", d.ID)
		}
	}
}

// fullWork returns a unit of work for a stored customer c that writes one
// record of every kind (new ones: closed hold, order, submission, audit,
// outbox, disclosure; the given documents, expected in their stored state).
func fullWork(c kyc.Customer, tag string, docs ...kyc.DocumentUpdate) kyc.Work {
	head, es := entries(c.Audit, 2, "test."+tag)
	c.Audit = head
	sub := submission(c.ID, "sub-"+tag, ct0)
	d := disclosure(c.ID, "disc-"+tag)
	return kyc.Work{Customer: c, Closed: []kyc.Hold{closedHold(c.ID, "closed-"+tag, ct0)}, NewOrder: "order-" + tag,
		Submission: &sub, Documents: docs, Audit: es, Outbox: outbox("out-"+tag, ct0), Disclosure: &d}
}

// ---- Customer ----

var customerTests = []storeTest{
	{"missing customer is ErrNotExist", func(s *storeT) {
		_, err := s.st.Customer(s.ctx, "nobody")
		s.notExist(err, "Customer of a customer never stored")
	}},
	{"new customer is stored at version 1 with every field", func(s *storeT) {
		c := richCustomer("c-1")
		got := s.create(c)
		c.Version = 1
		s.same(got, c, "stored customer")
	}},
	{"a cancelled context fails and writes nothing", func(s *storeT) {
		ctx, cancel := context.WithCancel(s.ctx)
		cancel()
		if err := s.st.Commit(ctx, kyc.Work{Customer: newCustomer("c-1")}); err == nil || errors.Is(err, kyc.ErrStale) {
			s.Fatalf("commit with a cancelled context: %v, want the context's error", err)
		}
		_, err := s.st.Customer(s.ctx, "c-1")
		s.notExist(err, "customer committed with a cancelled context")
	}},
}

// ---- Commit ----

var commitTests = []storeTest{
	{"each commit adds one to the version", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		for want := 2; want <= 4; want++ {
			c.Status = kyc.StatusRejected
			s.commit(kyc.Work{Customer: c})
			c = s.customer("c-1")
			if c.Version != want || c.Status != kyc.StatusRejected {
				s.Fatalf("after commit: version %d status %s, want %d rejected", c.Version, c.Status, want)
			}
		}
	}},
	{"one commit writes every kind of record", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		d := s.createDoc(document("c-1", "doc-1", kyc.DocPendingUpload, ct0))
		d.State, d.VersionID = kyc.DocValid, "v-1"
		w := fullWork(c, "a", kyc.DocumentUpdate{Document: d, Expect: kyc.DocPendingUpload})
		s.commit(w)
		s.version("c-1", 2)
		if h, err := s.st.ClosedHold(s.ctx, "c-1", "closed-a"); err != nil {
			s.Fatal(err)
		} else {
			s.same(h, w.Closed[0], "closed hold")
		}
		if owner, err := s.st.OrderOwner(s.ctx, "order-a"); err != nil || owner != "c-1" {
			s.Fatalf("order owner: %q, %v", owner, err)
		}
		if sub, err := s.st.Submission(s.ctx, "sub-a"); err != nil {
			s.Fatal(err)
		} else {
			s.same(sub, w.Submission, "submission")
		}
		if got, err := s.st.Document(s.ctx, "c-1", "doc-1"); err != nil {
			s.Fatal(err)
		} else {
			s.same(got, atVersion(d, 2), "document")
		}
		trail, err := s.st.Audit(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(trail, w.Audit, "audit trail")
		if disc, err := s.st.Disclosure(s.ctx, "disc-a"); err != nil {
			s.Fatal(err)
		} else {
			s.same(disc, w.Disclosure, "disclosure")
		}
		due, err := s.st.Due(s.ctx, ct0.Add(OutboxGrace), 10)
		if err != nil {
			s.Fatal(err)
		}
		s.same(due.Outboxes, []kyc.Outbox{*w.Outbox}, "outboxes due")
	}},
	{"stale version is ErrStale and writes nothing", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		d := s.createDoc(document("c-1", "doc-1", kyc.DocPendingUpload, ct0))
		s.commit(kyc.Work{Customer: c}) // now at version 2
		d.State = kyc.DocValid
		w := fullWork(c, "a", kyc.DocumentUpdate{Document: d, Expect: kyc.DocPendingUpload})
		w.Customer.Status = kyc.StatusRejected
		s.stale(s.st.Commit(s.ctx, w), "commit at version 1 of a customer at version 2")
		s.version("c-1", 2)
		if got := s.customer("c-1"); got.Status != kyc.StatusUnverified {
			s.Fatalf("customer status %s written by a refused commit", got.Status)
		}
		s.nothingOf(w)
	}},
	{"version 0 of a stored customer is ErrStale", func(s *storeT) {
		s.create(newCustomer("c-1"))
		w := fullWork(newCustomer("c-1"), "a")
		s.stale(s.st.Commit(s.ctx, w), "commit of a new customer that exists")
		s.version("c-1", 1)
		s.nothingOf(w)
	}},
	{"a version of a customer never stored is ErrStale", func(s *storeT) {
		c := newCustomer("c-1")
		c.Version = 3
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: c}), "commit at version 3 of no customer")
		_, err := s.st.Customer(s.ctx, "c-1")
		s.notExist(err, "customer written by a refused commit")
	}},
	{"race: of two commits on one version one wins, nothing of the other is written", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		works := []kyc.Work{fullWork(c, "a"), fullWork(c, "b")}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range works {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.st.Commit(s.ctx, works[i])
			}()
		}
		wg.Wait()
		winner, loser := 0, 1
		if errs[0] != nil {
			winner, loser = 1, 0
		}
		if errs[winner] != nil {
			s.Fatalf("neither commit won: %v", errs)
		}
		s.stale(errs[loser], "the losing commit")
		s.version("c-1", 2)
		s.nothingOf(works[loser])
		trail, err := s.st.Audit(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(trail, works[winner].Audit, "audit trail after the race")
	}},
	{"a new order that exists is ErrStale", func(s *storeT) {
		s.commit(kyc.Work{Customer: newCustomer("c-1"), NewOrder: "o-1"})
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), NewOrder: "o-1"}), "the same order again")
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: newCustomer("c-2"), NewOrder: "o-1"}), "the order for another customer")
		s.version("c-1", 1)
		_, err := s.st.Customer(s.ctx, "c-2")
		s.notExist(err, "customer of a refused order")
		if owner, err := s.st.OrderOwner(s.ctx, "o-1"); err != nil || owner != "c-1" {
			s.Fatalf("order owner after a refused order: %q, %v", owner, err)
		}
	}},
	{"a closed hold is written once", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		h := closedHold("c-1", "o-1", ct0)
		s.commit(kyc.Work{Customer: c, Closed: []kyc.Hold{h}})
		h2 := h
		h2.State = kyc.Expired
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Closed: []kyc.Hold{h2}}), "the hold closed again")
		s.version("c-1", 2)
		got, err := s.st.ClosedHold(s.ctx, "c-1", "o-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, h, "closed hold")
	}},
	{"an audit entry is written once", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		head, es := entries(c.Audit, 1, "first")
		c.Audit = head
		s.commit(kyc.Work{Customer: c, Audit: es})
		_, again := entries(kyc.AuditHead{}, 1, "again") // seq 1 once more
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Audit: again}), "audit entry 1 again")
		trail, err := s.st.Audit(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(trail, es, "audit trail")
	}},
	{"an outbox is written once", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		s.commit(kyc.Work{Customer: c, Outbox: outbox("out-1", ct0)})
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Outbox: outbox("out-1", ct0.Add(hour))}), "outbox again")
		s.version("c-1", 2)
	}},
	{"a submission is created at version 0 only", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		sub := submission("c-1", "sub-1", ct0)
		s.commit(kyc.Work{Customer: c, Submission: &sub})
		again := submission("c-1", "sub-1", ct0.Add(hour))
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Submission: &again}), "the submission created again")
		s.version("c-1", 2)
		got, err := s.st.Submission(s.ctx, "sub-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, sub, "submission")
	}},
	{"a submission is written at its stored version only", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		sub := submission("c-1", "sub-1", ct0)
		s.commit(kyc.Work{Customer: c, Submission: &sub})
		claimed, err := sub.Claim(Reviewer("rev-1"), ct0.Add(hour))
		if err != nil {
			s.Fatal(err)
		}
		s.commit(kyc.Work{Customer: s.customer("c-1"), Submission: &claimed, SubmissionVersion: 1})
		other, _ := sub.Claim(Reviewer("rev-2"), ct0.Add(hour))
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Submission: &other, SubmissionVersion: 1}), "a claim on version 1 of a submission at 2")
		s.version("c-1", 3)
		got, err := s.st.Submission(s.ctx, "sub-1")
		if err != nil {
			s.Fatal(err)
		}
		if got.Version != 2 || got.ClaimedBy != "rev-1" {
			s.Fatalf("submission after the refused claim: version %d claimed by %q, want 2 rev-1", got.Version, got.ClaimedBy)
		}
		missing := submission("c-1", "sub-x", ct0)
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Submission: &missing, SubmissionVersion: 1}), "a version of a submission never stored")
		rich := richSubmission("c-1", "sub-1")
		s.commit(kyc.Work{Customer: s.customer("c-1"), Submission: &rich, SubmissionVersion: 2})
		got, err = s.st.Submission(s.ctx, "sub-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, rich, "decided submission")
	}},
	{"a document is written if its state and version are still those read", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		d := s.createDoc(document("c-1", "doc-1", kyc.DocValid, ct0))
		d.SubmissionID = "sub-1"
		s.commit(kyc.Work{Customer: c, Documents: []kyc.DocumentUpdate{{Document: d, Expect: kyc.DocValid}}})
		s.same(s.document("c-1", "doc-1"), atVersion(d, 2), "document")
	}},
	{"race: a document rewritten in the same state since it was read is ErrStale and nothing is written", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		read := s.createDoc(document("c-1", "doc-1", kyc.DocValid, ct0))
		other := read // another writer keeps it valid
		other.SubmissionID = "sub-1"
		if err := s.st.UpdateDocument(s.ctx, other, kyc.DocValid); err != nil {
			s.Fatal(err)
		}
		mine := read
		mine.VersionID = "v-2"
		w := fullWork(c, "a", kyc.DocumentUpdate{Document: mine, Expect: kyc.DocValid})
		s.stale(s.st.Commit(s.ctx, w), "commit of a stale copy in an unchanged state")
		s.version("c-1", 1)
		s.nothingOf(w)
		s.same(s.document("c-1", "doc-1"), atVersion(other, 2), "document after the lost race")
	}},
	{"a document in another state is ErrStale and nothing is written", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		d := s.createDoc(document("c-1", "doc-1", kyc.DocPendingUpload, ct0))
		d.State, d.SubmissionID = kyc.DocValid, "sub-a"
		w := fullWork(c, "a", kyc.DocumentUpdate{Document: d, Expect: kyc.DocValid}) // it is still pending_upload
		s.stale(s.st.Commit(s.ctx, w), "commit expecting a valid document")
		s.version("c-1", 1)
		s.nothingOf(w)
	}},
	{"a missing document is ErrStale", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		w := kyc.Work{Customer: c, Documents: []kyc.DocumentUpdate{{Document: document("c-1", "doc-x", kyc.DocValid, ct0), Expect: kyc.DocPendingUpload}}}
		s.stale(s.st.Commit(s.ctx, w), "commit of a document never created")
		_, err := s.st.Document(s.ctx, "c-1", "doc-x")
		s.notExist(err, "document of a refused commit")
		s.version("c-1", 1)
	}},
	{"one record twice is refused and nothing is written", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		d := s.createDoc(document("c-1", "doc-1", kyc.DocValid, ct0))
		d.SubmissionID = "sub-a"
		w := fullWork(c, "a", kyc.DocumentUpdate{Document: d, Expect: kyc.DocValid}, kyc.DocumentUpdate{Document: d, Expect: kyc.DocValid})
		if err := s.st.Commit(s.ctx, w); err == nil || errors.Is(err, kyc.ErrStale) {
			s.Fatalf("commit naming one document twice: %v, want a refusal that is not ErrStale", err)
		}
		s.version("c-1", 1)
		s.nothingOf(w)
	}},
	{"more than 100 records is refused and nothing is written", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		head, es := entries(c.Audit, MaxTransactItems, "many") // with the customer: 101 records
		c.Audit = head
		w := kyc.Work{Customer: c, Audit: es}
		if err := s.st.Commit(s.ctx, w); err == nil || errors.Is(err, kyc.ErrStale) {
			s.Fatalf("commit of %d records: %v, want a refusal that is not ErrStale", len(es)+1, err)
		}
		s.version("c-1", 1)
		s.nothingOf(w)
		head, es = entries(s.customer("c-1").Audit, MaxTransactItems-1, "many") // exactly 100
		c = s.customer("c-1")
		c.Audit = head
		s.commit(kyc.Work{Customer: c, Audit: es})
	}},
}

// ---- Account ----

var accountTests = []storeTest{
	{"a customer never stored has an empty account", func(s *storeT) {
		a, err := s.st.Account(s.ctx, "nobody")
		if err != nil {
			s.Fatal(err)
		}
		if a.Customer != nil || len(a.Documents) != 0 || len(a.Closed) != 0 {
			s.Fatalf("account of nobody: %+v", a)
		}
	}},
	{"record, documents by creation time and closed holds, of that customer only", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		s.commit(kyc.Work{Customer: c, Closed: []kyc.Hold{closedHold("c-1", "o-2", ct0), closedHold("c-1", "o-1", ct0)}})
		s.create(newCustomer("c-10")) // a customer id that extends c-1
		s.commit(kyc.Work{Customer: s.customer("c-10"), Closed: []kyc.Hold{closedHold("c-10", "o-3", ct0)}})
		docs := []kyc.Document{
			document("c-1", "doc-b", kyc.DocPendingUpload, ct0.Add(2*hour)),
			document("c-1", "doc-a", kyc.DocValid, ct0.Add(3*hour)),
			richDocument("c-1", "doc-c"),
			document("c-10", "doc-d", kyc.DocValid, ct0),
		}
		for _, d := range docs {
			if err := s.st.CreateDocument(s.ctx, d); err != nil {
				s.Fatal(err)
			}
		}
		a, err := s.st.Account(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		if a.Customer == nil {
			s.Fatal("account has no customer record")
		}
		s.same(*a.Customer, s.customer("c-1"), "account's customer")
		s.same(a.Documents, []kyc.Document{atVersion(docs[2], 1), atVersion(docs[0], 1), atVersion(docs[1], 1)}, "account's documents (by creation time)")
		s.same(a.Closed, []kyc.Hold{closedHold("c-1", "o-1", ct0), closedHold("c-1", "o-2", ct0)}, "account's closed holds (by order id)")
	}},
	{"documents without a customer record", func(s *storeT) {
		d := document("c-1", "doc-1", kyc.DocPendingUpload, ct0)
		if err := s.st.CreateDocument(s.ctx, d); err != nil {
			s.Fatal(err)
		}
		a, err := s.st.Account(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		if a.Customer != nil {
			s.Fatalf("account has a customer record: %+v", a.Customer)
		}
		s.same(a.Documents, []kyc.Document{atVersion(d, 1)}, "documents")
		if got, ok := a.Document("doc-1"); !ok || got.ID != "doc-1" {
			s.Fatal("Account.Document does not find the document")
		}
	}},
}

// ---- Orders and closed holds ----

var orderTests = []storeTest{
	{"an order never placed has no owner", func(s *storeT) {
		_, err := s.st.OrderOwner(s.ctx, "o-1")
		s.notExist(err, "OrderOwner of no order")
	}},
	{"an order's owner is the customer it was committed with", func(s *storeT) {
		s.commit(kyc.Work{Customer: newCustomer("c-1"), NewOrder: "o-1"})
		if owner, err := s.st.OrderOwner(s.ctx, "o-1"); err != nil || owner != "c-1" {
			s.Fatalf("OrderOwner = %q, %v; want c-1", owner, err)
		}
	}},
	{"an open hold is not a closed hold", func(s *storeT) {
		c := newCustomer("c-1")
		c.Holds = []kyc.Hold{openHold("c-1", "o-1", ct0)}
		s.commit(kyc.Work{Customer: c, NewOrder: "o-1"})
		_, err := s.st.ClosedHold(s.ctx, "c-1", "o-1")
		s.notExist(err, "ClosedHold of an open hold")
		_, err = s.st.ClosedHold(s.ctx, "c-2", "o-1")
		s.notExist(err, "ClosedHold of another customer's order")
	}},
}

// ---- Documents ----

var documentTests = []storeTest{
	{"a missing document is ErrNotExist", func(s *storeT) {
		_, err := s.st.Document(s.ctx, "c-1", "doc-1")
		s.notExist(err, "Document never created")
	}},
	{"a created document reads back with every field", func(s *storeT) {
		d := richDocument("c-1", "doc-1")
		if err := s.st.CreateDocument(s.ctx, d); err != nil {
			s.Fatal(err)
		}
		got, err := s.st.Document(s.ctx, "c-1", "doc-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, atVersion(d, 1), "document")
		_, err = s.st.Document(s.ctx, "c-2", "doc-1")
		s.notExist(err, "the document under another customer")
	}},
	{"a taken document id is ErrStale and the first document stays", func(s *storeT) {
		d := document("c-1", "doc-1", kyc.DocPendingUpload, ct0)
		if err := s.st.CreateDocument(s.ctx, d); err != nil {
			s.Fatal(err)
		}
		other := document("c-1", "doc-1", kyc.DocValid, ct0.Add(hour))
		s.stale(s.st.CreateDocument(s.ctx, other), "CreateDocument of a taken id")
		got, err := s.st.Document(s.ctx, "c-1", "doc-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, atVersion(d, 1), "document after a refused create")
	}},
	{"UpdateDocument writes if the state and version are still those read, one version up", func(s *storeT) {
		d := s.createDoc(document("c-1", "doc-1", kyc.DocPendingUpload, ct0))
		if d.Version != 1 {
			s.Fatalf("a created document is at version %d, want 1", d.Version)
		}
		d.State, d.VersionID, d.Size = kyc.DocValid, "v-1", 2000
		if err := s.st.UpdateDocument(s.ctx, d, kyc.DocPendingUpload); err != nil {
			s.Fatal(err)
		}
		s.same(s.document("c-1", "doc-1"), atVersion(d, 2), "updated document")
		d = s.document("c-1", "doc-1")
		d.Size = 2001
		if err := s.st.UpdateDocument(s.ctx, d, kyc.DocValid); err != nil {
			s.Fatal(err)
		}
		s.same(s.document("c-1", "doc-1"), atVersion(d, 3), "document updated twice")
	}},
	{"race: UpdateDocument after the state changed is ErrStale and overwrites nothing", func(s *storeT) {
		read := s.createDoc(document("c-1", "doc-1", kyc.DocPendingUpload, ct0))
		submitted := read // another writer (a submission) commits first
		submitted.State, submitted.SubmissionID, submitted.VersionID = kyc.DocValid, "sub-1", "v-1"
		if err := s.st.UpdateDocument(s.ctx, submitted, kyc.DocPendingUpload); err != nil {
			s.Fatal(err)
		}
		mine := read
		mine.State, mine.VersionID = kyc.DocValid, "v-2"
		s.stale(s.st.UpdateDocument(s.ctx, mine, kyc.DocPendingUpload), "UpdateDocument on a stale read")
		got, err := s.st.Document(s.ctx, "c-1", "doc-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, atVersion(submitted, 2), "document after the lost race")
	}},
	{"race: UpdateDocument of a copy rewritten in the same state since it was read is ErrStale", func(s *storeT) {
		read := s.createDoc(document("c-1", "doc-1", kyc.DocValid, ct0))
		submitted := read // a submission keeps the document valid
		submitted.SubmissionID, submitted.PurgeAt = "sub-1", time.Time{}
		if err := s.st.UpdateDocument(s.ctx, submitted, kyc.DocValid); err != nil {
			s.Fatal(err)
		}
		mine := read // the validator's copy, read before the submission
		mine.VersionID, mine.PurgeAt = "v-2", ct0.Add(7*24*hour)
		s.stale(s.st.UpdateDocument(s.ctx, mine, kyc.DocValid), "UpdateDocument of a stale copy in an unchanged state")
		s.same(s.document("c-1", "doc-1"), atVersion(submitted, 2), "document after the lost race")
	}},
	{"UpdateDocument of a missing document is ErrStale and creates nothing", func(s *storeT) {
		d := document("c-1", "doc-1", kyc.DocValid, ct0)
		s.stale(s.st.UpdateDocument(s.ctx, d, kyc.DocPendingUpload), "UpdateDocument of no document")
		_, err := s.st.Document(s.ctx, "c-1", "doc-1")
		s.notExist(err, "document after a refused update")
	}},
}

// ---- Submissions and the review queue ----

var submissionTests = []storeTest{
	{"a missing submission is ErrNotExist", func(s *storeT) {
		_, err := s.st.Submission(s.ctx, "sub-1")
		s.notExist(err, "Submission never saved")
		_, err = s.st.OldestPending(s.ctx)
		s.notExist(err, "OldestPending of an empty queue")
		subs, err := s.st.PendingSubmissions(s.ctx, 10)
		if err != nil || len(subs) != 0 {
			s.Fatalf("PendingSubmissions of an empty queue: %v, %v", subs, err)
		}
		if n, err := s.st.PendingCount(s.ctx); err != nil || n != 0 {
			s.Fatalf("PendingCount of an empty queue: %d, %v", n, err)
		}
	}},
	{"SaveSubmission creates at 0 and replaces at the stored version", func(s *storeT) {
		sub := submission("c-1", "sub-1", ct0)
		if err := s.st.SaveSubmission(s.ctx, sub, 0); err != nil {
			s.Fatal(err)
		}
		s.stale(s.st.SaveSubmission(s.ctx, sub, 0), "SaveSubmission of an existing submission at 0")
		claimed, _ := sub.Claim(Reviewer("rev-1"), ct0.Add(hour))
		if err := s.st.SaveSubmission(s.ctx, claimed, 1); err != nil {
			s.Fatal(err)
		}
		late, _ := sub.Claim(Reviewer("rev-2"), ct0.Add(2*hour))
		s.stale(s.st.SaveSubmission(s.ctx, late, 1), "SaveSubmission at a stale version")
		s.stale(s.st.SaveSubmission(s.ctx, submission("c-1", "sub-x", ct0), 1), "SaveSubmission of a missing submission at 1")
		got, err := s.st.Submission(s.ctx, "sub-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, claimed, "submission")
		_, err = s.st.Submission(s.ctx, "sub-x")
		s.notExist(err, "submission of a refused save")
	}},
	{"the queue is the pending submissions, oldest first, at most limit", func(s *storeT) {
		for i, at := range []time.Duration{3 * hour, 1 * hour, 2 * hour, 4 * hour} {
			if err := s.st.SaveSubmission(s.ctx, submission("c-1", fmt.Sprintf("sub-%d", i), ct0.Add(at)), 0); err != nil {
				s.Fatal(err)
			}
		}
		ids := func(subs []kyc.Submission) []string {
			var out []string
			for _, sub := range subs {
				out = append(out, sub.ID)
			}
			return out
		}
		subs, err := s.st.PendingSubmissions(s.ctx, 10)
		if err != nil {
			s.Fatal(err)
		}
		if got, want := ids(subs), []string{"sub-1", "sub-2", "sub-0", "sub-3"}; !slices.Equal(got, want) {
			s.Fatalf("queue = %v, want %v", got, want)
		}
		subs, err = s.st.PendingSubmissions(s.ctx, 2)
		if err != nil {
			s.Fatal(err)
		}
		if got, want := ids(subs), []string{"sub-1", "sub-2"}; !slices.Equal(got, want) {
			s.Fatalf("queue with limit 2 = %v, want %v", got, want)
		}
		oldest, err := s.st.OldestPending(s.ctx)
		if err != nil || oldest.ID != "sub-1" {
			s.Fatalf("OldestPending = %s, %v; want sub-1", oldest.ID, err)
		}
		if n, err := s.st.PendingCount(s.ctx); err != nil || n != 4 {
			s.Fatalf("PendingCount = %d, %v; want 4", n, err)
		}
	}},
	{"a claimed submission stays queued at its new version, a decided one leaves", func(s *storeT) {
		a, b := submission("c-1", "sub-a", ct0), submission("c-2", "sub-b", ct0.Add(hour))
		for _, sub := range []kyc.Submission{a, b} {
			if err := s.st.SaveSubmission(s.ctx, sub, 0); err != nil {
				s.Fatal(err)
			}
		}
		claimed, _ := a.Claim(Reviewer("rev-1"), ct0.Add(2*hour))
		if err := s.st.SaveSubmission(s.ctx, claimed, 1); err != nil {
			s.Fatal(err)
		}
		subs, err := s.st.PendingSubmissions(s.ctx, 10)
		if err != nil {
			s.Fatal(err)
		}
		s.same(subs, []kyc.Submission{claimed, b}, "queue after a claim")
		decided, err := claimed.Decide(Reviewer("rev-1"), kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"}, Address: kyc.Verdict{Result: "approve"}, Version: 2}, ct0.Add(3*hour))
		if err != nil {
			s.Fatal(err)
		}
		if err := s.st.SaveSubmission(s.ctx, decided, 2); err != nil {
			s.Fatal(err)
		}
		subs, err = s.st.PendingSubmissions(s.ctx, 10)
		if err != nil {
			s.Fatal(err)
		}
		s.same(subs, []kyc.Submission{b}, "queue after a decision")
		oldest, err := s.st.OldestPending(s.ctx)
		if err != nil || oldest.ID != "sub-b" {
			s.Fatalf("OldestPending = %s, %v; want sub-b", oldest.ID, err)
		}
		if n, err := s.st.PendingCount(s.ctx); err != nil || n != 1 {
			s.Fatalf("PendingCount after a decision = %d, %v; want 1 (the claimed one counted once, the decided one not)", n, err)
		}
	}},
}

// ---- The due index ----

// dueIDs lists what Due returned, kind:id, in order of kind then time.
func dueIDs(d kyc.Due) []string {
	var out []string
	for _, c := range d.Customers {
		out = append(out, "C:"+c.ID)
	}
	for _, d := range d.Documents {
		out = append(out, "D:"+d.ID)
	}
	for _, o := range d.Outboxes {
		out = append(out, "O:"+o.ID)
	}
	return out
}

func (s *storeT) due(now time.Time, limit int, want ...string) {
	s.Helper()
	d, err := s.st.Due(s.ctx, now, limit)
	if err != nil {
		s.Fatal(err)
	}
	if got := dueIDs(d); !slices.Equal(got, want) {
		s.Fatalf("Due(%s, %d) = %v, want %v", now.Format(time.RFC3339Nano), limit, got, want)
	}
}

var dueTests = []storeTest{
	{"a customer is due just after its earliest hold deadline, with its record", func(s *storeT) {
		c1 := newCustomer("c-1")
		c1.Holds = []kyc.Hold{openHold("c-1", "o-1", ct0.Add(2*hour)), openHold("c-1", "o-2", ct0)}
		c2 := newCustomer("c-2")
		c2.Holds = []kyc.Hold{openHold("c-2", "o-3", ct0.Add(hour))}
		s.create(c1)
		s.create(c2)
		s.create(newCustomer("c-3")) // nothing due
		deadline := ct0.Add(kyc.Window)
		s.due(deadline, 10) // approval at the deadline is still on time: not due yet
		s.due(deadline.Add(time.Nanosecond), 10, "C:c-1")
		s.due(deadline.Add(hour+time.Nanosecond), 10, "C:c-1", "C:c-2")
		s.due(deadline.Add(hour+time.Nanosecond), 1, "C:c-1")
		d, err := s.st.Due(s.ctx, deadline.Add(time.Nanosecond), 10)
		if err != nil {
			s.Fatal(err)
		}
		s.same(d.Customers, []kyc.Customer{s.customer("c-1")}, "due customer record")
	}},
	{"a verified customer is due at the reminder and at expiry until each is recorded", func(s *storeT) {
		c := newCustomer("c-1")
		c.Status, c.VerifiedAt = kyc.StatusVerified, ct0
		c.ExpiresAt = kyc.VerificationExpiry(ct0)
		s.create(c)
		reminder := c.ExpiresAt.Add(-kyc.ReminderBefore)
		s.due(reminder.Add(-time.Nanosecond), 10)
		s.due(reminder, 10, "C:c-1")
		c = s.customer("c-1")
		c.RemindedFor = c.ExpiresAt
		s.commit(kyc.Work{Customer: c})
		s.due(reminder, 10)
		s.due(c.ExpiresAt, 10, "C:c-1")
		c = s.customer("c-1")
		c.Status, c.ExpiredFor = kyc.StatusExpired, c.ExpiresAt
		s.commit(kyc.Work{Customer: c})
		s.due(c.ExpiresAt.Add(1000*24*hour), 10)
	}},
	{"a customer leaves the index when nothing is due any more", func(s *storeT) {
		c := newCustomer("c-1")
		c.Holds = []kyc.Hold{openHold("c-1", "o-1", ct0)}
		s.create(c)
		late := ct0.Add(kyc.Window + hour)
		s.due(late, 10, "C:c-1")
		c = s.customer("c-1")
		c.Holds = nil
		s.commit(kyc.Work{Customer: c, Closed: []kyc.Hold{closedHold("c-1", "o-1", late)}})
		s.due(late, 10)
	}},
	{"an outbox is due a minute after it was created, until deleted", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		s.commit(kyc.Work{Customer: c, Outbox: outbox("out-1", ct0)})
		s.due(ct0.Add(OutboxGrace-time.Nanosecond), 10)
		s.due(ct0.Add(OutboxGrace), 10, "O:out-1")
		d, err := s.st.Due(s.ctx, ct0.Add(OutboxGrace), 10)
		if err != nil {
			s.Fatal(err)
		}
		s.same(d.Outboxes, []kyc.Outbox{*outbox("out-1", ct0)}, "due outbox")
		if err := s.st.DeleteOutbox(s.ctx, "out-1"); err != nil {
			s.Fatal(err)
		}
		s.due(ct0.Add(OutboxGrace), 10)
		if err := s.st.DeleteOutbox(s.ctx, "out-1"); err != nil {
			s.Fatalf("deleting a deleted outbox: %v", err)
		}
	}},
	{"a document is due at PurgeAt until it is purged", func(s *storeT) {
		d := document("c-1", "doc-1", kyc.DocValid, ct0)
		d.PurgeAt = ct0.Add(7 * 24 * hour)
		d = s.createDoc(d)
		kept := document("c-1", "doc-2", kyc.DocValid, ct0) // no purge scheduled
		if err := s.st.CreateDocument(s.ctx, kept); err != nil {
			s.Fatal(err)
		}
		s.due(d.PurgeAt.Add(-time.Nanosecond), 10)
		s.due(d.PurgeAt, 10, "D:doc-1")
		got, err := s.st.Due(s.ctx, d.PurgeAt, 10)
		if err != nil {
			s.Fatal(err)
		}
		s.same(got.Documents, []kyc.Document{d}, "due document")
		moved := d
		moved.PurgeAt = d.PurgeAt.Add(24 * hour) // a legal hold postpones it
		if err := s.st.UpdateDocument(s.ctx, moved, kyc.DocValid); err != nil {
			s.Fatal(err)
		}
		s.due(d.PurgeAt, 10)
		s.due(moved.PurgeAt, 10, "D:doc-1")
		purged := s.document("c-1", "doc-1")
		purged.State, purged.PurgedAt = kyc.DocPurged, moved.PurgeAt
		if err := s.st.UpdateDocument(s.ctx, purged, kyc.DocValid); err != nil {
			s.Fatal(err)
		}
		s.due(moved.PurgeAt.Add(1000*24*hour), 10)
	}},
	{"limit counts entries of every kind, earliest first", func(s *storeT) {
		c := newCustomer("c-1")
		c.Holds = []kyc.Hold{openHold("c-1", "o-1", ct0)} // due at ct0+72h+1ns
		s.create(c)
		c2 := s.create(newCustomer("c-2"))
		s.commit(kyc.Work{Customer: c2, Outbox: outbox("out-1", ct0.Add(kyc.Window))}) // due at ct0+72h+1m
		d := document("c-3", "doc-1", kyc.DocValid, ct0)
		d.PurgeAt = ct0.Add(kyc.Window + hour)
		if err := s.st.CreateDocument(s.ctx, d); err != nil {
			s.Fatal(err)
		}
		end := ct0.Add(kyc.Window + 2*hour)
		s.due(end, 10, "C:c-1", "D:doc-1", "O:out-1")
		s.due(end, 2, "C:c-1", "O:out-1")
		s.due(end, 1, "C:c-1")
	}},
}

// ---- Audit ----

var auditTests = []storeTest{
	{"a customer never seen has an empty trail", func(s *storeT) {
		trail, err := s.st.Audit(s.ctx, "nobody")
		if err != nil || len(trail) != 0 {
			s.Fatalf("Audit of nobody: %v, %v", trail, err)
		}
	}},
	{"the trail is in sequence order across commits", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		var all []kyc.AuditEntry
		for _, n := range []int{4, 7, 3} { // entries 1..14: string order of unpadded numbers would differ
			head, es := entries(c.Audit, n, "step")
			c.Audit = head
			s.commit(kyc.Work{Customer: c, Audit: es})
			all = append(all, es...)
			c = s.customer("c-1")
		}
		s.create(newCustomer("c-10")) // another trail
		c10 := s.customer("c-10")
		head, es := entries(c10.Audit, 2, "other")
		c10.Audit = head
		s.commit(kyc.Work{Customer: c10, Audit: es})
		trail, err := s.st.Audit(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(trail, all, "audit trail")
		if r := kyc.VerifyChain(trail, s.customer("c-1").Audit); !r.OK {
			s.Fatalf("the stored chain does not verify: %+v", r)
		}
	}},
}

// ---- Disclosures ----

var disclosureTests = []storeTest{
	{"a missing disclosure is ErrNotExist", func(s *storeT) {
		_, err := s.st.Disclosure(s.ctx, "disc-1")
		s.notExist(err, "Disclosure never written")
	}},
	{"a disclosure is created at 0 and replaced at its stored version only", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		d := disclosure("c-1", "disc-1")
		s.commit(kyc.Work{Customer: c, Disclosure: &d})
		got, err := s.st.Disclosure(s.ctx, "disc-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, d, "disclosure")
		again := disclosure("c-1", "disc-1")
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Disclosure: &again}), "the disclosure created again")
		approved := d
		approved.State, approved.ApprovedBy, approved.ApprovedAt, approved.ExportUntil = kyc.DisclosureApproved, "admin-2", ct0.Add(hour), ct0.Add(25*hour)
		approved.Version = 2
		s.commit(kyc.Work{Customer: s.customer("c-1"), Disclosure: &approved, DisclosureVersion: 1})
		other := d
		other.ApprovedBy, other.Version = "admin-3", 2
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Disclosure: &other, DisclosureVersion: 1}), "a second approval of version 1")
		missing := disclosure("c-1", "disc-x")
		s.stale(s.st.Commit(s.ctx, kyc.Work{Customer: s.customer("c-1"), Disclosure: &missing, DisclosureVersion: 1}), "a version of a disclosure never written")
		s.version("c-1", 3)
		got, err = s.st.Disclosure(s.ctx, "disc-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(got, approved, "approved disclosure")
	}},
}

// ---- The document-number index ----

// hashed returns a pending submission with a document number's hash.
func hashed(customerID, id, hash string, submittedAt time.Time) kyc.Submission {
	sub := submission(customerID, id, submittedAt)
	sub.DocNumberHash = hash
	return sub
}

func (s *storeT) byDocNumber(hash string, limit int, want ...string) []kyc.Submission {
	s.Helper()
	subs, err := s.st.SubmissionsByDocNumber(s.ctx, hash, limit)
	if err != nil {
		s.Fatalf("SubmissionsByDocNumber(%s, %d): %v", hash, limit, err)
	}
	got := []string{}
	for _, sub := range subs {
		got = append(got, sub.ID)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		s.Fatalf("SubmissionsByDocNumber(%s, %d) = %v, want %v", hash, limit, got, want)
	}
	return subs
}

var docNumberTests = []storeTest{
	{"every customer's submissions with the hash, newest first, at most limit", func(s *storeT) {
		for _, sub := range []kyc.Submission{
			hashed("c-1", "sub-1", "h1", ct0),
			hashed("c-2", "sub-2", "h1", ct0.Add(2*hour)),
			hashed("c-3", "sub-3", "h1", ct0.Add(hour)),
			hashed("c-4", "sub-4", "h2", ct0.Add(3*hour)),
			submission("c-5", "sub-5", ct0.Add(4*hour)),
		} {
			if err := s.st.SaveSubmission(s.ctx, sub, 0); err != nil {
				s.Fatal(err)
			}
		}
		got := s.byDocNumber("h1", 10, "sub-2", "sub-3", "sub-1")
		s.same(got[1], hashed("c-3", "sub-3", "h1", ct0.Add(hour)), "submission from the index")
		s.byDocNumber("h1", 2, "sub-2", "sub-3")
		s.byDocNumber("h2", 10, "sub-4")
		s.byDocNumber("h3", 10)
	}},
	{"a submission joins the index when a hash is recorded, moves when it changes, and stays when decided", func(s *storeT) {
		c := s.create(newCustomer("c-1"))
		sub := submission("c-1", "sub-1", ct0)
		if err := s.st.SaveSubmission(s.ctx, sub, 0); err != nil {
			s.Fatal(err)
		}
		recorded := sub
		recorded.DocNumberHash, recorded.Version = "h1", 2
		recorded.ApprovalRequest = &kyc.ApprovalRequest{RequestedBy: "rev-1", RequestedAt: ct0.Add(hour), Why: "same_document_verified", Customers: []string{"c-9"}}
		if err := s.st.SaveSubmission(s.ctx, recorded, 1); err != nil {
			s.Fatal(err)
		}
		s.same(s.byDocNumber("h1", 10, "sub-1")[0], recorded, "recorded submission")
		changed := recorded
		changed.DocNumberHash, changed.Version, changed.ApprovalRequest = "h2", 3, nil
		s.commit(kyc.Work{Customer: c, Submission: &changed, SubmissionVersion: 2})
		s.byDocNumber("h1", 10)
		s.byDocNumber("h2", 10, "sub-1")
		decided, err := changed.Claim(Reviewer("rev-1"), ct0.Add(2*hour))
		if err != nil {
			s.Fatal(err)
		}
		if decided, err = decided.Decide(Reviewer("rev-1"), kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"},
			Address: kyc.Verdict{Result: "approve"}, Version: 4}, ct0.Add(3*hour)); err != nil {
			s.Fatal(err)
		}
		if err := s.st.SaveSubmission(s.ctx, decided, 3); err != nil {
			s.Fatal(err)
		}
		s.same(s.byDocNumber("h2", 10, "sub-1")[0], decided, "decided submission")
		s.stale(s.st.SaveSubmission(s.ctx, hashed("c-1", "sub-1", "h3", ct0), 4), "a stale save")
		s.byDocNumber("h3", 10)
	}},
}

// ---- Copies ----

var copyTests = []storeTest{
	{"what a caller got is its own", func(s *storeT) {
		c := richCustomer("c-1")
		c.Audit = kyc.AuditHead{}
		s.create(c)
		d := richDocument("c-1", "doc-1")
		if err := s.st.CreateDocument(s.ctx, d); err != nil {
			s.Fatal(err)
		}
		sub := richSubmission("c-1", "sub-1")
		sub.Status = kyc.SubPending
		if err := s.st.SaveSubmission(s.ctx, sub, 0); err != nil {
			s.Fatal(err)
		}
		wantCustomer, wantDoc := s.customer("c-1"), atVersion(d, 1)

		got := s.customer("c-1")
		got.Holds[0].State, got.Pending.ID, got.Contact.Data[0] = kyc.Expired, "changed", 99
		a, err := s.st.Account(s.ctx, "c-1")
		if err != nil {
			s.Fatal(err)
		}
		a.Customer.Holds[1].Rendered, a.Documents[0].Decision.Reasons[0], a.Documents[0].FileName.Data[0] = true, "altered", 'X'
		doc, err := s.st.Document(s.ctx, "c-1", "doc-1")
		if err != nil {
			s.Fatal(err)
		}
		doc.Decision.Result = kyc.ResultApproved
		subs, err := s.st.PendingSubmissions(s.ctx, 10)
		if err != nil || len(subs) != 1 {
			s.Fatalf("queue: %v, %v", subs, err)
		}
		subs[0].Note.Data[0], subs[0].Identity.By = 'X', "someone"
		due, err := s.st.Due(s.ctx, ct0.Add(1000*24*hour), 10)
		if err != nil || len(due.Customers) != 1 {
			s.Fatalf("due: %+v, %v", due, err)
		}
		due.Customers[0].Holds[0].Deadline = time.Time{}

		s.same(s.customer("c-1"), wantCustomer, "customer after callers changed their copies")
		gotDoc, err := s.st.Document(s.ctx, "c-1", "doc-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(gotDoc, wantDoc, "document after callers changed their copies")
		gotSub, err := s.st.Submission(s.ctx, "sub-1")
		if err != nil {
			s.Fatal(err)
		}
		s.same(gotSub, sub, "submission after callers changed their copies")
	}},
	{"what a caller wrote is not shared with it", func(s *storeT) {
		c := newCustomer("c-1")
		c.Holds = []kyc.Hold{openHold("c-1", "o-1", ct0)}
		c.Contact = &kyc.Sealed{V: 1, Nonce: []byte("123456789012"), Data: []byte("abc")}
		sub := submission("c-1", "sub-1", ct0)
		w := kyc.Work{Customer: c, Submission: &sub}
		s.commit(w)
		want := s.customer("c-1")
		wantSub := sub
		c.Holds[0].State, c.Contact.Data[0], sub.ClaimedBy = kyc.Cancelled, 'X', "rev-9"
		s.same(s.customer("c-1"), want, "customer after the writer changed its value")
		got, err := s.st.Submission(s.ctx, "sub-1")
		if err != nil {
			s.Fatal(err)
		}
		if got.ClaimedBy != wantSub.ClaimedBy {
			s.Fatalf("submission changed with the writer's value: claimed by %q", got.ClaimedBy)
		}
	}},
}
