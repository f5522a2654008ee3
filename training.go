package vigil

import (
	"slices"
	"strings"
	"time"
)

// Recurrence says how often a training campaign repeats.
type Recurrence string

// The recurrences of a campaign.
const (
	RecurNone       Recurrence = "none"
	RecurYearly     Recurrence = "yearly"
	RecurHalfYearly Recurrence = "half_yearly"
	RecurQuarterly  Recurrence = "quarterly"
)

// Recurrences lists every recurrence.
var Recurrences = []Recurrence{RecurNone, RecurYearly, RecurHalfYearly, RecurQuarterly}

// Valid reports whether r is a known recurrence.
func (r Recurrence) Valid() bool { return slices.Contains(Recurrences, r) }

// Label is the recurrence as people read it.
func (r Recurrence) Label() string {
	switch r {
	case RecurNone:
		return "once"
	case RecurHalfYearly:
		return "half-yearly"
	}
	return string(r)
}

// Months returns the length of one round in months (0 for none).
func (r Recurrence) Months() int {
	switch r {
	case RecurYearly:
		return 12
	case RecurHalfYearly:
		return 6
	case RecurQuarterly:
		return 3
	}
	return 0
}

// TrainingCampaign is a training people must complete by a due date, cited
// as TRN-n. A recurring campaign runs in rounds: DueDate is the due date of
// the current round, Round its number.
type TrainingCampaign struct {
	ID             string     `json:"id"`
	Ref            string     `json:"ref"`
	Title          string     `json:"title"`
	Description    string     `json:"description"`
	AudienceRoles  []Role     `json:"audience_roles"`
	AudiencePeople []string   `json:"audience_people"` // user ids
	DueDate        string     `json:"due_date"`        // YYYY-MM-DD
	Recurrence     Recurrence `json:"recurrence"`
	Round          int        `json:"round"`
	TrainingCoverage
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TrainingCoverage counts the current assignments of a campaign (or of all
// campaigns): Coverage is Completed as a whole percentage of Assigned, 100
// when nothing is assigned.
type TrainingCoverage struct {
	Assigned  int `json:"assigned"`
	Completed int `json:"completed"`
	Overdue   int `json:"overdue"`
	Coverage  int `json:"coverage"`
}

// NewTrainingCoverage computes the percentage from the counts. It rounds
// down, so 89.9 % never shows as 90 %.
func NewTrainingCoverage(assigned, completed, overdue int) TrainingCoverage {
	c := TrainingCoverage{Assigned: assigned, Completed: completed, Overdue: overdue, Coverage: 100}
	if assigned > 0 {
		c.Coverage = completed * 100 / assigned
	}
	return c
}

// TrainingCampaignInput creates a campaign. AudiencePeople holds members'
// user ids or emails.
type TrainingCampaignInput struct {
	Title          string     `json:"title"`
	Description    string     `json:"description"`
	AudienceRoles  []Role     `json:"audience_roles"`
	AudiencePeople []string   `json:"audience_people"`
	DueDate        string     `json:"due_date"`
	Recurrence     Recurrence `json:"recurrence"`
}

// Normalize trims and checks a campaign (people are checked by the store).
func (in TrainingCampaignInput) Normalize() (TrainingCampaignInput, error) {
	var err error
	if in.Title, err = policyText("title", in.Title, 200, true); err != nil {
		return in, err
	}
	if in.Description, err = policyText("description", in.Description, 10000, false); err != nil {
		return in, err
	}
	roles := []Role{}
	for _, r := range in.AudienceRoles {
		r = Role(strings.TrimSpace(string(r)))
		if !r.ValidMemberRole() {
			return in, Invalid("audience_roles", "unknown role %q", r)
		}
		if r == RoleExternalAuditor {
			return in, Invalid("audience_roles", "external auditors are not trained by the organisation")
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	in.AudienceRoles = roles
	people := []string{}
	for _, p := range in.AudiencePeople {
		p = strings.TrimSpace(p)
		if p != "" && !slices.Contains(people, p) {
			people = append(people, p)
		}
	}
	in.AudiencePeople = people
	if len(in.AudienceRoles) == 0 && len(in.AudiencePeople) == 0 {
		return in, Invalid("audience_roles", "name at least one role or person (audience_people)")
	}
	if in.DueDate, err = ParseDateField("due_date", in.DueDate); err != nil {
		return in, err
	}
	if in.DueDate == "" {
		return in, Invalid("due_date", "must not be empty")
	}
	if in.Recurrence == "" {
		in.Recurrence = RecurNone
	}
	if !in.Recurrence.Valid() {
		return in, Invalid("recurrence", "must be one of %s", joinKinds(Recurrences))
	}
	return in, nil
}

// Input returns the editable fields of c.
func (c TrainingCampaign) Input() TrainingCampaignInput {
	return TrainingCampaignInput{Title: c.Title, Description: c.Description, AudienceRoles: slices.Clone(c.AudienceRoles),
		AudiencePeople: slices.Clone(c.AudiencePeople), DueDate: c.DueDate, Recurrence: c.Recurrence}
}

// TrainingCampaignUpdate changes a campaign; nil fields stay as they are.
type TrainingCampaignUpdate struct {
	Title          *string     `json:"title"`
	Description    *string     `json:"description"`
	AudienceRoles  *[]Role     `json:"audience_roles"`
	AudiencePeople *[]string   `json:"audience_people"`
	DueDate        *string     `json:"due_date"`
	Recurrence     *Recurrence `json:"recurrence"`
}

// Apply returns in with the set fields of u.
func (u TrainingCampaignUpdate) Apply(in TrainingCampaignInput) TrainingCampaignInput {
	if u.Title != nil {
		in.Title = *u.Title
	}
	if u.Description != nil {
		in.Description = *u.Description
	}
	if u.AudienceRoles != nil {
		in.AudienceRoles = *u.AudienceRoles
	}
	if u.AudiencePeople != nil {
		in.AudiencePeople = *u.AudiencePeople
	}
	if u.DueDate != nil {
		in.DueDate = *u.DueDate
	}
	if u.Recurrence != nil {
		in.Recurrence = *u.Recurrence
	}
	return in
}

// InAudience reports whether a member with this user id and role belongs
// to the campaign's audience.
func (c TrainingCampaign) InAudience(userID string, role Role) bool {
	if role == RoleExternalAuditor || role == RoleAgent {
		return false
	}
	return slices.Contains(c.AudienceRoles, role) || slices.Contains(c.AudiencePeople, userID)
}

// TrainingAssignment is one person's part of one round of a campaign.
type TrainingAssignment struct {
	ID            string     `json:"id"`
	CampaignID    string     `json:"campaign_id"`
	CampaignRef   string     `json:"campaign_ref"`
	CampaignTitle string     `json:"campaign_title"`
	Round         int        `json:"round"`
	UserID        string     `json:"user_id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	DueDate       string     `json:"due_date"`
	CompletedAt   *time.Time `json:"completed_at"`
	CompletedBy   string     `json:"completed_by"` // who recorded the completion
	EvidenceID    string     `json:"evidence_id"`  // linked evidence, or ""
	Note          string     `json:"note"`
	// Overdue is computed: not completed and past the due date.
	Overdue   bool      `json:"overdue"`
	CreatedAt time.Time `json:"created_at"`
}

// TrainingCompletion records that an assignment was done. Evidence is an
// evidence id or reference (EVD-n), or otherwise a free-text note.
type TrainingCompletion struct {
	CompletedAt time.Time
	Evidence    string
}

// MayCompleteFor reports whether an actor may record another person's
// training: admins and ISMS managers may, on their behalf, and so may Vigil
// itself (imports, the demo).
func (a Actor) MayCompleteFor(assignee string) bool {
	switch {
	case a.Type == ActorSystem:
		return true
	case a.UserID != "" && a.UserID == assignee:
		return true
	}
	return a.Role == RoleAdmin || a.Role == RoleISMSManager
}
