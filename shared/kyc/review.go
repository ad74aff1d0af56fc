package kyc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// QueueItem is a submission waiting for review.
type QueueItem struct {
	SubmissionID string    `json:"submissionId"`
	CustomerID   string    `json:"customerId"`
	SubmittedAt  time.Time `json:"submittedAt"`
	AgeSeconds   int64     `json:"ageSeconds"`
	ClaimedBy    string    `json:"claimedBy,omitempty"`
	Version      int       `json:"version"`
}

// MaxQueue bounds one page of the review queue.
const MaxQueue = 100

// Queue returns the submissions waiting for review, oldest first, with age.
func (s *Service) Queue(ctx context.Context, limit int) ([]QueueItem, error) {
	if limit <= 0 || limit > MaxQueue {
		limit = MaxQueue
	}
	subs, err := s.store.PendingSubmissions(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("pending submissions: %w", err)
	}
	now := s.now()
	out := make([]QueueItem, 0, len(subs))
	for _, sub := range subs {
		out = append(out, QueueItem{SubmissionID: sub.ID, CustomerID: sub.CustomerID, SubmittedAt: sub.SubmittedAt,
			AgeSeconds: int64(now.Sub(sub.SubmittedAt) / time.Second), ClaimedBy: sub.ClaimedBy, Version: sub.Version})
	}
	return out, nil
}

func (s *Service) submission(ctx context.Context, id string) (Submission, error) {
	if !ValidID(id) {
		return Submission{}, NotFound("submission_not_found", "no submission %s", id)
	}
	sub, err := s.store.Submission(ctx, id)
	if errors.Is(err, ErrNotExist) {
		return Submission{}, NotFound("submission_not_found", "no submission %s", id)
	}
	if err != nil {
		return Submission{}, fmt.Errorf("load submission: %w", err)
	}
	return sub, nil
}

