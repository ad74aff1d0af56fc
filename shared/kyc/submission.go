package kyc

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycgate/kycgate/shared/kyc/idcheck"
)

// SubmissionStatus is where a submission stands.
type SubmissionStatus string

const (
	SubPending  SubmissionStatus = "pending_review"
	SubApproved SubmissionStatus = "approved"
	SubRejected SubmissionStatus = "rejected"
)

// ClaimTTL is how long a reviewer's claim keeps others away. After it, another
// reviewer may take the submission over (someone went home).
const ClaimTTL = 30 * time.Minute

// Limits of reviewer text.
const (
	MaxCustomerMessage = 2000
	MaxNote            = 4000
)

// Sealed is a personal field encrypted with its customer's data key (see
// Sealer). The policy engine never looks inside.
type Sealed struct {
	V     int    `json:"v"`
	Nonce []byte `json:"n"`
	Data  []byte `json:"c"`
}

// Submission is a customer's request to be verified: one identity and one
// address document (P4).
type Submission struct {
	ID                 string           `json:"id"`
	CustomerID         string           `json:"customerId"`
	IdentityDocumentID string           `json:"identityDocumentId"`
	AddressDocumentID  string           `json:"addressDocumentId"`
	Status             SubmissionStatus `json:"status"`
	SubmittedAt        time.Time        `json:"submittedAt"`
	// Version counts changes; a decision must quote the version it was made on.
	Version   int       `json:"version"`
	ClaimedBy string    `json:"claimedBy,omitempty"`
	ClaimedAt time.Time `json:"claimedAt,omitzero"`

	Identity *DocDecision `json:"identity,omitempty"`
	Address  *DocDecision `json:"address,omitempty"`
	// Message is the reviewer's message to the customer, sealed like the
	// note: a reviewer may write personal data into it. The KycRejected
	// event carries it sealed; the notifier opens it to send.
	Message       *Sealed   `json:"message,omitempty"`
	Note          *Sealed   `json:"note,omitempty"`          // internal, staff only
	Extracted     *Sealed   `json:"extracted,omitempty"`     // reviewer-entered personal fields
	DocNumberHash string    `json:"docNumberHash,omitempty"` // keyed hash of the ID number
	DecidedAt     time.Time `json:"decidedAt,omitzero"`
	DecidedBy     string    `json:"decidedBy,omitempty"`
	// ApprovalRequest is the claimer's approval waiting for a second admin
	// (four eyes): the identity document was verified on another account.
	ApprovalRequest *ApprovalRequest `json:"approvalRequest,omitempty"`
	// SecondApprovalBy is the admin who confirmed the approval, when one had to.
	SecondApprovalBy string `json:"secondApprovalBy,omitempty"`
}

// ApprovalRequest is a reviewer's approval of a submission that waits for a
// second, different admin: its identity document's number was verified on
// another customer's account (Signals.SecondApprovalRequired). The
// submission stays pending; nothing is decided until an admin confirms.
type ApprovalRequest struct {
	RequestedBy string    `json:"requestedBy"`
	RequestedAt time.Time `json:"requestedAt"`
	// Why is the code of the signal that requires the second approval.
	Why string `json:"why"`
	// Customers are the other customers on whose accounts the document was
	// verified.
	Customers []string `json:"customers"`
}

// ownAccount refuses a staff member acting on their own customer account:
// the account whose id is their token's subject, or the billing customer id
// their staff account is linked to (Actor.Customer). Nobody reviews, opens
// or decides their own KYC.
func ownAccount(staff Actor, customerID string) error {
	if staff.ID == customerID || (staff.Customer != "" && staff.Customer == customerID) {
		return Forbidden("own_account", "staff cannot act on their own customer account")
	}
	return nil
}

// Claim assigns a pending submission to a reviewer. Someone else's live claim
// is a conflict; claiming one's own claim again renews it. Nobody claims a
// submission of their own account. A reviewer who takes over an expired
// claim withdraws the approval the previous claimer left waiting for a
// second admin: a confirmation would otherwise record, as the decider,
// someone who no longer reviews the submission.
func (s Submission) Claim(reviewer Actor, now time.Time) (Submission, error) {
	if err := ownAccount(reviewer, s.CustomerID); err != nil {
		return s, err
	}
	if s.Status != SubPending {
		return s, Conflict("already_decided", "submission %s is %s", s.ID, s.Status)
	}
	if s.ClaimedBy != "" && s.ClaimedBy != reviewer.ID && now.Before(s.ClaimedAt.Add(ClaimTTL)) {
		return s, Conflict("claimed", "submission %s is claimed by another reviewer", s.ID)
	}
	if s.ClaimedBy != reviewer.ID {
		s.ApprovalRequest = nil
	}
	s.ClaimedBy, s.ClaimedAt = reviewer.ID, now
	s.Version++
	return s, nil
}

