package export

import (
	"bytes"
	"crypto/sha256"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
	"github.com/vigilhq/vigil"
)

func sampleReport() vigil.AuditReport {
	issued := time.Date(2027, 1, 20, 14, 5, 0, 0, time.UTC)
	a := vigil.Audit{
		ID: "a1", Ref: "AUD-7", Type: vigil.AuditInternal, Title: "Access control review",
		Criteria:     "ISO/IEC 27001:2022 clauses 9.2 and Annex A.5.15-5.18",
		Scope:        vigil.AuditScope{Requirements: []string{"A.5.15", "A.8.2"}, Assets: []string{"Payroll system"}, Processes: []string{"Joiners, movers, leavers"}},
		PlannedStart: "2027-01-10", PlannedEnd: "2027-01-12", ActualStart: "2027-01-11", ActualEnd: "2027-01-13",
		LeadAuditor: "u1", ImpartialityOverride: "Only Zoë Łukasz knows the payroll system 日本",
		ReportIssuedAt: &issued,
	}
	r := vigil.AuditReport{
		OrgName: "Acme Ltd", Audit: a,
		Team:                  []string{"Zoë Łukasz <zoe@acme.example>", "Ada Admin <ada@acme.example>"},
		ImpartialityStatement: vigil.ImpartialityStatement(a),
		Summary:               "The access control process is mostly effective.\nTwo findings were raised.",
		Findings: []vigil.Finding{
			{Ref: "NC-12", Kind: vigil.FindingMajorNC, Requirement: "A.5.18", Description: "Leavers keep access for weeks. " + strings.Repeat("Detail of the evidence seen. ", 30), Status: vigil.FindingOpen, Deadline: "2027-04-20"},
			{Ref: "NC-13", Kind: vigil.FindingOFI, Requirement: "A.8.2", Description: "Consider quarterly reviews.", Status: vigil.FindingOpen},
			{Ref: "NC-14", Kind: vigil.FindingMinorNC, Requirement: "A.5.15", Description: "Withdrawn after review.", Status: vigil.FindingWithdrawn},
		},
		OpenActions: []vigil.CorrectiveAction{
			{Ref: "CA-3", FindingRef: "NC-12", Owner: "Ada Admin <ada@acme.example>", DueDate: "2027-03-01", Status: vigil.ActionInProgress},
		},
		IssuedAt: issued,
		IssuedBy: "Zoë Łukasz <zoe@acme.example>",
	}
	for i := range 60 {
		r.Checklist = append(r.Checklist, vigil.ChecklistItem{Ref: "A.5." + string(rune('a'+i%26)), Title: "Checklist item title " + strings.Repeat("x", i%40), Result: vigil.ResultConform, Notes: "Seen the register."})
	}
	r.Checklist[0].Ref, r.Checklist[0].Result, r.Checklist[0].Notes = "CHK-FIRST", vigil.ResultMajorNC, "Three leavers active"
	return r
}

func TestAuditReportPDF(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := AuditReportPDF(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{
		"Acme Ltd", "Audit report", "AUD-7 Access control review", "Internal audit (clause 9.2)",
		"2027-01-10 to 2027-01-12", "2027-01-11 to 2027-01-13", "Payroll system", "Joiners, movers, leavers",
		"Impartiality override", "Only Zoë .ukasz knows the payroll system ..",
		"The access control process is mostly effective.", "Major nonconformity",
		"NC-12", "NC-13", "A.5.18", "2027-04-20", "CHK-FIRST", "Three leavers active",
		"CA-3", "2027-03-01", "in progress", "Issued 2027-01-20 by Zoë .ukasz", "Page 1 of",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	r, err := pdf.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || r.NumPage() < 2 {
		t.Fatalf("pages = %d, %v; want the checklist to run onto a second page", r.NumPage(), err)
	}
}

func TestAuditReportPDFDeterministic(t *testing.T) {
	t.Parallel()
	render := func() [32]byte {
		var buf bytes.Buffer
		if err := AuditReportPDF(&buf, sampleReport()); err != nil {
			t.Fatal(err)
		}
		// Dates from the clock would make every render differ.
		for _, want := range []string{"/CreationDate (D:20270120140500)", "/ModDate (D:20270120140500)"} {
			if !bytes.Contains(buf.Bytes(), []byte(want)) {
				t.Fatalf("PDF lacks %s: the document dates must be the issue date", want)
			}
		}
		return sha256.Sum256(buf.Bytes())
	}
	first, second := render(), render()
	if first != second {
		t.Fatal("two renders of the same report differ")
	}
}

func TestAuditReportPDFVariants(t *testing.T) {
	t.Parallel()
	ext := sampleReport()
	ext.Audit.Type = vigil.AuditSurveillance
	ext.Audit.ImpartialityOverride = ""
	ext.Audit.CertificationBody = "Certifier GmbH"
	ext.Audit.BodyAuditors = []string{"Hans Prüfer"}
	ext.ImpartialityStatement = vigil.ImpartialityStatement(ext.Audit)
	empty := vigil.AuditReport{OrgName: "Empty Org", Audit: vigil.Audit{Ref: "AUD-1", Type: vigil.AuditInternal, Title: "Draft"}}
	for _, tc := range []struct {
		name    string
		r       vigil.AuditReport
		want    []string
		notWant []string
	}{
		{"external", ext, []string{"Surveillance audit", "Certifier GmbH", "Hans Pr", "independent of the organisation"}, []string{"Impartiality override"}},
		{"empty draft", empty, []string{"No findings.", "The checklist is empty.", "No open corrective actions.", "Draft, not issued", "No summary was given."}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := AuditReportPDF(&buf, tc.r); err != nil {
				t.Fatal(err)
			}
			text := pdfText(t, buf.Bytes())
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("PDF text lacks %q", want)
				}
			}
			for _, no := range tc.notWant {
				if strings.Contains(text, no) {
					t.Errorf("PDF text has %q", no)
				}
			}
		})
	}
}

func TestAuditReportPDFLongCell(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	// A description far taller than a page must flow, not overflow.
	r.Findings[0].Description = strings.Repeat("Evidence line that goes on. ", 1500) + "END-OF-DESCRIPTION"
	var buf bytes.Buffer
	if err := AuditReportPDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, buf.Bytes()); !strings.Contains(text, "END-OF-DESCRIPTION") {
		t.Fatal("the end of a long description is missing")
	}
}

func BenchmarkAuditReportPDF(b *testing.B) {
	r := sampleReport()
	for b.Loop() {
		if err := AuditReportPDF(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
