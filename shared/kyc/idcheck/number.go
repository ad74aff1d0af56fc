package idcheck

import (
	"slices"
	"strings"
	"unicode"
)

// Number is a document number recognised in one of the identity card
// formats.
type Number struct {
	Format Format
	// Canonical is the number as the card prints it: an HKID as
	// A123456(3), a Taiwan number in upper case.
	Canonical string
	// CheckDigitOK reports whether the check digit matches.
	CheckDigitOK bool
}

// ParseNumber recognises s as a Hong Kong identity card number or a Taiwan
// national ID or resident certificate number, and checks its check digit.
// It accepts the spellings reviewers type: lower case, spaces anywhere,
// full-width characters from a Chinese input method, and an HKID's check
// digit with or without brackets. ok is false when s is in none of these
// formats. The formats do not overlap, so at most one matches.
func ParseNumber(s string) (n Number, ok bool) {
	if len(s) > MaxNumberLen {
		return Number{}, false
	}
	c, ok := normaliseNumber(s)
	if !ok {
		return Number{}, false
	}
	return parseNumber(c, allNumberFormats)
}

// parseNumber recognises a normalised number in one of the allowed formats.
func parseNumber(c string, allowed []Format) (Number, bool) {
	f, body := shapeOf(c)
	if f == FormatNone || !slices.Contains(allowed, f) {
		return Number{}, false
	}
	switch f {
	case FormatHKID:
		return Number{Format: f, Canonical: body[:len(body)-1] + "(" + body[len(body)-1:] + ")", CheckDigitOK: hkidValid(body)}, true
	default:
		return Number{Format: f, Canonical: body, CheckDigitOK: taiwanValid(body)}, true
	}
}

// Key is the form of a document number that identifies it whoever typed it:
// full-width forms mapped to ASCII, letters upper-cased, and only the
// letters A-Z and digits kept. "A123456(3)", "a123456 3" and "Ａ１２３４５６（３）"
// all give "A1234563". It is what a keyed hash of the number is taken of, so
// one number recorded two ways on two accounts matches. "" when nothing is
// left.
func Key(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFF01 - '!'
		}
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - ('a' - 'A'))
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normaliseNumber maps full-width forms to ASCII, upper-cases letters and
// removes white space. ok is false when a character other than letters,
// digits, white space and - / . ( ) remains.
func normaliseNumber(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII (Ｆ１２３（３）)
			r -= 0xFF01 - '!'
		case unicode.IsSpace(r): // includes the ideographic space U+3000
			continue
		}
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-/.()", r):
		default:
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// shapeOf returns the format whose shape c has, and c without the
// brackets of an HKID's check digit.
//
//	HKID            [A-Z]{1,2} [0-9]{6} [0-9A]     check digit optionally in ( )
//	Taiwan ID       [A-Z] [12]   [0-9]{8}
//	Taiwan ARC new  [A-Z] [89]   [0-9]{8}
//	Taiwan ARC old  [A-Z] [A-D]  [0-9]{8}
func shapeOf(c string) (Format, string) {
	if n := len(c); n >= 3 && c[n-1] == ')' && c[n-3] == '(' {
		c = c[:n-3] + c[n-2:n-1]
	}
	switch len(c) {
	case 8, 9:
		p := len(c) - 7 // prefix letters
		if allIn(c[:p], isUpper) && allIn(c[p:p+6], isDigit) && (isDigit(c[p+6]) || c[p+6] == 'A') {
			return FormatHKID, c
		}
	case 10:
		if !isUpper(c[0]) || !allIn(c[2:], isDigit) {
			break
		}
		switch x := c[1]; {
		case x == '1' || x == '2':
			return FormatTWNationalID, c
		case x == '8' || x == '9':
			return FormatTWARCNew, c
		case x >= 'A' && x <= 'D':
			return FormatTWARCOld, c
		}
	}
	return FormatNone, ""
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allIn(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// hkidCheckDigit computes the check character of an HKID body (one or two
// letters and six digits): the body, padded on the left with a space to 8
// characters, weighted 9..2 with space=36, A=10..Z=35 and digits as
// themselves; the check value is what makes the sum, plus the check value
// itself weighted 1, a multiple of 11, written as 0-9 or A for 10.
//
// Public descriptions also use space=58, or ASCII codes with space as ']'
// (91); those agree with this one modulo 11 (58≡36, 91≡36, 'A'=65≡10).
func hkidCheckDigit(body string) byte {
	sum := 0
	if len(body) == 7 {
		sum = 36 * 9
	}
	for i := 0; i < len(body); i++ {
		w := 2 + len(body) - 1 - i // weights end at 2 on the last digit
		sum += w * alnumValue(body[i])
	}
	d := (11 - sum%11) % 11
	if d == 10 {
		return 'A'
	}
	return byte('0' + d)
}

// hkidValid checks the last character of an HKID (brackets removed)
// against the rest.
func hkidValid(c string) bool {
	return hkidCheckDigit(c[:len(c)-1]) == c[len(c)-1]
}

// alnumValue is 0-9 for digits and 10-35 for A-Z, the value HKID and ICAO
// 9303 give a character.
func alnumValue(b byte) int {
	if isDigit(b) {
		return int(b - '0')
	}
	return int(b-'A') + 10
}

// taiwanLetter is the two-digit value of the first letter of a Taiwan
// national ID or resident certificate number, per the Ministry of the
// Interior's table (the letters I, O, W, X, Y, Z were added later, so they
// are out of alphabetical order).
var taiwanLetter = [26]int{
	10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, // A-M
	22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33, // N-Z
}

// taiwanSum is the weighted sum of a Taiwan number of ten characters: the
// first letter's two digits weighted 1 and 9, then the second character
// and the next seven digits weighted 8..1, then the check digit weighted 1.
// The second character is a digit, or (old resident certificate) a letter
// A-D standing for the last digit of its two-digit value: A=0 B=1 C=2 D=3.
// A number is valid when the sum is a multiple of 10.
func taiwanSum(c string) int {
	v := taiwanLetter[c[0]-'A']
	sum := v/10 + v%10*9
	for i := 1; i < 10; i++ {
		d := 0
		if isUpper(c[i]) {
			d = taiwanLetter[c[i]-'A'] % 10
		} else {
			d = int(c[i] - '0')
		}
		w := 9 - i // 8..1 for characters 2..9
		if i == 9 {
			w = 1
		}
		sum += w * d
	}
	return sum
}

func taiwanValid(c string) bool { return taiwanSum(c)%10 == 0 }
