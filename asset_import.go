package vigil

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// RowProblem is one bad value in an imported file. Line counts from 1, the
// header line.
type RowProblem struct {
	Line    int    `json:"line"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// String formats the problem as "line N: column: message".
func (p RowProblem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Message)
}

// ImportError reports every problem of a file that was not imported.
// Imports are all or nothing: one problem and nothing is written.
type ImportError struct {
	Problems []RowProblem
}

// Error lists the problems, one a line.
func (e *ImportError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives the problems as an EInvalid error whose fields are the
// columns, so ErrorCode and the HTTP mapping treat an import like any other
// bad input.
func (e *ImportError) Unwrap() error {
	fields := make([]FieldError, len(e.Problems))
	for i, p := range e.Problems {
		fields[i] = FieldError{Field: p.Column, Message: fmt.Sprintf("line %d: %s", p.Line, p.Message)}
	}
	return &Error{Code: EInvalid, Message: fmt.Sprintf("%d problem(s); nothing was imported", len(e.Problems)), Fields: fields}
}

// SortProblems orders problems by line, then by the order of their
// columns in columns (problems of the line as a whole first).
func SortProblems(ps []RowProblem, columns []string) {
	pos := func(c string) int {
		if c == "" {
			return -1
		}
		if i := slices.Index(columns, c); i >= 0 {
			return i
		}
		return len(columns)
	}
	slices.SortStableFunc(ps, func(a, b RowProblem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return pos(a.Column) - pos(b.Column)
	})
}

// arCSVRecord is one data line of an import file, its values by column.
type arCSVRecord struct {
	line   int
	values map[string]string
}

// arReadCSV reads a file whose header must hold every required column and
// may hold the optional ones, in any order. A header problem ends the read.
func arReadCSV(r io.Reader, required, optional []string) ([]arCSVRecord, []RowProblem) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, []RowProblem{{Line: 1, Message: "the file is empty: the first line must be the header " + strings.Join(required, ",")}}
	}
	if err != nil {
		return nil, []RowProblem{{Line: 1, Message: arCSVMessage(err)}}
	}
	var problems []RowProblem
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		cols[i] = h
		switch {
		case !slices.Contains(required, h) && !slices.Contains(optional, h):
			problems = append(problems, RowProblem{Line: 1, Column: h, Message: "is not a known column (expected " + strings.Join(required, ",") + ")"})
		case seen[h]:
			problems = append(problems, RowProblem{Line: 1, Column: h, Message: "appears twice"})
		}
		seen[h] = true
	}
	for _, c := range required {
		if !seen[c] {
			problems = append(problems, RowProblem{Line: 1, Column: c, Message: "column is missing"})
		}
	}
	if problems != nil {
		return nil, problems
	}
	var recs []arCSVRecord
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			// A syntax error (a stray quote) can swallow the rest of the
			// file, so the read stops at the first one.
			problems = append(problems, RowProblem{Line: line, Message: arCSVMessage(err)})
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(cols) {
			problems = append(problems, RowProblem{Line: line, Message: fmt.Sprintf("has %d values, the header %d", len(rec), len(cols))})
			continue
		}
		values := make(map[string]string, len(cols))
		for i, c := range cols {
			values[c] = strings.TrimSpace(rec[i])
		}
		recs = append(recs, arCSVRecord{line: line, values: values})
	}
	return recs, problems
}

func arCSVMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "not valid CSV: " + pe.Err.Error()
	}
	return "not valid CSV: " + err.Error()
}

// AssetImportHeader is the header of an asset import file.
var AssetImportHeader = []string{"name", "type", "owner_email", "classification", "confidentiality", "integrity", "availability", "description"}

// assetImportOptional are columns an import may add: an export's ref
// (ignored: imported assets get new references) and location.
var assetImportOptional = []string{"ref", "location"}

// AssetRow is one data line of an asset import file, checked as far as it
// can be without the store.
type AssetRow struct {
	Line     int
	Input    AssetInput // Owner holds the owner_email column
	Problems []RowProblem
}

// ParseAssetsCSV reads an asset import file. Problems of the file itself
// (header, CSV syntax) are returned apart; problems of a value are in its
// row.
func ParseAssetsCSV(r io.Reader) ([]AssetRow, []RowProblem) {
	recs, problems := arReadCSV(r, AssetImportHeader, assetImportOptional)
	rows := make([]AssetRow, 0, len(recs))
	for _, rec := range recs {
		v := rec.values
		row := AssetRow{Line: rec.line, Input: AssetInput{
			Name: v["name"], Type: AssetType(v["type"]), Owner: v["owner_email"], Classification: Classification(v["classification"]),
			Location: v["location"], Description: v["description"],
		}}
		for _, c := range []struct {
			col string
			dst **int
		}{{"confidentiality", &row.Input.Confidentiality}, {"integrity", &row.Input.Integrity}, {"availability", &row.Input.Availability}} {
			n, err := ParseRating(v[c.col])
			if err != nil {
				row.Problems = append(row.Problems, RowProblem{Line: rec.line, Column: c.col, Message: ErrorMessage(err)})
				continue
			}
			*c.dst = n
		}
		for _, f := range row.Input.Normalize() {
			col := f.Field
			if col == "owner" {
				col = "owner_email"
			}
			row.Problems = append(row.Problems, RowProblem{Line: rec.line, Column: col, Message: f.Message})
		}
		rows = append(rows, row)
	}
	return rows, problems
}
