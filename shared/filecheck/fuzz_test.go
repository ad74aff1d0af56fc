package filecheck

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// The fuzz targets call check, not Check: Check turns a panic into a refusal,
// and a fuzz target must see it.

// maxFuzzTime bounds one check of a fuzz input (inputs are small; the real
// bound on a large file comes from the pixel and PDF limits).
const maxFuzzTime = 5 * time.Second

func fuzzCheck(t *testing.T, ct string, data []byte) Verdict {
	keep := slices.Clone(data)
	start := time.Now()
	v := check(ct, data)
	if d := time.Since(start); d > maxFuzzTime {
		t.Errorf("check took %s", d)
	}
	if !bytes.Equal(keep, data) {
		t.Error("check modified its input")
	}
	if !v.Valid() {
		if !slices.Contains(Reasons, v.Reason) {
			t.Errorf("unlisted reason %q", v.Reason)
		}
		if v.Rendition != nil || v.Width != 0 || v.Height != 0 || v.Detail == "" {
			t.Errorf("refused (%s) with a rendition, dimensions or no detail", v.Reason)
		}
		return v
	}
	if ct == PDF {
		if v.Rendition != nil {
			t.Error("a PDF has a rendition")
		}
		return v
	}
	if v.RenditionType != ct {
		t.Errorf("rendition type %q, want %q", v.RenditionType, ct)
	}
	if v.Width < 1 || v.Height < 1 || int64(v.Width)*int64(v.Height) > MaxPixels {
		t.Errorf("accepted %dx%d", v.Width, v.Height)
	}
	// What a reviewer is shown decodes, as the same type, to the same size,
	// and passes the check itself.
	if got := mustDecode(t, ct, v.Rendition).Bounds(); got.Dx() != v.Width || got.Dy() != v.Height {
		t.Errorf("rendition is %v, verdict says %dx%d", got, v.Width, v.Height)
	}
	again := check(ct, v.Rendition)
	if !again.Valid() {
		t.Errorf("rendition refused: %s (%s)", again.Reason, again.Detail)
	}
	if again.Orientation != v.Orientation || v.Orientation < 1 || v.Orientation > 8 {
		t.Errorf("orientation %d, rendition's %d", v.Orientation, again.Orientation)
	}
	return v
}

func FuzzInspectJPEG(f *testing.F) {
	j := jpegBytes(f, 24, 16)
	f.Add(j)
	f.Add(jpegBytes(f, 1, 1))
	f.Add(jpegWithSegment(j, 0xFE, []byte("<script>alert(1)</script>")))
	f.Add(append(slices.Clone(j), "<html></html>"...))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, '<', 's', '>'})
	f.Add(jpegFrameOnly(0xC2, 6000, 5000, 0x11))
	f.Add(noiseJPEG(f, 16, 16))
	f.Add(jpegWithSegment(j, 0xE1, exifSegment(6, "GPS")))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, JPEG, data) })
}

func FuzzInspectPNG(f *testing.F) {
	p := pngBytes(f, 24, 16)
	f.Add(p)
	f.Add(pngWithChunk(p, "tEXt", []byte("Comment\x00<script>")))
	f.Add(append(slices.Clone(p), "<html></html>"...))
	f.Add(append([]byte(pngSignature), "<html><script>alert(1)</script>"...))
	f.Add(pngHeaderOnly(50000, 50000, 8, 6, 0))
	f.Add(pngHeaderOnly(64, 64, 16, 6, 1))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, PNG, data) })
}

func FuzzInspectPDF(f *testing.F) {
	f.Add(cleanPDF(f))
	f.Add(catalogPDF("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>").xref("/Root 1 0 R"))
	f.Add(catalogPDF("/Names << /J#61vaScript 10 0 R >> /URI (https://x.example)").obj(10, "<< /Names [(x) <41> ] /A [1 -2.5 true null] >>").xref("/Root 1 0 R"))
	withObjStm := catalogPDF("/OpenAction 8 0 R")
	withObjStm.objStm(6, map[int]string{7: "<< /Producer (x\\)\\101) >>", 8: "<< /S /GoTo /D [3 0 R /Fit] >>"})
	f.Add(withObjStm.xrefStream(9, "/Root 1 0 R"))
	f.Add(incrementalUpdate(f))
	for _, name := range []string{"testdata/qpdf-objstm.pdf", "testdata/qpdf-linearized.pdf", "testdata/qpdf-encrypted.pdf"} {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCheck(t, PDF, data) })
}

// FuzzInspectPDFObject fuzzes what is inside a PDF: data becomes the body of
// an object (and, compressed, of an object stream) in a file whose structure
// is otherwise correct, so mutations reach the object parser and the active
// content checks instead of stopping at a broken cross-reference.
func FuzzInspectPDFObject(f *testing.F) {
	for _, s := range []string{
		"<< /S /JavaScript /JS (app.alert(1)) >>",
		"<< /S /J#61vaScript /J#53 <6170702e616c657274283129> >>",
		"[1 -2.5 +.5 true false null (a\\(b\\)c\\101\\\ndef) <41 42 4> /N#20ame 3 0 R]",
		"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (java\tscript:x) >> >>",
		"<< /FT /Tx /AA << /K << /S /GoTo >> >> >>",
		"<< /Length 5 >>\nstream\nhello\nendstream",
		"<< /AcroForm << /XFA [] >> /Names << /EmbeddedFiles << >> >> >>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		plain := fuzzCheck(t, PDF, catalogPDF("/X 10 0 R").obj(10, string(body)).xref("/Root 1 0 R"))
		b := catalogPDF("/X 10 0 R")
		b.objStm(11, map[int]string{10: string(body)})
		compressed := fuzzCheck(t, PDF, b.xrefStream(12, "/Root 1 0 R"))
		// The same object is judged the same wherever it is stored (an
		// object stream holds one value and no stream, so it may refuse
		// what a plain object allows, never the other way round).
		if compressed.Valid() && !plain.Valid() {
			t.Errorf("plain object refused (%s: %s), the same in an object stream accepted", plain.Reason, plain.Detail)
		}
		if plain.Reason == PDFActiveContent && compressed.Reason != PDFActiveContent && compressed.Reason != PDFMalformed {
			t.Errorf("active content hidden by an object stream: %q", compressed.Reason)
		}
	})
}
