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
		ch := c.record(reviewer, now, withdrawn(AuditEntry{Action: "submission.claimed", SubmissionID: id}, sub, claimed))
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
	// Signals are what the gate found in what was recorded (Record), for
	// whoever may see the personal data.
	Signals *Signals `json:"signals,omitempty"`
	// ApprovalRequest is a reviewer's approval waiting for a second admin;
	// SecondApprovalBy the admin who confirmed one.
	ApprovalRequest  *ApprovalRequest `json:"approvalRequest,omitempty"`
	SecondApprovalBy string           `json:"secondApprovalBy,omitempty"`
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
		DecidedAt: sub.DecidedAt, DecidedBy: sub.DecidedBy, OpenHolds: []HoldView{},
		ApprovalRequest: sub.ApprovalRequest, SecondApprovalBy: sub.SecondApprovalBy}
	var docs []Document
	var zone *time.Location
	err = retry(ctx, func() error {
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		zone = serviceZone(c, a, s.cfg.Regions)
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
		if docs[i].State == DocValid {
			dst.Open = documentPath(sub.ID, docs[i].Category, acc.purpose)
		}
		dst.Opened = opened[docs[i].ID]
	}
	if err := s.openDecisionFields(ctx, sub, &v); err != nil {
		return SubmissionView{}, err
	}
	uses, err := s.documentUses(ctx, sub.DocNumberHash)
	if err != nil {
		return SubmissionView{}, err
	}
	sig := computeSignals(signalFacts{customerID: sub.CustomerID, recorded: v.Extracted, identityType: identityType(docs),
		uses: uses, now: now, zone: zone})
	v.Signals = &sig
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
		switch d.State {
		case DocPurged:
			return Conflict("document_purged", "the %s document of submission %s was deleted under the retention policy", cat, id)
		case DocInvalid:
			return Conflict("document_refused", "the %s document of submission %s was refused after it was submitted (%s); it cannot be opened", cat, id, d.Invalid)
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
	// Warnings are the signals of what was recorded (Signals.Warnings),
	// never blocking but for the two that bind (see Decide).
	Warnings []Warning `json:"warnings"`
	// ApprovalRequest is set when the approval waits for a second admin
	// (the submission is still pending).
	ApprovalRequest *ApprovalRequest `json:"approvalRequest,omitempty"`
	// SecondApprovalBy is the admin who confirmed the approval.
	SecondApprovalBy string `json:"secondApprovalBy,omitempty"`
}

// Decide records a reviewer's decision on a submission and applies it to the
// customer and every open hold, all in one write. The approval time of the
// policy is the server clock when that write commits. Of two decisions racing
// on one submission exactly one wins; the other gets a conflict. A document
// is approved only by a reviewer who has opened it (OpenDocument), and only
// while it is valid; nobody decides a submission of their own account. The
// message to the customer, the note and the extracted fields are sealed
// before they are stored; fields the decision does not carry stay as
// recorded (Record).
//
// The signals of what was recorded (Signals) come back as warnings. Two of
// them bind: an identity document that expired before today cannot be
// approved (422 document_expired; reject it with expired_document), and an
// approval of both documents whose identity document was verified on
// another customer's account is not committed: it waits for a second admin
// (ApprovalRequest, see SecondApproval) and the submission stays pending.
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
	// The signals come from the fields this decision records, else from
	// those recorded before it.
	recorded, hash := in.Extracted, sealed.docHash
	if !sealed.records {
		if recorded, err = s.recordedFields(ctx, read); err != nil {
			return DecisionResult{}, err
		}
		hash = read.DocNumberHash
	}
	uses, err := s.documentUses(ctx, hash)
	if err != nil {
		return DecisionResult{}, err
	}
	var res DecisionResult
	err = s.retrySubmission(ctx, read, func(sub Submission) error {
		now := s.now()
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		docs, err := submissionDocuments(a, sub)
		if err != nil {
			return err
		}
		sig := computeSignals(signalFacts{customerID: sub.CustomerID, recorded: recorded, identityType: identityType(docs),
			uses: uses, now: now, zone: serviceZone(c, a, s.cfg.Regions)})
		if err := approvable(sub, docs, in.Approved(), sig); err != nil {
			return err
		}
		withFields := func(x Submission) Submission {
			x.Message, x.Note = sealed.message, sealed.note
			if sealed.records {
				x.Extracted, x.DocNumberHash = sealed.extracted, sealed.docHash
			}
			return x
		}
		if len(in.Approved()) == 2 && sig.SecondApprovalRequired {
			others := sig.verifiedElsewhere()
			requested, err := sub.requestApproval(reviewer, in, WarnSameDocumentVerified, others, now)
			if err != nil {
				return err
			}
			requested = withFields(requested)
			ch := c.record(reviewer, now, AuditEntry{Action: "submission.approval_requested", SubmissionID: id, Detail: map[string]string{
				"why": WarnSameDocumentVerified, "customers": strings.Join(others, ","), "warnings": sig.warningCodes()}})
			if err := s.commit(ctx, Work{Submission: &requested, SubmissionVersion: sub.Version}, ch, now); err != nil {
				return fmt.Errorf("request approval: %w", err)
			}
			res = DecisionResult{SubmissionID: id, Status: requested.Status, Version: requested.Version, CustomerStatus: c.StatusAt(now),
				Holds: []HoldView{}, Warnings: sig.Warnings, ApprovalRequest: requested.ApprovalRequest}
			for _, h := range c.Holds {
				res.Holds = append(res.Holds, viewHold(h))
			}
			return nil
		}
		decided, err := sub.Decide(reviewer, in, now)
		if err != nil {
			return err
		}
		decided = withFields(decided)
		detail := map[string]string{}
		if in.Note != "" {
			detail["note"] = "sealed"
		}
		if in.CustomerMessage != "" {
			detail["customerMessage"] = "sealed"
		}
		if codes := sig.warningCodes(); codes != "" {
			detail["warnings"] = codes
		}
		if res, err = s.commitDecision(ctx, sub, decided, reviewer, c, docs, detail, now); err != nil {
			return err
		}
		res.Warnings = sig.Warnings
		return nil
	})
	return res, err
}

