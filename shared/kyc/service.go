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
	// Products is the product catalogue: every product an order may name,
	// and which of them require KYC.
	Products ProductSet
	// Regions are the server regions an order may name, with their time
	// zones.
	Regions Regions
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

// Option changes how a use case runs outside the policy: the clock, the ids
// of new records, the logger.
type Option func(*core)

// WithClock sets the server clock (time.Now by default): the approval time of
// the policy is the time a decision commits.
func WithClock(now func() time.Time) Option { return func(c *core) { c.clock = now } }

// WithIDs sets the source of new record ids (NewID by default).
func WithIDs(newID func() string) Option { return func(c *core) { c.newID = newID } }

// WithLogger sets the logger (slog.Default() by default).
func WithLogger(l *slog.Logger) Option { return func(c *core) { c.log = l } }

// Limiter bounds how often a customer may do something. Allow records one
// occurrence of action by the customer, or returns a rate-limited error
// (KindRateLimited) without recording anything.
type Limiter interface {
	Allow(ctx context.Context, customerID string, action Action) error
}

// Action is what a Limiter counts.
type Action string

// The actions a customer's limits count.
const (
	ActionDocument   Action = "document"   // an upload form issued
	ActionSubmission Action = "submission" // a submission made
)

// WithLimiter sets the per-customer limits of the customer's use cases (none
// by default). Only requests that passed every check are counted: a refused
// request never uses up a customer's allowance and writes nothing.
func WithLimiter(l Limiter) Option { return func(c *core) { c.limiter = l } }

// core is what every use case has: the records, the settings, a clock, ids
// and a logger.
type core struct {
	store   Store
	cfg     Config
	clock   func() time.Time
	newID   func() string
	log     *slog.Logger
	limiter Limiter
}

func newCore(store Store, cfg Config, opts []Option) core {
	if store == nil {
		panic("kyc: nil Store")
	}
	c := core{store: store, cfg: cfg.withDefaults(), clock: time.Now, newID: NewID, log: slog.Default()}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// withDefaults fills in missing settings and clamps limits that would weaken
// the policy.
func (cfg Config) withDefaults() Config {
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
	return cfg
}

// publishing is a core that commits changes with their events and publishes
// them.
type publishing struct {
	core
	bus Publisher
}

func newPublishing(store Store, bus Publisher, cfg Config, opts []Option) publishing {
	if bus == nil {
		panic("kyc: nil Publisher")
	}
	return publishing{core: newCore(store, cfg, opts), bus: bus}
}

// Service is the customer's and the staff's use cases (the two APIs):
// requirements, status, uploads, submissions, the review queue, claims,
// decisions, customer and order views, legal holds, audit verification and
// disclosures. It loads records, lets the rules decide, commits the change in
// one conditional write and publishes its events.
type Service struct {
	publishing
	files  Files
	sealer Sealer
}

// NewService returns the service of the two APIs. Every port is required.
func NewService(store Store, files Files, sealer Sealer, bus Publisher, cfg Config, opts ...Option) *Service {
	if files == nil || sealer == nil {
		panic("kyc: NewService needs Files and a Sealer")
	}
	return &Service{publishing: newPublishing(store, bus, cfg, opts), files: files, sealer: sealer}
}

// Intake is the billing system's use cases: orders placed and cancelled,
// services expired.
type Intake struct {
	publishing
	sealer Sealer // seals the contact address an order may carry
}

// NewIntake returns the billing intake. Every port is required.
func NewIntake(store Store, sealer Sealer, bus Publisher, cfg Config, opts ...Option) *Intake {
	if sealer == nil {
		panic("kyc: NewIntake needs a Sealer")
	}
	return &Intake{publishing: newPublishing(store, bus, cfg, opts), sealer: sealer}
}

// Validator checks uploaded objects against their document records and
// has them scanned for malware.
type Validator struct {
	core
	files   Files
	scanner Scanner
}

// NewValidator returns the upload validator. Every port is required.
func NewValidator(store Store, files Files, scanner Scanner, cfg Config, opts ...Option) *Validator {
	if files == nil || scanner == nil {
		panic("kyc: NewValidator needs Files and a Scanner")
	}
	return &Validator{core: newCore(store, cfg, opts), files: files, scanner: scanner}
}

// Sweeper applies the rules that time triggers, publishes what a crash left
// unpublished and purges files whose retention ended.
type Sweeper struct {
	publishing
	files Files
}

// NewSweeper returns the sweep. Every port is required.
func NewSweeper(store Store, files Files, bus Publisher, cfg Config, opts ...Option) *Sweeper {
	if files == nil {
		panic("kyc: NewSweeper needs Files")
	}
	return &Sweeper{publishing: newPublishing(store, bus, cfg, opts), files: files}
}

// Config returns the effective settings.
func (c *core) Config() Config { return c.cfg }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns 128 random bits as 26 lower-case base32 characters.
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // rand.Read never fails on supported platforms
	}
	return strings.ToLower(idEncoding.EncodeToString(b))
}

