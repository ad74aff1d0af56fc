package idcheck

import (
	"strings"
	"time"
)

// MRZ is a machine-readable zone read by ParseMRZ: the fields a reviewer
// compares with the document and with what they recorded. Text fields have
// the filler < trimmed from their ends; names have the fillers between
// their parts turned into spaces.
type MRZ struct {
	Format Format `json:"format"` // FormatTD1, FormatTD2, FormatTD3, FormatMRVA or FormatMRVB
	// Lines are the MRZ's lines as read: white space removed, nothing else
	// changed.
	Lines []string `json:"lines"`

	DocumentCode string `json:"documentCode"` // e.g. "P", "I", "ID", "AC", "V"
	IssuingState string `json:"issuingState"` // ICAO code, e.g. "UTO", "D" (Germany)
	Surname      string `json:"surname"`      // the primary identifier
	GivenNames   string `json:"givenNames"`   // the secondary identifier, "" if none
	// DocumentNumber is the whole number, also when a TD1 or TD2 continues
	// a number longer than nine characters in its optional data.
	DocumentNumber string `json:"documentNumber"`
	Nationality    string `json:"nationality"`
	BirthDate      Date   `json:"birthDate"`
	Sex            string `json:"sex"` // "F", "M", "X", or "" when unspecified (<)
	ExpiryDate     Date   `json:"expiryDate"`
	// OptionalData is the personal number of a TD3, the optional data of a
	// TD2 or visa, or the first line's optional data of a TD1 (after any
	// continued document number).
	OptionalData string `json:"optionalData,omitempty"`
	// OptionalData2 is the second line's optional data of a TD1.
	OptionalData2 string `json:"optionalData2,omitempty"`
}

// MaxMRZLen is the longest MRZ text, in bytes, that ParseMRZ reads. An MRZ
// has at most 90 characters; the rest is room for white space.
const MaxMRZLen = 1024

// ParseMRZ reads an MRZ pasted by a reviewer. It tolerates white space
// around lines, CRLF line ends and blank lines, and an MRZ pasted as one
// line of 72, 88 or 90 characters. It refuses anything else that is not
// an MRZ of a known shape, with a Finding (field "mrz") as the error: a
// wrong number of lines, lines of wrong lengths, lower-case letters or
// characters other than A-Z, 0-9 and <.
//
// ParseMRZ checks no check digit; Verify does.
func ParseMRZ(text string) (*MRZ, error) {
	m, problem := parseMRZ(text)
	if problem != nil {
		return nil, *problem
	}
	return m, nil
}

func parseMRZ(text string) (*MRZ, *Finding) {
	if len(text) > MaxMRZLen {
		return nil, findingPtr(FieldMRZ, CodeTooLong, msgMRZTooLong)
	}
	var lines []string
	for _, l := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, findingPtr(FieldMRZ, CodeMissing, msgMRZMissing)
	}
	lower := false
	for _, l := range lines {
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case isUpper(c) || isDigit(c) || c == '<':
			case c >= 'a' && c <= 'z':
				lower = true
			default:
				return nil, findingPtr(FieldMRZ, CodeMRZInvalidCharacter, msgMRZCharacter)
			}
		}
	}
	if lower {
		return nil, findingPtr(FieldMRZ, CodeMRZInvalidCharacter, msgMRZLowerCase)
	}
	if len(lines) == 1 {
		switch l := lines[0]; len(l) {
		case 90:
			lines = []string{l[:30], l[30:60], l[60:]}
		case 88, 72:
			lines = []string{l[:len(l)/2], l[len(l)/2:]}
		}
	}
	f, problem := layoutOf(lines)
	if problem != nil {
		return nil, problem
	}
	m, _ := read(f, lines)
	return &m, nil
}

