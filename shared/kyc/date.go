package kyc

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time of day, as billing systems keep a
// service's next due date (WHMCS: Y-m-d).
type Date struct {
	t time.Time // midnight UTC; zero for "no date"
}

const dateLayout = "2006-01-02"

// NewDate returns the date y-m-d.
func NewDate(y int, m time.Month, d int) Date {
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, Invalid("invalid_date", "%q is not a date in YYYY-MM-DD form", s)
	}
	return Date{t}, nil
}

// AddDays returns the date n days later.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// DateIn returns the calendar date at t in loc (UTC when nil).
func DateIn(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return NewDate(t.Year(), t.Month(), t.Day())
}

// AddMonths returns the date n calendar months later (earlier for n < 0),
// on the same day of the month, or the month's last day when it is shorter
// (31 May less three months is 28 or 29 February).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return NewDate(first.Year(), first.Month(), min(day, last))
}

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// Time returns the start of the date, midnight UTC.
func (d Date) Time() time.Time { return d.t }

// IsZero reports whether d is the zero date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(dateLayout)
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD; the empty string is the zero date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	*d = v
	return nil
}
