package kyc

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Requirements is what a customer must provide (GET /v1/kyc/requirements).
type Requirements struct {
	Categories   []CategorySpec `json:"categories"`
	ContentTypes []string       `json:"contentTypes"`
	MaxSize      int64          `json:"maxSize"`
	// Rule says, in both languages, what makes a submission complete (P4).
	Rule Label `json:"rule"`
}

// Requirements returns the document catalogue and upload limits.
func (s *Service) Requirements() Requirements {
	return Requirements{
		Categories: Catalogue, ContentTypes: ContentTypes, MaxSize: s.cfg.MaxUploadBytes,
		Rule: Label{
			En:     "Submit one document from each category.",
			ZhHant: "請從每個類別中提交一份文件。",
		},
	}
}

// RequirementsFor returns the requirements as a customer sees them: a
// business registration certificate is listed only for a business customer
// (P3), the only customers it proves identity for.
func (s *Service) RequirementsFor(ctx context.Context, customerID string) (Requirements, error) {
	business := false
	if ValidID(customerID) {
		c, err := s.customer(ctx, customerID)
		if err != nil {
			return Requirements{}, err
		}
		business = c.Business
	}
	return s.RequirementsOf(business), nil
}

// RequirementsOf returns the requirements as a customer sees them, by
// whether billing reports the customer as a business (StatusView.Business).
func (s *Service) RequirementsOf(business bool) Requirements {
	r := s.Requirements()
	if business {
		return r
	}
	r.Categories = slices.Clone(r.Categories)
	for i, cat := range r.Categories {
		r.Categories[i].Types = slices.DeleteFunc(slices.Clone(cat.Types), func(t TypeSpec) bool { return t.Type == BusinessRegistration })
	}
	return r
}

// errBusinessOnly refuses a business registration certificate from a
// customer billing does not report as a business.
var errBusinessOnly = Invalid("business_only", "a business registration certificate proves identity only for a business customer; choose another identity document")

// DocumentView is a document as its owner (or staff) sees it.
type DocumentView struct {
	ID          string        `json:"documentId"`
	Category    Category      `json:"category"`
	Type        DocType       `json:"type"`
	Utility     Utility       `json:"utility,omitempty"`
	ContentType string        `json:"contentType"`
	State       DocState      `json:"state"`
	Invalid     *Explained    `json:"invalid,omitempty"`
	Size        int64         `json:"size,omitempty"`
	CreatedAt   time.Time     `json:"createdAt"`
	Submission  string        `json:"submissionId,omitempty"`
	Decision    *DecisionView `json:"decision,omitempty"`
}

// Explained is a code with its text in both languages.
type Explained struct {
	Code string `json:"code"`
	Text Label  `json:"text"`
}

// DecisionView is a document decision as the customer sees it.
type DecisionView struct {
	Result  DocResult   `json:"result"`
	Reasons []Explained `json:"reasons,omitempty"`
	At      time.Time   `json:"at"`
}

func viewDocument(d Document) DocumentView {
	v := DocumentView{ID: d.ID, Category: d.Category, Type: d.Type, Utility: d.Utility, ContentType: d.ContentType,
		State: d.State, Size: d.Size, CreatedAt: d.CreatedAt, Submission: d.SubmissionID}
	if d.State == DocInvalid {
		v.Invalid = &Explained{Code: string(d.Invalid), Text: InvalidTexts[d.Invalid]}
	}
	if d.Decision != nil {
		dv := &DecisionView{Result: d.Decision.Result, At: d.Decision.At}
		for _, r := range d.Decision.Reasons {
			spec, _ := LookupReason(r)
			dv.Reasons = append(dv.Reasons, Explained{Code: string(r), Text: spec.Text})
		}
		v.Decision = dv
	}
	return v
}

// HoldView is an order hold as the customer sees it. Times are UTC; a page
// shows them in TimeZone (the server region's), with UTC beside them.
type HoldView struct {
	OrderID      string     `json:"orderId"`
	ServiceID    string     `json:"serviceId"`
	ProductID    string     `json:"productId"`
	ServerRegion string     `json:"serverRegion,omitempty"`
	TimeZone     string     `json:"timeZone,omitempty"`
	State        HoldState  `json:"state"`
	OrderedAt    time.Time  `json:"orderedAt"`
	Deadline     time.Time  `json:"deadline,omitzero"`
	NextDueDate  Date       `json:"nextDueDate,omitzero"`
	Rendered     bool       `json:"rendered"`
	Extension    *Extension `json:"extension,omitempty"`
}

func viewHold(h Hold) HoldView {
	return HoldView{OrderID: h.OrderID, ServiceID: h.ServiceID, ProductID: h.ProductID, ServerRegion: h.ServerRegion,
		TimeZone: h.TimeZone, State: h.State, OrderedAt: h.OrderedAt, Deadline: h.Deadline, NextDueDate: h.NextDueDate,
		Rendered: h.Rendered, Extension: h.Extension}
}

