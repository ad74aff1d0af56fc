package idcheck_test

// Published examples of each format. Each fixture was checked by hand (the
// arithmetic is in the comments) as well as by the implementation, so a
// wrong implementation cannot pass by agreeing with itself.

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc/idcheck"
)

// HKID: weights 9..2 over the prefix (a single letter padded with a space
// = 36) and the six digits, A=10..Z=35; check = (11 - sum mod 11) mod 11,
// 10 written as A.
var hkidFixtures = []struct {
	in, canonical, source string
}{
	// 36·9 + 10·8 + 1·7 + 2·6 + 3·5 + 4·4 + 5·3 + 6·2 = 481; 481 mod 11 = 8; 11-8 = 3.
	{"A123456(3)", "A123456(3)", "the usual published example (Wikipedia; hong.ddns.net; Business::HK::IdentityCard docs)"},
	// 10·9 + 11·8 + 9·7 + 8·6 + 7·5 + 6·4 + 5·3 + 4·2 = 371; 371 mod 11 = 8; 11-8 = 3.
	{"AB987654(3)", "AB987654(3)", "computerterminal.blogspot.com, 'Hong Kong ID Formula', two-letter example"},
	// 324 + 14·8 + 3·7 + 6·6 + 4·5 + 9·4 + 1·3 + 2·2 = 556; 556 mod 11 = 6; 11-6 = 5.
	{"E364912(5)", "E364912(5)", "computerterminal.blogspot.com, single-letter example"},
	// 324 + 35·8 + 4·7 + 3·6 + 7·5 + 6·4 + 2·3 + 6·2 = 727; 727 mod 11 = 1; 11-1 = 10 → A.
	{"Z437626A", "Z437626(A)", "twinh/wei docs (isIdCardHk), an example whose check digit is A"},
	// 12·9 + 10·8 + 1·7 + 8·6 + 2·5 + 3·4 + 6·3 + 1·2 = 285; 285 mod 11 = 10; 11-10 = 1.
	{"CA182361(1)", "CA182361(1)", "217013277/hkid-appoinment-system, two-letter example"},
	// 324 + 13·8 + 2·7 + 8·6 + 8·5 + 7·4 + 5·3 + 4·2 = 581; 581 mod 11 = 9; 11-9 = 2.
	// (The source computes with D=4 and no space term: 4·8+... = 187 = 17·11,
	// the same result modulo 11.)
	{"D 288754 (2)", "D288754(2)", "slidetodoc.com, 'Validation of Hong Kong Identity Card number with check digit'"},
}

// Taiwan: the letter's two-digit value (A=10 ... per the MOI table) split
// into tens·1 + units·9, then the next eight characters ·8..1, then the
// check digit ·1; valid when the sum is a multiple of 10. Old resident
// certificates (two letters) count the second letter as A=0 B=1 C=2 D=3.
var taiwanFixtures = []struct {
	in     string
	format idcheck.Format
	source string
}{
	// A=10: 1 + 0; 1·8+2·7+3·6+4·5+5·4+6·3+7·2+8·1 = 120; + 9 = 130.
	{"A123456789", idcheck.FormatTWNationalID, "the commonly published valid national ID (e.g. myfakeinfo.com's worked example)"},
	// Y=31: 3 + 1·9 = 12; 120 as above; + 8 = 140.
	{"Y123456788", idcheck.FormatTWNationalID, "enylin/taiwan-id-validator tests"},
	// A=10: 1; 8·8 + 1·1 = 65; + 4 = 70.
	{"A800000014", idcheck.FormatTWARCNew, "enylin/taiwan-id-validator tests (new UI number)"},
	// 1; 9·8+3·7+0·6+1·5+9·4+6·3+8·2+1·1 = 169; + 0 = 170.
	{"A930196810", idcheck.FormatTWARCNew, "enylin/taiwan-id-validator tests (new UI number)"},
	// 1; A→0 ·8 = 0; zeros; + 9 = 10.
	{"AA00000009", idcheck.FormatTWARCOld, "enylin/taiwan-id-validator tests (old UI number)"},
	// 1; D→3 ·8 = 24; 3·7+0·6+1·5+9·4+6·3+8·2+1·1 = 97; + 8 = 130.
	{"AD30196818", idcheck.FormatTWARCOld, "enylin/taiwan-id-validator tests (old UI number)"},
}

