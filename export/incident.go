package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// incidentCategoryNames names the categories of incident in a report.
var incidentCategoryNames = map[vigil.IncidentCategory]string{
	vigil.IncidentMalware:            "Malware",
	vigil.IncidentUnauthorisedAccess: "Unauthorised access",
	vigil.IncidentDataLeak:           "Data leak",
	vigil.IncidentInsider:            "Insider",
	vigil.IncidentPhishing:           "Phishing",
	vigil.IncidentDenialOfService:    "Denial of service",
	vigil.IncidentLostDevice:         "Lost or stolen device",
	vigil.IncidentMisconfiguration:   "Misconfiguration",
	vigil.IncidentOther:              "Other",
}

// pdfTime formats a time for a report.
func pdfTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// IncidentReportPDF writes an incident report as PDF: the incident, its
// links, the personal data breach clock, the timeline and the lessons
// learned. The output depends only on r (the document dates are r.AsOf),
// so the same data always gives the same file. The built-in fonts cover
// Western European text (cp1252); other characters print as '.'.
func IncidentReportPDF(w io.Writer, r vigil.IncidentReport) error {
	inc := r.Incident
	asOf := r.AsOf.UTC()
	if r.AsOf.IsZero() {
		asOf = time.Unix(0, 0).UTC()
	}
	title := strings.TrimSpace(inc.Ref + " " + inc.Title)
	d := newReportPDF(r.AsOf, "Incident report", title, r.OrgName, "As of "+pdfTime(asOf)+" · "+inc.Ref)
	pdf := d.pdf
	pdf.AddPage()

	pdf.SetFont("Helvetica", "", 11)
	d.paragraph(r.OrgName, reportLine)
	pdf.SetFont("Helvetica", "B", 18)
	d.paragraph("Incident report", 9)
	pdf.SetFont("Helvetica", "B", 13)
	d.paragraph(title, 7)
	pdf.Ln(3)

	names := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = r.Name(id)
		}
		return strings.Join(out, "\n")
	}
	closed := "open"
	if inc.ClosedAt != nil {
		closed = pdfTime(*inc.ClosedAt)
	}
	reporter := "Vigil"
	if inc.ReportedBy != "" {
		reporter = r.Name(inc.ReportedBy)
	}
	owner := "nobody"
	if inc.Owner != "" {
		owner = r.Name(inc.Owner)
	}
	fields := [][2]string{
		{"Category", nameOr(incidentCategoryNames, inc.Category)},
		{"Severity", string(inc.Severity)},
		{"Status", string(inc.Status)},
		{"Owner", owner},
		{"Reported", pdfTime(inc.CreatedAt) + " by " + reporter},
		{"Closed", closed},
		{"Alerts", names(inc.Alerts)},
		{"Sessions", names(inc.Sessions)},
		{"Hosts", names(inc.Hosts)},
		{"Assets", names(inc.Assets)},
		{"Risks", names(inc.Risks)},
	}
	for _, f := range fields {
		if f[1] != "" {
			d.field(f[0], f[1])
		}
	}
	if len(inc.Sessions) > 0 {
		pdf.SetFont("Helvetica", "I", 9)
		d.paragraph("Linked session recordings are under legal hold and kept until the hold is released.", reportLine)
	}

	d.heading("Description")
	pdf.SetFont("Helvetica", "", 10)
	desc := inc.Description
	if strings.TrimSpace(desc) == "" {
		desc = "No description was given."
	}
	d.paragraph(desc, reportLine)

	if inc.PersonalDataBreach || inc.BreachDetectedAt != nil {
		d.heading("Personal data breach")
		pdf.SetFont("Helvetica", "", 10)
		switch {
		case !inc.PersonalDataBreach:
			d.paragraph("The incident was marked a personal data breach at "+pdfTime(*inc.BreachDetectedAt)+" and is no longer marked one.", reportLine)
		default:
			if inc.BreachDetectedAt != nil {
				d.field("Detected", pdfTime(*inc.BreachDetectedAt))
			}
			if dl := inc.Deadline(); dl != nil {
				d.field("Notify by", pdfTime(*dl)+" (72 hours after detection)")
			}
			notified := "not yet notified"
			if inc.AuthorityNotifiedAt != nil {
				notified = pdfTime(*inc.AuthorityNotifiedAt)
				if dl := inc.Deadline(); dl != nil && inc.AuthorityNotifiedAt.After(*dl) {
					notified += " (after the deadline)"
				}
			}
			d.field("Authority notified", notified)
		}
	}

	d.heading("Timeline")
	if len(inc.Timeline) == 0 {
		d.note("The timeline is empty.")
	} else {
		rows := make([][]string, len(inc.Timeline))
		for i, e := range inc.Timeline {
			who := e.WhoName
			if who == "" {
				who = r.Name(e.Who)
			}
			rows[i] = []string{pdfTime(e.At), who, e.What}
		}
		d.table([]string{"When", "Who", "What"}, []float64{2.2, 2.2, 7}, rows)
	}

	d.heading("Lessons learned")
	if strings.TrimSpace(inc.LessonsLearned) == "" {
		d.note("No lessons learned recorded yet.")
	} else {
		pdf.SetFont("Helvetica", "", 10)
		d.paragraph(inc.LessonsLearned, reportLine)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write incident report pdf: %w", err)
	}
	return nil
}
