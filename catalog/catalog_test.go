package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestFrameworkIdentity(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	if FrameworkID != "iso27001-2022" {
		t.Errorf("FrameworkID = %q, want %q", FrameworkID, "iso27001-2022")
	}
	if f.ID != FrameworkID {
		t.Errorf("ID = %q, want %q", f.ID, FrameworkID)
	}
	if f.Name != "ISO/IEC 27001:2022" {
		t.Errorf("Name = %q, want %q", f.Name, "ISO/IEC 27001:2022")
	}
	if g := ISO27001v2022(); g != f {
		t.Error("ISO27001v2022 returned a different value on the second call")
	}
}

func TestControlsByTheme(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	controls := f.Controls()
	if len(controls) != 93 {
		t.Fatalf("len(Controls()) = %d, want 93", len(controls))
	}
	tests := []struct {
		theme   Theme
		section string
		count   int
	}{
		{ThemeOrganizational, "5", 37},
		{ThemePeople, "6", 8},
		{ThemePhysical, "7", 14},
		{ThemeTechnological, "8", 34},
	}
	for _, tt := range tests {
		t.Run(string(tt.theme), func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, c := range controls {
				if c.Theme == tt.theme {
					got = append(got, c.Ref)
				}
			}
			want := make([]string, tt.count)
			for i := range want {
				want[i] = fmt.Sprintf("%s.%d", tt.section, i+1)
			}
			if !slices.Equal(got, want) {
				t.Errorf("refs of theme %s = %v, want %v", tt.theme, got, want)
			}
		})
	}
}

func TestControlText(t *testing.T) {
	t.Parallel()
	for _, c := range ISO27001v2022().Controls() {
		t.Run(c.Ref, func(t *testing.T) {
			t.Parallel()
			if c.Kind != KindControl {
				t.Errorf("Kind = %q, want %q", c.Kind, KindControl)
			}
			if strings.TrimSpace(c.Title) == "" {
				t.Error("empty title")
			}
			// A purpose is a short paragraph of two or three sentences.
			n := strings.Count(c.Purpose, ". ")
			if !strings.HasSuffix(c.Purpose, ".") || n < 1 || n > 2 {
				t.Errorf("purpose is not two or three sentences: %q", c.Purpose)
			}
		})
	}
}

func TestRequirementsOrderAndKeys(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	if !slices.IsSortedFunc(f.Requirements, compareRequirements) {
		t.Error("Requirements are not clauses first, then controls, each in ref order")
	}
	keys := make(map[string]bool)
	for _, r := range f.Requirements {
		if keys[r.Key()] {
			t.Errorf("duplicate key %s", r.Key())
		}
		keys[r.Key()] = true
	}
	if got, want := len(f.Clauses())+len(f.Controls()), len(f.Requirements); got != want {
		t.Errorf("clauses+controls = %d, want %d", got, want)
	}
}

