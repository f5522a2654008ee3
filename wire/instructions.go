package wire

import "time"

// PathInstructions is where an agent waits for response instructions: it
// posts an InstructionPoll and the server answers, within Wait seconds, with
// the instructions queued for it (long polling, so an action taken on the
// server lands on the host within a second or two).
const PathInstructions = "/ingest/v1/instructions"

// MaxInstructionWait bounds a poll, well inside the server's write timeout.
const MaxInstructionWait = 25 * time.Second

// The kinds of instruction.
const (
	// InstructionKillSession ends a recorded session: the recorder shows
	// Notice on the terminal, then hangs up the shell.
	InstructionKillSession = "kill_session"
	// InstructionLockUser locks a local account (usermod -L) and makes the
	// recorder refuse the user's new sessions until unlocked.
	InstructionLockUser = "lock_user"
	// InstructionUnlockUser reverses InstructionLockUser.
	InstructionUnlockUser = "unlock_user"
)

// InstructionPoll asks for instructions and reports the outcome of those
// carried out since the last poll.
type InstructionPoll struct {
	Wait int                 `json:"wait"` // seconds to hold the request open when nothing is queued; 0 answers at once
	Done []InstructionResult `json:"done,omitempty"`
}

// InstructionResult is how an instruction went on the host.
type InstructionResult struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Instruction is one response action for the host.
type Instruction struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	SessionID string `json:"session_id,omitempty"` // kill_session
	User      string `json:"user,omitempty"`       // lock_user, unlock_user; also set on kill_session
	Reason    string `json:"reason"`
	Notice    string `json:"notice,omitempty"` // the one line shown to the user first
}

// Instructions answers a poll.
type Instructions struct {
	Instructions []Instruction `json:"instructions"`
}
