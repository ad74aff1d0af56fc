package kyc

import (
	"testing"
	"time"
)

func TestParseRegions(t *testing.T) {
	rs, err := ParseRegions(" hk=Asia/Hong_Kong, tw = Asia/Taipei ")
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.String(); got != "hk=Asia/Hong_Kong,tw=Asia/Taipei" {
		t.Fatalf("regions %q", got)
	}
	if rs["hk"].String() != "Asia/Hong_Kong" || rs["tw"].String() != "Asia/Taipei" {
		t.Fatalf("zones %v", rs)
	}
	for _, bad := range []string{"", ",", "hk", "hk=", "=Asia/Taipei", "hk=Asia/Hong_Kong,hk=Asia/Taipei", "hk=Mars/Olympus", "hk=Local", "h k=UTC"} {
		if _, err := ParseRegions(bad); err == nil {
			t.Errorf("ParseRegions(%q) accepted", bad)
		}
	}
}

func TestInZone(t *testing.T) {
	at := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	lt := InZone(at, "Asia/Hong_Kong")
	if !lt.HasLocal || lt.Zone != "Asia/Hong_Kong" || lt.Local.Format("2006-01-02 15:04") != "2026-03-05 18:00" || !lt.UTC.Equal(at) {
		t.Fatalf("in Hong Kong: %+v", lt)
	}
	for _, zone := range []string{"", "UTC", "Nowhere/Else", "Local"} {
		if lt := InZone(at, zone); lt.HasLocal || lt.Zone != "UTC" || !lt.Local.Equal(at) || lt.Local.Location() != time.UTC {
			t.Errorf("zone %q: %+v, want UTC only", zone, lt)
		}
	}
}
