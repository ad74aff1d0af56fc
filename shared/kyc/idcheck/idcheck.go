// Package idcheck checks the formats and check digits of the identity
// document numbers a reviewer records, and the machine-readable zone (MRZ)
// of passports, visas and identity cards when the reviewer pastes it.
//
// It knows the documents a Hong Kong and Taiwan hosting provider sees most:
//   - the Hong Kong identity card (HKID), e.g. A123456(3);
//   - the Taiwan national identification card, e.g. A123456789;
//   - the Taiwan resident certificate / UI number, in the format issued since
//     2 January 2021 (letter, 8 or 9, eight digits) and the older one (two
//     letters, eight digits);
//   - ICAO Doc 9303 MRZs: TD3 (passports), TD2, TD1 (identity and travel
//     cards), MRV-A and MRV-B (visas).
//
// A failed check is a warning for the reviewer, shown next to the field it
// names; it is never a decision. No message ever contains what the reviewer
// typed: every message comes from a fixed catalogue, so findings can be
// logged and shown without carrying personal data.
//
// The package uses only the standard library and imports nothing of the
// project; callers convert their own types (a kyc.DocType is a string).
package idcheck

import (
	"strings"
)

// Format names a format this package recognised.
type Format string

// The formats of document numbers and of MRZs.
const (
	FormatNone Format = "none" // no known format

	FormatHKID         Format = "hkid"           // Hong Kong identity card
	FormatTWNationalID Format = "tw_national_id" // Taiwan national identification card
	FormatTWARCNew     Format = "tw_arc_new"     // Taiwan resident certificate / UI number issued since 2021-01-02
	FormatTWARCOld     Format = "tw_arc_old"     // Taiwan resident certificate / UI number issued before 2021

	FormatTD1  Format = "mrz_td1"  // 3 lines of 30: identity and travel cards (ICAO 9303 Part 5)
	FormatTD2  Format = "mrz_td2"  // 2 lines of 36: travel documents (Part 6)
	FormatTD3  Format = "mrz_td3"  // 2 lines of 44: passports (Part 4)
	FormatMRVA Format = "mrz_mrva" // 2 lines of 44 starting with V: visas, format A (Part 7)
	FormatMRVB Format = "mrz_mrvb" // 2 lines of 36 starting with V: visas, format B (Part 7)
)

// Field names the recorded field a finding is about, as the reviewer's form
// names it.
type Field string

// The fields findings name.
const (
	FieldDocumentNumber    Field = "documentNumber"
	FieldMRZ               Field = "mrz"
	FieldMRZDocumentCode   Field = "mrz.documentCode"
	FieldMRZIssuingState   Field = "mrz.issuingState"
	FieldMRZDocumentNumber Field = "mrz.documentNumber"
	FieldMRZNationality    Field = "mrz.nationality"
	FieldMRZBirthDate      Field = "mrz.birthDate"
	FieldMRZSex            Field = "mrz.sex"
	FieldMRZExpiryDate     Field = "mrz.expiryDate"
	FieldMRZOptionalData   Field = "mrz.optionalData"
	FieldMRZComposite      Field = "mrz.composite"
)

// Code is the stable, machine-readable kind of a finding.
type Code string

// The kinds of findings.
const (
	CodeMissing              Code = "missing"                // nothing was recorded
	CodeTooLong              Code = "too_long"               // longer than any real value
	CodeInvalidCharacter     Code = "invalid_character"      // a character no document number uses
	CodeUnrecognisedFormat   Code = "unrecognised_format"    // a national ID in none of the known formats
	CodeCheckDigitMismatch   Code = "check_digit_mismatch"   // the check digit does not match the data it protects
	CodeMRZNumberMismatch    Code = "mrz_number_mismatch"    // the recorded number is not the MRZ's
	CodeMRZLineCount         Code = "mrz_line_count"         // not 2 or 3 lines
	CodeMRZLineLength        Code = "mrz_line_length"        // lines of a length no MRZ has
	CodeMRZInvalidCharacter  Code = "mrz_invalid_character"  // a character other than A-Z, 0-9 and <
	CodeInvalidDate          Code = "invalid_date"           // not a calendar date
	CodeInvalidValue         Code = "invalid_value"          // a field holds what it cannot hold
	CodeDocumentTypeMismatch Code = "document_type_mismatch" // the recorded type contradicts the MRZ (visa or not)
)

