package eventbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kycgate/kycgate/shared/kyc"
)

// fakeBridge answers PutEvents in the client's middleware stack, before
// anything is sent: it records each request and answers with respond.
type fakeBridge struct {
	mu       sync.Mutex
	requests [][]types.PutEventsRequestEntry
	// respond returns the result entries for a request (nil: all accepted),
	// or an error for the whole call.
	respond func(call int, entries []types.PutEventsRequestEntry) ([]types.PutEventsResultEntry, error)
}

func (f *fakeBridge) client() *eventbridge.Client {
	return eventbridge.New(eventbridge.Options{
		Region: "eu-central-1",
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("fakePutEvents",
				func(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					req := in.Parameters.(*eventbridge.PutEventsInput)
					f.mu.Lock()
					call := len(f.requests)
					f.requests = append(f.requests, req.Entries)
					f.mu.Unlock()
					var results []types.PutEventsResultEntry
					var err error
					if f.respond != nil {
						results, err = f.respond(call, req.Entries)
					}
					if err != nil {
						return middleware.InitializeOutput{}, middleware.Metadata{}, err
					}
					out := &eventbridge.PutEventsOutput{}
					if results == nil {
						for i := range req.Entries {
							results = append(results, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprint("eb-", call, "-", i))})
						}
					}
					for _, r := range results {
						if r.ErrorCode != nil {
							out.FailedEntryCount++
						}
					}
					out.Entries = results
					return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
				}), middleware.Before)
		}},
	})
}

func testBus(f *fakeBridge) *Bus {
	b := New(f.client(), "kyc-bus")
	b.backoff = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	return b
}

