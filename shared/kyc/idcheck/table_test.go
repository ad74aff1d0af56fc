package idcheck_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc/idcheck"
)

type want = idcheck.Finding

func f(field idcheck.Field, code idcheck.Code) want { return want{Field: field, Code: code} }

// td3 builds a TD3 MRZ with correct check digits around the given fields
// (lengths as in the MRZ: number 9, dates 6, personal number 14).
func td3(number, nat, birth, sex, expiry, personal string) string {
	l2 := number + string(icaoOracle(number)) + nat + birth + string(icaoOracle(birth)) + sex + expiry + string(icaoOracle(expiry)) +
		personal + string(icaoOracle(personal))
	l2 += string(icaoOracle(l2[0:10] + l2[13:20] + l2[21:43]))
	return "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" + l2
}

// tdLong is a TD1 whose document number fills the whole optional data:
// D23145890 + 73456789012344 (14 characters) + its check digit.
func tdLong() string {
	number := "D2314589073456789012344"
	l1 := "I<UTO" + number[:9] + "<" + number[9:] + string(icaoOracle(number))
	l2 := "7408122F1204159UTO<<<<<<<<<<<"
	l2 += string(icaoOracle(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]))
	return l1 + "\n" + l2 + "\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
}

func TestCheckTable(t *testing.T) {
	specimenLines := strings.Split(specimenTD3, "\n")
	for _, tc := range []struct {
		name   string
		in     idcheck.Input
		format idcheck.Format
		want   []want
	}{
		// The document number: how reviewers type it.
		{"empty number", idcheck.Input{DocumentType: "national_id"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeMissing)}},
		{"blank number", idcheck.Input{DocumentType: "passport", DocumentNumber: " \t\u3000"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeMissing)}},
		{"too long", idcheck.Input{DocumentType: "national_id", DocumentNumber: strings.Repeat("A1", 33)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeTooLong)}},
		{"lower case", idcheck.Input{DocumentType: "national_id", DocumentNumber: "a123456(3)"}, idcheck.FormatHKID, nil},
		{"spaces", idcheck.Input{DocumentType: "national_id", DocumentNumber: " A 123 456 (3) "}, idcheck.FormatHKID, nil},
		{"no brackets, space", idcheck.Input{DocumentType: "national_id", DocumentNumber: "A123456 3"}, idcheck.FormatHKID, nil},
		{"full-width", idcheck.Input{DocumentType: "national_id", DocumentNumber: "Ａ１２３４５６（３）"}, idcheck.FormatHKID, nil},
		{"full-width Taiwan", idcheck.Input{DocumentType: "national_id", DocumentNumber: "ａ１２３４５６７８９"}, idcheck.FormatTWNationalID, nil},
		{"square brackets", idcheck.Input{DocumentType: "national_id", DocumentNumber: "A123456[3]"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeInvalidCharacter)}},
		{"Chinese characters", idcheck.Input{DocumentType: "national_id", DocumentNumber: "香港A123456(3)"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeInvalidCharacter)}},
		{"control character", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902\x00C3"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeInvalidCharacter)}},
		{"invalid UTF-8", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902\xffC3"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeInvalidCharacter)}},
		{"unbalanced bracket", idcheck.Input{DocumentType: "national_id", DocumentNumber: "A123456(3"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeUnrecognisedFormat)}},
		{"HKID wrong check digit", idcheck.Input{DocumentType: "national_id", DocumentNumber: "A123456(7)"}, idcheck.FormatHKID,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeCheckDigitMismatch)}},
		{"old ARC letter beyond D", idcheck.Input{DocumentType: "national_id", DocumentNumber: "AE00000009"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeUnrecognisedFormat)}},
		{"Taiwan second digit 3", idcheck.Input{DocumentType: "national_id", DocumentNumber: "A323456789"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeUnrecognisedFormat)}},
		{"national ID with an unknown format", idcheck.Input{DocumentType: "national_id", DocumentNumber: "123456789"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeUnrecognisedFormat)}},
		{"unknown format, unknown type", idcheck.Input{DocumentNumber: "123456789"}, idcheck.FormatNone, nil},
		{"unknown format, driving licence", idcheck.Input{DocumentType: "driving_license", DocumentNumber: "SMITH 901017 JJ9DE"}, idcheck.FormatNone, nil},
		{"Taiwan driving licence carries the ID", idcheck.Input{DocumentType: "driving_license", DocumentNumber: "A123456788"}, idcheck.FormatTWNationalID,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeCheckDigitMismatch)}},
		// 14·9+10·8+1·7+2·6+3·5+4·4+5·3+6·2 = 283 → check 3, not 7: a Chinese
		// passport number has an HKID's shape, so passports are not checked.
		{"passport shaped like an HKID", idcheck.Input{DocumentType: "passport", DocumentNumber: "EA1234567"}, idcheck.FormatNone, nil},
		{"the same as a national ID", idcheck.Input{DocumentType: "national_id", DocumentNumber: "EA1234567"}, idcheck.FormatHKID,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeCheckDigitMismatch)}},
		{"visa: resident certificate", idcheck.Input{DocumentType: "visa", DocumentNumber: "A800000014"}, idcheck.FormatTWARCNew, nil},
		{"visa: no national ID", idcheck.Input{DocumentType: "visa", DocumentNumber: "A123456788"}, idcheck.FormatNone, nil},
		{"type hint in capitals", idcheck.Input{DocumentType: " National_ID ", DocumentNumber: "123"}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeUnrecognisedFormat)}},

		// The MRZ: what a paste can look like.
		{"CRLF and trailing spaces", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3",
			MRZ: "\r\n" + specimenLines[0] + "  \r\n" + specimenLines[1] + "\t\r\n\r\n"}, idcheck.FormatNone, nil},
		{"one line of 88", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: specimenLines[0] + specimenLines[1]}, idcheck.FormatNone, nil},
		{"blank MRZ is no MRZ", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: " \n\t"}, idcheck.FormatNone, nil},
		{"MRZ in lower case", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: strings.ToLower(specimenTD3)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeMRZInvalidCharacter)}},
		{"space inside a line", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: strings.Replace(specimenTD3, "ANNA<", "ANNA ", 1)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeMRZInvalidCharacter)}},
		{"full-width filler", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: strings.Replace(specimenTD3, "<", "＜", 1)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeMRZInvalidCharacter)}},
		{"one line only", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: specimenLines[1]}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeMRZLineCount)}},
		{"four lines", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: specimenTD3 + "\n" + specimenTD3}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeMRZLineCount)}},
		{"a character missing", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: specimenTD3[:len(specimenTD3)-1]}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeMRZLineLength)}},
		// With no readable MRZ, a national ID number in no known format is a
		// finding too.
		{"TD1 line too short", idcheck.Input{DocumentType: "national_id", DocumentNumber: "D23145890", MRZ: specimenTD1[:len(specimenTD1)-1]}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeUnrecognisedFormat), f(idcheck.FieldMRZ, idcheck.CodeMRZLineLength)}},
		{"MRZ too long", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: strings.Repeat(specimenTD3+"\n", 12)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZ, idcheck.CodeTooLong)}},

		// The MRZ against what was recorded.
		{"number differs from the MRZ", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C4", MRZ: specimenTD3}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeMRZNumberMismatch)}},
		{"number spelled differently", idcheck.Input{DocumentType: "passport", DocumentNumber: "l898 902-c3", MRZ: specimenTD3}, idcheck.FormatNone, nil},
		{"long number", idcheck.Input{DocumentType: "national_id", DocumentNumber: "D23145890734", MRZ: specimenTD1Long}, idcheck.FormatNone, nil},
		{"long number cut at nine", idcheck.Input{DocumentType: "national_id", DocumentNumber: "D23145890", MRZ: specimenTD1Long}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeMRZNumberMismatch)}},
		{"no number, an MRZ", idcheck.Input{DocumentType: "passport", MRZ: specimenTD3}, idcheck.FormatNone,
			[]want{f(idcheck.FieldDocumentNumber, idcheck.CodeMissing)}},
		{"recorded as a visa", idcheck.Input{DocumentType: "visa", DocumentNumber: "L898902C3", MRZ: specimenTD3}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZDocumentCode, idcheck.CodeDocumentTypeMismatch)}},
		{"a visa recorded as a passport", idcheck.Input{DocumentType: "passport", DocumentNumber: "L8988901C", MRZ: specimenMRVA}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZDocumentCode, idcheck.CodeDocumentTypeMismatch)}},
		{"filler as a check digit", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3",
			MRZ: specimenLines[0] + "\n" + specimenLines[1][:9] + "<" + specimenLines[1][10:]}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZDocumentNumber, idcheck.CodeCheckDigitMismatch), f(idcheck.FieldMRZComposite, idcheck.CodeCheckDigitMismatch)}},
		// A TD1 check digit position holding a filler announces a number
		// continued in the optional data; with none there, it is a plain
		// mismatch.
		{"TD1 filler check digit, nothing continued", idcheck.Input{DocumentType: "national_id", DocumentNumber: "D23145890",
			MRZ: strings.Replace(specimenTD1, "D231458907", "D23145890<", 1)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZDocumentNumber, idcheck.CodeCheckDigitMismatch), f(idcheck.FieldMRZComposite, idcheck.CodeCheckDigitMismatch)}},
		{"TD2 filler check digit, nothing continued", idcheck.Input{DocumentType: "passport", DocumentNumber: "D23145890",
			MRZ: strings.Replace(specimenTD2, "D231458907", "D23145890<", 1)}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZDocumentNumber, idcheck.CodeCheckDigitMismatch), f(idcheck.FieldMRZComposite, idcheck.CodeCheckDigitMismatch)}},
		// A continued number whose optional data has no filler after it: the
		// last character is its check digit.
		{"TD1 continued to the end", idcheck.Input{DocumentType: "national_id", DocumentNumber: "D2314589073456789012344",
			MRZ: tdLong()}, idcheck.FormatNone, nil},
		{"unused personal number, filler check digit", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3",
			MRZ: strings.Replace(td3("L898902C3", "UTO", "740812", "F", "120415", "<<<<<<<<<<<<<<"), "<<<<<<<<<<<<<<0", "<<<<<<<<<<<<<<<", 1)}, idcheck.FormatNone, nil},
		// td3 computes the composite over the personal number's check digit
		// 0; a filler there is also 0, so the composite still holds.

		// Values of MRZ fields, with correct check digits around them.
		{"birth date 30 February", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "740230", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZBirthDate, idcheck.CodeInvalidDate)}},
		{"birth date month 13", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "741312", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZBirthDate, idcheck.CodeInvalidDate)}},
		{"29 February 2000", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "000229", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone, nil},
		{"29 February 2001", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "010229", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZBirthDate, idcheck.CodeInvalidDate)}},
		{"birth day unknown", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "7408<<", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone, nil},
		{"birth date unknown", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "<<<<<<", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone, nil},
		{"birth month unknown, day known", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "74<<12", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZBirthDate, idcheck.CodeInvalidDate)}},
		{"expiry day unknown", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "740812", "F", "1204<<", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZExpiryDate, idcheck.CodeInvalidDate)}},
		{"letter in a date", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "740812", "F", "12O415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZExpiryDate, idcheck.CodeInvalidDate)}},
		{"sex Q", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "UTO", "740812", "Q", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZSex, idcheck.CodeInvalidValue)}},
		{"digit in nationality", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: td3("L898902C3", "U7O", "740812", "F", "120415", "<<<<<<<<<<<<<<")}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZNationality, idcheck.CodeInvalidValue)}},
		{"digit in issuing state and code", idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: "1<U7O" + specimenTD3[5:]}, idcheck.FormatNone,
			[]want{f(idcheck.FieldMRZDocumentCode, idcheck.CodeInvalidValue), f(idcheck.FieldMRZIssuingState, idcheck.CodeInvalidValue)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := idcheck.Check(tc.in)
			if r.NumberFormat != tc.format || !sameFindings(r.Findings, tc.want) {
				t.Fatalf("Check(%+q) = format %s, findings %v; want %s, %v", tc.in, r.NumberFormat, r.Findings, tc.format, tc.want)
			}
			for _, f := range r.Findings {
				if f.Message == "" {
					t.Errorf("finding %v has no message", f)
				}
			}
		})
	}
}

