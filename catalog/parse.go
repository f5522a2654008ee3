package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
)

// dataFile is the layout of a catalogue file under data/.
type dataFile struct {
	ID                 string              `json:"id"`
	Name               string              `json:"name"`
	Clauses            []Requirement       `json:"clauses"`
	Controls           []Requirement       `json:"controls"`
	Correspondence2013 []Mapping2013       `json:"correspondence_2013"`
	NewIn2022          []string            `json:"new_in_2022"`
	MandatoryDocuments []MandatoryDocument `json:"mandatory_documents"`
}

var (
	clauseRefRE  = regexp.MustCompile(`^(?:[4-9]|10)(?:\.[1-9][0-9]*){1,2}$`)
	controlRefRE = regexp.MustCompile(`^[5-8]\.[1-9][0-9]*$`)
	ref2013RE    = regexp.MustCompile(`^A\.[1-9][0-9]*\.[1-9][0-9]*\.[1-9][0-9]*$`)
	docIDRE      = regexp.MustCompile(`^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$`)
	docItemRE    = regexp.MustCompile(`^[a-z]?$`)
)

// themeOfSection gives the theme that owns each Annex A section number.
var themeOfSection = map[byte]Theme{
	'5': ThemeOrganizational,
	'6': ThemePeople,
	'7': ThemePhysical,
	'8': ThemeTechnological,
}

// parse decodes and validates a catalogue file. Unknown keys are errors, so a
// typo in the data cannot silently drop a field.
func parse(data []byte) (*catalogue, error) {
	var f dataFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode catalogue: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode catalogue: trailing data after object")
	}
	if f.ID == "" || f.Name == "" {
		return nil, errors.New("framework id and name are required")
	}

	fw := &Framework{ID: f.ID, Name: f.Name, index: make(map[reqKey]int)}
	for _, r := range f.Clauses {
		if r.Kind != "" && r.Kind != KindClause {
			return nil, fmt.Errorf("clause %s: kind %q", r.Ref, r.Kind)
		}
		r.Kind = KindClause
		if err := checkClause(r); err != nil {
			return nil, err
		}
		fw.Requirements = append(fw.Requirements, r)
	}
	for _, r := range f.Controls {
		if r.Kind != "" && r.Kind != KindControl {
			return nil, fmt.Errorf("control %s: kind %q", r.Ref, r.Kind)
		}
		r.Kind = KindControl
		if err := checkControl(r); err != nil {
			return nil, err
		}
		fw.Requirements = append(fw.Requirements, r)
	}
	slices.SortStableFunc(fw.Requirements, compareRequirements)
	for i, r := range fw.Requirements {
		k := reqKey{r.Kind, r.Ref}
		if _, dup := fw.index[k]; dup {
			return nil, fmt.Errorf("%s %s: duplicate ref", r.Kind, r.Ref)
		}
		fw.index[k] = i
	}

	seen2013 := make(map[string]bool)
	for _, m := range f.Correspondence2013 {
		if !ref2013RE.MatchString(m.Ref2013) {
			return nil, fmt.Errorf("2013 control %q: malformed ref", m.Ref2013)
		}
		if seen2013[m.Ref2013] {
			return nil, fmt.Errorf("2013 control %s: duplicate ref", m.Ref2013)
		}
		seen2013[m.Ref2013] = true
		if m.Title2013 == "" {
			return nil, fmt.Errorf("2013 control %s: title is required", m.Ref2013)
		}
		if len(m.Refs2022) == 0 {
			return nil, fmt.Errorf("2013 control %s: no 2022 control", m.Ref2013)
		}
		for _, ref := range m.Refs2022 {
			if _, ok := fw.Control(ref); !ok {
				return nil, fmt.Errorf("2013 control %s: unknown 2022 control %q", m.Ref2013, ref)
			}
		}
	}
	slices.SortFunc(f.Correspondence2013, func(a, b Mapping2013) int {
		return CompareRefs(a.Ref2013, b.Ref2013)
	})

	seenNew := make(map[string]bool)
	for _, ref := range f.NewIn2022 {
		if _, ok := fw.Control(ref); !ok {
			return nil, fmt.Errorf("new control %q: not a 2022 control", ref)
		}
		if seenNew[ref] {
			return nil, fmt.Errorf("new control %s: listed twice", ref)
		}
		seenNew[ref] = true
	}
	for _, m := range f.Correspondence2013 {
		for _, ref := range m.Refs2022 {
			if seenNew[ref] {
				return nil, fmt.Errorf("new control %s: reached from 2013 control %s", ref, m.Ref2013)
			}
		}
	}
	slices.SortFunc(f.NewIn2022, CompareRefs)

	seenDoc := make(map[string]bool)
	for _, d := range f.MandatoryDocuments {
		if !docIDRE.MatchString(d.ID) {
			return nil, fmt.Errorf("mandatory document %q: id is not snake_case", d.ID)
		}
		if seenDoc[d.ID] {
			return nil, fmt.Errorf("mandatory document %s: duplicate id", d.ID)
		}
		seenDoc[d.ID] = true
		if _, ok := fw.Clause(d.Clause); !ok {
			return nil, fmt.Errorf("mandatory document %s: unknown clause %q", d.ID, d.Clause)
		}
		if !docItemRE.MatchString(d.Item) {
			return nil, fmt.Errorf("mandatory document %s: item %q is not a single letter", d.ID, d.Item)
		}
		if d.Name == "" {
			return nil, fmt.Errorf("mandatory document %s: name is required", d.ID)
		}
	}
	slices.SortStableFunc(f.MandatoryDocuments, func(a, b MandatoryDocument) int {
		if c := CompareRefs(a.Clause, b.Clause); c != 0 {
			return c
		}
		return CompareRefs(a.Item, b.Item)
	})

	return &catalogue{
		framework:      fw,
		correspondence: f.Correspondence2013,
		newIn2022:      f.NewIn2022,
		mandatory:      f.MandatoryDocuments,
	}, nil
}

func checkClause(r Requirement) error {
	if !clauseRefRE.MatchString(r.Ref) {
		return fmt.Errorf("clause %q: malformed ref", r.Ref)
	}
	if r.Theme != "" {
		return fmt.Errorf("clause %s: a clause has no theme", r.Ref)
	}
	if r.Title == "" || r.Purpose == "" {
		return fmt.Errorf("clause %s: title and purpose are required", r.Ref)
	}
	return nil
}

func checkControl(r Requirement) error {
	if !controlRefRE.MatchString(r.Ref) {
		return fmt.Errorf("control %q: malformed ref", r.Ref)
	}
	if want := themeOfSection[r.Ref[0]]; r.Theme != want {
		return fmt.Errorf("control %s: theme %q, want %q", r.Ref, r.Theme, want)
	}
	if r.Title == "" || r.Purpose == "" {
		return fmt.Errorf("control %s: title and purpose are required", r.Ref)
	}
	return nil
}

// compareRequirements orders clauses before controls, each by ref.
func compareRequirements(a, b Requirement) int {
	if a.Kind != b.Kind {
		if a.Kind == KindClause {
			return -1
		}
		return 1
	}
	return CompareRefs(a.Ref, b.Ref)
}
