package kyc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// ActorKind is who caused an audited change.
type ActorKind string

const (
	ActorCustomer ActorKind = "customer"
	ActorReviewer ActorKind = "reviewer"
	ActorAdmin    ActorKind = "admin"
	ActorBilling  ActorKind = "billing"
	ActorSystem   ActorKind = "system"
)

// Actor is who (or what) did something: a customer, a staff member by token
// subject, billing, or a system function such as the sweep.
type Actor struct {
	Kind ActorKind `json:"kind"`
	ID   string    `json:"id"`
	// Customer is the billing customer id a staff member's account is linked
	// to (their own account with the provider), if any: they may not act on
	// it. It is not part of the audit record.
	Customer string `json:"-"`
}

// Well-known system actors.
var (
	BySweep     = Actor{Kind: ActorSystem, ID: "sweep"}
	ByValidator = Actor{Kind: ActorSystem, ID: "validator"}
	ByBilling   = Actor{Kind: ActorBilling, ID: "billing"}
)

// AuditEntry is one record of the append-only audit trail of a customer: who
// did what, when, to which order, submission or document. Entries never hold
// personal data. Seq, Prev and Hash chain the entries of one customer: each
// entry carries the hash of the one before it, so an edited or deleted entry
// breaks the chain at that point.
type AuditEntry struct {
	Seq          int64             `json:"seq"`
	At           time.Time         `json:"at"`
	Actor        Actor             `json:"actor"`
	Action       string            `json:"action"`
	OrderID      string            `json:"orderId,omitempty"`
	SubmissionID string            `json:"submissionId,omitempty"`
	DocumentID   string            `json:"documentId,omitempty"`
	From         string            `json:"from,omitempty"`
	To           string            `json:"to,omitempty"`
	Detail       map[string]string `json:"detail,omitempty"`
	Prev         string            `json:"prev"`
	Hash         string            `json:"hash"`
}

// AuditHead is the end of a customer's audit chain: the last entry's sequence
// number and hash. It lives in the customer record, so appending to the chain
// is part of the customer's conditional write.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// hash returns the hash of an entry: SHA-256 over the canonical JSON of the
// entry with its Hash field empty (Prev included, which links the chain).
func (e AuditEntry) hash() string {
	e.Hash = ""
	e.At = e.At.UTC()
	b, err := json.Marshal(e) // struct fields in order, map keys sorted: canonical
	if err != nil {
		panic("audit entry cannot be encoded: " + err.Error()) // only strings and times: cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Chain appends entries after head, filling in Seq, Prev and Hash, and
// returns the new head.
func (h AuditHead) Chain(entries []AuditEntry) (AuditHead, []AuditEntry) {
	out := make([]AuditEntry, len(entries))
	for i, e := range entries {
		e.Seq, e.Prev, e.At = h.Seq+1, h.Hash, e.At.UTC()
		e.Hash = e.hash()
		h = AuditHead{Seq: e.Seq, Hash: e.Hash}
		out[i] = e
	}
	return h, out
}

// HeadOf returns the head of a chain that ends with e.
func (e AuditEntry) HeadOf() AuditHead { return AuditHead{Seq: e.Seq, Hash: e.Hash} }

// ChainReport is the result of checking an audit chain.
type ChainReport struct {
	OK      bool   `json:"ok"`
	Entries int    `json:"entries"`
	Head    int64  `json:"head"`
	Broken  int64  `json:"brokenAt,omitempty"` // the sequence number of the first bad link
	Problem string `json:"problem,omitempty"`
}

// VerifyChain recomputes a customer's chain, entries in sequence order, and
// checks it ends at head. It names the first broken link: an entry whose hash
// does not match its content (edited), whose Prev is not the hash before it,
// or a sequence number that skips (deleted); an end short of head means the
// newest entries were deleted.
func VerifyChain(entries []AuditEntry, head AuditHead) ChainReport {
	r := ChainReport{Entries: len(entries), Head: head.Seq}
	prev := AuditHead{}
	for _, e := range entries {
		switch {
		case e.Seq != prev.Seq+1:
			r.Broken, r.Problem = prev.Seq+1, "entry missing"
			return r
		case e.Prev != prev.Hash:
			r.Broken, r.Problem = e.Seq, "does not link to the entry before it"
			return r
		case e.hash() != e.Hash:
			r.Broken, r.Problem = e.Seq, "content does not match its hash"
			return r
		}
		prev = AuditHead{Seq: e.Seq, Hash: e.Hash}
	}
	if prev != head {
		r.Broken, r.Problem = prev.Seq+1, "chain ends before the recorded head"
		return r
	}
	r.OK = true
	return r
}
