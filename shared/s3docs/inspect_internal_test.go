package s3docs

import "testing"

func TestTotalSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"bytes 0-7/1234", 1234, true},
		{"bytes 0-4/5", 5, true},
		{"bytes 0-7/10485760", 10485760, true},
		{"bytes 0-7/*", 0, false},
		{"", 0, false},
		{"bytes 0-7/x", 0, false},
		{"bytes 0-7/-3", 0, false},
	} {
		if got, ok := totalSize(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("totalSize(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
