package kyc

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config holds the settings of the service.
type Config struct {
	// Products says which products require KYC.
	Products ProductSet
	// MaxUploadBytes is the largest accepted document.
	MaxUploadBytes int64
	// KMSKeyID is the key uploads must be encrypted under (id or ARN).
	KMSKeyID string
	// UploadTTL is how long an upload form is valid (at most 15 minutes).
	UploadTTL time.Duration
	// LinkTTL is how long a reviewer's download link is valid (at most 5 minutes).
	LinkTTL time.Duration
	// Retention says when files are purged; DefaultRetention when zero.
	Retention Retention
}

// Limits of the configuration.
const (
	MaxUploadTTL = 15 * time.Minute
	MaxLinkTTL   = 5 * time.Minute
)

// Deps are the ports the service uses. A function wires only the ones its
// operations need; the others may be nil.
type Deps struct {
	Store     Store
	Files     Files
	Sealer    Sealer
	Publisher Publisher
	// Now is the server clock: approval time is the time a decision commits.
	Now func() time.Time
	// NewID returns a new unguessable id; defaults to 128 random bits.
	NewID func() string
	Log   *slog.Logger
}

// Service applies the policy: it loads records, lets the rules decide, commits
// the change in one conditional write and publishes its events.
type Service struct {
	Deps
	cfg Config
}

// NewService returns a service. Missing settings take their defaults; limits
// that would weaken the policy are clamped.
func NewService(d Deps, cfg Config) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.NewID == nil {
		d.NewID = NewID
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.UploadTTL <= 0 || cfg.UploadTTL > MaxUploadTTL {
		cfg.UploadTTL = 10 * time.Minute
	}
	if cfg.LinkTTL <= 0 || cfg.LinkTTL > MaxLinkTTL {
		cfg.LinkTTL = MaxLinkTTL
	}
	if cfg.Retention == (Retention{}) {
		cfg.Retention = DefaultRetention
	}
	if cfg.Products == nil {
		cfg.Products = ProductSet{}
	}
	return &Service{Deps: d, cfg: cfg}
}

// Config returns the service's effective settings.
func (s *Service) Config() Config { return s.cfg }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns 128 random bits as 26 lower-case base32 characters.
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // rand.Read never fails on supported platforms
	}
	return strings.ToLower(idEncoding.EncodeToString(b))
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// customer loads a customer's record; a customer never seen starts unverified.
func (s *Service) customer(ctx context.Context, id string) (Customer, error) {
	c, err := s.Store.Customer(ctx, id)
	if errors.Is(err, ErrNotExist) {
		return NewCustomer(id, s.now()), nil
	}
	if err != nil {
		return Customer{}, fmt.Errorf("load customer: %w", err)
	}
	return c, nil
}

// account loads a customer's record, documents and closed holds in one read;
// a customer never seen starts unverified.
func (s *Service) account(ctx context.Context, id string) (Customer, Account, error) {
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return Customer{}, Account{}, fmt.Errorf("load customer: %w", err)
	}
	if a.Customer == nil {
		return NewCustomer(id, s.now()), a, nil
	}
	return *a.Customer, a, nil
}

// commit writes a change (with whatever else w carries) and then publishes
// its events. The events go into an outbox record in the same write, so a
// crash between the write and the publication loses nothing: the next sweep
// publishes what is left.
func (s *Service) commit(ctx context.Context, w Work, ch Change, at time.Time) error {
	head, entries := ch.Customer.Audit.Chain(ch.Audit)
	w.Customer, w.Closed, w.Audit = ch.Customer, ch.Closed, entries
	w.Customer.Audit = head
	if len(ch.Events) > 0 {
		w.Outbox = &Outbox{ID: s.NewID(), CreatedAt: at, Events: ch.Events}
	}
	if err := s.Store.Commit(ctx, w); err != nil {
		return err
	}
	s.publish(ctx, w.Outbox)
	return nil
}

// publish sends an outbox's events and removes the outbox. A failure is
// logged, not returned: the change is committed, and the sweep re-publishes.
func (s *Service) publish(ctx context.Context, o *Outbox) {
	if o == nil {
		return
	}
	if err := s.Publisher.Publish(ctx, o.Events); err != nil {
		s.Log.WarnContext(ctx, "publish failed; the sweep will publish the outbox", "outbox", o.ID, "err", err)
		return
	}
	if err := s.Store.DeleteOutbox(ctx, o.ID); err != nil {
		s.Log.WarnContext(ctx, "outbox not removed; the sweep will publish it again (consumers are idempotent)", "outbox", o.ID, "err", err)
	}
}

// maxAttempts bounds the read-decide-write loop when writes race.
const maxAttempts = 5

// retry runs op until it does not lose a race (ErrStale), at most maxAttempts
// times. Each attempt re-reads, so the rules decide on fresh state.
func retry(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if !errors.Is(err, ErrStale) {
			return err
		}
		if attempt == maxAttempts {
			return Conflict("busy", "the record kept changing; try again")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
		}
	}
}

// record appends audit entries to a customer's trail without changing it
// otherwise (a claim, a document link issued).
func (c Customer) record(by Actor, at time.Time, entries ...AuditEntry) Change {
	ch := c.begin(by, at)
	for _, e := range entries {
		ch.audit(e)
	}
	return ch.done()
}
