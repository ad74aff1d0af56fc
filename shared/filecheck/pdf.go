package filecheck

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
)

// The file structure of a PDF (ISO 32000-2 §7.5), parsed strictly.
//
// The whole file is read front to back as a sequence of: the header line,
// comments, indirect objects ("n g obj ... endobj", a stream's data measured
// by its /Length), cross-reference tables with their trailer, and startxref
// lines. A byte that is none of these makes the file malformed: nothing can
// hide between objects. Then every cross-reference entry (tables and xref
// streams, every revision) must point at the object it names, and every
// startxref and /Prev at a cross-reference section; otherwise a viewer,
// which finds objects through the cross-reference, could read an object
// this parser did not (one hidden inside a stream's data, say). Object
// streams are decompressed and their objects parsed too, so the checks in
// pdfcheck.go see every object a viewer can reach, in every revision.

// pdfObject is an indirect object: at the top level of the file, or inside an
// object stream (inStream > 0, its number).
type pdfObject struct {
	num, gen int64
	offset   int // top level: where "num gen obj" starts; in a stream: its index
	inStream int64
	val      any
	stream   *pdfStream
}

type pdfStream struct {
	start, end int     // data starts at start; "endstream" is at end
	length     int     // resolved /Length; -1 until resolved
	lengthRef  *pdfRef // an indirect /Length, resolved after the whole file is read
	decoded    bool
}

func (s *pdfStream) data(file []byte) []byte { return file[s.start : s.start+s.length] }

type xrefEntry struct {
	num, gen int64
	typ      int   // 1: in use at offset; 2: in object stream
	off      int64 // type 1: byte offset; type 2: the object stream's number
	idx      int64 // type 2: index in the object stream
}

type pdfFile struct {
	data     []byte
	objects  []*pdfObject
	byOffset map[int]*pdfObject
	byNum    map[int64][]*pdfObject
	// trailers are the trailer dictionaries of cross-reference tables, by
	// the offset of their "xref" keyword.
	trailers   map[int]pdfDict
	entries    []xrefEntry
	startxrefs []int64
	// inStreams has (number, object stream, index) of every object read
	// from an object stream.
	inStreams map[[3]int64]bool
	budget    int // values left to parse
	inflated  int // bytes decompressed so far
}

// parsePDF parses data strictly. Its error is a *pdfError.
func parsePDF(data []byte) (*pdfFile, error) {
	f := &pdfFile{
		data: data, byOffset: map[int]*pdfObject{}, byNum: map[int64][]*pdfObject{},
		trailers: map[int]pdfDict{}, inStreams: map[[3]int64]bool{}, budget: MaxPDFValues,
	}
	if err := f.readTopLevel(); err != nil {
		return nil, err
	}
	if err := f.checkEncryption(); err != nil {
		return f, err
	}
	if err := f.resolveStreams(); err != nil {
		return nil, err
	}
	if err := f.checkXref(); err != nil {
		return nil, err
	}
	return f, nil
}

// header checks "%PDF-1.0" to "%PDF-1.7" or "%PDF-2.0" and an end of line.
func pdfHeader(data []byte) (int, bool) {
	if len(data) < 9 || !bytes.HasPrefix(data, []byte("%PDF-")) || data[6] != '.' {
		return 0, false
	}
	major, minor := data[5], data[7]
	if !(major == '1' && minor >= '0' && minor <= '7' || major == '2' && minor == '0') {
		return 0, false
	}
	if data[8] != '\r' && data[8] != '\n' {
		return 0, false
	}
	return 8, true
}

func (f *pdfFile) lexerAt(pos int) *lexer { return &lexer{data: f.data, pos: pos, budget: &f.budget} }

func (f *pdfFile) readTopLevel() error {
	pos, ok := pdfHeader(f.data)
	if !ok {
		return malformed("no %%PDF-1.0..1.7 or 2.0 header line")
	}
	l := f.lexerAt(pos)
	for {
		l.skipSpace()
		if l.pos >= len(l.data) {
			break
		}
		c := l.data[l.pos]
		switch {
		case c >= '0' && c <= '9':
			if err := f.readObject(l); err != nil {
				return err
			}
		case l.peekKeyword("xref"):
			if err := f.readXrefTable(l); err != nil {
				return err
			}
		case l.peekKeyword("startxref"):
			_ = l.expectKeyword("startxref")
			n, err := l.uint()
			if err != nil {
				return err
			}
			f.startxrefs = append(f.startxrefs, n)
		default:
			return malformed("unexpected data at byte %d, outside any object", l.pos)
		}
	}
	if len(f.startxrefs) == 0 {
		return malformed("no startxref")
	}
	return nil
}