// layoutOf tells the format from the number and lengths of the lines.
func layoutOf(lines []string) (Format, *Finding) {
	switch len(lines) {
	case 3:
		for _, l := range lines {
			if len(l) != 30 {
				return FormatNone, findingPtr(FieldMRZ, CodeMRZLineLength, msgMRZLineLength3)
			}
		}
		return FormatTD1, nil
	case 2:
		visa := strings.HasPrefix(lines[0], "V")
		switch {
		case len(lines[0]) != len(lines[1]):
		case len(lines[0]) == 44 && visa:
			return FormatMRVA, nil
		case len(lines[0]) == 44:
			return FormatTD3, nil
		case len(lines[0]) == 36 && visa:
			return FormatMRVB, nil
		case len(lines[0]) == 36:
			return FormatTD2, nil
		}
		return FormatNone, findingPtr(FieldMRZ, CodeMRZLineLength, msgMRZLineLength2)
	}
	return FormatNone, findingPtr(FieldMRZ, CodeMRZLineCount, msgMRZLineCount)
}

// digitCheck is one check digit of an MRZ and the data it protects.
type digitCheck struct {
	field Field
	msg   msg
	data  string
	digit byte
}

// ok reports whether the check digit matches its data. A field of fillers
// only may have the filler as its check digit (ICAO 9303 allows it for an
// unused personal number; it is accepted everywhere, since nothing is lost).
func (c digitCheck) ok() bool {
	return c.digit == mrzCheckDigit(c.data) || c.digit == '<' && strings.Trim(c.data, "<") == ""
}

// mrzCheckDigit computes the ICAO 9303 check digit of data: each character's
// value (0-9 for digits, 10-35 for A-Z, 0 for <) times the weights 7, 3, 1
// repeated from the left, summed, modulo 10.
func mrzCheckDigit(data string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(data); i++ {
		if data[i] != '<' {
			sum += weights[i%3] * alnumValue(data[i])
		}
	}
	return byte('0' + sum%10)
}

// read takes the fields and check digits out of lines of a known layout
// (ICAO 9303 Parts 4-7; positions below are 0-based).
func read(f Format, lines []string) (MRZ, []digitCheck) {
	m := MRZ{Format: f, Lines: lines}
	l1, l2 := lines[0], lines[1]
	m.DocumentCode = trimFill(l1[0:2])
	m.IssuingState = trimFill(l1[2:5])
	var checks []digitCheck
	var number string
	var numberDigit byte

	switch f {
	case FormatTD1:
		// Line 1: code, state, number 5-13, check 14, optional data 15-29.
		// Line 2: birth 0-5, check 6, sex 7, expiry 8-13, check 14,
		// nationality 15-17, optional data 18-28, composite 29. Line 3: name.
		number, numberDigit, m.OptionalData = continued(l1[5:14], l1[14], l1[15:30])
		m.BirthDate, m.Sex, m.ExpiryDate = Date(l2[0:6]), l2[7:8], Date(l2[8:14])
		m.Nationality = trimFill(l2[15:18])
		m.OptionalData2 = trimFill(l2[18:29])
		m.Surname, m.GivenNames = names(lines[2])
		checks = []digitCheck{
			{FieldMRZDocumentNumber, msgMRZCheckNumber, number, numberDigit},
			{FieldMRZBirthDate, msgMRZCheckBirth, l2[0:6], l2[6]},
			{FieldMRZExpiryDate, msgMRZCheckExpiry, l2[8:14], l2[14]},
			{FieldMRZComposite, msgMRZCheckComposite, l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]},
		}
	default:
		// Line 1: code, state, name 5-end. Line 2: number 0-8, check 9,
		// nationality 10-12, birth 13-18, check 19, sex 20, expiry 21-26,
		// check 27, then by format:
		//   TD3:  personal number 28-41, check 42, composite 43
		//   TD2:  optional data 28-34, composite 35
		//   MRV-A, MRV-B: optional data 28-end, no further check digits
		m.Surname, m.GivenNames = names(l1[5:])
		number, numberDigit = l2[0:9], l2[9]
		m.Nationality = trimFill(l2[10:13])
		m.BirthDate, m.Sex, m.ExpiryDate = Date(l2[13:19]), l2[20:21], Date(l2[21:27])
		m.OptionalData = trimFill(l2[28:])
		switch f {
		case FormatTD3:
			m.OptionalData = trimFill(l2[28:42])
		case FormatTD2:
			number, numberDigit, m.OptionalData = continued(l2[0:9], l2[9], l2[28:35])
		}
		checks = []digitCheck{
			{FieldMRZDocumentNumber, msgMRZCheckNumber, number, numberDigit},
			{FieldMRZBirthDate, msgMRZCheckBirth, l2[13:19], l2[19]},
			{FieldMRZExpiryDate, msgMRZCheckExpiry, l2[21:27], l2[27]},
		}
		switch f {
		case FormatTD3:
			checks = append(checks,
				digitCheck{FieldMRZOptionalData, msgMRZCheckOptional, l2[28:42], l2[42]},
				digitCheck{FieldMRZComposite, msgMRZCheckComposite, l2[0:10] + l2[13:20] + l2[21:43], l2[43]})
		case FormatTD2:
			checks = append(checks,
				digitCheck{FieldMRZComposite, msgMRZCheckComposite, l2[0:10] + l2[13:20] + l2[21:35], l2[35]})
		}
	}
	m.DocumentNumber = trimFill(number)
	if m.Sex == "<" {
		m.Sex = ""
	}
	return m, checks
}

