package filecheck

import (
	"bytes"
	"fmt"
	"strconv"
)

// The PDF object syntax (ISO 32000-2 §7.2-7.3), parsed strictly: anything
// that is not one of these values is an error, never skipped.

// Values of the object syntax. null is nil, booleans bool, integers int64,
// reals float64.
type (
	pdfName   string // a name, its #xx escapes decoded
	pdfString string // a literal or hex string, its escapes decoded
	pdfArray  []any
	pdfDict   []dictEntry // in file order; duplicate keys are all kept
	pdfRef    struct{ num, gen int64 }
)

type dictEntry struct {
	key pdfName
	val any
}

// get returns the value of key (the last one, as viewers read a duplicate
// key).
func (d pdfDict) get(key pdfName) (any, bool) {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i].key == key {
			return d[i].val, true
		}
	}
	return nil, false
}

func (d pdfDict) name(key pdfName) pdfName {
	v, _ := d.get(key)
	n, _ := v.(pdfName)
	return n
}

func (d pdfDict) has(key pdfName) bool {
	_, ok := d.get(key)
	return ok
}

// pdfError is a refusal found while parsing or checking a PDF.
type pdfError struct {
	reason Reason
	detail string
}

func (e *pdfError) Error() string { return string(e.reason) + ": " + e.detail }

func malformed(format string, args ...any) error {
	return &pdfError{PDFMalformed, fmt.Sprintf(format, args...)}
}

// lexer reads PDF syntax from data. budget counts the values parsed, shared
// by every lexer of one file.
type lexer struct {
	data   []byte
	pos    int
	budget *int
}

func isSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

// skipSpace skips whitespace and comments.
func (l *lexer) skipSpace() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// keyword reads a run of regular characters at the current position.
func (l *lexer) keyword() string {
	start := l.pos
	for l.pos < len(l.data) && isRegular(l.data[l.pos]) {
		l.pos++
	}
	return string(l.data[start:l.pos])
}

// peekKeyword reports whether the keyword kw, ending at a delimiter,
// whitespace or the end, is at the current position (after whitespace).
func (l *lexer) peekKeyword(kw string) bool {
	save := l.pos
	l.skipSpace()
	ok := bytes.HasPrefix(l.data[l.pos:], []byte(kw)) &&
		(l.pos+len(kw) == len(l.data) || !isRegular(l.data[l.pos+len(kw)]))
	l.pos = save
	return ok
}

// expectKeyword consumes kw (after whitespace) or fails.
func (l *lexer) expectKeyword(kw string) error {
	if !l.peekKeyword(kw) {
		return malformed("expected %q at byte %d", kw, l.pos)
	}
	l.skipSpace()
	l.pos += len(kw)
	return nil
}

// uint reads an unsigned decimal integer (after whitespace).
func (l *lexer) uint() (int64, error) {
	l.skipSpace()
	start := l.pos
	for l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '9' {
		l.pos++
	}
	if l.pos == start || l.pos-start > 18 || l.pos < len(l.data) && isRegular(l.data[l.pos]) {
		l.pos = start
		return 0, malformed("expected an unsigned integer at byte %d", start)
	}
	n, _ := strconv.ParseInt(string(l.data[start:l.pos]), 10, 64)
	return n, nil
}

func (l *lexer) count() error {
	*l.budget--
	if *l.budget < 0 {
		return malformed("limit: more than %d values", MaxPDFValues)
	}
	return nil
}

// value parses one value (a reference "n g R" included).
func (l *lexer) value(depth int) (any, error) {
	if err := l.count(); err != nil {
		return nil, err
	}
	l.skipSpace()
	if l.pos >= len(l.data) {
		return nil, malformed("unexpected end of data")
	}
	switch c := l.data[l.pos]; {
	case c == '/':
		return l.name()
	case c == '(':
		return l.literalString()
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		if depth >= MaxPDFDepth {
			return nil, malformed("limit: nested deeper than %d", MaxPDFDepth)
		}
		return l.dict(depth + 1)
	case c == '<':
		return l.hexString()
	case c == '[':
		if depth >= MaxPDFDepth {
			return nil, malformed("limit: nested deeper than %d", MaxPDFDepth)
		}
		return l.array(depth + 1)
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9':
		return l.number()
	case isRegular(c):
		start := l.pos
		switch kw := l.keyword(); kw {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		default:
			return nil, malformed("unexpected keyword %.20q at byte %d", kw, start)
		}
	default:
		return nil, malformed("unexpected %q at byte %d", c, l.pos)
	}
}

