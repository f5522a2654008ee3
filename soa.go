package vigil

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SoAStatus is how far a control is implemented.
type SoAStatus string

// The implementation statuses.
const (
	SoANotStarted           SoAStatus = "not_started"
	SoAPlanned              SoAStatus = "planned"
	SoAPartiallyImplemented SoAStatus = "partially_implemented"
	SoAImplemented          SoAStatus = "implemented"
)

// SoAStatuses lists every implementation status.
var SoAStatuses = []SoAStatus{SoANotStarted, SoAPlanned, SoAPartiallyImplemented, SoAImplemented}

// SoARow is one Annex A control in the Statement of Applicability, as the
// organisation sees it: its decision, plus what the risk register says.
type SoARow struct {
	Ref           string    `json:"ref"`
	Title         string    `json:"title"`
	Theme         string    `json:"theme"`
	Applicable    *bool     `json:"applicable"`
	Justification string    `json:"justification"`
	Status        SoAStatus `json:"status"`
	Owner         string    `json:"owner"`
	Risks         []string  `json:"risks"`
	EvidenceCount int       `json:"evidence_count"`
	// Monitoring is the live evidence of the monitoring half for the
	// controls it implements (rules citing the control, their alerts,
	// incidents for 5.24-5.28); nil for other controls.
	Monitoring *ControlMonitoring `json:"monitoring,omitempty"`
	// RequiredBy lists the risks treated by modification that name the
	// control: while there are any, the control is applicable.
	RequiredBy []string `json:"-"`
}

// Decided reports whether the row is decided and justified: what a
// complete SoA needs of every control (ISO/IEC 27001 6.1.3 d asks for the
// justification of inclusions as well as exclusions).
func (r SoARow) Decided() bool {
	return r.Applicable != nil && strings.TrimSpace(r.Justification) != ""
}

// SoAEntry is an organisation's stored decision about one control.
type SoAEntry struct {
	Applicable    *bool
	Justification string
	Status        SoAStatus
	Owner         string
}

// EffectiveSoARow combines a stored decision with the risks that name the
// control. A control named by a risk treated by modification is applicable,
// and its justification cites those risks.
func EffectiveSoARow(ref, title, theme string, e SoAEntry, risks, requiredBy []string, evidence int) SoARow {
	row := SoARow{Ref: ref, Title: title, Theme: theme, Applicable: e.Applicable, Justification: e.Justification,
		Status: e.Status, Owner: e.Owner, Risks: risks, EvidenceCount: evidence, RequiredBy: requiredBy}
	if row.Status == "" {
		row.Status = SoANotStarted
	}
	if row.Risks == nil {
		row.Risks = []string{}
	}
	if len(requiredBy) == 0 {
		return row
	}
	yes := true
	row.Applicable = &yes
	base := e.Justification
	if e.Applicable != nil && !*e.Applicable {
		base = "" // the reason for exclusion no longer holds
	}
	if !slices.ContainsFunc(requiredBy, func(r string) bool { return !arContainsRef(base, r) }) {
		row.Justification = base
		return row
	}
	cite := "Treats " + strings.Join(requiredBy, ", ") + "."
	if base == "" {
		row.Justification = cite
	} else {
		row.Justification = strings.TrimRight(base, " ") + " " + cite
	}
	return row
}

// arContainsRef reports whether text names ref as a whole word (RSK-1, not
// the start of RSK-12).
func arContainsRef(text, ref string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], ref)
		if j < 0 {
			return false
		}
		end := i + j + len(ref)
		if end == len(text) || text[end] < '0' || text[end] > '9' {
			return true
		}
		i = end
	}
}

// SoAUpdate changes one control's decision. SetApplicable tells "make it
// undecided" (Applicable nil) from "leave applicability alone".
type SoAUpdate struct {
	SetApplicable bool
	Applicable    *bool
	Justification *string
	Status        *SoAStatus
	Owner         *string
}

// Apply returns e with the changes of u, trimmed and checked.
func (u SoAUpdate) Apply(e SoAEntry) (SoAEntry, []FieldError) {
	var errs []FieldError
	if u.SetApplicable {
		e.Applicable = u.Applicable
	}
	if u.Justification != nil {
		e.Justification = strings.TrimSpace(*u.Justification)
		errs = arCheckLen(errs, "justification", e.Justification, 5000)
	}
	if u.Status != nil {
		s := SoAStatus(strings.ToLower(strings.TrimSpace(string(*u.Status))))
		if !slices.Contains(SoAStatuses, s) {
			errs = append(errs, FieldError{"status", "must be one of " + arJoinEnum(SoAStatuses)})
		}
		e.Status = s
	}
	if e.Status == "" {
		e.Status = SoANotStarted
	}
	if u.Owner != nil {
		e.Owner = strings.TrimSpace(*u.Owner)
	}
	if e.Applicable != nil && !*e.Applicable && e.Justification == "" {
		errs = append(errs, FieldError{"justification", "a control that is not applicable needs a justification"})
	}
	return e, errs
}

// ParseApplicable reads the JSON value of "applicable": true, false or
// null (undecided).
func ParseApplicable(raw json.RawMessage) (*bool, error) {
	switch strings.TrimSpace(string(raw)) {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	case "null":
		return nil, nil
	}
	return nil, Invalid("applicable", "must be true, false or null (undecided)")
}

// SoAVersion is an approved, frozen Statement of Applicability.
type SoAVersion struct {
	Version    int       `json:"version"`
	ApprovedAt time.Time `json:"approved_at"`
	ApprovedBy string    `json:"approved_by"`
	Items      []SoARow  `json:"items,omitempty"`
}

