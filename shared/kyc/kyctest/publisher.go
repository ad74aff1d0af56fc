package kyctest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Publisher is an in-memory kyc.Publisher: it records the events it is given,
// in order, as the bus would deliver them (each event's JSON, decoded again).
// FailNext makes a publication fail, recording nothing. Publisher is safe for
// concurrent use.
type Publisher struct {
	mu     sync.Mutex
	events []kyc.Event
	hooks  hooks
}

var _ kyc.Publisher = (*Publisher)(nil)

// NewPublisher returns a publisher that has recorded nothing.
func NewPublisher() *Publisher { return &Publisher{} }

// Publish records events, or fails as FailNext arranged.
func (p *Publisher) Publish(ctx context.Context, events []kyc.Event) error {
	if err := p.hooks.enter(MethodPublish); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	out := make([]kyc.Event, 0, len(events))
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("publish %s: %w", e.ID, err)
		}
		var back kyc.Event
		if err := json.Unmarshal(b, &back); err != nil {
			return fmt.Errorf("publish %s: %w", e.ID, err)
		}
		out = append(out, back)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, out...)
	return nil
}

// Events returns the events published so far, in order; with types, only
// the events of those types.
func (p *Publisher) Events(types ...kyc.EventType) []kyc.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []kyc.Event
	for _, e := range p.events {
		if len(types) == 0 || slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// Reset forgets the events published so far.
func (p *Publisher) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = nil
}

// Calls returns how many times Publish has been called (failed calls too).
func (p *Publisher) Calls() int { return p.hooks.Calls(MethodPublish) }

// FailNext makes the next Publish return err and record nothing. Called n
// times, it fails the next n calls.
func (p *Publisher) FailNext(err error) { p.hooks.FailNext(MethodPublish, err) }
