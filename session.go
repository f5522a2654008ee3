package vigil

import "time"

// RecordedSession is a terminal session an agent recorded.
type RecordedSession struct {
	ID        string     `json:"id"`
	HostID    string     `json:"host_id"`
	Host      string     `json:"host"`
	User      string     `json:"user"`
	UID       int        `json:"uid"`
	TTY       string     `json:"tty"`
	SourceIP  string     `json:"source_ip"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	ExitCode  *int       `json:"exit_code"`
	Width     int        `json:"width"`
	Height    int        `json:"height"`
	Command   string     `json:"command"`
	Shell     string     `json:"shell"`
	// InputRecorded says keystrokes were recorded too.
	InputRecorded bool `json:"input_recorded"`
	Chunks        int  `json:"chunks"`
	LegalHold     bool `json:"legal_hold"`
	// Matches are the search hits of a full-text query, when one was given.
	Matches []SearchMatch `json:"matches,omitempty"`
}

// SearchMatch is where a full-text query matched in a session.
type SearchMatch struct {
	Offset float64 `json:"offset"` // seconds into the recording
	Text   string  `json:"text"`
}

// SessionCommand is one command line of a recorded session.
type SessionCommand struct {
	Command   string     `json:"command"`
	CWD       string     `json:"cwd"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	ExitCode  *int       `json:"exit_code"`
	Offset    float64    `json:"offset"`
}

// SessionFilter selects recorded sessions.
type SessionFilter struct {
	User, Host string
	From, To   time.Time
	Query      string // full-text over commands and output
	Live       bool   // only sessions that have not ended
	Before     string // cursor: sessions with a smaller id
	Limit      int
}

// MonitorEvent is an event an agent reported (a login, a sudo, …).
type MonitorEvent struct {
	ID         string    `json:"id"`
	HostID     string    `json:"host_id"`
	Type       string    `json:"type"`
	Time       time.Time `json:"time"`
	Host       string    `json:"host"`
	User       string    `json:"user"`
	SourceIP   string    `json:"source_ip"`
	TargetUser string    `json:"target_user"`
	Command    string    `json:"command"`
	TTY        string    `json:"tty"`
	CWD        string    `json:"cwd"`
	Method     string    `json:"method"`
	Success    *bool     `json:"success"`
	Group      string    `json:"group"`
}

// EventFilter selects monitoring events.
type EventFilter struct {
	Type, User, Host string
	From, To         time.Time
	Before           string
	Limit            int
}

// SessionVerification is the result of rechecking a session's chunk hash
// chain.
type SessionVerification struct {
	SessionID string `json:"session_id"`
	OK        bool   `json:"ok"`
	Chunks    int    `json:"chunks"`
	// Expected is the chunk count the agent declared at the end, or null
	// while the session is live.
	Expected *int `json:"expected"`
	// Missing lists chunk indexes the agent declared but the server lacks.
	Missing []int `json:"missing"`
	// Tampered lists chunk indexes whose content no longer matches the hash
	// recorded when they arrived.
	Tampered  []int  `json:"tampered"`
	FinalHash string `json:"final_hash"`
	// TrailHash is the final hash the trail recorded at the session's end.
	TrailHash string   `json:"trail_hash"`
	Problems  []string `json:"problems"`
}
