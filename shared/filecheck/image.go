package filecheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"slices"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// Trailing and metadata bytes. Go's decoders stop at a JPEG's EOI marker and
// a PNG's IEND chunk and skip metadata (APPn/COM segments, ancillary
// chunks), so a valid image may carry other bytes. Reviewers only ever see the
// re-encoded copy, which has none of them, so such a polyglot ("valid JPEG +
// HTML appended") is harmless once re-encoded, and phones do append data
// (maker notes, a second "gain map" picture, a motion-photo video). The
// original is still kept as evidence, so a file that is mostly something else
// with an image in front is refused: non-picture bytes may be at most
// MaxExtraBytes, or as many as the picture's own bytes if that is more.

// layout is what a structural scan of an image found.
type layout struct {
	picture     int   // bytes that carry the picture (headers, tables, pixel data)
	extra       int   // metadata, junk between segments, bytes after the end
	decodeBytes int64 // memory Go's decoder allocates for the pixels, estimated
}

// checkImage decodes and re-encodes an image whose bytes start with the
// signature of ct (JPEG or PNG).
func checkImage(ct string, data []byte) Verdict {
	var (
		cfg image.Config
		err error
	)
	if ct == JPEG {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return refuse(Undecodable, "header: %v", err)
	}
	w, h := cfg.Width, cfg.Height
	switch {
	case w < 1 || h < 1:
		return refuse(Undecodable, "header: %dx%d pixels", w, h)
	case w > MaxSide || h > MaxSide:
		return refuse(TooManyPixels, "%dx%d: a side is over %d pixels", w, h, MaxSide)
	case int64(w)*int64(h) > MaxPixels:
		return refuse(TooManyPixels, "%dx%d is over %d pixels", w, h, MaxPixels)
	}
	var lay layout
	if ct == JPEG {
		lay, err = scanJPEG(data, w, h)
	} else {
		lay, err = scanPNG(data)
	}
	if err != nil {
		return refuse(Undecodable, "structure: %v", err)
	}
	if lay.decodeBytes > MaxDecodedBytes {
		return refuse(TooManyPixels, "%dx%d needs about %d MiB to decode, over %d MiB", w, h, lay.decodeBytes>>20, MaxDecodedBytes>>20)
	}
	if lay.extra > max(MaxExtraBytes, lay.picture) {
		return refuse(TypeMismatch, "%d of %d bytes are not picture data", lay.extra, len(data))
	}

	var img image.Image
	if ct == JPEG {
		img, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return refuse(Undecodable, "decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return refuse(Undecodable, "decoded %dx%d, header says %dx%d", b.Dx(), b.Dy(), w, h)
	}
	var out bytes.Buffer
	orientation := 1
	if ct == JPEG {
		orientation = jpegOrientation(data)
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: JPEGQuality})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img)
	}
	if err != nil {
		return refuse(Undecodable, "re-encode: %v", err)
	}
	rendition := out.Bytes()
	if orientation != 1 {
		rendition = slices.Concat(rendition[:2], orientationSegment(orientation), rendition[2:])
	}
	return Verdict{Width: w, Height: h, Orientation: orientation, Rendition: rendition, RenditionType: ct}
}

// jpegOrientation returns the EXIF orientation (1-8) in a JPEG's first Exif
// APP1 segment before its first scan, or 1 (upright) when it has none or it
// cannot be read.
func jpegOrientation(d []byte) int {
	for i := 2; i+4 <= len(d) && d[i] == 0xFF; {
		m, n := d[i+1], int(binary.BigEndian.Uint16(d[i+2:]))
		if m == 0xDA || m == 0xD9 || n < 2 || i+2+n > len(d) {
			return 1
		}
		seg := d[i+4 : i+2+n]
		i += 2 + n
		if m != 0xE1 || !bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			continue
		}
		tiff := seg[6:]
		if len(tiff) < 8 {
			return 1
		}
		var order binary.ByteOrder
		switch string(tiff[:4]) {
		case "II*\x00":
			order = binary.LittleEndian
		case "MM\x00*":
			order = binary.BigEndian
		default:
			return 1
		}
		ifd := int64(order.Uint32(tiff[4:]))
		if ifd+2 > int64(len(tiff)) {
			return 1
		}
		count := int64(order.Uint16(tiff[ifd:]))
		for k := range count {
			e := ifd + 2 + 12*k
			if e+12 > int64(len(tiff)) {
				return 1
			}
			if order.Uint16(tiff[e:]) == 0x0112 && order.Uint16(tiff[e+2:]) == 3 && order.Uint32(tiff[e+4:]) == 1 {
				if o := int(order.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
					return o
				}
				return 1
			}
		}
		return 1
	}
	return 1
}

// orientationSegment is an APP1 segment holding only an EXIF orientation:
// the one piece of metadata a rendition keeps, so that a viewer shows a
// phone photo upright.
func orientationSegment(o int) []byte {
	return []byte{0xFF, 0xE1, 0, 34,
		'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, '*', 0, 0, 0, 8, // big-endian TIFF header, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1 value
		0, 0, 0, 0} // no next IFD
}

var errTruncated = errors.New("truncated")

