package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/xuri/excelize/v2"
)

// arFile writes a file into a temporary folder and returns its path.
func arFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIImportAssetsAndRisks(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		c.run("", "org", "create", "--name", "Acme")
		c.run("", "user", "add", "--email", "rita@acme.test", "--name", "Rita", "--role", "risk_owner")

		// Two bad rows: nothing is imported, both lines are reported.
		bad := arFile(t, "bad.csv", "name,type,owner_email,classification,confidentiality,integrity,availability,description\n"+
			"CRM database,information,rita@acme.test,confidential,3,3,2,Customer records\n"+
			"Laptops,vehicle,rita@acme.test,internal,2,2,2,\n"+
			"Website,service,nobody@acme.test,public,1,2,very high,\n")
		out, errOut, code := c.run("", "import", "assets", bad)
		if code != 1 || out != "" {
			t.Fatalf("bad import: exit %d, out %q", code, out)
		}
		for _, want := range []string{
			"line 3: type: must be one of information, software, hardware, service, people, site\n",
			"line 4: owner_email: nobody@acme.test is not a member of this organisation\n",
			"line 4: availability: must be from 1 to 3 or one of low, medium, high\n",
			"vigil: import assets: 3 problem(s) in " + bad + "; nothing was imported\n",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		st := c.openStore()
		org, _ := st.ResolveOrg(context.Background(), "Acme")
		if _, total, _ := st.ListAssets(context.Background(), org.ID, store.AssetFilter{}); total != 0 {
			t.Fatalf("a failed import left %d assets", total)
		}

		good := arFile(t, "good.csv", "name,type,owner_email,classification,confidentiality,integrity,availability,description\n"+
			"CRM database,information,rita@acme.test,confidential,3,3,2,Customer records\n"+
			"Website,service,,public,low,medium,high,\n")
		if out, e, code := c.run("", "import", "assets", good, "--org", "Acme"); code != 0 || out != "imported 2 assets into Acme\n" {
			t.Fatalf("good import: %d %q %s", code, out, e)
		}
		// Importing it again: both names are taken.
		if _, e, code := c.run("", "import", "assets", good); code != 1 || !strings.Contains(e, "line 2: name: an asset with this name already exists") || !strings.Contains(e, "line 3: name:") {
			t.Fatalf("re-import: %d %s", code, e)
		}

		header := strings.Join(vigil.RiskImportHeader, ",") + "\n"
		badRisks := arFile(t, "risks-bad.csv", header+
			"Ransomware,,CRM database;AST-2,Ransomware,Unpatched servers,rita@acme.test,4,5,modify,8.7;8.13,2,5\n"+
			"Outage,,Mainframe,,,rita@acme.test,4,5,modify,8.14,2,2\n"+
			"Leak,,AST-1,,,rita@acme.test,9,5,modify,8.12;12.1,2,2\n")
		_, e, code := c.run("", "import", "risks", badRisks)
		if code != 1 || !strings.Contains(e, "line 3: assets: no asset Mainframe in this organisation") ||
			!strings.Contains(e, "line 4: likelihood: must be from 1 to 5") || !strings.Contains(e, "line 4: controls: 12.1 is neither") {
			t.Fatalf("bad risk import: %d %s", code, e)
		}
		if _, total, _ := st.ListRisks(context.Background(), org.ID, store.RiskFilter{}); total != 0 {
			t.Fatalf("a failed import left %d risks", total)
		}
		goodRisks := arFile(t, "risks.csv", header+
			"Ransomware,Encrypts the CRM,CRM database;AST-2,Ransomware,Unpatched servers,rita@acme.test,4,5,modify,8.7;8.13,2,5\n"+
			"Defacement,,website,Defacement,Old CMS,,2,3,retain,,,\n")
		if out, e, code := c.run("", "import", "risks", goodRisks); code != 0 || out != "imported 2 risks into Acme\n" {
			t.Fatalf("good risk import: %d %q %s", code, out, e)
		}
		r, err := st.GetRisk(context.Background(), org.ID, "RSK-1")
		if err != nil || len(r.Assets) != 2 || *r.InherentScore != 20 || *r.ResidualScore != 10 || strings.Join(r.Controls, ",") != "8.7,8.13" {
			t.Fatalf("imported risk %+v, %v", r, err)
		}
		// Standard input works too, and a missing file is one line.
		if _, e, code := c.run("title\n", "import", "risks", "-"); code != 1 || !strings.Contains(e, "line 1: description: column is missing") {
			t.Fatalf("stdin import: %d %s", code, e)
		}
		if _, e, code := c.run("", "import", "assets", filepath.Join(t.TempDir(), "none.csv")); code != 1 || strings.Count(strings.TrimSpace(e), "\n") != 0 {
			t.Fatalf("missing file: %d %q", code, e)
		}
	})
}

