package kyc

import (
	"context"
	"time"
)

// Store keeps the records. Every method that writes is conditional: it fails
// with ErrStale when what the caller read has changed, and changes nothing.
type Store interface {
	// Customer returns a customer's record, or ErrNotExist.
	Customer(ctx context.Context, id string) (Customer, error)
	// Account returns a customer's record (nil if never stored), documents
	// and closed holds in one read.
	Account(ctx context.Context, id string) (Account, error)
	// Commit writes a unit of work atomically (one DynamoDB transaction).
	Commit(ctx context.Context, w Work) error

	// OrderOwner returns the customer of an order, or ErrNotExist.
	OrderOwner(ctx context.Context, orderID string) (string, error)
	// ClosedHold returns a hold that reached a terminal state, or ErrNotExist.
	ClosedHold(ctx context.Context, customerID, orderID string) (Hold, error)

	// Document returns one of a customer's documents, or ErrNotExist.
	Document(ctx context.Context, customerID, documentID string) (Document, error)
	// CreateDocument stores a new document record (at version 1); ErrStale
	// if the id is taken.
	CreateDocument(ctx context.Context, d Document) error
	// UpdateDocument replaces a document record if its state is still expect
	// and its version still d.Version (the one read), as d.Version+1.
	UpdateDocument(ctx context.Context, d Document, expect DocState) error

	// Submission returns a submission, or ErrNotExist.
	Submission(ctx context.Context, id string) (Submission, error)
	// SaveSubmission replaces a submission if its version is still expectVersion.
	SaveSubmission(ctx context.Context, s Submission, expectVersion int) error
	// PendingSubmissions returns submissions waiting for review, oldest first.
	PendingSubmissions(ctx context.Context, limit int) ([]Submission, error)
	// OldestPending returns the submission waiting longest, or ErrNotExist.
	OldestPending(ctx context.Context) (Submission, error)
	// PendingCount returns how many submissions wait for review. It reads
	// the review queue's index only.
	PendingCount(ctx context.Context) (int, error)

	// Due returns what a sweep at now must look at: customers with something
	// due, and outbox records not yet published. It reads the due index only.
	Due(ctx context.Context, now time.Time, limit int) (Due, error)
	// DeleteOutbox removes an outbox record once its events are published.
	DeleteOutbox(ctx context.Context, id string) error

	// Audit returns a customer's audit trail in sequence order.
	Audit(ctx context.Context, customerID string) ([]AuditEntry, error)

	// Disclosure returns a disclosure, or ErrNotExist.
	Disclosure(ctx context.Context, id string) (Disclosure, error)

	// SubmissionsByDocNumber returns the submissions, of every customer,
	// whose DocNumberHash is hash, newest first, at most limit. It reads the
	// document-number index only (never the whole table).
	SubmissionsByDocNumber(ctx context.Context, hash string, limit int) ([]Submission, error)
}

// Account is everything of one customer but the audit trail.
type Account struct {
	Customer  *Customer
	Documents []Document
	Closed    []Hold
}

// Document returns one of the account's documents.
func (a Account) Document(id string) (Document, bool) {
	for _, d := range a.Documents {
		if d.ID == id {
			return d, true
		}
	}
	return Document{}, false
}

// Work is one atomic write. The customer record is always part of it, written
// only if its stored version is still Customer.Version (0: it must not exist
// yet); the store writes it with Version+1.
type Work struct {
	Customer Customer
	// Closed holds are written as their own records.
	Closed []Hold
	// NewOrder, if set, maps the order to the customer; it must not exist yet
	// (a redelivered order is refused).
	NewOrder string
	// Submission, if set, is written if its stored version is
	// SubmissionVersion (0: it must not exist yet).
	Submission        *Submission
	SubmissionVersion int
	// Documents are written if their stored state is still the given one and
	// their stored version still Document.Version (as Version+1).
	Documents []DocumentUpdate
	// Audit entries are appended (already chained from Customer.Audit).
	Audit []AuditEntry
	// Outbox holds the events to publish after the write.
	Outbox *Outbox
	// Disclosure, if set, is written if its stored version is
	// DisclosureVersion (0: it must not exist yet).
	Disclosure        *Disclosure
	DisclosureVersion int
}

// DocumentUpdate is a document to write if its stored state is Expect and
// its stored version is Document.Version.
type DocumentUpdate struct {
	Document Document
	Expect   DocState
}