func TestClauses(t *testing.T) {
	t.Parallel()
	tests := []struct{ ref, title string }{
		{"4.1", "Understanding the organization and its context"},
		{"4.2", "Understanding the needs and expectations of interested parties"},
		{"4.3", "Determining the scope of the information security management system"},
		{"4.4", "Information security management system"},
		{"5.1", "Leadership and commitment"},
		{"5.2", "Policy"},
		{"5.3", "Organizational roles, responsibilities and authorities"},
		{"6.1", "Actions to address risks and opportunities"},
		{"6.1.1", "General"},
		{"6.1.2", "Information security risk assessment"},
		{"6.1.3", "Information security risk treatment"},
		{"6.2", "Information security objectives and planning to achieve them"},
		{"6.3", "Planning of changes"},
		{"7.1", "Resources"},
		{"7.2", "Competence"},
		{"7.3", "Awareness"},
		{"7.4", "Communication"},
		{"7.5", "Documented information"},
		{"7.5.1", "General"},
		{"7.5.2", "Creating and updating"},
		{"7.5.3", "Control of documented information"},
		{"8.1", "Operational planning and control"},
		{"8.2", "Information security risk assessment"},
		{"8.3", "Information security risk treatment"},
		{"9.1", "Monitoring, measurement, analysis and evaluation"},
		{"9.2", "Internal audit"},
		{"9.2.1", "General"},
		{"9.2.2", "Internal audit programme"},
		{"9.3", "Management review"},
		{"9.3.1", "General"},
		{"9.3.2", "Management review inputs"},
		{"9.3.3", "Management review results"},
		{"10.1", "Continual improvement"},
		{"10.2", "Nonconformity and corrective action"},
	}
	f := ISO27001v2022()
	var want []string
	for _, tt := range tests {
		want = append(want, tt.ref)
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			c, ok := f.Clause(tt.ref)
			if !ok {
				t.Fatalf("Clause(%q) not found", tt.ref)
			}
			if c.Title != tt.title || c.Kind != KindClause || c.Theme != "" || c.Purpose == "" {
				t.Errorf("Clause(%q) = %+v, want title %q, kind clause, no theme, a purpose", tt.ref, c, tt.title)
			}
		})
	}
	var got []string
	for _, c := range f.Clauses() {
		got = append(got, c.Ref)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Clauses() refs = %v, want %v", got, want)
	}
}

func TestLookupKeepsKindsApart(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	tests := []struct {
		kind  Kind
		ref   string
		found bool
		title string
	}{
		{KindClause, "5.1", true, "Leadership and commitment"},
		{KindControl, "5.1", true, "Policies for information security"},
		{KindClause, "8.2", true, "Information security risk assessment"},
		{KindControl, "8.2", true, "Privileged access rights"},
		{KindControl, "5.7", true, "Threat intelligence"},
		{KindControl, "5.23", true, "Information security for use of cloud services"},
		{KindControl, "5.37", true, "Documented operating procedures"},
		{KindControl, "6.7", true, "Remote working"},
		{KindControl, "7.4", true, "Physical security monitoring"},
		{KindControl, "8.15", true, "Logging"},
		{KindControl, "8.34", true, "Protection of information systems during audit testing"},
		{KindControl, "4.1", false, ""},
		{KindControl, "5.38", false, ""},
		{KindControl, "A.5.1", false, ""},
		{KindClause, "5.37", false, ""},
		{KindClause, "11.1", false, ""},
		{KindClause, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.ref, func(t *testing.T) {
			t.Parallel()
			lookup := f.Clause
			if tt.kind == KindControl {
				lookup = f.Control
			}
			r, ok := lookup(tt.ref)
			if ok != tt.found {
				t.Fatalf("found = %v, want %v", ok, tt.found)
			}
			if !ok {
				if r != (Requirement{}) {
					t.Errorf("not found but returned %+v", r)
				}
				return
			}
			if r.Kind != tt.kind || r.Ref != tt.ref || r.Title != tt.title {
				t.Errorf("got %+v, want kind %s ref %s title %q", r, tt.kind, tt.ref, tt.title)
			}
			if want := string(tt.kind) + ":" + tt.ref; r.Key() != want {
				t.Errorf("Key() = %q, want %q", r.Key(), want)
			}
		})
	}
}

func TestCopiesAreIndependent(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	c := f.Controls()
	c[0].Title = "changed"
	if got, _ := f.Control("5.1"); got.Title != "Policies for information security" {
		t.Errorf("changing Controls() result changed the framework: %q", got.Title)
	}
	m := Correspondence2013()
	m[0].Refs2022[0] = "changed"
	if got := Correspondence2013()[0].Refs2022[0]; got != "5.1" {
		t.Errorf("changing Correspondence2013() result changed the catalogue: %q", got)
	}
	n := NewIn2022()
	n[0] = "changed"
	if got := NewIn2022()[0]; got != "5.7" {
		t.Errorf("changing NewIn2022() result changed the catalogue: %q", got)
	}
	d := MandatoryDocuments()
	d[0].ID = "changed"
	if got := MandatoryDocuments()[0].ID; got != "isms_scope" {
		t.Errorf("changing MandatoryDocuments() result changed the catalogue: %q", got)
	}
}

