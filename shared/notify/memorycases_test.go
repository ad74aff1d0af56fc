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
}

var _ Cases = (*MemoryCases)(nil)

// NewMemoryCases returns an empty MemoryCases.
func NewMemoryCases() *MemoryCases {
	return &MemoryCases{cases: map[string]Case{}, fail: map[string]error{}}
}

// FailNext makes the next call of a method ("Case", "SaveCase",
// "ForgetCase") return err and do nothing.
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

// Case implements Cases.
func (m *MemoryCases) Case(_ context.Context, customerID string) (Case, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failed("Case"); err != nil {
		return Case{}, false, err
	}
	c, ok := m.cases[customerID]
	return c, ok, nil
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
