package calendar

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

var stamp = time.Date(2026, 11, 28, 9, 30, 0, 0, time.FixedZone("CET", 3600))

// parse reads a feed back with the library's own parser.
func parse(t testing.TB, b []byte) *ics.Calendar {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse feed: %v\n%s", err, b)
	}
	return cal
}

// prop returns the value of the first property p of e and its VALUE
// parameter.
func prop(e *ics.VEvent, p ics.ComponentProperty) (value, valueType string) {
	ip := e.GetProperty(p)
	if ip == nil {
		return "", ""
	}
	if v := ip.ICalParameters["VALUE"]; len(v) == 1 {
		valueType = v[0]
	}
	return ip.Value, valueType
}

func calProp(cal *ics.Calendar, name ics.Property) string {
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(name) {
			return p.Value
		}
	}
	return ""
}

func TestWriteRoundTrip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Surveillance audit of the ISMS, Zoë Łukasz 日本語 ", 8)
	events := []Event{
		{
			UID: "aud-1", Summary: "AUD-1: stage 2; scope, people\\tools", Description: "Line one\nLine two, with; punctuation\r\nLine three\\n literal",
			URL: "https://vigil.example/audits/aud-1?tab=plan&x=1", Date: "2027-01-15", EndDate: "2027-01-17", Categories: []string{"audit", "stage2, external"},
		},
		{UID: "cert-exp", Summary: long, Description: long, Date: "2028-02-29"},
		{UID: "rev,1;x", Summary: "", Date: "2026-12-31", EndDate: "2026-12-31"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, "Vigil — Acme, Ltd", events, stamp); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()

	// Every line ends with CRLF and is at most 75 octets, folded lines
	// continue with a space, and the feed is valid UTF-8.
	if !bytes.HasSuffix(raw, []byte("END:VCALENDAR\r\n")) || !utf8.Valid(raw) {
		t.Fatalf("feed does not end with CRLF or is not UTF-8:\n%q", raw)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n")
	folded := 0
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("bare CR or LF in line %q", l)
		}
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
		if strings.HasPrefix(l, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Errorf("no folded line in\n%s", raw)
	}
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "\r\nDTSTART;VALUE=DATE:20270115\r\n", "\r\nDTEND;VALUE=DATE:20270118\r\n", "\r\nDTSTAMP:20261128T083000Z\r\n"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("feed lacks %q", want)
		}
	}

	cal := parse(t, raw)
	for p, want := range map[ics.Property]string{
		ics.PropertyProductId: "-//Vigil//Vigil//EN", ics.PropertyVersion: "2.0", ics.PropertyCalscale: "GREGORIAN",
		ics.PropertyMethod: "PUBLISH", ics.PropertyXWRCalName: "Vigil — Acme, Ltd",
	} {
		if got := calProp(cal, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	got := cal.Events()
	if len(got) != len(events) {
		t.Fatalf("%d events, want %d", len(got), len(events))
	}
	for _, tc := range []struct {
		i                       int
		uid, summary, desc, url string
		start, end              string
		categories              []string
	}{
		{0, "aud-1@vigil", events[0].Summary, "Line one\nLine two, with; punctuation\nLine three\\n literal", events[0].URL, "20270115", "20270118", []string{"audit", "stage2, external"}},
		{1, "cert-exp@vigil", long, long, "", "20280229", "20280301", nil},
		{2, "rev,1;x@vigil", "", "", "", "20261231", "20270101", nil},
	} {
		e := got[tc.i]
		if v, _ := prop(e, ics.ComponentPropertyUniqueId); v != tc.uid {
			t.Errorf("event %d: UID = %q, want %q", tc.i, v, tc.uid)
		}
		if v, _ := prop(e, ics.ComponentPropertySummary); v != tc.summary {
			t.Errorf("event %d: SUMMARY = %q, want %q", tc.i, v, tc.summary)
		}
		if v, _ := prop(e, ics.ComponentPropertyDescription); v != tc.desc {
			t.Errorf("event %d: DESCRIPTION = %q, want %q", tc.i, v, tc.desc)
		}
		if v, _ := prop(e, ics.ComponentPropertyUrl); v != tc.url {
			t.Errorf("event %d: URL = %q, want %q", tc.i, v, tc.url)
		}
		if v, _ := prop(e, ics.ComponentPropertyDtstamp); v != "20261128T083000Z" {
			t.Errorf("event %d: DTSTAMP = %q", tc.i, v)
		}
		if v, typ := prop(e, ics.ComponentPropertyDtStart); v != tc.start || typ != "DATE" {
			t.Errorf("event %d: DTSTART = %q (%s), want %q (DATE)", tc.i, v, typ, tc.start)
		}
		if v, typ := prop(e, ics.ComponentPropertyDtEnd); v != tc.end || typ != "DATE" {
			t.Errorf("event %d: DTEND = %q (%s), want %q (DATE, exclusive)", tc.i, v, typ, tc.end)
		}
		var cats []string
		for _, p := range e.GetProperties(ics.ComponentPropertyCategories) {
			cats = append(cats, p.Value)
		}
		if !slices.Equal(cats, tc.categories) {
			t.Errorf("event %d: CATEGORIES = %q, want %q", tc.i, cats, tc.categories)
		}
	}
}

func TestWriteEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, "Empty", nil, stamp); err != nil {
		t.Fatal(err)
	}
	cal := parse(t, buf.Bytes())
	if n := len(cal.Events()); n != 0 || calProp(cal, ics.PropertyXWRCalName) != "Empty" {
		t.Fatalf("%d events, name %q", n, calProp(cal, ics.PropertyXWRCalName))
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"no uid", Event{Date: "2027-01-15"}, "event 0: uid"},
		{"no date", Event{UID: "a1"}, "event a1: date"},
		{"bad date", Event{UID: "a1", Date: "2027-02-30"}, "event a1: date"},
		{"bad end date", Event{UID: "a1", Date: "2027-02-01", EndDate: "20270203"}, "event a1: end date"},
		{"end before start", Event{UID: "a1", Date: "2027-02-01", EndDate: "2027-01-31"}, "event a1: end date"},
		{"relative url", Event{UID: "a1", Date: "2027-02-01", URL: "/audits/a1"}, "event a1: url"},
		{"javascript url", Event{UID: "a1", Date: "2027-02-01", URL: "javascript:alert(1)"}, "event a1: url"},
		{"url with newline", Event{UID: "a1", Date: "2027-02-01", URL: "https://x.example/\r\nX-EVIL:1"}, "event a1: url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Write(&bytes.Buffer{}, "c", []Event{tc.ev}, stamp)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one starting %q", err, tc.want)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a\r\nb\rc\nd":       "a\nb\nc\nd",
		"tab\there":          "tab\there",
		"nul\x00\x1b[0m\x7f": "nul[0m",
		"bad \xff utf8":      "bad \uFFFD utf8",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzWrite(f *testing.F) {
	f.Add("AUD-1: stage 2", "Line one\nLine two, with; punctuation", "audit")
	f.Fuzz(func(t *testing.T, summary, description, category string) {
		ev := Event{UID: "fuzz", Summary: summary, Description: description, Date: "2027-01-15", Categories: []string{category}}
		var buf bytes.Buffer
		if err := Write(&buf, summary, []Event{ev}, stamp); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n") {
			if len(l) > 75 || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %q", l)
			}
		}
		cal := parse(t, buf.Bytes())
		if got := calProp(cal, ics.PropertyXWRCalName); got != cleanText(summary) {
			t.Fatalf("X-WR-CALNAME = %q, want %q", got, cleanText(summary))
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		if got, _ := prop(evs[0], ics.ComponentPropertySummary); got != cleanText(summary) {
			t.Fatalf("SUMMARY = %q, want %q", got, cleanText(summary))
		}
		if got, _ := prop(evs[0], ics.ComponentPropertyDescription); got != cleanText(description) {
			t.Fatalf("DESCRIPTION = %q, want %q", got, cleanText(description))
		}
		var cats []string
		for _, p := range evs[0].GetProperties(ics.ComponentPropertyCategories) {
			cats = append(cats, p.Value)
		}
		if c := cleanText(category); (c == "" && len(cats) != 0) || (c != "" && !slices.Equal(cats, []string{c})) {
			t.Fatalf("CATEGORIES = %q, want %q", cats, c)
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	events := make([]Event, 500)
	for i := range events {
		events[i] = Event{UID: "e" + strings.Repeat("x", i%10), Summary: "Surveillance audit, Zoë", Description: strings.Repeat("Review; check, ", 20), Date: "2027-01-15", EndDate: "2027-01-16", Categories: []string{"audit"}}
	}
	for b.Loop() {
		if err := Write(io.Discard, "Vigil", events, stamp); err != nil {
			b.Fatal(err)
		}
	}
}