func detailID(tb testing.TB, e types.PutEventsRequestEntry) string {
	tb.Helper()
	var d struct {
		ID string `json:"eventId"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
		tb.Fatalf("detail is not JSON: %v", err)
	}
	return d.ID
}

func sampleEvents(n int) []kyc.Event {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	out := make([]kyc.Event, n)
	for i := range out {
		out[i] = kyc.Event{Type: kyc.ServiceProvisionRequested, ID: fmt.Sprintf("o%d:provision", i), At: at.Add(time.Duration(i) * time.Second),
			CustomerID: "c1", OrderID: fmt.Sprint("o", i), ServiceID: "s1", ProductID: "kyc-vps"}
	}
	return out
}

func TestPublishEntries(t *testing.T) {
	f := &fakeBridge{}
	b := testBus(f)
	from := kyc.NewDate(2026, 3, 10)
	e := kyc.Event{Type: kyc.ServiceDueDateExtended, ID: "o1:extend", At: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), CustomerID: "c1",
		After: "o1:provision", OrderID: "o1", ServiceID: "s1", PreviousDueDate: &from,
		Extension: &kyc.Extension{Exact: 36 * time.Hour, Days: 2}}
	if err := b.Publish(context.Background(), []kyc.Event{e}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if len(f.requests) != 1 || len(f.requests[0]) != 1 {
		t.Fatalf("requests %v, want one of one entry", f.requests)
	}
	got := f.requests[0][0]
	want, _ := json.Marshal(e)
	if aws.ToString(got.Source) != "kyc" || aws.ToString(got.DetailType) != "ServiceDueDateExtended" ||
		aws.ToString(got.EventBusName) != "kyc-bus" || got.Time == nil || !got.Time.Equal(e.At) || aws.ToString(got.Detail) != string(want) {
		t.Errorf("entry = source %q type %q bus %q time %v detail %s", aws.ToString(got.Source), aws.ToString(got.DetailType),
			aws.ToString(got.EventBusName), got.Time, aws.ToString(got.Detail))
	}
	for _, s := range []string{`"previousDueDate":"2026-03-10"`, `"extension":{"exact":129600000000000,"days":2}`, `"eventId":"o1:extend"`, `"after":"o1:provision"`} {
		if !strings.Contains(aws.ToString(got.Detail), s) {
			t.Errorf("detail %s lacks %s", aws.ToString(got.Detail), s)
		}
	}
	if !strings.Contains(aws.ToString(got.Detail), `"type":"ServiceDueDateExtended"`) {
		t.Error("the detail does not carry its type (a stored event must keep it)")
	}

	// No time: EventBridge stamps it.
	f.requests = nil
	if err := b.Publish(context.Background(), []kyc.Event{{Type: kyc.KycVerified, ID: "x"}}); err != nil {
		t.Fatal(err)
	}
	if f.requests[0][0].Time != nil {
		t.Error("an event without a time was sent with one")
	}
}

func TestPublishBatchesOfTen(t *testing.T) {
	f := &fakeBridge{}
	evs := sampleEvents(23)
	if err := testBus(f).Publish(context.Background(), evs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	var sizes []int
	var ids []string
	for _, r := range f.requests {
		sizes = append(sizes, len(r))
		for _, e := range r {
			ids = append(ids, detailID(t, e))
		}
	}
	if fmt.Sprint(sizes) != "[10 10 3]" {
		t.Errorf("batch sizes %v, want [10 10 3]", sizes)
	}
	for i, e := range evs {
		if i >= len(ids) || ids[i] != e.ID {
			t.Fatalf("published ids %v, want the events in order", ids)
		}
	}
}

func TestPublishBatchesBySize(t *testing.T) {
	f := &fakeBridge{}
	evs := sampleEvents(5)
	for i := range evs {
		evs[i].Type = kyc.KycRejected
		evs[i].CustomerMessage = strings.Repeat("m", 100_000) // ~100 KB each
	}
	if err := testBus(f).Publish(context.Background(), evs); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	var sizes []int
	for _, r := range f.requests {
		sizes = append(sizes, len(r))
		total := 0
		for _, e := range r {
			total += EntrySize(e)
		}
		if total > MaxRequestBytes {
			t.Errorf("a request of %d bytes, over %d", total, MaxRequestBytes)
		}
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Errorf("batch sizes %v, want [2 2 1]", sizes)
	}
}

func TestPublishRefusesOversizedEvent(t *testing.T) {
	f := &fakeBridge{}
	evs := sampleEvents(3)
	evs[2].CustomerMessage = strings.Repeat("m", MaxRequestBytes)
	err := testBus(f).Publish(context.Background(), evs)
	if err == nil || !strings.Contains(err.Error(), "o2:provision") {
		t.Fatalf("Publish(oversized) = %v, want an error naming o2:provision", err)
	}
	if strings.Contains(err.Error(), "mmmm") {
		t.Error("the error carries detail content")
	}
	if len(f.requests) != 0 {
		t.Errorf("%d calls made; an oversized event must stop the publication before any", len(f.requests))
	}
	if err := testBus(f).Publish(context.Background(), []kyc.Event{{ID: "no-type"}}); err == nil {
		t.Error("an event without a type was published")
	}
}

func failEntries(code string, failing func(call int, id string) bool, tb testing.TB) func(int, []types.PutEventsRequestEntry) ([]types.PutEventsResultEntry, error) {
	return func(call int, entries []types.PutEventsRequestEntry) ([]types.PutEventsResultEntry, error) {
		out := make([]types.PutEventsResultEntry, len(entries))
		for i, e := range entries {
			if failing(call, detailID(tb, e)) {
				out[i] = types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("try later")}
			} else {
				out[i] = types.PutEventsResultEntry{EventId: aws.String(fmt.Sprint("eb-", call, "-", i))}
			}
		}
		return out, nil
	}
}

func TestPublishRetriesFailedEntries(t *testing.T) {
	f := &fakeBridge{}
	// o3 fails once, o7 twice; then both are accepted.
	f.respond = failEntries("InternalFailure", func(call int, id string) bool {
		return (call == 0 && (id == "o3:provision" || id == "o7:provision")) || (call == 1 && id == "o7:provision")
	}, t)
	if err := testBus(f).Publish(context.Background(), sampleEvents(10)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	var got []string
	for _, r := range f.requests {
		var ids []string
		for _, e := range r {
			ids = append(ids, detailID(t, e))
		}
		got = append(got, strings.Join(ids, ","))
	}
	want := []string{
		"o0:provision,o1:provision,o2:provision,o3:provision,o4:provision,o5:provision,o6:provision,o7:provision,o8:provision,o9:provision",
		"o3:provision,o7:provision",
		"o7:provision",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("calls:\n%s\nwant only the failed entries retried:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPublishReportsPersistentFailures(t *testing.T) {
	f := &fakeBridge{}
	evs := sampleEvents(23)
	evs[4].CustomerMessage = "private words to the customer"
	f.respond = failEntries("ThrottlingException", func(_ int, id string) bool { return id == "o4:provision" || id == "o21:provision" }, t)
	err := testBus(f).Publish(context.Background(), evs)
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("Publish = %v, want a *FailedError", err)
	}
	if fmt.Sprint(fe.Failed) != "[{o4:provision ThrottlingException} {o21:provision ThrottlingException}]" || fe.Total != 23 {
		t.Errorf("failed %v of %d", fe.Failed, fe.Total)
	}
	msg := err.Error()
	for _, s := range []string{"o4:provision (ThrottlingException)", "o21:provision (ThrottlingException)", "2 of 23"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	for _, s := range []string{"private words", "try later", "kyc-vps", "c1"} {
		if strings.Contains(msg, s) {
			t.Errorf("error %q carries event content %q", msg, s)
		}
	}
	// 3 batches, each failing batch retried len(backoff) times: o4 in batch
	// 1 and o21 in batch 3.
	if want := 3 + 2*3; len(f.requests) != want {
		t.Errorf("%d calls, want %d (3 batches + 3 retries of each failing one)", len(f.requests), want)
	}
	published := map[string]int{}
	for _, r := range f.requests {
		for _, e := range r {
			published[detailID(t, e)]++
		}
	}
	for _, e := range evs {
		if published[e.ID] == 0 {
			t.Errorf("%s was never sent: a failure stopped later batches", e.ID)
		}
	}
}

func TestPublishCallError(t *testing.T) {
	f := &fakeBridge{}
	f.respond = func(call int, _ []types.PutEventsRequestEntry) ([]types.PutEventsResultEntry, error) {
		if call == 1 {
			return nil, errors.New("service unavailable")
		}
		return nil, nil
	}
	err := testBus(f).Publish(context.Background(), sampleEvents(25))
	if err == nil || !strings.Contains(err.Error(), "service unavailable") {
		t.Fatalf("Publish = %v, want the call's error", err)
	}
	if len(f.requests) != 2 {
		t.Errorf("%d calls; after a failed call nothing more is sent", len(f.requests))
	}
}

func TestPublishNothing(t *testing.T) {
	f := &fakeBridge{}
	if err := testBus(f).Publish(context.Background(), nil); err != nil || len(f.requests) != 0 {
		t.Errorf("Publish(nil) = %v with %d calls", err, len(f.requests))
	}
}

func TestPublishContextEndsDuringBackoff(t *testing.T) {
	f := &fakeBridge{}
	f.respond = failEntries("InternalFailure", func(int, string) bool { return true }, t)
	b := New(f.client(), "kyc-bus") // real backoff
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := b.Publish(ctx, sampleEvents(2))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Publish = %v, want the context's error", err)
	}
	var fe *FailedError
	if !errors.As(err, &fe) || len(fe.Failed) != 2 {
		t.Errorf("Publish = %v, want the 2 failed events named too", err)
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Errorf("Publish took %s after its context ended", d)
	}
}

func TestDefaultBackoffIsShort(t *testing.T) {
	var total time.Duration
	for _, d := range defaultBackoff {
		total += d
	}
	if len(defaultBackoff) < 2 || total > time.Second {
		t.Errorf("backoff %v: want a few retries within a second", defaultBackoff)
	}
}
