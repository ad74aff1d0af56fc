package idcheck

// FuzzCheck: Check never panics, is deterministic, and never echoes what
// the reviewer typed. Every finding's field and code are among the
// declared ones and its message is one of the catalogue's, so a finding
// can contain an input only if that input is itself a piece of the
// catalogue's fixed text (such as "the" or "MRZ"), which the test allows.
// `make fuzz` runs it for a while; plain `go test` replays the seeds below.

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

var (
	knownFields = []Field{FieldDocumentNumber, FieldMRZ, FieldMRZDocumentCode, FieldMRZIssuingState, FieldMRZDocumentNumber,
		FieldMRZNationality, FieldMRZBirthDate, FieldMRZSex, FieldMRZExpiryDate, FieldMRZOptionalData, FieldMRZComposite}
	knownCodes = []Code{CodeMissing, CodeTooLong, CodeInvalidCharacter, CodeUnrecognisedFormat, CodeCheckDigitMismatch,
		CodeMRZNumberMismatch, CodeMRZLineCount, CodeMRZLineLength, CodeMRZInvalidCharacter, CodeInvalidDate, CodeInvalidValue,
		CodeDocumentTypeMismatch}
	knownFormats = []Format{FormatNone, FormatHKID, FormatTWNationalID, FormatTWARCNew, FormatTWARCOld,
		FormatTD1, FormatTD2, FormatTD3, FormatMRVA, FormatMRVB}
)

// vocabulary is every fixed text a finding can carry, separated by NULs
// (which no finding contains).
func vocabulary() string {
	var parts []string
	parts = append(parts, messages[:]...)
	for _, f := range knownFields {
		parts = append(parts, string(f))
	}
	for _, c := range knownCodes {
		parts = append(parts, string(c))
	}
	return strings.Join(parts, "\x00")
}

func TestCatalogueComplete(t *testing.T) {
	for i, m := range messages {
		if m == "" {
			t.Errorf("message %d is empty", i)
		}
	}
	for f, m := range checkDigitMessage {
		if m == 0 || !strings.Contains(messages[m], "check digit") {
			t.Errorf("%s: check digit message %q", f, messages[m])
		}
	}
}

func FuzzCheck(f *testing.F) {
	td3 := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
	td1 := "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	td2 := "I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<\nD23145890<UTO3407127M95071227349<<<8"
	mrva := "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<"
	for _, seed := range [][3]string{
		{"national_id", "A123456(3)", ""},
		{"national_id", "AB987654(3)", ""},
		{"national_id", "a 123456 (A)", ""},
		{"national_id", "Ａ１２３４５６（３）", ""},
		{"national_id", "A123456789", ""},
		{"driving_license", "A800000014", ""},
		{"visa", "AD30196818", ""},
		{"national_id", "", ""},
		{"national_id", "香港A123456(3)", ""},
		{"passport", "L898902C3", td3},
		{"passport", "l898902c4", strings.ReplaceAll(td3, "\n", "\r\n") + "  \r\n"},
		{"passport", "L898902C3", strings.ToLower(td3)},
		{"passport", "L898902C3", strings.ReplaceAll(td3, "\n", "")},
		{"national_id", "D23145890", td1},
		{"national_id", "D23145890", strings.Replace(td1, "7<", "<<", 1)},
		{"", "D23145890734", td2},
		{"passport", "L8988901C", mrva},
		{"visa", "L898902C3", td3},
		{"", "\xff\x00", "\xff\n\x00"},
		{"national_id", strings.Repeat("9", 65), strings.Repeat("<", 1025)},
		{"passport", "X", "P<\nX"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	vocab := vocabulary()
	f.Fuzz(func(t *testing.T, docType, number, mrz string) {
		in := Input{DocumentType: docType, DocumentNumber: number, MRZ: mrz}
		r := Check(in)
		if again := Check(in); !reflect.DeepEqual(r, again) {
			t.Fatalf("Check is not deterministic: %+v, then %+v", r, again)
		}
		if !slices.Contains(knownFormats, r.NumberFormat) {
			t.Fatalf("NumberFormat %q is not a declared format", r.NumberFormat)
		}
		for _, fi := range r.Findings {
			if !slices.Contains(knownFields, fi.Field) || !slices.Contains(knownCodes, fi.Code) || !slices.Contains(messages[:], fi.Message) {
				t.Fatalf("finding %+v: field, code or message not from the declared sets", fi)
			}
			for _, s := range []string{number, mrz, docType} {
				if s != "" && !strings.Contains(vocab, s) && strings.Contains(fi.Error()+string(fi.Code), s) {
					t.Fatalf("finding %+v contains the input %q", fi, s)
				}
			}
		}
		if r.MRZ != nil {
			// What ParseMRZ read, read again, is the same MRZ.
			m, err := ParseMRZ(strings.Join(r.MRZ.Lines, "\n"))
			if err != nil || !reflect.DeepEqual(m, r.MRZ) {
				t.Fatalf("MRZ lines %q read again: %+v, %v; first %+v", r.MRZ.Lines, m, err, r.MRZ)
			}
		}
		if r.NumberFormat != FormatNone {
			if n, ok := ParseNumber(number); !ok || n.Format != r.NumberFormat {
				t.Fatalf("Check says %s, ParseNumber says %+v, %v", r.NumberFormat, n, ok)
			}
		}
	})
}
