package kyc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
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

// Claim assigns a pending submission to the reviewer.
func (s *Service) Claim(ctx context.Context, reviewer Actor, id string) (QueueItem, error) {
	var item QueueItem
	err := retry(ctx, func() error {
		sub, err := s.submission(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		claimed, err := sub.Claim(reviewer.ID, now)
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
	FileName string `json:"fileName,omitempty"`
	Link     *Link  `json:"link,omitempty"`
}

// SubmissionView is a submission as a reviewer sees it
// (GET /v1/admin/submissions/{id}).
type SubmissionView struct {
	SubmissionID    string           `json:"submissionId"`
	CustomerID      string           `json:"customerId"`
	Status          SubmissionStatus `json:"status"`
	Version         int              `json:"version"`
	SubmittedAt     time.Time        `json:"submittedAt"`
	AgeSeconds      int64            `json:"ageSeconds"`
	ClaimedBy       string           `json:"claimedBy,omitempty"`
	Identity        ReviewDocument   `json:"identity"`
	Address         ReviewDocument   `json:"address"`
	CustomerStatus  Status           `json:"customerStatus"`
	OpenHolds       []HoldView       `json:"openHolds"`
	CustomerMessage string           `json:"customerMessage,omitempty"`
	Note            string           `json:"note,omitempty"`
	Extracted       *Extracted       `json:"extracted,omitempty"`
	DecidedAt       time.Time        `json:"decidedAt,omitzero"`
	DecidedBy       string           `json:"decidedBy,omitempty"`
	// LinksWithheld explains why no download links were issued.
	LinksWithheld string `json:"linksWithheld,omitempty"`
	// Shredded says the customer's data key was deleted: sealed fields
	// (file names, note, extracted fields) are gone for good.
	Shredded bool `json:"shredded,omitempty"`
}

// ViewSubmission returns a submission with its documents. Download links
// (short-lived, attachment only) are issued only to the reviewer holding the
// claim on a pending submission, and every issue is written to the audit
// trail before the links are returned.
func (s *Service) ViewSubmission(ctx context.Context, reviewer Actor, id string) (SubmissionView, error) {
	sub, err := s.submission(ctx, id)
	if err != nil {
		return SubmissionView{}, err
	}
	now := s.now()
	v := SubmissionView{SubmissionID: sub.ID, CustomerID: sub.CustomerID, Status: sub.Status, Version: sub.Version,
		SubmittedAt: sub.SubmittedAt, AgeSeconds: int64(now.Sub(sub.SubmittedAt) / time.Second), ClaimedBy: sub.ClaimedBy,
		CustomerMessage: sub.CustomerMessage, DecidedAt: sub.DecidedAt, DecidedBy: sub.DecidedBy, OpenHolds: []HoldView{}}
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
			dst.DocumentView, dst.Link = viewDocument(docs[i]), nil
		}
		v.CustomerStatus = c.StatusAt(now)
		v.OpenHolds = v.OpenHolds[:0]
		for _, h := range c.Holds {
			v.OpenHolds = append(v.OpenHolds, viewHold(h))
		}
		switch {
		case sub.Status != SubPending:
			v.LinksWithheld = "the submission is decided"
			return nil
		case sub.ClaimedBy != reviewer.ID:
			v.LinksWithheld = "claim the submission to see its documents"
			return nil
		}
		var entries []AuditEntry
		for i, dst := range []*ReviewDocument{&v.Identity, &v.Address} {
			link, err := s.files.PresignDownload(ctx, docs[i], s.cfg.LinkTTL)
			if err != nil {
				return fmt.Errorf("presign download: %w", err)
			}
			dst.Link = &link
			entries = append(entries, AuditEntry{Action: "document.link_issued", SubmissionID: sub.ID, DocumentID: docs[i].ID,
				Detail: map[string]string{"expiresAt": link.ExpiresAt.UTC().Format(time.RFC3339)}})
		}
		return s.commit(ctx, Work{}, c.record(reviewer, now, entries...), now)
	})
	if err != nil {
		return SubmissionView{}, err
	}
	for i, dst := range []*ReviewDocument{&v.Identity, &v.Address} {
		name, err := s.openSealed(ctx, sub.CustomerID, docs[i].FileName, &v.Shredded)
		if err != nil {
			return SubmissionView{}, fmt.Errorf("open file name: %w", err)
		}
		dst.FileName = string(name)
	}
	if err := s.openDecisionFields(ctx, sub, &v); err != nil {
		return SubmissionView{}, err
	}
	return v, nil
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
// on one submission exactly one wins; the other gets a conflict.
func (s *Service) Decide(ctx context.Context, reviewer Actor, id string, in DecisionInput) (DecisionResult, error) {
	if err := in.Validate(); err != nil {
		return DecisionResult{}, err
	}
	read, err := s.submission(ctx, id)
	if err != nil {
		return DecisionResult{}, err
	}
	if _, err := read.Decide(reviewer.ID, in, s.now()); err != nil {
		return DecisionResult{}, err // refuse before sealing anything
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
		decided, err := sub.Decide(reviewer.ID, in, now)
		if err != nil {
			return err
		}
		decided.Note, decided.Extracted, decided.DocNumberHash = sealed.note, sealed.extracted, sealed.docHash
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
	note, extracted *Sealed
	docHash         string
}

func (s *Service) sealDecision(ctx context.Context, customerID string, in DecisionInput) (sealedDecision, error) {
	var out sealedDecision
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
	LegalHold bool         `json:"legalHold"`
	Audit     []AuditEntry `json:"audit"`
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
	return CustomerAdminView{StatusView: statusView(*a.Customer, a, s.now()), LegalHold: a.Customer.LegalHold, Audit: trail}, nil
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
