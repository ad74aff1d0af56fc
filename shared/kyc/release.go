package kyc

import (
	"context"
	"fmt"
	"time"
)

// Release gives a claimed submission back to the queue before the claim
// expires (a reviewer who cannot finish it). Only the reviewer holding the
// claim may release it; the release is audited. An approval the reviewer
// left waiting for a second admin is withdrawn with it.
func (s *Service) Release(ctx context.Context, reviewer Actor, id string) (QueueItem, error) {
	var item QueueItem
	err := retry(ctx, func() error {
		sub, err := s.submission(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case sub.Status != SubPending:
			return Conflict("already_decided", "submission %s is %s", id, sub.Status)
		case sub.ClaimedBy != reviewer.ID:
			return Conflict("not_claimed", "submission %s is not claimed by you", id)
		}
		now := s.now()
		released := sub
		released.ClaimedBy, released.ClaimedAt, released.ApprovalRequest = "", time.Time{}, nil
		released.Version++
		c, err := s.customer(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		ch := c.record(reviewer, now, withdrawn(AuditEntry{Action: "submission.released", SubmissionID: id}, sub, released))
		if err := s.commit(ctx, Work{Submission: &released, SubmissionVersion: sub.Version}, ch, now); err != nil {
			return fmt.Errorf("release: %w", err)
		}
		item = QueueItem{SubmissionID: id, CustomerID: sub.CustomerID, SubmittedAt: sub.SubmittedAt,
			AgeSeconds: int64(now.Sub(sub.SubmittedAt) / time.Second), Version: released.Version}
		return nil
	})
	return item, err
}

// DecisionMessage returns the message a reviewer left for the customer on
// one of the customer's decided submissions (the customer's page shows it
// beside the reasons). Another customer's submission is not found.
func (s *Service) DecisionMessage(ctx context.Context, customerID, submissionID string) (string, error) {
	sub, err := s.submission(ctx, submissionID)
	if err != nil {
		return "", err
	}
	if sub.CustomerID != customerID {
		return "", NotFound("submission_not_found", "no submission %s", submissionID)
	}
	if sub.Message == nil {
		return "", nil
	}
	var shredded bool
	msg, err := s.openSealed(ctx, customerID, sub.Message, &shredded)
	if err != nil {
		return "", fmt.Errorf("open the message: %w", err)
	}
	return string(msg), nil
}

// Now is the policy's "now": the server clock the use cases decide with
// (the pages count deadlines down from it).
func (s *Service) Now() time.Time { return s.now() }

// withdrawn notes in an audit entry the approval request that the change
// from before to after withdrew (who had asked for the second admin).
func withdrawn(e AuditEntry, before, after Submission) AuditEntry {
	if before.ApprovalRequest != nil && after.ApprovalRequest == nil {
		e.Detail = map[string]string{"approvalRequestWithdrawn": before.ApprovalRequest.RequestedBy}
	}
	return e
}
