package kyc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kycgate/kycgate/shared/kyc/idcheck"
)

// Signals are what the gate tells a reviewer about a submission beyond its
// files, computed from what the reviewer recorded (Extracted): the same
// identity document on other customers' accounts, the check digits and
// formats of the document number and the MRZ, the identity document's expiry
// and the age of the proof of address. A signal is a warning with the field
// it is about; only two of them bind: an expired identity document cannot
// be approved, and approving a document verified on another account needs a
// second admin. None of them carries personal data.
type Signals struct {
	// Recorded says the reviewer recorded fields (Record or a decision);
	// without them there is little to check.
	Recorded bool `json:"recorded"`
	// SameDocument lists the other customers' submissions whose recorded
	// identity document number has the same keyed hash, newest first.
	SameDocument []SameDocument `json:"sameDocument"`
	// NumberFormat is the format the recorded document number was
	// recognised in (idcheck: hkid, tw_national_id, tw_arc_new, tw_arc_old),
	// or "none".
	NumberFormat string `json:"numberFormat"`
	// Warnings are every signal, each naming its document and field.
	Warnings []Warning `json:"warnings"`
	// Proposed are the rejection reasons the signals suggest.
	Proposed []Proposal `json:"proposed"`
	// DocumentExpired: the identity document's expiry (recorded, or read
	// from the MRZ) is before Today. It cannot be approved.
	DocumentExpired bool `json:"documentExpired"`
	// AddressTooOld: the proof of address was issued more than three months
	// before Today.
	AddressTooOld bool `json:"addressTooOld"`
	// SecondApprovalRequired: the document number was verified on another
	// account, so approving the submission needs a second admin.
	SecondApprovalRequired bool `json:"secondApprovalRequired"`
	// Today is the date the dates were judged on, in TimeZone: the time
	// zone of the customer's service region.
	Today    Date   `json:"today"`
	TimeZone string `json:"timeZone"`
}

// SameDocument is another customer's submission that recorded the same
// identity document number, and what was decided there.
type SameDocument struct {
	CustomerID   string           `json:"customerId"`
	SubmissionID string           `json:"submissionId"`
	Status       SubmissionStatus `json:"status"`
	SubmittedAt  time.Time        `json:"submittedAt"`
	// Identity is the decision on that submission's identity document
	// (absent while it is pending).
	Identity  DocResult    `json:"identity,omitempty"`
	Reasons   []ReasonCode `json:"reasons,omitempty"`
	DecidedAt time.Time    `json:"decidedAt,omitzero"`
	// Verified: the identity document was approved there.
	Verified bool `json:"verified"`
}