// Claim assigns a pending submission to the reviewer. Nobody claims a
// submission of their own customer account.
func (s *Service) Claim(ctx context.Context, reviewer Actor, id string) (QueueItem, error) {
	var item QueueItem
	err := retry(ctx, func() error {
		sub, err := s.submission(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		claimed, err := sub.Claim(reviewer, now)
		if err != nil {
			return err
		}
		c, err := s.customer(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		ch := c.record(reviewer, now, AuditEntry{Action: "submission.claimed", SubmissionID: id})
		if err := s.commit(ctx, Work{Submission: &claimed, SubmissionVersion: sub.Version}, ch, now); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		item = QueueItem{SubmissionID: id, CustomerID: sub.CustomerID, SubmittedAt: sub.SubmittedAt,
			AgeSeconds: int64(now.Sub(sub.SubmittedAt) / time.Second), ClaimedBy: reviewer.ID, Version: claimed.Version}
		return nil
	})
	return item, err
}

// ReviewDocument is a document of a submission as a reviewer sees it.
type ReviewDocument struct {
	DocumentView
	// FileName is the customer's file name (personal data).
	FileName string `json:"fileName,omitempty"`
	// Open is the path that opens the document (GET: the opening is audited,
	// then answered with a redirect to a short-lived link), given only to
	// whoever may open it.
	Open string `json:"open,omitempty"`
	// Opened says the caller has opened this document of the submission:
	// approving it needs that.
	Opened bool `json:"opened,omitempty"`
}

// SubmissionView is a submission as a reviewer sees it
// (GET /v1/admin/submissions/{id}).
type SubmissionView struct {
	SubmissionID   string           `json:"submissionId"`
	CustomerID     string           `json:"customerId"`
	Status         SubmissionStatus `json:"status"`
	Version        int              `json:"version"`
	SubmittedAt    time.Time        `json:"submittedAt"`
	AgeSeconds     int64            `json:"ageSeconds"`
	ClaimedBy      string           `json:"claimedBy,omitempty"`
	Identity       ReviewDocument   `json:"identity"`
	Address        ReviewDocument   `json:"address"`
	CustomerStatus Status           `json:"customerStatus"`
	OpenHolds      []HoldView       `json:"openHolds"`
	DecidedAt      time.Time        `json:"decidedAt,omitzero"`
	DecidedBy      string           `json:"decidedBy,omitempty"`
	// Personal data, opened only for the reviewer holding the claim on a
	// pending submission or an admin who gave a purpose (audited).
	CustomerMessage string     `json:"customerMessage,omitempty"`
	Note            string     `json:"note,omitempty"`
	Extracted       *Extracted `json:"extracted,omitempty"`
	// Withheld says why the personal data and the documents are not shown.
	Withheld string `json:"withheld,omitempty"`
	// Shredded says the customer's data key was deleted: sealed fields
	// (file names, message, note, extracted fields) are gone for good.
	Shredded bool `json:"shredded,omitempty"`
}

// PurposeReview is the audited purpose of a claimer opening the personal data
// of the submission under review.
const PurposeReview = "review"

// access is what a staff member may see of a submission's personal data.
type access struct {
	purpose string // the audited purpose; "" when withheld
	refused error  // why not (Forbidden), when withheld
}

// personalAccess decides whether staff may open a submission's personal data
// (sealed fields, file names, documents): the reviewer holding the claim on
// a pending submission, for the review; an admin, for a purpose they give
// (any submission). Nobody opens their own account's. A purpose that cannot
// be accepted is an error; any other refusal is access.refused.
func personalAccess(staff Actor, sub Submission, purpose string) (access, error) {
	purpose = strings.TrimSpace(purpose)
	own := ownAccount(staff, sub.CustomerID)
	if purpose != "" {
		switch {
		case staff.Kind != ActorAdmin:
			return access{}, Forbidden("admin_only", "only an admin may open personal data for a purpose")
		case utf8.RuneCountInString(purpose) > maxAuthority || strings.ContainsFunc(purpose, unicode.IsControl):
			return access{}, Invalid("invalid_purpose", "purpose must be at most %d characters of text", maxAuthority)
		case own != nil:
			return access{}, own
		}
		return access{purpose: purpose}, nil
	}
	switch {
	case own != nil:
		return access{refused: own}, nil
	case sub.Status != SubPending:
		return access{refused: Forbidden("purpose_required", "submission %s is decided: an admin may open it for a stated purpose", sub.ID)}, nil
	case sub.ClaimedBy != staff.ID:
		return access{refused: Forbidden("claim_required", "claim submission %s to see its personal data and documents", sub.ID)}, nil
	}
	return access{purpose: PurposeReview}, nil
}

// ViewSubmission returns a submission with its documents. Its personal data
// (the customer's file names, the reviewer's message, note and extracted
// fields) and the paths that open its documents are given only to the
// reviewer holding the claim on a pending submission, or to an admin who
// states a purpose; each such view is written to the audit trail (who, which
// fields, why) before anything is opened. Anyone else on the staff sees the
// status, dates and decisions, and why the rest is withheld.
func (s *Service) ViewSubmission(ctx context.Context, staff Actor, id, purpose string) (SubmissionView, error) {
	sub, err := s.submission(ctx, id)
	if err != nil {
		return SubmissionView{}, err
	}
	acc, err := personalAccess(staff, sub, purpose)
	if err != nil {
		return SubmissionView{}, err
	}
	now := s.now()
	v := SubmissionView{SubmissionID: sub.ID, CustomerID: sub.CustomerID, Status: sub.Status, Version: sub.Version,
		SubmittedAt: sub.SubmittedAt, AgeSeconds: int64(now.Sub(sub.SubmittedAt) / time.Second), ClaimedBy: sub.ClaimedBy,
		DecidedAt: sub.DecidedAt, DecidedBy: sub.DecidedBy, OpenHolds: []HoldView{}}
	var docs []Document
	err = retry(ctx, func() error {
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		if docs, err = submissionDocuments(a, sub); err != nil {
			return err
		}
		for i, dst := range []*ReviewDocument{&v.Identity, &v.Address} {
			dst.DocumentView = viewDocument(docs[i])
		}
		v.CustomerStatus = c.StatusAt(now)
		v.OpenHolds = v.OpenHolds[:0]
		for _, h := range c.Holds {
			v.OpenHolds = append(v.OpenHolds, viewHold(h))
		}
		if acc.refused != nil {
			var e *Error
			errors.As(acc.refused, &e)
			v.Withheld = e.Message
			return nil
		}
		entry := AuditEntry{Action: "personal_data.opened", SubmissionID: sub.ID,
			Detail: map[string]string{"purpose": acc.purpose, "fields": strings.Join(sealedFields(sub, docs), ",")}}
		return s.commit(ctx, Work{}, c.record(staff, now, entry), now)
	})
	if err != nil || acc.refused != nil {
		return v, err
	}
	var opened map[string]bool
	if acc.purpose == PurposeReview {
		if opened, err = s.openedBy(ctx, sub, staff); err != nil {
			return SubmissionView{}, err
		}
	}
	for i, dst := range []*ReviewDocument{&v.Identity, &v.Address} {
		name, err := s.openSealed(ctx, sub.CustomerID, docs[i].FileName, &v.Shredded)
		if err != nil {
			return SubmissionView{}, fmt.Errorf("open file name: %w", err)
		}
		dst.FileName = string(name)
		if docs[i].State != DocPurged {
			dst.Open = documentPath(sub.ID, docs[i].Category, acc.purpose)
		}
		dst.Opened = opened[docs[i].ID]
	}
	if err := s.openDecisionFields(ctx, sub, &v); err != nil {
		return SubmissionView{}, err
	}
	return v, nil
}

// sealedFields names the personal fields a view of sub opens.
func sealedFields(sub Submission, docs []Document) []string {
	var out []string
	for _, d := range docs {
		if d.FileName != nil {
			out = append(out, "fileName:"+string(d.Category))
		}
	}
	for _, f := range []struct {
		name string
		v    *Sealed
	}{{"customerMessage", sub.Message}, {"note", sub.Note}, {"extracted", sub.Extracted}} {
		if f.v != nil {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		out = append(out, "none")
	}
	return out
}

// documentPath is the API path that opens a document of a submission.
func documentPath(submissionID string, cat Category, purpose string) string {
	p := "/v1/admin/submissions/" + submissionID + "/documents/" + string(cat)
	if purpose != PurposeReview {
		p += "?purpose=" + url.QueryEscape(purpose)
	}
	return p
}

// OpenDocument opens one document of a submission (its category's) for a
// staff member allowed to see the submission's personal data (see
// ViewSubmission): the opening is written to the audit trail (who, which
// document, which copy, why) and only then is a link returned. The link
// lives at most Config.LinkTTL and shows the reviewed copy: the re-encoded
// image, or the checked PDF, inline as its validated type. Issuing the link
// is the opening: an approval needs the deciding reviewer to have opened
// each document it approves.
func (s *Service) OpenDocument(ctx context.Context, staff Actor, id string, cat Category, purpose string) (Link, error) {
	if cat != Identity && cat != Address {
		return Link{}, NotFound("document_not_found", "a submission has an identity and an address document")
	}
	sub, err := s.submission(ctx, id)
	if err != nil {
		return Link{}, err
	}
	acc, err := personalAccess(staff, sub, purpose)
	if err != nil {
		return Link{}, err
	}
	if acc.refused != nil {
		return Link{}, acc.refused
	}
	var link Link
	err = retry(ctx, func() error {
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		docs, err := submissionDocuments(a, sub)
		if err != nil {
			return err
		}
		d := docs[0]
		if cat == Address {
			d = docs[1]
		}
		if d.State == DocPurged {
			return Conflict("document_purged", "the %s document of submission %s was deleted under the retention policy", cat, id)
		}
		now := s.now()
		if link, err = s.files.PresignView(ctx, d, s.cfg.LinkTTL); err != nil {
			return fmt.Errorf("presign view: %w", err)
		}
		copied := "original"
		if d.Reviewed != nil {
			copied = "reviewed"
		}
		entry := AuditEntry{Action: "document.opened", SubmissionID: sub.ID, DocumentID: d.ID, Detail: map[string]string{
			"category": string(cat), "copy": copied, "purpose": acc.purpose, "linkTTL": s.cfg.LinkTTL.String()}}
		return s.commit(ctx, Work{}, c.record(staff, now, entry), now)
	})
	if err != nil {
		return Link{}, err
	}
	return link, nil
}

// openedBy returns the documents of sub that staff has opened, by id, from
// the customer's audit trail.
func (s *Service) openedBy(ctx context.Context, sub Submission, staff Actor) (map[string]bool, error) {
	trail, err := s.store.Audit(ctx, sub.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	opened := map[string]bool{}
	for _, e := range trail {
		if e.Action == "document.opened" && e.SubmissionID == sub.ID && e.Actor.ID == staff.ID {
			opened[e.DocumentID] = true
		}
	}
	return opened, nil
}

// checkOpened refuses an approval of a document the deciding reviewer has
// not opened (the audit trail shows every opening).
func (s *Service) checkOpened(ctx context.Context, sub Submission, reviewer Actor, in DecisionInput) error {
	approved := in.Approved()
	if len(approved) == 0 {
		return nil
	}
	opened, err := s.openedBy(ctx, sub, reviewer)
	if err != nil {
		return err
	}
	var missing []string
	for _, cat := range approved {
		id := sub.IdentityDocumentID
		if cat == Address {
			id = sub.AddressDocumentID
		}
		if !opened[id] {
			missing = append(missing, string(cat))
		}
	}
	if len(missing) > 0 {
		return Conflict("documents_not_opened", "open the %s document of submission %s before approving it", strings.Join(missing, " and the "), sub.ID)
	}
	return nil
}

// submissionDocuments finds a submission's two documents in its customer's
// account.
func submissionDocuments(a Account, sub Submission) ([]Document, error) {
	var out []Document
	for _, id := range []string{sub.IdentityDocumentID, sub.AddressDocumentID} {
		d, ok := a.Document(id)
		if !ok {
			return nil, fmt.Errorf("submission %s: document %s has no record", sub.ID, id)
		}
		out = append(out, d)
	}
	return out, nil
}

// openSealed opens a sealed field; nil opens to nothing, and a shredded key
// to nothing with *shredded set.
func (s *Service) openSealed(ctx context.Context, customerID string, sealed *Sealed, shredded *bool) ([]byte, error) {
	if sealed == nil {
		return nil, nil
	}
	b, err := s.sealer.Open(ctx, customerID, *sealed)
	if errors.Is(err, ErrShredded) {
		*shredded = true
		return nil, nil
	}
	return b, err
}

func (s *Service) openDecisionFields(ctx context.Context, sub Submission, v *SubmissionView) error {
	msg, err := s.openSealed(ctx, sub.CustomerID, sub.Message, &v.Shredded)
	if err != nil {
		return fmt.Errorf("open message: %w", err)
	}
	v.CustomerMessage = string(msg)
	note, err := s.openSealed(ctx, sub.CustomerID, sub.Note, &v.Shredded)
	if err != nil {
		return fmt.Errorf("open note: %w", err)
	}
	v.Note = string(note)
	if b, err := s.openSealed(ctx, sub.CustomerID, sub.Extracted, &v.Shredded); err != nil {
		return fmt.Errorf("open extracted fields: %w", err)
	} else if b != nil {
		v.Extracted = new(Extracted)
		if err := json.Unmarshal(b, v.Extracted); err != nil {
			return fmt.Errorf("decode extracted fields: %w", err)
		}
	}
	return nil
}

// DecisionResult is the answer to a decision.
type DecisionResult struct {
	SubmissionID   string           `json:"submissionId"`
	Status         SubmissionStatus `json:"status"`
	Version        int              `json:"version"`
	CustomerStatus Status           `json:"customerStatus"`
	ExpiresAt      time.Time        `json:"expiresAt,omitzero"`
	Holds          []HoldView       `json:"holds"`
}

// Decide records a reviewer's decision on a submission and applies it to the
// customer and every open hold, all in one write. The approval time of the
// policy is the server clock when that write commits. Of two decisions racing
// on one submission exactly one wins; the other gets a conflict. A document
// is approved only by a reviewer who has opened it (OpenDocument); nobody
// decides a submission of their own account. The message to the customer,
// the note and the extracted fields are sealed before they are stored.
func (s *Service) Decide(ctx context.Context, reviewer Actor, id string, in DecisionInput) (DecisionResult, error) {
	if err := in.Validate(); err != nil {
		return DecisionResult{}, err
	}
	read, err := s.submission(ctx, id)
	if err != nil {
		return DecisionResult{}, err
	}
	if _, err := read.Decide(reviewer, in, s.now()); err != nil {
		return DecisionResult{}, err // refuse before sealing anything
	}
	if err := s.checkOpened(ctx, read, reviewer, in); err != nil {
		return DecisionResult{}, err
	}
	sealed, err := s.sealDecision(ctx, read.CustomerID, in)
	if err != nil {
		return DecisionResult{}, err
	}
	var res DecisionResult
	attempt := 0
	err = retry(ctx, func() error {
		sub := read // the first attempt decides on the submission read above
		if attempt++; attempt > 1 {
			var err error
			if sub, err = s.submission(ctx, id); err != nil {
				return err
			}
		}
		now := s.now()
		decided, err := sub.Decide(reviewer, in, now)
		if err != nil {
			return err
		}
		decided.Message, decided.Note, decided.Extracted, decided.DocNumberHash = sealed.message, sealed.note, sealed.extracted, sealed.docHash
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		docs, err := submissionDocuments(a, decided)
		if err != nil {
			return err
		}
		ch, err := c.Decide(decided, reviewer, now)
		if err != nil {
			return err
		}
		detail := map[string]string{"identity": string(decided.Identity.Result), "address": string(decided.Address.Result)}
		if reasons := decided.Reasons(); len(reasons) > 0 {
			b, _ := json.Marshal(reasons)
			detail["reasons"] = string(b)
		}
		if in.Note != "" {
			detail["note"] = "sealed"
		}
		if in.CustomerMessage != "" {
			detail["customerMessage"] = "sealed"
		}
		ch.Audit = slices.Insert(ch.Audit, 0, AuditEntry{At: now, Actor: reviewer, Action: "submission.decided",
			SubmissionID: id, From: string(SubPending), To: string(decided.Status), Detail: detail})
		var updates []DocumentUpdate
		for i, dd := range []*DocDecision{decided.Identity, decided.Address} {
			doc := docs[i]
			doc.Decision = dd
			doc.PurgeAt = s.cfg.Retention.purgeAtDecision(decided, ch.Customer)
			updates = append(updates, DocumentUpdate{Document: doc, Expect: doc.State})
		}
		if err := s.commit(ctx, Work{Submission: &decided, SubmissionVersion: sub.Version, Documents: updates}, ch, now); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
		res = DecisionResult{SubmissionID: id, Status: decided.Status, Version: decided.Version,
			CustomerStatus: ch.Customer.StatusAt(now), ExpiresAt: ch.Customer.ExpiresAt, Holds: []HoldView{}}
		for _, h := range append(slices.Clone(ch.Customer.Holds), ch.Closed...) {
			res.Holds = append(res.Holds, viewHold(h))
		}
		return nil
	})
	return res, err
}

type sealedDecision struct {
	message, note, extracted *Sealed
	docHash                  string
}

func (s *Service) sealDecision(ctx context.Context, customerID string, in DecisionInput) (sealedDecision, error) {
	var out sealedDecision
	if in.CustomerMessage != "" {
		m, err := s.sealer.Seal(ctx, customerID, []byte(in.CustomerMessage))
		if err != nil {
			return out, fmt.Errorf("seal message: %w", err)
		}
		out.message = &m
	}
	if in.Note != "" {
		n, err := s.sealer.Seal(ctx, customerID, []byte(in.Note))
		if err != nil {
			return out, fmt.Errorf("seal note: %w", err)
		}
		out.note = &n
	}
	if in.Extracted != nil && *in.Extracted != (Extracted{}) {
		b, err := json.Marshal(in.Extracted)
		if err != nil {
			return out, fmt.Errorf("encode extracted fields: %w", err)
		}
		e, err := s.sealer.Seal(ctx, customerID, b)
		if err != nil {
			return out, fmt.Errorf("seal extracted fields: %w", err)
		}
		out.extracted = &e
		if in.Extracted.DocumentNumber != "" {
			if out.docHash, err = s.sealer.Fingerprint(ctx, in.Extracted.DocumentNumber); err != nil {
				return out, fmt.Errorf("fingerprint document number: %w", err)
			}
		}
	}
	return out, nil
}

// CustomerAdminView is a customer as staff see it (GET /v1/admin/customers/{id}).
type CustomerAdminView struct {
	StatusView
	LegalHold bool `json:"legalHold"`
	// LegalHoldLift is a request to lift the legal hold waiting for a second
	// admin.
	LegalHoldLift *LegalHoldLift `json:"legalHoldLift,omitempty"`
	Audit         []AuditEntry   `json:"audit"`
}

// CustomerView returns a customer's KYC status, documents, holds and audit
// trail. A customer never seen is not found.
func (s *Service) CustomerView(ctx context.Context, customerID string) (CustomerAdminView, error) {
	if !ValidID(customerID) {
		return CustomerAdminView{}, NotFound("customer_not_found", "no customer %s", customerID)
	}
	a, err := s.store.Account(ctx, customerID)
	if err != nil {
		return CustomerAdminView{}, fmt.Errorf("load customer: %w", err)
	}
	if a.Customer == nil {
		return CustomerAdminView{}, NotFound("customer_not_found", "no customer %s", customerID)
	}
	trail, err := s.store.Audit(ctx, customerID)
	if err != nil {
		return CustomerAdminView{}, fmt.Errorf("audit: %w", err)
	}
	if trail == nil {
		trail = []AuditEntry{}
	}
	return CustomerAdminView{StatusView: statusView(*a.Customer, a, s.now()), LegalHold: a.Customer.LegalHold,
		LegalHoldLift: a.Customer.LegalHoldLift, Audit: trail}, nil
}

// HistoryItem is one audited step of an order.
type HistoryItem struct {
	At     time.Time         `json:"at"`
	Action string            `json:"action"`
	Actor  Actor             `json:"actor"`
	From   string            `json:"from,omitempty"`
	To     string            `json:"to,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// OrderView is an order as staff see it (GET /v1/admin/orders/{id}).
type OrderView struct {
	OrderID     string        `json:"orderId"`
	CustomerID  string        `json:"customerId"`
	ServiceID   string        `json:"serviceId"`
	ProductID   string        `json:"productId"`
	State       HoldState     `json:"state"`
	OrderedAt   time.Time     `json:"orderedAt"`
	Deadline    *time.Time    `json:"deadline"`
	NextDueDate Date          `json:"nextDueDate,omitzero"`
	Rendered    bool          `json:"rendered"`
	Extension   *Extension    `json:"extension,omitempty"`
	History     []HistoryItem `json:"history"`

	// The server region, its time zone (times shown to the customer are in
	// it, UTC beside), and when the gate received the order.
	ServerRegion string    `json:"serverRegion,omitempty"`
	TimeZone     string    `json:"timeZone,omitempty"`
	ReceivedAt   time.Time `json:"receivedAt,omitzero"`
}

// OrderView returns an order's hold and its history.
func (s *Service) OrderView(ctx context.Context, orderID string) (OrderView, error) {
	if !ValidID(orderID) {
		return OrderView{}, NotFound("order_not_found", "no order %s", orderID)
	}
	owner, err := s.store.OrderOwner(ctx, orderID)
	if errors.Is(err, ErrNotExist) {
		return OrderView{}, NotFound("order_not_found", "no order %s", orderID)
	}
	if err != nil {
		return OrderView{}, fmt.Errorf("order owner: %w", err)
	}
	h, err := s.hold(ctx, owner, orderID)
	if err != nil {
		return OrderView{}, err
	}
	trail, err := s.store.Audit(ctx, owner)
	if err != nil {
		return OrderView{}, fmt.Errorf("audit: %w", err)
	}
	v := OrderView{OrderID: h.OrderID, CustomerID: h.CustomerID, ServiceID: h.ServiceID, ProductID: h.ProductID,
		State: h.State, OrderedAt: h.OrderedAt, NextDueDate: h.NextDueDate, Rendered: h.Rendered, Extension: h.Extension,
		ServerRegion: h.ServerRegion, TimeZone: h.TimeZone, ReceivedAt: h.ReceivedAt, History: []HistoryItem{}}
	if !h.Deadline.IsZero() {
		v.Deadline = ptr(h.Deadline)
	}
	for _, e := range trail {
		if e.OrderID == orderID {
			v.History = append(v.History, HistoryItem{At: e.At, Action: e.Action, Actor: e.Actor, From: e.From, To: e.To, Detail: e.Detail})
		}
	}
	return v, nil
}
