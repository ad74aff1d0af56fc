package filecheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cleanPDF is a one-page document with a JPEG image on it.
func cleanPDF(tb testing.TB) []byte {
	tb.Helper()
	img := jpegBytes(tb, 16, 12)
	return newPDF().
		obj(1, "<< /Type /Catalog /Pages 2 0 R >>").
		obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>").
		obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >> >>").
		stream(4, "", []byte("q 160 0 0 120 72 600 cm /Im0 Do Q")).
		stream(5, "/Type /XObject /Subtype /Image /Width 16 /Height 12 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", img).
		xref("/Root 1 0 R")
}

func TestPDFsAccepted(t *testing.T) {
	link := func(uri string) []byte {
		return newPDF().
			obj(1, "<< /Type /Catalog /Pages 2 0 R >>").
			obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>").
			obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [5 0 R] >>").
			obj(5, "<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /A << /S /URI /URI "+uri+" >> >>").
			xref("/Root 1 0 R")
	}
	indirectLength := func() []byte {
		b := newPDF().obj(1, "<< /Type /Catalog /Pages 2 0 R >>").obj(2, "<< /Type /Pages /Kids [] /Count 0 >>")
		b.offsets[3] = b.buf.Len()
		b.buf.WriteString("3 0 obj\n<< /Length 4 0 R >>\nstream\nBT (endstreamish) Tj ET\nendstream\nendobj\n")
		return b.obj(4, "23").xref("/Root 1 0 R")
	}
	compressed := catalogPDF("/PageLabels << /Nums [0 << /S /D >>] >>")
	compressed.objStm(6, map[int]string{7: "<< /Producer (objstm) >>", 8: "[1 2 3 /Name (str) <414243>]"})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"clean with an image", cleanPDF(t)},
		{"an https link", link("(https://bank.example/statements)")},
		{"a mailto link", link("(mailto:support@bank.example)")},
		{"a relative link", link("(statements/2026.html)")},
		{"an indirect stream length", indirectLength()},
		{"object stream and xref stream", compressed.xrefStream(9, "/Root 1 0 R /Info 6 0 R")},
		{"the repo's minimal.pdf", readFile(t, "testdata/minimal.pdf")},
		{"the dev server's sample statement", readFile(t, "testdata/sample-statement.pdf")},
		{"written by qpdf with object streams", readFile(t, "testdata/qpdf-objstm.pdf")},
		{"linearized by qpdf", readFile(t, "testdata/qpdf-linearized.pdf")},
		{"incremental update", incrementalUpdate(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(PDF, tc.data)
			if !v.Valid() {
				t.Fatalf("refused: %s (%s)", v.Reason, v.Detail)
			}
			if v.Rendition != nil || v.Width != 0 {
				t.Errorf("a PDF has a rendition or dimensions")
			}
		})
	}
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.FromSlash(name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// incrementalUpdate appends a revision (new objects, a second xref whose
// trailer has /Prev) to a clean file.
func incrementalUpdate(tb testing.TB) []byte {
	tb.Helper()
	base := catalogPDF("").xref("/Root 1 0 R")
	prev := bytes.LastIndex(base, []byte("\nxref")) + 1
	var b bytes.Buffer
	b.Write(base)
	off := b.Len()
	b.WriteString("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n")
	at := b.Len()
	fmt.Fprintf(&b, "xref\n0 1\n0000000000 65535 f\r\n3 1\n%010d 00000 n\r\ntrailer\n<< /Size 5 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", off, prev, at)
	return b.Bytes()
}

func TestPDFsRefused(t *testing.T) {
	// Each row is refused for the reason given; detail names what was found.
	objstmJS := catalogPDF("/OpenAction 8 0 R")
	objstmJS.objStm(6, map[int]string{7: "<< /Producer (x) >>", 8: "<< /S /JavaScript /JS (app.alert(1)) >>"})
	objstmJSFile := objstmJS.xrefStream(9, "/Root 1 0 R")
	if bytes.Contains(objstmJSFile, []byte("JavaScript")) {
		t.Fatal("the object stream fixture is not compressed")
	}
	escaped := catalogPDF("/Names << /J#61vaScript 10 0 R >>").
		obj(10, "<< /Names [(x) 11 0 R] >>").
		obj(11, "<< /S /J#61va#53cript /J#53 (app.alert\\(1\\)) >>").
		xref("/Root 1 0 R")
	if bytes.Contains(escaped, []byte("JavaScript")) || bytes.Contains(escaped, []byte("/JS")) {
		t.Fatal("the escaped fixture names JavaScript plainly")
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		want   Reason
		detail string // a substring of Detail
	}{
		{"openaction javascript", catalogPDF("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>").xref("/Root 1 0 R"), PDFActiveContent, "JavaScript"},
		{"name escaped #61", escaped, PDFActiveContent, "JavaScript"},
		{"javascript in a compressed object stream", objstmJSFile, PDFActiveContent, "JavaScript"},
		{"launch", catalogPDF("/OpenAction << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) >> >>").xref("/Root 1 0 R"), PDFActiveContent, "Launch"},
		{"embedded files", catalogPDF("/Names << /EmbeddedFiles << /Names [(a.txt) 10 0 R] >> >>").
			obj(10, "<< /Type /Filespec /F (a.txt) >>").xref("/Root 1 0 R"), PDFActiveContent, "EmbeddedFiles"},
		{"embedded file stream", catalogPDF("").stream(10, "/Type /EmbeddedFile", []byte("MZ")).xref("/Root 1 0 R"), PDFActiveContent, "EmbeddedFile"},
		{"file attachment annotation", catalogPDF("").obj(10, "<< /Type /Annot /Subtype /FileAttachment /FS (a.exe) /Rect [0 0 1 1] >>").xref("/Root 1 0 R"), PDFActiveContent, "FileAttachment"},
		{"xfa form", catalogPDF("/AcroForm << /Fields [] /XFA 10 0 R >>").stream(10, "", []byte("<xdp:xdp/>")).xref("/Root 1 0 R"), PDFActiveContent, "XFA"},
		{"form field with an action", catalogPDF("/AcroForm << /Fields [10 0 R] >>").
			obj(10, "<< /FT /Btn /T (b) /Subtype /Widget /Rect [0 0 1 1] /A << /S /GoTo /D [3 0 R /Fit] >> >>").xref("/Root 1 0 R"), PDFActiveContent, "form field"},
		{"submit form", catalogPDF("/OpenAction << /S /SubmitForm /F (https://x.example) >>").xref("/Root 1 0 R"), PDFActiveContent, "SubmitForm"},
		{"import data", catalogPDF("/OpenAction << /S /ImportData /F (x.fdf) >>").xref("/Root 1 0 R"), PDFActiveContent, "ImportData"},
		{"reset form on page open", catalogPDF("").obj(10, "<< /AA << /O << /S /ResetForm >> >> >>").xref("/Root 1 0 R"), PDFActiveContent, "ResetForm"},
		{"remote go-to", catalogPDF("/OpenAction << /S /GoToR /F (\\\\\\\\host\\\\share\\\\x.pdf) /D [0 /Fit] >>").xref("/Root 1 0 R"), PDFActiveContent, "GoToR"},
		{"embedded go-to", catalogPDF("/OpenAction << /S /GoToE /T << /R /C /N (a) >> >>").xref("/Root 1 0 R"), PDFActiveContent, "GoToE"},
		{"rich media", catalogPDF("").obj(10, "<< /Subtype /RichMedia /RichMediaContent << >> >>").xref("/Root 1 0 R"), PDFActiveContent, "RichMedia"},
		{"action type behind a reference", catalogPDF("/OpenAction << /S 10 0 R /JS_ (x) >>").obj(10, "/JavaScript").xref("/Root 1 0 R"), PDFActiveContent, "JavaScript"},
		{"javascript next in a chain", catalogPDF("/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [<< /S /GoTo /D [3 0 R /Fit] >> 10 0 R] >>").
			obj(10, "<< /S /JavaScript /JS 11 0 R >>").stream(11, "", []byte("app.alert(1)")).xref("/Root 1 0 R"), PDFActiveContent, "JavaScript"},
		{"javascript: link", linkPDF("(javascript:app.alert\\(1\\))"), PDFActiveContent, "link"},
		{"JavaScript: link with spaces and tabs", linkPDF("(  Java\tScript:alert\\(1\\))"), PDFActiveContent, "link"},
		{"file: link", linkPDF("(file:///C:/Windows/System32/calc.exe)"), PDFActiveContent, "link"},
		{"UTF-16 link", linkPDF("<FEFF006A006100760061007300630072006900700074003A0078>"), PDFActiveContent, "link"},
		{"link uri behind a reference", catalogPDF("").obj(10, "<< /S /URI /URI 11 0 R >>").obj(11, "(smb://host/share)").xref("/Root 1 0 R"), PDFActiveContent, "link"},

		{"encrypted", catalogPDF("").obj(10, "<< /Filter /Standard /V 2 /R 3 /Length 128 /O <00> /U <00> /P -4 >>").
			xref("/Root 1 0 R /Encrypt 10 0 R /ID [<01> <01>]"), PDFEncrypted, "Encrypt"},
		{"encrypted, xref stream", catalogPDF("").obj(10, "<< /Filter /Standard /V 5 /R 6 >>").
			xrefStream(11, "/Root 1 0 R /Encrypt 10 0 R"), PDFEncrypted, "Encrypt"},
		{"encrypted by qpdf", readFile(t, "testdata/qpdf-encrypted.pdf"), PDFEncrypted, "Encrypt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(PDF, tc.data)
			if v.Reason != tc.want || !strings.Contains(v.Detail, tc.detail) {
				t.Fatalf("got %q (%s), want %q (...%s...)", v.Reason, v.Detail, tc.want, tc.detail)
			}
		})
	}
}