// Outbox is a batch of events written with the change that caused them.
type Outbox struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	Events    []Event   `json:"events"`
}

// Due is what a sweep must look at.
type Due struct {
	Customers []Customer
	Outboxes  []Outbox
	Documents []Document // documents whose retention has ended
}

// Publisher publishes events on the bus.
type Publisher interface {
	Publish(ctx context.Context, events []Event) error
}

// Files stores uploaded documents.
type Files interface {
	// PresignUpload returns a browser form that can upload exactly d's object:
	// its key, content type, a size of exactly d.DeclaredSize bytes (which
	// must be 1..maxSize), SSE-KMS and the unsubmitted tag, valid for ttl.
	PresignUpload(ctx context.Context, d Document, maxSize int64, ttl time.Duration) (Upload, error)
	// Inspect returns what storage knows about an object version ("" for the
	// current one) and its first SniffLen bytes.
	Inspect(ctx context.Context, key, versionID string) (ObjectInfo, error)
	// Read returns what storage knows about an object version ("" for the
	// current one) and, when the object exists and is at most maxSize bytes,
	// its whole content (nil otherwise).
	Read(ctx context.Context, key, versionID string, maxSize int64) (ObjectInfo, []byte, error)
	// WriteReviewed stores content as d's reviewed copy (at ReviewedKey,
	// SSE-KMS under the stack's key, tagged unsubmitted like an upload) and
	// returns where it is.
	WriteReviewed(ctx context.Context, d Document, content []byte, contentType string) (ReviewCopy, error)
	// Delete removes every version of an object; a missing object is fine.
	Delete(ctx context.Context, key string) error
	// DeleteVersion removes one version of an object.
	DeleteVersion(ctx context.Context, key, versionID string) error
	// MarkSubmitted re-tags an object version (the validated one, or the
	// reviewed copy) so the never-submitted lifecycle rule leaves it alone.
	MarkSubmitted(ctx context.Context, key, versionID string) error
	// PresignView returns a short-lived link that shows a reviewer d's view
	// object (Document.ViewObject: the reviewed copy of an image, the
	// validated version of a PDF) inline, as its validated content type.
	PresignView(ctx context.Context, d Document, ttl time.Duration) (Link, error)
	// PresignExport returns a link, for an approved disclosure, that
	// downloads d's validated original (the evidence) as an attachment of
	// its content type; it may live up to an hour.
	PresignExport(ctx context.Context, d Document, ttl time.Duration) (Link, error)
}

// Upload is a presigned browser form.
type Upload struct {
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Link is a presigned download link.
type Link struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Sealer encrypts personal fields with the customer's own data key.
type Sealer interface {
	Seal(ctx context.Context, customerID string, plaintext []byte) (Sealed, error)
	Open(ctx context.Context, customerID string, s Sealed) ([]byte, error)
	// Fingerprint is a keyed hash of a value (a document number), equal for
	// equal values across customers, useless without the key.
	Fingerprint(ctx context.Context, value string) (string, error)
}

// Scanner scans uploaded objects for malware before anyone may open them.
// The validator calls Scan with every upload it reads, whatever the checks
// then say. A scanner that knows at once answers with its verdict; one that
// scans on its own or later (GuardDuty Malware Protection for S3 scans every
// new object of the bucket) answers ScanPending, and its result arrives
// through Validator.ApplyScanResult.
type Scanner interface {
	Scan(ctx context.Context, d Document, versionID string, content []byte) (ScanResult, error)
}

// ScanStatus is a malware scan's verdict on an object version.
type ScanStatus string

const (
	ScanPending ScanStatus = "pending" // the result arrives later
	ScanClean   ScanStatus = "clean"   // no threat found
	ScanThreat  ScanStatus = "threat"  // malware found
	// ScanFailed: the object could not be scanned (unsupported, access
	// denied, the scan failed). It is not clean.
	ScanFailed ScanStatus = "failed"
)

// ScanResult is a scanner's verdict on one version of an uploaded object.
type ScanResult struct {
	Key       string     `json:"key"`
	VersionID string     `json:"versionId"`
	Status    ScanStatus `json:"status"`
	// Threats names what was found (the scanner's names, e.g.
	// "EICAR-Test-File (not a virus)").
	Threats []string  `json:"threats,omitempty"`
	At      time.Time `json:"at,omitzero"`
}
