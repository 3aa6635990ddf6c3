package pull

import (
	"fmt"
	"strings"
	"time"
)

// Layouts of dates and times as cloud EHRs write them (SQL Server's
// datetime serialised by .NET, ISO 8601 with or without zone, with or
// without fractions).
var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseTime reads a date and time; one without a zone is in loc. A value
// that is no real date (2026-02-30) is an error naming it.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return time.Time{}, fmt.Errorf("empty date")
	}
	for _, l := range dateTimeLayouts {
		var t time.Time
		var err error
		if l == time.RFC3339Nano {
			t, err = time.Parse(l, v)
		} else {
			t, err = time.ParseInLocation(l, v, loc)
		}
		if err == nil {
			if t.Year() <= 1 {
				// 0001-01-01: a "no date" placeholder, not an appointment.
				return time.Time{}, fmt.Errorf("%q stands for no date", s)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time", s)
}

// ParseDate reads a calendar date (a birth date) written alone or as the
// date part of a date and time, and returns it as YYYY-MM-DD. The time
// part, if any, is ignored: SQL Server writes dates as midnight.
func ParseDate(s string) (string, error) {
	v := strings.TrimSpace(s)
	if len(v) >= 10 {
		d := v[:10]
		if _, err := time.Parse("2006-01-02", d); err == nil && (len(v) == 10 || v[10] == 'T' || v[10] == ' ') {
			return d, nil
		}
	}
	if t, err := time.Parse("20060102", v); err == nil {
		return t.Format("2006-01-02"), nil
	}
	return "", fmt.Errorf("%q is not a date", s)
}