func (f *pdfFile) addObject(o *pdfObject) error {
	if len(f.objects) >= MaxPDFObjects {
		return malformed("limit: more than %d objects", MaxPDFObjects)
	}
	if o.num < 1 || o.num > 1<<31 || o.gen > 65535 {
		return malformed("object number %d %d out of range", o.num, o.gen)
	}
	if len(f.byNum[o.num]) >= MaxPDFDefinitions {
		return malformed("limit: object %d defined more than %d times", o.num, MaxPDFDefinitions)
	}
	f.objects = append(f.objects, o)
	f.byNum[o.num] = append(f.byNum[o.num], o)
	if o.inStream == 0 {
		f.byOffset[o.offset] = o
	} else {
		f.inStreams[[3]int64{o.num, o.inStream, int64(o.offset)}] = true
	}
	return nil
}

// readObject reads "num gen obj value [stream ... endstream] endobj".
func (f *pdfFile) readObject(l *lexer) error {
	start := l.pos
	num, err := l.uint()
	if err != nil {
		return err
	}
	gen, err := l.uint()
	if err != nil {
		return err
	}
	if err := l.expectKeyword("obj"); err != nil {
		return err
	}
	v, err := l.value(0)
	if err != nil {
		return err
	}
	o := &pdfObject{num: num, gen: gen, offset: start, val: v}
	if l.peekKeyword("stream") {
		d, ok := v.(pdfDict)
		if !ok {
			return malformed("object %d: stream without a dictionary", num)
		}
		if o.stream, err = f.readStream(l, d, num); err != nil {
			return err
		}
	}
	if err := l.expectKeyword("endobj"); err != nil {
		return malformed("object %d at byte %d: no endobj", num, start)
	}
	return f.addObject(o)
}

// readStream reads a stream's data and "endstream". A direct /Length must end
// the data at endstream (whitespace between is allowed); an indirect one is
// checked once its object is known (resolveStreams), and meanwhile the data
// is taken to run to the first "endstream".
func (f *pdfFile) readStream(l *lexer, d pdfDict, num int64) (*pdfStream, error) {
	_ = l.expectKeyword("stream")
	switch {
	case bytes.HasPrefix(l.data[l.pos:], []byte("\r\n")):
		l.pos += 2
	case bytes.HasPrefix(l.data[l.pos:], []byte("\n")), bytes.HasPrefix(l.data[l.pos:], []byte("\r")):
		l.pos++
	default:
		return nil, malformed("object %d: no end of line after stream", num)
	}
	s := &pdfStream{start: l.pos, length: -1}
	switch n := lookup(d, "Length").(type) {
	case int64:
		if n < 0 || n > int64(len(l.data)-s.start) {
			return nil, malformed("object %d: stream /Length %d out of range", num, n)
		}
		s.end = s.start + int(n)
		for s.end < len(l.data) && isSpace(l.data[s.end]) {
			s.end++
		}
		if !bytes.HasPrefix(l.data[s.end:], []byte("endstream")) {
			return nil, malformed("object %d: stream /Length %d does not end at endstream", num, n)
		}
		s.length = int(n)
	case pdfRef:
		end := endstreamAfter(l.data, s.start)
		if end < 0 {
			return nil, malformed("object %d: no endstream", num)
		}
		s.end = end
		s.lengthRef = &n
	default:
		return nil, malformed("object %d: stream without an integer /Length", num)
	}
	l.pos = s.end + len("endstream")
	if l.pos < len(l.data) && isRegular(l.data[l.pos]) {
		return nil, malformed("object %d: no endstream", num)
	}
	return s, nil
}

// endstreamAfter returns the offset of the first "endstream" keyword (not
// followed by a regular character) at or after start, or -1.
func endstreamAfter(data []byte, start int) int {
	for {
		i := bytes.Index(data[start:], []byte("endstream"))
		if i < 0 {
			return -1
		}
		end := start + i + len("endstream")
		if end == len(data) || !isRegular(data[end]) {
			return start + i
		}
		start = end
	}
}