// Finding is one warning for the reviewer. Its Message is English, from a
// fixed catalogue, and never contains the recorded value. A Finding is also
// an error (ParseMRZ returns one).
type Finding struct {
	Field   Field  `json:"field"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Error returns the field and the message.
func (f Finding) Error() string { return string(f.Field) + ": " + f.Message }

// Input is what a reviewer recorded about one identity document.
type Input struct {
	// DocumentType is the document type as the catalogue names it
	// ("national_id", "passport", "visa", "driving_license", ...; case and
	// surrounding spaces do not matter), or "" if unknown. It decides which
	// number formats apply; see Check.
	DocumentType string
	// DocumentNumber is the number as the reviewer typed it.
	DocumentNumber string
	// MRZ is the machine-readable zone as pasted, or "".
	MRZ string
}

// Result is what Check found.
type Result struct {
	// NumberFormat is the format the document number was recognised in,
	// FormatNone if none applied.
	NumberFormat Format `json:"numberFormat"`
	// MRZ is the parsed machine-readable zone, nil when none was given or
	// it could not be read (a finding then says why).
	MRZ *MRZ `json:"mrz,omitempty"`
	// Findings are the warnings, the document number's first.
	Findings []Finding `json:"findings,omitempty"`
}

// MaxNumberLen is the longest document number, in bytes, that Check reads;
// a longer one is reported as too long.
const MaxNumberLen = 64

// numberFormats is what each document type hint allows.
//   - passport: none. Passport numbers are issued per document with no
//     common check digit, and some (Chinese e-passports, "EA1234567") have
//     the shape of an HKID; the MRZ is where a passport is checked.
//   - visa: the Taiwan resident certificates, which reviewers may record as
//     a residence permit.
//   - national_id, driving_license and anything else: all. Hong Kong and
//     Taiwan driving licences carry the holder's identity card or UI number.
var allNumberFormats = []Format{FormatHKID, FormatTWNationalID, FormatTWARCNew, FormatTWARCOld}

func numberFormatsFor(docType string) []Format {
	switch docType {
	case "passport":
		return nil
	case "visa":
		return []Format{FormatTWARCNew, FormatTWARCOld}
	default:
		return allNumberFormats
	}
}

// Check checks what a reviewer recorded about an identity document and
// returns the formats it recognised and its findings. It never fails: every
// problem, including malformed input, is a finding.
//
// The document number is matched against the formats the document type
// allows (passport: none, since passports have no common number format;
// visa: the Taiwan resident certificates; anything else: all). A number in
// one of them whose check digit does not match is a check_digit_mismatch.
// A number in none of them is a finding only for a national_id without a
// readable MRZ (unrecognised_format); for other types it is normal.
//
// A non-empty MRZ is parsed (ParseMRZ) and verified (MRZ.Verify); a
// recorded number other than the MRZ's document number (compared on
// letters and digits, case-insensitively) is an mrz_number_mismatch.
func Check(in Input) Result {
	r := Result{NumberFormat: FormatNone}
	docType := strings.ToLower(strings.TrimSpace(in.DocumentType))

	var m *MRZ
	var mrzFindings []Finding
	if strings.TrimSpace(in.MRZ) != "" {
		parsed, problem := parseMRZ(in.MRZ)
		if problem != nil {
			mrzFindings = append(mrzFindings, *problem)
		} else {
			m = parsed
			mrzFindings = append(mrzFindings, m.Verify()...)
			mrzFindings = append(mrzFindings, typeAgainstMRZ(docType, m)...)
		}
	}
	r.MRZ = m

	if number, problem := recordedNumber(in.DocumentNumber); problem != nil {
		r.Findings = append(r.Findings, *problem)
	} else {
		n, found := parseNumber(number, numberFormatsFor(docType))
		switch {
		case found:
			r.NumberFormat = n.Format
			if !n.CheckDigitOK {
				r.Findings = append(r.Findings, newFinding(FieldDocumentNumber, CodeCheckDigitMismatch, checkDigitMessage[n.Format]))
			}
		case docType == "national_id" && m == nil:
			r.Findings = append(r.Findings, newFinding(FieldDocumentNumber, CodeUnrecognisedFormat, msgNumberUnrecognised))
		}
		if m != nil && alnum(number) != alnum(m.DocumentNumber) {
			r.Findings = append(r.Findings, newFinding(FieldDocumentNumber, CodeMRZNumberMismatch, msgNumberDiffersFromMRZ))
		}
	}
	r.Findings = append(r.Findings, mrzFindings...)
	return r
}

// typeAgainstMRZ compares the recorded document type with the MRZ's
// document code where they can clearly disagree: a visa's MRZ starts with V
// and nothing else's does.
func typeAgainstMRZ(docType string, m *MRZ) []Finding {
	visa := m.Format == FormatMRVA || m.Format == FormatMRVB
	switch {
	case docType == "visa" && !visa:
		return []Finding{newFinding(FieldMRZDocumentCode, CodeDocumentTypeMismatch, msgRecordedVisaNotVisa)}
	case docType != "visa" && docType != "" && visa:
		return []Finding{newFinding(FieldMRZDocumentCode, CodeDocumentTypeMismatch, msgRecordedOtherIsVisa)}
	}
	return nil
}

// recordedNumber normalises a recorded number (see normaliseNumber), or
// says why it is missing, too long or mistyped.
func recordedNumber(s string) (string, *Finding) {
	if len(s) > MaxNumberLen {
		return "", findingPtr(FieldDocumentNumber, CodeTooLong, msgNumberTooLong)
	}
	n, ok := normaliseNumber(s)
	switch {
	case !ok:
		return "", findingPtr(FieldDocumentNumber, CodeInvalidCharacter, msgNumberCharacter)
	case n == "":
		return "", findingPtr(FieldDocumentNumber, CodeMissing, msgNumberMissing)
	}
	return n, nil
}

// alnum keeps the letters and digits of an upper-case ASCII string.
func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
