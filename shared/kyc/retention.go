package kyc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Retention says how long uploaded files are kept. The decision records, the
// keyed hashes and the audit trail are kept; only the files (and the file
// names) go.
type Retention struct {
	// Unsubmitted: a file never submitted for review (the bucket's lifecycle
	// rule expires it too, by its tag).
	Unsubmitted time.Duration `json:"unsubmitted"`
	// Rejected: the files of a rejected submission, after the decision.
	Rejected time.Duration `json:"rejected"`
	// AfterExpiry: the files of an approved submission, after the
	// verification expires.
	AfterExpiry time.Duration `json:"afterExpiry"`
}

// DefaultRetention is the retention unless configured.
var DefaultRetention = Retention{Unsubmitted: 7 * 24 * time.Hour, Rejected: 90 * 24 * time.Hour, AfterExpiry: 90 * 24 * time.Hour}

// ParseRetention reads "unsubmitted=168h,rejected=2160h,afterExpiry=2160h";
// periods not named keep their default.
func ParseRetention(s string) (Retention, error) {
	r := DefaultRetention
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if !ok || err != nil || d <= 0 {
			return r, fmt.Errorf("retention %q: want name=duration", part)
		}
		switch strings.TrimSpace(k) {
		case "unsubmitted":
			r.Unsubmitted = d
		case "rejected":
			r.Rejected = d
		case "afterExpiry":
			r.AfterExpiry = d
		default:
			return r, fmt.Errorf("retention %q: unknown period (unsubmitted, rejected, afterExpiry)", k)
		}
	}
	return r, nil
}

// purgeAtDecision schedules the deletion of a decided submission's files.
func (r Retention) purgeAtDecision(s Submission, c Customer) time.Time {
	if s.Status == SubApproved {
		return c.ExpiresAt.Add(r.AfterExpiry)
	}
	return s.DecidedAt.Add(r.Rejected)
}

// LegalHoldRetry is how long a purge held back by a legal hold waits before
// the sweep looks again.
const LegalHoldRetry = 24 * time.Hour

// purge deletes a document's file once its retention has ended, unless the
// customer is under a legal hold. Purging twice is harmless: a purged
// document is not due any more, and deleting a missing file is a no-op.
func (s *Sweeper) purge(ctx context.Context, due Document, now time.Time) (bool, error) {
	purged := false
	err := retry(ctx, func() error {
		purged = false
		c, err := s.customer(ctx, due.CustomerID)
		if err != nil {
			return err
		}
		d, err := s.store.Document(ctx, due.CustomerID, due.ID)
		if errors.Is(err, ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load document: %w", err)
		}
		if d.State == DocPurged || d.PurgeAt.IsZero() || d.PurgeAt.After(now) {
			return nil // already purged, or rescheduled since the index was read
		}
		prev := d.State
		if c.LegalHold {
			d.PurgeAt = now.Add(LegalHoldRetry)
			return s.store.UpdateDocument(ctx, d, prev)
		}
		// The reviewed copy goes with the original (whether or not the record
		// names one: a copy written by a validation that then lost a race is
		// removed too).
		for _, key := range []string{d.Key, ReviewedKey(d.CustomerID, d.ID)} {
			if err := s.files.Delete(ctx, key); err != nil {
				return fmt.Errorf("delete file: %w", err)
			}
		}
		d.State, d.PurgedAt, d.PurgeAt, d.FileName, d.Reviewed = DocPurged, now, time.Time{}, nil, nil
		ch := c.record(BySweep, now, AuditEntry{Action: "document.purged", DocumentID: d.ID, SubmissionID: d.SubmissionID,
			From: string(prev), To: string(DocPurged)})
		if err := s.commit(ctx, Work{Documents: []DocumentUpdate{{Document: d, Expect: prev}}}, ch, now); err != nil {
			return fmt.Errorf("purge document: %w", err)
		}
		purged = true
		return nil
	})
	return purged, err
}

// LegalHoldRequest sets or lifts a customer's legal hold.
type LegalHoldRequest struct {
	Hold   bool   `json:"hold"`
	Reason string `json:"reason"`
}

// LegalHoldLift is an admin's request to lift a customer's legal hold. The
// hold stays until a second admin lifts it too, within LegalHoldLiftWindow.
type LegalHoldLift struct {
	RequestedBy string    `json:"requestedBy"`
	RequestedAt time.Time `json:"requestedAt"`
	Reason      string    `json:"reason"`
}

