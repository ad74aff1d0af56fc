// Package ledgertest has a ledger.Ledger in memory, with the same rules as
// the DynamoDB ledger, and the contract suite both are checked against.
package ledgertest

import (
	"context"
	"sync"
	"time"

	"github.com/kycgate/kycgate/shared/ledger"
)

// Memory is a Ledger in memory, with the same rules as DynamoLedger:
// for tests and single-process tools.
type Memory struct {
	StaleAfter time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	entries map[string]ledger.Entry
}

var _ ledger.Ledger = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{StaleAfter: ledger.DefaultStaleAfter, Now: time.Now, entries: map[string]ledger.Entry{}}
}

// Entry implements Ledger.
func (m *Memory) Entry(_ context.Context, id string) (ledger.Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	return e, ok, nil
}

// Claim implements Ledger.
func (m *Memory) Claim(_ context.Context, id string, _ map[string]string) (ledger.Claim, error) {
	if err := ledger.CheckID(id); err != nil {
		return ledger.Claim{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.Now()
	old, exists := m.entries[id]
	switch {
	case exists && old.State == ledger.StateApplied:
		return ledger.Claim{}, ledger.ErrDone
	case exists && (old.State == ledger.StateApplying || (old.State == ledger.StateFailed && old.InDoubt)) && !old.Since.Before(now.Add(-m.StaleAfter)):
		return ledger.Claim{}, ledger.ErrBusy
	}
	e := old
	e.ID, e.State, e.Since, e.Attempts = id, ledger.StateApplying, now.UTC(), old.Attempts+1
	m.entries[id] = e
	return ledger.Claim{ID: id, Since: e.Since, Attempt: e.Attempts, Resumed: exists && (old.State == ledger.StateApplying || old.Uncertain),
		Checkpoint: old.Checkpoint}, nil
}

// Done implements Ledger.
func (m *Memory) Done(_ context.Context, c ledger.Claim, outcome string) error {
	return m.finish(c, func(e *ledger.Entry) { e.State, e.Outcome = ledger.StateApplied, outcome })
}

// Fail implements Ledger.
func (m *Memory) Fail(_ context.Context, c ledger.Claim, uncertain bool, kind string) error {
	return m.finish(c, func(e *ledger.Entry) {
		e.State, e.Uncertain, e.InDoubt, e.ErrorKind = ledger.StateFailed, uncertain || c.Resumed, uncertain, kind
	})
}

// Checkpoint implements Ledger.
func (m *Memory) Checkpoint(_ context.Context, c ledger.Claim, checkpoint string) error {
	return m.finish(c, func(e *ledger.Entry) { e.Checkpoint = checkpoint })
}

func (m *Memory) finish(c ledger.Claim, f func(*ledger.Entry)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[c.ID]
	if !ok || e.State != ledger.StateApplying || !e.Since.Equal(c.Since) {
		return ledger.ErrLost
	}
	f(&e)
	m.entries[c.ID] = e
	return nil
}

// Set writes an entry directly (tests: a marker left by a crashed attempt).
func (m *Memory) Set(e ledger.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[e.ID] = e
}
