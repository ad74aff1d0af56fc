package notify

import (
	"context"
	"sync"
)

// MemoryCases keeps cases in memory, for the tests (a test file of package
// notify, so it is not in the product).
type MemoryCases struct {
	mu    sync.Mutex
	cases map[string]Case
	fail  map[string]error
	held  int    // reads still to hold (HoldReads)
	hold  func() // what a held read does after reading
}

var _ Cases = (*MemoryCases)(nil)

// NewMemoryCases returns an empty MemoryCases.
func NewMemoryCases() *MemoryCases {
	return &MemoryCases{cases: map[string]Case{}, fail: map[string]error{}}
}

// FailNext makes the next call of a method ("Case", "StartCase",
// "SaveCase", "ForgetCase") return err and do nothing.
func (m *MemoryCases) FailNext(method string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail[method] = err
}

func (m *MemoryCases) failed(method string) error {
	err := m.fail[method]
	delete(m.fail, method)
	return err
}

// HoldReads makes the next n calls of Case wait for one another once they
// have read: n notices run at once all read the record before any goes on.
func (m *MemoryCases) HoldReads(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held, m.hold = n, func() { wg.Done(); wg.Wait() }
}

// Case implements Cases.
func (m *MemoryCases) Case(_ context.Context, customerID string) (Case, bool, error) {
	m.mu.Lock()
	if err := m.failed("Case"); err != nil {
		m.mu.Unlock()
		return Case{}, false, err
	}
	c, ok := m.cases[customerID]
	var hold func()
	if m.held > 0 {
		m.held--
		hold = m.hold
	}
	m.mu.Unlock()
	if hold != nil {
		hold()
	}
	return c, ok, nil
}

// StartCase implements Cases.
func (m *MemoryCases) StartCase(_ context.Context, c Case, prev *Case) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failed("StartCase"); err != nil {
		return err
	}
	old, exists := m.cases[c.CustomerID]
	if exists != (prev != nil) || (exists && old != *prev) {
		return ErrCaseChanged
	}
	m.cases[c.CustomerID] = c
	return nil
}

// SaveCase implements Cases.
func (m *MemoryCases) SaveCase(_ context.Context, c Case) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failed("SaveCase"); err != nil {
		return err
	}
	m.cases[c.CustomerID] = c
	return nil
}

// ForgetCase implements Cases.
func (m *MemoryCases) ForgetCase(_ context.Context, customerID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failed("ForgetCase"); err != nil {
		return err
	}
	delete(m.cases, customerID)
	return nil
}