// lookup returns d's value for key (a direct value; references are left as
// they are).
func lookup(d pdfDict, key pdfName) any {
	v, _ := d.get(key)
	return v
}

// readXrefTable reads "xref" subsections and the "trailer" dictionary.
func (f *pdfFile) readXrefTable(l *lexer) error {
	l.skipSpace()
	at := l.pos
	_ = l.expectKeyword("xref")
	for !l.peekKeyword("trailer") {
		first, err := l.uint()
		if err != nil {
			return malformed("xref at byte %d: bad subsection", at)
		}
		n, err := l.uint()
		if err != nil || first > 1<<31 || n > MaxPDFObjects {
			return malformed("xref at byte %d: bad subsection", at)
		}
		for k := range n {
			off, err1 := l.uint()
			gen, err2 := l.uint()
			l.skipSpace()
			kind := l.keyword()
			if err1 != nil || err2 != nil || kind != "n" && kind != "f" {
				return malformed("xref at byte %d: bad entry", at)
			}
			if kind == "n" {
				if len(f.entries) >= 2*MaxPDFObjects {
					return malformed("limit: more than %d cross-reference entries", 2*MaxPDFObjects)
				}
				f.entries = append(f.entries, xrefEntry{num: first + k, gen: gen, typ: 1, off: off})
			}
		}
	}
	_ = l.expectKeyword("trailer")
	v, err := l.value(0)
	if err != nil {
		return err
	}
	d, ok := v.(pdfDict)
	if !ok {
		return malformed("xref at byte %d: trailer is not a dictionary", at)
	}
	f.trailers[at] = d
	return nil
}

// xrefStreams returns the top-level streams of /Type /XRef.
func (f *pdfFile) streamsOfType(t pdfName) []*pdfObject {
	var out []*pdfObject
	for _, o := range f.objects {
		if o.stream != nil && o.val.(pdfDict).name("Type") == t {
			out = append(out, o)
		}
	}
	return out
}

// checkEncryption refuses a file whose trailer (or xref stream dictionary,
// which serves as one) has /Encrypt: its strings and streams are
// ciphertext.
func (f *pdfFile) checkEncryption() error {
	for _, d := range f.trailers {
		if d.has("Encrypt") {
			return &pdfError{PDFEncrypted, "the trailer has /Encrypt"}
		}
	}
	for _, o := range f.streamsOfType("XRef") {
		if o.val.(pdfDict).has("Encrypt") {
			return &pdfError{PDFEncrypted, "the cross-reference stream has /Encrypt"}
		}
	}
	return nil
}

// maxLengthPasses bounds how often resolveStreams goes over the streams: a
// stream's /Length may sit in an object stream whose own /Length sits in
// another; a longer chain than this is refused (each pass costs a walk over
// every object).
const maxLengthPasses = 4

// resolveStreams checks the indirect /Lengths and decodes the object and
// cross-reference streams. A /Length may sit in an object stream, so this
// repeats until nothing changes.
func (f *pdfFile) resolveStreams() error {
	for pass := 0; ; pass++ {
		if pass == maxLengthPasses {
			return malformed("limit: stream lengths in object streams nested deeper than %d", maxLengthPasses-1)
		}
		pending := 0 // object streams not decoded yet
		for _, o := range f.objects {
			if o.stream != nil && !o.stream.decoded && o.val.(pdfDict).name("Type") == "ObjStm" {
				pending++
			}
		}
		progress := false
		for _, o := range f.objects {
			s := o.stream
			if s == nil || s.decoded {
				continue
			}
			if s.length < 0 {
				n, ok, err := f.indirectLength(*s.lengthRef, pending > 0)
				if err != nil {
					return malformed("object %d: %v", o.num, err)
				}
				if !ok {
					continue
				}
				end := s.start + int(n)
				if n < 0 || end > s.end || len(bytes.Trim(f.data[end:s.end], "\x00\t\n\f\r ")) != 0 {
					return malformed("object %d: stream /Length %d does not end at endstream", o.num, n)
				}
				s.length = int(n)
			}
			s.decoded = true
			progress = true
			var err error
			switch o.val.(pdfDict).name("Type") {
			case "ObjStm":
				pending--
				err = f.readObjectStream(o)
			case "XRef":
				err = f.readXrefStream(o)
			}
			if err != nil {
				return err
			}
		}
		if !progress {
			break
		}
	}
	for _, o := range f.objects {
		if o.stream != nil && !o.stream.decoded {
			return malformed("object %d: stream /Length %d %d R is not an integer object", o.num, o.stream.lengthRef.num, o.stream.lengthRef.gen)
		}
	}
	return nil
}