func TestCLIExportSoA(t *testing.T) {
	forEachDB(t, func(t *testing.T, c *cli) {
		c.run("", "org", "create", "--name", "Acme Ltd")
		c.run("", "user", "add", "--email", "ian@acme.test", "--name", "Ian Manager", "--role", "isms_manager")
		st := c.openStore()
		ctx := context.Background()
		org, _ := st.ResolveOrg(ctx, "Acme Ltd")
		ian, _ := st.GetMember(ctx, org.ID, "ian@acme.test")
		as := vigil.WithActor(ctx, vigil.Actor{Type: vigil.ActorUser, ID: ian.ID, UserID: ian.ID, OrgID: org.ID, Role: ian.Role})
		if _, err := st.CreateRisk(as, org.ID, vigil.RiskInput{Title: "Malware", Treatment: "modify", Controls: []string{"8.7"}}); err != nil {
			t.Fatal(err)
		}
		no := false
		just := "Fully remote company"
		if _, err := st.UpdateSoA(as, org.ID, "7.4", vigil.SoAUpdate{SetApplicable: true, Applicable: &no, Justification: &just}); err != nil {
			t.Fatal(err)
		}
		v, err := st.ApproveSoA(as, org.ID)
		if err != nil {
			t.Fatal(err)
		}

		xlsx := filepath.Join(t.TempDir(), "soa.xlsx")
		out, e, code := c.run("", "export", "soa", "--format", "xlsx", "-o", xlsx)
		if code != 0 || !strings.Contains(out, "(93 controls) to "+xlsx) {
			t.Fatalf("export xlsx: %d %q %s", code, out, e)
		}
		f, err := excelize.OpenFile(xlsx)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sheet := f.GetSheetName(0)
		rows, _ := f.GetRows(sheet)
		if len(rows) != 94 {
			t.Fatalf("%d rows", len(rows))
		}
		for i, r := range rows[1:] {
			cell := func(col string) string { v, _ := f.GetCellValue(sheet, col+strconv.Itoa(i+2)); return v }
			switch r[0] {
			case "7.4":
				if cell("D") != "No" || cell("E") != "Fully remote company" {
					t.Errorf("7.4 row = %q", r)
				}
			case "8.7":
				if cell("D") != "Yes" || cell("E") != "Treats RSK-1." || cell("H") != "RSK-1" {
					t.Errorf("8.7 row = %q", r)
				}
			}
		}
		if got, _ := f.GetCellValue(sheet, "A1"); got != "Ref" {
			t.Errorf("A1 = %q", got)
		}
		if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Fatalf("panes = %+v, %v", panes, err)
		}

		pdfFile := filepath.Join(t.TempDir(), "soa.pdf")
		if _, e, code := c.run("", "export", "soa", "--format", "pdf", "-o", pdfFile, "--version", "1", "--org", "Acme Ltd"); code != 0 {
			t.Fatalf("export pdf: %d %s", code, e)
		}
		b, _ := os.ReadFile(pdfFile)
		r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		prows, _ := r.Page(1).GetTextByRow()
		var text strings.Builder
		for _, row := range prows {
			for _, w := range row.Content {
				text.WriteString(w.S)
			}
			text.WriteString("\n")
		}
		for _, want := range []string{"Organisation: Acme Ltd", "Version: 1", "Approval date: " + v.ApprovedAt.Format("2006-01-02"), "Approved by: Ian Manager (ian@acme.test)"} {
			if !strings.Contains(text.String(), want) {
				t.Errorf("first page lacks %q:\n%s", want, text.String())
			}
		}
		out, _, code = c.run("", "export", "soa")
		if code != 0 || !strings.HasPrefix(out, "Ref,Control,Theme,Applicable") || strings.Count(out, "\n") != 94 {
			t.Fatalf("csv to stdout: %d %.200q", code, out)
		}
		for _, bad := range [][]string{{"--format", "docx"}, {"--version", "9"}, {"--version", "-1"}} {
			if _, e, code := c.run("", append([]string{"export", "soa"}, bad...)...); code != 1 || strings.Count(strings.TrimSpace(e), "\n") != 0 {
				t.Errorf("export soa %v: %d %q", bad, code, e)
			}
		}
	})
}
