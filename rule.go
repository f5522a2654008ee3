package vigil

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Severity ranks how urgent an alert raised by a rule is.
type Severity string

// The severities, lowest first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists the valid severities, lowest first.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Rank orders severities for sorting and thresholds: low is 1, critical 4,
// and an unknown severity 0.
func (s Severity) Rank() int {
	return slices.Index(Severities, s) + 1
}

// ParseSeverity reads a severity, ignoring case and surrounding space.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if v.Rank() == 0 {
		return "", Invalid("severity", "must be low, medium, high or critical")
	}
	return v, nil
}

// RuleAction is what happens when a rule fires, besides recording an alert.
type RuleAction string

// The actions a rule can take.
const (
	// ActionAlert raises an alert; every rule does at least this.
	ActionAlert RuleAction = "alert"
	// ActionKillSession asks the agent to end the session that matched.
	ActionKillSession RuleAction = "kill_session"
	// ActionLockUser asks the agent to lock the local account that matched.
	ActionLockUser RuleAction = "lock_user"
)

// RuleActions lists the valid actions.
var RuleActions = []RuleAction{ActionAlert, ActionKillSession, ActionLockUser}

// Duration is a time.Duration written in JSON as a Go duration string such
// as "5m" or "1h30m", which people can read and type in rule files.
type Duration time.Duration

// MarshalJSON writes d as a duration string; zero is "0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string; null and "" mean zero.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"5m\"")
	}
	if s = strings.TrimSpace(s); s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q must look like \"90s\", \"5m\" or \"1h\"", s)
	}
	*d = Duration(v)
	return nil
}

// String returns the duration in Go notation.
func (d Duration) String() string { return time.Duration(d).String() }

// RuleGroupFields lists the event fields a threshold may group by.
var RuleGroupFields = []string{"user", "host", "source_ip", "target_user", "session", "command"}

// RuleThreshold makes a rule fire only when Count matching events of the same
// group (the values of GroupBy) happen within Window, e.g. five failed logins
// from one address within five minutes.
type RuleThreshold struct {
	Count   int      `json:"count"`
	Window  Duration `json:"window"`
	GroupBy []string `json:"group_by"`
}

// Rule is a detection rule over monitoring events, cited as RUL-n. The
// expression is CEL over the fields of RuleEvent; package rules compiles
// and evaluates it.
type Rule struct {
	ID          string       `json:"id"`
	Ref         string       `json:"ref"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Expression  string       `json:"expression"`
	Severity    Severity     `json:"severity"`
	Controls    []string     `json:"controls"` // Annex A refs such as "8.2", or own control refs
	Enabled     bool         `json:"enabled"`
	Actions     []RuleAction `json:"actions"`
	// Threshold is nil when every matching event fires.
	Threshold *RuleThreshold `json:"threshold"`
	// Throttle suppresses further alerts of the same rule and group for this
	// long after one fired; zero alerts on every match.
	Throttle Duration `json:"throttle"`
	// Builtin is the id of the built-in rule this one was copied from, ""
	// for the organisation's own rules.
	Builtin   string    `json:"builtin"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input returns the changeable fields of r.
func (r Rule) Input() RuleInput {
	in := RuleInput{
		Name: r.Name, Description: r.Description, Expression: r.Expression, Severity: r.Severity,
		Controls: slices.Clone(r.Controls), Enabled: r.Enabled, Actions: slices.Clone(r.Actions), Throttle: r.Throttle,
	}
	if r.Threshold != nil {
		t := *r.Threshold
		t.GroupBy = slices.Clone(t.GroupBy)
		in.Threshold = &t
	}
	return in
}

// RuleInput creates or replaces a rule.
type RuleInput struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Expression  string         `json:"expression"`
	Severity    Severity       `json:"severity"`
	Controls    []string       `json:"controls"`
	Enabled     bool           `json:"enabled"`
	Actions     []RuleAction   `json:"actions"`
	Threshold   *RuleThreshold `json:"threshold"`
	Throttle    Duration       `json:"throttle"`
}

// Limits of a rule's text fields and timings.
const (
	RuleMaxName        = 200
	RuleMaxDescription = 4000
	RuleMaxExpression  = 4000
	RuleMaxControl     = 40
	// RuleMaxCount bounds a threshold count, which is also the number of
	// event times kept per group.
	RuleMaxCount    = 10_000
	RuleMaxThrottle = 7 * 24 * time.Hour
	// RuleMaxWindow bounds a threshold window so that the in-memory state a
	// rule keeps stays small.
	RuleMaxWindow = 7 * 24 * time.Hour
)