// indirectLength returns the integer value of the object ref names. Every
// definition of it (in any revision) must be that same integer; ok is false
// while an object stream that may hold it is not decoded yet (pending).
func (f *pdfFile) indirectLength(ref pdfRef, pending bool) (n int64, ok bool, err error) {
	found := false
	for _, o := range f.byNum[ref.num] {
		if o.gen != ref.gen {
			continue
		}
		v, isInt := o.val.(int64)
		if !isInt || found && v != n {
			return 0, false, errors.New("the /Length object is not one integer")
		}
		n, found = v, true
	}
	switch {
	case found:
		return n, true, nil
	case pending:
		return 0, false, nil // may be in an object stream not read yet
	}
	return 0, false, errors.New("the /Length object does not exist")
}

// decode returns a stream's decoded data: unfiltered or FlateDecode, with an
// optional PNG predictor. Other filters are refused for the object and
// cross-reference streams this parser must read.
func (f *pdfFile) decode(o *pdfObject) ([]byte, error) {
	d := o.val.(pdfDict)
	raw := o.stream.data(f.data)
	filter := lookup(d, "Filter")
	parms := lookup(d, "DecodeParms")
	if a, ok := filter.(pdfArray); ok && len(a) <= 1 {
		filter = nil
		if len(a) == 1 {
			filter = a[0]
		}
		if p, ok := parms.(pdfArray); ok && len(p) == 1 {
			parms = p[0]
		}
	}
	switch filter {
	case nil:
		if parms != nil {
			return nil, malformed("object %d: /DecodeParms without a filter", o.num)
		}
		return raw, nil
	case pdfName("FlateDecode"):
	default:
		return nil, malformed("object %d: unsupported filter for an object or xref stream", o.num)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, malformed("object %d: bad FlateDecode data: %v", o.num, err)
	}
	left := MaxPDFInflated - f.inflated
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, int64(left)+1))
	if n > int64(left) {
		return nil, malformed("limit: more than %d bytes decompressed", MaxPDFInflated)
	}
	if err != nil {
		return nil, malformed("object %d: bad FlateDecode data: %v", o.num, err)
	}
	f.inflated += int(n)
	switch p := parms.(type) {
	case nil:
		return out.Bytes(), nil
	case pdfDict:
		return unpredict(out.Bytes(), p, o.num)
	}
	return nil, malformed("object %d: bad /DecodeParms", o.num)
}

