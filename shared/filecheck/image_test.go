package filecheck

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestImagesThatDecodeAreValidAndReencoded(t *testing.T) {
	for _, tc := range []struct {
		name, ct string
		data     []byte
	}{
		{"jpeg", JPEG, jpegBytes(t, 64, 48)},
		{"png", PNG, pngBytes(t, 64, 48)},
		{"jpeg one pixel", JPEG, jpegBytes(t, 1, 1)},
		{"png long and thin", PNG, pngBytes(t, 2000, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(tc.ct, tc.data)
			if !v.Valid() {
				t.Fatalf("refused: %s (%s)", v.Reason, v.Detail)
			}
			want := mustDecode(t, tc.ct, tc.data).Bounds()
			if v.Width != want.Dx() || v.Height != want.Dy() {
				t.Errorf("dimensions %dx%d, want %dx%d", v.Width, v.Height, want.Dx(), want.Dy())
			}
			if v.RenditionType != tc.ct {
				t.Errorf("rendition type %q, want %q", v.RenditionType, tc.ct)
			}
			got := mustDecode(t, tc.ct, v.Rendition).Bounds()
			if got.Dx() != v.Width || got.Dy() != v.Height {
				t.Errorf("rendition decodes to %v, want %dx%d", got, v.Width, v.Height)
			}
		})
	}
}

func mustDecode(tb testing.TB, ct string, b []byte) image.Image {
	tb.Helper()
	var img image.Image
	var err error
	if ct == JPEG {
		img, err = jpeg.Decode(bytes.NewReader(b))
	} else {
		img, err = png.Decode(bytes.NewReader(b))
	}
	if err != nil {
		tb.Fatalf("decode %s: %v", ct, err)
	}
	return img
}

// A polyglot that is a valid image with a page or script hidden in its
// metadata or after its end is accepted, but the reviewer's copy has none of
// it.
func TestRenditionDropsMetadataAndTrailingBytes(t *testing.T) {
	const (
		comment = "COMMENT<script>alert('comment')</script>"
		exif    = "Exif\x00\x00II*\x00EXIF-SECRET-GPS"
		trailer = "<html><script>alert('trailer')</script></html>"
		text    = "tEXt-SECRET<iframe src=x>"
	)
	j := jpegBytes(t, 40, 30)
	j = jpegWithSegment(j, 0xFE, []byte(comment))
	j = jpegWithSegment(j, 0xE1, []byte(exif))
	j = append(j, trailer...)
	p := pngWithChunk(pngBytes(t, 40, 30), "tEXt", []byte("Comment\x00"+text))
	p = pngWithChunk(p, "prVt", []byte(comment)) // a private ancillary chunk
	p = append(p, trailer...)
	for _, tc := range []struct {
		name, ct string
		data     []byte
		hidden   []string
	}{
		{"jpeg", JPEG, j, []string{comment, "EXIF-SECRET", trailer}},
		{"png", PNG, p, []string{text, comment, trailer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range tc.hidden {
				if !bytes.Contains(tc.data, []byte(h)) {
					t.Fatalf("fixture lacks %q", h)
				}
			}
			v := Check(tc.ct, tc.data)
			if !v.Valid() {
				t.Fatalf("refused: %s (%s)", v.Reason, v.Detail)
			}
			if v.Width != 40 || v.Height != 30 {
				t.Errorf("dimensions %dx%d, want 40x30", v.Width, v.Height)
			}
			for _, h := range append(tc.hidden, "script", "Exif", "tEXt", "prVt") {
				if bytes.Contains(v.Rendition, []byte(h)) {
					t.Errorf("rendition still contains %q", h)
				}
			}
			if got := mustDecode(t, tc.ct, v.Rendition).Bounds(); got.Dx() != 40 || got.Dy() != 30 {
				t.Errorf("rendition decodes to %v", got)
			}
		})
	}
}

