package idcheck

// msg picks a message from the catalogue. Findings take their text only
// from here, never from input, so a message cannot echo a document number
// or a name (the fuzz test holds every finding to this catalogue).
type msg uint8

const (
	msgNumberMissing msg = iota
	msgNumberTooLong
	msgNumberCharacter
	msgNumberUnrecognised
	msgCheckHKID
	msgCheckTWNationalID
	msgCheckTWARCNew
	msgCheckTWARCOld
	msgNumberDiffersFromMRZ

	msgMRZMissing
	msgMRZTooLong
	msgMRZLineCount
	msgMRZLineLength2
	msgMRZLineLength3
	msgMRZLowerCase
	msgMRZCharacter
	msgMRZShape

	msgMRZCheckNumber
	msgMRZCheckBirth
	msgMRZCheckExpiry
	msgMRZCheckOptional
	msgMRZCheckComposite
	msgMRZBirthDate
	msgMRZExpiryDate
	msgMRZSex
	msgMRZDocumentCode
	msgMRZIssuingState
	msgMRZNationality

	msgRecordedVisaNotVisa
	msgRecordedOtherIsVisa

	numMessages
)

var messages = [numMessages]string{
	msgNumberMissing:        "No document number was recorded.",
	msgNumberTooLong:        "The document number is longer than any identity document number.",
	msgNumberCharacter:      "The document number has a character that document numbers do not use (expected letters, digits, spaces and - / . ( )).",
	msgNumberUnrecognised:   "The number matches none of the identity card formats checked here (Hong Kong identity card, Taiwan national ID, Taiwan resident certificate); check it against the document.",
	msgCheckHKID:            "The check digit (in brackets) does not match the rest of this Hong Kong identity card number; check each character against the card.",
	msgCheckTWNationalID:    "The check digit (the last digit) does not match the rest of this Taiwan national ID number; check each character against the card.",
	msgCheckTWARCNew:        "The check digit (the last digit) does not match the rest of this Taiwan resident certificate (UI) number; check each character against the card.",
	msgCheckTWARCOld:        "The check digit (the last digit) does not match the rest of this Taiwan resident certificate (UI) number of the format issued before 2021; check each character against the card.",
	msgNumberDiffersFromMRZ: "The recorded document number differs from the document number in the MRZ.",

	msgMRZMissing:     "No MRZ text was given.",
	msgMRZTooLong:     "The MRZ text is far longer than an MRZ (at most 3 lines of 30 or 2 lines of 44 characters).",
	msgMRZLineCount:   "An MRZ has 2 lines (passports, visas, TD2 documents) or 3 lines (TD1 identity cards); paste exactly those lines.",
	msgMRZLineLength2: "The lines of a 2-line MRZ are both 44 characters long (passports, visas of format A) or both 36 (TD2 documents, visas of format B); a character is missing or extra.",
	msgMRZLineLength3: "The lines of a 3-line MRZ (TD1 identity cards) are each 30 characters long; a character is missing or extra.",
	msgMRZLowerCase:   "The MRZ has lower-case letters; MRZ text is upper case, so it was probably retyped: paste it as printed.",
	msgMRZCharacter:   "The MRZ has a character other than A-Z, 0-9 and the filler <, such as a space inside a line.",
	msgMRZShape:       "The MRZ lines do not match the MRZ format given.",

	msgMRZCheckNumber:    "The MRZ check digit of the document number does not match it.",
	msgMRZCheckBirth:     "The MRZ check digit of the date of birth does not match it.",
	msgMRZCheckExpiry:    "The MRZ check digit of the date of expiry does not match it.",
	msgMRZCheckOptional:  "The MRZ check digit of the personal number (optional data) does not match it.",
	msgMRZCheckComposite: "The composite check digit at the end of the MRZ does not match the fields it covers.",
	msgMRZBirthDate:      "The date of birth in the MRZ is not a calendar date (YYMMDD, with fillers only for an unknown day or month).",
	msgMRZExpiryDate:     "The date of expiry in the MRZ is not a calendar date (YYMMDD).",
	msgMRZSex:            "The sex in the MRZ is none of F, M, X and the filler <.",
	msgMRZDocumentCode:   "The document code at the start of the MRZ does not start with a letter.",
	msgMRZIssuingState:   "The issuing state in the MRZ has digits; it is a three-letter code.",
	msgMRZNationality:    "The nationality in the MRZ has digits; it is a three-letter code.",

	msgRecordedVisaNotVisa: "The document is recorded as a visa, but the MRZ is not a visa's (a visa's starts with V).",
	msgRecordedOtherIsVisa: "The MRZ is a visa's (it starts with V), but the document is recorded as another type.",
}

// checkDigitMessage is the message for a document number's check digit
// mismatch, by format.
var checkDigitMessage = map[Format]msg{
	FormatHKID:         msgCheckHKID,
	FormatTWNationalID: msgCheckTWNationalID,
	FormatTWARCNew:     msgCheckTWARCNew,
	FormatTWARCOld:     msgCheckTWARCOld,
}

func newFinding(f Field, c Code, m msg) Finding {
	return Finding{Field: f, Code: c, Message: messages[m]}
}

func findingPtr(f Field, c Code, m msg) *Finding {
	x := newFinding(f, c, m)
	return &x
}
