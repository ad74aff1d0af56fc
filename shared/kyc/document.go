package kyc

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// DocState is where an uploaded document stands.
type DocState string

const (
	DocPendingUpload DocState = "pending_upload" // upload form issued, object not validated yet
	// DocScanning: the object passed the checks and waits for the malware
	// scan's result ("being checked"); it is valid only once the scan found
	// no threat.
	DocScanning DocState = "scanning"
	DocValid    DocState = "valid"   // the object exists, passed validation and was scanned clean
	DocInvalid  DocState = "invalid" // failed validation; the object was deleted
	DocPurged   DocState = "purged"  // deleted under the retention policy
)

// DocResult is a reviewer's decision on one document.
type DocResult string

const (
	ResultApproved DocResult = "approved"
	ResultRejected DocResult = "rejected"           // a reason that cannot be fixed by a new copy (altered)
	ResultResubmit DocResult = "resubmit_requested" // rejected for a fixable reason: send a new document
	verdictApprove           = "approve"
	verdictReject            = "reject"
)

// DocDecision is a reviewer's decision on one document of a submission.
type DocDecision struct {
	Result  DocResult    `json:"result"`
	Reasons []ReasonCode `json:"reasons,omitempty"`
	At      time.Time    `json:"at"`
	By      string       `json:"by"`
}

// Document is an uploaded document of a customer.
type Document struct {
	ID           string   `json:"id"`
	CustomerID   string   `json:"customerId"`
	Category     Category `json:"category"`
	Type         DocType  `json:"type"`
	Utility      Utility  `json:"utility,omitempty"`
	ContentType  string   `json:"contentType"`
	DeclaredSize int64    `json:"declaredSize"`
	Key          string   `json:"key"`
	State        DocState `json:"state"`
	// Invalid says why validation failed (State DocInvalid).
	Invalid   InvalidReason `json:"invalid,omitempty"`
	Size      int64         `json:"size,omitempty"`
	VersionID string        `json:"versionId,omitempty"` // the object version that passed validation (or is being scanned)
	// Scan is the malware scan's result for VersionID, or for a version the
	// validator has not checked yet (a result may arrive first).
	Scan *ScanResult `json:"scan,omitempty"`
	// Reviewed is the copy reviewers are shown of an image: the validator's
	// re-encoding of the validated version (nil for a PDF, whose checked
	// original is shown). The original stays, encrypted, as evidence.
	Reviewed     *ReviewCopy  `json:"reviewed,omitempty"`
	FileName     *Sealed      `json:"fileName,omitempty"`
	CreatedAt    time.Time    `json:"createdAt"`
	ValidatedAt  time.Time    `json:"validatedAt,omitzero"`
	SubmissionID string       `json:"submissionId,omitempty"`
	Decision     *DocDecision `json:"decision,omitempty"`
	// PurgeAt is when the retention policy deletes the file (zero: not scheduled).
	PurgeAt  time.Time `json:"purgeAt,omitzero"`
	PurgedAt time.Time `json:"purgedAt,omitzero"`
	// Version counts the record's writes: 0 for a document never stored. A
	// store writes a document only if its stored version is still the one
	// read, and stores it as Version+1, so a writer holding a stale copy fails
	// even when the state it expects is unchanged (a submission keeps a valid
	// document valid).
	Version int `json:"version"`
}

// DocumentRequest is what a customer asks to upload.
type DocumentRequest struct {
	Category    Category `json:"category"`
	Type        DocType  `json:"type"`
	Utility     Utility  `json:"utility,omitempty"`
	ContentType string   `json:"contentType"`
	Size        int64    `json:"size"`
	FileName    string   `json:"fileName,omitempty"`
}

// MaxFileNameLen bounds the optional file name a customer gives.
const MaxFileNameLen = 255

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidID reports whether s can be a customer, order, service or product id:
// 1 to 128 letters, digits and . _ : - (no '/', '#' or spaces), so ids are
// safe inside object keys and record keys.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// DocumentKey is the object key of a document: unguessable and scoped to the
// customer, so a key names its owner.
func DocumentKey(customerID, documentID string) string {
	return "docs/" + customerID + "/" + documentID
}

// ReviewedKey is the object key of a document's reviewed copy (see
// Document.Reviewed), beside the original under its own prefix.
func ReviewedKey(customerID, documentID string) string {
	return "reviewed/" + customerID + "/" + documentID
}

