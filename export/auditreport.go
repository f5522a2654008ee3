package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/vigilhq/vigil"
)

// findingKindNames names the kinds of finding in a report.
var findingKindNames = map[vigil.FindingKind]string{
	vigil.FindingMajorNC:     "Major nonconformity",
	vigil.FindingMinorNC:     "Minor nonconformity",
	vigil.FindingObservation: "Observation",
	vigil.FindingOFI:         "Opportunity for improvement",
}

// checklistResultNames names the results of a checklist item.
var checklistResultNames = map[vigil.ChecklistResult]string{
	vigil.ResultPending:     "Not assessed",
	vigil.ResultConform:     "Conform",
	vigil.ResultMajorNC:     "Major NC",
	vigil.ResultMinorNC:     "Minor NC",
	vigil.ResultObservation: "Observation",
	vigil.ResultOFI:         "OFI",
	vigil.ResultNotAudited:  "Not audited",
}

// nameOr returns names[k], or k itself for a value the map does not know.
func nameOr[K ~string](names map[K]string, k K) string {
	if n, ok := names[k]; ok {
		return n
	}
	return string(k)
}

// Layout of the audit report, in mm and points.
const (
	reportLine   = 5.0  // body line height
	reportCell   = 4.0  // table line height
	reportBottom = 16.0 // room for the footer
	reportLabel  = 42.0 // width of the label column of the header block
)

// reportPDF draws an audit report on a portrait A4 page, breaking pages by
// hand so that tables repeat their header and long cells flow onto the
// next page.
type reportPDF struct {
	pdf         *fpdf.Fpdf
	tr          func(string) string
	left, width float64
	limit       float64 // lowest y a line may end at
}