// approvable refuses approving a document that is no longer valid (the
// malware scan refused it after it was submitted) and an identity document
// that has expired.
func approvable(sub Submission, docs []Document, approved []Category, sig Signals) error {
	for _, cat := range approved {
		d := docs[0]
		if cat == Address {
			d = docs[1]
		}
		if d.State != DocValid {
			return Conflict("document_not_valid", "the %s document of submission %s is %s; it cannot be approved", cat, sub.ID, d.State)
		}
		if cat == Identity && sig.DocumentExpired {
			return Invalid("document_expired", "the identity document of submission %s expired before today (%s, %s); reject it with %s",
				sub.ID, sig.Today, sig.TimeZone, ReasonExpiredDocument)
		}
	}
	return nil
}

// commitDecision applies a decided submission to its customer and every open
// hold, and writes it with its documents' decisions and the audit trail, in
// one write (the submission's stored version must still be read.Version).
func (s *Service) commitDecision(ctx context.Context, read, decided Submission, by Actor, c Customer, docs []Document, detail map[string]string, now time.Time) (DecisionResult, error) {
	ch, err := c.Decide(decided, by, now)
	if err != nil {
		return DecisionResult{}, err
	}
	detail["identity"], detail["address"] = string(decided.Identity.Result), string(decided.Address.Result)
	if reasons := decided.Reasons(); len(reasons) > 0 {
		b, _ := json.Marshal(reasons)
		detail["reasons"] = string(b)
	}
	ch.Audit = slices.Insert(ch.Audit, 0, AuditEntry{At: now, Actor: by, Action: "submission.decided",
		SubmissionID: decided.ID, From: string(SubPending), To: string(decided.Status), Detail: detail})
	var updates []DocumentUpdate
	for i, dd := range []*DocDecision{decided.Identity, decided.Address} {
		doc := docs[i]
		doc.Decision = dd
		doc.PurgeAt = s.cfg.Retention.purgeAtDecision(decided, ch.Customer)
		updates = append(updates, DocumentUpdate{Document: doc, Expect: doc.State})
	}
	if err := s.commit(ctx, Work{Submission: &decided, SubmissionVersion: read.Version, Documents: updates}, ch, now); err != nil {
		return DecisionResult{}, fmt.Errorf("decide: %w", err)
	}
	res := DecisionResult{SubmissionID: decided.ID, Status: decided.Status, Version: decided.Version,
		CustomerStatus: ch.Customer.StatusAt(now), ExpiresAt: ch.Customer.ExpiresAt, Holds: []HoldView{}, Warnings: []Warning{},
		SecondApprovalBy: decided.SecondApprovalBy}
	for _, h := range append(slices.Clone(ch.Customer.Holds), ch.Closed...) {
		res.Holds = append(res.Holds, viewHold(h))
	}
	return res, nil
}

// SecondApprovalInput is an admin's answer to an approval waiting for a
// second admin, made on the submission's version.
type SecondApprovalInput struct {
	Approve bool `json:"approve"`
	Version int  `json:"version"`
}