func linkPDF(uri string) []byte {
	return catalogPDF("").obj(10, "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /URI /URI "+uri+" >> >>").xref("/Root 1 0 R")
}

// replaceOnce replaces old with new (the same length, so offsets hold).
func replaceOnce(tb testing.TB, b []byte, old, new string) []byte {
	tb.Helper()
	if len(old) != len(new) || bytes.Count(b, []byte(old)) != 1 {
		tb.Fatalf("fixture: %q must occur once and keep its length", old)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

func TestPDFsMalformed(t *testing.T) {
	clean := catalogPDF("").xref("/Root 1 0 R")
	// An object hidden in a stream's data, reached through the xref: a
	// viewer would read it; a parser that skips stream data would not.
	hidden := catalogPDF("/OpenAction 11 0 R")
	hidden.stream(10, "", []byte("11 0 obj << /S /GoTo /D [3 0 R /Fit] >> endobj"))
	hidden.offsets[11] = hidden.offsets[10] + bytes.Index(hidden.buf.Bytes()[hidden.offsets[10]:], []byte("11 0 obj"))
	deep := catalogPDF("/Deep " + strings.Repeat("[", MaxPDFDepth+1) + strings.Repeat("]", MaxPDFDepth+1)).xref("/Root 1 0 R")
	notDeep := catalogPDF("/Deep " + strings.Repeat("[", MaxPDFDepth-2) + strings.Repeat("]", MaxPDFDepth-2)).xref("/Root 1 0 R")
	if v := Check(PDF, notDeep); !v.Valid() {
		t.Fatalf("nesting within the limit refused: %s", v.Detail)
	}
	badLen := func(declared string) []byte {
		b := newPDF().obj(1, "<< /Type /Catalog /Pages 2 0 R >>").obj(2, "<< /Type /Pages /Kids [] /Count 0 >>")
		b.offsets[3] = b.buf.Len()
		b.buf.WriteString("3 0 obj\n<< /Length 4 0 R >>\nstream\n0123456789\nendstream\nendobj\n")
		return b.obj(4, declared).xref("/Root 1 0 R")
	}
	for _, tc := range []struct {
		name, detail string
		data         []byte
	}{
		{"bad header", "header", replaceOnce(t, clean, "%PDF-1.7", "%PDF-9.7")},
		{"only a header", "startxref", []byte("%PDF-1.7\n")},
		{"html after the header", "outside any object", []byte("%PDF-1.4\n<html><script>alert(1)</script></html>\n")},
		{"garbage between objects", "outside any object", bytes.Replace(clean, []byte("endobj\n2 0 obj"), []byte("endobj\n<script>\n2 0 obj"), 1)},
		{"garbage after EOF", "outside any object", append(clean[:len(clean):len(clean)], "<html>"...)},
		{"no endobj", "endobj", replaceOnce(t, clean, "/Count 1 >>\nendobj", "/Count 1 >>\nendobx")},
		{"unterminated string", "string", catalogPDF("/X (abc").xref("/Root 1 0 R")},
		{"bad name escape", "escape", catalogPDF("/J#6 1").xref("/Root 1 0 R")},
		{"dictionary key not a name", "key", catalogPDF("(k) 1").xref("/Root 1 0 R")},
		{"unknown keyword", "keyword", catalogPDF("/X foo").xref("/Root 1 0 R")},
		{"stream length too short", "endstream", replaceOnce(t, clean, "/Length 40", "/Length 30")},
		{"stream length too long", "endstream", replaceOnce(t, clean, "/Length 40", "/Length 45")},
		{"indirect length wrong", "endstream", badLen("8")},
		{"indirect length not an integer", "integer", badLen("(10)")},
		{"xref offset wrong", "cross-reference", replaceOnce(t, clean, "0000000015 00000 n", "0000000016 00000 n")},
		{"xref points inside a stream", "cross-reference", hidden.xref("/Root 1 0 R")},
		{"startxref wrong", "startxref", bytes.Replace(clean, []byte("startxref\n"), []byte("startxref\n1"), 1)},
		{"no root", "Root", catalogPDF("").xref("")},
		{"root not a catalog", "catalog", catalogPDF("").xref("/Root 2 0 R")},
		{"too deep", "nested", deep},
		{"object stream zip bomb", "decompressed", zipBombPDF()},
		{"too many objects", "objects", manyObjectsPDF(MaxPDFObjects + 1)},
		{"too many values", "values", catalogPDF("/X [" + strings.Repeat("0 ", MaxPDFValues) + "]").xref("/Root 1 0 R")},
		{"an object defined too often", "defined", redefinedPDF(MaxPDFDefinitions + 1)},
		{"xref stream type 2 entry into a plain stream", "object stream", plainStreamAsObjStm()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			v := Check(PDF, tc.data)
			if v.Reason != PDFMalformed || !strings.Contains(v.Detail, tc.detail) {
				t.Fatalf("got %q (%s), want pdf_malformed (...%s...)", v.Reason, v.Detail, tc.detail)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// zipBombPDF has an object stream that inflates to more than
// MaxPDFInflated bytes.
func zipBombPDF() []byte {
	b := catalogPDF("")
	bomb := deflate(append([]byte("10 0 "), bytes.Repeat([]byte(" "), MaxPDFInflated+1)...))
	b.stream(11, "/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode", bomb)
	return b.xref("/Root 1 0 R")
}

// redefinedPDF defines object 10 n times (as n incremental updates would).
func redefinedPDF(n int) []byte {
	b := catalogPDF("")
	for range n {
		b.obj(10, "<< /Rev 1 >>")
	}
	return b.xref("/Root 1 0 R")
}

func manyObjectsPDF(n int) []byte {
	b := catalogPDF("")
	for i := range n {
		fmt.Fprintf(&b.buf, "%d 0 obj 0 endobj\n", 10+i)
	}
	return b.xref("/Root 1 0 R")
}

// plainStreamAsObjStm has an xref stream that says object 12 is in stream
// 11, which is not marked /Type /ObjStm: a viewer may still read it as one.
func plainStreamAsObjStm() []byte {
	b := catalogPDF("")
	b.stream(11, "/N 1 /First 5", []byte("12 0 << /S /JavaScript /JS (x) >>"))
	b.inStm[12] = [2]int{11, 0}
	return b.xrefStream(13, "/Root 1 0 R")
}
