// Package filecheck decides whether an uploaded document is what it claims to
// be, by decoding it rather than by looking at its first bytes.
//
// A file is valid only if it decodes as its declared content type:
//
//   - JPEG and PNG images are checked against a pixel and memory budget from
//     their header alone (a decompression bomb is refused before anything is
//     allocated for its pixels), then fully decoded and re-encoded. The
//     re-encoded copy (Verdict.Rendition) is what a reviewer is shown; the
//     original is kept sealed as evidence and never rendered. Re-encoding
//     drops EXIF (a JPEG's orientation alone is written back), comments,
//     ancillary chunks and anything appended after the image, so a polyglot
//     (a valid image with HTML or a script appended) cannot reach a
//     reviewer's viewer. Such bytes are accepted up to MaxExtraBytes or the
//     picture's own size; past that the file is mostly something else and
//     is refused (TypeMismatch).
//   - PDFs are parsed by a strict parser of the file's object structure
//     (pdf.go): every byte of the file must belong to the header, an indirect
//     object, a cross-reference section, a trailer or a comment; every
//     cross-reference entry must point at the object it names; object
//     streams are decompressed (within a budget) and parsed too. Every object
//     is then walked, names decoded (so /J#61vaScript is /JavaScript), and
//     the file is refused if it carries active content (JavaScript, launch
//     actions, embedded files, forms that run code; see activeKeys and
//     activeNames in pdfcheck.go) or is encrypted.
//
// The package has no AWS dependency and imports only the standard library. It
// never panics on any input and its memory and time are bounded by the
// limits below.
package filecheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Content types this package checks (the same strings as kyc.JPEG, kyc.PNG
// and kyc.PDF).
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	PDF  = "application/pdf"
)

// Reason is a stable, machine-readable code for a refused file. Codes are
// never renamed: they are stored on documents and mapped to customer-facing
// text by the caller.
type Reason string

const (
	// TypeMismatch: the bytes are not the declared content type (another
	// format, or no known format), the declared type is not one this package
	// accepts, or an image carries more non-picture bytes (metadata, data
	// appended after its end) than MaxExtraBytes or its own picture data,
	// whichever is more: the file is mostly something else.
	TypeMismatch Reason = "type_mismatch"
	// Undecodable: the file starts like the declared image type but does not
	// decode completely (truncated, corrupt, or a header followed by
	// something else).
	Undecodable Reason = "undecodable"
	// TooManyPixels: the image header declares more than MaxPixels pixels, a
	// side longer than MaxSide, or a picture whose decoding would need more
	// than MaxDecodedBytes of memory. Decided from the header, before
	// decoding.
	TooManyPixels Reason = "too_many_pixels"
	// TooLarge: the file is larger than MaxBytes (the caller bounds uploads
	// to this size already; this is the package's own guard).
	TooLarge Reason = "too_large"
	// PDFActiveContent: the PDF carries something a viewer could run or
	// open: JavaScript, a launch, remote go-to or embedded go-to action,
	// form submission/import/reset, embedded files or file attachments,
	// rich media or 3D content, an XFA form, a form field with an action, or
	// a link whose URI scheme is not http, https or mailto.
	PDFActiveContent Reason = "pdf_active_content"
	// PDFEncrypted: the PDF is encrypted (it has an /Encrypt dictionary), so
	// its strings and streams cannot be inspected.
	PDFEncrypted Reason = "pdf_encrypted"
	// PDFMalformed: the PDF's structure does not parse strictly (bad header,
	// unparseable object, bytes outside any object, a stream whose length
	// does not end at endstream, a cross-reference entry that does not point
	// at its object, a missing or wrong trailer), or it exceeds a parsing
	// limit (MaxPDFObjects, MaxPDFDefinitions, MaxPDFValues, MaxPDFDepth,
	// MaxPDFInflated).
	PDFMalformed Reason = "pdf_malformed"
)

// Reasons lists every reason code, for callers that keep a text per code.
var Reasons = []Reason{TypeMismatch, Undecodable, TooManyPixels, TooLarge, PDFActiveContent, PDFEncrypted, PDFMalformed}

