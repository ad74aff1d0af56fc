package kyc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Disclosure is a request by local authorities for a customer's data (P10:
// "We will only disclose this information when required by local authorities
// where the server locates"). It is requested by one admin, approved by
// another, and gives a time-limited export; every step is audited.
type Disclosure struct {
	ID             string           `json:"id"`
	CustomerID     string           `json:"customerId"`
	Authority      string           `json:"authority"`
	Jurisdiction   string           `json:"jurisdiction"`
	LegalReference string           `json:"legalReference"`
	Scope          []DisclosureData `json:"scope"`
	State          DisclosureState  `json:"state"`
	RequestedBy    string           `json:"requestedBy"`
	RequestedAt    time.Time        `json:"requestedAt"`
	ApprovedBy     string           `json:"approvedBy,omitempty"`
	ApprovedAt     time.Time        `json:"approvedAt,omitzero"`
	// ExportUntil ends the window in which the export may be fetched.
	ExportUntil time.Time `json:"exportUntil,omitzero"`
	Exports     int       `json:"exports"`
	Version     int       `json:"version"`
}

// DisclosureState is where a disclosure stands.
type DisclosureState string

const (
	DisclosurePending  DisclosureState = "pending_approval"
	DisclosureApproved DisclosureState = "approved"
)

// DisclosureData is what a disclosure may include.
type DisclosureData string

const (
	DiscloseDocuments    DisclosureData = "documents"     // the document files, as download links
	DisclosePersonalData DisclosureData = "personal_data" // decrypted contact and reviewer-entered fields
)

// Limits of disclosures.
const (
	// ExportWindow is how long after approval the export may be fetched.
	ExportWindow = 24 * time.Hour
	// ExportLinkTTL is how long each document link of an export lives.
	ExportLinkTTL = time.Hour
	maxAuthority  = 200
)

// DisclosureRequest is what an admin records.
type DisclosureRequest struct {
	CustomerID     string           `json:"customerId"`
	Authority      string           `json:"authority"`
	Jurisdiction   string           `json:"jurisdiction"`
	LegalReference string           `json:"legalReference"`
	Scope          []DisclosureData `json:"scope"`
}

func (r DisclosureRequest) validate() error {
	field := func(name, v string) error {
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > maxAuthority {
			return Invalid("invalid_"+name, "%s is required (at most %d characters)", name, maxAuthority)
		}
		return nil
	}
	if !ValidID(r.CustomerID) {
		return Invalid("invalid_customerId", "customerId must be a customer id")
	}
	for _, f := range []struct{ n, v string }{{"authority", r.Authority}, {"jurisdiction", r.Jurisdiction}, {"legalReference", r.LegalReference}} {
		if err := field(f.n, f.v); err != nil {
			return err
		}
	}
	if len(r.Scope) == 0 {
		return Invalid("invalid_scope", "scope lists what is disclosed: documents, personal_data")
	}
	for _, s := range r.Scope {
		if s != DiscloseDocuments && s != DisclosePersonalData {
			return Invalid("invalid_scope", "%q is not documents or personal_data", s)
		}
	}
	return nil
}

