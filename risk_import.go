package vigil

import (
	"io"
	"strconv"
)

// RiskImportHeader is the header of a risk import file. assets (names or
// references) and controls (refs) are ';'-separated lists.
var RiskImportHeader = []string{"title", "description", "assets", "threat", "vulnerability", "owner_email", "likelihood", "impact", "treatment", "controls", "residual_likelihood", "residual_impact"}

// riskImportOptional are columns an import may add.
var riskImportOptional = []string{"ref", "status", "next_review"}

// RiskRow is one data line of a risk import file, checked as far as it can
// be without the store (which knows the scales, assets and controls).
type RiskRow struct {
	Line     int
	Input    RiskInput // Owner holds owner_email; Assets names or refs
	Problems []RowProblem
}

// arRiskColumns maps the fields Normalize names to the file's columns.
var arRiskColumns = map[string]string{"owner": "owner_email"}

// RiskColumn returns the import column that holds a risk field.
func RiskColumn(field string) string {
	if c, ok := arRiskColumns[field]; ok {
		return c
	}
	return field
}

// ParseRisksCSV reads a risk import file. Problems of the file itself are
// returned apart; problems of a value are in its row.
func ParseRisksCSV(r io.Reader) ([]RiskRow, []RowProblem) {
	recs, problems := arReadCSV(r, RiskImportHeader, riskImportOptional)
	rows := make([]RiskRow, 0, len(recs))
	for _, rec := range recs {
		v := rec.values
		row := RiskRow{Line: rec.line, Input: RiskInput{
			Title: v["title"], Description: v["description"], Assets: SplitRefList(v["assets"]), Threat: v["threat"],
			Vulnerability: v["vulnerability"], Owner: v["owner_email"], Treatment: RiskTreatment(v["treatment"]),
			Controls: SplitRefList(v["controls"]), Status: RiskStatus(v["status"]), NextReview: v["next_review"],
		}}
		for _, c := range []struct {
			col string
			dst **int
		}{{"likelihood", &row.Input.Likelihood}, {"impact", &row.Input.Impact}, {"residual_likelihood", &row.Input.ResidualLikelihood}, {"residual_impact", &row.Input.ResidualImpact}} {
			if v[c.col] == "" {
				continue
			}
			n, err := strconv.Atoi(v[c.col])
			if err != nil || n < 1 {
				row.Problems = append(row.Problems, RowProblem{Line: rec.line, Column: c.col, Message: "must be a level from 1 up, as a whole number"})
				continue
			}
			*c.dst = &n
		}
		rows = append(rows, row)
	}
	return rows, problems
}
