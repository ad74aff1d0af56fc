package kyctest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// The in-memory store passes the contract suite the DynamoDB store passes
// (infra/local/systemtest runs it there).
func TestStore(t *testing.T) {
	kyctest.TestStore(t, func(*testing.T) kyc.Store { return kyctest.NewStore() })
}

func TestStoreHooks(t *testing.T) {
	ctx := context.Background()
	t.Run("Calls counts every call, failed ones too", func(t *testing.T) {
		st := kyctest.NewStore()
		boom := errors.New("boom")
		st.FailNext(kyctest.MethodCustomer, boom)
		if _, err := st.Customer(ctx, "c-1"); !errors.Is(err, boom) {
			t.Fatalf("first call: %v, want the queued failure", err)
		}
		if _, err := st.Customer(ctx, "c-1"); !errors.Is(err, kyc.ErrNotExist) {
			t.Fatalf("second call: %v, want ErrNotExist (one failure queued)", err)
		}
		if n := st.Calls(kyctest.MethodCustomer); n != 2 {
			t.Fatalf("Calls(Customer) = %d, want 2", n)
		}
		if n := st.Calls(kyctest.MethodCommit); n != 0 {
			t.Fatalf("Calls(Commit) = %d, want 0", n)
		}
	})
	t.Run("a failed commit writes nothing", func(t *testing.T) {
		st := kyctest.NewStore()
		st.FailNext(kyctest.MethodCommit, errors.New("throttled"))
		if err := st.Commit(ctx, kyc.Work{Customer: kyc.NewCustomer("c-1", kyctest.Epoch)}); err == nil {
			t.Fatal("the queued failure was not returned")
		}
		if _, err := st.Customer(ctx, "c-1"); !errors.Is(err, kyc.ErrNotExist) {
			t.Fatalf("customer after a failed commit: %v", err)
		}
	})
	t.Run("Before runs once, before the call reads anything", func(t *testing.T) {
		st := kyctest.NewStore()
		runs := 0
		st.Before(kyctest.MethodCustomer, func() {
			runs++
			if err := st.Commit(ctx, kyc.Work{Customer: kyc.NewCustomer("c-1", kyctest.Epoch)}); err != nil {
				t.Error(err)
			}
		})
		c, err := st.Customer(ctx, "c-1")
		if err != nil || c.Version != 1 {
			t.Fatalf("Customer after the hook committed it: %+v, %v", c, err)
		}
		if _, err := st.Customer(ctx, "c-1"); err != nil || runs != 1 {
			t.Fatalf("hook ran %d times, want once (%v)", runs, err)
		}
	})
	t.Run("Due and the queue refuse a limit below 1", func(t *testing.T) {
		st := kyctest.NewStore()
		if _, err := st.Due(ctx, kyctest.Epoch, 0); err == nil {
			t.Fatal("Due with limit 0 was accepted (DynamoDB refuses Limit 0)")
		}
		if _, err := st.PendingSubmissions(ctx, 0); err == nil {
			t.Fatal("PendingSubmissions with limit 0 was accepted")
		}
	})
	t.Run("a record that cannot be encoded is an error, not a lost race", func(t *testing.T) {
		st := kyctest.NewStore()
		c := kyc.NewCustomer("c-1", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) // JSON times have 4-digit years
		err := st.Commit(ctx, kyc.Work{Customer: c})
		if err == nil || errors.Is(err, kyc.ErrStale) {
			t.Fatalf("commit of an unencodable record: %v", err)
		}
	})
}

func TestStoreAfter(t *testing.T) {
	ctx := context.Background()
	st := kyctest.NewStore()
	var seen []string
	st.After(kyctest.MethodCustomer, func() {
		seen = append(seen, "after")
		if err := st.Commit(ctx, kyc.Work{Customer: kyc.NewCustomer("c-1", kyctest.Epoch)}); err != nil {
			t.Error(err)
		}
	})
	if _, err := st.Customer(ctx, "c-1"); !errors.Is(err, kyc.ErrNotExist) {
		t.Fatalf("the call the hook follows: %v, want what it read before the hook (ErrNotExist)", err)
	}
	if c, err := st.Customer(ctx, "c-1"); err != nil || c.Version != 1 || len(seen) != 1 {
		t.Fatalf("after the hook: %+v, %v; hook ran %d times", c, err, len(seen))
	}
}
