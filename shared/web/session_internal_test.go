package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A cookie sealed for one purpose never opens as another, even with staff
// groups inside; a changed byte, another secret or a short secret fail.
func TestCookieKeysArePerPurpose(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	k, err := NewKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := k.seal(customerCookie, Session{Subject: "1001", Groups: []string{"kyc-admins"}})
	if err != nil {
		t.Fatal(err)
	}
	var got Session
	if err := k.open(customerCookie, v, &got); err != nil || got.Subject != "1001" {
		t.Fatalf("open as sealed: %v %+v", err, got)
	}
	if err := k.open(staffCookie, v, &got); err == nil {
		t.Fatal("a customer cookie opened as a staff one")
	}
	if err := k.open(flowCookie, v, &got); err == nil {
		t.Fatal("a customer cookie opened as a sign-in flow")
	}
	b := []byte(v)
	b[len(b)/2] ^= 1
	if err := k.open(customerCookie, string(b), &got); err == nil {
		t.Fatal("a changed cookie opened")
	}
	other, _ := NewKeys([]byte(strings.Repeat("t", 32)))
	if err := other.open(customerCookie, v, &got); err == nil {
		t.Fatal("a cookie opened under another secret")
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

// A session past its idle time or its maximum age is gone; one renewed is
// not.
func TestSessionExpiry(t *testing.T) {
	k, _ := NewKeys([]byte(strings.Repeat("s", 32)))
	now := time.Unix(1_800_000_000, 0)
	s := &sessions{keys: k, name: staffCookie, idle: StaffIdle, max: StaffMax, now: func() time.Time { return now }}
	rec := httptest.NewRecorder()
	if err := s.put(rec, Session{Subject: "staff-7", Start: now.Unix()}); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/console", nil)
		r.AddCookie(cookie)
		return r
	}
	for _, tt := range []struct {
		after time.Duration
		ok    bool
	}{{time.Hour, true}, {StaffIdle - time.Minute, true}, {StaffIdle + time.Minute, false}} {
		now = time.Unix(1_800_000_000, 0).Add(tt.after)
		if _, err := s.get(req()); (err == nil) != tt.ok {
			t.Errorf("after %s: %v", tt.after, err)
		}
	}
	// Renewed every few hours, it still ends at the maximum age.
	start := time.Unix(1_800_000_000, 0)
	for h := 4; h <= 16; h += 4 {
		now = start.Add(time.Duration(h) * time.Hour)
		ses, err := s.get(req())
		if (err == nil) != (time.Duration(h)*time.Hour <= StaffMax) {
			t.Fatalf("after %dh: %v", h, err)
		}
		if err == nil {
			rec := httptest.NewRecorder()
			_ = s.put(rec, ses)
			cookie = rec.Result().Cookies()[0]
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/console/customers/1001": "/console/customers/1001", "/console?show=mine": "/console?show=mine",
		"https://evil.test/console": "/console", "//evil.test/console": "/console", "/console/../verify": "/console",
		"/verify": "/console", "/consolex": "/console", "": "/console", "/console/%2e%2e/verify": "/console",
	} {
		if got := localPath(in, "/console"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"": LangEn, "zh-TW": LangZhHant, "zh-HK,en;q=0.8": LangZhHant, "en-US,zh-TW;q=0.9": LangEn,
		"zh-CN": LangEn, "zh-Hans-CN,zh-Hant;q=0.5": LangZhHant, "fr, zh;q=0.1": LangZhHant, "de": LangEn,
	} {
		if got := fromAcceptLanguage(h); got != want {
			t.Errorf("%q → %s, want %s", h, got, want)
		}
	}
}

// Every entry of the catalogue has both languages.
func TestCatalogueIsBilingual(t *testing.T) {
	for k, v := range messages {
		if strings.TrimSpace(v[0]) == "" || strings.TrimSpace(v[1]) == "" {
			t.Errorf("%s lacks a language", k)
		}
	}
}
