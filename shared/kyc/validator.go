package kyc

import (
	"context"
	"errors"
	"fmt"

	"github.com/kycgate/kycgate/shared/filecheck"
)

// ValidationResult is what the validator did with an uploaded object.
type ValidationResult struct {
	Key     string        `json:"key"`
	Outcome string        `json:"outcome"` // valid, invalid, ignored, removed
	Reason  InvalidReason `json:"reason,omitempty"`
}

// ValidateUpload checks an uploaded object version (from the S3 event) against
// its document record. The object must be what its record declares (size,
// encryption, content type) and its bytes must decode as that type
// (shared/filecheck): an image is decoded within a pixel budget and
// re-encoded, and the re-encoded copy, written beside the original, is what
// reviewers are shown; a PDF is parsed strictly and refused if it carries
// active content. A valid object makes the document valid; an invalid one is
// deleted and the document marked invalid with a reason the customer can
// read. An object no document expects is deleted; so is a new version of a
// document already submitted (the reviewed version stays).
func (s *Validator) ValidateUpload(ctx context.Context, key, versionID string) (ValidationResult, error) {
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
	reason, valid := d.Check(info, s.cfg.KMSKeyID, s.cfg.MaxUploadBytes)
	var verdict filecheck.Verdict
	if valid {
		if verdict = filecheck.Check(d.ContentType, content); !verdict.Valid() {
			reason, valid = InvalidReason(verdict.Reason), false
			s.log.InfoContext(ctx, "upload refused by its content", "reason", verdict.Reason, "detail", verdict.Detail)
		}
	}
	prev := d.State
	now := s.now()
	if valid {
		d.Reviewed = nil
		if verdict.Rendition != nil {
			rc, err := s.files.WriteReviewed(ctx, d, verdict.Rendition, verdict.RenditionType)
			if err != nil {
				return res, fmt.Errorf("write reviewed copy: %w", err)
			}
			d.Reviewed = &rc
		}
		d.State, d.Size, d.VersionID, d.ValidatedAt, d.Invalid = DocValid, info.Size, info.VersionID, now, ""
		res.Outcome = "valid"
	} else {
		if err := s.deleteVersion(ctx, key, info.VersionID); err != nil {
			return res, err
		}
		res.Outcome, res.Reason = "invalid", reason
		if prev == DocValid && d.VersionID != info.VersionID {
			return res, nil // an earlier version passed and is current again
		}
		d.State, d.Invalid, d.ValidatedAt, d.VersionID, d.Reviewed = DocInvalid, reason, now, "", nil
	}
	if err := s.store.UpdateDocument(ctx, d, prev); err != nil {
		return res, fmt.Errorf("update document: %w", err)
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
