package whmcs

import (
	"errors"
	"fmt"
)

// Kind says what a failed call means for the caller.
type Kind int

const (
	// KindRejected: WHMCS answered result=error to the action itself
	// ("Service ID not found", a provisioning module's failure). Nothing
	// changed; repeating the same call gives the same answer until someone
	// fixes the cause.
	KindRejected Kind = iota + 1
	// KindDenied: authentication, the IP allow-list, the API role, or a wrong
	// API URL. The configuration must be fixed.
	KindDenied
	// KindUnavailable: the request was not processed (connection refused,
	// DNS, HTTP 429 or 503). Safe to send again.
	KindUnavailable
	// KindUnknown: the request may or may not have been processed (timeout,
	// other 5xx, an unreadable reply). Safe to resend only if the action is.
	KindUnknown
	// KindInvalid: the request was not sent because an argument is invalid.
	KindInvalid
)

func (k Kind) String() string {
	switch k {
	case KindRejected:
		return "rejected"
	case KindDenied:
		return "denied"
	case KindUnavailable:
		return "unavailable"
	case KindUnknown:
		return "unknown_outcome"
	case KindInvalid:
		return "invalid"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failed API call. Message is WHMCS's own message when it sent one.
type Error struct {
	Action  string
	Kind    Kind
	Status  int // HTTP status, 0 if no reply
	Message string
	Err     error
}

func (e *Error) Error() string {
	s := "whmcs " + e.Action + ": " + e.Kind.String()
	if e.Status != 0 && e.Status != 200 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether trying again later may succeed without anyone
// changing anything.
func (e *Error) Transient() bool { return e.Kind == KindUnavailable || e.Kind == KindUnknown }

// Uncertain reports whether WHMCS may have carried the action out although
// the call failed.
func (e *Error) Uncertain() bool { return e.Kind == KindUnknown }

// KindName is the Kind as a word (rejected, denied, unavailable,
// unknown_outcome, invalid) for logs and records.
func (e *Error) KindName() string { return e.Kind.String() }

// asError is errors.As for *Error.
func asError(err error, target **Error) bool { return errors.As(err, target) }