// Normalize trims and checks a rule. It does not compile the expression:
// the domain has no expression language, so package rules checks it.
func (in RuleInput) Normalize() (RuleInput, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return in, Invalid("name", "must not be empty")
	case utf8.RuneCountInString(in.Name) > RuleMaxName:
		return in, Invalid("name", "must be at most %d characters", RuleMaxName)
	}
	in.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(in.Description) > RuleMaxDescription {
		return in, Invalid("description", "must be at most %d characters", RuleMaxDescription)
	}
	in.Expression = strings.TrimSpace(in.Expression)
	switch {
	case in.Expression == "":
		return in, Invalid("expression", "must not be empty")
	case utf8.RuneCountInString(in.Expression) > RuleMaxExpression:
		return in, Invalid("expression", "must be at most %d characters", RuleMaxExpression)
	}
	sev, err := ParseSeverity(string(in.Severity))
	if err != nil {
		return in, err
	}
	in.Severity = sev

	controls := make([]string, 0, len(in.Controls))
	for i, c := range in.Controls {
		c = strings.TrimSpace(c)
		switch {
		case c == "":
			return in, Invalid(fmt.Sprintf("controls[%d]", i), "must not be empty")
		case utf8.RuneCountInString(c) > RuleMaxControl:
			return in, Invalid(fmt.Sprintf("controls[%d]", i), "must be at most %d characters", RuleMaxControl)
		}
		if !slices.Contains(controls, c) {
			controls = append(controls, c)
		}
	}
	in.Controls = controls

	actions := make([]RuleAction, 0, len(in.Actions))
	for i, a := range in.Actions {
		a = RuleAction(strings.ToLower(strings.TrimSpace(string(a))))
		if !slices.Contains(RuleActions, a) {
			return in, Invalid(fmt.Sprintf("actions[%d]", i), "must be alert, kill_session or lock_user")
		}
		if !slices.Contains(actions, a) {
			actions = append(actions, a)
		}
	}
	if len(actions) == 0 {
		actions = append(actions, ActionAlert)
	}
	in.Actions = actions

	if in.Threshold != nil {
		t := *in.Threshold
		if t.Count < 1 {
			return in, Invalid("threshold.count", "must be at least 1")
		}
		if t.Count > RuleMaxCount {
			return in, Invalid("threshold.count", "must be at most %d", RuleMaxCount)
		}
		if t.Window <= 0 {
			return in, Invalid("threshold.window", "window must be greater than zero")
		}
		if time.Duration(t.Window) > RuleMaxWindow {
			return in, Invalid("threshold.window", "must be at most %s", RuleMaxWindow)
		}
		group := make([]string, 0, len(t.GroupBy))
		for i, g := range t.GroupBy {
			g = strings.ToLower(strings.TrimSpace(g))
			if !slices.Contains(RuleGroupFields, g) {
				return in, Invalid(fmt.Sprintf("threshold.group_by[%d]", i), "must be one of %s", strings.Join(RuleGroupFields, ", "))
			}
			if !slices.Contains(group, g) {
				group = append(group, g)
			}
		}
		t.GroupBy = group
		in.Threshold = &t
	}
	switch {
	case in.Throttle < 0:
		return in, Invalid("throttle", "must not be negative")
	case time.Duration(in.Throttle) > RuleMaxThrottle:
		return in, Invalid("throttle", "must be at most %s", RuleMaxThrottle)
	}
	return in, nil
}

// The event types a rule can see in RuleEvent.Type. They are the types the
// agent reports (package wire) and the server stores as MonitorEvent:
//
//	login              a successful login (ssh, console)
//	login_failed       a refused login attempt, also for unknown users
//	logout             the end of a login session
//	sudo               a command run through sudo, or refused by it
//	su                 a switch of user with su, or a refused one
//	user_added         a local account created (TargetUser)
//	user_deleted       a local account removed (TargetUser)
//	group_changed      a group created or removed, or a membership changed
//	command            a command line a recorded session ran
//	policy_denied      an action the agent's policy refused
//	unrecorded_session a session that escaped recording
const (
	EventTypeLogin             = "login"
	EventTypeLoginFailed       = "login_failed"
	EventTypeLogout            = "logout"
	EventTypeSudo              = "sudo"
	EventTypeSu                = "su"
	EventTypeUserAdded         = "user_added"
	EventTypeUserDeleted       = "user_deleted"
	EventTypeGroupChanged      = "group_changed"
	EventTypeCommand           = "command"
	EventTypePolicyDenied      = "policy_denied"
	EventTypeUnrecordedSession = "unrecorded_session"
)

// RuleEvent is one event as a rule sees it: a monitoring event, or a command
// of a recorded session, with its host's labels. ID, HostID and Offset are
// not visible to expressions; alerts use them to link to the evidence.
type RuleEvent struct {
	ID         string            `json:"id"`
	HostID     string            `json:"host_id"`
	Type       string            `json:"type"`
	Time       time.Time         `json:"time"`
	User       string            `json:"user"`
	Host       string            `json:"host"`
	HostLabels map[string]string `json:"host_labels"`
	Command    string            `json:"command"`
	Argv       []string          `json:"argv"`
	CWD        string            `json:"cwd"`
	ExitCode   *int              `json:"exit_code"` // nil when unknown
	SourceIP   string            `json:"source_ip"`
	TargetUser string            `json:"target_user"`
	SessionID  string            `json:"session_id"`
	// SessionStarted is when the session the event belongs to began.
	SessionStarted *time.Time `json:"session_started"`
	// Offset is the event's position in the session recording, in seconds.
	Offset float64 `json:"offset"`
}