// Warning is one signal: which document and field it is about, a stable
// code, and an English message from a fixed catalogue (never a value the
// reviewer typed). The codes are those of idcheck's findings and those
// below.
type Warning struct {
	Category Category `json:"category"`
	Field    string   `json:"field"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

// Proposal is a rejection reason a signal suggests for a document.
type Proposal struct {
	Category Category   `json:"category"`
	Reason   ReasonCode `json:"reason"`
}

// The codes of the signals that are not idcheck findings.
const (
	WarnDocumentExpired       = "document_expired"
	WarnExpiryDiffersFromMRZ  = "mrz_expiry_mismatch"
	WarnAddressTooOld         = "address_too_old"
	WarnAddressDateFuture     = "address_date_in_future"
	WarnSameDocumentVerified  = "same_document_verified"
	WarnSameDocumentElsewhere = "same_document_other_account"
)

// The rejection reasons the date signals propose.
const (
	ReasonExpiredDocument ReasonCode = "expired_document"
	ReasonTooOld          ReasonCode = "too_old"
)

// AddressMaxAgeMonths is how old, in calendar months, a proof of address may
// be before it is flagged.
const AddressMaxAgeMonths = 3

// mrzExpiryYearsBeforeToday places an MRZ's two-digit expiry year in the
// century: an expiry is at most 50 years before today.
const mrzExpiryYearsBeforeToday = 50

// MaxSameDocument bounds how many submissions with the same document number
// one lookup reads.
const MaxSameDocument = 50

// signalFacts is what the signals are computed from.
type signalFacts struct {
	customerID   string
	recorded     *Extracted // nil: nothing recorded
	identityType DocType
	uses         []Submission // every submission with the same hash (any customer)
	now          time.Time
	zone         *time.Location
}

// computeSignals derives the signals of a submission. It never fails: what
// cannot be read is a warning.
func computeSignals(f signalFacts) Signals {
	sig := Signals{SameDocument: []SameDocument{}, Warnings: []Warning{}, Proposed: []Proposal{}, Recorded: f.recorded != nil}
	zone := f.zone
	if zone == nil {
		zone = time.UTC
	}
	sig.Today, sig.TimeZone = DateIn(f.now, zone), zone.String()
	warn := func(cat Category, field, code, message string) {
		sig.Warnings = append(sig.Warnings, Warning{Category: cat, Field: field, Code: code, Message: message})
	}
	var e Extracted
	if f.recorded != nil {
		e = *f.recorded
	}

	// Check digits and formats of the number and the MRZ (warnings only).
	checked := idcheck.Check(idcheck.Input{DocumentType: string(f.identityType), DocumentNumber: e.DocumentNumber, MRZ: e.MRZ})
	sig.NumberFormat = string(checked.NumberFormat)
	for _, finding := range checked.Findings {
		warn(Identity, string(finding.Field), string(finding.Code), finding.Message)
	}

	// The identity document's expiry: recorded, else the MRZ's.
	expiry, _ := ParseDate(e.DocumentExpiry)
	if m := checked.MRZ; m != nil && m.ExpiryDate.Known() {
		if t, ok := m.ExpiryDate.Resolve(sig.Today.Time().Year() - mrzExpiryYearsBeforeToday); ok {
			fromMRZ := DateIn(t, time.UTC)
			switch {
			case expiry.IsZero():
				expiry = fromMRZ
			case expiry.String() != fromMRZ.String():
				warn(Identity, "documentExpiry", WarnExpiryDiffersFromMRZ, "The recorded expiry date differs from the expiry date in the MRZ; check it against the document.")
			}
		}
	}
	if !expiry.IsZero() && sig.Today.After(expiry) {
		sig.DocumentExpired = true
		warn(Identity, "documentExpiry", WarnDocumentExpired, "The identity document expired before today (in the service region's time zone): it cannot be approved; reject it with expired_document.")
		sig.Proposed = append(sig.Proposed, Proposal{Identity, ReasonExpiredDocument})
	}

	// The proof of address's age.
	if issued, err := ParseDate(e.AddressDate); err == nil && !issued.IsZero() {
		switch {
		case issued.Before(sig.Today.AddMonths(-AddressMaxAgeMonths)):
			sig.AddressTooOld = true
			warn(Address, "addressDate", WarnAddressTooOld, "The proof of address was issued more than three months ago; reject it with too_old unless the policy allows an exception.")
			sig.Proposed = append(sig.Proposed, Proposal{Address, ReasonTooOld})
		case issued.After(sig.Today):
			warn(Address, "addressDate", WarnAddressDateFuture, "The recorded date of the proof of address is after today; check it against the document.")
		}
	}

	// The same document number on other customers' accounts.
	var verifiedOn []string
	for _, o := range f.uses {
		if o.CustomerID == f.customerID {
			continue
		}
		same := SameDocument{CustomerID: o.CustomerID, SubmissionID: o.ID, Status: o.Status, SubmittedAt: o.SubmittedAt, DecidedAt: o.DecidedAt}
		if o.Identity != nil {
			same.Identity, same.Reasons = o.Identity.Result, slices.Clone(o.Identity.Reasons)
			same.Verified = o.Identity.Result == ResultApproved
		}
		if same.Verified && !slices.Contains(verifiedOn, o.CustomerID) {
			verifiedOn = append(verifiedOn, o.CustomerID)
		}
		sig.SameDocument = append(sig.SameDocument, same)
	}
	slices.SortStableFunc(sig.SameDocument, func(a, b SameDocument) int { return b.SubmittedAt.Compare(a.SubmittedAt) })
	switch {
	case len(verifiedOn) > 0:
		sig.SecondApprovalRequired = true
		warn(Identity, "documentNumber", WarnSameDocumentVerified, "This document number was verified on another customer's account (see sameDocument): approving this submission needs a second admin's approval.")
	case len(sig.SameDocument) > 0:
		warn(Identity, "documentNumber", WarnSameDocumentElsewhere, "This document number was recorded on another customer's account (see sameDocument and what was decided there).")
	}
	return sig
}

// verifiedElsewhere returns the other customers on whose accounts the
// document was verified.
func (sig Signals) verifiedElsewhere() []string {
	var out []string
	for _, s := range sig.SameDocument {
		if s.Verified && !slices.Contains(out, s.CustomerID) {
			out = append(out, s.CustomerID)
		}
	}
	return out
}

// warningCodes lists the signals' codes, for the audit trail.
func (sig Signals) warningCodes() string {
	var codes []string
	for _, w := range sig.Warnings {
		if !slices.Contains(codes, w.Code) {
			codes = append(codes, w.Code)
		}
	}
	return strings.Join(codes, ",")
}

// serviceZone is the time zone dates of a customer's documents are judged
// in: the service region's of the customer's oldest open order, else of
// their latest closed one, else the only configured region's, else UTC.
func serviceZone(c Customer, a Account, regions Regions) *time.Location {
	zone := ""
	for _, h := range c.Holds {
		if h.TimeZone != "" {
			zone = h.TimeZone
			break
		}
	}
	if zone == "" {
		var latest time.Time
		for _, h := range a.Closed {
			if h.TimeZone != "" && !h.ReceivedAt.Before(latest) {
				zone, latest = h.TimeZone, h.ReceivedAt
			}
		}
	}
	if zone != "" {
		if loc, err := time.LoadLocation(zone); err == nil {
			return loc
		}
	}
	if len(regions) == 1 {
		for _, loc := range regions {
			return loc
		}
	}
	return time.UTC
}

// documentNumberHash is the keyed hash a document number is looked up by:
// the number reduced to its letters and digits (idcheck.Key), so that the
// spellings reviewers type ("A123456(3)", "a1234563", full-width forms) of
// one number match. "" for no number.
func (s *Service) documentNumberHash(ctx context.Context, number string) (string, error) {
	key := idcheck.Key(number)
	if key == "" {
		return "", nil
	}
	h, err := s.sealer.Fingerprint(ctx, key)
	if err != nil {
		return "", fmt.Errorf("fingerprint document number: %w", err)
	}
	return h, nil
}

// documentUses returns the submissions, of any customer, whose document
// number has the keyed hash (none for "").
func (s *Service) documentUses(ctx context.Context, hash string) ([]Submission, error) {
	if hash == "" {
		return nil, nil
	}
	subs, err := s.store.SubmissionsByDocNumber(ctx, hash, MaxSameDocument)
	if err != nil {
		return nil, fmt.Errorf("document number index: %w", err)
	}
	return subs, nil
}

// recordedFields opens what was recorded on a submission (nil if nothing
// was, or the customer's key was shredded).
func (s *Service) recordedFields(ctx context.Context, sub Submission) (*Extracted, error) {
	var shredded bool
	b, err := s.openSealed(ctx, sub.CustomerID, sub.Extracted, &shredded)
	if err != nil {
		return nil, fmt.Errorf("open extracted fields: %w", err)
	}
	if b == nil {
		return nil, nil
	}
	var e Extracted
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("decode extracted fields: %w", err)
	}
	return &e, nil
}

// identityType is the type of a submission's identity document.
func identityType(docs []Document) DocType {
	if len(docs) > 0 {
		return docs[0].Type
	}
	return ""
}
