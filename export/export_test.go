package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
	"github.com/xuri/excelize/v2"
)

var sample = Table{
	Title:   "Statement of Applicability",
	Columns: []string{"Ref", "Title", "Applicable"},
	Rows: [][]string{
		{"5.1", "Policies for information security", "yes"},
		{"5.2", "=HYPERLINK(\"http://x\")", "no"},
		{"8.34", "Protection of information systems during audit testing — a long title " + strings.Repeat("word ", 40), "yes"},
	},
}

func TestCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sample); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "Ref" || recs[1][1] != "Policies for information security" {
		t.Fatalf("csv = %q", recs)
	}
	if recs[2][1] != `'=HYPERLINK("http://x")` {
		t.Fatalf("formula not defused: %q", recs[2][1])
	}
}

func TestXLSX(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, sample); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	if sheet != "Statement of Applicability" {
		t.Fatalf("sheet %q", sheet)
	}
	for cell, want := range map[string]string{"A1": "Ref", "C1": "Applicable", "A2": "5.1", "B2": "Policies for information security", "A4": "8.34", "C4": "yes"} {
		got, err := f.GetCellValue(sheet, cell)
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", cell, got, err, want)
		}
	}
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Fatalf("panes = %+v, %v; want the header row frozen", panes, err)
	}
	rows, _ := f.GetRows(sheet)
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
}

func TestPDF(t *testing.T) {
	t.Parallel()
	big := sample
	for i := range 120 {
		big.Rows = append(big.Rows, []string{"x", "row " + strings.Repeat("y", i%30), "no"})
	}
	var buf bytes.Buffer
	if err := WritePDF(&buf, big, []string{"Organisation: Acme Ltd", "Version 3, approved 2026-11-28 by Ada Admin"}); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"Statement of Applicability", "Organisation: Acme Ltd", "Version 3, approved 2026-11-28 by Ada Admin", "Policies for information security", "8.34"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	r, err := pdf.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || r.NumPage() < 2 {
		t.Fatalf("pages = %d, %v; want the table to break onto several pages", r.NumPage(), err)
	}
}

// pdfText extracts the text of every page, joined without separators
// between text runs so that phrases split into runs still match.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				sb.WriteString(w.S)
			}
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	if f, err := ParseFormat("XLSX", CSV, XLSX); err != nil || f != XLSX {
		t.Fatalf("%v %v", f, err)
	}
	if _, err := ParseFormat("pdf", CSV, XLSX); err == nil || !strings.Contains(err.Error(), "csv, xlsx") {
		t.Fatalf("err = %v", err)
	}
}
