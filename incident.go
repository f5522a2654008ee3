package vigil

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Information security incidents (Annex A 5.24–5.28): reported, assessed,
// responded to and learned from, with the evidence they touch kept.

// IncidentCategory says what kind of incident it is.
type IncidentCategory string

// The categories of incident.
const (
	IncidentMalware            IncidentCategory = "malware"
	IncidentUnauthorisedAccess IncidentCategory = "unauthorised_access"
	IncidentDataLeak           IncidentCategory = "data_leak"
	IncidentInsider            IncidentCategory = "insider"
	IncidentPhishing           IncidentCategory = "phishing"
	IncidentDenialOfService    IncidentCategory = "denial_of_service"
	IncidentLostDevice         IncidentCategory = "lost_device"
	IncidentMisconfiguration   IncidentCategory = "misconfiguration"
	IncidentOther              IncidentCategory = "other"
)

// IncidentCategories lists the valid categories.
var IncidentCategories = []IncidentCategory{IncidentMalware, IncidentUnauthorisedAccess, IncidentDataLeak, IncidentInsider,
	IncidentPhishing, IncidentDenialOfService, IncidentLostDevice, IncidentMisconfiguration, IncidentOther}

// IncidentStatus is where the response to an incident stands.
type IncidentStatus string

// The life of an incident, in order: reported → triaged → contained →
// eradicated → recovered → closed.
const (
	IncidentReported   IncidentStatus = "reported"
	IncidentTriaged    IncidentStatus = "triaged"
	IncidentContained  IncidentStatus = "contained"
	IncidentEradicated IncidentStatus = "eradicated"
	IncidentRecovered  IncidentStatus = "recovered"
	IncidentClosed     IncidentStatus = "closed"
)

// IncidentStatuses lists the statuses in order.
var IncidentStatuses = []IncidentStatus{IncidentReported, IncidentTriaged, IncidentContained, IncidentEradicated, IncidentRecovered, IncidentClosed}

// CanMove reports whether an incident may go from s to next. Moves go
// forward only, by one step or several (a phase may be over by the time it
// is recorded); the one way back is reopening a closed incident, which
// returns it to triaged so it is assessed again.
func (s IncidentStatus) CanMove(next IncidentStatus) bool {
	if s == IncidentClosed {
		return next == IncidentTriaged
	}
	from, to := slices.Index(IncidentStatuses, s), slices.Index(IncidentStatuses, next)
	return from >= 0 && to > from
}

// Next lists the statuses an incident in s may move to.
func (s IncidentStatus) Next() []IncidentStatus {
	var out []IncidentStatus
	for _, n := range IncidentStatuses {
		if s.CanMove(n) {
			out = append(out, n)
		}
	}
	return out
}

// BreachNotificationWindow is how long after becoming aware of a personal
// data breach the supervisory authority must be told (GDPR art. 33).
const BreachNotificationWindow = 72 * time.Hour

// Suggestions an incident offers its reader.
const (
	SuggestSpecialAudit = "special_audit"
	SuggestRiskRegister = "risk_register"
)

// TimelineEntry is one dated line of what happened during an incident:
// added by hand, or by Vigil for each status and link change.
type TimelineEntry struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Who     string    `json:"who"` // user id, "" for the system
	WhoName string    `json:"who_name"`
	What    string    `json:"what"`
}

// Incident is one information security incident, cited as INC-n. Links
// hold ids: alerts, recorded sessions, hosts (agents), assets and risks.
type Incident struct {
	ID                 string           `json:"id"`
	Ref                string           `json:"ref"`
	Title              string           `json:"title"`
	Description        string           `json:"description"`
	Category           IncidentCategory `json:"category"`
	Severity           Severity         `json:"severity"`
	Status             IncidentStatus   `json:"status"`
	Alerts             []string         `json:"alerts"`
	Sessions           []string         `json:"sessions"`
	Hosts              []string         `json:"hosts"`
	Assets             []string         `json:"assets"`
	Risks              []string         `json:"risks"`
	LessonsLearned     string           `json:"lessons_learned"`
	PersonalDataBreach bool             `json:"personal_data_breach"`
	// BreachDetectedAt is when the incident was first marked a personal
	// data breach; it stays if the mark is removed, so that marking it
	// again does not restart the clock.
	BreachDetectedAt *time.Time `json:"breach_detected_at"`
	// NotificationDeadline is BreachDetectedAt + 72 hours while the
	// incident is marked a personal data breach.
	NotificationDeadline *time.Time      `json:"notification_deadline"`
	AuthorityNotifiedAt  *time.Time      `json:"authority_notified_at"`
	Owner                string          `json:"owner"`       // user id
	ReportedBy           string          `json:"reported_by"` // user id, "" for the system
	CreatedAt            time.Time       `json:"created_at"`
	UpdatedAt            time.Time       `json:"updated_at"`
	ClosedAt             *time.Time      `json:"closed_at"`
	Timeline             []TimelineEntry `json:"timeline"`
	// Suggestions are follow-ups a high or critical incident calls for:
	// a special audit and a risk register review.
	Suggestions []string `json:"suggestions,omitempty"`
}

