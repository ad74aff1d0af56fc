package kyc_test

// Helpers of the use-case tests, which run every use case in-process on
// kyctest's in-memory ports (package kyc_test, so that they can import
// kyctest).

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

var ctx = context.Background()

// errBoom is a failure of a port that the use case cannot know about.
var errBoom = errors.New("boom: the port failed")

// wantErr checks that err is a rule violation of kind and code.
func wantErr(tb testing.TB, err error, kind kyc.Kind, code string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s (kind %d)", code, kind)
	}
	if kyc.KindOf(err) != kind || kyc.CodeOf(err) != code {
		tb.Fatalf("error %v: kind %d code %q, want kind %d code %q", err, kyc.KindOf(err), kyc.CodeOf(err), kind, code)
	}
}

// wantInternal checks that err is a failure that is not a rule violation
// (the HTTP layer answers 500) and wraps cause.
func wantInternal(tb testing.TB, err, cause error) {
	tb.Helper()
	if err == nil || kyc.KindOf(err) != kyc.KindInternal || !errors.Is(err, cause) {
		tb.Fatalf("error %v, want an internal error wrapping %v", err, cause)
	}
}

// types returns the types of events, in order.
func types(events []kyc.Event) []kyc.EventType {
	var out []kyc.EventType
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

// wantEvents checks the types of the events published so far.
func wantEvents(tb testing.TB, w *kyctest.World, want ...kyc.EventType) {
	tb.Helper()
	if got := types(w.Events()); !slices.Equal(got, want) {
		tb.Fatalf("events %v, want %v", got, want)
	}
}

// actions returns the actions of a customer's audit trail, in order.
func actions(tb testing.TB, w *kyctest.World, customerID string) []string {
	tb.Helper()
	var out []string
	for _, e := range w.Audit(customerID) {
		out = append(out, e.Action)
	}
	return out
}

// lastAction returns the last audit entry of a customer.
func lastEntry(tb testing.TB, w *kyctest.World, customerID string) kyc.AuditEntry {
	tb.Helper()
	trail := w.Audit(customerID)
	if len(trail) == 0 {
		tb.Fatalf("customer %s has no audit trail", customerID)
	}
	return trail[len(trail)-1]
}

// unchanged returns a check that nothing was committed since it was made:
// no write to the store, no event.
func unchanged(tb testing.TB, w *kyctest.World) func() {
	tb.Helper()
	commits, creates, updates := w.Store.Calls(kyctest.MethodCommit), w.Store.Calls(kyctest.MethodCreateDocument), w.Store.Calls(kyctest.MethodUpdateDocument)
	events := len(w.Events())
	return func() {
		tb.Helper()
		if n := w.Store.Calls(kyctest.MethodCommit) - commits; n != 0 {
			tb.Fatalf("%d commits, want none", n)
		}
		if n := w.Store.Calls(kyctest.MethodCreateDocument) - creates; n != 0 {
			tb.Fatalf("%d documents created, want none", n)
		}
		if n := w.Store.Calls(kyctest.MethodUpdateDocument) - updates; n != 0 {
			tb.Fatalf("%d documents updated, want none", n)
		}
		if n := len(w.Events()) - events; n != 0 {
			tb.Fatalf("%d events published, want none", n)
		}
	}
}

// noPersonalData checks that none of the values appears in what was logged,
// in any event published, or in clear in any stored record (the audit trail
// included).
func noPersonalData(tb testing.TB, w *kyctest.World, values ...string) {
	tb.Helper()
	events, err := json.Marshal(w.Events())
	if err != nil {
		tb.Fatal(err)
	}
	records := w.Store.Records()
	for _, v := range values {
		if strings.Contains(w.Logs(), v) {
			tb.Fatalf("the logs contain %q:\n%s", v, w.Logs())
		}
		if strings.Contains(string(events), v) {
			tb.Fatalf("an event contains %q", v)
		}
		if j, _ := json.Marshal(v); strings.Contains(records, v) || strings.Contains(records, strings.Trim(string(j), `"`)) {
			tb.Fatalf("a stored record contains %q in clear", v)
		}
	}
}