// newReportPDF starts an A4 report whose metadata and dates come from its
// arguments only, so the same record always renders to the same bytes: at
// is the document date (the Unix epoch when zero, since fpdf would use the
// clock), kind and title name it, footer is printed on every page with
// the page number.
func newReportPDF(at time.Time, kind, title, author, footer string) *reportPDF {
	pdf := fpdf.New("P", "mm", "A4", "")
	at = at.UTC()
	if at.IsZero() {
		at = time.Unix(0, 0).UTC()
	}
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(kind+" "+title, true)
	pdf.SetSubject(kind, true)
	pdf.SetAuthor(author, true)
	pdf.SetCreator("Vigil", true)
	pdf.SetAutoPageBreak(false, reportBottom)
	pdf.AliasNbPages("")
	d := &reportPDF{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor("")}
	pageW, pageH := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	d.left, d.width, d.limit = left, pageW-left-right, pageH-reportBottom
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(80, 80, 80)
		pdf.CellFormat(d.width*0.75, 5, d.fit(footer, d.width*0.75), "T", 0, "L", false, 0, "")
		pdf.CellFormat(d.width*0.25, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "T", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	return d
}

// AuditReportPDF writes an issued audit report (9.2.f) as PDF: the audit,
// its team and impartiality, the summary, the findings, the checklist and
// the open corrective actions. The output depends only on r (the document
// dates are r.IssuedAt), so a re-render has the same SHA-256 as the issued
// file. The built-in fonts cover Western European text (cp1252); other
// characters print as '.'.
func AuditReportPDF(w io.Writer, r vigil.AuditReport) error {
	a := r.Audit
	issued := r.IssuedAt.UTC()
	title := strings.TrimSpace(a.Ref + " " + a.Title)
	footer := "Draft, not issued · " + a.Ref
	if !r.IssuedAt.IsZero() {
		footer = "Issued " + issued.Format(time.DateOnly) + " by " + r.IssuedBy + " · " + a.Ref
	}
	d := newReportPDF(r.IssuedAt, "Audit report", title, r.OrgName, footer)
	pdf := d.pdf
	pdf.AddPage()

	// Title block.
	pdf.SetFont("Helvetica", "", 11)
	d.paragraph(r.OrgName, reportLine)
	pdf.SetFont("Helvetica", "B", 18)
	d.paragraph("Audit report", 9)
	pdf.SetFont("Helvetica", "B", 13)
	d.paragraph(title, 7)
	pdf.Ln(3)

	planned := dateRange(a.PlannedStart, a.PlannedEnd)
	actual := dateRange(a.ActualStart, a.ActualEnd)
	if actual == "" {
		actual = "not recorded"
	}
	fields := [][2]string{
		{"Type", auditTypeName(a.Type)},
		{"Planned", planned},
		{"Carried out", actual},
		{"Criteria", a.Criteria},
		{"Requirements", strings.Join(a.Scope.Requirements, ", ")},
		{"Assets", strings.Join(a.Scope.Assets, ", ")},
		{"Processes", strings.Join(a.Scope.Processes, ", ")},
		{"Audit team", strings.Join(r.Team, "\n")},
	}
	if a.CertificationBody != "" {
		fields = append(fields, [2]string{"Certification body", a.CertificationBody})
		if len(a.BodyAuditors) > 0 {
			fields = append(fields, [2]string{"Body's auditors", strings.Join(a.BodyAuditors, "\n")})
		}
	}
	if !r.IssuedAt.IsZero() {
		fields = append(fields, [2]string{"Issued", issued.Format(time.DateOnly) + " by " + r.IssuedBy})
	}
	for _, f := range fields {
		if f[1] != "" {
			d.field(f[0], f[1])
		}
	}

	d.heading("Impartiality")
	pdf.SetFont("Helvetica", "", 10)
	d.paragraph(r.ImpartialityStatement, reportLine)
	if a.ImpartialityOverride != "" {
		pdf.Ln(1)
		pdf.SetTextColor(160, 0, 0)
		pdf.SetFont("Helvetica", "B", 10)
		d.paragraph("Impartiality override: an auditor owns items within the scope of this audit.", reportLine)
		pdf.SetFont("Helvetica", "", 10)
		d.paragraph("Reason given by the administrator: "+a.ImpartialityOverride, reportLine)
		pdf.SetTextColor(0, 0, 0)
	}

	d.heading("Summary")
	pdf.SetFont("Helvetica", "", 10)
	summary := r.Summary
	if strings.TrimSpace(summary) == "" {
		summary = "No summary was given."
	}
	d.paragraph(summary, reportLine)

	d.heading("Findings by kind")
	counts := r.FindingsByKind()
	var byKind [][]string
	total := 0
	for _, k := range vigil.FindingKinds {
		byKind = append(byKind, []string{findingKindNames[k], strconv.Itoa(counts[k])})
		total += counts[k]
	}
	byKind = append(byKind, []string{"Total (withdrawn findings excluded)", strconv.Itoa(total)})
	d.table([]string{"Kind", "Count"}, []float64{4, 1}, byKind)

	d.heading("Findings")
	if len(r.Findings) == 0 {
		d.note("No findings.")
	} else {
		rows := make([][]string, len(r.Findings))
		for i, f := range r.Findings {
			rows[i] = []string{f.Ref, nameOr(findingKindNames, f.Kind), f.Requirement, f.Description, string(f.Status), f.Deadline}
		}
		d.table([]string{"Ref", "Kind", "Requirement", "Description", "Status", "Deadline"}, []float64{1.3, 2.2, 1.6, 6, 1.4, 1.8}, rows)
	}

	d.heading("Checklist")
	if len(r.Checklist) == 0 {
		d.note("The checklist is empty.")
	} else {
		rows := make([][]string, len(r.Checklist))
		for i, c := range r.Checklist {
			rows[i] = []string{c.Ref, c.Title, nameOr(checklistResultNames, c.Result), c.Notes}
		}
		d.table([]string{"Ref", "Title", "Result", "Notes"}, []float64{1.2, 4, 1.6, 5.5}, rows)
	}

	d.heading("Open corrective actions")
	if len(r.OpenActions) == 0 {
		d.note("No open corrective actions.")
	} else {
		rows := make([][]string, len(r.OpenActions))
		for i, c := range r.OpenActions {
			rows[i] = []string{c.Ref, c.FindingRef, c.Owner, c.DueDate, strings.ReplaceAll(string(c.Status), "_", " ")}
		}
		d.table([]string{"Ref", "Finding", "Owner", "Due date", "Status"}, []float64{1.2, 1.2, 4, 1.6, 1.6}, rows)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write audit report pdf: %w", err)
	}
	return nil
}

// auditTypeName says an audit type in words.
func auditTypeName(t vigil.AuditType) string {
	switch t {
	case vigil.AuditInternal:
		return "Internal audit (clause 9.2)"
	case vigil.AuditStage1:
		return "Certification audit, stage 1"
	case vigil.AuditStage2:
		return "Certification audit, stage 2"
	case vigil.AuditSurveillance:
		return "Surveillance audit"
	case vigil.AuditRecertification:
		return "Recertification audit"
	case vigil.AuditSpecial:
		return "Special audit"
	}
	return string(t)
}

// dateRange writes "start to end", or one date when there is only one.
func dateRange(start, end string) string {
	switch {
	case start == "":
		return end
	case end == "" || end == start:
		return start
	}
	return start + " to " + end
}

// ensure starts a new page unless h mm still fit on this one, and reports
// whether it did.
func (d *reportPDF) ensure(h float64) bool {
	if d.pdf.GetY()+h <= d.limit {
		return false
	}
	d.pdf.AddPage()
	return true
}

// fit cuts s (translated) to one line of width w at the current font.
func (d *reportPDF) fit(s string, w float64) string {
	lines := wrapText(d.pdf, d.tr(strings.ReplaceAll(s, "\n", " ")), w)
	if len(lines) > 1 {
		return lines[0] + "..."
	}
	return lines[0]
}

// paragraph writes wrapped text at the current font, breaking pages
// between lines.
func (d *reportPDF) paragraph(s string, lh float64) {
	for _, l := range wrapText(d.pdf, d.tr(s), d.width) {
		d.ensure(lh)
		d.pdf.SetX(d.left)
		d.pdf.CellFormat(d.width, lh, l, "", 2, "L", false, 0, "")
	}
}

// heading starts a section, on a new page if fewer than a few lines of it
// would fit on this one.
func (d *reportPDF) heading(s string) {
	d.pdf.Ln(4)
	d.ensure(7 + 3*reportLine)
	d.pdf.SetFont("Helvetica", "B", 12)
	d.pdf.SetX(d.left)
	d.pdf.CellFormat(d.width, 7, d.tr(s), "B", 2, "L", false, 0, "")
	d.pdf.Ln(2)
}

// note writes a line of italic text, for an empty section.
func (d *reportPDF) note(s string) {
	d.pdf.SetFont("Helvetica", "I", 10)
	d.paragraph(s, reportLine)
}

// field writes a label and its wrapped value in the header block.
func (d *reportPDF) field(label, value string) {
	d.pdf.SetFont("Helvetica", "", 10)
	lines := wrapText(d.pdf, d.tr(value), d.width-reportLabel)
	for i, l := range lines {
		d.ensure(reportLine)
		d.pdf.SetX(d.left)
		if i == 0 {
			d.pdf.SetFont("Helvetica", "B", 10)
			d.pdf.CellFormat(reportLabel, reportLine, d.tr(label), "", 0, "L", false, 0, "")
			d.pdf.SetFont("Helvetica", "", 10)
		} else {
			d.pdf.SetX(d.left + reportLabel)
		}
		d.pdf.CellFormat(d.width-reportLabel, reportLine, l, "", 2, "L", false, 0, "")
	}
}

// table writes rows under a shaded header row, repeated on every page the
// table runs onto; a cell taller than what is left of a page continues on
// the next one.
func (d *reportPDF) table(cols []string, rel []float64, rows [][]string) {
	pdf := d.pdf
	widths := make([]float64, len(cols))
	total := 0.0
	for _, r := range rel[:len(cols)] {
		total += r
	}
	for i := range widths {
		widths[i] = rel[i] / total * d.width
	}
	cells := func(texts []string, style string) [][]string {
		pdf.SetFont("Helvetica", style, 8)
		out := make([][]string, len(widths))
		for i, w := range widths {
			v := ""
			if i < len(texts) {
				v = texts[i]
			}
			out[i] = wrapText(pdf, d.tr(v), w-2)
		}
		return out
	}
	header := cells(cols, "B")
	headerRows := 0
	for _, c := range header {
		headerRows = max(headerRows, len(c))
	}
	drawHeader := func() {
		pdf.SetFont("Helvetica", "B", 8)
		y := pdf.GetY()
		h := float64(headerRows)*reportCell + 1
		pdf.SetFillColor(221, 231, 243)
		pdf.Rect(d.left, y, d.width, h, "F")
		x := d.left
		for i, w := range widths {
			for j, l := range header[i] {
				pdf.SetXY(x+1, y+0.5+float64(j)*reportCell)
				pdf.CellFormat(w-2, reportCell, l, "", 0, "L", false, 0, "")
			}
			x += w
		}
		pdf.SetXY(d.left, y+h)
	}
	d.ensure(float64(headerRows+1)*reportCell + 2)
	drawHeader()
	pdf.SetDrawColor(180, 180, 180)
	for _, r := range rows {
		lines := cells(r, "")
		n := 1
		for _, c := range lines {
			n = max(n, len(c))
		}
		// Keep short rows whole; let long ones flow across pages.
		if n <= 8 && d.ensure(float64(n)*reportCell+1) {
			drawHeader()
			pdf.SetFont("Helvetica", "", 8)
		}
		y := pdf.GetY() + 0.5
		for j := range n {
			if y+reportCell > d.limit {
				pdf.AddPage()
				drawHeader()
				pdf.SetFont("Helvetica", "", 8)
				y = pdf.GetY() + 0.5
			}
			x := d.left
			for i, w := range widths {
				if j < len(lines[i]) {
					pdf.SetXY(x+1, y)
					pdf.CellFormat(w-2, reportCell, lines[i][j], "", 0, "L", false, 0, "")
				}
				x += w
			}
			y += reportCell
		}
		y += 0.5
		pdf.Line(d.left, y, d.left+d.width, y)
		pdf.SetXY(d.left, y)
	}
	pdf.SetDrawColor(0, 0, 0)
}