// IncidentSuggestions lists the follow-ups an incident of severity sev
// calls for.
func IncidentSuggestions(sev Severity) []string {
	if sev.Rank() >= SeverityHigh.Rank() {
		return []string{SuggestSpecialAudit, SuggestRiskRegister}
	}
	return nil
}

// Deadline returns BreachDetectedAt + 72 hours for a personal data
// breach, and nil otherwise.
func (i Incident) Deadline() *time.Time {
	if !i.PersonalDataBreach || i.BreachDetectedAt == nil {
		return nil
	}
	d := i.BreachDetectedAt.Add(BreachNotificationWindow)
	return &d
}

// HoursLeft returns how many whole hours remain at now before the
// notification deadline (negative once overdue), and false when no clock
// runs: not a breach, or the authority was told.
func (i Incident) HoursLeft(now time.Time) (int, bool) {
	d := i.Deadline()
	if d == nil || i.AuthorityNotifiedAt != nil {
		return 0, false
	}
	left := d.Sub(now)
	h := int(left / time.Hour)
	if left < 0 && left%time.Hour != 0 {
		h-- // a part-hour overdue counts as an hour overdue
	}
	return h, true
}

// Input returns what may be changed of an incident.
func (i Incident) Input() IncidentInput {
	return IncidentInput{Title: i.Title, Description: i.Description, Category: i.Category, Severity: i.Severity,
		Alerts: i.Alerts, Sessions: i.Sessions, Hosts: i.Hosts, Assets: i.Assets, Risks: i.Risks,
		LessonsLearned: i.LessonsLearned, PersonalDataBreach: i.PersonalDataBreach, AuthorityNotifiedAt: i.AuthorityNotifiedAt, Owner: i.Owner}
}

// IncidentInput reports an incident. Links are ids (alerts, assets and
// risks also by ref); the owner is a member's user id or email.
// FromAlerts opens the incident from alerts (ids or refs): its severity is
// the highest of theirs and their sessions and hosts are linked.
type IncidentInput struct {
	Title               string           `json:"title"`
	Description         string           `json:"description"`
	Category            IncidentCategory `json:"category"`
	Severity            Severity         `json:"severity"`
	Alerts              []string         `json:"alerts"`
	Sessions            []string         `json:"sessions"`
	Hosts               []string         `json:"hosts"`
	Assets              []string         `json:"assets"`
	Risks               []string         `json:"risks"`
	LessonsLearned      string           `json:"lessons_learned"`
	PersonalDataBreach  bool             `json:"personal_data_breach"`
	AuthorityNotifiedAt *time.Time       `json:"authority_notified_at"`
	Owner               string           `json:"owner"`
	FromAlerts          []string         `json:"from_alerts"`
}

// incidentText trims a text field and refuses what a database cannot store.
func incidentText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return "", Invalid(field, "must be UTF-8 text without NUL characters")
	}
	return registerText(field, s, max)
}

// incidentLinks trims a list of links, dropping empty and repeated ones.
func incidentLinks(field string, l []string) ([]string, error) {
	for i, it := range l {
		if !utf8.ValidString(it) || strings.ContainsRune(it, 0) {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "must be UTF-8 text without NUL characters")
		}
	}
	return registerItems(field, l)
}

// Normalize trims and checks an incident. A missing category is other; the
// severity may be left out only when opening from alerts, which give it.
func (in IncidentInput) Normalize() (IncidentInput, error) {
	var err error
	if in.FromAlerts, err = incidentLinks("from_alerts", in.FromAlerts); err != nil {
		return in, err
	}
	if in.Title, err = incidentText("title", in.Title, registerMaxTitle); err != nil {
		return in, err
	}
	if in.Title == "" && len(in.FromAlerts) == 0 {
		return in, Invalid("title", "must not be empty")
	}
	if in.Description, err = incidentText("description", in.Description, registerMaxText); err != nil {
		return in, err
	}
	if in.LessonsLearned, err = incidentText("lessons_learned", in.LessonsLearned, registerMaxText); err != nil {
		return in, err
	}
	if in.Category == "" {
		in.Category = IncidentOther
	}
	if !slices.Contains(IncidentCategories, in.Category) {
		return in, Invalid("category", "must be one of %s", incidentCategoryList())
	}
	if in.Severity != "" || len(in.FromAlerts) == 0 {
		if in.Severity, err = ParseSeverity(string(in.Severity)); err != nil {
			return in, err
		}
	}
	for _, l := range []struct {
		field string
		v     *[]string
	}{{"alerts", &in.Alerts}, {"sessions", &in.Sessions}, {"hosts", &in.Hosts}, {"assets", &in.Assets}, {"risks", &in.Risks}} {
		if *l.v, err = incidentLinks(l.field, *l.v); err != nil {
			return in, err
		}
	}
	if in.Owner, err = incidentText("owner", in.Owner, registerMaxItem); err != nil {
		return in, err
	}
	if in.AuthorityNotifiedAt != nil {
		t := TruncateTime(*in.AuthorityNotifiedAt)
		in.AuthorityNotifiedAt = &t
	}
	return in, nil
}