func TestCorrespondence2013(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	maps := Correspondence2013()
	if len(maps) != 114 {
		t.Fatalf("len(Correspondence2013()) = %d, want 114", len(maps))
	}
	perSection := make(map[string]int)
	seen := make(map[string]bool)
	reached := make(map[string]bool)
	for _, m := range maps {
		if seen[m.Ref2013] {
			t.Errorf("2013 control %s listed twice", m.Ref2013)
		}
		seen[m.Ref2013] = true
		if m.Title2013 == "" || len(m.Refs2022) == 0 {
			t.Errorf("2013 control %s: incomplete %+v", m.Ref2013, m)
		}
		perSection[strings.Join(strings.Split(m.Ref2013, ".")[:2], ".")]++
		for _, ref := range m.Refs2022 {
			if _, ok := f.Control(ref); !ok {
				t.Errorf("2013 control %s maps to unknown control %q", m.Ref2013, ref)
			}
			reached[ref] = true
		}
	}
	if !slices.IsSortedFunc(maps, func(a, b Mapping2013) int { return CompareRefs(a.Ref2013, b.Ref2013) }) {
		t.Error("Correspondence2013() is not in ref order")
	}

	// Controls per clause of the 2013 Annex A.
	sections := map[string]int{
		"A.5": 2, "A.6": 7, "A.7": 6, "A.8": 10, "A.9": 14, "A.10": 2, "A.11": 15,
		"A.12": 14, "A.13": 7, "A.14": 13, "A.15": 5, "A.16": 7, "A.17": 4, "A.18": 8,
	}
	for s, want := range sections {
		if perSection[s] != want {
			t.Errorf("section %s has %d controls, want %d", s, perSection[s], want)
		}
	}
	if len(perSection) != len(sections) {
		t.Errorf("sections = %v, want %v", perSection, sections)
	}

	isNew := make(map[string]bool)
	for _, ref := range NewIn2022() {
		isNew[ref] = true
	}
	for _, c := range f.Controls() {
		if reached[c.Ref] == isNew[c.Ref] {
			t.Errorf("control %s: reached from 2013 = %v, new in 2022 = %v", c.Ref, reached[c.Ref], isNew[c.Ref])
		}
	}
}

func TestCorrespondence2013Entries(t *testing.T) {
	t.Parallel()
	byRef := make(map[string]Mapping2013)
	for _, m := range Correspondence2013() {
		byRef[m.Ref2013] = m
	}
	tests := []struct {
		ref2013, title2013 string
		refs2022           []string
	}{
		{"A.5.1.1", "Policies for information security", []string{"5.1"}},
		{"A.5.1.2", "Review of the policies for information security", []string{"5.1"}},
		{"A.6.2.1", "Mobile device policy", []string{"8.1"}},
		{"A.8.2.3", "Handling of assets", []string{"5.10"}},
		{"A.9.2.3", "Management of privileged access rights", []string{"8.2"}},
		{"A.9.4.2", "Secure log-on procedures", []string{"8.5"}},
		{"A.9.4.3", "Password management system", []string{"5.17"}},
		{"A.11.1.6", "Delivery and loading areas", []string{"7.2"}},
		{"A.11.2.5", "Removal of assets", []string{"7.10"}},
		{"A.11.2.8", "Unattended user equipment", []string{"8.1"}},
		{"A.12.1.1", "Documented operating procedures", []string{"5.37"}},
		{"A.12.4.1", "Event logging", []string{"8.15"}},
		{"A.12.6.2", "Restrictions on software installation", []string{"8.19"}},
		{"A.12.7.1", "Information systems audit controls", []string{"8.34"}},
		{"A.14.1.1", "Information security requirements analysis and specification", []string{"5.8"}},
		{"A.14.2.6", "Secure development environment", []string{"8.31"}},
		{"A.16.1.3", "Reporting information security weaknesses", []string{"6.8"}},
		{"A.17.2.1", "Availability of information processing facilities", []string{"8.14"}},
		{"A.18.1.5", "Regulation of cryptographic controls", []string{"5.31"}},
		{"A.18.2.3", "Technical compliance review", []string{"5.36", "8.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.ref2013, func(t *testing.T) {
			t.Parallel()
			m, ok := byRef[tt.ref2013]
			if !ok {
				t.Fatalf("%s not found", tt.ref2013)
			}
			if m.Title2013 != tt.title2013 || !slices.Equal(m.Refs2022, tt.refs2022) {
				t.Errorf("got %+v, want title %q refs %v", m, tt.title2013, tt.refs2022)
			}
		})
	}
}