func TestImagesRefused(t *testing.T) {
	j := jpegBytes(t, 64, 48)
	p := pngBytes(t, 64, 48)
	// The review's polyglots: an image header with a page behind it.
	jfif := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	jpegScript := append(slices.Clone(jfif), "<script>alert(document.cookie)</script>"...)
	pngHTML := append([]byte(pngSignature), "<html><script>alert(1)</script>"...)
	if len(pngHTML) != 39 {
		t.Fatalf("png polyglot is %d bytes, the review's was 39", len(pngHTML))
	}
	// A picture whose header declares a frame bigger than its data.
	bigTrailer := append(slices.Clone(j), bytes.Repeat([]byte("PK\x03\x04zip"), (MaxExtraBytes+len(j))/7+1)...)
	bigChunk := pngWithChunk(p, "zZzZ", make([]byte, MaxExtraBytes+1))
	for _, tc := range []struct {
		name, ct string
		data     []byte
		want     Reason
	}{
		{"jpeg header with a script spliced in", JPEG, jpegScript, Undecodable},
		{"png signature and html, 39 bytes", PNG, pngHTML, Undecodable},
		{"png declared as jpeg", JPEG, p, TypeMismatch},
		{"jpeg declared as png", PNG, j, TypeMismatch},
		{"pdf declared as png", PNG, []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"), TypeMismatch},
		{"html declared as jpeg", JPEG, []byte("<html><script>alert(1)</script></html>"), TypeMismatch},
		{"gif declared as jpeg", JPEG, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), TypeMismatch},
		{"jpeg declared as gif", "image/gif", j, TypeMismatch},
		{"empty", JPEG, nil, TypeMismatch},
		{"jpeg truncated in its scan", JPEG, j[:len(j)-40], Undecodable},
		{"jpeg without its frame", JPEG, slices.Concat(jfif, []byte{0xFF, 0xD9}), Undecodable},
		{"png truncated", PNG, p[:len(p)-20], Undecodable},
		{"png with a bad crc", PNG, flipByte(p, len(pngSignature)+20), Undecodable},
		{"jpeg mostly trailer", JPEG, bigTrailer, TypeMismatch},
		{"png mostly a private chunk", PNG, bigChunk, TypeMismatch},
		{"png bomb 50000x50000", PNG, pngHeaderOnly(50000, 50000, 8, 6, 0), TooManyPixels},
		{"png over the pixel budget", PNG, pngHeaderOnly(8000, 6000, 8, 0, 0), TooManyPixels},
		{"png side too long", PNG, pngHeaderOnly(MaxSide+1, 10, 8, 0, 0), TooManyPixels},
		{"png 16-bit rgba over the memory budget", PNG, pngHeaderOnly(6000, 6000, 16, 6, 0), TooManyPixels},
		{"png interlaced rgba over the memory budget", PNG, pngHeaderOnly(6000, 4000, 8, 6, 1), TooManyPixels},
		{"progressive jpeg over the memory budget", JPEG, jpegFrameOnly(0xC2, 6000, 5000, 0x11), TooManyPixels},
		{"jpeg bomb 60000x60000", JPEG, jpegFrameOnly(0xC0, 60000, 60000, 0x22), TooManyPixels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(tc.ct, tc.data)
			if v.Reason != tc.want {
				t.Fatalf("reason %q (%s), want %q", v.Reason, v.Detail, tc.want)
			}
			if v.Rendition != nil || v.Width != 0 {
				t.Errorf("a refused file has a rendition or dimensions")
			}
			if v.Detail == "" {
				t.Errorf("no detail")
			}
		})
	}
}

func flipByte(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 0xFF
	return b
}

// jpegFrameOnly is a JPEG header with a frame of three components (the
// first sampled hv) and a scan header, but no tables or picture data.
func jpegFrameOnly(sof byte, w, h int, hv byte) []byte {
	return []byte{0xFF, 0xD8,
		0xFF, sof, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, hv, 0, 2, 0x11, 0, 3, 0x11, 0,
		0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0,
		0xFF, 0xD9}
}