// continued reads a TD1 or TD2 document number that may continue in the
// optional data (ICAO 9303 Part 5 and Part 6, note on document numbers of
// more than nine characters): the check digit position holds a filler, and
// the optional data starts with the rest of the number, its check digit
// (computed on the whole number) and a filler. It returns the number, its
// check digit and what remains of the optional data.
func continued(principal string, digit byte, optional string) (number string, check byte, rest string) {
	if digit != '<' || optional[0] == '<' {
		return principal, digit, trimFill(optional)
	}
	end := strings.IndexByte(optional, '<')
	if end < 0 {
		end = len(optional)
	}
	rest = ""
	if end+1 < len(optional) {
		rest = optional[end+1:]
	}
	return principal + optional[:end-1], optional[end-1], trimFill(rest)
}

func trimFill(s string) string { return strings.TrimRight(s, "<") }

// names splits a name field into the primary identifier (before <<) and
// the secondary one, with the fillers between parts as single spaces.
func names(field string) (primary, secondary string) {
	p, s, _ := strings.Cut(trimFill(field), "<<")
	words := func(s string) string {
		return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '<' }), " ")
	}
	return words(p), words(s)
}

// Verify checks an MRZ's check digits and the values of its fields, and
// returns a finding for each problem, in the order of the fields: document
// code, issuing state, document number, nationality, birth date, sex,
// expiry date, optional data, composite.
//
// The ICAO check digits (weights 7, 3, 1, modulo 10) catch any one
// character replaced by another whose value differs by other than a
// multiple of 10: every mistyped digit, and O (24) typed for 0. They miss
// 0 typed for < (both 0) or a letter ten values from the original (0, A,
// K, U; 1, B, L, V; ...), and a swap of neighbours whose values differ by
// a multiple of 5 (16 for 61). A clean Verify is no proof that the MRZ was
// copied right.
func (m *MRZ) Verify() []Finding {
	f, problem := layoutOf(m.Lines)
	if problem != nil || f != m.Format || !validChars(m.Lines) {
		return []Finding{newFinding(FieldMRZ, CodeMRZLineLength, msgMRZShape)}
	}
	r, checks := read(f, m.Lines)
	var out []Finding
	add := func(field Field, code Code, msg msg) { out = append(out, newFinding(field, code, msg)) }
	check := func(field Field) {
		for _, c := range checks {
			if c.field == field && !c.ok() {
				add(c.field, CodeCheckDigitMismatch, c.msg)
			}
		}
	}

	if !isUpper(m.Lines[0][0]) {
		add(FieldMRZDocumentCode, CodeInvalidValue, msgMRZDocumentCode)
	}
	if strings.ContainsAny(r.IssuingState, "0123456789") {
		add(FieldMRZIssuingState, CodeInvalidValue, msgMRZIssuingState)
	}
	check(FieldMRZDocumentNumber)
	if strings.ContainsAny(r.Nationality, "0123456789") {
		add(FieldMRZNationality, CodeInvalidValue, msgMRZNationality)
	}
	if !r.BirthDate.wellFormed(true) {
		add(FieldMRZBirthDate, CodeInvalidDate, msgMRZBirthDate)
	}
	check(FieldMRZBirthDate)
	switch r.Sex {
	case "F", "M", "X", "":
	default:
		add(FieldMRZSex, CodeInvalidValue, msgMRZSex)
	}
	if !r.ExpiryDate.wellFormed(false) {
		add(FieldMRZExpiryDate, CodeInvalidDate, msgMRZExpiryDate)
	}
	check(FieldMRZExpiryDate)
	check(FieldMRZOptionalData)
	check(FieldMRZComposite)
	return out
}

