package kyc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SweepReport is what one sweep did.
type SweepReport struct {
	Now               time.Time `json:"now"`
	CustomersDue      int       `json:"customersDue"`
	Changed           int       `json:"changed"`
	Suspended         int       `json:"suspended"`
	AwaitingReview    int       `json:"awaitingReview"`
	Expiring          int       `json:"expiring"`
	Expired           int       `json:"expired"`
	OutboxesPublished int       `json:"outboxesPublished"`
	Purged            int       `json:"purged"`
	Failed            int       `json:"failed"`
	// OldestPendingReview is the age of the submission waiting longest for a
	// reviewer (0 if none), reported against the review SLA.
	OldestPendingReview time.Duration `json:"oldestPendingReviewNs"`
}

// SweepBatch bounds how many due records one read of the index returns.
const SweepBatch = 200

// sweepWorkers is how many customers one sweep processes at once.
const sweepWorkers = 8

// Sweep applies every time-triggered rule as of now, the scheduled time of
// the run (never the clock). It reads only the due index. Each customer is
// one conditional write, so two sweeps at once, a sweep twice, or a sweep
// racing an approval never apply a rule twice: the loser re-reads and finds
// nothing left to do. Outbox records whose events were not published are
// published again.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (SweepReport, error) {
	now = now.UTC()
	rep := SweepReport{Now: now}
	var errs []error
	// A full batch may hide more due records behind it: read again, for a
	// bounded number of rounds, while the previous round made progress.
	for round := 0; round < maxSweepRounds; round++ {
		due, err := s.store.Due(ctx, now, SweepBatch)
		if err != nil {
			return rep, fmt.Errorf("due records: %w", err)
		}
		changed := rep.Changed
		errs = append(errs, s.sweepBatch(ctx, due, now, &rep)...)
		if len(due.Customers)+len(due.Outboxes)+len(due.Documents) < SweepBatch || rep.Changed == changed {
			break
		}
	}
	// The review SLA metric is a report, not a rule: failing to read it does
	// not fail the sweep (the alarm treats a missing point as not breaching).
	oldest, err := s.store.OldestPending(ctx)
	switch {
	case err == nil:
		rep.OldestPendingReview = now.Sub(oldest.SubmittedAt)
	case !errors.Is(err, ErrNotExist):
		s.log.WarnContext(ctx, "oldest pending review not read", "err", err)
	}
	return rep, errors.Join(errs...)
}

// maxSweepRounds bounds the index reads of one sweep.
const maxSweepRounds = 50

func (s *Sweeper) sweepBatch(ctx context.Context, due Due, now time.Time, rep *SweepReport) []error {
	rep.CustomersDue += len(due.Customers)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		work = make(chan Customer)
	)
	for range sweepWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				ch, err := s.sweepCustomer(ctx, c, now)
				mu.Lock()
				if err != nil {
					rep.Failed++
					errs = append(errs, err)
				} else {
					rep.count(ch)
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range due.Customers {
		work <- c
	}
	close(work)
	wg.Wait()
	for _, o := range due.Outboxes {
		if err := s.bus.Publish(ctx, o.Events); err != nil {
			rep.Failed++
			errs = append(errs, fmt.Errorf("republish outbox %s: %w", o.ID, err))
			continue
		}
		if err := s.store.DeleteOutbox(ctx, o.ID); err != nil {
			// Published; the next sweep publishes it again and consumers
			// recognise the event ids. Not a failure of this sweep.
			s.log.WarnContext(ctx, "published outbox not removed", "outbox", o.ID, "err", err)
		}
		rep.OutboxesPublished++
		rep.Changed++
	}
	for _, d := range due.Documents {
		purged, err := s.purge(ctx, d, now)
		if err != nil {
			rep.Failed++
			errs = append(errs, fmt.Errorf("purge document %s: %w", d.ID, err))
			continue
		}
		if purged {
			rep.Purged++
		}
		rep.Changed++ // purged, or moved on by a legal hold: either way no longer due now
	}
	return errs
}

// sweepCustomer applies the time rules to one customer. The record from the
// index may be stale (indexes are eventually consistent); a stale write fails
// its condition and the retry reads the table.
func (s *Sweeper) sweepCustomer(ctx context.Context, c Customer, now time.Time) (Change, error) {
	var out Change
	first := true
	err := retry(ctx, func() error {
		if !first {
			var err error
			if c, err = s.store.Customer(ctx, c.ID); err != nil {
				return fmt.Errorf("load customer: %w", err)
			}
		}
		first = false
		ch, changed := c.Sweep(now)
		if !changed {
			out = Change{}
			return nil
		}
		if err := s.commit(ctx, Work{}, ch, now); err != nil {
			return fmt.Errorf("sweep customer %s: %w", c.ID, err)
		}
		out = ch
		return nil
	})
	return out, err
}

func (r *SweepReport) count(ch Change) {
	if ch.Empty() {
		return
	}
	r.Changed++
	for _, e := range ch.Audit {
		switch {
		case e.Action == "hold.deadline" && e.To == string(SuspendedKYC):
			r.Suspended++
		case e.Action == "hold.deadline" && e.To == string(AwaitingReview):
			r.AwaitingReview++
		case e.Action == "customer.expiring":
			r.Expiring++
		case e.Action == "customer.expired":
			r.Expired++
		}
	}
}