// Verdict is a reviewer's decision on one document as sent to the API.
type Verdict struct {
	Result  string       `json:"result"` // "approve" or "reject"
	Reasons []ReasonCode `json:"reasons"`
}

// Extracted are the personal fields a reviewer may record from the documents.
// They are sealed before they are stored. Dates are YYYY-MM-DD as printed.
type Extracted struct {
	FullName       string `json:"fullName,omitempty"`
	Address        string `json:"address,omitempty"`
	DocumentNumber string `json:"documentNumber,omitempty"`
	BirthDate      string `json:"birthDate,omitempty"`
	DocumentExpiry string `json:"documentExpiry,omitempty"` // YYYY-MM-DD as printed on the document
	// MRZ is the identity document's machine-readable zone as the reviewer
	// pasted it (passports, visas, travel and identity cards).
	MRZ string `json:"mrz,omitempty"`
	// AddressDate is the date the proof of address was issued (the
	// statement or bill date), YYYY-MM-DD.
	AddressDate string `json:"addressDate,omitempty"`
}

// Limits of the fields a reviewer records.
const (
	MaxExtractedName    = 200
	MaxExtractedAddress = 500
)

// Validate checks the recorded fields' shapes: lengths, text without control
// characters (line breaks only in the address and the MRZ), and dates in
// YYYY-MM-DD form. Whether the values are right is for the signals to say.
func (e Extracted) Validate() error {
	text := func(field, v string, max int, lines bool) error {
		if utf8.RuneCountInString(v) > max {
			return Invalid("invalid_"+field, "%s is longer than %d characters", field, max)
		}
		if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && !(lines && (r == '\n' || r == '\r')) }) {
			return Invalid("invalid_"+field, "%s has a control character", field)
		}
		return nil
	}
	for _, f := range []struct {
		name, v string
		max     int
		lines   bool
	}{
		{"fullName", e.FullName, MaxExtractedName, false},
		{"address", e.Address, MaxExtractedAddress, true},
		{"documentNumber", e.DocumentNumber, idcheck.MaxNumberLen, false},
		{"mrz", e.MRZ, idcheck.MaxMRZLen, true},
	} {
		if err := text(f.name, f.v, f.max, f.lines); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"birthDate", e.BirthDate}, {"documentExpiry", e.DocumentExpiry}, {"addressDate", e.AddressDate}} {
		if f.v == "" {
			continue
		}
		if _, err := ParseDate(f.v); err != nil {
			return Invalid("invalid_"+f.name, "%s must be a date in YYYY-MM-DD form", f.name)
		}
	}
	return nil
}

// DecisionInput is a reviewer's decision on a submission.
type DecisionInput struct {
	Identity        Verdict    `json:"identity"`
	Address         Verdict    `json:"address"`
	CustomerMessage string     `json:"customerMessage,omitempty"`
	Note            string     `json:"note,omitempty"`
	Extracted       *Extracted `json:"extracted,omitempty"`
	Version         int        `json:"version"`
}

// Validate checks the decision's values (not the submission's state).
func (in DecisionInput) Validate() error {
	for _, v := range []struct {
		name string
		v    Verdict
	}{{"identity", in.Identity}, {"address", in.Address}} {
		switch v.v.Result {
		case verdictApprove:
			if len(v.v.Reasons) > 0 {
				return Invalid("reasons_on_approval", "%s: an approval takes no reasons", v.name)
			}
		case verdictReject:
			if len(v.v.Reasons) == 0 {
				return Invalid("reasons_required", "%s: a rejection needs at least one reason code", v.name)
			}
			for _, r := range v.v.Reasons {
				if _, ok := LookupReason(r); !ok {
					return Invalid("unknown_reason", "%s: %q is not a reason code; the codes are %s", v.name, r, ReasonCodes())
				}
			}
		default:
			return Invalid("invalid_result", "%s: result must be \"approve\" or \"reject\"", v.name)
		}
	}
	if utf8.RuneCountInString(in.CustomerMessage) > MaxCustomerMessage {
		return Invalid("message_too_long", "customerMessage is longer than %d characters", MaxCustomerMessage)
	}
	if utf8.RuneCountInString(in.Note) > MaxNote {
		return Invalid("note_too_long", "note is longer than %d characters", MaxNote)
	}
	if in.Version < 1 {
		return Invalid("version_required", "version must be the submission's version from GET")
	}
	if in.Extracted != nil {
		return in.Extracted.Validate()
	}
	return nil
}

func (v Verdict) decision(by string, at time.Time) *DocDecision {
	d := &DocDecision{Result: ResultApproved, At: at, By: by}
	if v.Result == verdictReject {
		d.Result, d.Reasons = ResultResubmit, slices.Clone(v.Reasons)
		for _, r := range v.Reasons {
			if spec, _ := LookupReason(r); !spec.Resubmittable {
				d.Result = ResultRejected
			}
		}
	}
	return d
}