// RequestDisclosure records an authority's request. Its jurisdiction must be
// the region of a server of the customer's: data is disclosed only to the
// authorities where the server is located.
func (s *Service) RequestDisclosure(ctx context.Context, admin Actor, r DisclosureRequest) (Disclosure, error) {
	if err := r.validate(); err != nil {
		return Disclosure{}, err
	}
	if err := ownAccount(admin, r.CustomerID); err != nil {
		return Disclosure{}, err
	}
	var out Disclosure
	err := retry(ctx, func() error {
		a, err := s.store.Account(ctx, r.CustomerID)
		if err != nil {
			return fmt.Errorf("load customer: %w", err)
		}
		if a.Customer == nil {
			return NotFound("customer_not_found", "no customer %s", r.CustomerID)
		}
		c := *a.Customer
		if !slices.Contains(serverRegions(c, a), r.Jurisdiction) {
			return Invalid("jurisdiction_mismatch", "the customer has no server in %q; data is disclosed only to the authorities where the server is located", r.Jurisdiction)
		}
		now := s.now()
		d := Disclosure{ID: s.newID(), CustomerID: r.CustomerID, Authority: r.Authority, Jurisdiction: r.Jurisdiction,
			LegalReference: r.LegalReference, Scope: slices.Clone(r.Scope), State: DisclosurePending,
			RequestedBy: admin.ID, RequestedAt: now, Version: 1}
		ch := c.record(admin, now, AuditEntry{Action: "disclosure.requested", Detail: map[string]string{
			"disclosureId": d.ID, "authority": d.Authority, "jurisdiction": d.Jurisdiction, "legalReference": d.LegalReference}})
		if err := s.commit(ctx, Work{Disclosure: &d}, ch, now); err != nil {
			return fmt.Errorf("request disclosure: %w", err)
		}
		out = d
		return nil
	})
	return out, err
}

// serverRegions lists the regions where the customer has, or had, a server:
// holds whose service the gate provisioned. An order cancelled before it was
// provisioned, or still waiting, never had a server anywhere.
func serverRegions(c Customer, a Account) []string {
	var out []string
	for _, h := range append(slices.Clone(c.Holds), a.Closed...) {
		if !h.ProvisionedAt.IsZero() {
			out = append(out, h.ServerRegion)
		}
	}
	return out
}

func (s *Service) disclosure(ctx context.Context, id string) (Disclosure, error) {
	if !ValidID(id) {
		return Disclosure{}, NotFound("disclosure_not_found", "no disclosure %s", id)
	}
	d, err := s.store.Disclosure(ctx, id)
	if errors.Is(err, ErrNotExist) {
		return Disclosure{}, NotFound("disclosure_not_found", "no disclosure %s", id)
	}
	if err != nil {
		return Disclosure{}, fmt.Errorf("load disclosure: %w", err)
	}
	return d, nil
}

// Disclosure returns a disclosure.
func (s *Service) Disclosure(ctx context.Context, id string) (Disclosure, error) {
	return s.disclosure(ctx, id)
}

// ApproveDisclosure is the second admin's approval. The requester cannot
// approve their own request.
func (s *Service) ApproveDisclosure(ctx context.Context, admin Actor, id string) (Disclosure, error) {
	var out Disclosure
	err := retry(ctx, func() error {
		d, err := s.disclosure(ctx, id)
		if err != nil {
			return err
		}
		if err := ownAccount(admin, d.CustomerID); err != nil {
			return err
		}
		switch {
		case d.RequestedBy == admin.ID:
			return Forbidden("self_approval", "a disclosure needs a second admin's approval")
		case d.State != DisclosurePending:
			return Conflict("already_approved", "disclosure %s is %s", id, d.State)
		}
		c, err := s.customer(ctx, d.CustomerID)
		if err != nil {
			return err
		}
		now := s.now()
		prev := d.Version
		d.State, d.ApprovedBy, d.ApprovedAt, d.ExportUntil = DisclosureApproved, admin.ID, now, now.Add(ExportWindow)
		d.Version++
		ch := c.record(admin, now, AuditEntry{Action: "disclosure.approved", Detail: map[string]string{
			"disclosureId": d.ID, "requestedBy": d.RequestedBy, "exportUntil": d.ExportUntil.Format(time.RFC3339)}})
		if err := s.commit(ctx, Work{Disclosure: &d, DisclosureVersion: prev}, ch, now); err != nil {
			return fmt.Errorf("approve disclosure: %w", err)
		}
		out = d
		return nil
	})
	return out, err
}

