package kyc

import (
	"errors"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"
)

// Kind classifies an error for the outside world. The HTTP layer maps kinds to
// status codes in one table.
type Kind int

const (
	KindInternal    Kind = iota // anything unexpected; never shown to a user
	KindInvalid                 // a value the rules do not accept (422)
	KindNotFound                // no such thing, or not the caller's (404)
	KindConflict                // the thing is in the wrong state for this (409)
	KindForbidden               // the caller's role may not do this (403)
	KindTooLarge                // over a size limit (413)
	KindRateLimited             // too many requests for now (429)
)

// Error is a rule violation with a stable, machine-readable code and a message
// that is safe to show to the caller (it never contains personal data).
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	RetryAfter time.Duration // for KindRateLimited
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newErr(k Kind, code, format string, args ...any) error {
	return &Error{Kind: k, Code: code, Message: fmt.Sprintf(format, shortArgs(args)...)}
}

// MaxQuote is how many characters of an input an error message quotes.
const MaxQuote = 32

// Short returns s if it has at most MaxQuote characters, else its first
// MaxQuote characters followed by "…": an error message quotes at most a
// short prefix of what a caller sent.
func Short(s string) string {
	if utf8.RuneCountInString(s) <= MaxQuote {
		return s
	}
	i := 0
	for range MaxQuote {
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return s[:i] + "…"
}

// shortArgs shortens every argument of an error message whose kind is a
// string (ids, document types, dates: anything a caller may have sent) with
// Short, so that no constructor call can echo a long input. A value meant to
// be quoted whole, such as the list of reason codes, is passed as a type that
// is not a string (ReasonCodeList).
func shortArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
		if v := reflect.ValueOf(a); v.IsValid() && v.Kind() == reflect.String {
			s := v.String()
			if st, ok := a.(fmt.Stringer); ok {
				s = st.String()
			}
			out[i] = Short(s)
		}
	}
	return out
}

// Invalid reports a value the rules do not accept.
func Invalid(code, format string, args ...any) error {
	return newErr(KindInvalid, code, format, args...)
}

// NotFound reports a missing thing (or one that belongs to someone else).
func NotFound(code, format string, args ...any) error {
	return newErr(KindNotFound, code, format, args...)
}

// Conflict reports a thing in the wrong state for the operation.
func Conflict(code, format string, args ...any) error {
	return newErr(KindConflict, code, format, args...)
}

// Forbidden reports a role that may not do the operation.
func Forbidden(code, format string, args ...any) error {
	return newErr(KindForbidden, code, format, args...)
}

// TooLarge reports a size over a limit.
func TooLarge(code, format string, args ...any) error {
	return newErr(KindTooLarge, code, format, args...)
}

// RateLimited reports too many operations; retry after the given time.
func RateLimited(after time.Duration, format string, args ...any) error {
	return &Error{Kind: KindRateLimited, Code: "rate_limited", Message: fmt.Sprintf(format, shortArgs(args)...), RetryAfter: after}
}

// KindOf returns the kind of err, KindInternal for errors that are not rule
// violations.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// CodeOf returns the code of a rule violation, "" for other errors.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrStale is returned by a Store when a conditional write lost a race: what
// the caller read has changed. The service re-reads and decides again.
var ErrStale = errors.New("stale write: the record changed since it was read")

// ErrShredded is returned by a Sealer when the customer's data key has been
// deleted: their sealed fields are gone for good (crypto-shredding).
var ErrShredded = errors.New("the customer's data key has been deleted")

// ErrNotExist is returned by a Store for a missing record.
var ErrNotExist = errors.New("record does not exist")
