package httpapi_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/httpapi"
	"github.com/kycgate/kycgate/shared/kyc"
)

// rateLog is an in-memory httpapi.RateLog with the store's conditional
// write: a save names the version it read.
type rateLog struct {
	mu       sync.Mutex
	times    map[string][]time.Time
	versions map[string]int
	until    map[string]time.Time
	saves    int
	fail     []error // the next saves' errors, in order
	before   func()  // runs at the start of the next save
}

func newRateLog() *rateLog {
	return &rateLog{times: map[string][]time.Time{}, versions: map[string]int{}, until: map[string]time.Time{}}
}

func (l *rateLog) RateEvents(_ context.Context, key string) ([]time.Time, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.times[key]), l.versions[key], nil
}

func (l *rateLog) SaveRateEvents(_ context.Context, key string, times []time.Time, version int, until time.Time) error {
	if f := l.before; f != nil {
		l.before = nil
		f()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fail) > 0 {
		err := l.fail[0]
		l.fail = l.fail[1:]
		return err
	}
	if l.versions[key] != version {
		return kyc.ErrStale
	}
	l.saves++
	l.times[key], l.versions[key], l.until[key] = slices.Clone(times), version+1, until
	return nil
}

type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

var t0 = time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)

func allow(tb testing.TB, l *httpapi.Limiter, customer string) (bool, time.Duration) {
	tb.Helper()
	err := l.Allow(context.Background(), customer, kyc.ActionDocument)
	if err == nil {
		return true, 0
	}
	var ke *kyc.Error
	if !errors.As(err, &ke) || ke.Kind != kyc.KindRateLimited || ke.Code != "rate_limited" {
		tb.Fatalf("Allow: %v, want a rate-limited error", err)
	}
	return false, ke.RetryAfter
}

// TestLimiterSlidingWindow: at most N actions in any window of length Per,
// wherever it starts. A fixed hourly counter let N more through at the top
// of the hour; this one refuses until the oldest counted action is Per old,
// and says when that is.
func TestLimiterSlidingWindow(t *testing.T) {
	log, clock := newRateLog(), &testClock{t: t0}
	l := httpapi.NewLimiter(log, map[string]httpapi.Rate{string(kyc.ActionDocument): {N: 3, Per: time.Hour}}, clock.Now)
	steps := []struct {
		at      time.Duration // after 10:30
		allowed bool
		retry   time.Duration
	}{
		{0, true, 0},                                                      // 10:30
		{29 * time.Minute, true, 0},                                       // 10:59
		{29*time.Minute + 30*time.Second, true, 0},                        // 10:59:30
		{30 * time.Minute, false, 30 * time.Minute},                       // 11:00: a new hour, still 3 in the last hour
		{time.Hour - time.Nanosecond, false, 1},                           // 11:29:59.999999999: the first is not quite an hour old
		{time.Hour, true, 0},                                              // 11:30: the first has left the window
		{time.Hour + time.Second, false, 28*time.Minute + 59*time.Second}, // until 10:59 leaves
		{89 * time.Minute, true, 0},                                       // 11:59
	}
	for _, s := range steps {
		clock.t = t0.Add(s.at)
		saves := log.saves
		ok, retry := allow(t, l, "c-1")
		if ok != s.allowed || retry != s.retry {
			t.Fatalf("at %s: allowed %v (retry after %s), want %v (%s)", clock.t.Format("15:04:05.999999999"), ok, retry, s.allowed, s.retry)
		}
		if !ok && log.saves != saves {
			t.Fatalf("at %s: a refused action was written", clock.t.Format("15:04:05"))
		}
	}
	if got := log.times["c-1#document"]; len(got) != 3 || !got[0].Equal(t0.Add(29*time.Minute+30*time.Second)) {
		t.Fatalf("record %v: want the last 3 admitted, oldest first", got)
	}
	if until := log.until["c-1#document"]; !until.Equal(t0.Add(89*time.Minute + time.Hour)) {
		t.Fatalf("record kept until %s, want an hour after the last action", until)
	}
	if ok, _ := allow(t, l, "c-2"); !ok {
		t.Fatal("another customer was limited")
	}
}

