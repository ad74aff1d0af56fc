package filecheck

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
)

// photo is a w x h picture with some noise, so it compresses like a photo
// or scan rather than like a flat test pattern.
func photo(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	x := uint32(1)
	for i := range img.Y {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Y[i] = byte(x>>24)/16 + byte(i%w*128/w)
	}
	return img
}

// BenchmarkCheck measures a whole check (decode and re-encode for images) of
// files of the sizes customers send: a 12 MP phone photo, an A4 page scanned
// at 300 dpi as PNG, and a one-page PDF.
func BenchmarkCheck(b *testing.B) {
	var phone, scan bytes.Buffer
	if err := jpeg.Encode(&phone, photo(4032, 3024), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	gray := photo(2480, 3508)
	if err := png.Encode(&scan, &image.Gray{Pix: gray.Y, Stride: gray.YStride, Rect: gray.Rect}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, ct string
		data     []byte
	}{
		{"jpeg-12MP", JPEG, phone.Bytes()},
		{"png-A4-300dpi-gray", PNG, scan.Bytes()},
		{"pdf-one-page", PDF, cleanPDF(b)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if v := Check(tc.ct, tc.data); !v.Valid() {
					b.Fatalf("refused: %s (%s)", v.Reason, v.Detail)
				}
			}
		})
	}
}