// A decompression bomb is refused from its header: checking it allocates
// next to nothing, although decoding it would take gigabytes.
func TestBombRefusedWithoutAllocating(t *testing.T) {
	for _, tc := range []struct {
		name, ct string
		data     []byte
	}{
		{"png 50000x50000 rgba", PNG, pngHeaderOnly(50000, 50000, 8, 6, 0)},
		{"png 16000x16000 rgba64", PNG, pngHeaderOnly(16000, 16000, 16, 6, 0)},
		{"jpeg 60000x60000", JPEG, jpegFrameOnly(0xC0, 60000, 60000, 0x22)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.data) > 1024 {
				t.Fatalf("the bomb is %d bytes, meant to be tiny", len(tc.data))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			v := Check(tc.ct, tc.data)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if v.Reason != TooManyPixels {
				t.Fatalf("reason %q (%s), want too_many_pixels", v.Reason, v.Detail)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("refusing the bomb allocated %d bytes", alloc)
			}
			if elapsed > time.Second {
				t.Errorf("refusing the bomb took %s", elapsed)
			}
			if n := testing.AllocsPerRun(10, func() { Check(tc.ct, tc.data) }); n > 100 {
				t.Errorf("%v allocations per check", n)
			}
		})
	}
}

func TestDecodeBudget(t *testing.T) {
	for _, tc := range []struct {
		name       string
		got        int64
		accept     bool
		wantApprox int64 // 0: skip
	}{
		// What the limits promise to accept.
		{"40 MP baseline 4:2:0 jpeg", jpegDecodeBytes([]byte{8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0}, false, 7728, 5176), true, 7728 * 5176 * 3 / 2},
		{"40 MP baseline 4:4:4 jpeg", jpegDecodeBytes([]byte{8, 0, 0, 0, 0, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0}, false, 7728, 5176), true, 7728 * 5176 * 3},
		{"12 MP progressive 4:2:0 jpeg", jpegDecodeBytes([]byte{8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0}, true, 4032, 3024), true, 4032 * 3024 * 3 / 2 * 5},
		{"40 MP gray png", pngDecodeBytes([]byte{0, 0, 0x1e, 0x30, 0, 0, 0x14, 0x38, 8, 0, 0, 0, 0}), true, 7728 * 5176},
		{"33 MP rgba png", pngDecodeBytes([]byte{0, 0, 0x1b, 0x00, 0, 0, 0x12, 0x00, 8, 6, 0, 0, 0}), true, 6912 * 4608 * 4},
		// And to refuse.
		{"40 MP cmyk jpeg", jpegDecodeBytes([]byte{8, 0, 0, 0, 0, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0}, false, 7728, 5176), false, 0},
		{"40 MP rgba png", pngDecodeBytes([]byte{0, 0, 0x1e, 0x30, 0, 0, 0x14, 0x38, 8, 6, 0, 0, 0}), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok := tc.got <= MaxDecodedBytes; ok != tc.accept {
				t.Errorf("estimate %d MiB, within budget %v, want %v", tc.got>>20, ok, tc.accept)
			}
			if tc.wantApprox > 0 && (tc.got < tc.wantApprox || tc.got > tc.wantApprox*11/10) {
				t.Errorf("estimate %d, want about %d", tc.got, tc.wantApprox)
			}
		})
	}
}

// The estimate is not below what Go's decoder really allocates.
func TestDecodeBudgetCoversTheDecoder(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes a 4 MP picture")
	}
	j := jpegBytes(t, 2000, 2000)
	p := pngBytes(t, 2000, 2000)
	for _, tc := range []struct {
		ct   string
		data []byte
	}{{JPEG, j}, {PNG, p}} {
		var lay layout
		var err error
		if tc.ct == JPEG {
			lay, err = scanJPEG(tc.data, 2000, 2000)
		} else {
			lay, err = scanPNG(tc.data)
		}
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		mustDecode(t, tc.ct, tc.data)
		runtime.ReadMemStats(&after)
		real := int64(after.TotalAlloc - before.TotalAlloc)
		// The decoder's buffers and tables come on top of the pixels.
		if lay.decodeBytes < real-(1<<20) {
			t.Errorf("%s: estimate %d bytes, the decoder allocated %d", tc.ct, lay.decodeBytes, real)
		}
	}
}

