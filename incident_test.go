package vigil

import (
	"strings"
	"testing"
	"time"
)

func TestIncidentStatusMoves(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to IncidentStatus
		lessons  string
		field    string // "" = allowed
	}{
		{IncidentReported, IncidentTriaged, "", ""},
		{IncidentReported, IncidentRecovered, "", ""},
		{IncidentContained, IncidentContained, "", ""},
		{IncidentContained, IncidentTriaged, "", "status"},
		{IncidentRecovered, IncidentReported, "", "status"},
		{IncidentRecovered, IncidentClosed, "", "lessons_learned"},
		{IncidentRecovered, IncidentClosed, "  ", "lessons_learned"},
		{IncidentReported, IncidentClosed, "Patch faster.", ""},
		{IncidentClosed, IncidentTriaged, "", ""},
		{IncidentClosed, IncidentContained, "", "status"},
		{IncidentClosed, IncidentReported, "", "status"},
		{IncidentReported, "done", "", "status"},
	} {
		err := CheckIncidentStatus(tc.from, tc.to, tc.lessons)
		got := ""
		if err != nil {
			got = err.(*Error).Fields[0].Field
		}
		if got != tc.field {
			t.Errorf("%s → %s (lessons %q) = %v; want field %q", tc.from, tc.to, tc.lessons, err, tc.field)
		}
	}
	if n := IncidentClosed.Next(); len(n) != 1 || n[0] != IncidentTriaged {
		t.Errorf("closed.Next() = %v", n)
	}
	if n := IncidentReported.Next(); len(n) != 5 {
		t.Errorf("reported.Next() = %v", n)
	}
}

func TestIncidentInputNormalize(t *testing.T) {
	t.Parallel()
	ok := IncidentInput{Title: "  Phish  ", Severity: "HIGH", Sessions: []string{" s1 ", "s1", ""}}
	in, err := ok.Normalize()
	if err != nil || in.Title != "Phish" || in.Severity != SeverityHigh || in.Category != IncidentOther || len(in.Sessions) != 1 {
		t.Fatalf("normalize = %+v, %v", in, err)
	}
	if in, err := (IncidentInput{FromAlerts: []string{"ALR-1"}}).Normalize(); err != nil || in.Severity != "" {
		t.Fatalf("from alerts without title or severity = %+v, %v", in, err)
	}
	for _, tc := range []struct {
		in    IncidentInput
		field string
	}{
		{IncidentInput{Severity: "low"}, "title"},
		{IncidentInput{Title: "x"}, "severity"},
		{IncidentInput{Title: "x", Severity: "urgent"}, "severity"},
		{IncidentInput{Title: "x", Severity: "low", Category: "aliens"}, "category"},
		{IncidentInput{Title: strings.Repeat("x", 201), Severity: "low"}, "title"},
		{IncidentInput{Title: "x\x00", Severity: "low"}, "title"},
		{IncidentInput{Title: "x", Severity: "low", Hosts: []string{"ok", "bad\x00"}}, "hosts[1]"},
		{IncidentInput{Title: "x", Severity: "low", Description: "\xff"}, "description"},
	} {
		_, err := tc.in.Normalize()
		if err == nil || err.(*Error).Fields[0].Field != tc.field {
			t.Errorf("%+v: %v; want field %s", tc.in, err, tc.field)
		}
	}
}

func TestIncidentBreachDeadline(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	i := Incident{PersonalDataBreach: true, BreachDetectedAt: &at}
	if d := i.Deadline(); d == nil || !d.Equal(at.Add(72*time.Hour)) {
		t.Fatalf("deadline = %v", d)
	}
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{at, 72}, {at.Add(71*time.Hour + 30*time.Minute), 0}, {at.Add(72 * time.Hour), 0}, {at.Add(72*time.Hour + time.Minute), -1}, {at.Add(100 * time.Hour), -28},
	} {
		if h, ok := i.HoursLeft(tc.now); !ok || h != tc.want {
			t.Errorf("at +%v: %d, %v; want %d", tc.now.Sub(at), h, ok, tc.want)
		}
	}
	i.PersonalDataBreach = false
	if i.Deadline() != nil {
		t.Error("deadline without a breach")
	}
	if IncidentSuggestions(SeverityMedium) != nil || len(IncidentSuggestions(SeverityCritical)) != 2 {
		t.Error("suggestions by severity")
	}
}

func TestTimelineInput(t *testing.T) {
	t.Parallel()
	if _, at, err := (TimelineInput{What: " Called the bank ", At: "2026-01-02T03:04:05+01:00"}).Normalize(); err != nil || !at.Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) {
		t.Fatalf("at = %v, %v", at, err)
	}
	for _, in := range []TimelineInput{{What: " "}, {What: "x", At: "2026-01-02"}} {
		if _, _, err := in.Normalize(); err == nil {
			t.Errorf("%+v accepted", in)
		}
	}
}

func FuzzIncidentInputNormalize(f *testing.F) {
	f.Add("Phish", "high", "malware", "s1")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, title, sev, cat, link string) {
		in, err := (IncidentInput{Title: title, Severity: Severity(sev), Category: IncidentCategory(cat), Sessions: []string{link}}).Normalize()
		if err == nil && (in.Title == "" || in.Severity.Rank() == 0) {
			t.Fatalf("accepted %+v", in)
		}
	})
}
