package vigil_test

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
)

func TestParseAssetsCSV(t *testing.T) {
	t.Parallel()
	in := "\ufeffName,Type,owner_email,classification,confidentiality,integrity,availability,description\n" +
		"CRM,information,a@x.test,confidential,high,2,,\"multi\nline\"\n" +
		"Bad,boat,,secret,4,x,1,\n" +
		"Short,site\n"
	rows, fileProblems := vigil.ParseAssetsCSV(strings.NewReader(in))
	if len(fileProblems) != 1 || fileProblems[0].String() != "line 5: has 2 values, the header 8" {
		t.Fatalf("file problems = %v", fileProblems)
	}
	if len(rows) != 2 || rows[0].Line != 2 || rows[1].Line != 4 || rows[0].Input.Description != "multi\nline" || *rows[0].Input.Confidentiality != 3 {
		t.Fatalf("rows = %+v", rows)
	}
	var got []string
	for _, p := range rows[1].Problems {
		got = append(got, p.String())
	}
	want := []string{
		"line 4: confidentiality: must be from 1 to 3 or one of low, medium, high",
		"line 4: integrity: must be from 1 to 3 or one of low, medium, high",
		"line 4: type: must be one of information, software, hardware, service, people, site",
		"line 4: classification: must be one of public, internal, confidential, restricted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("row problems:\n%s", strings.Join(got, "\n"))
	}
	if _, ps := vigil.ParseAssetsCSV(strings.NewReader("")); len(ps) != 1 || ps[0].Line != 1 {
		t.Fatalf("empty file: %v", ps)
	}
	if _, ps := vigil.ParseAssetsCSV(strings.NewReader("name,name,type\n")); len(ps) < 2 || !strings.Contains(ps[0].String(), "appears twice") {
		t.Fatalf("duplicate column: %v", ps)
	}
	if _, ps := vigil.ParseAssetsCSV(strings.NewReader(strings.Join(vigil.AssetImportHeader, ",") + "\n\"unterminated,x\n")); len(ps) != 1 || ps[0].Line != 2 {
		t.Fatalf("bad quoting: %v", ps)
	}
}

func TestParseRisksCSV(t *testing.T) {
	t.Parallel()
	in := strings.Join(vigil.RiskImportHeader, ",") + ",next_review\n" +
		"T,,AST-1; CRM ;;,th,vu,a@x.test,4,five,modify,A.8.5;ctl-2,0,,2027-01-01\n"
	rows, ps := vigil.ParseRisksCSV(strings.NewReader(in))
	if len(ps) != 0 || len(rows) != 1 {
		t.Fatalf("rows %+v, problems %v", rows, ps)
	}
	r := rows[0]
	if strings.Join(r.Input.Assets, "|") != "AST-1|CRM" || strings.Join(r.Input.Controls, "|") != "A.8.5|ctl-2" || *r.Input.Likelihood != 4 || r.Input.NextReview != "2027-01-01" {
		t.Fatalf("input %+v", r.Input)
	}
	if len(r.Problems) != 2 || r.Problems[0].Column != "impact" || r.Problems[1].Column != "residual_likelihood" {
		t.Fatalf("problems %v", r.Problems)
	}
}

// FuzzParseAssetsCSV: any input parses without panicking, every problem
// has a line, and data rows come after the header.
func FuzzParseAssetsCSV(f *testing.F) {
	h := strings.Join(vigil.AssetImportHeader, ",")
	f.Add(h + "\nA,site,,,,,,\n")
	f.Add(h + "\n\"x\n")
	f.Add("name\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		rows, ps := vigil.ParseAssetsCSV(strings.NewReader(in))
		for _, p := range ps {
			if p.Line < 0 || p.Message == "" {
				t.Fatalf("problem %+v", p)
			}
		}
		for _, r := range rows {
			if r.Line < 2 {
				t.Fatalf("row at line %d", r.Line)
			}
		}
	})
}

// FuzzParseRisksCSV: as FuzzParseAssetsCSV, for risk files.
func FuzzParseRisksCSV(f *testing.F) {
	h := strings.Join(vigil.RiskImportHeader, ",")
	f.Add(h + "\nT,,A;B,,,,1,2,modify,8.5,1,1\n")
	f.Add(h + "\nT,,,,,,x,-1,,,,\n")
	f.Add("title,\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, ps := vigil.ParseRisksCSV(strings.NewReader(in))
		for _, p := range ps {
			if p.Message == "" {
				t.Fatalf("problem %+v", p)
			}
		}
		for _, r := range rows {
			if r.Line < 2 {
				t.Fatalf("row at line %d", r.Line)
			}
			for _, l := range []*int{r.Input.Likelihood, r.Input.Impact, r.Input.ResidualLikelihood, r.Input.ResidualImpact} {
				if l != nil && *l < 1 {
					t.Fatalf("level %d accepted", *l)
				}
			}
		}
	})
}
