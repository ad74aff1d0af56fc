package ledgertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc/kyctest"
	"github.com/kycgate/kycgate/shared/ledger"
)

// TestLedger is the contract every ledger.Ledger keeps, run on the memory
// ledger here and on the DynamoDB ledger beside the local stack
// (infra/local/systemtest): the same assertions on both implementations.
// newLedger returns an empty ledger reading the given clock, with the
// default stale period.
func TestLedger(t *testing.T, newLedger func(t *testing.T, now func() time.Time) ledger.Ledger) {
	ctx := context.Background()
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	setup := func(t *testing.T) (ledger.Ledger, *kyctest.Clock) {
		clk := kyctest.NewClock(start)
		return newLedger(t, clk.Now), clk
	}
	claim := func(t *testing.T, l ledger.Ledger, id string) ledger.Claim {
		t.Helper()
		c, err := l.Claim(ctx, id, map[string]string{"type": "ServiceProvisionRequested"})
		if err != nil {
			t.Fatalf("claim %s: %v", id, err)
		}
		return c
	}

	t.Run("first claim", func(t *testing.T) {
		l, _ := setup(t)
		c := claim(t, l, "a")
		if c.Resumed || c.Attempt != 1 || c.ID != "a" {
			t.Fatalf("first claim %+v", c)
		}
		e, ok, err := l.Entry(ctx, "a")
		if err != nil || !ok || e.State != ledger.StateApplying || e.Attempts != 1 {
			t.Fatalf("entry %+v ok=%v err=%v", e, ok, err)
		}
	})

	t.Run("a fresh marker is busy", func(t *testing.T) {
		l, clk := setup(t)
		claim(t, l, "a")
		clk.Advance(ledger.DefaultStaleAfter) // not yet past the stale period
		if _, err := l.Claim(ctx, "a", nil); !errors.Is(err, ledger.ErrBusy) {
			t.Fatalf("claim of a fresh marker: %v, want ErrBusy", err)
		}
	})

	t.Run("a certain failure may be claimed again at once", func(t *testing.T) {
		l, _ := setup(t)
		c1 := claim(t, l, "a")
		if err := l.Fail(ctx, c1, false, "rejected"); err != nil {
			t.Fatal(err)
		}
		c2, err := l.Claim(ctx, "a", nil)
		if err != nil || c2.Resumed || c2.Attempt != 2 {
			t.Fatalf("claim after a certain failure %+v, %v", c2, err)
		}
	})

	t.Run("an uncertain failure holds, then resumes for good", func(t *testing.T) {
		l, clk := setup(t)
		c1 := claim(t, l, "a")
		if err := l.Fail(ctx, c1, true, "unknown_outcome"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Claim(ctx, "a", nil); !errors.Is(err, ledger.ErrBusy) {
			t.Fatalf("claim right after an uncertain failure: %v, want ErrBusy", err)
		}
		clk.Advance(ledger.DefaultStaleAfter + time.Millisecond)
		c2, err := l.Claim(ctx, "a", nil)
		if err != nil || !c2.Resumed || c2.Attempt != 2 {
			t.Fatalf("claim after the stale period %+v, %v", c2, err)
		}
		if err := l.Fail(ctx, c2, false, "rejected"); err != nil {
			t.Fatal(err)
		}
		c3, err := l.Claim(ctx, "a", nil)
		if err != nil || !c3.Resumed {
			t.Fatalf("the uncertain mark must stick: %+v, %v", c3, err)
		}
		e, _, _ := l.Entry(ctx, "a")
		if !e.Uncertain || e.ErrorKind != "rejected" {
			t.Fatalf("entry %+v", e)
		}
	})

	// A checkpoint survives the attempt that recorded it, so the attempt that
	// resumes it knows where that one stood; a stale holder cannot record one.
	t.Run("a checkpoint is kept for the attempt that resumes", func(t *testing.T) {
		l, clk := setup(t)
		c1 := claim(t, l, "a")
		if c1.Checkpoint != "" {
			t.Fatalf("first claim has checkpoint %q", c1.Checkpoint)
		}
		if err := l.Checkpoint(ctx, c1, "base=2026-12-24"); err != nil {
			t.Fatal(err)
		}
		if e, _, _ := l.Entry(ctx, "a"); e.Checkpoint != "base=2026-12-24" || e.State != ledger.StateApplying {
			t.Fatalf("entry %+v", e)
		}
		clk.Advance(ledger.DefaultStaleAfter + time.Millisecond) // the attempt died
		c2, err := l.Claim(ctx, "a", nil)
		if err != nil || !c2.Resumed || c2.Checkpoint != "base=2026-12-24" {
			t.Fatalf("resumed claim %+v, %v", c2, err)
		}
		if err := l.Checkpoint(ctx, c1, "base=1999-01-01"); !errors.Is(err, ledger.ErrLost) {
			t.Fatalf("checkpoint by the stale holder: %v, want ErrLost", err)
		}
		if err := l.Fail(ctx, c2, false, "rejected"); err != nil {
			t.Fatal(err)
		}
		c3, err := l.Claim(ctx, "a", nil)
		if err != nil || c3.Checkpoint != "base=2026-12-24" {
			t.Fatalf("claim after a failure %+v, %v; the checkpoint must stay", c3, err)
		}
		if err := l.Checkpoint(ctx, c3, "base=2027-01-24"); err != nil {
			t.Fatal(err)
		}
		if err := l.Done(ctx, c3, "applied"); err != nil {
			t.Fatal(err)
		}
		if e, _, _ := l.Entry(ctx, "a"); e.Checkpoint != "base=2027-01-24" || e.State != ledger.StateApplied {
			t.Fatalf("entry %+v", e)
		}
	})

	t.Run("a stale marker is taken over and its holder cannot finish", func(t *testing.T) {
		l, clk := setup(t)
		c1 := claim(t, l, "a")
		clk.Advance(ledger.DefaultStaleAfter + time.Millisecond)
		c2, err := l.Claim(ctx, "a", nil)
		if err != nil || !c2.Resumed {
			t.Fatalf("take-over %+v, %v", c2, err)
		}
		if err := l.Done(ctx, c1, "applied"); !errors.Is(err, ledger.ErrLost) {
			t.Fatalf("Done by the stale holder: %v, want ErrLost", err)
		}
		if err := l.Fail(ctx, c1, false, "x"); !errors.Is(err, ledger.ErrLost) {
			t.Fatalf("Fail by the stale holder: %v, want ErrLost", err)
		}
		if err := l.Done(ctx, c2, "already_active"); err != nil {
			t.Fatal(err)
		}
		e, ok, err := l.Entry(ctx, "a")
		if err != nil || !ok || e.State != ledger.StateApplied || e.Outcome != "already_active" || e.Attempts != 2 {
			t.Fatalf("entry %+v ok=%v err=%v", e, ok, err)
		}
	})

	// An applied entry is never claimed again, however long ago it was
	// applied: a command redelivered after the stale period must not reach
	// the billing system a second time (a second ModuleCreate).
	t.Run("applied stays applied after the stale period", func(t *testing.T) {
		l, clk := setup(t)
		c := claim(t, l, "a")
		if err := l.Done(ctx, c, "applied"); err != nil {
			t.Fatal(err)
		}
		for _, after := range []time.Duration{0, ledger.DefaultStaleAfter + time.Millisecond, 400 * 24 * time.Hour} {
			clk.Advance(after)
			if _, err := l.Claim(ctx, "a", nil); !errors.Is(err, ledger.ErrDone) {
				t.Fatalf("claim of an entry applied %s ago: %v, want ErrDone", after, err)
			}
		}
		e, _, _ := l.Entry(ctx, "a")
		if e.State != ledger.StateApplied || e.Attempts != 1 {
			t.Fatalf("a refused claim changed the entry: %+v", e)
		}
	})

	t.Run("ids", func(t *testing.T) {
		l, _ := setup(t)
		if _, ok, err := l.Entry(ctx, "never"); ok || err != nil {
			t.Fatalf("entry of an unknown id: ok=%v err=%v", ok, err)
		}
		if _, err := l.Claim(ctx, "", nil); err == nil {
			t.Fatal("empty id accepted")
		}
		claim(t, l, "a")
		if c := claim(t, l, "b"); c.Attempt != 1 {
			t.Fatalf("entries are per id: %+v", c)
		}
	})

	t.Run("concurrent claims: one wins", func(t *testing.T) {
		l, _ := setup(t)
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  int
			errs []error
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := l.Claim(ctx, "race", nil)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else if !errors.Is(err, ledger.ErrBusy) {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || len(errs) > 0 {
			t.Fatalf("%d of %d concurrent claims won (errors %v); want exactly 1", won, n, errs)
		}
	})
}