// StatusView is a customer's KYC status (GET /v1/kyc/status).
type StatusView struct {
	CustomerID   string         `json:"customerId"`
	Status       Status         `json:"status"`
	VerifiedAt   time.Time      `json:"verifiedAt,omitzero"`
	ExpiresAt    time.Time      `json:"expiresAt,omitzero"`
	SubmissionID string         `json:"pendingSubmissionId,omitempty"`
	Documents    []DocumentView `json:"documents"`
	Holds        []HoldView     `json:"holds"`
	// Business says billing reports the customer as a business (the pages
	// list the business registration certificate only then); not part of
	// the JSON API.
	Business bool `json:"-"`
}

// Status returns a customer's KYC status, documents and holds.
func (s *Service) Status(ctx context.Context, customerID string) (StatusView, error) {
	c, a, err := s.account(ctx, customerID)
	if err != nil {
		return StatusView{}, err
	}
	return statusView(c, a, s.now()), nil
}

func statusView(c Customer, a Account, now time.Time) StatusView {
	v := StatusView{CustomerID: c.ID, Status: c.StatusAt(now), VerifiedAt: c.VerifiedAt, ExpiresAt: c.ExpiresAt,
		Business: c.Business, Documents: []DocumentView{}, Holds: []HoldView{}}
	if c.Pending != nil {
		v.SubmissionID = c.Pending.ID
	}
	for _, d := range a.Documents {
		v.Documents = append(v.Documents, viewDocument(d))
	}
	for _, h := range append(slices.Clone(c.Holds), a.Closed...) {
		v.Holds = append(v.Holds, viewHold(h))
	}
	slices.SortFunc(v.Holds, func(a, b HoldView) int { return b.OrderedAt.Compare(a.OrderedAt) })
	return v
}

