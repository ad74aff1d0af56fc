package kyc

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the zone database, so time zones load on a runtime without one (Lambda's provided.al2023 has none)
)

// Regions are the jurisdictions where the provider runs servers (an order's
// serverRegion, and the jurisdiction of a disclosure, P10), each with the
// time zone customer-facing times of its services are shown in, UTC beside
// them. An order for a region not listed is refused.
type Regions map[string]*time.Location

// ParseRegions reads "hk=Asia/Hong_Kong,tw=Asia/Taipei": region ids (as
// billing sends serverRegion) and IANA time zone names.
func ParseRegions(list string) (Regions, error) {
	rs := Regions{}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, zone, ok := strings.Cut(part, "=")
		id, zone = strings.TrimSpace(id), strings.TrimSpace(zone)
		switch {
		case !ok || id == "" || zone == "":
			return nil, fmt.Errorf("regions: %q is not region=Time/Zone", part)
		case len(id) > 64 || strings.ContainsAny(id, " \t"):
			return nil, fmt.Errorf("regions: %q is not a region id", id)
		case rs[id] != nil:
			return nil, fmt.Errorf("regions: %s is listed twice", id)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "Local" {
			return nil, fmt.Errorf("regions: %s: %q is not an IANA time zone", id, zone)
		}
		rs[id] = loc
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("regions: at least one region=Time/Zone is required")
	}
	return rs, nil
}

// IDs returns the region ids, sorted.
func (rs Regions) IDs() []string {
	out := make([]string, 0, len(rs))
	for id := range rs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// String writes the regions as ParseRegions reads them, sorted.
func (rs Regions) String() string {
	var parts []string
	for _, id := range rs.IDs() {
		parts = append(parts, id+"="+rs[id].String())
	}
	return strings.Join(parts, ",")
}

// LocalTime is a time as customers are shown it: in a service region's time
// zone, with UTC beside it. An unknown or empty zone shows UTC only.
type LocalTime struct {
	Local    time.Time // in Zone
	UTC      time.Time
	Zone     string // IANA name, "UTC" when none is known
	HasLocal bool   // Zone is a real zone other than UTC
}

// InZone returns t as shown to a customer of a service in zone (an IANA name).
func InZone(t time.Time, zone string) LocalTime {
	lt := LocalTime{Local: t.UTC(), UTC: t.UTC(), Zone: "UTC"}
	if zone == "" || zone == "UTC" {
		return lt
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return lt
	}
	lt.Local, lt.Zone, lt.HasLocal = t.In(loc), zone, true
	return lt
}
