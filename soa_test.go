package vigil_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

func TestEffectiveSoARow(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name       string
		entry      vigil.SoAEntry
		requiredBy []string
		applicable string
		just       string
	}{
		{"undecided", vigil.SoAEntry{}, nil, "Undecided", ""},
		{"excluded", vigil.SoAEntry{Applicable: &no, Justification: "Remote"}, nil, "No", "Remote"},
		{"required, undecided", vigil.SoAEntry{}, []string{"RSK-1", "RSK-12"}, "Yes", "Treats RSK-1, RSK-12."},
		{"required, excluded before", vigil.SoAEntry{Applicable: &no, Justification: "Remote"}, []string{"RSK-2"}, "Yes", "Treats RSK-2."},
		{"required, own words", vigil.SoAEntry{Applicable: &yes, Justification: "EDR everywhere."}, []string{"RSK-2"}, "Yes", "EDR everywhere. Treats RSK-2."},
		{"required, already cited", vigil.SoAEntry{Applicable: &yes, Justification: "For RSK-2 and RSK-10."}, []string{"RSK-2", "RSK-10"}, "Yes", "For RSK-2 and RSK-10."},
		{"RSK-1 is not RSK-12", vigil.SoAEntry{Justification: "For RSK-12."}, []string{"RSK-1"}, "Yes", "For RSK-12. Treats RSK-1."},
	}
	for _, tt := range tests {
		r := vigil.EffectiveSoARow("8.7", "Protection against malware", "Technological", tt.entry, nil, tt.requiredBy, 2)
		if vigil.ApplicableText(r.Applicable) != tt.applicable || r.Justification != tt.just || r.Status != vigil.SoANotStarted || r.Risks == nil || r.EvidenceCount != 2 {
			t.Errorf("%s: %+v", tt.name, r)
		}
	}
}

func TestSoAUpdateApply(t *testing.T) {
	t.Parallel()
	no := false
	e, errs := vigil.SoAUpdate{SetApplicable: true, Applicable: &no}.Apply(vigil.SoAEntry{})
	if len(errs) != 1 || errs[0].Field != "justification" {
		t.Fatalf("exclusion without reason: %+v %v", e, errs)
	}
	just, st := " Remote ", vigil.SoAStatus("done")
	e, errs = vigil.SoAUpdate{SetApplicable: true, Applicable: &no, Justification: &just, Status: &st}.Apply(vigil.SoAEntry{})
	if len(errs) != 1 || errs[0].Field != "status" || e.Justification != "Remote" {
		t.Fatalf("bad status: %+v %v", e, errs)
	}
	for raw, want := range map[string]string{"true": "Yes", "false": "No", "null": "Undecided", " true ": "Yes"} {
		if b, err := vigil.ParseApplicable([]byte(raw)); err != nil || vigil.ApplicableText(b) != want {
			t.Errorf("ParseApplicable(%s) = %v, %v", raw, b, err)
		}
	}
	if _, err := vigil.ParseApplicable([]byte(`"yes"`)); vigil.ErrorCode(err) != vigil.EInvalid {
		t.Error("a string was taken for applicable")
	}
}

func TestDiffSoA(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	from := []vigil.SoARow{{Ref: "5.1", Applicable: &yes, Status: vigil.SoAPlanned, Justification: "a"}, {Ref: "7.4", Applicable: &no, Justification: "remote", Status: vigil.SoANotStarted}}
	to := []vigil.SoARow{{Ref: "5.1", Applicable: &yes, Status: vigil.SoAImplemented, Justification: "a", Owner: "someone"}, {Ref: "7.4", Status: vigil.SoANotStarted}, {Ref: "8.1", Applicable: &yes, Justification: "b", Status: vigil.SoANotStarted}}
	var got []string
	for _, c := range vigil.DiffSoA(from, to) {
		got = append(got, fmt.Sprintf("%s %s %v>%v", c.Ref, c.Field, c.Before, c.After))
	}
	if want := "[5.1 status planned>implemented 7.4 applicable false><nil> 7.4 justification remote> 8.1 applicable <nil>>true 8.1 justification >b]"; fmt.Sprint(got) != want {
		t.Fatalf("diff = %v\nwant %s", got, want)
	}
	if d := vigil.DiffSoA(to, to); d == nil || len(d) != 0 {
		t.Fatalf("no change = %#v", d)
	}
}

func TestSoACoverLines(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		c    vigil.SoACover
		want string
	}{
		{vigil.SoACover{Org: "Acme"}, "Organisation: Acme|Version: working draft (no version approved yet)|Approval date: not approved|Approved by: not approved"},
		{vigil.SoACover{Org: "Acme", Version: 3, ApprovedAt: at, Approver: "Ian"}, "Organisation: Acme|Version: 3|Approval date: 2026-03-02|Approved by: Ian"},
		{vigil.SoACover{Org: "Acme", Version: 3, ApprovedAt: at, Approver: "Ian", Draft: true}, "Organisation: Acme|Version: working draft with changes since version 3 (approved 2026-03-02 by Ian)|Approval date: not approved|Approved by: not approved"},
	} {
		if got := strings.Join(tt.c.Lines(), "|"); got != tt.want {
			t.Errorf("lines = %s\nwant %s", got, tt.want)
		}
	}
}

func TestRiskMethodAndScores(t *testing.T) {
	t.Parallel()
	in := vigil.RiskMethodInput{LikelihoodScale: []string{" Low ", "Mid", "High"}, ImpactScale: []string{"a", "b", "c", "d"}, Formula: "Likelihood  *  Impact", AcceptanceThreshold: 6}
	if errs := in.Normalize(); len(errs) != 0 || in.LikelihoodScale[0] != "Low" || in.Formula != vigil.RiskFormula {
		t.Fatalf("normalize: %v %+v", errs, in)
	}
	in.AcceptanceThreshold = 12
	if errs := in.Normalize(); len(errs) != 1 || errs[0].Field != "acceptance_threshold" {
		t.Fatalf("threshold at the top: %v", errs)
	}
	m := vigil.DefaultRiskMethod()
	three, four, two := 3, 4, 2
	r := vigil.Risk{Likelihood: &three, Impact: &four}
	m.Assess(&r)
	if *r.InherentScore != 12 || r.ResidualScore != nil || !r.AboveThreshold || !r.NeedsAcceptance() {
		t.Fatalf("inherent only: %+v", r)
	}
	r.ResidualLikelihood, r.ResidualImpact = &two, &four
	m.Assess(&r)
	if *r.ResidualScore != 8 || r.AboveThreshold {
		t.Fatalf("residual at the threshold: %+v", r)
	}
	if vigil.LevelLabel(m.ImpactScale, &four) != "4 (Major)" || vigil.LevelLabel(m.ImpactScale, nil) != "" {
		t.Fatal("level labels")
	}
	if vigil.NormalizeControlRef(" a.8.5 ") != "8.5" || vigil.NormalizeControlRef("ctl-07") != "CTL-7" || vigil.NormalizeControlRef("A.") != "A." {
		t.Fatal("control refs")
	}
	if vigil.CompareShortRefs("RSK-2", "RSK-10") >= 0 || vigil.ParseRefNumber("AST", "ast-12") != 12 || vigil.ParseRefNumber("AST", "AST-x") != 0 {
		t.Fatal("short refs")
	}
}
