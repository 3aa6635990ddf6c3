package hl7

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads an HL7 DTM/TS value: YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ].
// A value without offset is read in loc (time.Local when nil).
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.Local
	}
	body, zone := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, zone = s[:i], s[i:]
	}
	frac := ""
	if i := strings.IndexByte(body, '.'); i >= 0 {
		body, frac = body[:i], body[i+1:]
	}
	if len(body) < 4 || len(body) > 14 || len(body)%2 != 0 || !digits(body) || (frac != "" && (len(body) != 14 || !digits(frac))) {
		return time.Time{}, fmt.Errorf("%q is not an HL7 date/time (YYYYMMDDHHMMSS[.S][+ZZZZ])", s)
	}
	part := func(a, b, def int) int {
		if len(body) < b {
			return def
		}
		n, _ := strconv.Atoi(body[a:b])
		return n
	}
	y, mo, d := part(0, 4, 0), part(4, 6, 1), part(6, 8, 1)
	h, mi, se := part(8, 10, 0), part(10, 12, 0), part(12, 14, 0)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 {
		return time.Time{}, fmt.Errorf("%q is not a valid date/time", s)
	}
	ns := 0
	if frac != "" {
		f := (frac + "000000000")[:9]
		ns, _ = strconv.Atoi(f)
	}
	if zone != "" {
		if len(zone) != 5 || !digits(zone[1:]) {
			return time.Time{}, fmt.Errorf("%q is not an HL7 date/time: bad time zone offset (want +HHMM)", s)
		}
		zh, _ := strconv.Atoi(zone[1:3])
		zm, _ := strconv.Atoi(zone[3:5])
		off := zh*3600 + zm*60
		if zone[0] == '-' {
			off = -off
		}
		loc = time.FixedZone(zone, off)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, ns, loc)
	if t.Day() != d {
		return time.Time{}, fmt.Errorf("%q is not a valid calendar date", s)
	}
	return t, nil
}

// FormatTime writes t as an HL7 DTM with seconds and offset.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("20060102150405-0700")
}

// formatDate writes a YYYY-MM-DD date as YYYYMMDD.
func formatDate(s string) string { return strings.ReplaceAll(s, "-", "") }

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
