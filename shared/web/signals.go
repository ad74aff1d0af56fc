package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kycgate/kycgate/shared/kyc"
)

// signalsView is what the review page shows of a submission's signals
// (kyc.Signals), every text in the page's language: warnings with the
// document and field each names, the same document on other accounts and
// what was decided there, the dates' findings with the day and time zone
// they were judged in, the proposed reasons, and whether an approval needs
// a second admin. It is built only when the viewer may see the personal
// data (the view carries Signals only then).
type signalsView struct {
	kyc.Signals
	Judged   string // "2026-03-05, Asia/Hong_Kong"
	Format   string // the number's recognised format, in words
	Warnings []warningRow
	Same     []sameRow
	Proposed []proposalRow
	Expiry   string // the identity document's expiry finding, in words
	AddrAge  string // the proof of address's age finding, in words
}

// warningRow is one signal, in words.
type warningRow struct {
	ID       string // the element id, which the form's field points to
	Code     string
	Document string // "Proof of identity" or "Proof of address"
	Field    string // the field the signal names, in words
	Input    string // the id of the form's input for that field, if any
	Text     string
	Binding  bool // it stops or holds an approval (expired, verified elsewhere)
}

// sameRow is another account's submission with the same document number.
type sameRow struct {
	kyc.SameDocument
	Status   string // the submission's status, in words
	Decision string // the identity document's decision there, in words
	Reasons  []string
}

// proposalRow is a rejection reason a signal proposes, in words.
type proposalRow struct {
	Category kyc.Category
	Document string
	Code     string
	Text     string
}

// fieldInputs are the review form's inputs, by the field name signals use.
var fieldInputs = map[string]string{
	"fullName": "fullName", "address": "postalAddress", "documentNumber": "docNumber", "birthDate": "birthDate",
	"documentExpiry": "docExpiry", "mrz": "mrz", "addressDate": "addressDate",
}

// inputOf is the form's input a field (an MRZ field: the MRZ) is typed in.
func inputOf(field string) string {
	if in, ok := fieldInputs[field]; ok {
		return in
	}
	if strings.HasPrefix(field, "mrz.") {
		return "mrz"
	}
	return ""
}

// signalText is a signal's words in a language: the catalogue's text of its
// code, or (a code added to the policy engine without words here, which a
// test forbids) a generic text naming the code.
func signalText(lang, code string) string {
	if _, ok := messages["signal."+code]; ok {
		return text(lang, "signal."+code)
	}
	return fmt.Sprintf(text(lang, "signal.other"), code)
}

// fieldText is a field's name in a language (the field's own name when the
// catalogue has none, which a test forbids).
func fieldText(lang, field string) string {
	if _, ok := messages["field."+field]; ok {
		return text(lang, "field."+field)
	}
	return field
}

func categoryText(lang string, c kyc.Category) string {
	if c == kyc.Address {
		return text(lang, "review.address")
	}
	return text(lang, "review.identity")
}

// bindingSignals are the signals that stop or hold an approval.
var bindingSignals = []string{kyc.WarnDocumentExpired, kyc.WarnSameDocumentVerified}

// datedSignals are judged on the day in the service region's time zone.
var datedSignals = []string{kyc.WarnDocumentExpired, kyc.WarnAddressTooOld, kyc.WarnAddressDateFuture}

