package vigil

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReviewStatus is where a management review stands: a draft may change; a
// signed-off review is locked.
type ReviewStatus string

// The statuses of a management review.
const (
	ReviewDraft     ReviewStatus = "draft"
	ReviewSignedOff ReviewStatus = "signed_off"
)

// ReviewAction is an action decided at a management review; its status is
// an input of the next review (9.3.2 a).
type ReviewAction struct {
	Description string `json:"description"`
	Owner       string `json:"owner"` // user id
	DueDate     string `json:"due_date"`
	Status      string `json:"status"` // open, done
}

// ReviewInputs are the inputs of clause 9.3.2, assembled from live data.
// While a review is a draft they are recomputed on each read; sign-off
// freezes them.
type ReviewInputs struct {
	Since string `json:"since"` // the previous signed-off review's date, "" for the first
	// a) status of actions from previous management reviews
	PreviousActions []ReviewAction `json:"previous_actions"`
	// b) changes in external and internal issues (and interested parties)
	ChangedIssues  []string `json:"changed_issues"`  // refs: title
	ChangedParties []string `json:"changed_parties"` // refs: name
	Changes        []string `json:"changes"`         // CHG refs: title
	// c) feedback on information-security performance
	Nonconformities struct {
		Open          int      `json:"open"`
		Closed        int      `json:"closed"`
		OpenMajors    []string `json:"open_majors"`
		ActionsOpen   int      `json:"actions_open"`
		ActionsDone   int      `json:"actions_verified"`
		ActionsLate   []string `json:"actions_overdue"`
		ActionsFailed []string `json:"actions_ineffective"`
	} `json:"nonconformities"`
	Objectives []string `json:"objectives"` // measurement results: "OBJ-1 title: measure → target (status)"
	Audits     []string `json:"audits"`     // audits done since: "AUD-2 title: n findings"
	// d) feedback from interested parties
	PartyRequirements []string `json:"party_requirements"`
	// e) results of risk assessment and status of the treatment plan
	Risks struct {
		Total            int      `json:"total"`
		AboveThreshold   int      `json:"above_threshold"`
		Accepted         int      `json:"accepted"`
		ActionsOpen      int      `json:"treatment_actions_open"`
		NeedingAttention []string `json:"needing_attention"`
	} `json:"risks"`
	// f) opportunities for continual improvement
	Opportunities []string `json:"opportunities"`
	Readiness     string   `json:"readiness"` // "8 of 11 checks passed"
}

// ManagementReview is one management review (9.3), cited as MR-n.
type ManagementReview struct {
	ID          string         `json:"id"`
	Ref         string         `json:"ref"`
	Title       string         `json:"title"`
	MeetingDate string         `json:"meeting_date"`
	Attendees   TextList       `json:"attendees"`
	Inputs      ReviewInputs   `json:"inputs"`
	Decisions   TextList       `json:"decisions"` // 9.3.3: decisions on improvement
	Changes     TextList       `json:"changes"`   // 9.3.3: needs for changes to the ISMS
	Actions     []ReviewAction `json:"actions"`
	Notes       string         `json:"notes"`
	Status      ReviewStatus   `json:"status"`
	SignedOffBy string         `json:"signed_off_by"`
	SignedOffAt *time.Time     `json:"signed_off_at"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// ManagementReviewInput creates or (as a whole) replaces a draft review.
type ManagementReviewInput struct {
	Title       string         `json:"title"`
	MeetingDate string         `json:"meeting_date"`
	Attendees   TextList       `json:"attendees"`
	Decisions   TextList       `json:"decisions"`
	Changes     TextList       `json:"changes"`
	Actions     []ReviewAction `json:"actions"`
	Notes       string         `json:"notes"`
}

// Input returns the editable part of a review.
func (m ManagementReview) Input() ManagementReviewInput {
	return ManagementReviewInput{Title: m.Title, MeetingDate: m.MeetingDate, Attendees: m.Attendees,
		Decisions: m.Decisions, Changes: m.Changes, Actions: m.Actions, Notes: m.Notes}
}

// ManagementReviewUpdate changes some fields of a draft review.
type ManagementReviewUpdate struct {
	Title       *string         `json:"title"`
	MeetingDate *string         `json:"meeting_date"`
	Attendees   *TextList       `json:"attendees"`
	Decisions   *TextList       `json:"decisions"`
	Changes     *TextList       `json:"changes"`
	Actions     *[]ReviewAction `json:"actions"`
	Notes       *string         `json:"notes"`
}

// Apply returns in with the update's fields set.
func (u ManagementReviewUpdate) Apply(in ManagementReviewInput) ManagementReviewInput {
	registerSet(&in.Title, u.Title)
	registerSet(&in.MeetingDate, u.MeetingDate)
	registerSet(&in.Attendees, u.Attendees)
	registerSet(&in.Decisions, u.Decisions)
	registerSet(&in.Changes, u.Changes)
	registerSet(&in.Actions, u.Actions)
	registerSet(&in.Notes, u.Notes)
	return in
}

// Normalize checks a review. Action owners are resolved by the store.
func (in ManagementReviewInput) Normalize() (ManagementReviewInput, error) {
	var err error
	if in.Title, err = registerTitle("title", in.Title); err != nil {
		return in, err
	}
	if in.MeetingDate, err = ParseDateField("meeting_date", in.MeetingDate); err != nil {
		return in, err
	}
	if in.MeetingDate == "" {
		return in, Invalid("meeting_date", "must be set")
	}
	if in.Attendees, err = registerTextList("attendees", in.Attendees); err != nil {
		return in, err
	}
	if in.Decisions, err = registerTextList("decisions", in.Decisions); err != nil {
		return in, err
	}
	if in.Changes, err = registerTextList("changes", in.Changes); err != nil {
		return in, err
	}
	if in.Notes, err = registerText("notes", in.Notes, registerMaxText); err != nil {
		return in, err
	}
	for i := range in.Actions {
		a := &in.Actions[i]
		f := fmt.Sprintf("actions[%d]", i)
		if a.Description, err = registerTitle(f+".description", a.Description); err != nil {
			return in, err
		}
		if a.DueDate, err = ParseDateField(f+".due_date", a.DueDate); err != nil {
			return in, err
		}
		a.Owner = strings.TrimSpace(a.Owner)
		if a.Status == "" {
			a.Status = "open"
		}
		if !slices.Contains([]string{"open", "done"}, a.Status) {
			return in, Invalid(f+".status", "must be open or done")
		}
	}
	return in, nil
}
