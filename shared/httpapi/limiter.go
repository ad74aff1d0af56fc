package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Counter counts events in a window: it adds one to the counter named key
// and reports false, without adding, when the counter is at limit. The
// counter may be forgotten after until.
type Counter interface {
	Count(ctx context.Context, key string, limit int, until time.Time) (bool, error)
}

// Rate is at most N events per window.
type Rate struct {
	N   int
	Per time.Duration
}

// DefaultRates are the per-customer limits: generous for a person uploading
// a few documents, tight for a script.
var DefaultRates = map[string]Rate{
	"document":   {N: 20, Per: time.Hour},
	"submission": {N: 10, Per: time.Hour},
}

type limiter struct {
	counter Counter
	rates   map[string]Rate
	now     func() time.Time
}

// NewLimiter returns a Limiter over fixed windows; nil rates mean DefaultRates.
func NewLimiter(c Counter, rates map[string]Rate, now func() time.Time) Limiter {
	if now == nil {
		now = time.Now
	}
	if rates == nil {
		rates = DefaultRates
	}
	return &limiter{counter: c, rates: rates, now: now}
}

// Allow counts an attempt; over the limit it returns a rate-limited error
// whose Retry-After is the end of the window.
func (l *limiter) Allow(r *http.Request, customerID, action string) error {
	rate, ok := l.rates[action]
	if !ok {
		return nil
	}
	now := l.now()
	window := now.Truncate(rate.Per)
	end := window.Add(rate.Per)
	key := fmt.Sprintf("%s#%s#%d", customerID, action, window.Unix())
	allowed, err := l.counter.Count(r.Context(), key, rate.N, end)
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if !allowed {
		return kyc.RateLimited(end.Sub(now), "at most %d %s requests per %s; try again later", rate.N, action, rate.Per)
	}
	return nil
}
