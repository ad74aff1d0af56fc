package kyc_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/kycgate/kycgate/shared/kyc"
	"github.com/kycgate/kycgate/shared/kyc/kyctest"
)

// Every use case refuses to be built without one of its ports: a missing
// port is a wiring mistake found at cold start, not a nil dereference in a
// request.
func TestConstructorsNeedEveryPort(t *testing.T) {
	st, files, sealer, bus := kyctest.NewStore(), kyctest.NewFiles(kyctest.KMSKeyARN, nil), kyctest.NewSealer(), kyctest.NewPublisher()
	tests := []struct {
		name  string
		build func()
	}{
		{"Service without a Store", func() { kyc.NewService(nil, files, sealer, bus, kyc.Config{}) }},
		{"Service without Files", func() { kyc.NewService(st, nil, sealer, bus, kyc.Config{}) }},
		{"Service without a Sealer", func() { kyc.NewService(st, files, nil, bus, kyc.Config{}) }},
		{"Service without a Publisher", func() { kyc.NewService(st, files, sealer, nil, kyc.Config{}) }},
		{"Intake without a Sealer", func() { kyc.NewIntake(st, nil, bus, kyc.Config{}) }},
		{"Intake without a Publisher", func() { kyc.NewIntake(st, sealer, nil, kyc.Config{}) }},
		{"Validator without Files", func() { kyc.NewValidator(st, nil, kyctest.NewScanner(), kyc.Config{}) }},
		{"Validator without a Scanner", func() { kyc.NewValidator(st, files, nil, kyc.Config{}) }},
		{"Sweeper without Files", func() { kyc.NewSweeper(st, nil, bus, kyc.Config{}) }},
		{"Auditor without a Store", func() { kyc.NewAuditor(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("built without a port")
				}
			}()
			tt.build()
		})
	}
}

// Limits that would weaken the policy are clamped; missing settings take
// their defaults.
func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   kyc.Config
		want func(c kyc.Config) bool
	}{
		{"zero", kyc.Config{}, func(c kyc.Config) bool {
			return c.MaxUploadBytes == kyc.DefaultMaxUploadBytes && c.UploadTTL == 10*time.Minute && c.LinkTTL == kyc.MaxLinkTTL &&
				c.Retention == kyc.DefaultRetention && c.Products != nil
		}},
		{"an upload form living too long", kyc.Config{UploadTTL: time.Hour}, func(c kyc.Config) bool { return c.UploadTTL == 10*time.Minute }},
		{"a download link living too long", kyc.Config{LinkTTL: time.Hour}, func(c kyc.Config) bool { return c.LinkTTL == kyc.MaxLinkTTL }},
		{"settings within the limits", kyc.Config{UploadTTL: time.Minute, LinkTTL: time.Minute, MaxUploadBytes: 5}, func(c kyc.Config) bool {
			return c.UploadTTL == time.Minute && c.LinkTTL == time.Minute && c.MaxUploadBytes == 5
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := kyc.NewValidator(kyctest.NewStore(), kyctest.NewFiles(kyctest.KMSKeyARN, nil), kyctest.NewScanner(), tt.in)
			if got := svc.Config(); !tt.want(got) {
				t.Fatalf("effective config %+v", got)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := kyc.NewID()
		if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(id) || !kyc.ValidID(id) || seen[id] {
			t.Fatalf("id %q: want 26 fresh lower-case base32 characters", id)
		}
		seen[id] = true
	}
}

// A use case that keeps losing races gives up when its context ends.
func TestRetryStopsWithTheContext(t *testing.T) {
	w := kyctest.New(t)
	c, cancel := context.WithCancel(ctx)
	w.Store.Before(kyctest.MethodCommit, cancel)
	w.Store.FailNext(kyctest.MethodCommit, kyc.ErrStale)
	_, err := w.Intake.PlaceOrder(c, w.OrderEvent("c-1", "o-1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the context's", err)
	}
	if n := w.Store.Calls(kyctest.MethodCommit); n != 1 {
		t.Fatalf("%d attempts after the context ended, want 1", n)
	}
}

func TestFileExtension(t *testing.T) {
	for ct, want := range map[string]string{kyc.JPEG: "jpg", kyc.PNG: "png", kyc.PDF: "pdf", "text/html": "bin"} {
		if got := kyc.FileExtension(ct); got != want {
			t.Errorf("FileExtension(%s) = %s, want %s", ct, got, want)
		}
	}
}

func TestParseProducts(t *testing.T) {
	ps := kyc.ParseProducts(" kyc-vps, dedicated ,,")
	if !ps.RequiresKYC("kyc-vps") || !ps.RequiresKYC("dedicated") || ps.RequiresKYC("") || len(ps) != 2 {
		t.Fatalf("products %v", ps)
	}
}

func TestRateLimited(t *testing.T) {
	err := kyc.RateLimited(time.Minute, "%d uploads in the last hour", 20)
	var e *kyc.Error
	if !errors.As(err, &e) || e.Kind != kyc.KindRateLimited || e.RetryAfter != time.Minute || kyc.CodeOf(err) != "rate_limited" || e.Error() == "" {
		t.Fatalf("error %#v", err)
	}
}
