// Package wire holds the types the endpoint agent and the server exchange.
//
// It is versioned as a whole and imports only the standard library, so the agent binary can
// link it without pulling in any of the server.
package wire

import "time"

// Version is the version of the wire format. It changes when a type here changes in a way an
// older peer would misread, so the two sides can refuse or adapt instead of guessing.
const Version = 1

// Event types. They are plain strings on the wire so that an older server can still store and
// show a type it does not know yet.
const (
	// EventLogin is a successful login (ssh, console).
	EventLogin = "login"
	// EventLoginFailed is a refused login attempt, including attempts for unknown users.
	EventLoginFailed = "login_failed"
	// EventLogout is the end of a login session.
	EventLogout = "logout"
	// EventSudo is a command run through sudo, or refused by it (Success false).
	EventSudo = "sudo"
	// EventSu is a switch of user with su, or a refused one (Success false).
	EventSu = "su"
	// EventUserAdded is the creation of a local account (TargetUser).
	EventUserAdded = "user_added"
	// EventUserDeleted is the removal of a local account (TargetUser).
	EventUserDeleted = "user_deleted"
	// EventGroupChanged is a group created or removed, or a membership changed (Group, and
	// TargetUser for a membership).
	EventGroupChanged = "group_changed"
	// EventCommand is a command a recorded session ran.
	EventCommand = "command"
	// EventPolicyDenied is an action the agent's policy refused.
	EventPolicyDenied = "policy_denied"
	// EventUnrecordedSession is a session that escaped recording (a login that bypassed the
	// recording shell), which is itself worth an alert.
	EventUnrecordedSession = "unrecorded_session"
)

var eventTypes = [...]string{
	EventLogin,
	EventLoginFailed,
	EventLogout,
	EventSudo,
	EventSu,
	EventUserAdded,
	EventUserDeleted,
	EventGroupChanged,
	EventCommand,
	EventPolicyDenied,
	EventUnrecordedSession,
}

// EventTypes returns every event type this version knows, in a stable order, for validation
// and for documentation such as the API description. The slice is a copy.
func EventTypes() []string {
	return append([]string(nil), eventTypes[:]...)
}

// KnownEventType reports whether t is one of EventTypes. The server uses it to tell an agent
// that speaks a newer version from one that sends garbage.
func KnownEventType(t string) bool {
	for _, k := range eventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Event is a timestamped fact from an endpoint.
//
// User is the account that acted; TargetUser is the account acted upon (the user sudo or su
// switched to, the account useradd created). Fields that do not apply stay empty and are left
// out of the JSON.
type Event struct {
	Type       string    `json:"type"` // one of EventTypes
	Time       time.Time `json:"time"` // RFC 3339, UTC
	Host       string    `json:"host,omitempty"`
	User       string    `json:"user,omitempty"`
	SourceIP   string    `json:"source_ip,omitempty"`
	TargetUser string    `json:"target_user,omitempty"`
	Command    string    `json:"command,omitempty"`
	TTY        string    `json:"tty,omitempty"`
	CWD        string    `json:"cwd,omitempty"`
	Method     string    `json:"method,omitempty"` // password, publickey, keyboard-interactive...
	// Success is set where the source says whether the action succeeded; nil means it does not
	// apply (a logout) rather than false.
	Success *bool  `json:"success,omitempty"`
	Group   string `json:"group,omitempty"`
}
