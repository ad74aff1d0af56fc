package kyctest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Epoch is where a World's clock starts: a Monday morning, UTC.
var Epoch = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// The settings of a World.
const (
	// KMSKeyARN is the key uploads must be encrypted under.
	KMSKeyARN = "arn:aws:kms:ap-east-1:111122223333:key/1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
	// ProductKYC requires KYC; ProductPlain does not.
	ProductKYC   = "kyc-vps"
	ProductPlain = "shared-hosting"
	// Region is the server region of a World's orders, in the time zone
	// Zone; OtherRegion (in OtherZone) is the other configured one.
	Region      = "hk"
	Zone        = "Asia/Hong_Kong"
	OtherRegion = "tw"
	OtherZone   = "Asia/Taipei"
	// MaxUploadBytes is the largest document a World accepts.
	MaxUploadBytes = 64 << 10
	// DefaultReviewer decides what Verify submits.
	DefaultReviewer = "rev-1"
)

// World is every use case of the kyc package (Service, Intake, Validator,
// Sweeper, Auditor) on one set of in-memory ports, with a clock the test
// moves and predictable ids. Its helpers fail the test on an unexpected
// error, so a use-case test reads like the policy:
//
//	w := kyctest.New(t)
//	w.PlaceOrder("cust-1", "o-1")
//	w.Advance(10 * time.Hour)
//	w.Verify("cust-1")
//	if h := w.Hold("cust-1", "o-1"); h.State != kyc.ProvisionedExtended { ... }
type World struct {
	tb testing.TB

	Clock   *Clock
	IDs     *IDs
	Store   *Store
	Files   *Files
	Sealer  *Sealer
	Bus     *Publisher
	Scanner *Scanner
	Config  kyc.Config

	Service   *kyc.Service
	Intake    *kyc.Intake
	Validator *kyc.Validator
	Sweeper   *kyc.Sweeper
	Auditor   *kyc.Auditor

	logs *lockedBuffer
}

// New returns a world at Epoch. configure changes the settings before the
// use cases are built; by default the catalogue has ProductKYC (requires
// KYC) and ProductPlain (does not), the regions are Region and OtherRegion,
// uploads must be encrypted under KMSKeyARN and be at most MaxUploadBytes.
func New(tb testing.TB, configure ...func(*kyc.Config)) *World {
	tb.Helper()
	w := &World{
		tb:      tb,
		Clock:   NewClock(Epoch),
		IDs:     NewIDs("id"),
		Store:   NewStore(),
		Sealer:  NewSealer(),
		Bus:     NewPublisher(),
		Scanner: NewScanner(),
		Config: kyc.Config{
			Products:       kyc.ProductSet{ProductKYC: true, ProductPlain: false},
			Regions:        mustRegions(Region + "=" + Zone + "," + OtherRegion + "=" + OtherZone),
			MaxUploadBytes: MaxUploadBytes,
			KMSKeyID:       KMSKeyARN,
			UploadTTL:      10 * time.Minute,
			LinkTTL:        kyc.MaxLinkTTL,
		},
		logs: &lockedBuffer{},
	}
	for _, c := range configure {
		c(&w.Config)
	}
	w.Files = NewFiles(w.Config.KMSKeyID, w.Clock.Now)
	opts := w.Options()
	w.Service = kyc.NewService(w.Store, w.Files, w.Sealer, w.Bus, w.Config, opts...)
	w.Intake = kyc.NewIntake(w.Store, w.Sealer, w.Bus, w.Config, opts...)
	w.Validator = kyc.NewValidator(w.Store, w.Files, w.Scanner, w.Config, opts...)
	w.Sweeper = kyc.NewSweeper(w.Store, w.Files, w.Bus, w.Config, opts...)
	w.Auditor = kyc.NewAuditor(w.Store, opts...)
	return w
}

func mustRegions(list string) kyc.Regions {
	rs, err := kyc.ParseRegions(list)
	if err != nil {
		panic(err)
	}
	return rs
}

