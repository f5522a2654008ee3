package vigil

import (
	"slices"
	"strings"
	"time"
)

// ContextIssueKind says whether an issue arises inside or outside the
// organisation (clause 4.1).
type ContextIssueKind string

// The kinds of context issue.
const (
	ContextInternal ContextIssueKind = "internal"
	ContextExternal ContextIssueKind = "external"
)

// ContextIssueStatus says whether an issue still bears on the ISMS.
type ContextIssueStatus string

// The statuses of a context issue: open issues are acted on, monitored ones
// watched, closed ones kept for the record.
const (
	ContextOpen       ContextIssueStatus = "open"
	ContextMonitoring ContextIssueStatus = "monitoring"
	ContextClosed     ContextIssueStatus = "closed"
)

// ContextIssueKinds and ContextIssueStatuses list the valid values, for
// forms and validation.
var (
	ContextIssueKinds    = []ContextIssueKind{ContextInternal, ContextExternal}
	ContextIssueStatuses = []ContextIssueStatus{ContextOpen, ContextMonitoring, ContextClosed}
)

// ContextIssue is an internal or external issue that affects what the ISMS
// can achieve (clause 4.1), cited as CTX-n.
type ContextIssue struct {
	ID          string             `json:"id"`
	Ref         string             `json:"ref"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
	Kind        ContextIssueKind   `json:"kind"`
	Effect      string             `json:"effect"`
	Status      ContextIssueStatus `json:"status"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

// ContextIssueInput creates a context issue; Status defaults to open.
type ContextIssueInput struct {
	Title       string             `json:"title"`
	Description string             `json:"description"`
	Kind        ContextIssueKind   `json:"kind"`
	Effect      string             `json:"effect"`
	Status      ContextIssueStatus `json:"status"`
}

// Normalize trims and checks a context issue.
func (in ContextIssueInput) Normalize() (ContextIssueInput, error) {
	var err error
	if in.Title, err = registerTitle("title", in.Title); err != nil {
		return in, err
	}
	if in.Description, err = registerText("description", in.Description, registerMaxText); err != nil {
		return in, err
	}
	if in.Effect, err = registerText("effect", in.Effect, registerMaxText); err != nil {
		return in, err
	}
	if !slices.Contains(ContextIssueKinds, in.Kind) {
		return in, Invalid("kind", "must be internal or external")
	}
	if in.Status == "" {
		in.Status = ContextOpen
	}
	if !slices.Contains(ContextIssueStatuses, in.Status) {
		return in, Invalid("status", "must be open, monitoring or closed")
	}
	return in, nil
}

// Input returns the changeable fields of c.
func (c ContextIssue) Input() ContextIssueInput {
	return ContextIssueInput{Title: c.Title, Description: c.Description, Kind: c.Kind, Effect: c.Effect, Status: c.Status}
}

// ContextIssueUpdate changes a context issue; nil fields stay as they are.
type ContextIssueUpdate struct {
	Title       *string             `json:"title"`
	Description *string             `json:"description"`
	Kind        *ContextIssueKind   `json:"kind"`
	Effect      *string             `json:"effect"`
	Status      *ContextIssueStatus `json:"status"`
}

// Apply returns in with the update's fields set.
func (u ContextIssueUpdate) Apply(in ContextIssueInput) ContextIssueInput {
	registerSet(&in.Title, u.Title)
	registerSet(&in.Description, u.Description)
	registerSet(&in.Kind, u.Kind)
	registerSet(&in.Effect, u.Effect)
	registerSet(&in.Status, u.Status)
	return in
}

// registerSet copies *v into *dst when v is given.
func registerSet[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// InterestedParty is a person or body with a stake in the ISMS and what it
// requires (clause 4.2), cited as IP-n. Relevant says whether those
// requirements are taken into the ISMS.
type InterestedParty struct {
	ID           string    `json:"id"`
	Ref          string    `json:"ref"`
	Name         string    `json:"name"`
	Requirements TextList  `json:"requirements"`
	Relevant     bool      `json:"relevant"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// InterestedPartyInput creates an interested party; Relevant defaults to
// true, since parties are usually recorded because they matter.
type InterestedPartyInput struct {
	Name         string   `json:"name"`
	Requirements TextList `json:"requirements"`
	Relevant     *bool    `json:"relevant"`
}

// Normalize trims and checks an interested party.
func (in InterestedPartyInput) Normalize() (InterestedPartyInput, error) {
	var err error
	if in.Name, err = registerTitle("name", in.Name); err != nil {
		return in, err
	}
	if in.Requirements, err = registerTextList("requirements", in.Requirements); err != nil {
		return in, err
	}
	if in.Relevant == nil {
		yes := true
		in.Relevant = &yes
	}
	return in, nil
}

// IsRelevant reports the relevance the input asks for: true unless it
// says otherwise.
func (in InterestedPartyInput) IsRelevant() bool { return in.Relevant == nil || *in.Relevant }

// Input returns the changeable fields of p.
func (p InterestedParty) Input() InterestedPartyInput {
	rel := p.Relevant
	return InterestedPartyInput{Name: p.Name, Requirements: slices.Clone(p.Requirements), Relevant: &rel}
}

// InterestedPartyUpdate changes an interested party; nil fields stay.
type InterestedPartyUpdate struct {
	Name         *string   `json:"name"`
	Requirements *TextList `json:"requirements"`
	Relevant     *bool     `json:"relevant"`
}

// Apply returns in with the update's fields set.
func (u InterestedPartyUpdate) Apply(in InterestedPartyInput) InterestedPartyInput {
	registerSet(&in.Name, u.Name)
	registerSet(&in.Requirements, u.Requirements)
	if u.Relevant != nil {
		in.Relevant = u.Relevant
	}
	return in
}

// ISMSRole is a role in the ISMS with its responsibilities and authorities
// and the member who holds it (clause 5.3).
type ISMSRole struct {
	ID               string    `json:"id"`
	Title            string    `json:"title"`
	Responsibilities string    `json:"responsibilities"`
	Holder           string    `json:"holder"` // user id, "" when vacant
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// ISMSRoleInput creates an ISMS role. Holder is a member's user id or
// email, or empty for a vacant role.
type ISMSRoleInput struct {
	Title            string `json:"title"`
	Responsibilities string `json:"responsibilities"`
	Holder           string `json:"holder"`
}

// Normalize trims and checks an ISMS role; the holder is resolved by the
// store, which knows the members.
func (in ISMSRoleInput) Normalize() (ISMSRoleInput, error) {
	var err error
	if in.Title, err = registerTitle("title", in.Title); err != nil {
		return in, err
	}
	if in.Responsibilities, err = registerText("responsibilities", in.Responsibilities, registerMaxText); err != nil {
		return in, err
	}
	in.Holder = strings.TrimSpace(in.Holder)
	return in, nil
}

// Input returns the changeable fields of r.
func (r ISMSRole) Input() ISMSRoleInput {
	return ISMSRoleInput{Title: r.Title, Responsibilities: r.Responsibilities, Holder: r.Holder}
}

// ISMSRoleUpdate changes an ISMS role; nil fields stay. An empty holder
// makes the role vacant.
type ISMSRoleUpdate struct {
	Title            *string `json:"title"`
	Responsibilities *string `json:"responsibilities"`
	Holder           *string `json:"holder"`
}

// Apply returns in with the update's fields set.
func (u ISMSRoleUpdate) Apply(in ISMSRoleInput) ISMSRoleInput {
	registerSet(&in.Title, u.Title)
	registerSet(&in.Responsibilities, u.Responsibilities)
	registerSet(&in.Holder, u.Holder)
	return in
}

// ObjectiveStatus is how an information security objective is doing.
type ObjectiveStatus string

// The statuses of an objective.
const (
	ObjectivePlanned  ObjectiveStatus = "planned"
	ObjectiveOnTrack  ObjectiveStatus = "on_track"
	ObjectiveAtRisk   ObjectiveStatus = "at_risk"
	ObjectiveAchieved ObjectiveStatus = "achieved"
	ObjectiveMissed   ObjectiveStatus = "missed"
)

// ObjectiveStatuses lists the valid statuses in their usual order.
var ObjectiveStatuses = []ObjectiveStatus{ObjectivePlanned, ObjectiveOnTrack, ObjectiveAtRisk, ObjectiveAchieved, ObjectiveMissed}

// Objective is a measurable information security objective with its
// target, owner and due date (clause 6.2), cited as OBJ-n.
type Objective struct {
	ID           string          `json:"id"`
	Ref          string          `json:"ref"`
	Title        string          `json:"title"`
	Measure      string          `json:"measure"`
	Target       string          `json:"target"`
	Owner        string          `json:"owner"`    // user id, "" when unassigned
	DueDate      string          `json:"due_date"` // YYYY-MM-DD or ""
	Status       ObjectiveStatus `json:"status"`
	CurrentValue string          `json:"current_value"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// ObjectiveInput creates an objective; Status defaults to planned and Owner
// is a member's user id or email.
type ObjectiveInput struct {
	Title        string          `json:"title"`
	Measure      string          `json:"measure"`
	Target       string          `json:"target"`
	Owner        string          `json:"owner"`
	DueDate      string          `json:"due_date"`
	Status       ObjectiveStatus `json:"status"`
	CurrentValue string          `json:"current_value"`
}

// Normalize trims and checks an objective.
func (in ObjectiveInput) Normalize() (ObjectiveInput, error) {
	var err error
	if in.Title, err = registerTitle("title", in.Title); err != nil {
		return in, err
	}
	if in.Measure, err = registerText("measure", in.Measure, registerMaxText); err != nil {
		return in, err
	}
	if in.Target, err = registerText("target", in.Target, registerMaxItem); err != nil {
		return in, err
	}
	if in.CurrentValue, err = registerText("current_value", in.CurrentValue, registerMaxItem); err != nil {
		return in, err
	}
	if in.DueDate, err = registerDate("due_date", in.DueDate); err != nil {
		return in, err
	}
	if in.Status == "" {
		in.Status = ObjectivePlanned
	}
	if !slices.Contains(ObjectiveStatuses, in.Status) {
		return in, Invalid("status", "must be planned, on_track, at_risk, achieved or missed")
	}
	in.Owner = strings.TrimSpace(in.Owner)
	return in, nil
}

// Input returns the changeable fields of o.
func (o Objective) Input() ObjectiveInput {
	return ObjectiveInput{Title: o.Title, Measure: o.Measure, Target: o.Target, Owner: o.Owner, DueDate: o.DueDate, Status: o.Status, CurrentValue: o.CurrentValue}
}

// ObjectiveUpdate changes an objective; nil fields stay.
type ObjectiveUpdate struct {
	Title        *string          `json:"title"`
	Measure      *string          `json:"measure"`
	Target       *string          `json:"target"`
	Owner        *string          `json:"owner"`
	DueDate      *string          `json:"due_date"`
	Status       *ObjectiveStatus `json:"status"`
	CurrentValue *string          `json:"current_value"`
}

// Apply returns in with the update's fields set.
func (u ObjectiveUpdate) Apply(in ObjectiveInput) ObjectiveInput {
	registerSet(&in.Title, u.Title)
	registerSet(&in.Measure, u.Measure)
	registerSet(&in.Target, u.Target)
	registerSet(&in.Owner, u.Owner)
	registerSet(&in.DueDate, u.DueDate)
	registerSet(&in.Status, u.Status)
	registerSet(&in.CurrentValue, u.CurrentValue)
	return in
}