// newSignalsView puts a submission's signals into words; recorded is what
// the reviewer recorded (nil: nothing).
func newSignalsView(lang string, sig kyc.Signals, recorded *kyc.Extracted) *signalsView {
	v := &signalsView{Signals: sig, Judged: sig.Today.String() + ", " + sig.TimeZone}
	if sig.NumberFormat != "" && sig.NumberFormat != "none" {
		v.Format = text(lang, "format."+sig.NumberFormat)
	}
	for i, w := range sig.Warnings {
		row := warningRow{ID: fmt.Sprintf("signal-%d", i+1), Code: w.Code, Document: categoryText(lang, w.Category),
			Field: fieldText(lang, w.Field), Input: inputOf(w.Field), Text: signalText(lang, w.Code),
			Binding: slices.Contains(bindingSignals, w.Code)}
		if slices.Contains(datedSignals, w.Code) {
			row.Text += " " + fmt.Sprintf(text(lang, "signals.judgedon"), v.Judged)
		}
		v.Warnings = append(v.Warnings, row)
	}
	for _, s := range sig.SameDocument {
		row := sameRow{SameDocument: s, Status: text(lang, "sub."+string(s.Status))}
		if s.Identity != "" {
			row.Decision = text(lang, "doc."+string(s.Identity))
		}
		for _, r := range s.Reasons {
			if spec, ok := kyc.LookupReason(r); ok {
				row.Reasons = append(row.Reasons, pick(lang, spec.Text))
			}
		}
		v.Same = append(v.Same, row)
	}
	for _, p := range sig.Proposed {
		row := proposalRow{Category: p.Category, Document: categoryText(lang, p.Category), Code: string(p.Reason)}
		if spec, ok := kyc.LookupReason(p.Reason); ok {
			row.Text = pick(lang, spec.Text)
		}
		v.Proposed = append(v.Proposed, row)
	}
	var e kyc.Extracted
	if recorded != nil {
		e = *recorded
	}
	today := sig.Today.String()
	switch {
	case sig.DocumentExpired:
		v.Expiry = fmt.Sprintf(text(lang, "signals.expiry.expired"), today)
	case e.DocumentExpiry != "":
		v.Expiry = fmt.Sprintf(text(lang, "signals.expiry.valid"), today)
	default:
		v.Expiry = text(lang, "signals.expiry.none")
	}
	switch {
	case sig.AddressTooOld:
		v.AddrAge = fmt.Sprintf(text(lang, "signals.addr.old"), today)
	case slices.ContainsFunc(sig.Warnings, func(w kyc.Warning) bool { return w.Code == kyc.WarnAddressDateFuture }):
		v.AddrAge = fmt.Sprintf(text(lang, "signals.addr.future"), today)
	case e.AddressDate != "":
		v.AddrAge = fmt.Sprintf(text(lang, "signals.addr.recent"), today)
	default:
		v.AddrAge = text(lang, "signals.addr.none")
	}
	return v
}

// WarningsOn are the ids of the warnings about a form input (the input's
// aria-describedby).
func (v *signalsView) WarningsOn(input string) string {
	if v == nil {
		return ""
	}
	var ids []string
	for _, w := range v.Warnings {
		if w.Input == input {
			ids = append(ids, w.ID)
		}
	}
	return strings.Join(ids, " ")
}

// Proposes reports whether a signal proposes a reason for a document
// ("identity" or "address").
func (v *signalsView) Proposes(doc, reason string) bool {
	if v == nil {
		return false
	}
	return slices.ContainsFunc(v.Proposed, func(p proposalRow) bool { return string(p.Category) == doc && p.Code == reason })
}

// approvalView is an approval waiting for a second admin, in words.
type approvalView struct {
	kyc.ApprovalRequest
	Why string
	// Mine: the viewer requested it; CanAnswer: the viewer is an admin who
	// may answer it (not the requester); Opened: the viewer sees the
	// documents (a purpose was given), so the identity document can be
	// opened before answering.
	Mine, CanAnswer, Opened bool
	Purpose                 string
}

func newApprovalView(lang string, req *kyc.ApprovalRequest, me who, purpose string, docsShown bool) *approvalView {
	if req == nil {
		return nil
	}
	return &approvalView{ApprovalRequest: *req, Why: signalText(lang, req.Why), Mine: req.RequestedBy == me.Subject,
		CanAnswer: me.admin() && req.RequestedBy != me.Subject, Opened: docsShown && purpose != "", Purpose: purpose}
}