// ReviewCopy is an object written by the validator: the re-encoded copy of a
// validated image.
type ReviewCopy struct {
	Key         string `json:"key"`
	VersionID   string `json:"versionId"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// ViewObject is the object a reviewer is shown of d: its reviewed copy for
// an image, the validated version of the original for a PDF.
func (d Document) ViewObject() (key, versionID, contentType string) {
	if d.Reviewed != nil {
		return d.Reviewed.Key, d.Reviewed.VersionID, d.Reviewed.ContentType
	}
	return d.Key, d.VersionID, d.ContentType
}

// ParseDocumentKey returns the customer and document ids of an object key.
func ParseDocumentKey(key string) (customerID, documentID string, ok bool) {
	rest, found := strings.CutPrefix(key, "docs/")
	if !found {
		return "", "", false
	}
	customerID, documentID, found = strings.Cut(rest, "/")
	if !found || !ValidID(customerID) || !ValidID(documentID) {
		return "", "", false
	}
	return customerID, documentID, true
}

// NewDocument checks a customer's upload request against the catalogue and
// limits and returns the document record to create.
func NewDocument(customerID, id string, r DocumentRequest, maxSize int64, now time.Time) (Document, error) {
	cat, spec, ok := LookupType(r.Type)
	switch {
	case r.Category != Identity && r.Category != Address:
		return Document{}, Invalid("unknown_category", "category must be %q or %q", Identity, Address)
	case !ok:
		return Document{}, Invalid("unknown_type", "%q is not an accepted document type", r.Type)
	case cat != r.Category:
		return Document{}, Invalid("wrong_category", "%q is a %s document, not %s", r.Type, cat, r.Category)
	case len(spec.Utilities) > 0 && !slices.ContainsFunc(spec.Utilities, func(u UtilitySpec) bool { return u.Utility == r.Utility }):
		return Document{}, Invalid("unknown_utility", "a utility bill needs utility: one of water, electricity, gas, landline, internet, cable_tv, mobile_phone")
	case len(spec.Utilities) == 0 && r.Utility != "":
		return Document{}, Invalid("unexpected_utility", "utility applies to utility bills only")
	case !slices.Contains(ContentTypes, r.ContentType):
		return Document{}, Invalid("unsupported_content_type", "contentType must be image/jpeg, image/png or application/pdf")
	case r.Size <= 0:
		return Document{}, Invalid("invalid_size", "size must be the file's size in bytes, at least 1")
	case r.Size > maxSize:
		return Document{}, TooLarge("too_large", "the file is %d bytes; the limit is %d", r.Size, maxSize)
	case len(r.FileName) > MaxFileNameLen:
		return Document{}, Invalid("invalid_file_name", "fileName is longer than %d bytes", MaxFileNameLen)
	}
	return Document{
		ID: id, CustomerID: customerID, Category: r.Category, Type: r.Type, Utility: r.Utility,
		ContentType: r.ContentType, DeclaredSize: r.Size, Key: DocumentKey(customerID, id),
		State: DocPendingUpload, CreatedAt: now,
	}, nil
}

// ObjectInfo is what storage knows about an uploaded object.
type ObjectInfo struct {
	Exists      bool
	Size        int64
	ContentType string
	SSE         string // server-side encryption algorithm, "aws:kms" expected
	KMSKeyID    string // key id or ARN the object is encrypted under
	Head        []byte // the first SniffLen bytes
	VersionID   string
}

// Check validates what storage knows about an uploaded object against its
// document record: it exists, is not empty, is within maxSize, has exactly
// the declared size, is encrypted with SSE-KMS under keyID, and its first
// bytes are those of the declared content type. Whether the bytes decode as
// that type is the validator's decision (filecheck).
func (d Document) Check(o ObjectInfo, keyID string, maxSize int64) (InvalidReason, bool) {
	switch {
	case !o.Exists:
		return InvalidMissing, false
	case o.Size == 0:
		return InvalidEmpty, false
	case o.Size > maxSize:
		return InvalidTooLarge, false
	case o.Size != d.DeclaredSize:
		return InvalidSizeMismatch, false
	case o.SSE != "aws:kms" || !sameKey(o.KMSKeyID, keyID):
		return InvalidEncryption, false
	case Sniff(o.Head) != d.ContentType || o.ContentType != d.ContentType:
		return InvalidTypeMismatch, false
	}
	return "", true
}

// sameKey compares KMS key references that may be ids or ARNs.
func sameKey(a, b string) bool {
	id := func(s string) string {
		if i := strings.LastIndex(s, "key/"); i >= 0 {
			return s[i+len("key/"):]
		}
		return s
	}
	return a != "" && id(a) == id(b)
}