// SoAChange is one difference between two versions of the SoA.
type SoAChange struct {
	Ref    string `json:"ref"`
	Title  string `json:"title"`
	Field  string `json:"field"` // applicable, justification or status
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// DiffSoA lists what changed from one SoA to another: applicability,
// justification and status, control by control in Annex A order.
func DiffSoA(from, to []SoARow) []SoAChange {
	old := make(map[string]SoARow, len(from))
	for _, r := range from {
		old[r.Ref] = r
	}
	changes := []SoAChange{}
	for _, n := range to {
		o, ok := old[n.Ref]
		if !ok {
			o = SoARow{Ref: n.Ref, Status: SoANotStarted}
		}
		if !arSameBool(o.Applicable, n.Applicable) {
			changes = append(changes, SoAChange{Ref: n.Ref, Title: n.Title, Field: "applicable", Before: arBoolOrNil(o.Applicable), After: arBoolOrNil(n.Applicable)})
		}
		if o.Justification != n.Justification {
			changes = append(changes, SoAChange{Ref: n.Ref, Title: n.Title, Field: "justification", Before: o.Justification, After: n.Justification})
		}
		if o.Status != n.Status {
			changes = append(changes, SoAChange{Ref: n.Ref, Title: n.Title, Field: "status", Before: o.Status, After: n.Status})
		}
	}
	return changes
}

func arSameBool(a, b *bool) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func arBoolOrNil(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// ApplicableText renders applicability for people: Yes, No or Undecided.
func ApplicableText(b *bool) string {
	switch {
	case b == nil:
		return "Undecided"
	case *b:
		return "Yes"
	}
	return "No"
}

// SoAExportColumns are the columns of an exported SoA.
var SoAExportColumns = []string{"Ref", "Control", "Theme", "Applicable", "Justification", "Status", "Owner", "Risks", "Evidence"}

// SoAExportWidths are the relative PDF column widths of an exported SoA.
var SoAExportWidths = []float64{5, 22, 9, 7, 30, 11, 13, 10, 6}

// SoAExportRows renders the SoA as table rows; person names a user id.
func SoAExportRows(rows []SoARow, person func(id string) string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = []string{r.Ref, r.Title, r.Theme, ApplicableText(r.Applicable), r.Justification, string(r.Status),
			person(r.Owner), strings.Join(r.Risks, ", "), strconv.Itoa(r.EvidenceCount)}
	}
	return out
}

// SoACover says which SoA an export shows, for its first page.
type SoACover struct {
	Org string
	// Version is the approved version shown, or the latest approved one
	// when Draft; 0 when none was ever approved.
	Version    int
	ApprovedAt time.Time
	Approver   string
	// Draft is true when the export shows the working SoA, which differs
	// from the latest approved version (or no version exists).
	Draft     bool
	Generated time.Time
}

// Lines are the cover lines: organisation, version, approval date and
// approver.
func (c SoACover) Lines() []string {
	lines := []string{"Organisation: " + c.Org}
	approved := c.ApprovedAt.UTC().Format(time.DateOnly)
	switch {
	case c.Version == 0:
		lines = append(lines, "Version: working draft (no version approved yet)", "Approval date: not approved", "Approved by: not approved")
	case c.Draft:
		lines = append(lines, "Version: working draft with changes since version "+strconv.Itoa(c.Version)+" (approved "+approved+" by "+c.Approver+")",
			"Approval date: not approved", "Approved by: not approved")
	default:
		lines = append(lines, "Version: "+strconv.Itoa(c.Version), "Approval date: "+approved, "Approved by: "+c.Approver)
	}
	if !c.Generated.IsZero() {
		lines = append(lines, "Generated: "+c.Generated.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return lines
}

// OwnControlKind is the reference kind of an organisation's own controls.
const OwnControlKind = "CTL"

// OrgControl is a control an organisation defines beside Annex A; risks
// may name it by its reference.
type OrgControl struct {
	ID          string    `json:"id"`
	Ref         string    `json:"ref"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Owner       string    `json:"owner"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// OrgControlInput is a new own control or the full state of one.
type OrgControlInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
}

// OrgControlUpdate changes an own control; nil fields stay as they are.
type OrgControlUpdate struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Owner       *string `json:"owner"`
}

// Input returns the control as the input that would recreate it.
func (c OrgControl) Input() OrgControlInput {
	return OrgControlInput{Title: c.Title, Description: c.Description, Owner: c.Owner}
}

// Apply returns in with the fields of u that are set.
func (u OrgControlUpdate) Apply(in OrgControlInput) OrgControlInput {
	arSetStr(&in.Title, u.Title)
	arSetStr(&in.Description, u.Description)
	arSetStr(&in.Owner, u.Owner)
	return in
}

// Normalize trims the input and reports every bad field.
func (in *OrgControlInput) Normalize() []FieldError {
	var errs []FieldError
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "":
		errs = append(errs, FieldError{"title", "must not be empty"})
	case utf8.RuneCountInString(in.Title) > 200:
		errs = append(errs, FieldError{"title", "must be at most 200 characters"})
	}
	in.Description = strings.TrimSpace(in.Description)
	errs = arCheckLen(errs, "description", in.Description, 10000)
	in.Owner = strings.TrimSpace(in.Owner)
	return errs
}

// ControlMonitoring is what detection contributes to one control's
// evidence.
type ControlMonitoring struct {
	Rules     int `json:"rules"`      // enabled rules citing the control
	Alerts30d int `json:"alerts_30d"` // their alerts in the last 30 days
	Incidents int `json:"incidents"`  // incidents recorded (5.24-5.28)
}
