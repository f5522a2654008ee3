package vigil

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// AuditType says who audits and why: the organisation itself (clause 9.2)
// or its certification body at one of the steps of the certification cycle.
type AuditType string

// The types of audit.
const (
	AuditInternal        AuditType = "internal"
	AuditStage1          AuditType = "stage1"
	AuditStage2          AuditType = "stage2"
	AuditSurveillance    AuditType = "surveillance"
	AuditRecertification AuditType = "recertification"
	AuditSpecial         AuditType = "special"
)

// AuditTypes lists the valid types.
var AuditTypes = []AuditType{AuditInternal, AuditStage1, AuditStage2, AuditSurveillance, AuditRecertification, AuditSpecial}

// External reports whether a certification body performs audits of this
// type; special audits may be either and are external when a body is named.
func (t AuditType) External() bool {
	switch t {
	case AuditStage1, AuditStage2, AuditSurveillance, AuditRecertification:
		return true
	}
	return false
}

// AuditStatus is where an audit stands; it follows from its dates and its
// report rather than being set by hand.
type AuditStatus string

// The statuses of an audit.
const (
	AuditPlanned    AuditStatus = "planned"
	AuditInProgress AuditStatus = "in_progress"
	AuditCompleted  AuditStatus = "completed"
	AuditReported   AuditStatus = "reported"
)

// AuditScope is what an audit covers: requirement refs (clauses as "9.2",
// Annex A controls as "A.8.15", own controls by their CTL-n ref; a ref also
// covers the items numbered below it), asset ids and process names.
type AuditScope struct {
	Requirements []string `json:"requirements"`
	Assets       []string `json:"assets"`
	Processes    []string `json:"processes"`
}

// Audit is one internal or external audit, cited as AUD-n.
type Audit struct {
	ID                string     `json:"id"`
	Ref               string     `json:"ref"`
	Type              AuditType  `json:"type"`
	Title             string     `json:"title"`
	Criteria          string     `json:"criteria"`
	Scope             AuditScope `json:"scope"`
	PlannedStart      string     `json:"planned_start"`
	PlannedEnd        string     `json:"planned_end"`
	ActualStart       string     `json:"actual_start"`
	ActualEnd         string     `json:"actual_end"`
	LeadAuditor       string     `json:"lead_auditor"` // user id, "" for a body's auditor
	Auditors          []string   `json:"auditors"`     // user ids
	CertificationBody string     `json:"certification_body"`
	BodyAuditors      []string   `json:"body_auditors"` // names of the body's auditors
	// ImpartialityOverride is an admin's written reason for letting an
	// auditor audit something they own; it is printed on the report.
	ImpartialityOverride string      `json:"impartiality_override"`
	Change               string      `json:"change"` // the change (CHG-n id) a special audit follows
	Status               AuditStatus `json:"status"`
	ReportIssuedAt       *time.Time  `json:"report_issued_at"`
	ReportSHA256         string      `json:"report_sha256"`
	CreatedAt            time.Time   `json:"created_at"`
	UpdatedAt            time.Time   `json:"updated_at"`
}

// Done reports whether the audit has been carried out.
func (a Audit) Done() bool { return a.ActualEnd != "" || a.ReportIssuedAt != nil }

