// Package export writes tables (registers, the Statement of Applicability,
// reports) as CSV, XLSX and PDF, so every export in Vigil looks and behaves
// the same.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"
)

// Table is what every export writes: a title, column names and rows.
type Table struct {
	Title   string // sheet name and PDF heading
	Columns []string
	Rows    [][]string
	// Widths are relative column widths for PDF (optional; equal if nil).
	Widths []float64
}

// Format is an export file format.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	PDF  Format = "pdf"
)

// ParseFormat checks a format named by a caller, among the allowed ones.
func ParseFormat(s string, allowed ...Format) (Format, error) {
	for _, f := range allowed {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	names := make([]string, len(allowed))
	for i, f := range allowed {
		names[i] = string(f)
	}
	return "", fmt.Errorf("format must be one of %s", strings.Join(names, ", "))
}

// ContentType is the media type of a format.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case PDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Write writes t in format f; cover lines go on the first page of a PDF
// (organisation, version, approval) and are ignored by the other formats.
func Write(w io.Writer, f Format, t Table, cover []string) error {
	switch f {
	case CSV:
		return WriteCSV(w, t)
	case XLSX:
		return WriteXLSX(w, t)
	case PDF:
		return WritePDF(w, t, cover)
	}
	return fmt.Errorf("unknown export format %q", f)
}

// safeCell defuses spreadsheet formula injection: a cell that a spreadsheet
// would evaluate gets a leading apostrophe.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes a header line and one line per row.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	row := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i := range row {
			row[i] = ""
			if i < len(r) {
				row[i] = safeCell(r[i])
			}
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes one sheet with a bold header row, frozen panes below it,
// an autofilter and sensible column widths.
func WriteXLSX(w io.Writer, t Table) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := sheetName(t.Title)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDE7F3"}, Pattern: 1}})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i, c := range t.Columns {
		width := float64(max(len(c)+2, 10))
		for _, r := range t.Rows[:min(len(t.Rows), 200)] {
			if i < len(r) {
				width = max(width, float64(min(len(r[i])+2, 60)))
			}
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, Split: false, XSplit: 0, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for n, r := range t.Rows {
		cells := make([]any, len(t.Columns))
		for i := range cells {
			v := ""
			if i < len(r) {
				v = r[i]
			}
			cells[i] = excelize.Cell{StyleID: wrap, Value: v}
		}
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, cells); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if len(t.Columns) > 0 {
		last, _ := excelize.CoordinatesToCellName(len(t.Columns), len(t.Rows)+1)
		if err := f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// sheetName fits a title into Excel's sheet-name rules (31 characters, no
// []:*?/\).
func sheetName(title string) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, title)
	if s == "" {
		s = "Export"
	}
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return s
}

// WritePDF writes a landscape A4 report: the title and cover lines on the
// first page, then the table with a repeated header row. The built-in fonts
// cover Western European text (cp1252); other characters print as '?'.
func WritePDF(w io.Writer, t Table, cover []string) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle(t.Title, true)
	pdf.SetCreator("Vigil", true)
	pdf.SetAutoPageBreak(false, 12)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 5, tr(fmt.Sprintf("%s — page %d", t.Title, pdf.PageNo())), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(0, 8, tr(t.Title), "", "L", false)
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "", 11)
	for _, l := range cover {
		pdf.MultiCell(0, 6, tr(l), "", "L", false)
	}
	pdf.Ln(4)

	pageW, pageH := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	const bottom = 14 // room for the footer
	usable := pageW - left - right
	widths := make([]float64, len(t.Columns))
	total := 0.0
	for i := range widths {
		widths[i] = 1
		if i < len(t.Widths) && t.Widths[i] > 0 {
			widths[i] = t.Widths[i]
		}
		total += widths[i]
	}
	for i := range widths {
		widths[i] = widths[i] / total * usable
	}
	const lh = 4.5
	row := func(cells []string, style string, fill bool) {
		pdf.SetFont("Helvetica", style, 8)
		lines := make([][]string, len(widths))
		h := lh
		for i := range widths {
			v := ""
			if i < len(cells) {
				v = tr(cells[i])
			}
			lines[i] = wrapText(pdf, v, widths[i]-2)
			if len(lines[i]) == 0 {
				lines[i] = []string{""}
			}
			h = max(h, float64(len(lines[i]))*lh)
		}
		x, y := pdf.GetXY()
		for i, wd := range widths {
			if fill {
				pdf.SetFillColor(221, 231, 243)
				pdf.Rect(x, y, wd, h, "FD")
			} else {
				pdf.Rect(x, y, wd, h, "D")
			}
			for j, l := range lines[i] {
				pdf.SetXY(x+1, y+float64(j)*lh)
				pdf.CellFormat(wd-2, lh, l, "", 0, "L", false, 0, "")
			}
			x += wd
		}
		pdf.SetXY(left, y+h)
	}
	header := func() { row(t.Columns, "B", true) }
	header()
	for _, r := range t.Rows {
		// Estimate the row's height to break pages before it, not inside.
		need := lh
		pdf.SetFont("Helvetica", "", 8)
		for i := range widths {
			if i < len(r) {
				need = max(need, float64(len(wrapText(pdf, tr(r[i]), widths[i]-2)))*lh)
			}
		}
		if pdf.GetY()+need > pageH-bottom {
			pdf.AddPage()
			header()
		}
		row(r, "", false)
	}
	return pdf.Output(w)
}

// wrapText breaks single-byte (cp1252) text into lines no wider than w at
// the current font, at spaces where it can and inside a word where it must.
func wrapText(pdf *fpdf.Fpdf, s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if pdf.GetStringWidth(try) <= w {
				line = try
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			// A word wider than the cell is cut wherever it overflows.
			for pdf.GetStringWidth(word) > w && len(word) > 1 {
				n := 1
				for n < len(word) && pdf.GetStringWidth(word[:n+1]) <= w {
					n++
				}
				lines = append(lines, word[:n])
				word = word[n:]
			}
			line = word
		}
		lines = append(lines, line)
	}
	return lines
}