// Options returns the options the world's use cases are built with: its
// clock, its ids and a logger into Logs.
func (w *World) Options() []kyc.Option {
	return []kyc.Option{
		kyc.WithClock(w.Clock.Now),
		kyc.WithIDs(w.IDs.New),
		kyc.WithLogger(slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
}

// Logs returns what the use cases have logged.
func (w *World) Logs() string { return w.logs.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Now returns the world's time.
func (w *World) Now() time.Time { return w.Clock.Now() }

// Advance moves the world's clock by d and returns the new time.
func (w *World) Advance(d time.Duration) time.Time { return w.Clock.Advance(d) }

func (w *World) must(err error, what string) {
	w.tb.Helper()
	if err != nil {
		w.tb.Fatalf("%s: %v", what, err)
	}
}

// Reviewer returns a reviewer actor.
func Reviewer(id string) kyc.Actor { return kyc.Actor{Kind: kyc.ActorReviewer, ID: id} }

// Admin returns an admin actor.
func Admin(id string) kyc.Actor { return kyc.Actor{Kind: kyc.ActorAdmin, ID: id} }

// OrderEvent returns an OrderPlaced event of a ProductKYC order, ordered now,
// in Region, due in a month.
func (w *World) OrderEvent(customerID, orderID string) kyc.BillingEvent {
	now := w.Now()
	return kyc.BillingEvent{OrderID: orderID, ServiceID: "svc-" + orderID, CustomerID: customerID, ProductID: ProductKYC,
		OrderedAt: now, NextDueDate: kyc.NewDate(now.Year(), now.Month()+1, now.Day()), ServerRegion: Region}
}

// Place applies an OrderPlaced event.
func (w *World) Place(e kyc.BillingEvent) kyc.IntakeResult {
	w.tb.Helper()
	res, err := w.Intake.PlaceOrder(context.Background(), e)
	w.must(err, "place order "+e.OrderID)
	return res
}

// PlaceOrder places the order OrderEvent describes.
func (w *World) PlaceOrder(customerID, orderID string) kyc.IntakeResult {
	w.tb.Helper()
	return w.Place(w.OrderEvent(customerID, orderID))
}

// Request returns an upload request of a category: a passport as JPEG for
// identity, a bank statement as PDF for address.
func Request(cat kyc.Category) kyc.DocumentRequest {
	if cat == kyc.Identity {
		return kyc.DocumentRequest{Category: kyc.Identity, Type: kyc.Passport, ContentType: kyc.JPEG, Size: 2048}
	}
	return kyc.DocumentRequest{Category: kyc.Address, Type: kyc.BankStatement, ContentType: kyc.PDF, Size: 4096}
}

// CreateDocument asks for an upload form.
func (w *World) CreateDocument(customerID string, r kyc.DocumentRequest) kyc.NewUpload {
	w.tb.Helper()
	up, err := w.Service.CreateDocument(context.Background(), customerID, r)
	w.must(err, "create document")
	return up
}

// Post uploads content through an upload form and returns the new object
// version (the validator has not seen it yet).
func (w *World) Post(up kyc.NewUpload, content []byte) string {
	w.tb.Helper()
	v, err := w.Files.Post(up.Upload, content)
	w.must(err, "post the upload form")
	return v
}

// Validate runs the validator on an object version, as its S3 event would.
func (w *World) Validate(key, versionID string) kyc.ValidationResult {
	w.tb.Helper()
	res, err := w.Validator.ValidateUpload(context.Background(), key, versionID)
	w.must(err, "validate upload")
	return res
}

// DeliverScans applies the scan results a deferred Scanner kept, as the
// validator's queue delivers GuardDuty's, and returns what the validator
// did with each.
func (w *World) DeliverScans() []kyc.ValidationResult {
	w.tb.Helper()
	var out []kyc.ValidationResult
	for _, r := range w.Scanner.Results() {
		res, err := w.Validator.ApplyScanResult(context.Background(), r)
		w.must(err, "apply scan result")
		out = append(out, res)
	}
	return out
}

// Upload creates a document of a category (Request), uploads a file that
// passes validation through its form, validates it, and returns its id.
func (w *World) Upload(customerID string, cat kyc.Category) string {
	w.tb.Helper()
	r := Request(cat)
	up := w.CreateDocument(customerID, r)
	key := kyc.DocumentKey(customerID, up.DocumentID)
	if res := w.Validate(key, w.Post(up, Content(r.ContentType, int(r.Size)))); res.Outcome != "valid" {
		w.tb.Fatalf("upload %s: validation %s (%s)", cat, res.Outcome, res.Reason)
	}
	return up.DocumentID
}

// SubmitDocuments submits two of the customer's documents.
func (w *World) SubmitDocuments(customerID, identityID, addressID string) string {
	w.tb.Helper()
	r, err := w.Service.Submit(context.Background(), customerID, identityID, addressID)
	w.must(err, "submit")
	return r.SubmissionID
}

// Submit uploads a valid identity and address document and submits them.
func (w *World) Submit(customerID string) string {
	w.tb.Helper()
	return w.SubmitDocuments(customerID, w.Upload(customerID, kyc.Identity), w.Upload(customerID, kyc.Address))
}

// Claim claims a submission for a reviewer.
func (w *World) Claim(reviewer, submissionID string) kyc.QueueItem {
	w.tb.Helper()
	item, err := w.Service.Claim(context.Background(), Reviewer(reviewer), submissionID)
	w.must(err, "claim")
	return item
}

// Decide records a reviewer's decision.
func (w *World) Decide(reviewer, submissionID string, in kyc.DecisionInput) kyc.DecisionResult {
	w.tb.Helper()
	res, err := w.Service.Decide(context.Background(), Reviewer(reviewer), submissionID, in)
	w.must(err, "decide")
	return res
}

// Approval approves both documents of a submission at version.
func Approval(version int) kyc.DecisionInput {
	return kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"}, Address: kyc.Verdict{Result: "approve"}, Version: version}
}

// Rejection approves the identity document and rejects the address document
// of a submission at version, for reasons ("too_old" if none given).
func Rejection(version int, reasons ...kyc.ReasonCode) kyc.DecisionInput {
	if len(reasons) == 0 {
		reasons = []kyc.ReasonCode{"too_old"}
	}
	return kyc.DecisionInput{Identity: kyc.Verdict{Result: "approve"}, Address: kyc.Verdict{Result: "reject", Reasons: reasons}, Version: version}
}

// Open opens a document of a submission for a reviewer (the audited opening
// an approval needs) and returns its link.
func (w *World) Open(reviewer, submissionID string, cat kyc.Category) kyc.Link {
	w.tb.Helper()
	link, err := w.Service.OpenDocument(context.Background(), Reviewer(reviewer), submissionID, cat, "")
	w.must(err, "open the "+string(cat)+" document")
	return link
}

// Review claims a submission for the reviewer and opens both its documents;
// it returns the claim.
func (w *World) Review(reviewer, submissionID string) kyc.QueueItem {
	w.tb.Helper()
	item := w.Claim(reviewer, submissionID)
	w.Open(reviewer, submissionID, kyc.Identity)
	w.Open(reviewer, submissionID, kyc.Address)
	return item
}

// Approve claims a submission for the reviewer, opens its documents and
// approves them.
func (w *World) Approve(reviewer, submissionID string) kyc.DecisionResult {
	w.tb.Helper()
	return w.Decide(reviewer, submissionID, Approval(w.Review(reviewer, submissionID).Version))
}

// Reject claims a submission for the reviewer, opens its documents, approves
// the identity document and rejects the address document.
func (w *World) Reject(reviewer, submissionID string, reasons ...kyc.ReasonCode) kyc.DecisionResult {
	w.tb.Helper()
	return w.Decide(reviewer, submissionID, Rejection(w.Review(reviewer, submissionID).Version, reasons...))
}

// Verify submits two valid documents for the customer and has
// DefaultReviewer approve them now.
func (w *World) Verify(customerID string) kyc.DecisionResult {
	w.tb.Helper()
	return w.Approve(DefaultReviewer, w.Submit(customerID))
}

// Sweep runs the sweep at the world's time.
func (w *World) Sweep() kyc.SweepReport {
	w.tb.Helper()
	rep, err := w.Sweeper.Sweep(context.Background(), w.Now())
	w.must(err, "sweep")
	return rep
}

// Customer returns a customer's stored record.
func (w *World) Customer(id string) kyc.Customer {
	w.tb.Helper()
	c, err := w.Store.Customer(context.Background(), id)
	w.must(err, "customer "+id)
	return c
}

// Hold returns an order's hold, open (on the customer record) or closed.
func (w *World) Hold(customerID, orderID string) kyc.Hold {
	w.tb.Helper()
	if h, ok := w.Customer(customerID).Hold(orderID); ok {
		return h
	}
	h, err := w.Store.ClosedHold(context.Background(), customerID, orderID)
	if errors.Is(err, kyc.ErrNotExist) {
		w.tb.Fatalf("order %s of %s has no hold", orderID, customerID)
	}
	w.must(err, "closed hold")
	return h
}

// Document returns a customer's stored document.
func (w *World) Document(customerID, documentID string) kyc.Document {
	w.tb.Helper()
	d, err := w.Store.Document(context.Background(), customerID, documentID)
	w.must(err, "document "+documentID)
	return d
}

// Submission returns a stored submission.
func (w *World) Submission(id string) kyc.Submission {
	w.tb.Helper()
	s, err := w.Store.Submission(context.Background(), id)
	w.must(err, "submission "+id)
	return s
}

// Audit returns a customer's audit trail.
func (w *World) Audit(customerID string) []kyc.AuditEntry {
	w.tb.Helper()
	trail, err := w.Store.Audit(context.Background(), customerID)
	w.must(err, "audit")
	return trail
}

// Events returns the events published so far; with types, only those.
func (w *World) Events(types ...kyc.EventType) []kyc.Event { return w.Bus.Events(types...) }
