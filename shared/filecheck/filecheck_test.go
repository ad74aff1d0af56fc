package filecheck

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

func TestInspect(t *testing.T) {
	j := jpegBytes(t, 32, 24)
	t.Run("reads and checks", func(t *testing.T) {
		v, err := Inspect(JPEG, iotest.HalfReader(bytes.NewReader(j)), int64(len(j)))
		if err != nil || !v.Valid() || v.Width != 32 {
			t.Fatalf("Inspect = %+v, %v", v.Reason, err)
		}
	})
	t.Run("refuses a polyglot", func(t *testing.T) {
		p := append([]byte(pngSignature), "<html><script>alert(1)</script>"...)
		v, err := Inspect(PNG, bytes.NewReader(p), int64(len(p)))
		if err != nil || v.Reason != Undecodable {
			t.Fatalf("Inspect = %q, %v", v.Reason, err)
		}
	})
	t.Run("over the limit without reading", func(t *testing.T) {
		v, err := Inspect(PDF, iotest.ErrReader(errors.New("must not read")), MaxBytes+1)
		if err != nil || v.Reason != TooLarge {
			t.Fatalf("Inspect = %q, %v", v.Reason, err)
		}
	})
	for _, tc := range []struct {
		name string
		r    io.Reader
		size int64
		want error
	}{
		{"shorter than size", bytes.NewReader(j), int64(len(j)) + 1, ErrSize},
		{"longer than size", bytes.NewReader(j), int64(len(j)) - 1, ErrSize},
		{"negative size", bytes.NewReader(j), -1, ErrSize},
		{"read error", iotest.TimeoutReader(bytes.NewReader(j)), int64(len(j)), iotest.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect(JPEG, tc.r, tc.size)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCheckDoesNotModifyItsInput(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		data []byte
	}{{JPEG, jpegBytes(t, 8, 8)}, {PNG, pngBytes(t, 8, 8)}, {PDF, cleanPDF(t)}} {
		keep := slices.Clone(tc.data)
		Check(tc.ct, tc.data)
		if !bytes.Equal(keep, tc.data) {
			t.Errorf("%s: input modified", tc.ct)
		}
	}
}

func TestCheckRefusesOversizedData(t *testing.T) {
	big := append([]byte("%PDF-1.7\n"), make([]byte, MaxBytes)...)
	if v := Check(PDF, big); v.Reason != TooLarge {
		t.Fatalf("reason %q, want too_large", v.Reason)
	}
}

func TestReasonsAreDistinctAndListed(t *testing.T) {
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		if r == "" || seen[r] {
			t.Errorf("reason %q empty or repeated", r)
		}
		seen[r] = true
	}
	if len(seen) != 7 {
		t.Errorf("%d reasons listed, the package defines 7", len(seen))
	}
}