func validChars(lines []string) bool {
	for _, l := range lines {
		if !allIn(l, func(c byte) bool { return isUpper(c) || isDigit(c) || c == '<' }) {
			return false
		}
	}
	return true
}

// Date is a date as an MRZ prints it: YYMMDD, with a two-digit year. An
// issuer that does not know the day, or the month and day, of a birth date
// prints fillers for them (e.g. "7408<<"), and "<<<<<<" for an unknown date.
type Date string

// parts returns the year (0-99), month and day, -1 for a part printed as
// fillers; ok is false for anything but six digits or fillers.
func (d Date) parts() (yy, mm, dd int, ok bool) {
	if len(d) != 6 {
		return 0, 0, 0, false
	}
	var v [3]int
	for i := range v {
		a, b := d[2*i], d[2*i+1]
		switch {
		case a == '<' && b == '<':
			v[i] = -1
		case isDigit(a) && isDigit(b):
			v[i] = int(a-'0')*10 + int(b-'0')
		default:
			return 0, 0, 0, false
		}
	}
	return v[0], v[1], v[2], true
}

// Known reports whether the date is complete and a calendar date.
func (d Date) Known() bool { return d.wellFormed(false) }

// wellFormed reports whether the date is a calendar date; with partial, it
// may also leave out the day, the month and day, or all of it.
func (d Date) wellFormed(partial bool) bool {
	yy, mm, dd, ok := d.parts()
	switch {
	case !ok:
		return false
	case yy < 0 || mm < 0 || dd < 0:
		// Unknown parts come from the right: YYMM<<, YY<<<<, <<<<<<.
		switch {
		case !partial:
			return false
		case yy >= 0 && mm >= 0 && dd < 0:
			return mm >= 1 && mm <= 12
		case yy >= 0 && mm < 0 && dd < 0, yy < 0 && mm < 0 && dd < 0:
			return true
		}
		return false
	case mm < 1 || mm > 12 || dd < 1:
		return false
	}
	// 2000+yy is a leap year exactly when 19yy is, except for 1900 and 2000:
	// take 2000+yy, so that 29 February of a year 00 counts (2000 was).
	return dd <= daysIn(2000+yy, mm)
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Matches reports whether t falls on this date, comparing the year modulo
// 100 (the MRZ has no century). A date with an unknown part matches
// nothing. Use it to compare the MRZ with the date a reviewer recorded.
func (d Date) Matches(t time.Time) bool {
	if !d.Known() {
		return false
	}
	yy, mm, dd, _ := d.parts()
	return (t.Year()%100+100)%100 == yy && int(t.Month()) == mm && t.Day() == dd
}

// Resolve returns the date in the first year from firstYear on that ends in
// its two digits, at midnight UTC. For an expiry date, firstYear of about
// 50 years before today is safe; for a birth date, 100 years before today
// (then check it is not after today). ok is false for an unknown or
// impossible date.
func (d Date) Resolve(firstYear int) (t time.Time, ok bool) {
	if !d.Known() {
		return time.Time{}, false
	}
	yy, mm, dd, _ := d.parts()
	y := firstYear + ((yy-firstYear)%100+100)%100
	if dd > daysIn(y, mm) { // 29 February of a year 00 that is not a leap year (1900, 2100)
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mm), dd, 0, 0, 0, 0, time.UTC), true
}
