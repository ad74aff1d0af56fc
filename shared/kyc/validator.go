package kyc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kycgate/kycgate/shared/filecheck"
)

// ValidationResult is what the validator did with an uploaded object or a
// scan result.
type ValidationResult struct {
	Key string `json:"key"`
	// Outcome: valid, scanning (checked, waiting for the malware scan),
	// invalid, recorded (a scan result kept until the upload is checked),
	// ignored, removed.
	Outcome string        `json:"outcome"`
	Reason  InvalidReason `json:"reason,omitempty"`
	// Threats names what the malware scan found (Reason malware).
	Threats []string `json:"threats,omitempty"`
}

// ValidateUpload checks an uploaded object version (from the S3 event) against
// its document record. The object must be what its record declares (size,
// encryption, content type) and its bytes must decode as that type
// (shared/filecheck): an image is decoded within a pixel budget and
// re-encoded, and the re-encoded copy, written beside the original, is what
// reviewers are shown; a PDF is parsed strictly and refused if it carries
// active content. Every upload read is handed to the malware Scanner, and a
// document is valid only once the scan found no threat: an object that
// passes the checks waits for the scan's result (DocScanning) unless the
// result is known already. A threat refuses the document (InvalidMalware,
// audited); an invalid object is deleted and the document marked invalid
// with a reason the customer can read. An object no document expects is
// deleted; so is a new version of a document already submitted (the
// reviewed version stays). A document changed between the read and the
// write (the scan's result recorded meanwhile, a submission) is read and
// judged again, a few times, before the caller is asked to retry.
func (s *Validator) ValidateUpload(ctx context.Context, key, versionID string) (ValidationResult, error) {
	return retryResult(ctx, func() (ValidationResult, error) { return s.validateUpload(ctx, key, versionID) })
}

func (s *Validator) validateUpload(ctx context.Context, key, versionID string) (ValidationResult, error) {
	res := ValidationResult{Key: key}
	customerID, docID, ok := ParseDocumentKey(key)
	if !ok {
		return s.remove(ctx, res, key, versionID, "object outside the document layout")
	}
	d, err := s.store.Document(ctx, customerID, docID)
	if errors.Is(err, ErrNotExist) {
		return s.remove(ctx, res, key, versionID, "object without a document record")
	}
	if err != nil {
		return res, fmt.Errorf("load document: %w", err)
	}
	if d.SubmissionID != "" || d.State == DocPurged {
		return s.frozen(ctx, res, d, versionID)
	}
	info, content, err := s.files.Read(ctx, key, versionID, s.cfg.MaxUploadBytes)
	if err != nil {
		return res, fmt.Errorf("read object: %w", err)
	}
	if !info.Exists {
		res.Outcome = "ignored" // a later version replaced and removed it; its own event follows
		return res, nil
	}
	now := s.now()
	scan := d.Scan
	if scan == nil || scan.VersionID != info.VersionID {
		r, err := s.scanner.Scan(ctx, d, info.VersionID, content)
		if err != nil {
			return res, fmt.Errorf("scan object: %w", err)
		}
		r.Key, r.VersionID = key, info.VersionID
		if r.At.IsZero() {
			r.At = now
		}
		scan = &r
	}
	if scan.Status == ScanThreat {
		return s.refuseThreat(ctx, res, d, *scan)
	}
	reason, valid := d.Check(info, s.cfg.KMSKeyID, s.cfg.MaxUploadBytes)
	var verdict filecheck.Verdict
	if valid {
		if verdict = filecheck.Check(d.ContentType, content); !verdict.Valid() {
			reason, valid = InvalidReason(verdict.Reason), false
			s.log.InfoContext(ctx, "upload refused by its content", "reason", verdict.Reason, "detail", verdict.Detail)
		}
	}
	if valid && scan.Status == ScanFailed {
		reason, valid = InvalidScanFailed, false
	}
	prev := d.State
	if valid {
		d.Reviewed = nil
		if verdict.Rendition != nil {
			rc, err := s.files.WriteReviewed(ctx, d, verdict.Rendition, verdict.RenditionType)
			if err != nil {
				return res, fmt.Errorf("write reviewed copy: %w", err)
			}
			d.Reviewed = &rc
		}
		d.Size, d.VersionID, d.Invalid = info.Size, info.VersionID, ""
		if scan.Status == ScanClean {
			d.State, d.ValidatedAt, d.Scan, res.Outcome = DocValid, now, scan, "valid"
		} else {
			d.State, d.Scan, res.Outcome = DocScanning, nil, "scanning" // valid once the scan says so (ApplyScanResult)
		}
	} else {
		if err := s.deleteVersion(ctx, key, info.VersionID); err != nil {
			return res, err
		}
		res.Outcome, res.Reason = "invalid", reason
		if (prev == DocValid || prev == DocScanning) && d.VersionID != info.VersionID {
			return res, nil // an earlier version passed (or is being scanned) and is current again
		}
		d.State, d.Invalid, d.ValidatedAt, d.VersionID, d.Reviewed, d.Scan = DocInvalid, reason, now, "", nil, nil
	}
	if err := s.store.UpdateDocument(ctx, d, prev); err != nil {
		return res, fmt.Errorf("update document: %w", err)
	}
	return res, nil
}

