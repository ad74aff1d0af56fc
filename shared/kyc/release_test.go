package kyc_test

import (
	"context"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// Only the reviewer holding the claim releases it; the submission is back
// in the queue unclaimed, one version up, and the release is audited. A
// decided submission is not released.
func TestRelease(t *testing.T) {
	ctx := context.Background()
	w := kyctest.New(t)
	sub := w.Submit("c-1")
	claim := w.Claim("rev-1", sub)

	if _, err := w.Service.Release(ctx, kyctest.Reviewer("rev-2"), sub); kyc.CodeOf(err) != "not_claimed" {
		t.Fatalf("release by another reviewer: %v, want not_claimed", err)
	}
	if _, err := w.Service.Release(ctx, kyctest.Reviewer("rev-1"), "nope"); kyc.CodeOf(err) != "submission_not_found" {
		t.Fatalf("release of an unknown submission: %v", err)
	}
	w.Advance(time.Minute)
	item, err := w.Service.Release(ctx, kyctest.Reviewer("rev-1"), sub)
	if err != nil {
		t.Fatal(err)
	}
	if item.ClaimedBy != "" || item.Version != claim.Version+1 || item.AgeSeconds != 60 {
		t.Fatalf("released %+v (claim was at version %d)", item, claim.Version)
	}
	if s := w.Submission(sub); s.ClaimedBy != "" || s.Version != claim.Version+1 {
		t.Fatalf("stored %+v", s)
	}
	if a := w.Audit("c-1"); a[len(a)-1].Action != "submission.released" || a[len(a)-1].Actor.ID != "rev-1" {
		t.Fatalf("last audit entry %+v", a[len(a)-1])
	}
	// Released, anyone may claim it.
	if got := w.Claim("rev-2", sub); got.ClaimedBy != "rev-2" {
		t.Fatalf("claim after the release: %+v", got)
	}

	w.Verify("c-2")
	found := false
	for _, e := range w.Audit("c-2") {
		if e.Action == "submission.decided" {
			found = true
			if _, err := w.Service.Release(ctx, kyctest.Reviewer(kyctest.DefaultReviewer), e.SubmissionID); kyc.CodeOf(err) != "already_decided" {
				t.Fatalf("release of a decided submission: %v", err)
			}
		}
	}
	if !found {
		t.Fatal("no decided submission to release")
	}
}

// The customer reads the message a reviewer left them on a decided
// submission, opened from its seal; another customer's submission is not
// found, and a submission without a message has none.
func TestDecisionMessage(t *testing.T) {
	ctx := context.Background()
	w := kyctest.New(t)
	sub := w.Submit("c-1")
	in := kyctest.Rejection(w.Review("rev-1", sub).Version, "too_old")
	in.CustomerMessage = "Please send a statement from the last three months."
	w.Decide("rev-1", sub, in)

	msg, err := w.Service.DecisionMessage(ctx, "c-1", sub)
	if err != nil || msg != in.CustomerMessage {
		t.Fatalf("message %q, %v", msg, err)
	}
	if _, err := w.Service.DecisionMessage(ctx, "c-2", sub); kyc.CodeOf(err) != "submission_not_found" {
		t.Fatalf("another customer's submission: %v", err)
	}
	other := w.Submit("c-3")
	w.Decide("rev-1", other, kyctest.Rejection(w.Review("rev-1", other).Version, "too_old"))
	if msg, err := w.Service.DecisionMessage(ctx, "c-3", other); err != nil || msg != "" {
		t.Fatalf("no message: %q, %v", msg, err)
	}
	if now := w.Service.Now(); !now.Equal(w.Now()) {
		t.Fatalf("the service's now %s, the clock's %s", now, w.Now())
	}
}
