package kyc

import (
	"slices"
	"time"
	"unicode/utf8"
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
// submission of their own account.
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
// They are sealed before they are stored.
type Extracted struct {
	FullName       string `json:"fullName,omitempty"`
	Address        string `json:"address,omitempty"`
	DocumentNumber string `json:"documentNumber,omitempty"`
	BirthDate      string `json:"birthDate,omitempty"`
	DocumentExpiry string `json:"documentExpiry,omitempty"` // YYYY-MM-DD as printed on the document
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
// reviewer's message and note are sealed by the caller.
func (s Submission) Decide(by Actor, in DecisionInput, now time.Time) (Submission, error) {
	if err := in.Validate(); err != nil {
		return s, err
	}
	if err := ownAccount(by, s.CustomerID); err != nil {
		return s, err
	}
	reviewer := by.ID
	switch {
	case s.Status != SubPending:
		return s, Conflict("already_decided", "submission %s is already %s", s.ID, s.Status)
	case s.ClaimedBy != reviewer:
		return s, Conflict("not_claimed", "claim submission %s before deciding it", s.ID)
	case in.Version != s.Version:
		return s, Conflict("stale_version", "submission %s changed (version %d, not %d); reload it", s.ID, s.Version, in.Version)
	}
	s.Identity, s.Address = in.Identity.decision(reviewer, now), in.Address.decision(reviewer, now)
	s.Status = SubRejected
	if s.Identity.Result == ResultApproved && s.Address.Result == ResultApproved {
		s.Status = SubApproved
	}
	s.DecidedAt, s.DecidedBy = now, reviewer
	s.Version++
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