// Limits. Each bounds the memory or time one check may take.
const (
	// MaxBytes is the largest file checked: the upload limit
	// (kyc.DefaultMaxUploadBytes).
	MaxBytes = 10 << 20

	// MaxPixels is the largest image, in pixels: 40 megapixels holds a
	// full-resolution photo from current phone cameras (typically 12-50 MP;
	// a 50 MP photo is rarely under the 10 MiB upload limit) and a scan of
	// an A4 page at 600 dpi (35 MP).
	MaxPixels = 40_000_000
	// MaxSide is the longest accepted side of an image, in pixels: an A4
	// page at 1200 dpi, or a long receipt at 300 dpi (1.4 m).
	MaxSide = 16_384
	// MaxDecodedBytes bounds the memory decoding one image needs, estimated
	// from its header: the pixel buffers of the decoded image (1 byte per
	// sample; 2 for 16-bit PNG), plus 4 bytes per sample that Go's JPEG
	// decoder keeps for a progressive JPEG and the second copy an interlaced
	// PNG is assembled from. 128 MiB takes a 40 MP baseline JPEG (60 MiB at
	// 4:2:0, 120 MiB at 4:4:4), a 33 MP RGBA PNG and a 12 MP progressive
	// JPEG, and keeps one check inside a 512 MB function.
	MaxDecodedBytes = 128 << 20
	// MaxExtraBytes is how many non-picture bytes (metadata segments or
	// chunks, bytes after the image's end) an image may carry regardless of
	// its size; past this they may be at most as many as its picture bytes.
	MaxExtraBytes = 1 << 20
	// JPEGQuality is the quality of re-encoded JPEGs: high enough that the
	// small print of an ID card or statement stays legible.
	JPEGQuality = 90

	// MaxPDFObjects is the most indirect objects (including those inside
	// object streams) a PDF may have. A 300-page statement has some
	// thousands.
	MaxPDFObjects = 100_000
	// MaxPDFValues is the most values (numbers, names, strings, arrays,
	// dictionaries...) all the objects of a PDF may hold together; it bounds
	// the parser's memory (measured: at most about 80 MB of process memory
	// for a file that reaches it). Real documents hold about 10 values an
	// object, so this matches MaxPDFObjects.
	MaxPDFValues = 1_000_000
	// MaxPDFDefinitions is how often one object number may be defined: once
	// per revision of an incrementally updated file (a document signed by
	// several people has a few). It keeps every look-up by number short.
	MaxPDFDefinitions = 64
	// MaxPDFDepth is the deepest nesting of arrays and dictionaries.
	MaxPDFDepth = 64
	// MaxPDFInflated is the most bytes decompressed from a PDF's object and
	// cross-reference streams together (other streams are never
	// decompressed): a zip bomb stops here.
	MaxPDFInflated = 32 << 20
)

// Verdict is the outcome of a check.
type Verdict struct {
	// Reason is why the file was refused; "" when it is valid.
	Reason Reason
	// Detail says what exactly failed, for logs and developers (never file
	// content beyond a PDF name or keyword). Empty when valid.
	Detail string
	// Width and Height are a valid image's dimensions in pixels as stored
	// (0 for PDFs).
	Width, Height int
	// Orientation is a valid JPEG's EXIF orientation (1 upright to 8; 5-8
	// turn it a quarter, so it shows Height wide). The rendition keeps it as
	// its only metadata, so viewers show the picture as the customer saw
	// it. 1 for PNG, 0 for PDFs.
	Orientation int
	// Rendition is what a reviewer is shown of a valid image: the decoded
	// picture re-encoded (JPEG at JPEGQuality, or PNG), without the
	// original's metadata (but its orientation) or trailing bytes. Nil for a PDF, whose checked
	// original is shown as it is.
	Rendition []byte
	// RenditionType is Rendition's content type: the declared type.
	RenditionType string
}

// Valid reports whether the file passed.
func (v Verdict) Valid() bool { return v.Reason == "" }

func refuse(r Reason, format string, args ...any) Verdict {
	return Verdict{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// ErrSize is returned (wrapped) when the reader's content is not size bytes
// long: the object changed or was read wrongly, so no verdict can be given.
var ErrSize = errors.New("filecheck: content length differs from the given size")

// Inspect reads size bytes from r and checks them as declaredType (JPEG, PNG
// or PDF). An error means the content could not be read (or its length was
// not size) and says nothing about the file; a refused file is a Verdict
// with a Reason and a nil error. A size over MaxBytes is refused without
// reading.
func Inspect(declaredType string, r io.Reader, size int64) (Verdict, error) {
	if size > MaxBytes {
		return refuse(TooLarge, "%d bytes is over the %d-byte limit", size, MaxBytes), nil
	}
	if size < 0 {
		return Verdict{}, fmt.Errorf("inspect: negative size %d: %w", size, ErrSize)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return Verdict{}, fmt.Errorf("inspect: shorter than %d bytes: %w", size, ErrSize)
		}
		return Verdict{}, fmt.Errorf("inspect: read: %w", err)
	}
	var one [1]byte
	switch n, err := r.Read(one[:]); {
	case n > 0:
		return Verdict{}, fmt.Errorf("inspect: longer than %d bytes: %w", size, ErrSize)
	case err != nil && !errors.Is(err, io.EOF):
		return Verdict{}, fmt.Errorf("inspect: read: %w", err)
	}
	return Check(declaredType, data), nil
}

// Check checks data as declaredType (JPEG, PNG or PDF). It does not keep or
// modify data. A panic inside a decoder (none is known; the fuzz targets run
// without this guard) refuses the file instead of crashing the caller.
func Check(declaredType string, data []byte) (v Verdict) {
	defer func() {
		if p := recover(); p != nil {
			r := Undecodable
			if declaredType == PDF {
				r = PDFMalformed
			}
			v = refuse(r, "internal error: %v", p)
		}
	}()
	return check(declaredType, data)
}

func check(declaredType string, data []byte) Verdict {
	if len(data) > MaxBytes {
		return refuse(TooLarge, "%d bytes is over the %d-byte limit", len(data), MaxBytes)
	}
	if got := sniff(data); got != declaredType {
		if got == "" {
			got = "an unknown format"
		}
		switch declaredType {
		case JPEG, PNG, PDF:
			return refuse(TypeMismatch, "declared %s, the bytes are %s", declaredType, got)
		}
		return refuse(TypeMismatch, "declared type %q is not JPEG, PNG or PDF", declaredType)
	}
	switch declaredType {
	case JPEG, PNG:
		return checkImage(declaredType, data)
	default:
		return checkPDF(data)
	}
}

// sniff returns the accepted content type data starts with, or "".
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG
	case bytes.HasPrefix(data, []byte(pngSignature)):
		return PNG
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return PDF
	}
	return ""
}
