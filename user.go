package vigil

import (
	"net/mail"
	"strings"
	"time"
)

// User is a person who can sign in. Secrets (password hash, TOTP secret) are
// deliberately not fields: they never leave the store.
type User struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Disabled    bool      `json:"disabled"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

// Member is a user seen through one membership: the user and the role they
// hold in one organisation.
type Member struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	Disabled     bool      `json:"disabled"`
	OrgID        string    `json:"-"`
	MembershipID string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Membership ties a user to an organisation with one role.
type Membership struct {
	ID      string `json:"id"`
	OrgID   string `json:"org_id"`
	OrgName string `json:"org_name"`
	UserID  string `json:"user_id"`
	Role    Role   `json:"role"`
}

// NewMember is what it takes to add a person to an organisation.
type NewMember struct {
	Email    string
	Name     string
	Role     Role
	Password string // optional; empty leaves the account without a password
}

// MemberUpdate changes a member; nil fields stay as they are.
type MemberUpdate struct {
	Name     *string `json:"name"`
	Role     *Role   `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// NormalizeEmail lower-cases and checks an email address, so that uniqueness
// does not depend on letter case.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", Invalid("email", "must not be empty")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", Invalid("email", "%q is not an email address", s)
	}
	return s, nil
}

// NormalizeName trims and checks a person's display name.
func NormalizeName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid("name", "must not be empty")
	}
	if len(s) > 200 {
		return "", Invalid("name", "must be at most 200 characters")
	}
	return s, nil
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// CheckPassword enforces the password policy.
func CheckPassword(p string) error {
	if len(p) < MinPasswordLength {
		return Invalid("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(p) > 1024 {
		return Invalid("password", "must be at most 1024 characters")
	}
	return nil
}

// Login policy: after LockoutThreshold failures within LockoutWindow, the
// account is locked for LockoutDuration.
const (
	LockoutThreshold = 5
	LockoutWindow    = 15 * time.Minute
	LockoutDuration  = 15 * time.Minute
)

// Session lifetimes for the web UI.
const (
	SessionIdleTimeout = 12 * time.Hour
	SessionMaxAge      = 7 * 24 * time.Hour
)

// NormalizeEmailLoose lower-cases and trims a string that may be an email,
// for lookups where it may also be an id.
func NormalizeEmailLoose(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