func TestImageTrailerBudget(t *testing.T) {
	j := jpegBytes(t, 64, 48)
	// Phones append data (a second picture, a motion photo's video): a
	// trailer within MaxExtraBytes is accepted and dropped.
	ok := append(slices.Clone(j), bytes.Repeat([]byte{0xAB}, MaxExtraBytes-len(j))...)
	if v := Check(JPEG, ok); !v.Valid() {
		t.Errorf("trailer within the budget refused: %s (%s)", v.Reason, v.Detail)
	}
	// Past it, a file that is mostly something else is refused...
	over := append(slices.Clone(j), bytes.Repeat([]byte{0xAB}, MaxExtraBytes+1)...)
	if v := Check(JPEG, over); v.Reason != TypeMismatch {
		t.Errorf("trailer over the budget: %q, want type_mismatch", v.Reason)
	}
	// ...unless the picture itself is bigger than the trailer.
	big := noiseJPEG(t, 1000, 1000)
	lay, err := scanJPEG(big, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if lay.extra != 0 || lay.picture != len(big) {
		t.Errorf("a plain jpeg scans as %d picture and %d extra bytes of %d", lay.picture, lay.extra, len(big))
	}
	if len(big) <= MaxExtraBytes+1 {
		t.Fatalf("picture too small for the test: %d bytes", len(big))
	}
	bigTrailer := append(big, bytes.Repeat([]byte{0xAB}, MaxExtraBytes+1)...)
	if v := Check(JPEG, bigTrailer); !v.Valid() {
		t.Errorf("a trailer smaller than the picture refused: %s (%s)", v.Reason, v.Detail)
	}
}

// noiseJPEG is a picture that compresses badly: about 1.5 bytes a pixel.
func noiseJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	x := uint32(1)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// exifSegment is an Exif APP1 payload (little-endian, as phones write it)
// with an orientation and a string tag standing for the GPS position.
func exifSegment(orientation uint16, secret string) []byte {
	b := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00")
	b = append(b, 2, 0) // two entries
	b = append(b, 0x0F, 0x01, 2, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(secret)+1))
	b = binary.LittleEndian.AppendUint32(b, 8+2+24+4) // string after the IFD
	b = append(b, 0x12, 0x01, 3, 0, 1, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, orientation)
	b = append(b, 0, 0, 0, 0, 0, 0)
	return append(append(b, secret...), 0)
}

func TestJPEGOrientationKeptAlone(t *testing.T) {
	const secret = "GPS-22.2783N-114.1747E"
	for _, o := range []uint16{1, 3, 6, 8} {
		t.Run(fmt.Sprint(o), func(t *testing.T) {
			j := jpegWithSegment(jpegBytes(t, 40, 30), 0xE1, exifSegment(o, secret))
			if jpegOrientation(j) != int(o) {
				t.Fatalf("fixture orientation %d, want %d", jpegOrientation(j), o)
			}
			v := Check(JPEG, j)
			if !v.Valid() {
				t.Fatalf("refused: %s (%s)", v.Reason, v.Detail)
			}
			if v.Orientation != int(o) || jpegOrientation(v.Rendition) != int(o) {
				t.Errorf("orientation %d, rendition's %d, want %d", v.Orientation, jpegOrientation(v.Rendition), o)
			}
			if bytes.Contains(v.Rendition, []byte(secret)) || bytes.Contains(v.Rendition, []byte("II*")) {
				t.Error("rendition keeps the original's EXIF")
			}
			if o == 1 && bytes.Contains(v.Rendition, []byte("Exif")) {
				t.Error("an upright picture's rendition has an Exif segment")
			}
			if got := mustDecode(t, JPEG, v.Rendition).Bounds(); got.Dx() != 40 || got.Dy() != 30 {
				t.Errorf("rendition decodes to %v", got)
			}
		})
	}
	if v := Check(PNG, pngBytes(t, 4, 4)); v.Orientation != 1 {
		t.Errorf("png orientation %d, want 1", v.Orientation)
	}
	for _, bad := range [][]byte{
		jpegWithSegment(jpegBytes(t, 8, 8), 0xE1, exifSegment(9, "")),
		jpegWithSegment(jpegBytes(t, 8, 8), 0xE1, exifSegment(6, "")[:20]),
		jpegWithSegment(jpegBytes(t, 8, 8), 0xE1, []byte("Exif\x00\x00XX*\x00\x08\x00\x00\x00")),
	} {
		if got := jpegOrientation(bad); got != 1 {
			t.Errorf("unreadable orientation read as %d", got)
		}
	}
}
