package export

import (
	"bytes"
	"crypto/sha256"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

func sampleIncident() vigil.IncidentReport {
	at := time.Date(2027, 2, 3, 9, 15, 0, 0, time.UTC)
	closed := at.Add(50 * time.Hour)
	notified := at.Add(20 * time.Hour)
	inc := vigil.Incident{
		ID: "i1", Ref: "INC-4", Title: "Customer list emailed to the wrong address", Description: "A sales export went to an external address.",
		Category: vigil.IncidentDataLeak, Severity: vigil.SeverityHigh, Status: vigil.IncidentClosed,
		Alerts: []string{"a1"}, Sessions: []string{"sess-9"}, Hosts: []string{"h1"}, Assets: []string{"as1"}, Risks: []string{"r1"},
		LessonsLearned: "Turn on recipient checks for exports. Zoë Łukasz trains the sales team.", PersonalDataBreach: true,
		BreachDetectedAt: &at, AuthorityNotifiedAt: &notified, Owner: "u1", ReportedBy: "u2",
		CreatedAt: at, UpdatedAt: closed, ClosedAt: &closed,
	}
	inc.NotificationDeadline = inc.Deadline()
	for i := range 40 {
		inc.Timeline = append(inc.Timeline, vigil.TimelineEntry{ID: "e", At: at.Add(time.Duration(i) * time.Hour), Who: "u1", WhoName: "Ada Admin",
			What: "Step " + strings.Repeat("of the response ", i%5)})
	}
	inc.Timeline[3].What = "Asked the recipient to delete the file"
	return vigil.IncidentReport{OrgName: "Acme Ltd", Incident: inc, AsOf: closed,
		Names: map[string]string{"a1": "ALR-7", "h1": "web1", "as1": "AST-2 CRM", "r1": "RSK-3 Data leak", "u1": "Ada Admin", "u2": "Bob Sales"}}
}

func TestIncidentReportPDF(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := IncidentReportPDF(&buf, sampleIncident()); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{
		"Acme Ltd", "Incident report", "INC-4 Customer list emailed to the wrong address", "Data leak", "high", "closed",
		"Ada Admin", "Bob Sales", "ALR-7", "sess-9", "web1", "AST-2 CRM", "RSK-3 Data leak", "legal hold",
		"A sales export went to an external address.", "Personal data breach", "2027-02-06 09:15 UTC", "2027-02-04 05:15 UTC",
		"Asked the recipient to delete the file", "Turn on recipient checks for exports. Zoë .ukasz", "Page 1 of",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

func TestIncidentReportPDFDeterministic(t *testing.T) {
	t.Parallel()
	render := func() [32]byte {
		var buf bytes.Buffer
		if err := IncidentReportPDF(&buf, sampleIncident()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte("/CreationDate (D:20270205111500)")) {
			t.Fatal("the document date must be the incident's last change")
		}
		return sha256.Sum256(buf.Bytes())
	}
	if first, second := render(), render(); first != second {
		t.Fatal("two renders of the same incident differ")
	}
}

func TestIncidentReportPDFEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := vigil.IncidentReport{OrgName: "Empty Org", Incident: vigil.Incident{Ref: "INC-1", Title: "Draft", Category: "unknown", Severity: vigil.SeverityLow, Status: vigil.IncidentReported}}
	if err := IncidentReportPDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"No description was given.", "The timeline is empty.", "No lessons learned recorded yet.", "unknown"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "Personal data breach") {
		t.Error("a breach section for an incident that is none")
	}
}

func BenchmarkIncidentReportPDF(b *testing.B) {
	r := sampleIncident()
	for b.Loop() {
		if err := IncidentReportPDF(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
