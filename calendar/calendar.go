// Package calendar writes iCalendar (RFC 5545) feeds of all-day events, so
// that audit dates, reviews and certificate expiries show up in Google
// Calendar, Outlook or Thunderbird.
package calendar

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// ProductID identifies Vigil as the producer of a feed.
const ProductID = "-//Vigil//Vigil//EN"

// uidDomain makes event UIDs globally unique, as RFC 5545 asks.
const uidDomain = "@vigil"

// Event is one all-day event of a feed.
type Event struct {
	// UID is stable across feeds so that calendars update the event rather
	// than add a copy; it is written as <UID>@vigil.
	UID         string
	Summary     string
	Description string
	URL         string // http or https, "" for none
	Date        string // first day, YYYY-MM-DD
	EndDate     string // last day (inclusive), YYYY-MM-DD; "" means Date
	Categories  []string
}

// Write writes a calendar called name holding events, stamped with now.
// Text is written as RFC 5545 TEXT: invalid UTF-8 becomes U+FFFD, line
// breaks become "\n" and other control characters are dropped, since the
// format cannot carry them. Lines end with CRLF and are folded at 75
// octets.
func Write(w io.Writer, name string, events []Event, now time.Time) error {
	cal := ics.NewCalendar()
	cal.SetProductId(ProductID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(cleanText(name))
	stamp := now.UTC()
	for i, ev := range events {
		uid := cleanText(ev.UID)
		if strings.TrimSpace(uid) == "" {
			return fmt.Errorf("event %d: uid must not be empty", i)
		}
		start, err := parseDay(ev.Date)
		if err != nil {
			return fmt.Errorf("event %s: date: %w", uid, err)
		}
		last := start
		if ev.EndDate != "" {
			if last, err = parseDay(ev.EndDate); err != nil {
				return fmt.Errorf("event %s: end date: %w", uid, err)
			}
			if last.Before(start) {
				return fmt.Errorf("event %s: end date %s is before date %s", uid, ev.EndDate, ev.Date)
			}
		}
		e := cal.AddEvent(uid + uidDomain)
		e.SetDtStampTime(stamp)
		e.SetAllDayStartAt(start)
		// DTEND of an all-day event is the day after the last one.
		e.SetAllDayEndAt(last.AddDate(0, 0, 1))
		e.SetSummary(cleanText(ev.Summary))
		if d := cleanText(ev.Description); d != "" {
			e.SetDescription(d)
		}
		if ev.URL != "" {
			if err := checkURL(ev.URL); err != nil {
				return fmt.Errorf("event %s: url: %w", uid, err)
			}
			e.SetURL(ev.URL)
		}
		for _, c := range ev.Categories {
			if c = cleanText(c); c != "" {
				e.AddCategory(c)
			}
		}
	}
	if err := cal.SerializeTo(w, ics.WithNewLineWindows); err != nil {
		return fmt.Errorf("write calendar: %w", err)
	}
	return nil
}

// cleanText returns s as it can be carried in an iCalendar TEXT value and so as
// a reader of the feed will see it: valid UTF-8, CRLF and CR turned into
// LF, and no control characters other than tab and LF.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// parseDay parses a YYYY-MM-DD date strictly.
func parseDay(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return time.Time{}, fmt.Errorf("%q is not a date such as 2026-01-31", s)
	}
	return t, nil
}

// checkURL accepts an absolute http or https URL with nothing that would
// break the content line it is written on (URIs are not escaped).
func checkURL(s string) error {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Errorf("must be ASCII without spaces or control characters (percent-encode the rest)")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http or https URL")
	}
	return nil
}