// SecondApproval is a second admin's answer to a reviewer's approval that
// waits for one (Decide: the identity document was verified on another
// account). Approving commits the reviewer's approval now (the approval time
// of the policy), with the admin recorded beside the reviewer; the admin must
// have opened the identity document (OpenDocument, with a purpose), and the
// signals are judged again (an identity document expired meanwhile is
// refused). Declining withdraws the request; the submission waits for the
// reviewer again. The requester, the customer and anyone who is not an admin
// cannot answer. Every answer is audited.
func (s *Service) SecondApproval(ctx context.Context, admin Actor, id string, in SecondApprovalInput) (DecisionResult, error) {
	if in.Version < 1 {
		return DecisionResult{}, Invalid("version_required", "version must be the submission's version from GET")
	}
	read, err := s.submission(ctx, id)
	if err != nil {
		return DecisionResult{}, err
	}
	if _, err := read.secondApproval(admin, in.Version, in.Approve, s.now()); err != nil {
		return DecisionResult{}, err
	}
	var recorded *Extracted
	var uses []Submission
	if in.Approve {
		opened, err := s.openedBy(ctx, read, admin)
		if err != nil {
			return DecisionResult{}, err
		}
		if !opened[read.IdentityDocumentID] {
			return DecisionResult{}, Conflict("documents_not_opened", "open the identity document of submission %s before approving it", id)
		}
		if recorded, err = s.recordedFields(ctx, read); err != nil {
			return DecisionResult{}, err
		}
		if uses, err = s.documentUses(ctx, read.DocNumberHash); err != nil {
			return DecisionResult{}, err
		}
	}
	var res DecisionResult
	err = s.retrySubmission(ctx, read, func(sub Submission) error {
		now := s.now()
		requested := sub.ApprovalRequest
		answered, err := sub.secondApproval(admin, in.Version, in.Approve, now)
		if err != nil {
			return err
		}
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		if !in.Approve {
			ch := c.record(admin, now, AuditEntry{Action: "submission.approval_declined", SubmissionID: id,
				Detail: map[string]string{"requestedBy": requested.RequestedBy}})
			if err := s.commit(ctx, Work{Submission: &answered, SubmissionVersion: sub.Version}, ch, now); err != nil {
				return fmt.Errorf("decline approval: %w", err)
			}
			res = DecisionResult{SubmissionID: id, Status: answered.Status, Version: answered.Version, CustomerStatus: c.StatusAt(now),
				Holds: []HoldView{}, Warnings: []Warning{}}
			for _, h := range c.Holds {
				res.Holds = append(res.Holds, viewHold(h))
			}
			return nil
		}
		docs, err := submissionDocuments(a, sub)
		if err != nil {
			return err
		}
		sig := computeSignals(signalFacts{customerID: sub.CustomerID, recorded: recorded, identityType: identityType(docs),
			uses: uses, now: now, zone: serviceZone(c, a, s.cfg.Regions)})
		if err := approvable(sub, docs, []Category{Identity, Address}, sig); err != nil {
			return err
		}
		detail := map[string]string{"requestedBy": requested.RequestedBy, "secondApproval": admin.ID}
		if codes := sig.warningCodes(); codes != "" {
			detail["warnings"] = codes
		}
		if res, err = s.commitDecision(ctx, sub, answered, admin, c, docs, detail, now); err != nil {
			return err
		}
		res.Warnings = sig.Warnings
		return nil
	})
	return res, err
}

// RecordInput is what a reviewer records from a submission's documents
// before deciding it, made on the submission's version.
type RecordInput struct {
	Extracted Extracted `json:"extracted"`
	Version   int       `json:"version"`
}

// RecordResult is the answer to Record: the submission's new version and the
// signals of what was recorded.
type RecordResult struct {
	SubmissionID string  `json:"submissionId"`
	Version      int     `json:"version"`
	Signals      Signals `json:"signals"`
}