// ApplyScanResult applies a malware scan's result for an uploaded object
// version (GuardDuty's, from the validator's queue). No threat: a document
// waiting for the scan of that version becomes valid. A failed scan refuses
// it (InvalidScanFailed). A threat refuses the document whatever its state
// (InvalidMalware: audited, the version deleted, never linkable again); only
// a submitted document whose reviewed version is clean keeps it, and loses
// the other version. A result that arrives before the validator checked the
// upload is kept on the document, and the check applies it. A document
// changed between the read and the write (the validator's check of the same
// upload, racing) is read and judged again.
func (s *Validator) ApplyScanResult(ctx context.Context, r ScanResult) (ValidationResult, error) {
	return retryResult(ctx, func() (ValidationResult, error) { return s.applyScanResult(ctx, r) })
}

func (s *Validator) applyScanResult(ctx context.Context, r ScanResult) (ValidationResult, error) {
	res := ValidationResult{Key: r.Key}
	if r.Status != ScanClean && r.Status != ScanThreat && r.Status != ScanFailed {
		return res, Invalid("invalid_scan_status", "a scan result is clean, threat or failed")
	}
	customerID, docID, ok := ParseDocumentKey(r.Key)
	if !ok {
		res.Outcome = "ignored"
		s.log.WarnContext(ctx, "scan result of an object outside the document layout", "status", r.Status)
		return res, nil
	}
	d, err := s.store.Document(ctx, customerID, docID)
	if errors.Is(err, ErrNotExist) {
		if r.Status == ScanThreat {
			res.Threats = r.Threats
			return s.remove(ctx, res, r.Key, r.VersionID, "malware in an object without a document record")
		}
		res.Outcome = "ignored"
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("load document: %w", err)
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	if r.Status == ScanThreat {
		return s.refuseThreat(ctx, res, d, r)
	}
	prev := d.State
	switch {
	case prev == DocScanning && d.VersionID == r.VersionID && r.Status == ScanClean:
		d.State, d.ValidatedAt, d.Scan, res.Outcome = DocValid, s.now(), &r, "valid"
	case prev == DocScanning && d.VersionID == r.VersionID: // failed
		if err := s.deleteVersion(ctx, d.Key, r.VersionID); err != nil {
			return res, err
		}
		d.State, d.Invalid, d.ValidatedAt, d.VersionID, d.Reviewed, d.Scan = DocInvalid, InvalidScanFailed, s.now(), "", nil, &r
		res.Outcome, res.Reason = "invalid", InvalidScanFailed
	case prev == DocPendingUpload && d.SubmissionID == "":
		d.Scan, res.Outcome = &r, "recorded" // the validator has not checked this upload yet
	default:
		res.Outcome = "ignored" // another version's, or a result applied already
		return res, nil
	}
	if err := s.store.UpdateDocument(ctx, d, prev); err != nil {
		return res, fmt.Errorf("update document: %w", err)
	}
	return res, nil
}

// refuseThreat refuses a document one of whose versions the scan found
// malware in: the document becomes invalid (InvalidMalware) and an audit
// entry records it, in one write with the customer's audit chain; then the
// version is deleted. A submitted document keeps its reviewed version if
// the threat is in another one (which is deleted). Applying the same threat
// again deletes the version and records nothing more.
func (s *Validator) refuseThreat(ctx context.Context, res ValidationResult, d Document, r ScanResult) (ValidationResult, error) {
	res.Outcome, res.Reason, res.Threats = "invalid", InvalidMalware, r.Threats
	again := d.State == DocInvalid && d.Invalid == InvalidMalware && d.Scan != nil && d.Scan.VersionID == r.VersionID
	keep := d.State == DocPurged || (d.SubmissionID != "" && d.VersionID != r.VersionID)
	if !again {
		now := s.now()
		c, err := s.customer(ctx, d.CustomerID)
		if err != nil {
			return res, err
		}
		prev := d.State
		var w Work
		if !keep {
			d.State, d.Invalid, d.ValidatedAt, d.VersionID, d.Reviewed, d.Scan = DocInvalid, InvalidMalware, now, "", nil, &r
			w.Documents = []DocumentUpdate{{Document: d, Expect: prev}}
		}
		threats := make([]string, 0, len(r.Threats))
		for _, t := range r.Threats {
			threats = append(threats, Short(t))
		}
		ch := c.record(ByValidator, now, AuditEntry{Action: "document.malware", DocumentID: d.ID, SubmissionID: d.SubmissionID,
			From: string(prev), To: string(d.State), Detail: map[string]string{"versionId": r.VersionID, "threats": strings.Join(threats, "; ")}})
		head, entries := ch.Customer.Audit.Chain(ch.Audit)
		w.Customer, w.Audit = ch.Customer, entries
		w.Customer.Audit = head
		if err := s.store.Commit(ctx, w); err != nil {
			return res, fmt.Errorf("refuse malware: %w", err)
		}
	} else {
		res.Outcome = "ignored" // refused already; only the deletion may be missing
	}
	s.log.WarnContext(ctx, "malware found in an upload", "document", d.ID, "threats", len(r.Threats), "repeat", again)
	if r.VersionID == "" && keep {
		return res, nil // the version is unknown: never delete a reviewed version on a guess
	}
	if err := s.deleteVersion(ctx, d.Key, r.VersionID); err != nil { // "": every version of a refused document
		return res, err
	}
	return res, nil
}

// frozen handles an upload to the key of a document already submitted (or
// purged): the reviewed version must stay the current one, so a new version
// is removed. An event that names no version (emulators send none) is
// resolved to the current version; nothing is deleted unless that version is
// known and is not the validated one.
func (s *Validator) frozen(ctx context.Context, res ValidationResult, d Document, versionID string) (ValidationResult, error) {
	if versionID == "" {
		info, err := s.files.Inspect(ctx, d.Key, "")
		if err != nil {
			return res, fmt.Errorf("inspect object: %w", err)
		}
		versionID = info.VersionID
	}
	if versionID == "" || versionID == d.VersionID {
		res.Outcome = "ignored"
		return res, nil
	}
	return s.remove(ctx, res, d.Key, versionID, "new version of a submitted document")
}

func (s *Validator) remove(ctx context.Context, res ValidationResult, key, versionID, why string) (ValidationResult, error) {
	s.log.WarnContext(ctx, "removing unexpected upload", "why", why)
	if err := s.deleteVersion(ctx, key, versionID); err != nil {
		return res, err
	}
	res.Outcome = "removed"
	return res, nil
}

func (s *Validator) deleteVersion(ctx context.Context, key, versionID string) error {
	var err error
	if versionID == "" {
		err = s.files.Delete(ctx, key)
	} else {
		err = s.files.DeleteVersion(ctx, key, versionID)
	}
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	return nil
}