// Team returns the lead auditor and the auditors, once each.
func (a Audit) Team() []string {
	var out []string
	if a.LeadAuditor != "" {
		out = append(out, a.LeadAuditor)
	}
	for _, u := range a.Auditors {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// StatusOf derives the status of an audit.
func StatusOf(a Audit) AuditStatus {
	switch {
	case a.ReportIssuedAt != nil:
		return AuditReported
	case a.ActualEnd != "":
		return AuditCompleted
	case a.ActualStart != "":
		return AuditInProgress
	}
	return AuditPlanned
}

// Input returns what may be changed of an audit.
func (a Audit) Input() AuditInput {
	return AuditInput{
		Type: a.Type, Title: a.Title, Criteria: a.Criteria, Scope: a.Scope,
		PlannedStart: a.PlannedStart, PlannedEnd: a.PlannedEnd, ActualStart: a.ActualStart, ActualEnd: a.ActualEnd,
		LeadAuditor: a.LeadAuditor, Auditors: a.Auditors, CertificationBody: a.CertificationBody, BodyAuditors: a.BodyAuditors,
		ImpartialityOverride: a.ImpartialityOverride, Change: a.Change,
	}
}

// AuditInput creates an audit. People are members' user ids or emails.
type AuditInput struct {
	Type                 AuditType  `json:"type"`
	Title                string     `json:"title"`
	Criteria             string     `json:"criteria"`
	Scope                AuditScope `json:"scope"`
	PlannedStart         string     `json:"planned_start"`
	PlannedEnd           string     `json:"planned_end"`
	ActualStart          string     `json:"actual_start"`
	ActualEnd            string     `json:"actual_end"`
	LeadAuditor          string     `json:"lead_auditor"`
	Auditors             []string   `json:"auditors"`
	CertificationBody    string     `json:"certification_body"`
	BodyAuditors         []string   `json:"body_auditors"`
	ImpartialityOverride string     `json:"impartiality_override"`
	Change               string     `json:"change"`
}

// Normalize trims and checks an audit. Dates must not run backwards, and
// an external audit names its certification body.
func (in AuditInput) Normalize() (AuditInput, error) {
	var err error
	if !slices.Contains(AuditTypes, in.Type) {
		return in, Invalid("type", "must be internal, stage1, stage2, surveillance, recertification or special")
	}
	if in.Title, err = registerTitle("title", in.Title); err != nil {
		return in, err
	}
	if in.Criteria, err = registerText("criteria", in.Criteria, registerMaxText); err != nil {
		return in, err
	}
	for _, d := range []struct {
		field string
		v     *string
	}{{"planned_start", &in.PlannedStart}, {"planned_end", &in.PlannedEnd}, {"actual_start", &in.ActualStart}, {"actual_end", &in.ActualEnd}} {
		if *d.v, err = ParseDateField(d.field, *d.v); err != nil {
			return in, err
		}
	}
	if in.PlannedStart == "" {
		return in, Invalid("planned_start", "must be set")
	}
	if in.PlannedEnd == "" {
		in.PlannedEnd = in.PlannedStart
	}
	if in.PlannedEnd < in.PlannedStart {
		return in, Invalid("planned_end", "must not be before planned_start")
	}
	if in.ActualEnd != "" && in.ActualStart == "" {
		return in, Invalid("actual_start", "must be set when actual_end is")
	}
	if in.ActualEnd != "" && in.ActualEnd < in.ActualStart {
		return in, Invalid("actual_end", "must not be before actual_start")
	}
	if in.Scope.Requirements, err = registerItems("scope.requirements", in.Scope.Requirements); err != nil {
		return in, err
	}
	if in.Scope.Assets, err = registerItems("scope.assets", in.Scope.Assets); err != nil {
		return in, err
	}
	if in.Scope.Processes, err = registerItems("scope.processes", in.Scope.Processes); err != nil {
		return in, err
	}
	if len(in.Scope.Requirements)+len(in.Scope.Assets)+len(in.Scope.Processes) == 0 {
		return in, Invalid("scope", "must name at least one requirement, asset or process")
	}
	in.LeadAuditor = strings.TrimSpace(in.LeadAuditor)
	if in.Auditors, err = registerItems("auditors", in.Auditors); err != nil {
		return in, err
	}
	if in.CertificationBody, err = registerText("certification_body", in.CertificationBody, registerMaxTitle); err != nil {
		return in, err
	}
	if in.BodyAuditors, err = registerItems("body_auditors", in.BodyAuditors); err != nil {
		return in, err
	}
	if in.Type.External() && in.CertificationBody == "" {
		return in, Invalid("certification_body", "must be set for a %s audit", in.Type)
	}
	if !in.Type.External() && in.Type != AuditSpecial && in.LeadAuditor == "" {
		return in, Invalid("lead_auditor", "must be set for an internal audit")
	}
	if in.ImpartialityOverride, err = registerText("impartiality_override", in.ImpartialityOverride, registerMaxText); err != nil {
		return in, err
	}
	in.Change = strings.TrimSpace(in.Change)
	return in, nil
}

// AuditUpdate changes some fields of an audit.
type AuditUpdate struct {
	Type                 *AuditType  `json:"type"`
	Title                *string     `json:"title"`
	Criteria             *string     `json:"criteria"`
	Scope                *AuditScope `json:"scope"`
	PlannedStart         *string     `json:"planned_start"`
	PlannedEnd           *string     `json:"planned_end"`
	ActualStart          *string     `json:"actual_start"`
	ActualEnd            *string     `json:"actual_end"`
	LeadAuditor          *string     `json:"lead_auditor"`
	Auditors             *[]string   `json:"auditors"`
	CertificationBody    *string     `json:"certification_body"`
	BodyAuditors         *[]string   `json:"body_auditors"`
	ImpartialityOverride *string     `json:"impartiality_override"`
	Change               *string     `json:"change"`
}

// Apply returns in with the update's fields set.
func (u AuditUpdate) Apply(in AuditInput) AuditInput {
	registerSet(&in.Type, u.Type)
	registerSet(&in.Title, u.Title)
	registerSet(&in.Criteria, u.Criteria)
	registerSet(&in.Scope, u.Scope)
	registerSet(&in.PlannedStart, u.PlannedStart)
	registerSet(&in.PlannedEnd, u.PlannedEnd)
	registerSet(&in.ActualStart, u.ActualStart)
	registerSet(&in.ActualEnd, u.ActualEnd)
	registerSet(&in.LeadAuditor, u.LeadAuditor)
	registerSet(&in.Auditors, u.Auditors)
	registerSet(&in.CertificationBody, u.CertificationBody)
	registerSet(&in.BodyAuditors, u.BodyAuditors)
	registerSet(&in.ImpartialityOverride, u.ImpartialityOverride)
	registerSet(&in.Change, u.Change)
	return in
}

// AuditFilter narrows an audit listing.
type AuditFilter struct {
	Type AuditType
	// IDs, when not nil, keeps only these audits (an external auditor's).
	IDs []string
}

// ImpartialityConflict is one thing an auditor owns inside the scope of the
// audit they are to perform (9.2.e).
type ImpartialityConflict struct {
	Auditor string `json:"auditor"` // email
	Kind    string `json:"kind"`    // asset, risk, control, policy, process
	Ref     string `json:"ref"`
}

// String says the conflict in one line.
func (c ImpartialityConflict) String() string {
	return fmt.Sprintf("auditor %s owns %s in scope", c.Auditor, c.Ref)
}

// ImpartialityStatement is the report's sentence on 9.2.e.
func ImpartialityStatement(a Audit) string {
	if a.Type.External() {
		return "The audit was performed by the certification body " + a.CertificationBody + ", independent of the organisation."
	}
	if a.ImpartialityOverride != "" {
		return "An auditor owns items within the scope of this audit; an administrator allowed it for this reason: " + a.ImpartialityOverride
	}
	return "No auditor owns an asset, risk, control, policy or process within the scope of this audit (checked by Vigil when the audit was planned and at each change)."
}

// ChecklistResult is the outcome of one checklist item.
type ChecklistResult string

// The results an auditor can give. Empty means not yet assessed.
const (
	ResultPending     ChecklistResult = ""
	ResultConform     ChecklistResult = "conform"
	ResultMajorNC     ChecklistResult = "major_nc"
	ResultMinorNC     ChecklistResult = "minor_nc"
	ResultObservation ChecklistResult = "observation"
	ResultOFI         ChecklistResult = "ofi"
	ResultNotAudited  ChecklistResult = "not_audited"
)

// ChecklistResults lists the results an auditor may set.
var ChecklistResults = []ChecklistResult{ResultConform, ResultMajorNC, ResultMinorNC, ResultObservation, ResultOFI, ResultNotAudited}

// Finding reports whether the result raises a finding.
func (r ChecklistResult) Finding() bool {
	switch r {
	case ResultMajorNC, ResultMinorNC, ResultObservation, ResultOFI:
		return true
	}
	return false
}

// EvidenceLink points from a checklist item to what supports its result.
type EvidenceLink struct {
	Type string `json:"type"` // evidence, trail, session, url
	Ref  string `json:"ref"`  // an evidence or session id, a trail sequence, a URL
}

// EvidenceLinkTypes lists what a checklist item can link to.
var EvidenceLinkTypes = []string{"evidence", "trail", "session", "url"}

// ChecklistItem is one line of an audit's checklist: a requirement,
// control or process to examine, with prompts and the auditor's result.
type ChecklistItem struct {
	ID        string          `json:"id"`
	Ref       string          `json:"ref"`
	Kind      string          `json:"kind"` // clause, control, process
	Title     string          `json:"title"`
	Prompt    string          `json:"prompt"`
	Result    ChecklistResult `json:"result"`
	Notes     string          `json:"notes"`
	Evidence  []EvidenceLink  `json:"evidence"`
	Finding   string          `json:"finding"` // the finding id it raised, ""
	UpdatedAt time.Time       `json:"updated_at"`
}

// ChecklistUpdate sets the result of a checklist item.
type ChecklistUpdate struct {
	Result   *ChecklistResult `json:"result"`
	Notes    *string          `json:"notes"`
	Evidence *[]EvidenceLink  `json:"evidence"`
}

// Normalize checks a checklist update.
func (u ChecklistUpdate) Normalize() (ChecklistUpdate, error) {
	if u.Result != nil && *u.Result != ResultPending && !slices.Contains(ChecklistResults, *u.Result) {
		return u, Invalid("result", "must be conform, major_nc, minor_nc, observation, ofi or not_audited")
	}
	if u.Notes != nil {
		n, err := registerText("notes", *u.Notes, registerMaxText)
		if err != nil {
			return u, err
		}
		u.Notes = &n
	}
	if u.Evidence != nil {
		for i, l := range *u.Evidence {
			f := fmt.Sprintf("evidence[%d]", i)
			if !slices.Contains(EvidenceLinkTypes, l.Type) {
				return u, Invalid(f+".type", "must be evidence, trail, session or url")
			}
			if strings.TrimSpace(l.Ref) == "" {
				return u, Invalid(f+".ref", "must not be empty")
			}
			if l.Type == "url" && !strings.HasPrefix(l.Ref, "https://") && !strings.HasPrefix(l.Ref, "http://") {
				return u, Invalid(f+".ref", "must be an http or https URL")
			}
		}
	}
	return u, nil
}

// FindingKind grades a finding.
type FindingKind string

// The kinds of finding, gravest first.
const (
	FindingMajorNC     FindingKind = "major_nc"
	FindingMinorNC     FindingKind = "minor_nc"
	FindingObservation FindingKind = "observation"
	FindingOFI         FindingKind = "ofi"
)

// FindingKinds lists the kinds of finding.
var FindingKinds = []FindingKind{FindingMajorNC, FindingMinorNC, FindingObservation, FindingOFI}

// Nonconformity reports whether the finding needs a corrective action.
func (k FindingKind) Nonconformity() bool { return k == FindingMajorNC || k == FindingMinorNC }

// FindingStatus is where a finding stands.
type FindingStatus string

// A finding is open until an effective corrective action closes it (or,
// for observations and opportunities, until it is closed by hand); a
// result changed back to conform withdraws it.
const (
	FindingOpen      FindingStatus = "open"
	FindingClosed    FindingStatus = "closed"
	FindingWithdrawn FindingStatus = "withdrawn"
)

// CertificationBodyMajorDays is how long a certification body gives by
// default to correct a major nonconformity.
const CertificationBodyMajorDays = 90

// Finding is a result of an audit that is not plain conformity, cited as
// NC-n.
type Finding struct {
	ID            string        `json:"id"`
	Ref           string        `json:"ref"`
	Audit         string        `json:"audit"` // audit id
	AuditRef      string        `json:"audit_ref"`
	ChecklistItem string        `json:"checklist_item"`
	Requirement   string        `json:"requirement"`
	Kind          FindingKind   `json:"kind"`
	Description   string        `json:"description"`
	Status        FindingStatus `json:"status"`
	// Deadline is the certification body's deadline for its findings.
	Deadline  string     `json:"deadline"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at"`
}

// FindingInput records a finding by hand, for example one the
// certification body raised.
type FindingInput struct {
	Audit       string      `json:"audit"`
	Requirement string      `json:"requirement"`
	Kind        FindingKind `json:"kind"`
	Description string      `json:"description"`
	Deadline    string      `json:"deadline"`
}

// Normalize checks a finding.
func (in FindingInput) Normalize() (FindingInput, error) {
	var err error
	if in.Audit = strings.TrimSpace(in.Audit); in.Audit == "" {
		return in, Invalid("audit", "must be set")
	}
	if in.Requirement = strings.TrimSpace(in.Requirement); in.Requirement == "" {
		return in, Invalid("requirement", "must name the requirement or control the finding is against")
	}
	if !slices.Contains(FindingKinds, in.Kind) {
		return in, Invalid("kind", "must be major_nc, minor_nc, observation or ofi")
	}
	if in.Description, err = registerText("description", in.Description, registerMaxText); err != nil {
		return in, err
	}
	if in.Deadline, err = ParseDateField("deadline", in.Deadline); err != nil {
		return in, err
	}
	return in, nil
}

// FindingUpdate changes a finding.
type FindingUpdate struct {
	Description *string        `json:"description"`
	Deadline    *string        `json:"deadline"`
	Status      *FindingStatus `json:"status"`
}

// FindingFilter narrows a finding listing.
type FindingFilter struct {
	Audit  string
	Status FindingStatus
}

// ActionStatus is where a corrective action stands.
type ActionStatus string

// The life of a corrective action: open → in_progress → done →
// verified_effective | ineffective.
const (
	ActionOpen              ActionStatus = "open"
	ActionInProgress        ActionStatus = "in_progress"
	ActionDone              ActionStatus = "done"
	ActionVerifiedEffective ActionStatus = "verified_effective"
	ActionIneffective       ActionStatus = "ineffective"
)

// ActionStatuses lists the statuses in order.
var ActionStatuses = []ActionStatus{ActionOpen, ActionInProgress, ActionDone, ActionVerifiedEffective, ActionIneffective}

// Closed reports whether the action needs no more work.
func (s ActionStatus) Closed() bool { return s == ActionVerifiedEffective || s == ActionIneffective }

// Verification reports whether reaching s verifies effectiveness, which the
// action's owner may not do.
func (s ActionStatus) Verification() bool { return s.Closed() }

// CanMove reports whether an action may go from s to next.
func (s ActionStatus) CanMove(next ActionStatus) bool {
	switch s {
	case ActionOpen:
		return next == ActionInProgress || next == ActionDone
	case ActionInProgress:
		return next == ActionDone || next == ActionOpen
	case ActionDone:
		return next == ActionVerifiedEffective || next == ActionIneffective || next == ActionInProgress
	}
	return false
}

// CorrectiveAction corrects a nonconformity and removes its cause (10.2),
// cited as CA-n.
type CorrectiveAction struct {
	ID                string       `json:"id"`
	Ref               string       `json:"ref"`
	Finding           string       `json:"finding"` // finding id
	FindingRef        string       `json:"finding_ref"`
	Correction        string       `json:"correction"`
	RootCause         string       `json:"root_cause"`
	Action            string       `json:"action"`
	Owner             string       `json:"owner"`
	DueDate           string       `json:"due_date"`
	Status            ActionStatus `json:"status"`
	VerifiedBy        string       `json:"verified_by"`
	VerifiedAt        *time.Time   `json:"verified_at"`
	VerificationNotes string       `json:"verification_notes"`
	CreatedAt         time.Time    `json:"created_at"`
	UpdatedAt         time.Time    `json:"updated_at"`
}

// Overdue reports whether the action is past its due date on day today.
func (a CorrectiveAction) Overdue(today string) bool {
	return a.DueDate != "" && a.DueDate < today && (a.Status == ActionOpen || a.Status == ActionInProgress)
}

// CorrectiveActionInput creates a corrective action.
type CorrectiveActionInput struct {
	Finding    string `json:"finding"`
	Correction string `json:"correction"`
	RootCause  string `json:"root_cause"`
	Action     string `json:"action"`
	Owner      string `json:"owner"`
	DueDate    string `json:"due_date"`
}

// Normalize checks a corrective action.
func (in CorrectiveActionInput) Normalize() (CorrectiveActionInput, error) {
	var err error
	if in.Finding = strings.TrimSpace(in.Finding); in.Finding == "" {
		return in, Invalid("finding", "must be set")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"correction", &in.Correction}, {"root_cause", &in.RootCause}, {"action", &in.Action}} {
		if *f.v, err = registerText(f.name, *f.v, registerMaxText); err != nil {
			return in, err
		}
	}
	if in.Action == "" {
		return in, Invalid("action", "must say what will be done")
	}
	if in.Owner = strings.TrimSpace(in.Owner); in.Owner == "" {
		return in, Invalid("owner", "must be set")
	}
	if in.DueDate, err = ParseDateField("due_date", in.DueDate); err != nil {
		return in, err
	}
	if in.DueDate == "" {
		return in, Invalid("due_date", "must be set")
	}
	return in, nil
}

// CorrectiveActionUpdate changes a corrective action; a status change is a
// transition checked against the action's life.
type CorrectiveActionUpdate struct {
	Correction        *string       `json:"correction"`
	RootCause         *string       `json:"root_cause"`
	Action            *string       `json:"action"`
	Owner             *string       `json:"owner"`
	DueDate           *string       `json:"due_date"`
	Status            *ActionStatus `json:"status"`
	VerificationNotes *string       `json:"verification_notes"`
}

// CorrectiveActionFilter narrows a listing.
type CorrectiveActionFilter struct {
	Finding string
	Status  ActionStatus
	// OverdueOn keeps open or in-progress actions due before this date.
	OverdueOn string
}

// AuditReport is what an issued audit report holds (9.2.f): a snapshot
// that never changes once issued.
type AuditReport struct {
	OrgName               string             `json:"org_name"`
	Audit                 Audit              `json:"audit"`
	Team                  []string           `json:"team"` // "Name <email>" of each auditor, lead first
	ImpartialityStatement string             `json:"impartiality_statement"`
	Summary               string             `json:"summary"`
	Checklist             []ChecklistItem    `json:"checklist"`
	Findings              []Finding          `json:"findings"`
	OpenActions           []CorrectiveAction `json:"open_actions"`
	IssuedAt              time.Time          `json:"issued_at"`
	IssuedBy              string             `json:"issued_by"` // "Name <email>"
}

// FindingsByKind counts the report's findings per kind.
func (r AuditReport) FindingsByKind() map[FindingKind]int {
	out := map[FindingKind]int{}
	for _, f := range r.Findings {
		if f.Status != FindingWithdrawn {
			out[f.Kind]++
		}
	}
	return out
}

// AuditGuest is an external auditor's time-boxed, read-only access to one
// audit (role external_auditor).
type AuditGuest struct {
	ID         string     `json:"id"`
	Audit      string     `json:"audit"`
	UserID     string     `json:"user_id"`
	Email      string     `json:"email"`
	ValidFrom  time.Time  `json:"valid_from"`
	ValidUntil time.Time  `json:"valid_until"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// ActiveAt reports whether the guest may read at t.
func (g AuditGuest) ActiveAt(t time.Time) bool {
	return g.RevokedAt == nil && !t.Before(g.ValidFrom) && t.Before(g.ValidUntil)
}

// AuditGuestInput invites an external auditor. Times are RFC 3339, or dates
// (YYYY-MM-DD): valid_from then starts at the beginning of that day (UTC)
// and valid_until ends at the end of its day.
type AuditGuestInput struct {
	Email      string `json:"email"`
	Name       string `json:"name"`
	ValidFrom  string `json:"valid_from"`
	ValidUntil string `json:"valid_until"`
}

// Window parses and checks the guest's validity window.
func (in AuditGuestInput) Window() (from, until time.Time, err error) {
	parse := func(field, s string, end bool) (time.Time, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, Invalid(field, "must be set")
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC(), nil
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, Invalid(field, "must be a date (2026-01-31) or a time (2026-01-31T09:00:00Z)")
		}
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if from, err = parse("valid_from", in.ValidFrom, false); err != nil {
		return
	}
	if until, err = parse("valid_until", in.ValidUntil, true); err != nil {
		return
	}
	if !until.After(from) {
		return from, until, Invalid("valid_until", "must be after valid_from")
	}
	if until.Sub(from) > 366*24*time.Hour {
		return from, until, Invalid("valid_until", "a guest window may last at most a year")
	}
	return from, until, nil
}

// DueDate is one dated obligation of the ISMS, for calendars and
// reminders: an audit, a certification deadline, a corrective action, a
// policy or risk review.
type DueDate struct {
	UID      string `json:"uid"`
	Kind     string `json:"kind"` // audit, surveillance, recertification, expiry, corrective_action, policy_review, risk_review
	Ref      string `json:"ref"`
	Title    string `json:"title"`
	Date     string `json:"date"`
	EndDate  string `json:"end_date"` // last day, "" = one day
	Link     string `json:"link"`     // path in the UI
	Owner    string `json:"owner"`    // user id to remind, if any
	Overdue  bool   `json:"overdue"`
	Finished bool   `json:"finished"`
}
