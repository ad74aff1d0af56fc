// Package ledger records which commands have been carried out, so that each
// is carried out once however often it is delivered: the billing adapter's
// service commands (CMD#<eventId>) and the notifier's notices
// (NOTIFY#<eventId>). It also classifies the errors of an attempt (Classify):
// whether trying again may help and whether the attempt may have done its
// work.
package ledger

import (
	"context"
	"errors"
	"time"
)

// A Ledger records which commands have been applied, so each is applied
// once however often it is delivered. An entry goes
//
//	(none) ──Claim──▶ applying ──Done──▶ applied
//	                      │
//	                      └──Fail──▶ failed ──Claim──▶ applying …
//
// A claim is refused once the entry is applied (ErrDone), and while another
// attempt may still be at work (ErrBusy): an "applying" marker, or a failure
// whose outcome is unknown (the billing system may still be processing it),
// younger than the ledger's stale period. Past that period the entry may be
// claimed again, and that claim is Resumed: the earlier attempt may have
// carried the command out. The uncertain mark is kept until the command is
// applied, so every later claim is Resumed too. A failure known not to have
// changed anything may be claimed again at once.
type Ledger interface {
	// Entry returns the entry of an id; ok is false if there is none.
	Entry(ctx context.Context, id string) (e Entry, ok bool, err error)
	// Claim starts an attempt. note holds ids to keep with the entry (never
	// personal data).
	Claim(ctx context.Context, id string, note map[string]string) (Claim, error)
	// Done marks a claimed id applied, with the billing system's outcome.
	// ErrLost if another attempt has taken the claim over meanwhile.
	Done(ctx context.Context, c Claim, outcome string) error
	// Fail gives a claim back after a failed attempt. uncertain says the
	// billing system may have carried the command out; kind is the error
	// kind, kept for operators.
	Fail(ctx context.Context, c Claim, uncertain bool, kind string) error
	// Checkpoint records, while c holds the entry, where the attempt stands
	// before a step it cannot take back (the billing adapter: the due date it
	// is about to extend), so that a Resumed attempt can tell whether that
	// step was taken. It is kept until a later checkpoint replaces it; never
	// personal data. ErrLost if another attempt has taken the claim over.
	Checkpoint(ctx context.Context, c Claim, checkpoint string) error
}

// State is where a ledger entry stands.
type State string

const (
	StateApplying State = "applying"
	StateApplied  State = "applied"
	StateFailed   State = "failed"
)

// Entry is a ledger entry.
type Entry struct {
	ID        string
	State     State
	Since     time.Time // start of the current or last attempt
	Attempts  int
	Uncertain bool   // an attempt may have applied the command without our knowing
	InDoubt   bool   // the last attempt's outcome is unknown (it may still be running)
	Outcome   string // of the applied command
	ErrorKind string // of the last failed attempt
	// Checkpoint is the last one an attempt recorded ("" if none).
	Checkpoint string
}

// Claim is an attempt's hold on an entry.
type Claim struct {
	ID      string
	Since   time.Time // identifies the attempt
	Attempt int
	// Resumed says an earlier attempt may already have applied the command.
	Resumed bool
	// Checkpoint is what an earlier attempt recorded with Checkpoint ("" if
	// none): where it stood before a step it could not take back.
	Checkpoint string
}

// Ledger errors.
var (
	ErrDone = errors.New("already applied")
	ErrBusy = errors.New("another attempt is in progress")
	ErrLost = errors.New("claim taken over by another attempt")
)

// DefaultStaleAfter is how old an "applying" marker must be before another
// attempt may take over: longer than any billing call may take (the WHMCS
// client gives up after 30 s at most).
const DefaultStaleAfter = 2 * time.Minute

// Class is how a failed attempt is to be handled and reported.
type Class struct {
	// Transient: trying again later may succeed on its own.
	Transient bool
	// Uncertain: the attempt may have done its work (the other side may have
	// carried the command out before the failure reached us).
	Uncertain bool
	// Kind is a short word for logs and the ledger.
	Kind string
}

// Classify describes an error of an attempt. An error says what it is by
// implementing Transient() and Uncertain() (and KindName() for its word);
// ErrBusy is transient and certain; a timeout or any other error counts as
// transient and uncertain, the safe assumption.
func Classify(err error) Class {
	if errors.Is(err, ErrBusy) {
		return Class{Transient: true, Kind: "busy"}
	}
	var k interface {
		Transient() bool
		Uncertain() bool
	}
	if errors.As(err, &k) {
		c := Class{Transient: k.Transient(), Uncertain: k.Uncertain(), Kind: "permanent"}
		var kinded interface{ KindName() string }
		switch {
		case errors.As(err, &kinded):
			c.Kind = kinded.KindName()
		case c.Transient:
			c.Kind = "transient"
		}
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Class{Transient: true, Uncertain: true, Kind: "timeout"}
	}
	return Class{Transient: true, Uncertain: true, Kind: "error"}
}
