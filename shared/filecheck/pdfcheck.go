package filecheck

import (
	"errors"
	"fmt"
	"strings"
)

// Active content. After decoding #xx escapes, a PDF is refused when any
// dictionary anywhere in it (every object, in every revision and object
// stream, reachable or not) has one of activeKeys, when any name value is one
// of activeNames, when a form field carries an action, or when a /URI is
// not http, https or mailto. Checking every name, not only the /S of an
// /OpenAction or /AA, also catches an action type behind a reference
// (/S 7 0 R, 7 0 obj /JavaScript endobj) and chains (/Next).
//
// Links (/S /URI) to http, https and mailto are allowed: bank statements and
// bills carry them, a viewer runs no code for them and opens one only when a
// person clicks it (and asks first); reviewers do not follow links in
// customer documents. Other schemes (javascript:, file:, smb: and the like)
// are refused: they run script, read local files or leak the viewer's
// network credentials.
//
// Known false positives, accepted as the price of a simple rule: a font or
// other resource named /JS, /EF or /XFA, or a name value such as /Launch used
// for something else, refuses a harmless file.

// activeKeys are dictionary keys that carry active content.
var activeKeys = map[pdfName]string{
	"JS":               "a JavaScript action (/JS)",
	"JavaScript":       "document JavaScript (/JavaScript)",
	"EmbeddedFiles":    "embedded files (/EmbeddedFiles)",
	"EF":               "an embedded file (/EF)",
	"XFA":              "an XFA form (/XFA)",
	"RichMediaContent": "rich media (/RichMediaContent)",
}

// activeNames are name values that mark active content: action types that
// run code, open files or programs, or submit data, and annotation or
// object types that embed files or media.
var activeNames = map[pdfName]string{
	"JavaScript":       "a JavaScript action",
	"Launch":           "a launch action (/Launch)",
	"SubmitForm":       "a form submission (/SubmitForm)",
	"ImportData":       "a data import (/ImportData)",
	"ResetForm":        "a form reset action (/ResetForm)",
	"GoToE":            "a go-to-embedded action (/GoToE)",
	"GoToR":            "a remote go-to action (/GoToR)",
	"Rendition":        "a rendition action (/Rendition)",
	"RichMediaExecute": "a rich media action (/RichMediaExecute)",
	"EmbeddedFile":     "an embedded file (/EmbeddedFile)",
	"FileAttachment":   "a file attachment (/FileAttachment)",
	"RichMedia":        "rich media (/RichMedia)",
	"3D":               "3D content (/3D)",
}

// allowedSchemes are the URI schemes a link may have.
var allowedSchemes = map[string]bool{"http": true, "https": true, "mailto": true}

// checkPDF parses data and checks it for encryption and active content.
func checkPDF(data []byte) Verdict {
	f, err := parsePDF(data)
	if err == nil {
		err = f.checkActive()
	}
	var pe *pdfError
	switch {
	case err == nil:
		return Verdict{}
	case errors.As(err, &pe):
		return Verdict{Reason: pe.reason, Detail: pe.detail}
	}
	return refuse(PDFMalformed, "%v", err)
}

// checkActive walks every object and trailer.
func (f *pdfFile) checkActive() error {
	for _, o := range f.objects {
		where := fmt.Sprintf("object %d", o.num)
		if err := f.walk(o.val, where); err != nil {
			return err
		}
	}
	for _, d := range f.trailers {
		if err := f.walk(d, "the trailer"); err != nil {
			return err
		}
	}
	return nil
}

func active(what, where string) error {
	return &pdfError{PDFActiveContent, what + " in " + where}
}

// walk checks a value and everything in it (not following references:
// every object is walked on its own).
func (f *pdfFile) walk(v any, where string) error {
	switch v := v.(type) {
	case pdfName:
		if what, ok := activeNames[v]; ok {
			return active(what, where)
		}
	case pdfArray:
		for _, e := range v {
			if err := f.walk(e, where); err != nil {
				return err
			}
		}
	case pdfDict:
		if (v.has("FT") || v.name("Subtype") == "Widget") && (v.has("A") || v.has("AA")) {
			return active("a form field with an action", where)
		}
		for _, e := range v {
			if what, ok := activeKeys[e.key]; ok {
				return active(what, where)
			}
			if e.key == "URI" {
				if s, ok := f.resolveString(e.val); ok && !allowedURI(s) {
					return active("a link that is not http, https or mailto", where)
				}
			}
			if err := f.walk(e.val, where); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveString returns v as a string, following a reference (to any
// definition that is a string: if one is refused, the file is).
func (f *pdfFile) resolveString(v any) (pdfString, bool) {
	switch v := v.(type) {
	case pdfString:
		return v, true
	case pdfRef:
		for _, o := range f.byNum[v.num] {
			if s, ok := o.val.(pdfString); ok && o.gen == v.gen && !allowedURI(s) {
				return s, true
			}
		}
	}
	return "", false
}

// allowedURI reports whether a link's URI is relative (no scheme) or has an
// allowed scheme, read as a browser does: tabs and newlines removed, leading
// and trailing spaces and control characters trimmed, case ignored.
func allowedURI(s pdfString) bool {
	u := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, string(s))
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	if strings.ContainsFunc(u, func(r rune) bool { return r < ' ' || r == 0x7F || r == 0xFEFF || r == 0xFFFD }) {
		return false // control characters, or UTF-16 or invalid bytes: not a plain URI
	}
	scheme, _, found := strings.Cut(u, ":")
	if !found {
		return true
	}
	for i, c := range scheme {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return true // not a scheme: the ':' is in a relative path, query or fragment
		}
	}
	return allowedSchemes[strings.ToLower(scheme)]
}