// NewUpload is the answer to a document creation.
type NewUpload struct {
	DocumentID string    `json:"documentId"`
	Upload     Upload    `json:"upload"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

// CreateDocument records a document a customer is about to upload and returns
// the presigned form for it, which takes exactly the declared size. Nothing
// is stored if the request is refused; a request that passed every check
// counts against the customer's limit (ActionDocument).
func (s *Service) CreateDocument(ctx context.Context, customerID string, r DocumentRequest) (NewUpload, error) {
	if !ValidID(customerID) {
		return NewUpload{}, Forbidden("invalid_subject", "the token's subject is not a customer id")
	}
	d, err := NewDocument(customerID, s.newID(), r, s.cfg.MaxUploadBytes, s.now())
	if err != nil {
		return NewUpload{}, err
	}
	if d.Type == BusinessRegistration {
		c, err := s.customer(ctx, customerID)
		if err != nil {
			return NewUpload{}, err
		}
		if !c.Business {
			return NewUpload{}, errBusinessOnly
		}
	}
	if err := s.allow(ctx, customerID, ActionDocument); err != nil {
		return NewUpload{}, err
	}
	d.PurgeAt = d.CreatedAt.Add(s.cfg.Retention.Unsubmitted)
	up, err := s.files.PresignUpload(ctx, d, s.cfg.MaxUploadBytes, s.cfg.UploadTTL)
	if err != nil {
		return NewUpload{}, fmt.Errorf("presign upload: %w", err)
	}
	if r.FileName != "" {
		sealed, err := s.sealer.Seal(ctx, customerID, []byte(r.FileName))
		if err != nil {
			return NewUpload{}, fmt.Errorf("seal file name: %w", err)
		}
		d.FileName = &sealed
	}
	if err := s.store.CreateDocument(ctx, d); err != nil {
		return NewUpload{}, fmt.Errorf("create document: %w", err)
	}
	return NewUpload{DocumentID: d.ID, Upload: up, ExpiresAt: up.ExpiresAt}, nil
}

// SubmissionReceipt is the answer to a submission.
type SubmissionReceipt struct {
	SubmissionID string           `json:"submissionId"`
	Status       SubmissionStatus `json:"status"`
}

// Submit makes a complete submission of one identity and one address document
// of the customer (P4). Each document must have passed the validator, and
// its validated object is checked again (still there, same size and
// encryption). A replay, a second submission while one is under review, or a
// verified customer's submission is a conflict, decided by the conditional
// write of the customer record. A submission that passed every check counts
// against the customer's limit (ActionSubmission) before it is written.
func (s *Service) Submit(ctx context.Context, customerID, identityDocID, addressDocID string) (SubmissionReceipt, error) {
	switch {
	case !ValidID(customerID):
		return SubmissionReceipt{}, Forbidden("invalid_subject", "the token's subject is not a customer id")
	case !ValidID(identityDocID) || !ValidID(addressDocID):
		return SubmissionReceipt{}, Invalid("invalid_document_id", "identityDocumentId and addressDocumentId are required")
	case identityDocID == addressDocID:
		return SubmissionReceipt{}, Invalid("same_document", "one document cannot prove both identity and address")
	}
	var receipt SubmissionReceipt
	counted := false
	err := retry(ctx, func() error {
		c, a, err := s.account(ctx, customerID)
		if err != nil {
			return err
		}
		now := s.now()
		id := s.newID()
		ch, err := c.Submit(id, Actor{Kind: ActorCustomer, ID: customerID}, now)
		if err != nil {
			return err
		}
		var updates []DocumentUpdate
		for _, want := range []struct {
			id  string
			cat Category
		}{{identityDocID, Identity}, {addressDocID, Address}} {
			d, err := s.submittable(ctx, a, want.id, want.cat)
			if err != nil {
				return err
			}
			if d.Type == BusinessRegistration && !c.Business {
				return errBusinessOnly
			}
			prev := d.State
			d.State, d.SubmissionID, d.PurgeAt = DocValid, id, time.Time{} // kept while in review
			updates = append(updates, DocumentUpdate{Document: d, Expect: prev})
		}
		sub := Submission{ID: id, CustomerID: customerID, IdentityDocumentID: identityDocID, AddressDocumentID: addressDocID,
			Status: SubPending, SubmittedAt: now, Version: 1}
		if !counted {
			if err := s.allow(ctx, customerID, ActionSubmission); err != nil {
				return err
			}
			counted = true
		}
		for _, u := range updates { // before the commit: a submitted file must never meet the unsubmitted-expiry rule
			if err := s.files.MarkSubmitted(ctx, u.Document.Key, u.Document.VersionID); err != nil {
				return fmt.Errorf("tag submitted object: %w", err)
			}
			if rc := u.Document.Reviewed; rc != nil {
				if err := s.files.MarkSubmitted(ctx, rc.Key, rc.VersionID); err != nil {
					return fmt.Errorf("tag submitted reviewed copy: %w", err)
				}
			}
		}
		if err := s.commit(ctx, Work{Submission: &sub, Documents: updates}, ch, now); err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		receipt = SubmissionReceipt{SubmissionID: id, Status: SubPending}
		return nil
	})
	return receipt, err
}

// submittable finds a customer's document that passed validation and checks
// its validated object again.
func (s *Service) submittable(ctx context.Context, a Account, docID string, cat Category) (Document, error) {
	d, ok := a.Document(docID)
	if !ok {
		return Document{}, NotFound("document_not_found", "no document %s", docID)
	}
	switch {
	case d.Category != cat:
		return Document{}, Invalid("wrong_category", "document %s is a %s document, not %s", docID, d.Category, cat)
	case d.State == DocInvalid:
		return Document{}, Invalid("document_invalid", "document %s failed validation (%s); upload it again", docID, d.Invalid)
	case d.State == DocPurged:
		return Document{}, Invalid("document_purged", "document %s has been deleted", docID)
	case d.Decision != nil && d.Decision.Result != ResultApproved:
		return Document{}, Invalid("document_rejected", "document %s was rejected; upload a new one", docID)
	case d.SubmissionID != "" && d.Decision == nil:
		return Document{}, Conflict("document_in_review", "document %s is already in a submission under review", docID)
	case d.Decision != nil:
		// Approved in a submission that was rejected for the other document:
		// it may be sent again with a replacement. One that verified the
		// customer belongs to that verification and cannot prove a new one.
		sub, err := s.store.Submission(ctx, d.SubmissionID)
		if err != nil {
			return Document{}, fmt.Errorf("load the document's submission: %w", err)
		}
		if sub.Status == SubApproved {
			return Document{}, Invalid("document_used", "document %s was approved in an earlier verification; upload a new one", docID)
		}
	}
	if d.State == DocScanning {
		return Document{}, Conflict("upload_not_validated", "document %s is still being checked for malware; try again in a moment", docID)
	}
	if d.State == DocPendingUpload {
		// Only the validator decodes files and writes the reviewed copy: a
		// document is submittable once it has seen the upload.
		info, err := s.files.Inspect(ctx, d.Key, "")
		if err != nil {
			return Document{}, fmt.Errorf("inspect object: %w", err)
		}
		if !info.Exists {
			return Document{}, Conflict("upload_missing", "document %s has not been uploaded yet", docID)
		}
		return Document{}, Conflict("upload_not_validated", "document %s is still being checked; try again in a moment", docID)
	}
	info, err := s.files.Inspect(ctx, d.Key, d.VersionID)
	if err != nil {
		return Document{}, fmt.Errorf("inspect object: %w", err)
	}
	if reason, ok := d.Check(info, s.cfg.KMSKeyID, s.cfg.MaxUploadBytes); !ok {
		return Document{}, Invalid("document_invalid", "document %s failed validation (%s); upload it again", docID, reason)
	}
	return d, nil
}
