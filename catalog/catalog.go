// Package catalog ships the ISO/IEC 27001:2022 catalogue as embedded,
// read-only data: the management-system clauses 4 to 10, the 93 Annex A
// controls, the correspondence from the 2013 Annex A, and the documented
// information the standard makes mandatory.
//
// Titles and references follow the standard; every summary and purpose text
// is Vigil's own wording. Clause and control references overlap textually
// ("5.1" is both a clause and a control), so lookups always go through a
// Kind: use [Framework.Clause] or [Framework.Control], and [Requirement.Key]
// when one string must identify an item.
//
// The package imports only the standard library.
package catalog

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// FrameworkID is the stable identifier of the ISO/IEC 27001:2022 framework.
const FrameworkID = "iso27001-2022"

// Kind tells a management-system clause from an Annex A control.
type Kind string

// The kinds of requirement in a framework.
const (
	// KindClause is a requirement of clauses 4 to 10 of the standard.
	KindClause Kind = "clause"
	// KindControl is an Annex A control.
	KindControl Kind = "control"
)

// Theme is the Annex A theme a control belongs to.
type Theme string

// The four Annex A themes of ISO/IEC 27001:2022.
const (
	// ThemeOrganizational holds controls 5.1 to 5.37.
	ThemeOrganizational Theme = "Organizational"
	// ThemePeople holds controls 6.1 to 6.8.
	ThemePeople Theme = "People"
	// ThemePhysical holds controls 7.1 to 7.14.
	ThemePhysical Theme = "Physical"
	// ThemeTechnological holds controls 8.1 to 8.34.
	ThemeTechnological Theme = "Technological"
)

// Requirement is one clause or one Annex A control of a framework.
type Requirement struct {
	// Ref is the number in the standard, such as "6.1.2" or "8.15".
	Ref string `json:"ref"`
	// Title is the official short title.
	Title string `json:"title"`
	// Kind says whether Ref is a clause or a control.
	Kind Kind `json:"kind"`
	// Theme is set for controls only.
	Theme Theme `json:"theme,omitempty"`
	// Purpose summarises the item in Vigil's own words: one sentence for
	// a clause, a short paragraph for a control.
	Purpose string `json:"purpose,omitempty"`
}

// Key returns an identifier that is unique within a framework even where a
// clause and a control share a Ref, for example "clause:5.1" and
// "control:5.1".
func (r Requirement) Key() string {
	return string(r.Kind) + ":" + r.Ref
}

// Framework is a compliance framework and its requirements.
//
// The value returned by [ISO27001v2022] is shared: treat Requirements as
// read-only and use [Framework.Clauses] or [Framework.Controls] for a copy
// you may modify.
type Framework struct {
	// ID is the stable identifier, such as [FrameworkID].
	ID string `json:"id"`
	// Name is the human-readable name.
	Name string `json:"name"`
	// Requirements lists the clauses first, in clause order, then the
	// controls in numeric order.
	Requirements []Requirement `json:"requirements"`

	index map[reqKey]int
}

type reqKey struct {
	kind Kind
	ref  string
}

// ISO27001v2022 returns the ISO/IEC 27001:2022 framework. The embedded data
// is parsed once; every call returns the same value.
func ISO27001v2022() *Framework {
	return load().framework
}

// Controls returns a copy of the Annex A controls in numeric order.
func (f *Framework) Controls() []Requirement {
	return f.ofKind(KindControl)
}

// Clauses returns a copy of the clauses in clause order.
func (f *Framework) Clauses() []Requirement {
	return f.ofKind(KindClause)
}

// Control returns the Annex A control with the given ref, such as "5.1".
func (f *Framework) Control(ref string) (Requirement, bool) {
	return f.lookup(KindControl, ref)
}

// Clause returns the clause with the given ref, such as "5.1" or "6.1.3".
func (f *Framework) Clause(ref string) (Requirement, bool) {
	return f.lookup(KindClause, ref)
}

func (f *Framework) ofKind(k Kind) []Requirement {
	var out []Requirement
	for _, r := range f.Requirements {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

func (f *Framework) lookup(k Kind, ref string) (Requirement, bool) {
	i, ok := f.index[reqKey{k, ref}]
	if !ok {
		return Requirement{}, false
	}
	return f.Requirements[i], true
}

// Mapping2013 records where one control of the ISO/IEC 27001:2013 Annex A
// went in the 2022 edition.
type Mapping2013 struct {
	// Ref2013 is the 2013 reference, such as "A.12.4.1".
	Ref2013 string `json:"ref_2013"`
	// Title2013 is the 2013 control title.
	Title2013 string `json:"title_2013"`
	// Refs2022 lists the 2022 control refs that took over this control.
	Refs2022 []string `json:"refs_2022"`
}

// Correspondence2013 returns the 114 controls of the 2013 Annex A, in
// numeric order, each with the 2022 controls it corresponds to. The result
// is a fresh copy.
func Correspondence2013() []Mapping2013 {
	src := load().correspondence
	out := make([]Mapping2013, len(src))
	for i, m := range src {
		m.Refs2022 = slices.Clone(m.Refs2022)
		out[i] = m
	}
	return out
}

// NewIn2022 returns, in numeric order, the refs of the 2022 controls that
// have no predecessor in the 2013 edition.
func NewIn2022() []string {
	return slices.Clone(load().newIn2022)
}

// MandatoryDocument is a piece of documented information that ISO/IEC
// 27001:2022 requires an organisation to maintain or retain.
type MandatoryDocument struct {
	// ID is a stable snake_case identifier, such as "isms_scope" or "soa".
	ID string `json:"id"`
	// Clause is the ref of the clause that requires it; it always resolves
	// with [Framework.Clause].
	Clause string `json:"clause"`
	// Item is the lettered list item within Clause, such as "d" for the
	// Statement of Applicability in 6.1.3, or empty.
	Item string `json:"item,omitempty"`
	// Name is a short human-readable name.
	Name string `json:"name"`
}

// MandatoryDocuments returns the mandatory documented information of
// ISO/IEC 27001:2022 in clause order. The result is a fresh copy.
func MandatoryDocuments() []MandatoryDocument {
	return slices.Clone(load().mandatory)
}

// CompareRefs compares two dotted references segment by segment, numerically
// where both segments are digits ("5.9" < "5.10"), and otherwise as text.
// A ref sorts before any longer ref it prefixes ("6.1" < "6.1.1"). It
// returns -1, 0 or +1, as [strings.Compare] does, and suits
// [slices.SortFunc]; it works for 2013 refs such as "A.12.4.1" too.
func CompareRefs(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(as), len(bs)) {
		if c := compareSegment(as[i], bs[i]); c != 0 {
			return c
		}
	}
	if c := len(as) - len(bs); c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	// Equal as numbers ("05" and "5"): fall back to text for a total order.
	return strings.Compare(a, b)
}

func compareSegment(a, b string) int {
	if !isDigits(a) || !isDigits(b) {
		return strings.Compare(a, b)
	}
	a, b = trimZeros(a), trimZeros(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// catalogue is everything parsed from one embedded data file.
type catalogue struct {
	framework      *Framework
	correspondence []Mapping2013
	newIn2022      []string
	mandatory      []MandatoryDocument
}

//go:embed data/iso27001-2022.json
var iso27001v2022Data []byte

// load parses the embedded data once. The data is compiled into the binary,
// so a parse failure is a programming error that the package tests catch;
// it panics rather than return an error no caller could act on.
var load = sync.OnceValue(func() *catalogue {
	c, err := parse(iso27001v2022Data)
	if err != nil {
		panic("catalog: " + err.Error())
	}
	return c
})