// TestLimiterNeverAdmitsMoreThanNInAnyWindow: random bursts over a day; for
// every admitted action, the actions admitted in the hour up to it are at
// most N.
func TestLimiterNeverAdmitsMoreThanNInAnyWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 20 {
		log, clock := newRateLog(), &testClock{t: t0}
		rate := httpapi.Rate{N: 1 + rng.IntN(10), Per: time.Duration(1+rng.IntN(120)) * time.Minute}
		l := httpapi.NewLimiter(log, map[string]httpapi.Rate{string(kyc.ActionDocument): rate}, clock.Now)
		var admitted []time.Time
		refused := 0
		for range 400 {
			clock.t = clock.t.Add(time.Duration(rng.ExpFloat64() * float64(rate.Per) / float64(rate.N)))
			ok, retry := allow(t, l, "c-1")
			if !ok {
				refused++
				if retry <= 0 || retry > rate.Per {
					t.Fatalf("run %d: Retry-After %s", run, retry)
				}
				continue
			}
			admitted = append(admitted, clock.t)
			in := 0
			for _, a := range admitted {
				if clock.t.Sub(a) < rate.Per {
					in++
				}
			}
			if in > rate.N {
				t.Fatalf("run %d: %d actions admitted in the %s up to %s, limit %d", run, in, rate.Per, clock.t, rate.N)
			}
		}
		if refused == 0 || len(admitted) == 0 {
			t.Fatalf("run %d: %d admitted, %d refused: the bursts did not reach the limit", run, len(admitted), refused)
		}
	}
}

// TestLimiterRaces: two requests of one customer at once read the same
// record; the loser's conditional write fails and it decides again on the
// winner's record, so the limit holds.
func TestLimiterRaces(t *testing.T) {
	log, clock := newRateLog(), &testClock{t: t0}
	l := httpapi.NewLimiter(log, map[string]httpapi.Rate{string(kyc.ActionDocument): {N: 2, Per: time.Hour}}, clock.Now)
	if ok, _ := allow(t, l, "c-1"); !ok {
		t.Fatal("first refused")
	}
	log.before = func() { // another request admitted between this one's read and its write
		if ok, _ := allow(t, l, "c-1"); !ok {
			t.Error("the racing request was refused")
		}
	}
	if ok, _ := allow(t, l, "c-1"); ok {
		t.Fatal("a third action in the hour was admitted after losing the race")
	}
	if n := len(log.times["c-1#document"]); n != 2 {
		t.Fatalf("%d actions recorded, want 2", n)
	}

	log.fail = []error{kyc.ErrStale, kyc.ErrStale, kyc.ErrStale, kyc.ErrStale, kyc.ErrStale}
	err := l.Allow(context.Background(), "c-2", kyc.ActionDocument)
	if kyc.CodeOf(err) != "busy" {
		t.Fatalf("a record that keeps changing: %v, want busy", err)
	}
	boom := errors.New("throttled")
	log.fail = []error{boom}
	if err := l.Allow(context.Background(), "c-2", kyc.ActionDocument); !errors.Is(err, boom) || kyc.KindOf(err) != kyc.KindInternal {
		t.Fatalf("a store failure: %v", err)
	}
}

func TestLimiterDefaultsAndUnlimitedActions(t *testing.T) {
	log := newRateLog()
	l := httpapi.NewLimiter(log, nil, func() time.Time { return t0 })
	for i := range httpapi.DefaultRates[string(kyc.ActionSubmission)].N {
		if err := l.Allow(context.Background(), "c-1", kyc.ActionSubmission); err != nil {
			t.Fatalf("submission %d: %v", i+1, err)
		}
	}
	if err := l.Allow(context.Background(), "c-1", kyc.ActionSubmission); kyc.KindOf(err) != kyc.KindRateLimited {
		t.Fatalf("submission %d: %v", httpapi.DefaultRates[string(kyc.ActionSubmission)].N+1, err)
	}
	saves := log.saves
	if err := l.Allow(context.Background(), "c-1", kyc.Action("status")); err != nil || log.saves != saves {
		t.Fatalf("an action without a rate: %v, %d writes", err, log.saves-saves)
	}
}
