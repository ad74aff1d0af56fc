package ledgertest_test

import (
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/ledger"
	"github.com/kycgate/kycgate/shared/ledger/ledgertest"
)

func TestMemory(t *testing.T) {
	ledgertest.TestLedger(t, func(_ *testing.T, now func() time.Time) ledger.Ledger {
		m := ledgertest.NewMemory()
		m.Now = now
		return m
	})
}