func incidentCategoryList() string {
	names := make([]string, len(IncidentCategories))
	for i, c := range IncidentCategories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// IncidentUpdate changes some fields of an incident; a status change is a
// transition checked with CanMove, and closing needs lessons learned.
// authority_notified_at, once set, can be corrected but not removed.
type IncidentUpdate struct {
	Title               *string           `json:"title"`
	Description         *string           `json:"description"`
	Category            *IncidentCategory `json:"category"`
	Severity            *Severity         `json:"severity"`
	Status              *IncidentStatus   `json:"status"`
	Alerts              *[]string         `json:"alerts"`
	Sessions            *[]string         `json:"sessions"`
	Hosts               *[]string         `json:"hosts"`
	Assets              *[]string         `json:"assets"`
	Risks               *[]string         `json:"risks"`
	LessonsLearned      *string           `json:"lessons_learned"`
	PersonalDataBreach  *bool             `json:"personal_data_breach"`
	AuthorityNotifiedAt *time.Time        `json:"authority_notified_at"`
	Owner               *string           `json:"owner"`
}

// Apply returns in with the update's fields set.
func (u IncidentUpdate) Apply(in IncidentInput) IncidentInput {
	registerSet(&in.Title, u.Title)
	registerSet(&in.Description, u.Description)
	registerSet(&in.Category, u.Category)
	registerSet(&in.Severity, u.Severity)
	registerSet(&in.Alerts, u.Alerts)
	registerSet(&in.Sessions, u.Sessions)
	registerSet(&in.Hosts, u.Hosts)
	registerSet(&in.Assets, u.Assets)
	registerSet(&in.Risks, u.Risks)
	registerSet(&in.LessonsLearned, u.LessonsLearned)
	registerSet(&in.PersonalDataBreach, u.PersonalDataBreach)
	registerSet(&in.Owner, u.Owner)
	if u.AuthorityNotifiedAt != nil {
		in.AuthorityNotifiedAt = u.AuthorityNotifiedAt
	}
	return in
}

// CheckIncidentStatus checks a move from one status to another; closing needs the
// lessons learned (5.27).
func CheckIncidentStatus(from, to IncidentStatus, lessons string) error {
	if !slices.Contains(IncidentStatuses, to) {
		return Invalid("status", "must be reported, triaged, contained, eradicated, recovered or closed")
	}
	if from == to {
		return nil
	}
	if !from.CanMove(to) {
		if from == IncidentClosed {
			return Invalid("status", "a closed incident can only be reopened to triaged")
		}
		return Invalid("status", "cannot go back from %s to %s: an incident only moves forward (reported → triaged → contained → eradicated → recovered → closed)", from, to)
	}
	if to == IncidentClosed && strings.TrimSpace(lessons) == "" {
		return Invalid("lessons_learned", "must be recorded before the incident is closed (A.5.27)")
	}
	return nil
}

// TimelineInput adds an entry to an incident's timeline. At is RFC 3339
// and defaults to now.
type TimelineInput struct {
	What string `json:"what"`
	At   string `json:"at"`
}

// Normalize trims and checks a timeline entry and returns its time (zero
// when not given).
func (in TimelineInput) Normalize() (TimelineInput, time.Time, error) {
	var err error
	if in.What, err = incidentText("what", in.What, registerMaxText); err != nil {
		return in, time.Time{}, err
	}
	if in.What == "" {
		return in, time.Time{}, Invalid("what", "must not be empty")
	}
	in.At = strings.TrimSpace(in.At)
	if in.At == "" {
		return in, time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339, in.At)
	if err != nil {
		return in, time.Time{}, Invalid("at", "must be a time such as 2026-01-31T09:00:00Z")
	}
	return in, TruncateTime(at), nil
}

// IncidentFilter narrows an incident listing.
type IncidentFilter struct {
	Status   IncidentStatus
	Severity Severity
}

// Check refuses a filter naming an unknown status or severity.
func (f IncidentFilter) Check() error {
	if f.Status != "" && !slices.Contains(IncidentStatuses, f.Status) {
		return Invalid("status", "unknown status %q", f.Status)
	}
	if f.Severity != "" && f.Severity.Rank() == 0 {
		return Invalid("severity", "unknown severity %q", f.Severity)
	}
	return nil
}

// IncidentReport is what the incident PDF shows: the incident with its
// links named for people to read.
type IncidentReport struct {
	OrgName  string   `json:"org_name"`
	Incident Incident `json:"incident"`
	// Names maps link ids (alerts, hosts, assets, risks) and user ids to
	// what to print for them, such as "ALR-3" or "AST-2 CRM".
	Names map[string]string `json:"names"`
	// AsOf dates the report; it is the incident's last change, so the
	// same data renders the same file.
	AsOf time.Time `json:"as_of"`
}

// Name returns how the report prints an id.
func (r IncidentReport) Name(id string) string {
	if n, ok := r.Names[id]; ok && n != "" {
		return n
	}
	return id
}