// Decide records a reviewer's decision, made on version in.Version, on the
// pending submission. The reviewer must hold the claim, and must not be the
// customer. Both documents approved approves the submission; anything else
// rejects it, and the customer replaces only what was rejected. The
// reviewer's message and note are sealed by the caller. A decision replaces
// an approval still waiting for a second admin.
func (s Submission) Decide(by Actor, in DecisionInput, now time.Time) (Submission, error) {
	if err := in.Validate(); err != nil {
		return s, err
	}
	if err := s.decidable(by, in.Version); err != nil {
		return s, err
	}
	reviewer := by.ID
	s.Identity, s.Address = in.Identity.decision(reviewer, now), in.Address.decision(reviewer, now)
	s.Status = SubRejected
	if s.Identity.Result == ResultApproved && s.Address.Result == ResultApproved {
		s.Status = SubApproved
	}
	s.DecidedAt, s.DecidedBy = now, reviewer
	s.ApprovalRequest = nil
	s.Version++
	return s, nil
}

// decidable checks that by may decide (or record for) the submission at
// version: not their own account, still pending, claimed by them, and
// unchanged since they read it.
func (s Submission) decidable(by Actor, version int) error {
	if err := ownAccount(by, s.CustomerID); err != nil {
		return err
	}
	switch {
	case s.Status != SubPending:
		return Conflict("already_decided", "submission %s is already %s", s.ID, s.Status)
	case s.ClaimedBy != by.ID:
		return Conflict("not_claimed", "claim submission %s before deciding it", s.ID)
	case version != s.Version:
		return Conflict("stale_version", "submission %s changed (version %d, not %d); reload it", s.ID, s.Version, version)
	}
	return nil
}

// requestApproval records the claimer's approval of both documents, made on
// version in.Version, as waiting for a second admin (why: the signal's code;
// customers: the other accounts). Nothing is decided.
func (s Submission) requestApproval(by Actor, in DecisionInput, why string, customers []string, now time.Time) (Submission, error) {
	if err := in.Validate(); err != nil {
		return s, err
	}
	if err := s.decidable(by, in.Version); err != nil {
		return s, err
	}
	if len(in.Approved()) != 2 {
		return s, Invalid("approval_required", "only an approval of both documents waits for a second admin")
	}
	s.ApprovalRequest = &ApprovalRequest{RequestedBy: by.ID, RequestedAt: now, Why: why, Customers: slices.Clone(customers)}
	s.Version++
	return s, nil
}

// secondApproval is an admin's answer, made on version, to the approval
// waiting on the submission: approve decides it approved, as the requesting
// reviewer's decision confirmed by the admin (SecondApprovalBy); otherwise
// the request is withdrawn and the submission waits for the reviewer's
// decision again. The admin must not be the requester nor the customer.
func (s Submission) secondApproval(admin Actor, version int, approve bool, now time.Time) (Submission, error) {
	if admin.Kind != ActorAdmin {
		return s, Forbidden("admin_only", "only an admin may give the second approval")
	}
	if err := ownAccount(admin, s.CustomerID); err != nil {
		return s, err
	}
	switch {
	case s.Status != SubPending:
		return s, Conflict("already_decided", "submission %s is already %s", s.ID, s.Status)
	case s.ApprovalRequest == nil:
		return s, Conflict("no_approval_request", "no approval of submission %s waits for a second admin", s.ID)
	case s.ApprovalRequest.RequestedBy == admin.ID:
		return s, Forbidden("self_approval", "an approval waiting for a second admin needs a different admin")
	case version != s.Version:
		return s, Conflict("stale_version", "submission %s changed (version %d, not %d); reload it", s.ID, s.Version, version)
	}
	req := s.ApprovalRequest
	s.ApprovalRequest = nil
	s.Version++
	if !approve {
		return s, nil
	}
	approved := Verdict{Result: verdictApprove}
	s.Identity, s.Address = approved.decision(req.RequestedBy, now), approved.decision(req.RequestedBy, now)
	s.Status, s.DecidedAt, s.DecidedBy, s.SecondApprovalBy = SubApproved, now, req.RequestedBy, admin.ID
	return s, nil
}

// Approved returns the categories whose document the decision approves.
func (in DecisionInput) Approved() []Category {
	var out []Category
	if in.Identity.Result == verdictApprove {
		out = append(out, Identity)
	}
	if in.Address.Result == verdictApprove {
		out = append(out, Address)
	}
	return out
}

// Reasons returns every reason code of a decided submission.
func (s Submission) Reasons() []ReasonCode {
	var out []ReasonCode
	for _, d := range []*DocDecision{s.Identity, s.Address} {
		if d != nil {
			out = append(out, d.Reasons...)
		}
	}
	return out
}