// number parses an integer or real; an unsigned integer followed by another
// and R is a reference.
func (l *lexer) number() (any, error) {
	start := l.pos
	tok := l.keyword()
	digits, dots := 0, 0
	for i := range len(tok) {
		switch c := tok[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '+' || c == '-') && i == 0:
		default:
			return nil, malformed("bad number at byte %d", start)
		}
	}
	if digits == 0 || dots > 1 {
		return nil, malformed("bad number at byte %d", start)
	}
	if dots == 1 {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, malformed("bad number at byte %d", start)
		}
		return f, nil
	}
	n, err := strconv.ParseInt(tok, 10, 64)
	if err != nil {
		f, _ := strconv.ParseFloat(tok, 64) // out of int64 range: a real, as viewers read it
		return f, nil
	}
	if tok[0] >= '0' && tok[0] <= '9' {
		save := l.pos
		if gen, err := l.uint(); err == nil && l.peekKeyword("R") {
			if err := l.expectKeyword("R"); err == nil {
				return pdfRef{n, gen}, nil
			}
		}
		l.pos = save
	}
	return n, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// name parses /Name, decoding #xx escapes: /J#61vaScript is /JavaScript.
func (l *lexer) name() (pdfName, error) {
	start := l.pos
	l.pos++ // '/'
	var b []byte
	for l.pos < len(l.data) && isRegular(l.data[l.pos]) {
		c := l.data[l.pos]
		if c == '#' {
			if l.pos+2 >= len(l.data) {
				return "", malformed("bad # escape in name at byte %d", start)
			}
			hi, ok1 := unhex(l.data[l.pos+1])
			lo, ok2 := unhex(l.data[l.pos+2])
			if !ok1 || !ok2 || hi == 0 && lo == 0 {
				return "", malformed("bad # escape in name at byte %d", start)
			}
			c = hi<<4 | lo
			l.pos += 2
		}
		b = append(b, c)
		l.pos++
	}
	return pdfName(b), nil
}

func (l *lexer) literalString() (pdfString, error) {
	start := l.pos
	l.pos++ // '('
	var b []byte
	depth := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return pdfString(b), nil
			}
		case '\\':
			if l.pos >= len(l.data) {
				return "", malformed("unterminated string at byte %d", start)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r': // line continuation
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for k := 0; k < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; k++ {
					v = v*8 + int(l.data[l.pos]-'0')
					l.pos++
				}
				c = byte(v)
			default: // \( \) \\ and any other: the character itself
				c = e
			}
		}
		b = append(b, c)
	}
	return "", malformed("unterminated string at byte %d", start)
}

func (l *lexer) hexString() (pdfString, error) {
	start := l.pos
	l.pos++ // '<'
	var b []byte
	var hi byte
	odd := false
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		if c == '>' {
			if odd {
				b = append(b, hi<<4)
			}
			return pdfString(b), nil
		}
		if isSpace(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return "", malformed("bad hex string at byte %d", start)
		}
		if odd {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	return "", malformed("unterminated hex string at byte %d", start)
}

func (l *lexer) array(depth int) (pdfArray, error) {
	l.pos++ // '['
	a := pdfArray{}
	for {
		l.skipSpace()
		if l.pos < len(l.data) && l.data[l.pos] == ']' {
			l.pos++
			return a, nil
		}
		v, err := l.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

func (l *lexer) dict(depth int) (pdfDict, error) {
	start := l.pos
	l.pos += 2 // "<<"
	d := pdfDict{}
	for {
		l.skipSpace()
		if l.pos+1 < len(l.data) && l.data[l.pos] == '>' && l.data[l.pos+1] == '>' {
			l.pos += 2
			return d, nil
		}
		if l.pos >= len(l.data) || l.data[l.pos] != '/' {
			return nil, malformed("dictionary at byte %d: expected a name key at byte %d", start, l.pos)
		}
		k, err := l.name()
		if err != nil {
			return nil, err
		}
		l.skipSpace()
		if l.pos+1 < len(l.data) && l.data[l.pos] == '>' && l.data[l.pos+1] == '>' {
			return nil, malformed("dictionary at byte %d: key /%s has no value", start, k)
		}
		v, err := l.value(depth)
		if err != nil {
			return nil, err
		}
		d = append(d, dictEntry{k, v})
	}
}