// unpredict undoes a PNG predictor (/Predictor 10-15); 1 is none.
func unpredict(data []byte, p pdfDict, num int64) ([]byte, error) {
	param := func(key pdfName, def int64) int64 {
		if v, ok := lookup(p, key).(int64); ok {
			return v
		}
		return def
	}
	pred, colors, bpc, cols := param("Predictor", 1), param("Colors", 1), param("BitsPerComponent", 8), param("Columns", 1)
	if pred == 1 {
		return data, nil
	}
	if pred < 10 || pred > 15 || colors < 1 || colors > 4 || cols < 1 || cols > 1<<20 ||
		bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16 {
		return nil, malformed("object %d: unsupported predictor", num)
	}
	if len(data) == 0 {
		return data, nil
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((colors*bpc*cols + 7) / 8)
	if len(data)%(rowLen+1) != 0 { // so a row's buffers are never larger than the data
		return nil, malformed("object %d: predicted data is not whole rows", num)
	}
	out := make([]byte, 0, len(data)/(rowLen+1)*rowLen)
	prev := make([]byte, rowLen)
	for i := 0; i < len(data); i += rowLen + 1 {
		ft, row := data[i], data[i+1:i+1+rowLen]
		cur := make([]byte, rowLen)
		for j := range rowLen {
			var a, c byte
			if j >= bpp {
				a, c = cur[j-bpp], prev[j-bpp]
			}
			b := prev[j]
			switch ft {
			case 0:
				cur[j] = row[j]
			case 1:
				cur[j] = row[j] + a
			case 2:
				cur[j] = row[j] + b
			case 3:
				cur[j] = row[j] + byte((int(a)+int(b))/2)
			case 4:
				cur[j] = row[j] + paeth(a, b, c)
			default:
				return nil, malformed("object %d: bad PNG predictor row", num)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// readObjectStream parses the objects of an object stream (/Type /ObjStm):
// N pairs "number offset" before /First, offsets increasing, each object
// ending before the next begins.
func (f *pdfFile) readObjectStream(o *pdfObject) error {
	if o.gen != 0 {
		return malformed("object stream %d: generation %d", o.num, o.gen)
	}
	d := o.val.(pdfDict)
	n, ok1 := lookup(d, "N").(int64)
	first, ok2 := lookup(d, "First").(int64)
	if !ok1 || !ok2 || n < 0 || n > MaxPDFObjects || first < 0 {
		return malformed("object stream %d: bad /N or /First", o.num)
	}
	data, err := f.decode(o)
	if err != nil {
		return err
	}
	if first > int64(len(data)) {
		return malformed("object stream %d: /First past the end", o.num)
	}
	head := &lexer{data: data[:first], budget: &f.budget}
	nums := make([]int64, n)
	offs := make([]int64, n)
	for k := range n {
		var err1, err2 error
		nums[k], err1 = head.uint()
		offs[k], err2 = head.uint()
		if err1 != nil || err2 != nil || k > 0 && offs[k] <= offs[k-1] || first+offs[k] >= int64(len(data)) {
			return malformed("object stream %d: bad header", o.num)
		}
	}
	if head.skipSpace(); head.pos != len(head.data) {
		return malformed("object stream %d: bad header", o.num)
	}
	for k := range n {
		end := int64(len(data))
		if k+1 < n {
			end = first + offs[k+1]
		}
		l := &lexer{data: data[:end], pos: int(first + offs[k]), budget: &f.budget}
		v, err := l.value(0)
		if pe, ok := err.(*pdfError); ok {
			return malformed("object stream %d, object %d: %s", o.num, nums[k], pe.detail)
		} else if err != nil {
			return err
		}
		if l.skipSpace(); l.pos != len(l.data) {
			return malformed("object stream %d, object %d: data after the object", o.num, nums[k])
		}
		if err := f.addObject(&pdfObject{num: nums[k], offset: int(k), inStream: o.num, val: v}); err != nil {
			return err
		}
	}
	return nil
}

// readXrefStream reads the entries of a cross-reference stream.
func (f *pdfFile) readXrefStream(o *pdfObject) error {
	d := o.val.(pdfDict)
	bad := func(what string) error { return malformed("xref stream %d: %s", o.num, what) }
	wa, ok := lookup(d, "W").(pdfArray)
	if !ok || len(wa) != 3 {
		return bad("bad /W")
	}
	var w [3]int
	for i, v := range wa {
		n, ok := v.(int64)
		if !ok || n < 0 || n > 8 {
			return bad("bad /W")
		}
		w[i] = int(n)
	}
	row := w[0] + w[1] + w[2]
	if row == 0 || w[1] == 0 {
		return bad("bad /W")
	}
	size, ok := lookup(d, "Size").(int64)
	if !ok || size < 0 || size > MaxPDFObjects+1 {
		return bad("bad /Size")
	}
	index := pdfArray{int64(0), size}
	if v, ok := d.get("Index"); ok {
		if index, ok = v.(pdfArray); !ok || len(index)%2 != 0 {
			return bad("bad /Index")
		}
	}
	data, err := f.decode(o)
	if err != nil {
		return err
	}
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	pos := 0
	for i := 0; i < len(index); i += 2 {
		first, ok1 := index[i].(int64)
		n, ok2 := index[i+1].(int64)
		if !ok1 || !ok2 || first < 0 || first > 1<<31 || n < 0 || n > int64((len(data)-pos)/row) {
			return bad("bad /Index or too little data")
		}
		for k := range n {
			r := data[pos : pos+row]
			pos += row
			typ := int64(1)
			if w[0] > 0 {
				typ = field(r[:w[0]])
			}
			f2, f3 := field(r[w[0]:w[0]+w[1]]), field(r[w[0]+w[1]:])
			switch typ {
			case 0: // free
				continue
			case 1, 2:
			default:
				return bad("unknown entry type")
			}
			if len(f.entries) >= 2*MaxPDFObjects {
				return malformed("limit: more than %d cross-reference entries", 2*MaxPDFObjects)
			}
			e := xrefEntry{num: first + k, typ: int(typ), off: f2}
			if typ == 1 {
				e.gen = f3
			} else {
				e.idx = f3
			}
			f.entries = append(f.entries, e)
		}
	}
	if pos != len(data) {
		return bad("data after the last entry")
	}
	return nil
}

// objectAt returns the top-level object starting at off (whitespace before
// it allowed).
func (f *pdfFile) objectAt(off int64) *pdfObject {
	if off < 0 || off >= int64(len(f.data)) {
		return nil
	}
	i := int(off)
	for i < len(f.data) && isSpace(f.data[i]) {
		i++
	}
	return f.byOffset[i]
}

// xrefAt reports whether a cross-reference section (table or stream) starts
// at off, and returns its trailer dictionary.
func (f *pdfFile) xrefAt(off int64) (pdfDict, bool) {
	if off < 0 || off >= int64(len(f.data)) {
		return nil, false
	}
	i := int(off)
	for i < len(f.data) && isSpace(f.data[i]) {
		i++
	}
	if d, ok := f.trailers[i]; ok {
		return d, true
	}
	if o := f.byOffset[i]; o != nil && o.stream != nil && o.val.(pdfDict).name("Type") == "XRef" {
		return o.val.(pdfDict), true
	}
	return nil, false
}

// checkXref checks every cross-reference entry, startxref, /Prev and
// /XRefStm against the objects read, and that the document has a catalog.
func (f *pdfFile) checkXref() error {
	for _, e := range f.entries {
		switch e.typ {
		case 1:
			o := f.objectAt(e.off)
			if o == nil || o.num != e.num || o.gen != e.gen {
				return malformed("cross-reference entry for object %d %d does not point at it", e.num, e.gen)
			}
		case 2:
			if !f.inObjectStream(e) {
				return malformed("cross-reference entry for object %d: not in object stream %d at %d", e.num, e.off, e.idx)
			}
		}
	}
	last := f.startxrefs[len(f.startxrefs)-1]
	trailer, ok := f.xrefAt(last)
	if !ok {
		return malformed("startxref %d is not a cross-reference section", last)
	}
	for _, s := range f.startxrefs[:len(f.startxrefs)-1] {
		if _, ok := f.xrefAt(s); !ok && s != 0 {
			return malformed("startxref %d is not a cross-reference section", s)
		}
	}
	var dicts []pdfDict
	for _, d := range f.trailers {
		dicts = append(dicts, d)
	}
	for _, o := range f.streamsOfType("XRef") {
		dicts = append(dicts, o.val.(pdfDict))
	}
	for _, d := range dicts {
		for _, key := range []pdfName{"Prev", "XRefStm"} {
			if v, ok := d.get(key); ok {
				off, isInt := v.(int64)
				if _, found := f.xrefAt(off); !isInt || !found {
					return malformed("/%s does not point at a cross-reference section", key)
				}
			}
		}
		if v, ok := d.get("Root"); ok {
			if !f.isCatalog(v) {
				return malformed("/Root is not a catalog dictionary")
			}
		}
	}
	if !trailer.has("Root") {
		return malformed("the trailer has no /Root")
	}
	return nil
}

// inObjectStream reports whether a type-2 entry names an object of an object
// stream. Every definition of that stream number must be an object stream:
// a viewer might read any of them as one.
func (f *pdfFile) inObjectStream(e xrefEntry) bool {
	if len(f.byNum[e.off]) == 0 {
		return false
	}
	for _, s := range f.byNum[e.off] {
		if s.stream == nil || s.val.(pdfDict).name("Type") != "ObjStm" {
			return false
		}
	}
	return f.inStreams[[3]int64{e.num, e.off, e.idx}]
}

// isCatalog reports whether v is a reference to a dictionary of /Type
// /Catalog (every definition of it).
func (f *pdfFile) isCatalog(v any) bool {
	ref, ok := v.(pdfRef)
	if !ok {
		return false
	}
	found := false
	for _, o := range f.byNum[ref.num] {
		if o.gen != ref.gen {
			continue
		}
		d, ok := o.val.(pdfDict)
		if !ok || d.name("Type") != "Catalog" {
			return false
		}
		found = true
	}
	return found
}