func TestPublishedNumbers(t *testing.T) {
	for _, f := range hkidFixtures {
		t.Run(f.in, func(t *testing.T) {
			n, ok := idcheck.ParseNumber(f.in)
			if !ok || n.Format != idcheck.FormatHKID || !n.CheckDigitOK || n.Canonical != f.canonical {
				t.Fatalf("ParseNumber(%q) = %+v, %v; want a valid HKID %s (source: %s)", f.in, n, ok, f.canonical, f.source)
			}
			r := idcheck.Check(idcheck.Input{DocumentType: "national_id", DocumentNumber: f.in})
			if r.NumberFormat != idcheck.FormatHKID || len(r.Findings) != 0 {
				t.Fatalf("Check = %+v; want hkid and no findings", r)
			}
		})
	}
	for _, f := range taiwanFixtures {
		t.Run(f.in, func(t *testing.T) {
			n, ok := idcheck.ParseNumber(f.in)
			if !ok || n.Format != f.format || !n.CheckDigitOK || n.Canonical != f.in {
				t.Fatalf("ParseNumber(%q) = %+v, %v; want a valid %s (source: %s)", f.in, n, ok, f.format, f.source)
			}
			r := idcheck.Check(idcheck.Input{DocumentType: "national_id", DocumentNumber: f.in})
			if r.NumberFormat != f.format || len(r.Findings) != 0 {
				t.Fatalf("Check = %+v; want %s and no findings", r, f.format)
			}
		})
	}
}

// Published invalid examples: the same sources list these as failing.
func TestPublishedInvalidNumbers(t *testing.T) {
	for _, tc := range []struct {
		in     string
		format idcheck.Format
	}{
		{"A123456788", idcheck.FormatTWNationalID}, // enylin: 130 - 9 + 8 = 129
		{"AA00000000", idcheck.FormatTWARCOld},     // enylin: sum 1
		{"A800000000", idcheck.FormatTWARCNew},     // enylin: sum 66
		{"A123456(4)", idcheck.FormatHKID},         // the HKID example with another check digit
	} {
		t.Run(tc.in, func(t *testing.T) {
			r := idcheck.Check(idcheck.Input{DocumentType: "national_id", DocumentNumber: tc.in})
			want := []idcheck.Finding{{Field: idcheck.FieldDocumentNumber, Code: idcheck.CodeCheckDigitMismatch}}
			if r.NumberFormat != tc.format || !sameFindings(r.Findings, want) {
				t.Fatalf("Check(%q) = %+v; want %s and %v", tc.in, r, tc.format, want)
			}
		})
	}
}

// The ICAO Doc 9303 specimens. Check digits: weights 7,3,1 repeating,
// < = 0, A-Z = 10..35, sum mod 10.
var (
	// Part 4 (8th ed.) TD3 specimen.
	//   L898902C3 → 21·7+8·3+9+8·7+9·3+0+2·7+12·3+3 = 316 → 6
	//   740812 → 49+12+0+56+3+2 = 122 → 2;  120415 → 7+6+0+28+3+5 = 49 → 9
	//   ZE184226B<<<<< → 245+42+1+56+12+2+14+18+11 = 401 → 1
	//   composite over L898902C36 7408122 1204159 ZE184226B<<<<<1:
	//   358 + 70 + 50 + 402 = 880 → 0
	specimenTD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
	// The TD3 specimen of earlier editions (still in JMRTD's and PersoSim's
	// tests): number L898902C< → 313 → 3; 690806 → 131 → 1; 940623 → 126 → 6;
	// composite 334 + 96 + 72 + 402 = 904 → 4.
	specimenTD3Old = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C<3UTO6908061F9406236ZE184226B<<<<<14"
	// Part 5 TD1 specimen: D23145890 → 91+6+3+7+12+5+56+27+0 = 207 → 7;
	// composite over D231458907<<<…< 7408122 1204159 <<<…: 256 + 70 + 50 = 376 → 6.
	specimenTD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	// Part 6 TD2 specimen: composite over D231458907 7408122 1204159 <<<<<<< = 376 → 6.
	specimenTD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
	// Part 7 MRV-A and MRV-B specimens (no composite, no optional-data
	// check digit): L8988901C → 284 → 4; 400907 → 98 → 8; 961210 → 99 → 9.
	specimenMRVA = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<"
	specimenMRVB = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<"
	// Part 11 Appendix D.2: a document number of 12 characters, continued in
	// the optional data. D23145890734 → 207 + 7·7 + 3·3 + 4·1 = 269 → 9;
	// 340712 → 87 → 7; 950712 → 132 → 2. TD1 composite over
	// D23145890<7349<…< 3407127 9507122 <…: 286 + 70 + 66 = 422 → 2;
	// TD2 composite over D23145890< 3407127 9507122 7349<<<: 207 + 70 + 66 + 125 = 468 → 8.
	specimenTD1Long = "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<"
	specimenTD2Long = "I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<\nD23145890<UTO3407127M95071227349<<<8"
)

