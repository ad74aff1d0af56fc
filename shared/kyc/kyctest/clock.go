package kyctest

import (
	"fmt"
	"sync"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Clock is a clock a test sets and moves; it never moves by itself. It is
// safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time (for kyc.WithClock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// IDs hands out predictable record ids: prefix-000001, prefix-000002, ...
// (valid kyc ids). It is safe for concurrent use.
type IDs struct {
	mu     sync.Mutex
	prefix string
	n      int
}

// NewIDs returns ids starting with prefix.
func NewIDs(prefix string) *IDs { return &IDs{prefix: prefix} }

// New returns the next id (for kyc.WithIDs).
func (g *IDs) New() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	id := fmt.Sprintf("%s-%06d", g.prefix, g.n)
	if !kyc.ValidID(id) {
		panic("kyctest: id prefix " + g.prefix + " makes invalid ids")
	}
	return id
}

// Next returns the id New will return next, without taking it.
func (g *IDs) Next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fmt.Sprintf("%s-%06d", g.prefix, g.n+1)
}