// LegalHoldLiftWindow is how long a request to lift a legal hold waits for
// the second admin; after it, lifting starts again with a new request.
const LegalHoldLiftWindow = 24 * time.Hour

// SetLegalHold sets or lifts an admin's legal hold on a customer: while it is
// set, nothing of the customer's is purged. Setting takes effect at once
// (and cancels a pending lift). Lifting needs two admins, as a disclosure
// does: the first admin's request is recorded and the hold stays; a second,
// different admin lifting it within LegalHoldLiftWindow lifts it. Every step
// is audited. No admin sets or lifts a hold on their own account.
func (s *Service) SetLegalHold(ctx context.Context, admin Actor, customerID string, r LegalHoldRequest) (CustomerAdminView, error) {
	if strings.TrimSpace(r.Reason) == "" || utf8.RuneCountInString(r.Reason) > maxAuthority {
		return CustomerAdminView{}, Invalid("invalid_reason", "reason is required (at most %d characters)", maxAuthority)
	}
	if !ValidID(customerID) {
		return CustomerAdminView{}, NotFound("customer_not_found", "no customer %s", customerID)
	}
	if err := ownAccount(admin, customerID); err != nil {
		return CustomerAdminView{}, err
	}
	err := retry(ctx, func() error {
		c, err := s.store.Customer(ctx, customerID)
		if errors.Is(err, ErrNotExist) {
			return NotFound("customer_not_found", "no customer %s", customerID)
		}
		if err != nil {
			return fmt.Errorf("load customer: %w", err)
		}
		now := s.now()
		ch, err := c.legalHold(admin, r, now)
		if err != nil || ch.Empty() {
			return err
		}
		return s.commit(ctx, Work{}, ch, now)
	})
	if err != nil {
		return CustomerAdminView{}, err
	}
	return s.CustomerView(ctx, admin, customerID)
}

// legalHold decides an admin's legal-hold request on the customer.
func (c Customer) legalHold(admin Actor, r LegalHoldRequest, now time.Time) (Change, error) {
	lift := c.LegalHoldLift
	if lift != nil && !now.Before(lift.RequestedAt.Add(LegalHoldLiftWindow)) {
		lift = nil // the request expired unanswered
	}
	detail := map[string]string{"reason": r.Reason}
	switch {
	case r.Hold && !c.LegalHold:
		ch := c.record(admin, now, AuditEntry{Action: "customer.legal_hold_set", Detail: detail})
		ch.Customer.LegalHold, ch.Customer.LegalHoldLift = true, nil
		return ch, nil
	case r.Hold && c.LegalHoldLift != nil:
		detail["requestedBy"] = c.LegalHoldLift.RequestedBy
		ch := c.record(admin, now, AuditEntry{Action: "customer.legal_hold_lift_cancelled", Detail: detail})
		ch.Customer.LegalHoldLift = nil
		return ch, nil
	case r.Hold || !c.LegalHold:
		return Change{}, nil // already so
	case lift == nil:
		ch := c.record(admin, now, AuditEntry{Action: "customer.legal_hold_lift_requested", Detail: detail})
		ch.Customer.LegalHoldLift = &LegalHoldLift{RequestedBy: admin.ID, RequestedAt: now, Reason: r.Reason}
		return ch, nil
	case lift.RequestedBy == admin.ID:
		return Change{}, Forbidden("self_approval", "lifting a legal hold needs a second admin")
	}
	detail["requestedBy"] = lift.RequestedBy
	ch := c.record(admin, now, AuditEntry{Action: "customer.legal_hold_lifted", Detail: detail})
	ch.Customer.LegalHold, ch.Customer.LegalHoldLift = false, nil
	return ch, nil
}

// VerifyAudit recomputes a customer's audit chain and names the first broken
// link, if any.
func (s *core) VerifyAudit(ctx context.Context, customerID string) (ChainReport, error) {
	if !ValidID(customerID) {
		return ChainReport{}, NotFound("customer_not_found", "no customer %s", customerID)
	}
	c, err := s.store.Customer(ctx, customerID)
	if errors.Is(err, ErrNotExist) {
		return ChainReport{}, NotFound("customer_not_found", "no customer %s", customerID)
	}
	if err != nil {
		return ChainReport{}, fmt.Errorf("load customer: %w", err)
	}
	trail, err := s.store.Audit(ctx, customerID)
	if err != nil {
		return ChainReport{}, fmt.Errorf("audit: %w", err)
	}
	return VerifyChain(trail, c.Audit), nil
}
