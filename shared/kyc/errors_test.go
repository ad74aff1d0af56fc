package kyc_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kycgate/kycgate/shared/kyc"
)

func TestShortQuotesAPrefix(t *testing.T) {
	long := strings.Repeat("訂", 40)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"o-1", "o-1"},
		{strings.Repeat("a", kyc.MaxQuote), strings.Repeat("a", kyc.MaxQuote)},
		{strings.Repeat("a", kyc.MaxQuote+1), strings.Repeat("a", kyc.MaxQuote) + "…"},
		{long, strings.Repeat("訂", kyc.MaxQuote) + "…"},
	} {
		if got := kyc.Short(tc.in); got != tc.want {
			t.Errorf("Short(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := kyc.Short(long); !utf8.ValidString(got) {
		t.Errorf("Short cut a character in two: %q", got)
	}
}

// Every constructor quotes at most a short prefix of a string argument,
// whatever its type; other arguments are printed whole.
func TestErrorMessagesQuoteAShortPrefix(t *testing.T) {
	id := "ord-" + strings.Repeat("x", 124)
	for _, err := range []error{
		kyc.NotFound("order_not_found", "no order %s", id),
		kyc.Conflict("wrong_state", "order %s is %s", id, kyc.AwaitingKYC),
		kyc.Invalid("unknown_type", "%q is not an accepted document type", kyc.DocType(id)),
		kyc.Forbidden("x", "%s", id),
		kyc.TooLarge("x", "%s", id),
		kyc.RateLimited(0, "%s", id),
	} {
		msg := err.(*kyc.Error).Message
		if strings.Contains(msg, id[:kyc.MaxQuote+1]) || !strings.Contains(msg, id[:kyc.MaxQuote]+"…") {
			t.Errorf("message %q quotes more than %d characters of the id", msg, kyc.MaxQuote)
		}
	}
	msg := kyc.Invalid("x", "%s; %d", strings.Repeat("y", 10), 1234567890123).(*kyc.Error).Message
	if msg != "yyyyyyyyyy; 1234567890123" {
		t.Errorf("message %q changed an argument that is short or not a string", msg)
	}
}

// The 422 of an unknown reason code names every valid code.
func TestUnknownReasonNamesTheCodes(t *testing.T) {
	in := kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"}, Address: kyc.Verdict{Result: "reject", Reasons: []kyc.ReasonCode{"ugly"}}, Version: 1}
	err := in.Validate()
	if kyc.CodeOf(err) != "unknown_reason" {
		t.Fatalf("Validate = %v, want unknown_reason", err)
	}
	msg := err.(*kyc.Error).Message
	for _, r := range kyc.Reasons {
		if !strings.Contains(msg, string(r.Code)) {
			t.Errorf("message %q does not name %s", msg, r.Code)
		}
	}
	if got := kyc.ReasonCodes().String(); !strings.HasPrefix(got, "unreadable, incomplete, ") {
		t.Errorf("ReasonCodes() = %q", got)
	}
}