// DisclosureExport is what an approved disclosure gives: links to the
// documents' validated originals, the evidence as the customer uploaded it
// (attachments, valid an hour at most; never the re-encoded copies reviewers
// see), and the decrypted personal fields.
type DisclosureExport struct {
	Disclosure Disclosure         `json:"disclosure"`
	Documents  []ExportedDocument `json:"documents,omitempty"`
	Contact    string             `json:"contact,omitempty"`
	Extracted  []Extracted        `json:"extracted,omitempty"`
	Shredded   bool               `json:"shredded,omitempty"` // the customer's data key was deleted
}

// ExportedDocument is one document of an export.
type ExportedDocument struct {
	DocumentView
	Link Link `json:"link"`
}

// ExportDisclosure returns the export of an approved disclosure, within its
// window, to an admin. Each export is audited before it is returned.
func (s *Service) ExportDisclosure(ctx context.Context, admin Actor, id string) (DisclosureExport, error) {
	var out DisclosureExport
	err := retry(ctx, func() error {
		d, err := s.disclosure(ctx, id)
		if err != nil {
			return err
		}
		if err := ownAccount(admin, d.CustomerID); err != nil {
			return err
		}
		now := s.now()
		switch {
		case d.State != DisclosureApproved:
			return Conflict("not_approved", "disclosure %s is waiting for a second admin's approval", id)
		case !now.Before(d.ExportUntil):
			return Conflict("export_expired", "the export window of disclosure %s has ended", id)
		}
		c, err := s.customer(ctx, d.CustomerID)
		if err != nil {
			return err
		}
		exp, err := s.export(ctx, c, d)
		if err != nil {
			return err
		}
		prev := d.Version
		d.Exports++
		d.Version++
		exp.Disclosure = d
		ch := c.record(admin, now, AuditEntry{Action: "disclosure.exported", Detail: map[string]string{
			"disclosureId": d.ID, "documents": fmt.Sprint(len(exp.Documents)), "personalData": fmt.Sprint(slices.Contains(d.Scope, DisclosePersonalData))}})
		if err := s.commit(ctx, Work{Disclosure: &d, DisclosureVersion: prev}, ch, now); err != nil {
			return fmt.Errorf("export disclosure: %w", err)
		}
		out = exp
		return nil
	})
	return out, err
}

func (s *Service) export(ctx context.Context, c Customer, d Disclosure) (DisclosureExport, error) {
	var exp DisclosureExport
	a, err := s.store.Account(ctx, c.ID)
	if err != nil {
		return exp, fmt.Errorf("documents: %w", err)
	}
	docs := a.Documents
	if slices.Contains(d.Scope, DiscloseDocuments) {
		for _, doc := range docs {
			if doc.State != DocValid {
				continue
			}
			link, err := s.files.PresignExport(ctx, doc, ExportLinkTTL)
			if err != nil {
				return exp, fmt.Errorf("presign export: %w", err)
			}
			exp.Documents = append(exp.Documents, ExportedDocument{DocumentView: viewDocument(doc), Link: link})
		}
	}
	if !slices.Contains(d.Scope, DisclosePersonalData) {
		return exp, nil
	}
	contact, err := s.openSealed(ctx, c.ID, c.Contact, &exp.Shredded)
	if err != nil {
		return exp, fmt.Errorf("open contact: %w", err)
	}
	exp.Contact = string(contact)
	seen := map[string]bool{}
	for _, doc := range docs {
		if doc.SubmissionID == "" || seen[doc.SubmissionID] {
			continue
		}
		seen[doc.SubmissionID] = true
		sub, err := s.store.Submission(ctx, doc.SubmissionID)
		if err != nil {
			return exp, fmt.Errorf("load submission: %w", err)
		}
		b, err := s.openSealed(ctx, c.ID, sub.Extracted, &exp.Shredded)
		if err != nil {
			return exp, fmt.Errorf("open extracted fields: %w", err)
		}
		if b != nil {
			var e Extracted
			if err := json.Unmarshal(b, &e); err != nil {
				return exp, fmt.Errorf("decode extracted fields: %w", err)
			}
			exp.Extracted = append(exp.Extracted, e)
		}
	}
	return exp, nil
}