func TestParseMRZErrorsAreFindings(t *testing.T) {
	for _, text := range []string{"", "P<UTO", strings.ToLower(specimenTD3)} {
		m, err := idcheck.ParseMRZ(text)
		fi, ok := err.(idcheck.Finding)
		if m != nil || !ok || fi.Field != idcheck.FieldMRZ || fi.Error() == "" {
			t.Errorf("ParseMRZ(%q) = %v, %#v; want nil and a Finding for field mrz", text, m, err)
		}
	}
}

// Verify on an MRZ whose Format was changed after parsing refuses rather
// than reading fields at the wrong positions.
func TestVerifyInconsistentMRZ(t *testing.T) {
	m, err := idcheck.ParseMRZ(specimenTD3)
	if err != nil {
		t.Fatal(err)
	}
	m.Format = idcheck.FormatTD2
	if got := m.Verify(); !sameFindings(got, []want{f(idcheck.FieldMRZ, idcheck.CodeMRZLineLength)}) {
		t.Errorf("Verify = %v", got)
	}
	m.Format, m.Lines = idcheck.FormatTD3, []string{specimenTD3[:44], strings.ToLower(specimenTD3[45:])}
	if got := m.Verify(); len(got) != 1 {
		t.Errorf("Verify with lower case lines = %v", got)
	}
	for _, lines := range [][]string{nil, {"", ""}, {"", "", ""}, {"V"}} {
		if got := (&idcheck.MRZ{Format: idcheck.FormatTD3, Lines: lines}).Verify(); len(got) != 1 || got[0].Field != idcheck.FieldMRZ {
			t.Errorf("Verify with lines %q = %v", lines, got)
		}
	}
}

