package httpapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// RateLog keeps, per key, the times of the most recent actions a limit
// counts: the limiter's record, one per customer and action.
type RateLog interface {
	// RateEvents returns the times recorded under key, oldest first, and the
	// record's version (0: nothing recorded).
	RateEvents(ctx context.Context, key string) ([]time.Time, int, error)
	// SaveRateEvents replaces the times recorded under key if the record's
	// version is still version (0: it must not exist), and fails with
	// kyc.ErrStale otherwise. The record may be forgotten after until.
	SaveRateEvents(ctx context.Context, key string, times []time.Time, version int, until time.Time) error
}

// Rate is at most N actions in any window of length Per.
type Rate struct {
	N   int
	Per time.Duration
}

// DefaultRates are the per-customer limits, by kyc.Action: generous for a
// person uploading a few documents, tight for a script.
var DefaultRates = map[string]Rate{
	string(kyc.ActionDocument):   {N: 20, Per: time.Hour},
	string(kyc.ActionSubmission): {N: 10, Per: time.Hour},
}

// Limiter is the kyc.Limiter of the customer API: a sliding window. It keeps
// the times of a customer's last N actions of a kind and admits another one
// only while fewer than N of them are less than Per old, so no window of
// length Per, wherever it starts, holds more than N actions (a fixed hourly
// counter let twice the limit through around the hour). The use cases call
// it only once a request has passed every check, so refused requests use up
// nothing; a refused action writes nothing either.
type Limiter struct {
	log   RateLog
	rates map[string]Rate
	now   func() time.Time
}

var _ kyc.Limiter = (*Limiter)(nil)

// limiterAttempts bounds the read-decide-write loop when two requests of one
// customer race.
const limiterAttempts = 5

// NewLimiter returns a sliding-window limiter on log; nil rates mean
// DefaultRates, a nil now time.Now (the wiring passes the policy's clock).
func NewLimiter(log RateLog, rates map[string]Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if rates == nil {
		rates = DefaultRates
	}
	return &Limiter{log: log, rates: rates, now: now}
}

// Allow records one action of a customer, or refuses it with a rate-limited
// error whose Retry-After is when the oldest action counted leaves the
// window. Actions without a rate are not limited.
func (l *Limiter) Allow(ctx context.Context, customerID string, action kyc.Action) error {
	rate, ok := l.rates[string(action)]
	if !ok || rate.N < 1 || rate.Per <= 0 {
		return nil
	}
	key := customerID + "#" + string(action)
	for range limiterAttempts {
		now := l.now()
		times, version, err := l.log.RateEvents(ctx, key)
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		recent := window(times, now, rate.Per)
		if len(recent) >= rate.N {
			oldest := recent[len(recent)-rate.N]
			return kyc.RateLimited(oldest.Add(rate.Per).Sub(now), "at most %d %s requests in any %s; try again later", rate.N, action, rate.Per)
		}
		err = l.log.SaveRateEvents(ctx, key, append(recent, now), version, now.Add(rate.Per))
		if !errors.Is(err, kyc.ErrStale) {
			if err != nil {
				return fmt.Errorf("rate limit: %w", err)
			}
			return nil
		}
	}
	return kyc.Conflict("busy", "too many requests at once; try again")
}

// window returns the times less than per before now (in (now-per, now]), in
// order; later times than now (another server's clock) count too.
func window(times []time.Time, now time.Time, per time.Duration) []time.Time {
	start := now.Add(-per)
	out := slices.DeleteFunc(slices.Clone(times), func(t time.Time) bool { return !t.After(start) })
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}