// scanJPEG walks a JPEG's markers the way Go's decoder does (extraneous bytes
// between segments are skipped) up to EOI, counting picture and other bytes,
// and estimates the decoder's allocations from the frame header.
func scanJPEG(d []byte, w, h int) (layout, error) {
	var lay layout
	var frame []byte // SOFn payload
	progressive := false
	i := 2 // after SOI
	for {
		// Find the next marker: 0xFF, fill 0xFFs, then a non-zero code.
		start := i
		for i < len(d) && d[i] != 0xFF {
			i++
		}
		for i+1 < len(d) && d[i+1] == 0xFF {
			i++
		}
		if i+1 >= len(d) {
			return lay, errors.New("no EOI marker")
		}
		lay.extra += i - start
		m := d[i+1]
		i += 2
		switch {
		case m == 0x00: // "\xff\x00" outside a scan: extraneous data
			lay.extra += 2
			continue
		case m == 0xD9: // EOI
			lay.picture += 2 + 2 // SOI, EOI
			lay.extra += len(d) - i
			lay.decodeBytes = jpegDecodeBytes(frame, progressive, w, h)
			if frame == nil {
				return lay, errors.New("no frame header")
			}
			return lay, nil
		case m >= 0xD0 && m <= 0xD7: // RSTn outside a scan
			lay.picture += 2
			continue
		}
		if i+2 > len(d) {
			return lay, errTruncated
		}
		n := int(binary.BigEndian.Uint16(d[i:]))
		if n < 2 || i+n > len(d) {
			return lay, errTruncated
		}
		seg := d[i+2 : i+n]
		i += n
		switch {
		case m >= 0xE0 && m <= 0xEF || m == 0xFE: // APPn, COM
			lay.extra += 2 + n
			continue
		case m == 0xC0 || m == 0xC1 || m == 0xC2:
			if frame == nil {
				frame, progressive = seg, m == 0xC2
			}
		}
		lay.picture += 2 + n
		if m != 0xDA { // SOS: entropy-coded data follows until the next marker
			continue
		}
		j := i
		for j+1 < len(d) && (d[j] != 0xFF || d[j+1] == 0x00 || d[j+1] >= 0xD0 && d[j+1] <= 0xD7) {
			j++
		}
		lay.picture += j - i
		i = j
	}
}

// jpegDecodeBytes estimates what Go's JPEG decoder allocates for a frame:
// the sample planes (whole MCUs), 4 bytes per sample of coefficients for a
// progressive frame, and a 4-byte-per-pixel copy when it converts (CMYK, or
// a chroma subsampling image.YCbCr cannot hold).
func jpegDecodeBytes(frame []byte, progressive bool, w, h int) int64 {
	if len(frame) < 6 {
		return 0
	}
	nc := int(frame[5])
	if nc < 1 || len(frame) < 6+3*nc {
		return 0
	}
	hmax, vmax := 1, 1
	hv := make([][2]int, nc)
	for c := range nc {
		f := frame[6+3*c+1]
		hv[c] = [2]int{max(int(f>>4), 1), max(int(f&15), 1)}
		hmax, vmax = max(hmax, hv[c][0]), max(vmax, hv[c][1])
	}
	mxx := int64((w + 8*hmax - 1) / (8 * hmax))
	myy := int64((h + 8*vmax - 1) / (8 * vmax))
	var samples int64
	for _, f := range hv {
		samples += 64 * mxx * myy * int64(f[0]*f[1])
	}
	total := samples
	if progressive {
		total += 4 * samples
	}
	standard := nc == 1 || nc == 3 && hv[1] == [2]int{1, 1} && hv[2] == [2]int{1, 1}
	if !standard {
		total += 4 * int64(w) * int64(h)
	}
	return total
}

// scanPNG walks a PNG's chunks up to IEND, counting picture (IHDR, PLTE,
// tRNS, IDAT, IEND) and other bytes, and estimates the decoder's allocations
// from IHDR.
func scanPNG(d []byte) (layout, error) {
	var lay layout
	i := len(pngSignature)
	lay.picture = i
	for {
		if i+8 > len(d) {
			return lay, errTruncated
		}
		n := int64(binary.BigEndian.Uint32(d[i:]))
		typ := string(d[i+4 : i+8])
		end := int64(i) + 12 + n
		if n > 1<<31-1 || end > int64(len(d)) {
			return lay, errTruncated
		}
		size := int(end) - i
		switch typ {
		case "IHDR":
			if n != 13 {
				return lay, errors.New("bad IHDR")
			}
			lay.decodeBytes = pngDecodeBytes(d[i+8 : i+8+13])
			lay.picture += size
		case "PLTE", "tRNS", "IDAT":
			lay.picture += size
		case "IEND":
			lay.picture += size
			lay.extra += len(d) - int(end)
			return lay, nil
		default:
			lay.extra += size
		}
		i = int(end)
	}
}

// pngDecodeBytes estimates what Go's PNG decoder allocates for an image
// described by an IHDR payload: its image type's bytes per pixel, twice for
// an interlaced image (assembled from the passes' sub-images).
func pngDecodeBytes(ihdr []byte) int64 {
	w := int64(binary.BigEndian.Uint32(ihdr[0:]))
	h := int64(binary.BigEndian.Uint32(ihdr[4:]))
	depth, color, interlace := ihdr[8], ihdr[9], ihdr[12]
	var bpp int64
	switch color {
	case 0, 3: // gray, paletted
		bpp = 1
	case 2, 4, 6: // RGB, gray+alpha, RGBA: (N)RGBA
		bpp = 4
	}
	if depth == 16 {
		bpp *= 2
	}
	if interlace != 0 {
		bpp *= 2
	}
	return w * h * bpp
}
