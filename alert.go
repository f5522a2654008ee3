package vigil

import (
	"slices"
	"strings"
	"time"
)

// AlertStatus is where an alert stands: open → acknowledged → closed.
type AlertStatus string

// The statuses of an alert.
const (
	AlertOpen         AlertStatus = "open"
	AlertAcknowledged AlertStatus = "acknowledged"
	AlertClosed       AlertStatus = "closed"
)

// Alert is what a rule raised, cited as ALR-n. Matches of the same rule and
// group within the rule's throttle add to Occurrences instead of raising
// another alert.
type Alert struct {
	ID             string      `json:"id"`
	Ref            string      `json:"ref"`
	Rule           string      `json:"rule"` // rule id
	RuleName       string      `json:"rule_name"`
	Severity       Severity    `json:"severity"`
	Status         AlertStatus `json:"status"`
	Group          string      `json:"group"`
	Event          RuleEvent   `json:"event"`
	Session        string      `json:"session"` // recorded session id, "" when none
	Offset         float64     `json:"offset"`  // seconds into the session's recording
	HostID         string      `json:"host_id"`
	Host           string      `json:"host"`
	User           string      `json:"user"`
	Controls       []string    `json:"controls"`
	Occurrences    int         `json:"occurrences"`
	Note           string      `json:"note"`
	AcknowledgedBy string      `json:"acknowledged_by"`
	AcknowledgedAt *time.Time  `json:"acknowledged_at"`
	ClosedBy       string      `json:"closed_by"`
	ClosedAt       *time.Time  `json:"closed_at"`
	CreatedAt      time.Time   `json:"created_at"`
	LastSeenAt     time.Time   `json:"last_seen_at"`
	Deliveries     []Delivery  `json:"deliveries,omitempty"`
}

// AlertUpdate moves an alert along; closing needs a note.
type AlertUpdate struct {
	Status AlertStatus `json:"status"`
	Note   string      `json:"note"`
}

// Normalize checks an alert update.
func (u AlertUpdate) Normalize(current AlertStatus) (AlertUpdate, error) {
	u.Note = strings.TrimSpace(u.Note)
	if !slices.Contains([]AlertStatus{AlertOpen, AlertAcknowledged, AlertClosed}, u.Status) {
		return u, Invalid("status", "must be open, acknowledged or closed")
	}
	order := map[AlertStatus]int{AlertOpen: 0, AlertAcknowledged: 1, AlertClosed: 2}
	if order[u.Status] < order[current] && !(current == AlertClosed && u.Status == AlertOpen) {
		return u, Invalid("status", "cannot go from %s back to %s (reopen a closed alert as open)", current, u.Status)
	}
	if u.Status == AlertClosed && u.Note == "" {
		return u, Invalid("note", "say why the alert is closed")
	}
	if len(u.Note) > 4000 {
		return u, Invalid("note", "must be at most 4000 characters")
	}
	return u, nil
}

// AlertFilter narrows an alert listing.
type AlertFilter struct {
	Status   AlertStatus
	Severity Severity
	Rule     string
	User     string
	Session  string
}

// ResponseKind is a response action on a host.
type ResponseKind string

// The response actions.
const (
	ResponseKillSession ResponseKind = "kill_session"
	ResponseLockUser    ResponseKind = "lock_user"
	ResponseUnlockUser  ResponseKind = "unlock_user"
)

// ResponseAction is an instruction sent to a host's agent.
type ResponseAction struct {
	ID          string       `json:"id"`
	Kind        ResponseKind `json:"kind"`
	HostID      string       `json:"host_id"`
	Host        string       `json:"host"`
	Session     string       `json:"session"`
	User        string       `json:"user"`
	Reason      string       `json:"reason"`
	Alert       string       `json:"alert"`
	RequestedBy string       `json:"requested_by"` // user id, or "rule:<id>"
	Status      string       `json:"status"`       // pending, delivered, done, failed
	Error       string       `json:"error"`
	CreatedAt   time.Time    `json:"created_at"`
	DeliveredAt *time.Time   `json:"delivered_at"`
	DoneAt      *time.Time   `json:"done_at"`
}

// ResponseActionInput asks for a response action: kill_session names the
// session; lock_user and unlock_user name the host and the account (or a
// session, whose host and user are taken).
type ResponseActionInput struct {
	Action  ResponseKind `json:"action"`
	Session string       `json:"session"`
	Host    string       `json:"host"`
	User    string       `json:"user"`
	Reason  string       `json:"reason"`
	Alert   string       `json:"alert"`
}

// Normalize checks a response request.
func (in ResponseActionInput) Normalize() (ResponseActionInput, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	in.Session, in.Host, in.User = strings.TrimSpace(in.Session), strings.TrimSpace(in.Host), strings.TrimSpace(in.User)
	switch in.Action {
	case ResponseKillSession:
		if in.Session == "" {
			return in, Invalid("session", "name the session to end")
		}
	case ResponseLockUser, ResponseUnlockUser:
		if in.Session == "" && (in.Host == "" || in.User == "") {
			return in, Invalid("user", "name the host and the account, or a session")
		}
	default:
		return in, Invalid("action", "must be kill_session, lock_user or unlock_user")
	}
	if in.Reason == "" {
		return in, Invalid("reason", "say why")
	}
	if len(in.Reason) > 2000 {
		return in, Invalid("reason", "must be at most 2000 characters")
	}
	return in, nil
}

// SeverityWeight is how much an alert of each severity adds to a person's
// risk score.
var SeverityWeight = map[Severity]float64{SeverityLow: 1, SeverityMedium: 3, SeverityHigh: 7, SeverityCritical: 15}

// RiskWindow is how long an alert counts towards a risk score; its weight
// falls linearly to zero over the window.
const RiskWindow = 30 * 24 * time.Hour

// PersonRisk is a person's rolling risk score and the alerts behind it.
type PersonRisk struct {
	User   string  `json:"user"`
	Score  float64 `json:"score"`
	Alerts []Alert `json:"alerts"`
}

// RiskContribution is what one alert adds to a score at time now.
func RiskContribution(sev Severity, at, now time.Time) float64 {
	age := now.Sub(at)
	if age < 0 {
		age = 0
	}
	if age >= RiskWindow {
		return 0
	}
	return SeverityWeight[sev] * (1 - float64(age)/float64(RiskWindow))
}