func TestSpecimenMRZs(t *testing.T) {
	anna := func(f idcheck.Format, code, number, nat, birth, expiry, opt, opt2 string) idcheck.MRZ {
		return idcheck.MRZ{Format: f, DocumentCode: code, IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			DocumentNumber: number, Nationality: nat, BirthDate: idcheck.Date(birth), Sex: "F", ExpiryDate: idcheck.Date(expiry),
			OptionalData: opt, OptionalData2: opt2}
	}
	peter := func(f idcheck.Format) idcheck.MRZ {
		return idcheck.MRZ{Format: f, DocumentCode: "I", IssuingState: "UTO", Surname: "STEVENSON", GivenNames: "PETER JOHN",
			DocumentNumber: "D23145890734", Nationality: "UTO", BirthDate: "340712", Sex: "M", ExpiryDate: "950712"}
	}
	for _, tc := range []struct {
		name, text string
		want       idcheck.MRZ
	}{
		{"TD3", specimenTD3, anna(idcheck.FormatTD3, "P", "L898902C3", "UTO", "740812", "120415", "ZE184226B", "")},
		{"TD3 earlier editions", specimenTD3Old, anna(idcheck.FormatTD3, "P", "L898902C", "UTO", "690806", "940623", "ZE184226B", "")},
		{"TD1", specimenTD1, anna(idcheck.FormatTD1, "I", "D23145890", "UTO", "740812", "120415", "", "")},
		{"TD2", specimenTD2, anna(idcheck.FormatTD2, "I", "D23145890", "UTO", "740812", "120415", "", "")},
		{"MRV-A", specimenMRVA, anna(idcheck.FormatMRVA, "V", "L8988901C", "XXX", "400907", "961210", "6ZE184226B", "")},
		{"MRV-B", specimenMRVB, anna(idcheck.FormatMRVB, "V", "L8988901C", "XXX", "400907", "961210", "", "")},
		{"TD1 long number", specimenTD1Long, peter(idcheck.FormatTD1)},
		{"TD2 long number", specimenTD2Long, peter(idcheck.FormatTD2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := idcheck.ParseMRZ(tc.text)
			if err != nil {
				t.Fatalf("ParseMRZ: %v", err)
			}
			got := *m
			got.Lines = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseMRZ =\n %+v\nwant\n %+v", got, tc.want)
			}
			if f := m.Verify(); len(f) != 0 {
				t.Errorf("Verify = %v, want no findings", f)
			}
			docType := "passport"
			if tc.want.DocumentCode == "V" {
				docType = "visa"
			}
			r := idcheck.Check(idcheck.Input{DocumentType: docType, DocumentNumber: tc.want.DocumentNumber, MRZ: tc.text})
			if len(r.Findings) != 0 || r.MRZ == nil || r.MRZ.Format != tc.want.Format {
				t.Errorf("Check = %+v; want %s and no findings", r, tc.want.Format)
			}
		})
	}
}

// Each check digit of the TD3 specimen, changed, is reported under its own
// field (and the composite, which covers them all, with it).
func TestSpecimenCheckDigitsEachReported(t *testing.T) {
	line2 := strings.Split(specimenTD3, "\n")[1]
	for _, tc := range []struct {
		pos  int
		want []idcheck.Field
	}{
		{9, []idcheck.Field{idcheck.FieldMRZDocumentNumber, idcheck.FieldMRZComposite}},
		{19, []idcheck.Field{idcheck.FieldMRZBirthDate, idcheck.FieldMRZComposite}},
		{27, []idcheck.Field{idcheck.FieldMRZExpiryDate, idcheck.FieldMRZComposite}},
		{42, []idcheck.Field{idcheck.FieldMRZOptionalData, idcheck.FieldMRZComposite}},
		{43, []idcheck.Field{idcheck.FieldMRZComposite}},
	} {
		b := []byte(line2)
		b[tc.pos] = '0' + (b[tc.pos]-'0'+5)%10
		text := strings.Split(specimenTD3, "\n")[0] + "\n" + string(b)
		r := idcheck.Check(idcheck.Input{DocumentType: "passport", DocumentNumber: "L898902C3", MRZ: text})
		var want []idcheck.Finding
		for _, f := range tc.want {
			want = append(want, idcheck.Finding{Field: f, Code: idcheck.CodeCheckDigitMismatch})
		}
		if !sameFindings(r.Findings, want) {
			t.Errorf("check digit at %d changed: findings %v, want %v", tc.pos, r.Findings, want)
		}
	}
}

// The dates of the specimen as a caller compares them with what the
// reviewer recorded.
func TestSpecimenDates(t *testing.T) {
	m, err := idcheck.ParseMRZ(specimenTD3)
	if err != nil {
		t.Fatal(err)
	}
	if !m.ExpiryDate.Matches(time.Date(2012, 4, 15, 0, 0, 0, 0, time.UTC)) || m.ExpiryDate.Matches(time.Date(2012, 4, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ExpiryDate.Matches is wrong for %s", m.ExpiryDate)
	}
	if got, ok := m.ExpiryDate.Resolve(2026 - 50); !ok || !got.Equal(time.Date(2012, 4, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ExpiryDate.Resolve(1976) = %v, %v", got, ok)
	}
	if got, ok := m.BirthDate.Resolve(2026 - 100); !ok || !got.Equal(time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BirthDate.Resolve(1926) = %v, %v", got, ok)
	}
}

// sameFindings compares findings by field and code (messages are checked
// by the fuzz test against the catalogue).
func sameFindings(got, want []idcheck.Finding) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Field != want[i].Field || got[i].Code != want[i].Code {
			return false
		}
	}
	return true
}
