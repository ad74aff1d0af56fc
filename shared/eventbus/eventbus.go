// Package eventbus publishes the system's events on EventBridge: the
// kyc.Publisher port.
//
// Each kyc.Event becomes one entry with source "kyc", detail-type the event's
// type, the event's JSON as detail and its time. Entries go in batches within
// PutEvents' limits (10 entries, 256 KB); entries EventBridge reports as
// failed are retried a few times with a short backoff. Event ids are
// deterministic, so a retry or a re-publication that duplicates an event is
// recognised by consumers.
package eventbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// PutEvents limits.
const (
	MaxEntries      = 10         // entries per PutEvents call
	MaxRequestBytes = 256 * 1024 // total entry size per PutEvents call, as EventBridge counts it
	timeEntryBytes  = 14         // what a set Time counts for
)

// defaultBackoff are the waits before each retry of failed entries.
var defaultBackoff = []time.Duration{50 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond}

// Bus is the kyc.Publisher port on an EventBridge bus.
type Bus struct {
	client  *eventbridge.Client
	bus     string
	backoff []time.Duration
}

var _ kyc.Publisher = (*Bus)(nil)

// New returns a publisher on the bus named busName.
func New(client *eventbridge.Client, busName string) *Bus {
	return &Bus{client: client, bus: busName, backoff: defaultBackoff}
}

// Failure is an event EventBridge did not accept.
type Failure struct {
	EventID string
	Code    string // EventBridge's error code, e.g. InternalFailure
}

// FailedError reports the events that were still refused after the retries.
// Every other event of the call was published.
type FailedError struct {
	Failed []Failure
	Total  int
}

func (e *FailedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.EventID + " (" + f.Code + ")"
	}
	return fmt.Sprintf("publish: %d of %d events not accepted: %s", len(e.Failed), e.Total, strings.Join(parts, ", "))
}

type entry struct {
	id    string
	size  int
	entry types.PutEventsRequestEntry
}

// Publish puts events on the bus, in order. It returns a *FailedError
// naming the events EventBridge still refused after retrying them, and
// another error if a call failed altogether (the events of earlier batches
// are published then). Errors carry event ids and error codes, never detail.
func (b *Bus) Publish(ctx context.Context, events []kyc.Event) error {
	entries := make([]entry, 0, len(events))
	for i, e := range events {
		id := e.ID
		if id == "" {
			id = fmt.Sprintf("#%d", i)
		}
		if e.Type == "" {
			return fmt.Errorf("publish: event %s has no type", id)
		}
		detail, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("publish: encode event %s: %w", id, err)
		}
		en := types.PutEventsRequestEntry{
			Source:       aws.String(contract.SourceKYC),
			DetailType:   aws.String(string(e.Type)),
			Detail:       aws.String(string(detail)),
			EventBusName: aws.String(b.bus),
		}
		if !e.At.IsZero() {
			en.Time = aws.Time(e.At)
		}
		size := EntrySize(en)
		if size > MaxRequestBytes {
			return fmt.Errorf("publish: event %s is %d bytes, over EventBridge's %d", id, size, MaxRequestBytes)
		}
		entries = append(entries, entry{id: id, size: size, entry: en})
	}
	var failed []Failure
	for _, batch := range batches(entries) {
		f, err := b.put(ctx, batch)
		failed = append(failed, f...)
		if err != nil {
			err = fmt.Errorf("publish: put events: %w", err)
			if len(failed) > 0 {
				err = errors.Join(err, &FailedError{Failed: failed, Total: len(events)})
			}
			return err
		}
	}
	if len(failed) > 0 {
		return &FailedError{Failed: failed, Total: len(events)}
	}
	return nil
}

// EntrySize is the size EventBridge counts for an entry against the
// request limit: 14 bytes for a time, then the UTF-8 bytes of source,
// detail-type, detail and resources.
func EntrySize(e types.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += timeEntryBytes
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// batches splits entries, in order, into groups within PutEvents' limits.
func batches(entries []entry) [][]entry {
	var out [][]entry
	var cur []entry
	size := 0
	for _, e := range entries {
		if len(cur) == MaxEntries || (len(cur) > 0 && size+e.size > MaxRequestBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += e.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// put sends one batch and retries the entries EventBridge reports as failed.
// It returns the entries that still failed after the last retry, and an
// error if a call failed or ctx ended while waiting to retry.
func (b *Bus) put(ctx context.Context, pending []entry) ([]Failure, error) {
	for attempt := 0; ; attempt++ {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(pending))}
		for i, e := range pending {
			in.Entries[i] = e.entry
		}
		out, err := b.client.PutEvents(ctx, in)
		if err != nil {
			return nil, err
		}
		if out.FailedEntryCount == 0 {
			return nil, nil
		}
		var retry []entry
		var failed []Failure
		if len(out.Entries) != len(pending) {
			// Cannot tell which failed: send them all again (consumers
			// deduplicate by event id).
			retry = pending
			for _, e := range pending {
				failed = append(failed, Failure{EventID: e.id, Code: "Unknown"})
			}
		} else {
			for i, r := range out.Entries {
				if r.ErrorCode != nil || r.EventId == nil {
					retry = append(retry, pending[i])
					code := aws.ToString(r.ErrorCode)
					if code == "" {
						code = "Unknown"
					}
					failed = append(failed, Failure{EventID: pending[i].id, Code: code})
				}
			}
		}
		if len(retry) == 0 {
			return nil, nil
		}
		if attempt >= len(b.backoff) {
			return failed, nil
		}
		if err := sleep(ctx, b.backoff[attempt]); err != nil {
			return failed, err
		}
		pending = retry
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
