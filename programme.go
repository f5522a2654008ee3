package vigil

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ProgrammeCycleYears is the length of the certification cycle an audit
// programme spans.
const ProgrammeCycleYears = 3

// DefaultAuditFrequencyMonths audits every area at least once a year, which
// certification bodies expect of an internal audit programme.
const DefaultAuditFrequencyMonths = 12

// ProgrammeArea is an area the programme plans to audit: a clause or
// control ref (as in an audit scope) or a process, with how often.
type ProgrammeArea struct {
	Ref             string `json:"ref"`  // "9.2", "A.8.15", or a process name
	Kind            string `json:"kind"` // requirement or process
	FrequencyMonths int    `json:"frequency_months"`
	Reason          string `json:"reason"` // why the frequency was raised
	Owner           string `json:"owner"`  // process owner (user id), for impartiality
}

// AuditProgramme is the internal audit programme (9.2.2) of the current
// certification cycle.
type AuditProgramme struct {
	CycleStart string          `json:"cycle_start"`
	CycleEnd   string          `json:"cycle_end"` // cycle_start + 3 years
	Objectives TextList        `json:"objectives"`
	Areas      []ProgrammeArea `json:"areas"`
	// DefaultFrequencyMonths applies to every clause and applicable control
	// not listed in Areas.
	DefaultFrequencyMonths int       `json:"default_frequency_months"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// AuditProgrammeInput replaces the programme.
type AuditProgrammeInput struct {
	CycleStart             string          `json:"cycle_start"`
	Objectives             TextList        `json:"objectives"`
	Areas                  []ProgrammeArea `json:"areas"`
	DefaultFrequencyMonths int             `json:"default_frequency_months"`
}

// Normalize checks a programme.
func (in AuditProgrammeInput) Normalize() (AuditProgrammeInput, error) {
	var err error
	if in.CycleStart, err = ParseDateField("cycle_start", in.CycleStart); err != nil {
		return in, err
	}
	if in.Objectives, err = registerTextList("objectives", in.Objectives); err != nil {
		return in, err
	}
	if in.DefaultFrequencyMonths == 0 {
		in.DefaultFrequencyMonths = DefaultAuditFrequencyMonths
	}
	if in.DefaultFrequencyMonths < 1 || in.DefaultFrequencyMonths > 36 {
		return in, Invalid("default_frequency_months", "must be between 1 and 36")
	}
	seen := map[string]bool{}
	for i := range in.Areas {
		a := &in.Areas[i]
		f := fmt.Sprintf("areas[%d]", i)
		a.Ref = strings.TrimSpace(a.Ref)
		if a.Ref == "" {
			return in, Invalid(f+".ref", "must not be empty")
		}
		if a.Kind == "" {
			a.Kind = "requirement"
		}
		if a.Kind != "requirement" && a.Kind != "process" {
			return in, Invalid(f+".kind", "must be requirement or process")
		}
		key := a.Kind + ":" + strings.ToLower(a.Ref)
		if seen[key] {
			return in, Invalid(f+".ref", "%s is listed twice", a.Ref)
		}
		seen[key] = true
		if a.FrequencyMonths == 0 {
			a.FrequencyMonths = in.DefaultFrequencyMonths
		}
		if a.FrequencyMonths < 1 || a.FrequencyMonths > 36 {
			return in, Invalid(f+".frequency_months", "must be between 1 and 36")
		}
		if a.Reason, err = registerText(f+".reason", a.Reason, registerMaxText); err != nil {
			return in, err
		}
		a.Owner = strings.TrimSpace(a.Owner)
	}
	return in, nil
}

// CoverageStatus says how far the programme covers an item.
type CoverageStatus string

// An item is audited when a completed audit of the cycle covered it with a
// result, planned when an audit not yet done covers it, and not covered
// otherwise.
const (
	CoverageAudited    CoverageStatus = "audited"
	CoveragePlanned    CoverageStatus = "planned"
	CoverageNotCovered CoverageStatus = "not_covered"
)

// CoverageItem is one clause, applicable control or process of the
// programme and how the cycle's audits cover it.
type CoverageItem struct {
	Ref             string         `json:"ref"`
	Kind            string         `json:"kind"` // clause, control, process
	Title           string         `json:"title"`
	Status          CoverageStatus `json:"status"`
	FrequencyMonths int            `json:"frequency_months"`
	LastAudited     string         `json:"last_audited"` // date of the last audit that covered it
	NextDue         string         `json:"next_due"`     // last audited (or cycle start) + frequency
	Overdue         bool           `json:"overdue"`
	Audits          []string       `json:"audits"` // refs of the cycle's audits covering it
}

// Coverage answers 9.2.c for the current cycle.
type Coverage struct {
	CycleStart string         `json:"cycle_start"`
	CycleEnd   string         `json:"cycle_end"`
	Audited    int            `json:"audited"`
	Planned    int            `json:"planned"`
	NotCovered int            `json:"not_covered"`
	Items      []CoverageItem `json:"items"`
}

// Uncovered lists the refs nobody plans to audit.
func (c Coverage) Uncovered() []string {
	var out []string
	for _, it := range c.Items {
		if it.Status == CoverageNotCovered {
			out = append(out, it.Ref)
		}
	}
	return out
}

// ScopeCovers reports whether a scope ref covers an item ref: the same
// ref, or one numbered below it ("9.2" covers "9.2.1", "A.5" covers
// "A.5.15").
func ScopeCovers(scopeRef, item string) bool {
	return strings.EqualFold(scopeRef, item) || (len(item) > len(scopeRef) && strings.EqualFold(item[:len(scopeRef)], scopeRef) && item[len(scopeRef)] == '.')
}

// ScopeCoversAny reports whether any of the scope refs covers item.
func ScopeCoversAny(refs []string, item string) bool {
	return slices.ContainsFunc(refs, func(r string) bool { return ScopeCovers(r, item) })
}

// Change is a significant change to the organisation or the ISMS, which
// may call for a special audit, cited as CHG-n.
type Change struct {
	ID          string    `json:"id"`
	Ref         string    `json:"ref"`
	Title       string    `json:"title"` // what changed
	Description string    `json:"description"`
	ChangedOn   string    `json:"changed_on"` // when
	Reason      string    `json:"reason"`     // why
	Significant bool      `json:"significant"`
	Audits      []string  `json:"audits"` // refs of special audits raised from it
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ChangeInput records a change.
type ChangeInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	ChangedOn   string `json:"changed_on"`
	Reason      string `json:"reason"`
	Significant bool   `json:"significant"`
}

// Normalize checks a change.
func (in ChangeInput) Normalize() (ChangeInput, error) {
	var err error
	if in.Title, err = registerTitle("title", in.Title); err != nil {
		return in, err
	}
	if in.Description, err = registerText("description", in.Description, registerMaxText); err != nil {
		return in, err
	}
	if in.ChangedOn, err = ParseDateField("changed_on", in.ChangedOn); err != nil {
		return in, err
	}
	if in.ChangedOn == "" {
		return in, Invalid("changed_on", "must be set")
	}
	if in.Reason, err = registerText("reason", in.Reason, registerMaxText); err != nil {
		return in, err
	}
	return in, nil
}
