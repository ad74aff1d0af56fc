package stack

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPhysicalName(t *testing.T) {
	long := strings.Repeat("VeryLongLogicalId", 10)
	tests := []struct {
		name   string
		rule   nameRule
		id     string
		suffix string
		valid  *regexp.Regexp
	}{
		{"bucket: lowercase, hyphens", nameBucket, "DocumentsBucket9EC9DEB9", "", regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)},
		{"bucket: long id cut to 63", nameBucket, long, "", regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)},
		{"queue: at most 80", nameQueue, long, "", regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)},
		{"fifo queue keeps .fifo", nameQueue, long, ".fifo", regexp.MustCompile(`^[A-Za-z0-9_-]{1,75}\.fifo$`)},
		{"rule: at most 64", nameEventRule, long, "", regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)},
		{"function: at most 64, odd characters replaced", nameFunction, "billing/adapter:v2", "", regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := physicalName(tt.rule, "t-3f9a1c2e", tt.id, tt.suffix)
			if !tt.valid.MatchString(got) || strings.Contains(got, "--") || strings.HasSuffix(strings.TrimSuffix(got, tt.suffix), "-") {
				t.Fatalf("physicalName = %q (%d chars), not valid", got, len(got))
			}
			if again := physicalName(tt.rule, "t-3f9a1c2e", tt.id, tt.suffix); again != got {
				t.Fatalf("not deterministic: %q then %q", got, again)
			}
			if other := physicalName(tt.rule, "t-00000000", tt.id, tt.suffix); other == got {
				t.Fatalf("two prefixes give the same name %q", got)
			}
		})
	}
	t.Run("long ids sharing a beginning stay distinct", func(t *testing.T) {
		a := physicalName(nameBucket, "p", long+"A", "")
		b := physicalName(nameBucket, "p", long+"B", "")
		if a == b {
			t.Fatalf("both %q", a)
		}
	})
	t.Run("short names are readable", func(t *testing.T) {
		if got := physicalName(nameBucket, "kyc-dev", "DocumentsBucket9EC9DEB9", ""); got != "kyc-dev-documentsbucket9ec9deb9" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
		err  bool
	}{
		{"rate(15 minutes)", 15 * time.Minute, false},
		{"rate(1 minute)", time.Minute, false},
		{"rate(2 hours)", 2 * time.Hour, false},
		{"rate(1 hour)", time.Hour, false},
		{"rate(1 day)", 24 * time.Hour, false},
		{"rate( 5 minutes )", 5 * time.Minute, false},
		{"cron(0 3 * * ? *)", 0, false},
		{"at(2030-01-01T00:00:00)", 0, false},
		{"rate(0 minutes)", 0, true},
		{"rate(5 weeks)", 0, true},
		{"every 5 minutes", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := ParseRate(tt.expr)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseRate(%q) = %v, %v; want %v, error %v", tt.expr, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestGenerateSecretString(t *testing.T) {
	n := func(i int) *flexInt { f := flexInt(i); return &f }
	no := flexBool(false)
	t.Run("defaults: 32 characters of every type", func(t *testing.T) {
		s, err := generateSpec{}.generate()
		if err != nil || len(s) != 32 {
			t.Fatalf("%q, %v", s, err)
		}
		for _, class := range []string{"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", punctuation} {
			if !strings.ContainsAny(s, class) {
				t.Errorf("%q has no character of %q", s, class)
			}
		}
		if strings.Contains(s, " ") {
			t.Errorf("%q has a space without IncludeSpace", s)
		}
	})
	t.Run("length and exclusions", func(t *testing.T) {
		s, err := generateSpec{PasswordLength: n(48), ExcludePunctuation: true, ExcludeCharacters: "0Oo1lI"}.generate()
		if err != nil || len(s) != 48 || !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(s) || strings.ContainsAny(s, "0Oo1lI") {
			t.Fatalf("%q, %v", s, err)
		}
	})
	t.Run("template and key", func(t *testing.T) {
		s, err := generateSpec{SecretStringTemplate: `{"identifier":"kyc-gate"}`, GenerateStringKey: "secret", ExcludeCharacters: `"@/\`}.generate()
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := json.Unmarshal([]byte(s), &v); err != nil || v["identifier"] != "kyc-gate" || len(v["secret"]) != 32 || strings.ContainsAny(v["secret"], `"@/\`) {
			t.Fatalf("%s: %v", s, err)
		}
	})
	t.Run("without RequireEachIncludedType, one type is enough", func(t *testing.T) {
		s, err := generateSpec{PasswordLength: n(2), RequireEachIncludedType: &no}.generate()
		if err != nil || len(s) != 2 {
			t.Fatalf("%q, %v", s, err)
		}
	})
	t.Run("impossible specs are errors", func(t *testing.T) {
		all := flexBool(true)
		for _, g := range []generateSpec{
			{ExcludeLowercase: all, ExcludeUppercase: all, ExcludeNumbers: all, ExcludePunctuation: all},
			{PasswordLength: n(3)}, // four types required
			{PasswordLength: n(0)},
			{SecretStringTemplate: "not json", GenerateStringKey: "k"},
		} {
			if s, err := g.generate(); err == nil {
				t.Errorf("%+v generated %q", g, s)
			}
		}
	})
}

func TestScheduleEvent(t *testing.T) {
	s := &Schedule{
		ARN:   "arn:aws:scheduler:us-east-1:123456789012:schedule/default/p-sweep",
		Input: `{"id":"<aws.scheduler.execution-id>","time":"<aws.scheduler.scheduled-time>","resources":["<aws.scheduler.schedule-arn>"],"attempt":"<aws.scheduler.attempt-number>"}`,
	}
	at := time.Date(2026, 11, 26, 13, 5, 0, 0, time.FixedZone("CET", 3600))
	var ev struct {
		ID, Time, Attempt string
		Resources         []string
	}
	if err := json.Unmarshal([]byte(s.Event(at)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time != "2026-11-26T12:05:00Z" || ev.Resources[0] != s.ARN || ev.Attempt != "1" || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(ev.ID) {
		t.Fatalf("event %+v", ev)
	}
	if got := (&Schedule{}).Event(at); got != "{}" {
		t.Fatalf("no input: %q, want {}", got)
	}
}
