package kyc

// Fuzz targets for the outside input the policy engine decodes: dates as
// billing sends them and the object keys of S3 event notifications (billing
// events, which need a store, are fuzzed in fuzz_intake_test.go). `make fuzz`
// runs each for a while; plain `go test` runs their seeds and the regressions in testdata/fuzz.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseDate: ParseDate and Date.UnmarshalText never panic, agree with
// each other, refuse with an invalid_date error, and accept only the
// canonical form: a date they accept prints back as the input and survives
// a JSON round trip.
func seedsParseDate() (out [][]any) {
	for _, s := range []string{"2026-12-26", "2024-02-29", "2023-02-29", "2026-13-01", "2026-00-10", "", "26-12-2026",
		"2026-1-2", "2026-12-26T00:00:00Z", " 2026-12-26", "0000-01-01", "9999-12-31", "+2026-12-26", "２０２６-12-26"} {
		out = append(out, []any{s})
	}
	return out
}

func FuzzParseDate(f *testing.F) {
	addSeeds(f, seedsParseDate())
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		var u Date
		uerr := u.UnmarshalText([]byte(s))
		if err != nil {
			var ke *Error
			if !errors.As(err, &ke) || ke.Kind != KindInvalid || ke.Code != "invalid_date" {
				t.Fatalf("ParseDate(%q) = %v, want an invalid_date error", s, err)
			}
			if s == "" {
				if uerr != nil || !u.IsZero() {
					t.Fatalf("UnmarshalText(\"\") = %v, %v; want the zero date", u, uerr)
				}
			} else if uerr == nil {
				t.Fatalf("UnmarshalText accepted %q, which ParseDate refuses", s)
			}
			return
		}
		if uerr != nil || !u.Time().Equal(d.Time()) {
			t.Fatalf("UnmarshalText(%q) = %v, %v; ParseDate gave %v", s, u, uerr, d)
		}
		if d.IsZero() {
			// 0001-01-01 is the zero time, which Date uses for "no date":
			// it reads as missing (an order without nextDueDate is refused).
			if s != "0001-01-01" {
				t.Fatalf("ParseDate(%q) is the zero date", s)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) prints as %q", s, d)
		}
		if tm := d.Time(); tm.Location() != time.UTC || !tm.Equal(tm.Truncate(24*time.Hour)) {
			t.Fatalf("ParseDate(%q) is %v, not midnight UTC", s, tm)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || !back.Time().Equal(d.Time()) {
			t.Fatalf("JSON round trip of %s: %s → %v, %v", d, b, back, err)
		}
	})
}

// FuzzParseDocumentKey: ParseDocumentKey never panics and accepts exactly
// the keys docs/<customerId>/<documentId> of two valid ids: what it returns
// rebuilds the key it was given, and neither id is a path step.
func seedsParseDocumentKey() (out [][]any) {
	for _, s := range []string{"docs/cust-1/k3v7q2m4n5p6r7s8t9u0w1x2y3", "docs/cust-1/doc", "docs/cust-1/", "docs//doc", "docs/cust-1/doc/extra",
		"docs/../cust-1/doc", "docs/cust-1/../../etc", "docs/a/b", "Docs/a/b", "/docs/a/b", "docs/a%2Fb/c", "docs/ä/b",
		"docs/" + strings.Repeat("a", 129) + "/b", "other/cust-1/doc", "", "docs/.hidden/x", "docs/a/b\n"} {
		out = append(out, []any{s})
	}
	return out
}

func FuzzParseDocumentKey(f *testing.F) {
	addSeeds(f, seedsParseDocumentKey())
	f.Fuzz(func(t *testing.T, key string) {
		cust, doc, ok := ParseDocumentKey(key)
		if !ok {
			if cust != "" || doc != "" {
				t.Fatalf("refused %q but returned %q, %q", key, cust, doc)
			}
			return
		}
		// S3 keys are flat ("docs/a../b" is one object, not a path), but
		// no id is "." or "..": ids start with a letter or digit.
		if !ValidID(cust) || !ValidID(doc) || DocumentKey(cust, doc) != key || strings.Count(key, "/") != 2 ||
			strings.HasPrefix(cust, ".") || strings.HasPrefix(doc, ".") {
			t.Fatalf("ParseDocumentKey(%q) = %q, %q: not a key docs/<id>/<id>", key, cust, doc)
		}
	})
}

// addSeeds adds a fuzz target's seeds; plain `go test` runs them, with the
// regressions kept in testdata/fuzz/<FuzzName>/.
func addSeeds(f *testing.F, seeds [][]any) {
	f.Helper()
	for _, seed := range seeds {
		f.Add(seed...)
	}
}
