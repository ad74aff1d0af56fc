package filecheck

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
	"slices"
	"strings"
	"testing"
)

// testImage is a small picture with detail in both directions.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func jpegBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 80}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// jpegWithSegment inserts a marker segment (APPn or COM) right after SOI.
func jpegWithSegment(j []byte, marker byte, payload []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return slices.Concat(j[:2], seg, payload, j[2:])
}

// pngChunk encodes one chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngWithChunk inserts a chunk right after IHDR.
func pngWithChunk(p []byte, typ string, data []byte) []byte {
	at := len(pngSignature) + 12 + 13
	return slices.Concat(p[:at], pngChunk(typ, data), p[at:])
}

// pngHeaderOnly is a PNG with the given IHDR and a tiny IDAT: what a
// decompression bomb's header looks like (its pixel data is never read).
func pngHeaderOnly(w, h uint32, depth, colorType, interlace byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, interlace)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 4096))
	zw.Close()
	return slices.Concat([]byte(pngSignature), pngChunk("IHDR", ihdr), pngChunk("IDAT", z.Bytes()), pngChunk("IEND", nil))
}

// pdfBuilder writes a PDF by hand, keeping each object's offset so the
// cross-reference it writes is correct.
type pdfBuilder struct {
	buf     bytes.Buffer
	offsets map[int]int
	inStm   map[int][2]int // object -> (object stream, index)
}

func newPDF() *pdfBuilder {
	b := &pdfBuilder{offsets: map[int]int{}, inStm: map[int][2]int{}}
	b.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return b
}

// obj writes "num 0 obj body endobj".
func (b *pdfBuilder) obj(num int, body string) *pdfBuilder {
	b.offsets[num] = b.buf.Len()
	fmt.Fprintf(&b.buf, "%d 0 obj\n%s\nendobj\n", num, body)
	return b
}

// stream writes a stream object; dict is the dictionary's entries without
// /Length, which is added.
func (b *pdfBuilder) stream(num int, dict string, data []byte) *pdfBuilder {
	b.offsets[num] = b.buf.Len()
	fmt.Fprintf(&b.buf, "%d 0 obj\n<< %s /Length %d >>\nstream\n", num, dict, len(data))
	b.buf.Write(data)
	b.buf.WriteString("\nendstream\nendobj\n")
	return b
}

// objStm writes object stream num holding objs (object number -> body),
// compressed.
func (b *pdfBuilder) objStm(num int, objs map[int]string) *pdfBuilder {
	var head, body strings.Builder
	keys := make([]int, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		fmt.Fprintf(&head, "%d %d ", k, body.Len())
		body.WriteString(objs[k] + "\n")
		b.inStm[k] = [2]int{num, i}
	}
	data := head.String() + body.String()
	return b.stream(num, fmt.Sprintf("/Type /ObjStm /N %d /First %d /Filter /FlateDecode", len(keys), head.Len()), deflate([]byte(data)))
}

func deflate(data []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	return z.Bytes()
}

func (b *pdfBuilder) size() int {
	n := 0
	for k := range b.offsets {
		n = max(n, k+1)
	}
	for k := range b.inStm {
		n = max(n, k+1)
	}
	return n
}

// xref writes a cross-reference table, the trailer (/Size and extra
// entries) and startxref, and returns the file.
func (b *pdfBuilder) xref(trailer string) []byte {
	at := b.buf.Len()
	n := b.size()
	fmt.Fprintf(&b.buf, "xref\n0 %d\n0000000000 65535 f\r\n", n)
	for i := 1; i < n; i++ {
		if off, ok := b.offsets[i]; ok {
			fmt.Fprintf(&b.buf, "%010d 00000 n\r\n", off)
		} else {
			b.buf.WriteString("0000000000 65535 f\r\n")
		}
	}
	fmt.Fprintf(&b.buf, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", n, trailer, at)
	return bytes.Clone(b.buf.Bytes())
}

// xrefStream writes a compressed cross-reference stream as object num, with
// type-2 entries for objects in object streams, and returns the file.
func (b *pdfBuilder) xrefStream(num int, trailer string) []byte {
	b.offsets[num] = b.buf.Len()
	n := b.size()
	var rows []byte
	for i := range n {
		row := []byte{0, 0, 0, 0, 0, 0, 0}
		if off, ok := b.offsets[i]; ok {
			row[0] = 1
			binary.BigEndian.PutUint32(row[1:], uint32(off))
		} else if s, ok := b.inStm[i]; ok {
			row[0] = 2
			binary.BigEndian.PutUint32(row[1:], uint32(s[0]))
			binary.BigEndian.PutUint16(row[5:], uint16(s[1]))
		}
		rows = append(rows, row...)
	}
	at := b.buf.Len()
	b.stream(num, fmt.Sprintf("/Type /XRef /Size %d /W [1 4 2] /Filter /FlateDecode %s", n, trailer), deflate(rows))
	fmt.Fprintf(&b.buf, "startxref\n%d\n%%%%EOF\n", at)
	return bytes.Clone(b.buf.Bytes())
}

// catalogPDF is a one-page document whose catalog has extra entries; more
// objects may follow (numbered from 10).
func catalogPDF(catalogExtra string) *pdfBuilder {
	return newPDF().
		obj(1, "<< /Type /Catalog /Pages 2 0 R "+catalogExtra+" >>").
		obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>").
		obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>").
		stream(4, "", []byte("BT /F1 12 Tf 72 720 Td (Statement) Tj ET"))
}