func TestDate(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		d       idcheck.Date
		known   bool
		from    int
		resolve time.Time // zero: Resolve fails
	}{
		{"120415", true, 1976, day(2012, 4, 15)},
		{"740812", true, 1926, day(1974, 8, 12)},
		{"740812", true, 1975, day(2074, 8, 12)},
		{"991231", true, 2000, day(2099, 12, 31)},
		{"000229", true, 1950, day(2000, 2, 29)},
		{"000229", true, 1900, time.Time{}}, // 1900 was no leap year
		{"010229", false, 1950, time.Time{}},
		{"740230", false, 1950, time.Time{}},
		{"741301", false, 1950, time.Time{}},
		{"740100", false, 1950, time.Time{}},
		{"7408<<", false, 1950, time.Time{}},
		{"<<<<<<", false, 1950, time.Time{}},
		{"74081", false, 1950, time.Time{}},
		{"", false, 1950, time.Time{}},
	} {
		if got := tc.d.Known(); got != tc.known {
			t.Errorf("Date(%q).Known() = %v", tc.d, got)
		}
		got, ok := tc.d.Resolve(tc.from)
		if ok != !tc.resolve.IsZero() || !got.Equal(tc.resolve) {
			t.Errorf("Date(%q).Resolve(%d) = %v, %v; want %v", tc.d, tc.from, got, ok, tc.resolve)
		}
		if !tc.resolve.IsZero() && (!tc.d.Matches(tc.resolve.AddDate(-400, 0, 0)) || tc.d.Matches(tc.resolve.AddDate(0, 0, 1))) {
			t.Errorf("Date(%q).Matches is wrong", tc.d)
		}
	}
	if idcheck.Date("7408<<").Matches(day(1974, 8, 1)) {
		t.Error("a date with an unknown day matched a day")
	}
}