func (c *core) now() time.Time { return c.clock().UTC() }

// allow counts an action of a customer against the limits, if any.
func (c *core) allow(ctx context.Context, customerID string, a Action) error {
	if c.limiter == nil {
		return nil
	}
	return c.limiter.Allow(ctx, customerID, a)
}

// customer loads a customer's record; a customer never seen starts unverified.
func (s *core) customer(ctx context.Context, id string) (Customer, error) {
	c, err := s.store.Customer(ctx, id)
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
func (s *core) account(ctx context.Context, id string) (Customer, Account, error) {
	a, err := s.store.Account(ctx, id)
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
func (s *publishing) commit(ctx context.Context, w Work, ch Change, at time.Time) error {
	head, entries := ch.Customer.Audit.Chain(ch.Audit)
	w.Customer, w.Closed, w.Audit = ch.Customer, ch.Closed, entries
	w.Customer.Audit = head
	if len(ch.Events) > 0 {
		w.Outbox = &Outbox{ID: s.newID(), CreatedAt: at, Events: ch.Events}
	}
	if err := s.store.Commit(ctx, w); err != nil {
		return err
	}
	s.publish(ctx, w.Outbox)
	return nil
}

// publish sends an outbox's events and removes the outbox. A failure is
// logged, not returned: the change is committed, and the sweep re-publishes.
func (s *publishing) publish(ctx context.Context, o *Outbox) {
	if o == nil {
		return
	}
	if err := s.bus.Publish(ctx, o.Events); err != nil {
		s.log.WarnContext(ctx, "publish failed; the sweep will publish the outbox", "outbox", o.ID, "err", err)
		return
	}
	if err := s.store.DeleteOutbox(ctx, o.ID); err != nil {
		s.log.WarnContext(ctx, "outbox not removed; the sweep will publish it again (consumers are idempotent)", "outbox", o.ID, "err", err)
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

// retryResult is retry for an op with a result: that of its last run.
func retryResult[T any](ctx context.Context, op func() (T, error)) (T, error) {
	var res T
	err := retry(ctx, func() error {
		var err error
		res, err = op()
		return err
	})
	return res, err
}

// retrySubmission runs op with the submission read, then, each time op
// answers ErrStale, with the submission read again (as retry).
func (s *Service) retrySubmission(ctx context.Context, read Submission, op func(Submission) error) error {
	sub := read
	return retry(ctx, func() error {
		err := op(sub)
		if errors.Is(err, ErrStale) {
			fresh, rerr := s.submission(ctx, read.ID)
			if rerr != nil {
				return rerr
			}
			sub = fresh
		}
		return err
	})
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

// Auditor verifies customers' audit chains; it needs the records only.
type Auditor struct{ core }

// NewAuditor returns an audit-chain verifier.
func NewAuditor(store Store, opts ...Option) *Auditor {
	return &Auditor{core: newCore(store, Config{}, opts)}
}