func TestNewIn2022(t *testing.T) {
	t.Parallel()
	want := []string{"5.7", "5.23", "5.30", "7.4", "8.9", "8.10", "8.11", "8.12", "8.16", "8.23", "8.28"}
	got := NewIn2022()
	if !slices.Equal(got, want) {
		t.Errorf("NewIn2022() = %v, want %v", got, want)
	}
}

func TestMandatoryDocuments(t *testing.T) {
	t.Parallel()
	f := ISO27001v2022()
	docs := MandatoryDocuments()
	ids := make(map[string]MandatoryDocument)
	for _, d := range docs {
		if _, dup := ids[d.ID]; dup {
			t.Errorf("duplicate id %s", d.ID)
		}
		ids[d.ID] = d
		if !docIDRE.MatchString(d.ID) {
			t.Errorf("id %q is not snake_case", d.ID)
		}
		if _, ok := f.Clause(d.Clause); !ok {
			t.Errorf("%s: clause %q does not exist", d.ID, d.Clause)
		}
		if d.Name == "" {
			t.Errorf("%s: empty name", d.ID)
		}
	}
	tests := []struct{ id, clause, item string }{
		{"isms_scope", "4.3", ""},
		{"information_security_policy", "5.2", ""},
		{"risk_assessment_process", "6.1.2", ""},
		{"risk_treatment_process", "6.1.3", ""},
		{"soa", "6.1.3", "d"},
		{"information_security_objectives", "6.2", ""},
		{"competence_evidence", "7.2", ""},
		{"isms_documented_information", "7.5.1", "b"},
		{"operational_planning_control", "8.1", ""},
		{"risk_assessment_results", "8.2", ""},
		{"risk_treatment_results", "8.3", ""},
		{"monitoring_measurement_results", "9.1", ""},
		{"audit_programme_results", "9.2.2", ""},
		{"management_review_results", "9.3.3", ""},
		{"nonconformity_corrective_action_results", "10.2", ""},
	}
	if len(docs) != len(tests) {
		t.Errorf("len(MandatoryDocuments()) = %d, want %d", len(docs), len(tests))
	}
	for i, tt := range tests {
		d, ok := ids[tt.id]
		if !ok {
			t.Errorf("%s missing", tt.id)
			continue
		}
		if d.Clause != tt.clause || d.Item != tt.item {
			t.Errorf("%s: clause %s item %q, want clause %s item %q", tt.id, d.Clause, d.Item, tt.clause, tt.item)
		}
		if i < len(docs) && docs[i].ID != tt.id {
			t.Errorf("MandatoryDocuments()[%d] = %s, want %s (clause order)", i, docs[i].ID, tt.id)
		}
	}
}

func TestCompareRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"5.9", "5.10", -1},
		{"5.10", "5.9", 1},
		{"5.1", "5.1", 0},
		{"8.34", "8.4", 1},
		{"6.1", "6.1.1", -1},
		{"6.1.3", "6.2", -1},
		{"9.3.3", "10.1", -1},
		{"10.2", "4.1", 1},
		{"A.9.4.5", "A.10.1.1", -1},
		{"A.12.4.1", "A.12.4.1", 0},
		{"05", "5", -1},
		{"5", "05", 1},
		{"a", "b", -1},
		{"5.a", "5.1", 1},
		{"", "1", -1},
		{"", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			t.Parallel()
			if got := CompareRefs(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareRefs(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := CompareRefs(tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareRefs(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestParseRejectsBadData(t *testing.T) {
	t.Parallel()
	const (
		clause  = `{"ref":"4.1","title":"T","purpose":"P."}`
		control = `{"ref":"5.1","title":"T","theme":"Organizational","purpose":"P."}`
		mapping = `{"ref_2013":"A.5.1.1","title_2013":"T","refs_2022":["5.1"]}`
		doc     = `{"id":"isms_scope","clause":"4.1","name":"N"}`
	)
	file := func(clauses, controls, maps, news, docs string) string {
		return `{"id":"x","name":"X","clauses":[` + clauses + `],"controls":[` + controls +
			`],"correspondence_2013":[` + maps + `],"new_in_2022":[` + news + `],"mandatory_documents":[` + docs + `]}`
	}
	tests := []struct {
		name, data, wantErr string
	}{
		{"unknown field", `{"id":"x","name":"X","extra":1}`, "unknown field"},
		{"trailing data", file(clause, control, mapping, "", doc) + `{}`, "trailing data"},
		{"missing name", `{"id":"x"}`, "id and name"},
		{"duplicate control", file(clause, control+","+control, mapping, "", doc), "duplicate ref"},
		{"duplicate clause", file(clause+","+clause, control, mapping, "", doc), "duplicate ref"},
		{"theme mismatch", file(clause, `{"ref":"6.1","title":"T","theme":"Physical","purpose":"P."}`, mapping, "", doc), "theme"},
		{"control without purpose", file(clause, `{"ref":"5.1","title":"T","theme":"Organizational"}`, mapping, "", doc), "purpose"},
		{"clause with theme", file(`{"ref":"4.1","title":"T","theme":"People","purpose":"P."}`, control, mapping, "", doc), "no theme"},
		{"control kind on clause", file(`{"ref":"4.1","title":"T","kind":"control","purpose":"P."}`, control, mapping, "", doc), "kind"},
		{"malformed control ref", file(clause, `{"ref":"9.1","title":"T","theme":"Organizational","purpose":"P."}`, mapping, "", doc), "malformed"},
		{"mapping to unknown control", file(clause, control, `{"ref_2013":"A.5.1.1","title_2013":"T","refs_2022":["5.2"]}`, "", doc), "unknown 2022 control"},
		{"mapping to nothing", file(clause, control, `{"ref_2013":"A.5.1.1","title_2013":"T","refs_2022":[]}`, "", doc), "no 2022 control"},
		{"duplicate 2013 ref", file(clause, control, mapping+","+mapping, "", doc), "duplicate ref"},
		{"new control that is mapped", file(clause, control, mapping, `"5.1"`, doc), "reached from 2013"},
		{"new control unknown", file(clause, control, mapping, `"5.2"`, doc), "not a 2022 control"},
		{"document clause unknown", file(clause, control, mapping, "", `{"id":"soa","clause":"6.1.3","name":"N"}`), "unknown clause"},
		{"document id not snake_case", file(clause, control, mapping, "", `{"id":"SoA","clause":"4.1","name":"N"}`), "snake_case"},
		{"duplicate document", file(clause, control, mapping, "", doc+","+doc), "duplicate id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parse() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := parse([]byte(file(clause, control, mapping, "", doc))); err != nil {
		t.Errorf("parse(valid) error = %v", err)
	}
}