// Record stores what the reviewer holding the claim read from the documents
// (name, address, document number, birth date, the identity document's
// expiry and MRZ, the date of the proof of address), sealed with the
// customer's key, and the keyed hash of the document number, on the pending
// submission; and answers with the signals of it, so the reviewer sees them
// before deciding. What is recorded replaces what was recorded before, and
// withdraws an approval waiting for a second admin (it was made on other
// fields). The recording is audited (which fields, and the signals' codes).
func (s *Service) Record(ctx context.Context, reviewer Actor, id string, in RecordInput) (RecordResult, error) {
	if err := in.Extracted.Validate(); err != nil {
		return RecordResult{}, err
	}
	if in.Extracted == (Extracted{}) {
		return RecordResult{}, Invalid("extracted_required", "extracted must name at least one field")
	}
	if in.Version < 1 {
		return RecordResult{}, Invalid("version_required", "version must be the submission's version from GET")
	}
	read, err := s.submission(ctx, id)
	if err != nil {
		return RecordResult{}, err
	}
	if err := read.decidable(reviewer, in.Version); err != nil {
		return RecordResult{}, err // refuse before sealing anything
	}
	sealed, err := s.sealDecision(ctx, read.CustomerID, DecisionInput{Extracted: &in.Extracted})
	if err != nil {
		return RecordResult{}, err
	}
	uses, err := s.documentUses(ctx, sealed.docHash)
	if err != nil {
		return RecordResult{}, err
	}
	var res RecordResult
	err = s.retrySubmission(ctx, read, func(sub Submission) error {
		if err := sub.decidable(reviewer, in.Version); err != nil {
			return err
		}
		now := s.now()
		c, a, err := s.account(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		docs, err := submissionDocuments(a, sub)
		if err != nil {
			return err
		}
		sig := computeSignals(signalFacts{customerID: sub.CustomerID, recorded: &in.Extracted, identityType: identityType(docs),
			uses: uses, now: now, zone: serviceZone(c, a, s.cfg.Regions)})
		recorded := sub
		recorded.Extracted, recorded.DocNumberHash, recorded.ApprovalRequest = sealed.extracted, sealed.docHash, nil
		recorded.Version++
		detail := map[string]string{"fields": strings.Join(in.Extracted.names(), ","), "sameDocument": fmt.Sprint(len(sig.SameDocument))}
		if codes := sig.warningCodes(); codes != "" {
			detail["warnings"] = codes
		}
		if sub.ApprovalRequest != nil {
			detail["approvalRequestWithdrawn"] = sub.ApprovalRequest.RequestedBy
		}
		ch := c.record(reviewer, now, AuditEntry{Action: "submission.recorded", SubmissionID: id, Detail: detail})
		if err := s.commit(ctx, Work{Submission: &recorded, SubmissionVersion: sub.Version}, ch, now); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		res = RecordResult{SubmissionID: id, Version: recorded.Version, Signals: sig}
		return nil
	})
	return res, err
}

// names lists the fields that hold something.
func (e Extracted) names() []string {
	var out []string
	for _, f := range []struct{ name, v string }{{"fullName", e.FullName}, {"address", e.Address}, {"documentNumber", e.DocumentNumber},
		{"birthDate", e.BirthDate}, {"documentExpiry", e.DocumentExpiry}, {"mrz", e.MRZ}, {"addressDate", e.AddressDate}} {
		if f.v != "" {
			out = append(out, f.name)
		}
	}
	return out
}

type sealedDecision struct {
	message, note, extracted *Sealed
	docHash                  string
	records                  bool // the decision records fields (Extracted)
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
		out.records = true
		b, err := json.Marshal(in.Extracted)
		if err != nil {
			return out, fmt.Errorf("encode extracted fields: %w", err)
		}
		e, err := s.sealer.Seal(ctx, customerID, b)
		if err != nil {
			return out, fmt.Errorf("seal extracted fields: %w", err)
		}
		out.extracted = &e
		if out.docHash, err = s.documentNumberHash(ctx, in.Extracted.DocumentNumber); err != nil {
			return out, err
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
// trail as the staff member sees them. An admin sees everything. Other staff
// see status, dates and decisions: of the admin matters in the trail
// (disclosures, legal holds, personal data opened for a stated purpose) only
// that they happened, when and by whom, without their details (authority,
// legal reference, reasons, purposes), and no waiting request to lift a
// legal hold. A customer never seen is not found.
func (s *Service) CustomerView(ctx context.Context, staff Actor, customerID string) (CustomerAdminView, error) {
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
	v := CustomerAdminView{StatusView: statusView(*a.Customer, a, s.now()), LegalHold: a.Customer.LegalHold,
		LegalHoldLift: a.Customer.LegalHoldLift, Audit: trail}
	if staff.Kind != ActorAdmin {
		v.LegalHoldLift, v.Audit = nil, slices.Clone(trail)
		for i, e := range v.Audit {
			if adminMatter(e) {
				v.Audit[i].Detail = nil
			}
		}
	}
	return v, nil
}

// adminMatter reports whether an audit entry's details are for admins only:
// disclosures, legal holds, and openings of personal data for a purpose an
// admin stated (which may name an investigation).
func adminMatter(e AuditEntry) bool {
	return strings.HasPrefix(e.Action, "disclosure.") || strings.HasPrefix(e.Action, "customer.legal_hold") ||
		(e.Detail["purpose"] != "" && e.Detail["purpose"] != PurposeReview)
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
