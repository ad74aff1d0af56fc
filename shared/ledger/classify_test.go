package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kycgate/kycgate/shared/ledger"
)

type described struct{ transient, uncertain bool }

func (d described) Error() string    { return "described" }
func (d described) Transient() bool  { return d.transient }
func (d described) Uncertain() bool  { return d.uncertain }
func (d described) KindName() string { return "rejected" }

type bare struct{ transient bool }

func (b bare) Error() string   { return "bare" }
func (b bare) Transient() bool { return b.transient }
func (b bare) Uncertain() bool { return false }

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want ledger.Class
	}{
		{"busy", fmt.Errorf("claim: %w", ledger.ErrBusy), ledger.Class{Transient: true, Kind: "busy"}},
		{"described, wrapped", fmt.Errorf("apply: %w", described{false, false}), ledger.Class{Kind: "rejected"}},
		{"described uncertain", described{true, true}, ledger.Class{Transient: true, Uncertain: true, Kind: "rejected"}},
		{"transient without a kind", bare{true}, ledger.Class{Transient: true, Kind: "transient"}},
		{"permanent without a kind", bare{false}, ledger.Class{Kind: "permanent"}},
		{"timeout", fmt.Errorf("call: %w", context.DeadlineExceeded), ledger.Class{Transient: true, Uncertain: true, Kind: "timeout"}},
		{"anything else is assumed to have maybe happened", errors.New("connection reset"), ledger.Class{Transient: true, Uncertain: true, Kind: "error"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ledger.Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %+v, want %+v", tt.err, got, tt.want)
			}
		})
	}
}
